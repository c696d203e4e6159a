#!/usr/bin/env bash
# Manage the local services the golden-image pipeline needs:
#   * dockerd   - builds the offline bases (bases.sh) and runs images in tests (`docker run --network none`)
#   * registry  - distribution 2.8 on 127.0.0.1:$GOLDEN_REGISTRY_PORT with htpasswd
#                 auth; holds the offline base images (the "mirror") and pushed results
#   * buildkitd - BuildKit v0.25 (scripts/install-buildkit.sh) on a unix socket, OCI worker:
#                 the pipeline's reproducible builds (SOURCE_DATE_EPOCH, rewritten timestamps)
#
# usage: services.sh start|stop|status|env
#
# Ownership rule: a pid file under $GOLDEN_RUN_DIR means "we started it". Services
# found already running without our pid file are reused and never stopped.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DOCKERD_PID_FILE="$GOLDEN_RUN_DIR/dockerd.pid"
DOCKERD_LOG="$GOLDEN_RUN_DIR/dockerd.log"
REGISTRY_PID_FILE="$GOLDEN_RUN_DIR/registry.pid"
REGISTRY_LOG="$GOLDEN_RUN_DIR/registry.log"
REGISTRY_DIR="$GOLDEN_STATE_DIR/registry"
REGISTRY_DATA="$GOLDEN_STATE_DIR/registry-data"
DOCKER_DATA="$GOLDEN_STATE_DIR/docker"
BUILDKITD_PID_FILE="$GOLDEN_RUN_DIR/buildkitd.pid"
BUILDKITD_LOG="$GOLDEN_RUN_DIR/buildkitd.log"
BUILDKITD_CONFIG="$GOLDEN_RUN_DIR/buildkitd.toml"
BUILDKITD_ROOT="$GOLDEN_STATE_DIR/buildkit"
BUILDKITD_TIMEOUT="${GOLDEN_BUILDKITD_TIMEOUT:-60}"
DOCKERD_TIMEOUT="${GOLDEN_DOCKERD_TIMEOUT:-60}"
REGISTRY_TIMEOUT="${GOLDEN_REGISTRY_TIMEOUT:-30}"

docker_up() { "$DOCKER" info >/dev/null 2>&1; }

read_pid() { [[ -s "$1" ]] && tr -dc '0-9' <"$1"; }

# Start a command detached in its own session (so a test runner killing its process
# group or a closed terminal does not take the daemon down) and record its pid.
# The tiny bash wrapper writes its own pid and then execs the daemon, so the pid is
# right whether or not setsid had to fork.
spawn_detached() {
  local pid_file="$1" log_file="$2"
  shift 2
  rm -f "$pid_file"
  # shellcheck disable=SC2016 # $$ and $@ must expand inside the wrapper, not here
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pid_file" "$@" </dev/null >>"$log_file" 2>&1 9>&- &
  local i
  for ((i = 0; i < 50; i++)); do
    [[ -s "$pid_file" ]] && return 0
    sleep 0.1
  done
  die "could not launch $1 (no pid file $pid_file) - see $log_file"
}

# ---------------------------------------------------------------- dockerd

write_dockerd_config() {
  # features.buildkit makes BuildKit the default for API clients too (e.g. the Pulumi
  # docker provider), not only for CLI calls with DOCKER_BUILDKIT=1.
  # log-level warn: at info, containerd/grpc chatter makes the log useless.
  cat >"$GOLDEN_RUN_DIR/dockerd.json" <<'EOF'
{
  "features": { "buildkit": true },
  "log-level": "warn"
}
EOF
}

