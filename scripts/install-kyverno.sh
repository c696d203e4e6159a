#!/usr/bin/env bash
# Builds the Kyverno CLI (kubectl-kyverno) from the Go module proxy and prints the path of the
# binary on stdout. The admission tests apply the rendered policies with it: the real engine a
# cluster runs, offline, verifying signatures against the local registry.
# Cached by version and Go version under $GOLDEN_STATE_DIR/tools: a warm run only checks.
# `go install` refuses Kyverno (its go.mod has replace directives), so the module is downloaded,
# copied somewhere writable and built there. A cold build takes about 20 minutes on 2 cores.
# GOLDEN_KYVERNO=/path/to/kubectl-kyverno is used as it is when it reports the pinned version.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KYVERNO_VERSION=v1.19.1

if [[ -n "${GOLDEN_KYVERNO:-}" && -x "$GOLDEN_KYVERNO" ]] && "$GOLDEN_KYVERNO" version 2>/dev/null | grep -q "${KYVERNO_VERSION#v}"; then
  printf '%s\n' "$GOLDEN_KYVERNO"
  exit 0
fi
command -v go >/dev/null 2>&1 || die "go is not installed - install Go 1.24+ and rerun"
key="$(go version | sha256sum | cut -c1-8)"
bin="$GOLDEN_STATE_DIR/tools/kyverno-$KYVERNO_VERSION-$key/kubectl-kyverno"
if [[ -x "$bin" ]]; then
  printf '%s\n' "$bin"
  exit 0
fi
start="$(date +%s.%N)"
log "building the Kyverno CLI $KYVERNO_VERSION from the Go module proxy (about 20 min cold); cached in $(dirname "$bin")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
dir="$(go mod download -json "github.com/kyverno/kyverno@$KYVERNO_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[[ -n "$dir" && -d "$dir" ]] || die "go mod download of github.com/kyverno/kyverno@$KYVERNO_VERSION failed - check that the Go module proxy is reachable (go env GOPROXY)"
cp -r "$dir" "$work/src"
chmod -R u+w "$work/src"
mkdir -p "$(dirname "$bin")"
(cd "$work/src" && CGO_ENABLED=0 go build -trimpath \
  -ldflags "-s -w -X github.com/kyverno/kyverno/pkg/version.BuildVersion=$KYVERNO_VERSION" \
  -o "$bin.tmp" ./cmd/cli/kubectl-kyverno) >&2 ||
  die "building the Kyverno CLI $KYVERNO_VERSION failed (messages above) - rerun; if a module is missing, check the Go module proxy"
mv "$bin.tmp" "$bin"
log "built the Kyverno CLI $KYVERNO_VERSION in $(elapsed_since "$start")s"
printf '%s\n' "$bin"
