#!/usr/bin/env bash
# `npm run bench:peers -- --size S|M [--requests N]`: Conifer's server beside Chroma's server and
# Milvus Lite, each through its own network client (tools/bench/src/server-peers.ts). Provisions
# like `npm test`; the peers' Python packages go into a private virtualenv on first use. Long; not
# part of CI. Results go to docs/benchmarks.md and tools/bench/results/peers-<size>.json.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
ensure_npm_deps
ensure_python_venv
cd "$CONIFER_ROOT"
exec node tools/bench/src/server-peers.ts "$@"
