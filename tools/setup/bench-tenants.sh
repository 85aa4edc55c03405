#!/usr/bin/env bash
# `npm run bench:tenants -- [--namespaces N] [--vectors V] [--dimension D] [--queries Q] [--hot H] [--budget SIZE]`
# (tools/bench/src/tenants-bench.ts): provisions like `npm test`, then writes many small namespaces
# into one index of one server process and measures its RSS, and query latency on cached, cold
# (after a restart) and random namespaces.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
ensure_npm_deps
cd "$CONIFER_ROOT"
if [ -z "${LD_PRELOAD+set}" ] && jemalloc="$(ensure_jemalloc)" && [ -n "$jemalloc" ]; then export LD_PRELOAD="$jemalloc"; fi
exec node tools/bench/src/tenants-bench.ts "$@"
