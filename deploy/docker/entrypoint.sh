#!/bin/sh
# Conifer's image entry point: `server` (the default; the roles come from CONIFER_ROLES), `console`
# (the admin console, reaching the server at CONIFER_SERVER_URL), or any other command as given.
set -e
case "${1:-server}" in
  server)
    exec node /app/apps/server/src/main.ts
    ;;
  console)
    # The console's self-contained build (Next.js `output: standalone`) reads PORT and HOSTNAME.
    cd /app/console/apps/console
    PORT="${CONIFER_CONSOLE_PORT:-3000}" HOSTNAME="${CONIFER_CONSOLE_HOST:-0.0.0.0}" exec node server.js
    ;;
  *)
    exec "$@"
    ;;
esac
