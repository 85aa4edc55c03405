#!/usr/bin/env bash
# `npm run bench:sparse -- [--docs N] [--vocabulary V] [--terms T] [--queries Q] [--dimension D]`
# (tools/bench/src/sparse-bench.ts): provisions like `npm test`, then measures a sparse-only index
# on a Zipfian corpus (recall@10 against an exhaustive scan, p50) beside a dense index of as many
# vectors, on one server process, in the same run.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
ensure_npm_deps
cd "$CONIFER_ROOT"
if [ -z "${LD_PRELOAD+set}" ] && jemalloc="$(ensure_jemalloc)" && [ -n "$jemalloc" ]; then export LD_PRELOAD="$jemalloc"; fi
exec node tools/bench/src/sparse-bench.ts "$@"
