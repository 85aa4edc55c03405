# Shared by start.sh and stop.sh: where the throwaway server lives and how to run its binaries.
# shellcheck shell=bash

# State: data/ (cluster), run/ (unix socket), server.log, url. Override to run several servers.
PG_STATE_DIR="${CONIFER_PG_DIR:-${TMPDIR:-/tmp}/conifer-pg}"
PG_DATA="$PG_STATE_DIR/data"
PG_RUN="$PG_STATE_DIR/run"
# PostgreSQL refuses to run as root; as root we run it as this system user (created if missing).
PG_OS_USER="${CONIFER_PG_USER:-conifer-pg}"

pg_log() { echo "tools/postgres: $*" >&2; }

# Directory holding initdb/pg_ctl/postgres, or empty. Debian keeps them out of PATH.
pg_bindir() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -n "$dir" ] && [ -x "$dir/pg_ctl" ]; then echo "$dir"; return; fi
  if command -v pg_ctl >/dev/null 2>&1; then dirname "$(readlink -f "$(command -v pg_ctl)")"; fi
}

# Runs a command as the server's owner (the system user when we are root, else ourselves).
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u "$PG_OS_USER" -- "$@"; else "$@"; fi
}

pg_is_running() {
  [ -f "$PG_DATA/postmaster.pid" ] && as_pg "$1/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1
}