# dockerd flags, explained:
#   --data-root under the state dir: images/build cache survive and stay per-user-cache
#   --iptables=false --ip-masq=false --ip-forward=false: containers and RUN steps need
#     no outside network, so leave the host's firewall and sysctls untouched. The
#     docker0 bridge itself is kept: BuildKit RUN steps use the "default" (bridge)
#     network and fail with "network bridge not found" under --bridge=none.
#   --pidfile: dockerd's own lock file, kept out of /var/run so it cannot clash.
dockerd_flags() {
  local storage_driver="$1" bridge="$2"
  local -a f=(
    --config-file "$GOLDEN_RUN_DIR/dockerd.json"
    --data-root "$DOCKER_DATA"
    --pidfile "$GOLDEN_RUN_DIR/dockerd.daemon.pid"
    --host "unix://$GOLDEN_DOCKER_SOCKET"
    --iptables=false --ip-masq=false --ip-forward=false
  )
  if [[ "$GOLDEN_DOCKER_SOCKET" != "$GOLDEN_DEFAULT_DOCKER_SOCKET" ]]; then
    # A second daemon must not share /var/run/docker (containerd socket, netns, ...).
    f+=(--exec-root "$GOLDEN_RUN_DIR/docker-exec")
  fi
  [[ -n "$storage_driver" ]] && f+=(--storage-driver "$storage_driver")
  [[ -n "$bridge" ]] && f+=(--bridge "$bridge")
  printf '%s\n' "${f[@]}"
}

start_dockerd() {
  local pid
  if docker_up; then
    pid="$(read_pid "$DOCKERD_PID_FILE" || true)"
    if [[ -n "$pid" ]] && pid_alive "$pid" dockerd; then
      log "dockerd already running (started by golden, pid $pid)"
    else
      rm -f "$DOCKERD_PID_FILE"
      log "reusing dockerd that is already running (not started by golden; will not stop it)"
    fi
    return 0
  fi
  pid="$(read_pid "$DOCKERD_PID_FILE" || true)"
  if [[ -n "$pid" ]] && pid_alive "$pid" dockerd; then
    die "dockerd pid $pid (ours) is running but not answering - run scripts/services.sh stop, then start"
  fi
  rm -f "$DOCKERD_PID_FILE"

  mkdir -p "$DOCKER_DATA"
  write_dockerd_config
  # Storage driver: dockerd auto-selects overlay2 and falls back by itself; if it
  # still dies on the graph driver (e.g. overlay on overlay in a container), retry
  # with vfs (slow but works anywhere). If the bridge cannot be created (no
  # CAP_NET_ADMIN), retry with --bridge=none; RUN steps then need --network=none/host.
  local storage_driver="${GOLDEN_DOCKER_STORAGE_DRIVER:-}" bridge="" attempt
  for attempt in 1 2 3; do
    local -a flags=()
    mapfile -t flags < <(dockerd_flags "$storage_driver" "$bridge")
    log "starting dockerd (attempt $attempt): $DOCKERD ${flags[*]}"
    printf '\n==== %s starting dockerd %s\n' "$(date -Is)" "${flags[*]}" >>"$DOCKERD_LOG"
    spawn_detached "$DOCKERD_PID_FILE" "$DOCKERD_LOG" "$DOCKERD" "${flags[@]}"
    pid="$(read_pid "$DOCKERD_PID_FILE")"
    local i
    for ((i = 0; i < DOCKERD_TIMEOUT; i++)); do
      if docker_up; then
        log "dockerd ready (pid $pid, storage $("$DOCKER" info --format '{{.Driver}}'), socket $GOLDEN_DOCKER_SOCKET)"
        return 0
      fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 1
    done
    if kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$DOCKERD_LOG" >&2 || true
      stop_pid "$DOCKERD_PID_FILE" dockerd
      die "dockerd did not become ready within ${DOCKERD_TIMEOUT}s - see $DOCKERD_LOG (raise GOLDEN_DOCKERD_TIMEOUT if the machine is just slow)"
    fi
    rm -f "$DOCKERD_PID_FILE"
    local tail_text
    tail_text="$(tail -n 30 "$DOCKERD_LOG" || true)"
    if [[ -z "$storage_driver" ]] && grep -qiE 'overlay|graphdriver|storage.driver' <<<"$tail_text"; then
      log "dockerd failed on the storage driver; retrying with vfs"
      storage_driver=vfs
    elif [[ -z "$bridge" ]] && grep -qiE 'bridge|network controller|netlink' <<<"$tail_text"; then
      log "dockerd failed to set up the bridge; retrying with --bridge=none"
      bridge=none
    else
      printf '%s\n' "$tail_text" >&2
      die "dockerd exited during startup - see $DOCKERD_LOG (set GOLDEN_DOCKER_STORAGE_DRIVER=vfs to force a driver)"
    fi
  done
  die "dockerd could not be started with any flag combination - see $DOCKERD_LOG"
}

