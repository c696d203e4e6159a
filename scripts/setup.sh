#!/usr/bin/env bash
# One entry point for tests and the CLI wrapper: tools -> services -> base images.
# Idempotent and cheap when everything is in place (a warm run only checks).
#
# stdout carries only `export` lines (see services.sh env), so callers can do
#   eval "$(scripts/setup.sh)"
# All progress goes to stderr.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
# One setup at a time; the child scripts inherit the lock.
golden_lock

total_start="$(date +%s.%N)"
timings=()

step() {
  local name="$1" start
  shift
  start="$(date +%s.%N)"
  log "== $name"
  "$@" || die "step '$name' failed (messages above) - fix it and rerun scripts/setup.sh"
  timings+=("$name $(elapsed_since "$start")s")
}

step install-tools bash "$GOLDEN_SCRIPTS_DIR/install-tools.sh"
step install-buildkit bash -c "bash '$GOLDEN_SCRIPTS_DIR/install-buildkit.sh' >/dev/null"
step services bash "$GOLDEN_SCRIPTS_DIR/services.sh" start
step bases bash "$GOLDEN_SCRIPTS_DIR/bases.sh"

for t in "${timings[@]}"; do log "took: $t"; done
log "setup complete in $(elapsed_since "$total_start")s (state $GOLDEN_STATE_DIR, bases $GOLDEN_BASES_JSON)"

bash "$GOLDEN_SCRIPTS_DIR/services.sh" env
