#!/usr/bin/env bash
# `npm run soak -- [--minutes N] [--backend local|minio|moto|gcs|azure|azure-oldest] [--clients N]
# [--seed S] [--out PATH] [--restart-every MIN-MAX] [--steady-fraction F] [--no-docs] [--keep]`
# (flags: tools/soak/src/options.ts): provisions like `npm test`, then runs the soak test
# (tools/soak; long, not part of CI — its short smoke run is). The cloud emulators are
# installed on first use by tools/emulators. Results go to tools/soak/results/ and the
# "Reliability (soak)" section of docs/benchmarks.md.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
ensure_npm_deps
cd "$CONIFER_ROOT"
# The server runs on jemalloc, as under `npm start`, unless LD_PRELOAD is already set (set it
# empty to soak glibc's malloc). The soak passes LD_PRELOAD on to the server and records it.
if [ -z "${LD_PRELOAD+set}" ] && jemalloc="$(ensure_jemalloc)" && [ -n "$jemalloc" ]; then export LD_PRELOAD="$jemalloc"; fi
exec node tools/soak/src/main.ts "$@"
