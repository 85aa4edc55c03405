#!/usr/bin/env bash
# `npm run bench -- --size XS|S|M|L|fashion-mnist [--no-peers] [--no-http] [--no-interference]
# [--no-cold-start] [--no-write]` (flags: tools/bench/src/main.ts): provisions like `npm test`,
# then runs tools/bench (long; not part of CI). Results go to docs/benchmarks.md and
# tools/bench/results/.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
ensure_npm_deps
cd "$CONIFER_ROOT"
# Peers (LanceDB, hnswlib-node) live outside the workspace: only the benchmark needs them, and a
# run with --no-peers does not (the bench imports them only when it runs them).
if [[ " $* " != *" --no-peers "* ]] && { [ ! -d tools/bench/peers/node_modules/@lancedb/lancedb ] || [ ! -d tools/bench/peers/node_modules/hnswlib-node ]; }; then
  echo "conifer: installing benchmark peers into tools/bench/peers" >&2
  (cd tools/bench/peers && npm install --no-audit --no-fund --no-package-lock --loglevel=error)
fi
# The real dataset (ann-benchmarks' fashion-mnist-784-euclidean) ships as a Debian package: its IDX
# files land in /usr/share/datasets/fashion-mnist. Installed only when a run asks for it.
if [[ " $* " == *" fashion-mnist "* ]] && ! dpkg -s dataset-fashion-mnist >/dev/null 2>&1; then
  echo "conifer: installing dataset-fashion-mnist (apt) for the benchmark" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1 || {
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null
  }
fi
# The servers the benchmark starts use glibc's malloc unless BENCH_SERVER_PRELOAD names an
# allocator to preload (e.g. /usr/lib/x86_64-linux-gnu/libjemalloc.so.2, which `npm start` uses:
# docs/operations.md, "Memory", has what it costs here).
exec node --expose-gc tools/bench/src/main.ts "$@"
