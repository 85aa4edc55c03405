#!/usr/bin/env bash
# Makes the base image the Dockerfiles start FROM (`debian:bookworm-slim`) on an engine that cannot
# pull: a minimal Debian 12 root made with debootstrap, imported under that name. Skipped when the
# engine already has the image (pulled or made before). Needs DOCKER_HOST (tools/docker/engine.sh)
# and root (debootstrap).
set -euo pipefail

IMAGE="${1:-debian:bookworm-slim}"
MIRROR="${CONIFER_DEBIAN_MIRROR:-http://deb.debian.org/debian}"

if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  exit 0
fi
if ! command -v debootstrap >/dev/null; then
  echo "conifer: installing debootstrap" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >&2
fi
root="$(mktemp -d "${TMPDIR:-/tmp}/conifer-rootfs.XXXXXX")"
trap 'rm -rf "$root"' EXIT
echo "conifer: making $IMAGE with debootstrap (minbase bookworm, about 2 minutes)" >&2
debootstrap --variant=minbase bookworm "$root" "$MIRROR" >"$root.log" 2>&1 || {
  tail -20 "$root.log" >&2
  rm -f "$root.log"
  exit 1
}
rm -f "$root.log"
# As the official slim image: no apt caches or docs, and the package lists fetched again on use.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/usr/share/doc/* "$root"/usr/share/man/*
tar -C "$root" -c . | docker import --change 'CMD ["bash"]' - "$IMAGE" >/dev/null
echo "conifer: $IMAGE made ($(docker image inspect "$IMAGE" --format '{{.Size}}') bytes)" >&2