# ---------------------------------------------------------------- registry

random_password() {
  # 32 random bytes as hex: no shell/YAML/htpasswd special characters to escape.
  od -An -N32 -tx1 /dev/urandom | tr -d ' \n'
}

# Create the password once; later runs (and fresh clones) reuse it.
ensure_credentials() {
  local pw=""
  if [[ -s "$GOLDEN_CREDENTIALS_FILE" ]]; then
    pw="$(sed -n 's/^GOLDEN_REGISTRY_PASSWORD=//p' "$GOLDEN_CREDENTIALS_FILE")"
  fi
  if [[ -z "$pw" ]]; then
    log "generating registry credentials in $GOLDEN_CREDENTIALS_FILE"
    pw="$(random_password)"
  fi
  (
    umask 077
    printf 'GOLDEN_REGISTRY_USER=%s\nGOLDEN_REGISTRY_PASSWORD=%s\n' "$GOLDEN_REGISTRY_USER" "$pw" \
      >"$GOLDEN_CREDENTIALS_FILE.tmp"
    printf '%s' "$pw" >"$GOLDEN_PASSWORD_FILE.tmp"
  )
  mv -f "$GOLDEN_CREDENTIALS_FILE.tmp" "$GOLDEN_CREDENTIALS_FILE"
  mv -f "$GOLDEN_PASSWORD_FILE.tmp" "$GOLDEN_PASSWORD_FILE"
  chmod 600 "$GOLDEN_CREDENTIALS_FILE" "$GOLDEN_PASSWORD_FILE"

  mkdir -p "$REGISTRY_DIR"
  # Regenerate the bcrypt htpasswd only when it no longer matches the password.
  if [[ ! -s "$REGISTRY_DIR/htpasswd" ]] ||
    ! htpasswd -vi "$REGISTRY_DIR/htpasswd" "$GOLDEN_REGISTRY_USER" <<<"$pw" >/dev/null 2>&1; then
    (umask 077 && htpasswd -iBc "$REGISTRY_DIR/htpasswd" "$GOLDEN_REGISTRY_USER" <<<"$pw" 2>/dev/null)
  fi
}

write_registry_config() {
  local secret
  # http.secret signs upload state; a per-start value is fine for a single instance
  # and avoids the "No HTTP secret provided" warning.
  secret="$(random_password)"
  (
    umask 077
    cat >"$REGISTRY_DIR/config.yml" <<EOF
version: 0.1
log:
  level: info
  fields:
    service: golden-registry
storage:
  filesystem:
    rootdirectory: $REGISTRY_DATA
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: $GOLDEN_REGISTRY
  secret: $secret
  headers:
    X-Content-Type-Options: [nosniff]
auth:
  htpasswd:
    realm: golden-registry
    path: $REGISTRY_DIR/htpasswd
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
EOF
  )
}

