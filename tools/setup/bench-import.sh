#!/usr/bin/env bash
# `npm run bench:import -- [--vectors N] [--dimension D] [--concurrency C]` (tools/bench/src/import-bench.ts):
# provisions like `npm test`, then times a bulk import of N random vectors from Parquet beside the
# same vectors upserted through REST, on one server process, in the same run.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
ensure_npm_deps
cd "$CONIFER_ROOT"
if [ -z "${LD_PRELOAD+set}" ] && jemalloc="$(ensure_jemalloc)" && [ -n "$jemalloc" ]; then export LD_PRELOAD="$jemalloc"; fi
exec node tools/bench/src/import-bench.ts "$@"
