#!/usr/bin/env bash
# `npm run bench -- --size S|M|L|XS`: provisions like `npm test`, then runs tools/bench (long;
# not part of CI). Results go to docs/benchmarks.md and tools/bench/results/.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
ensure_npm_deps
cd "$CONIFER_ROOT"
exec node --expose-gc tools/bench/src/main.ts "$@"
