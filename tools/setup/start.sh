#!/usr/bin/env bash
# `npm start`: provisions Node 24 and npm dependencies if needed, then starts Conifer with
# embedded defaults (local-disk object store and PGlite under ./.conifer, HTTP on 127.0.0.1:5080;
# the server on jemalloc) and the admin console (Next.js, http://127.0.0.1:${CONIFER_CONSOLE_PORT:-3000}), which talks to
# the server at CONIFER_SERVER_URL. The console is built first when its build is missing or older
# than its sources (`next build`, ~15–30 s on 2 cores). Ctrl-C / SIGTERM stop both; when either
# process exits, the other is stopped and the script exits with the first one's status.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
ensure_npm_deps
cd "$CONIFER_ROOT"
export NEXT_TELEMETRY_DISABLED=1

console_dir="$CONIFER_ROOT/apps/console"
next_bin="$CONIFER_ROOT/node_modules/next/dist/bin/next"
build_id="$console_dir/.next/BUILD_ID"
console_ok=1
if [ ! -f "$build_id" ] || [ -n "$(find "$console_dir/src" "$console_dir/next.config.ts" "$console_dir/package.json" \
    packages/sdk/src packages/core/src -newer "$build_id" -print -quit)" ]; then
  echo "conifer: building the console (next build)" >&2
  log="$(mktemp)"
  if ! (cd "$console_dir" && node "$next_bin" build >"$log" 2>&1); then
    cat "$log" >&2
    echo "conifer: building the console failed; starting the server without it" >&2
    console_ok=0
  fi
  rm -f "$log"
fi

# The console reaches the server server-side; a wildcard listen address is reached on loopback.
server_host="${CONIFER_HOST:-127.0.0.1}"
case "$server_host" in 0.0.0.0 | :: | '') server_host=127.0.0.1 ;; esac
export CONIFER_SERVER_URL="${CONIFER_SERVER_URL:-http://$server_host:${CONIFER_PORT:-5080}}"

pids=()
stop() { [ "${#pids[@]}" -gt 0 ] && kill -TERM "${pids[@]}" 2>/dev/null; return 0; }
trap stop INT TERM

# The server runs on jemalloc (see ensure_jemalloc) unless LD_PRELOAD is already set — set it
# empty to keep glibc's malloc.
if [ -z "${LD_PRELOAD+set}" ] && jemalloc="$(ensure_jemalloc)" && [ -n "$jemalloc" ]; then
  LD_PRELOAD="$jemalloc" node apps/server/src/main.ts &
else
  [ -z "${LD_PRELOAD+set}" ] && echo "conifer: jemalloc not available; the server uses glibc's malloc" >&2
  node apps/server/src/main.ts &
fi
pids+=($!)
if [ "$console_ok" = 1 ]; then
  (cd "$console_dir" && exec node "$next_bin" start -p "${CONIFER_CONSOLE_PORT:-3000}" -H 127.0.0.1) &
  pids+=($!)
  echo "conifer: console on http://127.0.0.1:${CONIFER_CONSOLE_PORT:-3000} (server $CONIFER_SERVER_URL)" >&2
fi

set +e
wait -n "${pids[@]}"
status=$?
stop
wait
exit "$status"
