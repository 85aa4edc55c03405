#!/bin/sh
# Conifer's image entry point: `server` (the default; the roles come from CONIFER_ROLES), `console`
# (the admin console, reaching the server at CONIFER_SERVER_URL), or any other command as given.
set -e
case "${1:-server}" in
  server)
    exec node /app/apps/server/src/main.ts
    ;;
  console)
    cd /app/apps/console
    exec node /app/node_modules/next/dist/bin/next start -p "${CONIFER_CONSOLE_PORT:-3000}" -H "${CONIFER_CONSOLE_HOST:-0.0.0.0}"
    ;;
  *)
    exec "$@"
    ;;
esac
