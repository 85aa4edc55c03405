#!/usr/bin/env bash
# `npm run bench -- --size S|M|L|XS`: provisions like `npm test`, then runs tools/bench (long;
# not part of CI). Results go to docs/benchmarks.md and tools/bench/results/.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
ensure_npm_deps
cd "$CONIFER_ROOT"
# Peers (LanceDB, hnswlib-node) live outside the workspace: only the benchmark needs them.
if [ ! -d tools/bench/peers/node_modules/@lancedb/lancedb ] || [ ! -d tools/bench/peers/node_modules/hnswlib-node ]; then
  echo "conifer: installing benchmark peers into tools/bench/peers" >&2
  (cd tools/bench/peers && npm install --no-audit --no-fund --no-package-lock --loglevel=error)
fi
exec node --expose-gc tools/bench/src/main.ts "$@"
