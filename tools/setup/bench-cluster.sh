#!/usr/bin/env bash
# `npm run bench:cluster -- [--size XS|S|M] [--quick] [--moves-store minio|local] [--no-write]`
# (flags: tools/bench/src/cluster-main.ts): provisions like `npm test`, starts a throwaway
# PostgreSQL server of its own (tools/postgres/start.sh in a private state directory, stopped and
# removed on exit) unless CONIFER_TEST_DATABASE_URL is set, then runs the cluster benchmark: the
# single process beside a cluster of role processes pinned to cores (long; not part of CI). The
# servers run on jemalloc, as under `npm start`, unless LD_PRELOAD is already set. Results go to
# docs/benchmarks.md and tools/bench/results/cluster-<size>.json.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
ensure_npm_deps
cd "$CONIFER_ROOT"

pg_dir=""
cleanup() {
  if [ -n "$pg_dir" ]; then CONIFER_PG_DIR="$pg_dir" bash tools/postgres/stop.sh >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

if [ -z "${CONIFER_TEST_DATABASE_URL:-}" ]; then
  # A server of its own: the one `npm test` shares is stopped when a test run ends.
  pg_dir="$(mktemp -d "${TMPDIR:-/tmp}/conifer-bench-pg.XXXXXX")"
  url_line="$(CONIFER_PG_DIR="$pg_dir" bash tools/postgres/start.sh | grep '^CONIFER_TEST_DATABASE_URL=')" || {
    echo "conifer: could not start PostgreSQL for the cluster benchmark" >&2
    exit 1
  }
  export CONIFER_TEST_DATABASE_URL="${url_line#CONIFER_TEST_DATABASE_URL=}"
fi
if [ -z "${LD_PRELOAD+set}" ] && jemalloc="$(ensure_jemalloc)" && [ -n "$jemalloc" ]; then export LD_PRELOAD="$jemalloc"; fi
node tools/bench/src/cluster-main.ts "$@"
