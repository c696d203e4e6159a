# shellcheck shell=bash
# shellcheck disable=SC2034 # variables here are used by the scripts that source this file
# Shared helpers for the golden-image dev/test environment scripts.
# Sourced (never executed) by install-tools.sh, services.sh, bases.sh and setup.sh.
#
# Everything stateful lives under GOLDEN_STATE_DIR, which defaults to a per-user
# cache directory OUTSIDE the repository: a fresh clone elsewhere reuses the same
# registry data, base images and credentials instead of rebuilding them.

if [[ -n "${GOLDEN_LIB_SOURCED:-}" ]]; then
  return 0
fi
GOLDEN_LIB_SOURCED=1

GOLDEN_SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# Go tools (BuildKit, tools/*) build with the machine's Go; a non-login shell may lack it on PATH.
if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
  export PATH="/usr/local/go/bin:$PATH"
fi

GOLDEN_STATE_DIR="${GOLDEN_STATE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-golden-image}"
# pid files, logs and generated configs of the services we start.
GOLDEN_RUN_DIR="$GOLDEN_STATE_DIR/run"

GOLDEN_REGISTRY_PORT="${GOLDEN_REGISTRY_PORT:-5000}"
# Always loopback: docker treats 127.0.0.0/8 as an insecure registry by default,
# so plain HTTP works without touching the daemon's insecure-registries list.
GOLDEN_REGISTRY="127.0.0.1:$GOLDEN_REGISTRY_PORT"
GOLDEN_MIRROR="$GOLDEN_REGISTRY/mirror"
GOLDEN_REGISTRY_USER="golden"
# KEY=VALUE file (user + password) and a password-only file for --password-stdin style consumers.
GOLDEN_CREDENTIALS_FILE="$GOLDEN_STATE_DIR/registry-credentials"
GOLDEN_PASSWORD_FILE="$GOLDEN_STATE_DIR/registry-password"
GOLDEN_BASES_JSON="$GOLDEN_STATE_DIR/bases.json"
# BuildKit's socket (services.sh starts buildkitd there; `services.sh env` exports BUILDKIT_HOST).
GOLDEN_BUILDKIT_SOCKET="$GOLDEN_RUN_DIR/buildkitd.sock"

# /usr/local/bin/docker (v28) comes first on PATH but needs a buildx plugin that is
# not installed; the Debian 20.10 client has BuildKit built in, so pin it.
DOCKER=/usr/bin/docker
DOCKERD=/usr/sbin/dockerd
REGISTRY_BIN=/usr/bin/docker-registry
export DOCKER_BUILDKIT=1

# The daemon socket. The default path means plain `docker` works with no env; set
# GOLDEN_DOCKER_SOCKET to run a private daemon elsewhere (then DOCKER_HOST is exported).
GOLDEN_DEFAULT_DOCKER_SOCKET=/var/run/docker.sock
GOLDEN_DOCKER_SOCKET="${GOLDEN_DOCKER_SOCKET:-$GOLDEN_DEFAULT_DOCKER_SOCKET}"
if [[ "$GOLDEN_DOCKER_SOCKET" != "$GOLDEN_DEFAULT_DOCKER_SOCKET" ]]; then
  export DOCKER_HOST="unix://$GOLDEN_DOCKER_SOCKET"
fi

export GOLDEN_STATE_DIR GOLDEN_RUN_DIR GOLDEN_REGISTRY_PORT GOLDEN_REGISTRY GOLDEN_MIRROR \
  GOLDEN_REGISTRY_USER GOLDEN_CREDENTIALS_FILE GOLDEN_PASSWORD_FILE GOLDEN_BASES_JSON

log() {
  printf '[golden %s] %s\n' "$(basename "$0" .sh)" "$*" >&2
}

# One line that names the problem and the fix, then exit 1.
die() {
  printf '[golden %s] ERROR: %s\n' "$(basename "$0" .sh)" "$*" >&2
  exit 1
}

require_root() {
  [[ "$(id -u)" -eq 0 ]] || die "must run as root (dockerd, mmdebstrap and chown need it) - rerun with sudo"
}

ensure_state_dirs() {
  mkdir -p "$GOLDEN_STATE_DIR" "$GOLDEN_RUN_DIR"
  chmod 700 "$GOLDEN_STATE_DIR"
}

# Serialize setup steps across processes (e.g. parallel test workers all calling
# setup.sh). Uses fd 9; children of the lock holder see GOLDEN_LOCK_HELD and skip,
# and long-lived daemons are spawned with fd 9 closed so they never keep the lock.
golden_lock() {
  [[ -z "${GOLDEN_LOCK_HELD:-}" ]] || return 0
  ensure_state_dirs
  exec 9>"$GOLDEN_RUN_DIR/setup.lock"
  if ! flock -n 9; then
    log "waiting for another golden setup to finish (lock $GOLDEN_RUN_DIR/setup.lock)"
    flock -w "${GOLDEN_LOCK_TIMEOUT:-1800}" 9 ||
      die "timed out waiting for $GOLDEN_RUN_DIR/setup.lock - check for a hung setup.sh/bases.sh process"
  fi
  export GOLDEN_LOCK_HELD=1
}

# Load the registry password into GOLDEN_REGISTRY_PASSWORD (created by services.sh start).
load_registry_credentials() {
  [[ -s "$GOLDEN_PASSWORD_FILE" ]] ||
    die "registry credentials missing ($GOLDEN_PASSWORD_FILE) - run scripts/services.sh start"
  GOLDEN_REGISTRY_PASSWORD="$(<"$GOLDEN_PASSWORD_FILE")"
}

# curl against the local registry with basic auth. The credentials go in through a
# config on stdin (-K -) so the password never shows up in `ps`.
registry_curl() {
  load_registry_credentials
  printf 'user = "%s:%s"\n' "$GOLDEN_REGISTRY_USER" "$GOLDEN_REGISTRY_PASSWORD" |
    curl -K - --silent --show-error --max-time 20 "$@"
}

# Every manifest media type `docker push` / buildx can produce; the registry answers
# 404 for a digest whose media type is not acceptable, so list them all.
REGISTRY_ACCEPT=(
  -H 'Accept: application/vnd.docker.distribution.manifest.v2+json'
  -H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json'
  -H 'Accept: application/vnd.oci.image.manifest.v1+json'
  -H 'Accept: application/vnd.oci.image.index.v1+json'
)

# registry_has_manifest REPO_PATH DIGEST -> 0 if the registry serves that manifest.
# REPO_PATH is the path inside the registry, e.g. mirror/library/debian.
registry_has_manifest() {
  local code
  code="$(registry_curl --head -o /dev/null -w '%{http_code}' "${REGISTRY_ACCEPT[@]}" \
    "http://$GOLDEN_REGISTRY/v2/$1/manifests/$2" 2>/dev/null)" || return 1
  [[ "$code" == 200 ]]
}

# HTTP status of GET /v2/ without credentials ("000" if nothing listens).
registry_probe_anonymous() {
  curl --silent --max-time 5 -o /dev/null -w '%{http_code}' "http://$GOLDEN_REGISTRY/v2/" 2>/dev/null || true
}

# pid_alive PID NAME -> 0 if PID is running and its executable is NAME. Guards
# against killing an unrelated process that reused a stale pid.
pid_alive() {
  local pid="$1" name="$2" exe
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  exe="$(readlink "/proc/$pid/exe" 2>/dev/null || true)"
  [[ "$(basename "${exe% (deleted)}")" == "$name" ]]
}

# Elapsed seconds (one decimal) since a `date +%s.%N` timestamp.
elapsed_since() {
  awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'
}
