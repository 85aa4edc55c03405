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
exec node tools/soak/src/main.ts "$@"
