#!/usr/bin/env bash
# Installs the AWS CLI and moto's server, pinned, into a private venv, and prints the venv's bin
# directory on stdout. The promotion store tests write and read SSM parameters with the real AWS
# CLI (what the CodeBuild executor runs) against moto's SSM on 127.0.0.1: no cloud, no network.
#   $GOLDEN_STATE_DIR/aws-venv   (default ~/.cache/pulumi-golden-image/aws-venv)
# Idempotent: a warm run only checks the versions.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

AWSCLI_VERSION=1.36.0
MOTO_VERSION=5.1.0
VENV="$GOLDEN_STATE_DIR/aws-venv"

ensure_state_dirs
exec 8>"$GOLDEN_RUN_DIR/aws-tools-install.lock"
flock -w "${GOLDEN_LOCK_TIMEOUT:-1800}" 8 || die "timed out waiting for $GOLDEN_RUN_DIR/aws-tools-install.lock"

installed() {
  [[ -x "$VENV/bin/python" ]] || return 0
  "$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("awscli"), m.version("moto"))' 2>/dev/null || true
}
if [[ "$(installed)" != "$AWSCLI_VERSION $MOTO_VERSION" || ! -x "$VENV/bin/aws" || ! -x "$VENV/bin/moto_server" ]]; then
  start="$(date +%s.%N)"
  log "installing awscli $AWSCLI_VERSION and moto[server] $MOTO_VERSION into $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV" || die "python3 -m venv failed - install python3-venv (apt-get install python3-venv) and rerun"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "awscli==$AWSCLI_VERSION" "moto[server,ssm]==$MOTO_VERSION" >&2 ||
    die "pip could not install awscli $AWSCLI_VERSION and moto $MOTO_VERSION - check that the Python package index is reachable"
  log "installed the AWS tools in $(elapsed_since "$start")s"
fi
printf '%s\n' "$VENV/bin"
