#!/usr/bin/env bash
# `npm run images`: builds every image the project uses, locally, on an engine that cannot pull:
# the base image (tools/docker/base-image.sh), then Conifer's own, tagged conifer:local. Uses the
# engine at DOCKER_HOST when one answers, otherwise starts Conifer's own (tools/docker/engine.sh).
# Layers are cached by the engine: a second run with unchanged sources takes seconds.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
host_line="$(bash tools/docker/engine.sh | tail -1)"
export DOCKER_HOST="${host_line#DOCKER_HOST=}"
bash tools/docker/base-image.sh debian:bookworm-slim
# The build network's extra CAs (a TLS-inspecting egress proxy), for the build stage only.
find deploy/docker/ca-certificates -name '*.crt' -delete
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then cp /usr/local/share/ca-certificates/*.crt deploy/docker/ca-certificates/; fi
# The classic builder: BuildKit needs the buildx plugin, which Debian's engine does not ship.
# Builds use the host's network, which reaches Debian's mirror and the npm registry.
log="$(mktemp)"
started=$SECONDS
echo "conifer: building conifer:local (docker build, log $log)" >&2
if ! DOCKER_BUILDKIT=0 docker build --force-rm --network host -t conifer:local -f Dockerfile . >"$log" 2>&1; then
  tail -40 "$log" >&2
  echo "conifer: building conifer:local failed (full log: $log)" >&2
  exit 1
fi
rm -f "$log"
size="$(docker image inspect conifer:local --format '{{.Size}}')"
echo "conifer: conifer:local built in $((SECONDS - started)) s, $((size / 1024 / 1024)) MiB" >&2
echo "DOCKER_HOST=$DOCKER_HOST"
