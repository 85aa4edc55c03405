#!/usr/bin/env bash
# `npm start`: provisions Node 24 and npm dependencies if needed, then starts Conifer with
# embedded defaults (local-disk object store and PGlite under ./.conifer, HTTP on 127.0.0.1:5080).
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
ensure_npm_deps
cd "$CONIFER_ROOT"
exec node apps/server/src/main.ts