registry_auth_ok() {
  [[ "$(registry_curl -o /dev/null -w '%{http_code}' "http://$GOLDEN_REGISTRY/v2/" 2>/dev/null || true)" == 200 ]]
}

start_registry() {
  local pid code
  pid="$(read_pid "$REGISTRY_PID_FILE" || true)"
  if [[ -n "$pid" ]] && ! pid_alive "$pid" docker-registry; then
    rm -f "$REGISTRY_PID_FILE"
    pid=""
  fi
  code="$(registry_probe_anonymous)"
  case "$code" in
    401)
      # Only our own registry gets the credentials: anything else on the port could collect them.
      [[ -n "$pid" ]] ||
        die "something already listens on $GOLDEN_REGISTRY (HTTP 401 on /v2/) that this script did not start - it is not sent our credentials; stop it, or set GOLDEN_REGISTRY_PORT to a free port"
      registry_auth_ok ||
        die "our registry (pid $pid) on $GOLDEN_REGISTRY rejects user $GOLDEN_REGISTRY_USER - run scripts/services.sh stop, then start"
      log "registry already running (started by golden, pid $pid)"
      return 0
      ;;
    200)
      die "a registry on $GOLDEN_REGISTRY answers without authentication (HTTP 200 on /v2/) - refusing to push golden images there; stop it, or set GOLDEN_REGISTRY_PORT to a free port"
      ;;
    000) ;;
    *) die "port $GOLDEN_REGISTRY_PORT answers HTTP $code on /v2/, so it is not a registry - free the port or set GOLDEN_REGISTRY_PORT" ;;
  esac
  [[ -z "$pid" ]] || die "registry pid $pid (ours) is running but not answering on $GOLDEN_REGISTRY - run scripts/services.sh stop, then start"

  mkdir -p "$REGISTRY_DATA"
  write_registry_config
  printf '\n==== %s starting registry\n' "$(date -Is)" >>"$REGISTRY_LOG"
  spawn_detached "$REGISTRY_PID_FILE" "$REGISTRY_LOG" "$REGISTRY_BIN" serve "$REGISTRY_DIR/config.yml"
  await_daemon docker-registry "$REGISTRY_PID_FILE" "$REGISTRY_LOG" "$REGISTRY_TIMEOUT" registry_answers_401 \
    "(is port $GOLDEN_REGISTRY_PORT taken? set GOLDEN_REGISTRY_PORT)"
  registry_auth_ok || die "registry on $GOLDEN_REGISTRY rejects our credentials - delete $REGISTRY_DIR/htpasswd and rerun start"
  log "registry ready on http://$GOLDEN_REGISTRY (pid $(read_pid "$REGISTRY_PID_FILE"), data $REGISTRY_DATA)"
}

registry_answers_401() { [[ "$(registry_probe_anonymous)" == 401 ]]; }

# await_daemon NAME PID_FILE LOG TIMEOUT READY_FN HINT: waits until READY_FN succeeds; if the
# daemon exits or the time runs out, shows its log tail, stops it and dies with the hint.
await_daemon() {
  local name="$1" pid_file="$2" log_file="$3" timeout="$4" ready="$5" hint="$6" pid i
  pid="$(read_pid "$pid_file")"
  for ((i = 0; i < timeout * 5; i++)); do
    "$ready" && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$log_file" >&2 || true
      rm -f "$pid_file"
      die "$name exited during startup - see $log_file $hint"
    fi
    sleep 0.2
  done
  tail -n 20 "$log_file" >&2 || true
  stop_pid "$pid_file" "$name"
  die "$name did not answer within ${timeout}s - see $log_file $hint"
}

# ---------------------------------------------------------------- buildkitd

buildctl_bin() { printf '%s/buildctl' "$(bash "$GOLDEN_SCRIPTS_DIR/install-buildkit.sh")"; }

buildkit_up() { "$(buildctl_bin)" --addr "unix://$GOLDEN_BUILDKIT_SOCKET" debug workers >/dev/null 2>&1; }

write_buildkitd_config() {
  # Plain HTTP only to our loopback registry; the OCI worker runs builds with Debian's runc.
  cat >"$BUILDKITD_CONFIG" <<EOF
[worker.oci]
  enabled = true
[worker.containerd]
  enabled = false
[registry."$GOLDEN_REGISTRY"]
  http = true
EOF
}

