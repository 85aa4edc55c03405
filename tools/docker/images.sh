#!/usr/bin/env bash
# `npm run images`: builds every image the project uses, locally, on an engine that cannot pull:
#   debian:bookworm-slim   the base image (tools/docker/base-image.sh: debootstrap), when missing
#   conifer:local          Conifer (Dockerfile)
#   conifer-postgres:local PostgreSQL from Debian's package (tools/docker/images/postgres)
#   conifer-minio:local, conifer-fake-gcs:local, conifer-azurite:local
#                          the cloud emulators the tests run, at the versions the tests pin
# Uses the engine at DOCKER_HOST when one answers, otherwise starts Conifer's own
# (tools/docker/engine.sh); prints `DOCKER_HOST=…` as its last line. Layers are cached by the
# engine: a second run with unchanged sources takes seconds.
source "$(dirname "${BASH_SOURCE[0]}")/../setup/env.sh"
ensure_npm_deps >&2
cd "$CONIFER_ROOT"
host_line="$(bash tools/docker/engine.sh | tail -1)"
export DOCKER_HOST="${host_line#DOCKER_HOST=}"
bash tools/docker/base-image.sh debian:bookworm-slim

# The build network's extra CAs (a TLS-inspecting egress proxy), for build stages only.
find deploy/docker/ca-certificates -name '*.crt' -delete
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then cp /usr/local/share/ca-certificates/*.crt deploy/docker/ca-certificates/; fi

# build NAME CONTEXT [docker build options]: the classic builder (BuildKit needs the buildx plugin,
# which Debian's engine does not ship), on the host's network (Debian's mirror, the npm registry).
build() {
  local name="$1" context="$2"
  shift 2
  local log started=$SECONDS
  log="$(mktemp)"
  if ! DOCKER_BUILDKIT=0 docker build --force-rm --network host -t "$name" "$@" "$context" >"$log" 2>&1; then
    tail -40 "$log" >&2
    echo "conifer: building $name failed (full log: $log)" >&2
    exit 1
  fi
  rm -f "$log"
  local size
  size="$(docker image inspect "$name" --format '{{.Size}}')"
  echo "conifer: $name built in $((SECONDS - started)) s, $((size / 1024 / 1024)) MiB" >&2
}

build conifer:local . -f Dockerfile
build conifer-postgres:local tools/docker/images/postgres

# The emulators from what the tests run on the host: the Go binaries pinned in
# tools/emulators (go install'ed on first use), Azurite at the root devDependency's version.
contexts="$(mktemp -d)"
trap 'rm -rf "$contexts"' EXIT
for tool in minio fake-gcs-server; do
  binary="$(node --input-type=module -e "const m = await import('@conifer/emulators'); console.log(await m.ensureGoTool('$tool'))" | tail -1)"
  dir="$contexts/$tool"
  mkdir -p "$dir"
  cp "$binary" "$dir/$tool"
  case "$tool" in
    minio) cp tools/docker/images/minio/Dockerfile "$dir/" && build conifer-minio:local "$dir" ;;
    fake-gcs-server) cp tools/docker/images/fake-gcs/Dockerfile "$dir/" && build conifer-fake-gcs:local "$dir" ;;
  esac
done
mkdir -p "$contexts/azurite"
cp tools/docker/images/azurite/Dockerfile "$contexts/azurite/"
cp -r deploy/docker/ca-certificates "$contexts/azurite/"
build conifer-azurite:local "$contexts/azurite" --build-arg "AZURITE_VERSION=$(node -p "require('azurite/package.json').version")"

# Untagged images older than a day: the layers of earlier builds (the last build's stay, as cache).
docker image prune --force --filter until=24h >/dev/null || true
echo "DOCKER_HOST=$DOCKER_HOST"
