#!/usr/bin/env bash
# Installs what validates the Helm chart, once per machine, and prints their paths:
#   CONIFER_HELM=<helm>                           helm, built with `go install` from the Go module proxy
#   CONIFER_KUBERNETES_VALIDATE=<kubernetes-validate>  from PyPI, in a virtualenv (schemas bundled: works offline)
# Under ~/.cache/conifer (XDG_CACHE_HOME) like the emulators. Idempotent.
set -euo pipefail
HELM_MODULE="helm.sh/helm/v4/cmd/helm"
HELM_VERSION="v4.3.2"
VALIDATE_VERSION="1.37.0"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/conifer"
bin="$cache/bin"
mkdir -p "$bin"

helm="$bin/helm-$HELM_VERSION"
if [ ! -x "$helm" ]; then
  command -v go >/dev/null || { echo "conifer: Go is needed to build helm" >&2; exit 1; }
  echo "conifer: building helm $HELM_VERSION (go install, a few minutes once)" >&2
  gobin="$(mktemp -d)"
  if ! GOBIN="$gobin" go install "$HELM_MODULE@$HELM_VERSION" >"$gobin/log" 2>&1; then
    tail -30 "$gobin/log" >&2
    exit 1
  fi
  mv "$gobin/helm" "$helm"
  rm -rf "$gobin"
fi

venv="$cache/kubernetes-validate-$VALIDATE_VERSION"
if [ ! -x "$venv/bin/kubernetes-validate" ]; then
  echo "conifer: installing kubernetes-validate $VALIDATE_VERSION (PyPI)" >&2
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$VALIDATE_VERSION" >&2
fi
echo "CONIFER_HELM=$helm"
echo "CONIFER_KUBERNETES_VALIDATE=$venv/bin/kubernetes-validate"
