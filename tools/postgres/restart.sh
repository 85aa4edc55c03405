#!/usr/bin/env bash
# Restarts the throwaway PostgreSQL started by start.sh, keeping its data: stops it (fast
# shutdown: connections are cut), stays down for DOWN_SECONDS (default 0), then starts it again
# with the options it ran with, on the same port. For tests of a control-plane database restart.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DOWN_SECONDS="${1:-0}"
BIN="$(pg_bindir)"
[ -n "$BIN" ] && pg_is_running "$BIN" || { pg_log "no server running under $PG_STATE_DIR"; exit 1; }
OPTS="$(sed -e '1s/^[^ ]* //' -e 's/"-D" "[^"]*" *//g' "$PG_DATA/postmaster.opts")"
as_pg "$BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 -s stop >/dev/null
sleep "$DOWN_SECONDS"
eval "as_pg \"$BIN/pg_ctl\" -D \"$PG_DATA\" -l \"$PG_STATE_DIR/server.log\" -w -t 60 -s start -o \"$OPTS\"" >/dev/null
