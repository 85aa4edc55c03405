#!/usr/bin/env bash
# Stops the engine tools/docker/engine.sh started (by its pid); an engine it did not start is left alone.
set -uo pipefail
RUN="${CONIFER_DOCKER_RUN:-/run/conifer-docker}"
pidfile="$RUN/dockerd.pid"
[ -f "$pidfile" ] || exit 0
pid="$(cat "$pidfile")"
kill "$pid" 2>/dev/null || exit 0
for _ in $(seq 1 60); do
  kill -0 "$pid" 2>/dev/null || exit 0
  sleep 0.5
done
kill -9 "$pid" 2>/dev/null || true