start_buildkitd() {
  local pid bin
  bin="$(bash "$GOLDEN_SCRIPTS_DIR/install-buildkit.sh")" || die "BuildKit is not installed - run scripts/install-buildkit.sh"
  pid="$(read_pid "$BUILDKITD_PID_FILE" || true)"
  if [[ -n "$pid" ]] && pid_alive "$pid" buildkitd; then
    buildkit_up || die "buildkitd pid $pid (ours) is running but not answering on $GOLDEN_BUILDKIT_SOCKET - run scripts/services.sh stop, then start"
    log "buildkitd already running (started by golden, pid $pid)"
    return 0
  fi
  rm -f "$BUILDKITD_PID_FILE"
  if [[ -S "$GOLDEN_BUILDKIT_SOCKET" ]] && buildkit_up; then
    die "something already serves BuildKit on $GOLDEN_BUILDKIT_SOCKET that this script did not start - stop it, or set GOLDEN_STATE_DIR"
  fi
  command -v runc >/dev/null 2>&1 || die "runc is missing (buildkitd's OCI worker needs it) - run scripts/install-tools.sh"
  rm -f "$GOLDEN_BUILDKIT_SOCKET"
  mkdir -p "$BUILDKITD_ROOT"
  write_buildkitd_config
  printf '\n==== %s starting buildkitd\n' "$(date -Is)" >>"$BUILDKITD_LOG"
  spawn_detached "$BUILDKITD_PID_FILE" "$BUILDKITD_LOG" "$bin/buildkitd" \
    --config "$BUILDKITD_CONFIG" --root "$BUILDKITD_ROOT" --addr "unix://$GOLDEN_BUILDKIT_SOCKET" \
    --oci-worker=true --containerd-worker=false
  await_daemon buildkitd "$BUILDKITD_PID_FILE" "$BUILDKITD_LOG" "$BUILDKITD_TIMEOUT" buildkit_up \
    "(raise GOLDEN_BUILDKITD_TIMEOUT if the machine is just slow)"
  log "buildkitd ready (pid $(read_pid "$BUILDKITD_PID_FILE"), socket $GOLDEN_BUILDKIT_SOCKET, root $BUILDKITD_ROOT)"
}

docker_login() {
  # --password-stdin keeps the password out of argv; the credentials land in
  # ~/.docker/config.json where BuildKit and `docker push` find them.
  "$DOCKER" login --username "$GOLDEN_REGISTRY_USER" --password-stdin "$GOLDEN_REGISTRY" \
    <"$GOLDEN_PASSWORD_FILE" >/dev/null 2>"$GOLDEN_RUN_DIR/docker-login.err" ||
    die "docker login $GOLDEN_REGISTRY failed ($(tr '\n' ' ' <"$GOLDEN_RUN_DIR/docker-login.err")) - check scripts/services.sh status"
  rm -f "$GOLDEN_RUN_DIR/docker-login.err"
  log "docker logged in to $GOLDEN_REGISTRY as $GOLDEN_REGISTRY_USER"
}

# ---------------------------------------------------------------- stop/status

