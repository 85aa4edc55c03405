#!/usr/bin/env bash
# `npm run cluster:faults`: builds the images (npm run images: an engine of its own when none
# answers), installs Debian's docker-compose when missing, then runs the fault tests on the compose
# cluster (tools/docker/compose-faults.ts). Takes about three minutes; not part of `npm test`.
source "$(dirname "${BASH_SOURCE[0]}")/../setup/env.sh"
cd "$CONIFER_ROOT"
host_line="$(bash tools/docker/images.sh | tail -1)"
export DOCKER_HOST="${host_line#DOCKER_HOST=}"
if ! command -v docker-compose >/dev/null; then
  echo "conifer: installing docker-compose (apt)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker-compose >&2
fi
node tools/docker/compose-faults.ts "$@"
