#!/usr/bin/env bash
# Install Checkov, the external judge of every rendered Dockerfile
# (test/integration/judge.test.ts), pinned to one exact version, into a private venv:
#   $GOLDEN_STATE_DIR/checkov-venv   (default ~/.cache/pulumi-golden-image/checkov-venv)
# Idempotent: does nothing but verify when that venv already has the pinned version.
# Needs python3 (with the venv module) and the Python package index via pip.
#
# The last line of stdout is the path of the checkov binary, e.g.
#   GOLDEN_CHECKOV="$(bash scripts/install-checkov.sh | tail -n1)"
# All progress goes to stderr.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CHECKOV_VERSION=3.3.30
CHECKOV_VENV="$GOLDEN_STATE_DIR/checkov-venv"
CHECKOV_BIN="$CHECKOV_VENV/bin/checkov"

# Version installed in the venv, or nothing (no venv, broken venv, no checkov).
installed_version() {
  [[ -x "$CHECKOV_VENV/bin/python" ]] || return 0
  "$CHECKOV_VENV/bin/python" - <<'EOF' 2>/dev/null || true
import importlib.metadata as m
print(m.version("checkov"))
EOF
}

# One install at a time (two test runs, or setup.sh, may call this at once). A lock of its
# own, not setup.lock: installing Checkov need not wait for a long base-image build.
ensure_state_dirs
exec 8>"$GOLDEN_RUN_DIR/checkov-install.lock"
if ! flock -n 8; then
  log "waiting for another checkov install to finish (lock $GOLDEN_RUN_DIR/checkov-install.lock)"
  flock -w "${GOLDEN_LOCK_TIMEOUT:-1800}" 8 ||
    die "timed out waiting for $GOLDEN_RUN_DIR/checkov-install.lock - check for a hung install-checkov.sh"
fi

current="$(installed_version)"
if [[ "$current" == "$CHECKOV_VERSION" && -x "$CHECKOV_BIN" ]]; then
  log "checkov $CHECKOV_VERSION already installed in $CHECKOV_VENV"
else
  command -v python3 >/dev/null 2>&1 ||
    die "python3 not found - install it (apt-get install python3 python3-venv) and rerun scripts/install-checkov.sh"
  if [[ -e "$CHECKOV_VENV" ]]; then
    log "replacing $CHECKOV_VENV (has checkov '${current:-none}', want $CHECKOV_VERSION)"
    rm -rf "$CHECKOV_VENV"
  fi
  log "creating venv $CHECKOV_VENV"
  python3 -m venv "$CHECKOV_VENV" >&2 ||
    die "python3 -m venv failed - install the venv module (apt-get install python3-venv) and rerun scripts/install-checkov.sh"
  start="$(date +%s.%N)"
  log "installing checkov==$CHECKOV_VERSION (pip)"
  if ! "$CHECKOV_VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    "checkov==$CHECKOV_VERSION" >&2; then
    rm -rf "$CHECKOV_VENV" # never leave a half-installed venv that looks usable
    die "pip install checkov==$CHECKOV_VERSION failed - check access to the Python package index (pip config list) and rerun scripts/install-checkov.sh"
  fi
  log "installed in $(elapsed_since "$start")s"
fi

# Verify the binary itself runs (an import error would otherwise show up only in the test).
got="$("$CHECKOV_BIN" --version 2>/dev/null | tail -n1 || true)"
[[ "$got" == "$CHECKOV_VERSION" ]] ||
  die "$CHECKOV_BIN --version printed '${got}', want $CHECKOV_VERSION - delete $CHECKOV_VENV and rerun scripts/install-checkov.sh"
log "checkov $got"

echo "$CHECKOV_BIN"
