#!/usr/bin/env bash
# Builds Helm from the Go module proxy and prints the path of the binary on stdout; with
# `--chart`, also fetches the pinned Harbor chart and prints its directory on a second line.
# The Harbor tests render the chart with `helm template` and the values HarborRegistry renders:
# the real consumer of those values, offline.
#
# Helm is cached by version and Go version under $GOLDEN_STATE_DIR/tools (a warm run only
# checks). The chart comes from the Go module proxy, which serves the chart's repository by its
# release tag; the download is refused unless its h1: checksum is the pinned one.
# GOLDEN_HELM=/path/to/helm is used as it is when it reports the pinned version.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HELM_VERSION=v3.22.0
# The chart HARBOR_CHART (components/render/harbor-values.ts) names, and its module checksum.
HARBOR_CHART_MODULE=github.com/goharbor/harbor-helm
HARBOR_CHART_VERSION=v1.19.1
HARBOR_CHART_SUM="h1:UJ7It4V8Iwr7QHW44Iti9gU+hWqanL1eSF/+kUvMZTE="

command -v go >/dev/null 2>&1 || die "go is not installed - install Go 1.24+ and rerun"
if [[ -n "${GOLDEN_HELM:-}" && -x "$GOLDEN_HELM" ]] && "$GOLDEN_HELM" version --short 2>/dev/null | grep -q "^$HELM_VERSION"; then
  bin="$GOLDEN_HELM"
else
  key="$(go version | sha256sum | cut -c1-8)"
  bin="$GOLDEN_STATE_DIR/tools/helm-$HELM_VERSION-$key/helm"
  if [[ ! -x "$bin" ]]; then
    start="$(date +%s.%N)"
    log "building Helm $HELM_VERSION from the Go module proxy (a few minutes cold); cached in $(dirname "$bin")"
    mkdir -p "$(dirname "$bin")"
    GOBIN="$(dirname "$bin")" CGO_ENABLED=0 go install -trimpath \
      -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
      "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2 ||
      die "building Helm $HELM_VERSION failed (messages above) - check that the Go module proxy is reachable (go env GOPROXY)"
    log "built Helm $HELM_VERSION in $(elapsed_since "$start")s"
  fi
fi
printf '%s\n' "$bin"

if [[ "${1:-}" == --chart ]]; then
  json="$(go mod download -json "$HARBOR_CHART_MODULE@$HARBOR_CHART_VERSION")" ||
    die "go mod download of $HARBOR_CHART_MODULE@$HARBOR_CHART_VERSION failed - check that the Go module proxy is reachable"
  sum="$(jq -r '.Sum // ""' <<<"$json")"
  [[ "$sum" == "$HARBOR_CHART_SUM" ]] ||
    die "the Harbor chart $HARBOR_CHART_VERSION has checksum $sum, not the pinned $HARBOR_CHART_SUM - refusing it"
  dir="$(jq -r '.Dir' <<<"$json")"
  [[ -f "$dir/Chart.yaml" ]] || die "$dir has no Chart.yaml - the module is not the Harbor chart"
  printf '%s\n' "$dir"
fi
