#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for the test suites, as a local process (no Docker needed),
# and prints one line on stdout:
#   CONIFER_TEST_DATABASE_URL=postgres://conifer:<password>@127.0.0.1:<port>/conifer_test
# Usage:
#   export "$(bash tools/postgres/start.sh)"
#   (cd packages/control && npx vitest run)
#   bash tools/postgres/stop.sh
# Idempotent: if the server of a previous call is still running, prints its URL again.
# Installs the `postgresql` apt package when the binaries are missing (root only). As root, the
# server runs as the system user `conifer-pg` (PostgreSQL refuses root). It listens on 127.0.0.1
# only, on a free port, with password auth (scram) and fsync off: for tests, never for data.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DB_NAME=conifer_test
DB_USER=conifer

install_postgres() {
  if [ "$(id -u)" -ne 0 ]; then
    pg_log "PostgreSQL server binaries not found; install the 'postgresql' package"
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  local apt=(apt-get install -y -qq --no-install-recommends postgresql)
  if ! "${apt[@]}" >/dev/null 2>&1; then
    apt-get update -qq >/dev/null 2>&1
    "${apt[@]}" >/dev/null
  fi
}

free_port() {
  local port
  for port in $(seq "$1" 65000); do
    # A refused connection means nothing listens there.
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return 0; fi
  done
  return 1
}

BIN="$(pg_bindir)"
if [ -z "$BIN" ]; then
  install_postgres
  BIN="$(pg_bindir)"
  [ -n "$BIN" ] || { pg_log "installed postgresql but found no pg_ctl"; exit 1; }
fi

if [ "$(id -u)" -eq 0 ] && ! id -u "$PG_OS_USER" >/dev/null 2>&1; then
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$PG_OS_USER"
fi

if pg_is_running "$BIN" && [ -s "$PG_STATE_DIR/url" ]; then
  echo "CONIFER_TEST_DATABASE_URL=$(cat "$PG_STATE_DIR/url")"
  exit 0
fi

# Anything left from an earlier server is throwaway: start from scratch.
if pg_is_running "$BIN"; then as_pg "$BIN/pg_ctl" -D "$PG_DATA" -m immediate -w -s stop >/dev/null 2>&1 || true; fi
rm -rf "$PG_STATE_DIR"
umask 077
mkdir -p "$PG_STATE_DIR" "$PG_RUN"
[ "$(id -u)" -ne 0 ] || chown -R "$PG_OS_USER" "$PG_STATE_DIR"

PASSWORD="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
PWFILE="$PG_STATE_DIR/pwfile"
printf '%s\n' "$PASSWORD" > "$PWFILE"
[ "$(id -u)" -ne 0 ] || chown "$PG_OS_USER" "$PWFILE"
if ! as_pg "$BIN/initdb" -D "$PG_DATA" -U "$DB_USER" --pwfile="$PWFILE" -A scram-sha-256 -E UTF8 --locale=C \
  >"$PG_STATE_DIR/initdb.log" 2>&1; then
  pg_log "initdb failed:"; tail -n 20 "$PG_STATE_DIR/initdb.log" >&2; exit 1
fi
rm -f "$PWFILE"

# Another process may grab the port between the probe and the bind: retry with the next ones.
port=55432
started=false
for _ in 1 2 3 4 5; do
  port="$(free_port "$port")"
  if as_pg "$BIN/pg_ctl" -D "$PG_DATA" -l "$PG_STATE_DIR/server.log" -w -t 60 -s start \
    -o "-p $port -k '$PG_RUN' -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    >/dev/null 2>&1; then
    started=true
    break
  fi
  port=$((port + 1))
done
if [ "$started" != true ]; then
  pg_log "could not start PostgreSQL:"; tail -n 20 "$PG_STATE_DIR/server.log" >&2; exit 1
fi

for _ in $(seq 1 60); do
  "$BIN/pg_isready" -q -h 127.0.0.1 -p "$port" && break
  sleep 0.5
done
PGPASSWORD="$PASSWORD" "$BIN/createdb" -h 127.0.0.1 -p "$port" -U "$DB_USER" "$DB_NAME"

URL="postgres://$DB_USER:$PASSWORD@127.0.0.1:$port/$DB_NAME"
printf '%s\n' "$URL" > "$PG_STATE_DIR/url"
echo "CONIFER_TEST_DATABASE_URL=$URL"
