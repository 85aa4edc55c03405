#!/usr/bin/env bash
# `npm test`: provisions what the suite needs (Node 24, npm dependencies, a throwaway PostgreSQL
# server, a Docker engine and the images), then checks formatting (Prettier) and runs typecheck, lint and tests of every project through Nx (cached), and prints
# one summary line "N passed, N failed" over all vitest suites.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
ensure_npm_deps
cd "$CONIFER_ROOT"

docker_started=""
cleanup() {
  if [ -n "${CONIFER_TEST_DATABASE_URL:-}" ] && [ -x tools/postgres/stop.sh ]; then bash tools/postgres/stop.sh >/dev/null 2>&1 || true; fi
  if [ -n "$docker_started" ]; then bash tools/docker/stop-engine.sh || true; fi
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
# Containers (e2e/src/container.test.ts): a Docker engine — the one at DOCKER_HOST, else Conifer's
# own, started here and stopped at the end — and the images, built locally (npm run images; the
# engine caches their layers per machine). When that fails the container tests fail and say why:
# they are never skipped silently.
bash tools/docker/engine.sh --check >/dev/null 2>&1 || docker_started=1
if images_out="$(bash tools/docker/images.sh)"; then
  export DOCKER_HOST="$(printf '%s\n' "$images_out" | tail -1 | sed 's/^DOCKER_HOST=//')"
  echo "conifer: Docker engine at $DOCKER_HOST, image conifer:local built"
else
  echo "conifer: WARNING: no Docker engine or no image conifer:local; the container tests will fail" >&2
fi
# The Helm chart's checkers (e2e/src/helm-chart.test.ts): helm and kubernetes-validate, once per machine.
if helm_out="$(bash tools/helm/ensure.sh)"; then
  while IFS= read -r line; do case "$line" in CONIFER_HELM=* | CONIFER_KUBERNETES_VALIDATE=*) export "${line?}" ;; esac; done <<<"$helm_out"
else
  echo "conifer: WARNING: could not install helm or kubernetes-validate; the chart tests will fail" >&2
fi
# The cloud suites start their emulators as local processes, where they also cover several
# Azurite versions (CONIFER_EMULATORS=docker runs them as containers of the local images instead).
export CONIFER_EMULATORS="${CONIFER_EMULATORS:-process}"
ensure_chromium || echo "conifer: could not install chromium; the console browser tests will fail" >&2
ensure_python_venv || echo "conifer: could not install python3-venv; the API fuzzing test will fail" >&2
status=0
# Formatting is checked first and fails the run, but does not stop the tests (one report for both).
if ! npx prettier --check . --log-level warn; then
  echo "conifer: files above are not formatted; run: npm run format" >&2
  status=1
fi
npx nx run-many -t typecheck,lint,test,packaged,fuzz --outputStyle=stream "$@" || status=$?
node tools/setup/test-summary.mjs || status=1
exit $status
