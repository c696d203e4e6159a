#!/usr/bin/env bash
# Builds BuildKit's daemon and client (buildkitd, buildctl) from the Go module proxy and prints
# the directory holding them on stdout. Debian's Docker 20.10 ships a BuildKit too old for
# SOURCE_DATE_EPOCH and timestamp rewriting, which reproducible images need (v0.13+).
# Cached by version and Go version under $GOLDEN_STATE_DIR/tools: a warm run only checks.
# `go install` refuses BuildKit (its go.mod has exclude directives), so the module is
# downloaded, copied somewhere writable and built there.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BUILDKIT_VERSION=v0.25.2

command -v go >/dev/null 2>&1 || die "go is not installed - install Go 1.24+ and rerun"
key="$(go version | sha256sum | cut -c1-8)"
bin="$GOLDEN_STATE_DIR/tools/buildkit-$BUILDKIT_VERSION-$key/bin"
if [[ -x "$bin/buildkitd" && -x "$bin/buildctl" ]]; then
  printf '%s\n' "$bin"
  exit 0
fi
start="$(date +%s.%N)"
log "building BuildKit $BUILDKIT_VERSION (buildkitd, buildctl) from the Go module proxy; cached in $bin"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
dir="$(go mod download -json "github.com/moby/buildkit@$BUILDKIT_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[[ -n "$dir" && -d "$dir" ]] || die "go mod download of github.com/moby/buildkit@$BUILDKIT_VERSION failed - check that the Go module proxy is reachable (go env GOPROXY)"
cp -r "$dir" "$work/src"
chmod -R u+w "$work/src"
mkdir -p "$bin.tmp"
(cd "$work/src" && CGO_ENABLED=0 go build -trimpath -o "$bin.tmp/" ./cmd/buildctl ./cmd/buildkitd) >&2 ||
  die "building BuildKit $BUILDKIT_VERSION failed (messages above) - rerun; if a module is missing, check the Go module proxy"
rm -rf "$bin"
mv "$bin.tmp" "$bin"
log "built BuildKit $BUILDKIT_VERSION in $(elapsed_since "$start")s"
printf '%s\n' "$bin"