# Stop a process we started: SIGTERM, wait (dockerd stops its containers first),
# SIGKILL only as a last resort. Never touches a pid that is not the expected binary.
stop_pid() {
  local pid_file="$1" name="$2" pid i
  pid="$(read_pid "$pid_file" || true)"
  if [[ -z "$pid" ]]; then
    log "$name: not started by golden (no pid file) - leaving it alone"
    return 0
  fi
  if ! pid_alive "$pid" "$name"; then
    log "$name: pid $pid from $pid_file is not running - removing stale pid file"
    rm -f "$pid_file"
    return 0
  fi
  log "stopping $name (pid $pid)"
  kill -TERM "$pid"
  for ((i = 0; i < 300; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name (pid $pid) ignored SIGTERM for 30s - sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
  rm -f "$pid_file"
  log "$name stopped"
}

status() {
  local pid rc=0 code
  pid="$(read_pid "$DOCKERD_PID_FILE" || true)"
  if docker_up; then
    if [[ -n "$pid" ]] && pid_alive "$pid" dockerd; then
      echo "dockerd:  running, started by golden (pid $pid, socket $GOLDEN_DOCKER_SOCKET, storage $("$DOCKER" info --format '{{.Driver}}'), log $DOCKERD_LOG)"
    else
      echo "dockerd:  running, external (not started by golden; never stopped by it)"
    fi
  else
    echo "dockerd:  not running"
    rc=1
  fi
  pid="$(read_pid "$REGISTRY_PID_FILE" || true)"
  code="$(registry_probe_anonymous)"
  if [[ "$code" != 000 ]]; then
    if [[ -n "$pid" ]] && pid_alive "$pid" docker-registry; then
      echo "registry: running, started by golden (pid $pid, http://$GOLDEN_REGISTRY, data $REGISTRY_DATA, log $REGISTRY_LOG)"
    else
      echo "registry: something answers HTTP $code on http://$GOLDEN_REGISTRY/v2/, external (not started by golden)"
    fi
  else
    echo "registry: not running on $GOLDEN_REGISTRY"
    rc=1
  fi
  pid="$(read_pid "$BUILDKITD_PID_FILE" || true)"
  if [[ -n "$pid" ]] && pid_alive "$pid" buildkitd && buildkit_up; then
    echo "buildkitd: running, started by golden (pid $pid, unix://$GOLDEN_BUILDKIT_SOCKET, log $BUILDKITD_LOG)"
  else
    echo "buildkitd: not running"
    rc=1
  fi
  echo "state:    $GOLDEN_STATE_DIR"
  return "$rc"
}

print_env() {
  [[ -s "$GOLDEN_PASSWORD_FILE" ]] || die "no registry credentials yet - run scripts/services.sh start first"
  printf 'export GOLDEN_STATE_DIR=%q\n' "$GOLDEN_STATE_DIR"
  printf 'export GOLDEN_REGISTRY=%q\n' "$GOLDEN_REGISTRY"
  printf 'export GOLDEN_MIRROR=%q\n' "$GOLDEN_MIRROR"
  printf 'export GOLDEN_REGISTRY_USER=%q\n' "$GOLDEN_REGISTRY_USER"
  printf 'export GOLDEN_REGISTRY_PASSWORD_FILE=%q\n' "$GOLDEN_PASSWORD_FILE"
  printf 'export GOLDEN_BASES_JSON=%q\n' "$GOLDEN_BASES_JSON"
  printf 'export BUILDKIT_HOST=%q\n' "unix://$GOLDEN_BUILDKIT_SOCKET"
  printf 'export GOLDEN_BUILDCTL=%q\n' "$(buildctl_bin)"
  if [[ -n "${DOCKER_HOST:-}" ]]; then
    printf 'export DOCKER_HOST=%q\n' "$DOCKER_HOST"
  fi
}

main() {
  local cmd="${1:-}"
  case "$cmd" in
    start)
      require_root
      golden_lock
      start_dockerd
      ensure_credentials
      start_registry
      docker_login
      start_buildkitd
      ;;
    stop)
      require_root
      golden_lock
      # BuildKit and the registry first: nothing depends on them while dockerd shuts down.
      stop_pid "$BUILDKITD_PID_FILE" buildkitd
      stop_pid "$REGISTRY_PID_FILE" docker-registry
      stop_pid "$DOCKERD_PID_FILE" dockerd
      ;;
    status) status ;;
    env) print_env ;;
    *) die "usage: $0 start|stop|status|env (got '${cmd}')" ;;
  esac
}

main "$@"
