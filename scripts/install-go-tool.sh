#!/usr/bin/env bash
# Builds one of the project's small Go programs (tools/<name>/: main.go, go.mod, go.sum) and
# prints the path of its binary on stdout. Cached by the content of tools/<name>/ and the Go
# version under $GOLDEN_STATE_DIR/go-tools, so a warm run costs a hash; a new machine builds it
# from the Go module proxy. Exit 1 with one line naming the problem and the fix on failure.
#
# usage: install-go-tool.sh NAME
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

name="${1:?usage: install-go-tool.sh NAME}"
src="$(cd "$GOLDEN_SCRIPTS_DIR/.." && pwd)/tools/$name"
[[ -f "$src/go.mod" ]] || die "no Go tool tools/$name (go.mod missing) - check the name"
command -v go >/dev/null 2>&1 || die "go is not installed - install Go 1.24+ (e.g. apt-get install golang-go) and rerun"

key="$( (go version; cd "$src" && find . -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-16)"
out="$GOLDEN_STATE_DIR/go-tools/$name-$key"
bin="$out/$name"
if [[ ! -x "$bin" ]]; then
  mkdir -p "$out"
  start="$(date +%s.%N)"
  log "building Go tool $name (first run on this machine; cached in $out)"
  (cd "$src" && GOFLAGS=-mod=readonly CGO_ENABLED=0 go build -trimpath -o "$bin.tmp" .) >&2 ||
    die "building tools/$name failed (messages above) - check the Go module proxy is reachable and go.sum is complete (cd tools/$name && go mod tidy)"
  mv "$bin.tmp" "$bin"
  log "built $name in $(elapsed_since "$start")s"
fi
printf '%s\n' "$bin"
