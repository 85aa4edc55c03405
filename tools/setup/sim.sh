#!/usr/bin/env bash
# `npm run sim -- [--seeds N] [--seed S] [--steps K]` (tools/sim/src/main.ts): provisions like
# `npm test`, then runs the deterministic simulation for more seeds than `npm test` does.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
ensure_npm_deps
cd "$CONIFER_ROOT"
exec node tools/sim/src/main.ts "$@"
