#!/usr/bin/env bash
# Installs one of the pipeline's upstream tools at its pinned version and prints the path of its
# binary on stdout: cosign (signing), syft (SBOMs), grype and trivy (scanners).
#
# First choice: a binary of that name on PATH (or in GOLDEN_<NAME>) whose version is the pin,
# so a machine that already has the tool never waits for a build. Otherwise the offline
# fallback: `go install` from the Go module proxy, cached by version and Go version under
# $GOLDEN_STATE_DIR/tools, printing what it builds and how long it took.
#
# usage: install-release-tool.sh cosign|syft|grype|trivy
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

name="${1:?usage: install-release-tool.sh cosign|syft|grype|trivy}"
# name -> version, go package, extra build environment, linker flags that stamp the version the
# tool reports (release builds set them; without them Syft and Grype say "[not provided]").
case "$name" in
  cosign) version=v3.1.3 pkg=github.com/sigstore/cosign/v3/cmd/cosign extra=() ldflags="-X sigs.k8s.io/release-utils/version.gitVersion=v3.1.3" ;;
  syft) version=v1.57.0 pkg=github.com/anchore/syft/cmd/syft extra=() ldflags="-X main.version=1.57.0" ;;
  grype) version=v0.121.2 pkg=github.com/anchore/grype/cmd/grype extra=() ldflags="-X main.version=0.121.2" ;;
  # Trivy v0.74 does not compile without encoding/json/v2.
  trivy) version=v0.74.0 pkg=github.com/aquasecurity/trivy/cmd/trivy extra=(GOEXPERIMENT=jsonv2) ldflags="-X github.com/aquasecurity/trivy/pkg/version/app.ver=0.74.0" ;;
  *) die "unknown tool '$name' - one of cosign, syft, grype, trivy" ;;
esac

# The version a binary reports, as vX.Y.Z (empty when it cannot say).
tool_version() {
  local bin="$1" out=""
  case "$name" in
    cosign) out="$("$bin" version --json 2>/dev/null | sed -n 's/.*"gitVersion": *"\([^"]*\)".*/\1/p')" ;;
    syft | grype) out="$("$bin" version -o json 2>/dev/null | sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' | head -n 1)" ;;
    trivy) out="$("$bin" --version --format json 2>/dev/null | sed -n 's/.*"Version": *"\([^"]*\)".*/\1/p' | head -n 1)" ;;
  esac
  [[ -z "$out" || "$out" == v* ]] || out="v$out"
  printf '%s' "$out"
}

upper="$(printf '%s' "$name" | tr '[:lower:]' '[:upper:]')"
override_var="GOLDEN_$upper"
for candidate in "${!override_var:-}" "$(command -v "$name" 2>/dev/null || true)"; do
  [[ -n "$candidate" && -x "$candidate" ]] || continue
  found="$(tool_version "$candidate")"
  if [[ "$found" == "$version" ]]; then
    printf '%s\n' "$candidate"
    exit 0
  fi
  log "$candidate reports version '${found:-unknown}', the pin is $version - using a $version build instead"
done

command -v go >/dev/null 2>&1 || die "$name $version is not on PATH and go is not installed to build it - install $name $version, or Go 1.24+ (apt-get install golang-go), and rerun"
key="$( (go version; printf '%s ' "${extra[@]}" "$ldflags") | sha256sum | cut -c1-8)"
out="$GOLDEN_STATE_DIR/tools/$name-$version-$key"
bin="$out/$name"
if [[ ! -x "$bin" ]]; then
  start="$(date +%s.%N)"
  log "building $name $version from the Go module proxy ($pkg; first run on this machine, cached in $out)"
  rm -rf "$out.tmp"
  mkdir -p "$out.tmp"
  env "${extra[@]}" GOBIN="$out.tmp" CGO_ENABLED=0 go install -trimpath -ldflags "$ldflags" "$pkg@$version" >&2 ||
    die "building $name $version failed (messages above) - check that the Go module proxy is reachable (go env GOPROXY), or install $name $version on PATH"
  rm -rf "$out"
  mv "$out.tmp" "$out"
  log "built $name $version in $(elapsed_since "$start")s"
fi
printf '%s\n' "$bin"
