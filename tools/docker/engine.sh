#!/usr/bin/env bash
# Makes a Docker engine answer and prints `DOCKER_HOST=<url>` as its last line.
#
# 1. DOCKER_HOST (or the default socket) already answers: that engine is used as it is.
# 2. Otherwise Conifer's own engine: Debian's docker.io installed if missing, then `dockerd` started
#    as root with its own data root (kept per machine, so images built once stay built), exec root
#    and socket, publishing container ports on 127.0.0.1 unless told otherwise. It keeps running for later runs; tools/docker/stop-engine.sh stops it by its pid.
#
# Needs root for case 2 (dockerd, apt-get). Idempotent: a second call finds the engine answering.
# With --check it only reports whether an engine answers, and starts nothing.
set -euo pipefail

STATE="${CONIFER_DOCKER_STATE:-/var/lib/conifer-docker}"
RUN="${CONIFER_DOCKER_RUN:-/run/conifer-docker}"
SOCKET="unix://$RUN/docker.sock"

answers() { DOCKER_HOST="$1" timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

# --check: only say whether an engine answers (exit 1 when none does); start nothing.
check_only=""
[ "${1:-}" = "--check" ] && check_only=1

if [ -n "${DOCKER_HOST:-}" ] && answers "$DOCKER_HOST"; then
  echo "DOCKER_HOST=$DOCKER_HOST"
  exit 0
fi
if command -v docker >/dev/null && answers "$SOCKET"; then
  echo "DOCKER_HOST=$SOCKET"
  exit 0
fi

[ -n "$check_only" ] && exit 1
if [ "$(id -u)" != 0 ]; then
  echo "conifer: no Docker engine answers and starting one needs root" >&2
  exit 1
fi
if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
  echo "conifer: installing Docker (apt-get install docker.io)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io >&2 || {
    apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io >&2
  }
fi

mkdir -p "$STATE/data" "$RUN/exec"
pidfile="$RUN/dockerd.pid"
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  echo "conifer: dockerd (pid $(cat "$pidfile")) is running but does not answer yet" >&2
else
  rm -f "$pidfile" "$RUN/docker.sock"
  echo "conifer: starting dockerd (data root $STATE/data, socket $RUN/docker.sock)" >&2
  # Its own containerd socket too, so it never meets another engine's.
  setsid nohup dockerd \
    --data-root "$STATE/data" \
    --exec-root "$RUN/exec" \
    --pidfile "$pidfile" \
    --host "$SOCKET" \
    --ip 127.0.0.1 \
    >>"$STATE/dockerd.log" 2>&1 </dev/null &
fi
for _ in $(seq 1 120); do
  if answers "$SOCKET"; then
    echo "DOCKER_HOST=$SOCKET"
    exit 0
  fi
  sleep 0.5
done
echo "conifer: dockerd did not answer within 60 s; its log: $STATE/dockerd.log" >&2
tail -20 "$STATE/dockerd.log" >&2 || true
exit 1
