#!/usr/bin/env bash
# `npm test`: provisions what the suite needs (Node 24, npm dependencies, a throwaway PostgreSQL
# server), then checks formatting (Prettier) and runs typecheck, lint and tests of every project through Nx (cached), and prints
# one summary line "N passed, N failed" over all vitest suites.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
ensure_npm_deps
cd "$CONIFER_ROOT"

cleanup() {
  if [ -n "${CONIFER_TEST_DATABASE_URL:-}" ] && [ -x tools/postgres/stop.sh ]; then bash tools/postgres/stop.sh >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

if [ -z "${CONIFER_TEST_DATABASE_URL:-}" ] && [ -f tools/postgres/start.sh ]; then
  if url_line="$(bash tools/postgres/start.sh | grep '^CONIFER_TEST_DATABASE_URL=')"; then
    export CONIFER_TEST_DATABASE_URL="${url_line#CONIFER_TEST_DATABASE_URL=}"
    echo "conifer: PostgreSQL for tests at ${CONIFER_TEST_DATABASE_URL%%@*}@…"
  else
    echo "conifer: could not start PostgreSQL; control-plane tests run on PGlite only" >&2
    [ -n "${CI:-}" ] && exit 1
  fi
fi

# Reports of an earlier run must not count; Nx restores the cached ones.
find packages apps tools e2e -maxdepth 3 -type d -name test-results -not -path '*/node_modules/*' -exec rm -rf {} + 2>/dev/null || true
ensure_chromium || echo "conifer: could not install chromium; the console browser tests will fail" >&2
ensure_python_venv || echo "conifer: could not install python3-venv; the API fuzzing test will fail" >&2
status=0
# Formatting is checked first and fails the run, but does not stop the tests (one report for both).
if ! npx prettier --check . --log-level warn; then
  echo "conifer: files above are not formatted; run: npm run format" >&2
  status=1
fi
npx nx run-many -t typecheck,lint,test --outputStyle=stream "$@" || status=$?
node tools/setup/test-summary.mjs || status=1
exit $status
