#!/usr/bin/env bash
# `npm run cluster -- [--writers N] [--query Q] [--indexers I] [--gateways M]` (tools/cluster/src/main.ts): provisions like
# `npm start` (Node 24, npm dependencies; PostgreSQL through tools/postgres/start.sh unless
# CONIFER_DATABASE_URL is set), then runs a local cluster of server processes on loopback.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
ensure_npm_deps
cd "$CONIFER_ROOT"
exec node tools/cluster/src/main.ts "$@"
