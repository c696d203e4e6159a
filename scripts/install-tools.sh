#!/usr/bin/env bash
# Install the host tools the golden-image environment needs, from Debian stable via
# apt (the only package source reachable here). Idempotent: does nothing but print
# versions when every tool is already present. Nothing is pinned: Debian stable
# only ships security/bug fixes, and bases.sh hashes the resolved versions anyway.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# command -> Debian package that provides it
declare -A TOOL_PACKAGE=(
  [dockerd]=docker.io
  [docker-registry]=docker-registry
  [mmdebstrap]=mmdebstrap
  [htpasswd]=apache2-utils
  [skopeo]=skopeo
  [jq]=jq
  [curl]=curl
  [dpkg-deb]=dpkg
  [ldconfig]=libc-bin
  [runc]=runc
  [git]=git
  [kubectl]=kubernetes-client
)
# Exact paths matter for docker: a different client shadows /usr/bin/docker on PATH.
declare -A TOOL_PATH=(
  [dockerd]=/usr/sbin/dockerd
  [docker]=/usr/bin/docker
)

require_root

missing=()
for tool in "${!TOOL_PACKAGE[@]}"; do
  if [[ -n "${TOOL_PATH[$tool]:-}" ]]; then
    [[ -x "${TOOL_PATH[$tool]}" ]] || missing+=("$tool")
  elif ! command -v "$tool" >/dev/null 2>&1; then
    missing+=("$tool")
  fi
done
[[ -x "${TOOL_PATH[docker]}" ]] || missing+=(docker)

if ((${#missing[@]} > 0)); then
  log "missing: ${missing[*]} - installing from apt"
  # --no-install-recommends keeps the host lean; docker.io's recommends (e.g. git,
  # xz) are not needed for daemon + BuildKit builds.
  # stdout -> stderr: setup.sh keeps stdout for the `export` lines only.
  apt-get update >&2 || die "apt-get update failed - check network access to the apt mirror and /etc/apt/sources.list.d"
  # Only the packages of the missing tools: a machine may carry a tool from another package
  # (kubectl from the Kubernetes project's package, say), and Debian's would conflict with it.
  packages=(ca-certificates)
  for tool in "${missing[@]}"; do packages+=("${TOOL_PACKAGE[$tool]:-docker.io}"); done
  mapfile -t packages < <(printf '%s\n' "${packages[@]}" | LC_ALL=C sort -u)
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${packages[@]}" >&2 ||
    die "apt-get install failed - check the apt sources (apt-get update) and rerun scripts/install-tools.sh"
  # The Debian packages ship systemd units; in a container/VM without systemd they
  # do nothing, and services.sh starts the daemons itself on loopback only.
else
  log "all tools present"
fi

dpkg-query -W -f '  ${Package} ${Version}\n' \
  docker.io containerd runc docker-registry mmdebstrap apache2-utils skopeo jq curl >&2 ||
  die "a tool package is not installed according to dpkg - rerun scripts/install-tools.sh"
