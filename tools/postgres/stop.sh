#!/usr/bin/env bash
# Stops the throwaway PostgreSQL started by start.sh and deletes its state directory
# (pass --keep to keep data and logs for inspection). Idempotent: nothing running is fine.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ -d "$PG_STATE_DIR" ] || exit 0
BIN="$(pg_bindir)"
if [ -n "$BIN" ] && pg_is_running "$BIN"; then
  as_pg "$BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 -s stop >/dev/null
fi
if [ "${1:-}" != "--keep" ]; then rm -rf "$PG_STATE_DIR"; fi
