#!/usr/bin/env bash
# `npm run bench:profile -- [--size XS|S|M] [--queries N]` (tools/bench/src/http-profile.ts):
# provisions like `npm test`, then profiles the server's REST path by phase (queries and upserts),
# the server pinned to one core and the load generator to the other. Results go to
# docs/benchmarks.md (section profile-<size>) and tools/bench/results/profile-<size>.json.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
ensure_npm_deps
cd "$CONIFER_ROOT"
if [ -z "${LD_PRELOAD+set}" ] && jemalloc="$(ensure_jemalloc)" && [ -n "$jemalloc" ]; then export LD_PRELOAD="$jemalloc"; fi
exec node tools/bench/src/http-profile.ts "$@"
