#!/usr/bin/env bash
# Build the offline base images from Debian packages and push them to the local
# registry under $GOLDEN_REGISTRY/mirror, at the repository paths a pull-through
# cache of the public images would use:
#
#   mirror/library/debian:bookworm-slim         debian-slim-like (mmdebstrap minbase)
#   mirror/library/gcc:12-bookworm              builder: minbase + gcc/libc6-dev/make/binutils
#   mirror/distroless/static-debian12:nonroot   no shell, no package manager, uid 65532
#   mirror/distroless/cc-debian12:nonroot       static + libc6/libgcc-s1/libstdc++6/libssl3
#
# No public registry is reachable, so these stand in for the real images; the
# pipeline only ever refers to them by digest (see $GOLDEN_STATE_DIR/bases.json).
#
# Caching: the recipe hash covers this script, the package lists, the apt sources
# and the candidate version of every package that can end up in an image. If
# bases.json carries the same hash and every digest is still in the registry,
# nothing is done. Root filesystem tarballs are cached per hash under
# $GOLDEN_STATE_DIR/bases-cache/<hash>/, so a wiped registry is refilled without
# re-running mmdebstrap.
#
# Needs: root, services.sh start (dockerd + registry + docker login).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SUITE=bookworm
GCC_PACKAGES=(gcc libc6-dev make binutils)
STATIC_PACKAGES=(base-files netbase tzdata ca-certificates)
# libssl3 costs ~5 MiB uncompressed but the real cc-debian12 ships it, and TLS
# clients are the most common reason to pick cc over static.
CC_PACKAGES=(libc6 libgcc-s1 libstdc++6 libssl3)
NAMES=(debian-slim gcc distroless-static distroless-cc)
declare -A REPOSITORY=(
  [debian-slim]=library/debian
  [gcc]=library/gcc
  [distroless-static]=distroless/static-debian12
  [distroless-cc]=distroless/cc-debian12
)
declare -A TAG=(
  [debian-slim]=bookworm-slim
  [gcc]=12-bookworm
  [distroless-static]=nonroot
  [distroless-cc]=nonroot
)
STD_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
SCRIPT_PATH="$GOLDEN_SCRIPTS_DIR/bases.sh"
CACHE_ROOT="$GOLDEN_STATE_DIR/bases-cache"

# ---------------------------------------------------------------- recipe

# deb lines for the host's configured Debian $SUITE sources (bookworm, -updates,
# -security). Derived from apt itself so no mirror hostname is hard-coded and the
# images use exactly what the host's apt uses.
apt_source_lines() {
  # shellcheck disable=SC2016 # $(...) are apt's format fields, not shell
  apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' 'Identifier: Packages' |
    awk -v s="$SUITE" '$2 == s || index($2, s "-") == 1 { print "deb " $1 " " $2 " " $3 }' |
    LC_ALL=C sort -u
}

# "name=version" for every package that can land in an image: the Priority:required
# set + apt (what minbase installs), the explicit lists, and their dependency
# closure. Uses the host's apt lists; run `apt-get update` to pick up new versions.
resolved_versions() {
  local -a roots closure
  mapfile -t roots < <(apt-cache dumpavail | awk '/^Package:/ { p = $2 } /^Priority: required$/ { print p }')
  roots+=(apt "${GCC_PACKAGES[@]}")
  ((${#roots[@]} > 5)) || die "apt knows no Priority:required packages - run apt-get update and retry"
  mapfile -t closure < <(
    apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
      --no-replaces --no-enhances "${roots[@]}" | grep -v '^[ <]' | LC_ALL=C sort -u
  )
  closure+=("${STATIC_PACKAGES[@]}" "${CC_PACKAGES[@]}")
  apt-cache show --no-all-versions "${closure[@]}" 2>/dev/null |
    awk '/^Package:/ { p = $2 } /^Version:/ { print p "=" $2 }' | LC_ALL=C sort -u
}

# Resolving versions costs several seconds (apt-cache over ~60k packages). The
# answer only changes when this script or the apt lists change, so memoize it
# under a key made of the script hash and the lists' names/sizes/mtimes.
compute_recipe() {
  local memo="$CACHE_ROOT/recipe-memo" key recipe
  key="$(
    {
      sha256sum <"$SCRIPT_PATH"
      apt_source_lines
      find /var/lib/apt/lists -maxdepth 1 -type f -printf '%f %s %T@\n' | LC_ALL=C sort
    } | sha256sum | cut -d' ' -f1
  )"
  if [[ -s "$memo" ]] && [[ "$(cut -d' ' -f1 "$memo")" == "$key" ]]; then
    cut -d' ' -f2 "$memo"
    return 0
  fi
  recipe="$(compute_recipe_uncached)"
  mkdir -p "$CACHE_ROOT"
  echo "$key $recipe" >"$memo.tmp" && mv -f "$memo.tmp" "$memo"
  echo "$recipe"
}

compute_recipe_uncached() {
  local versions
  versions="$(resolved_versions)"
  [[ -n "$versions" ]] || die "apt-cache returned no package versions - run apt-get update and retry"
  {
    echo "script $(sha256sum <"$SCRIPT_PATH" | cut -d' ' -f1)"
    echo "arch $(dpkg --print-architecture)"
    echo "suite $SUITE"
    echo "gcc ${GCC_PACKAGES[*]}"
    echo "static ${STATIC_PACKAGES[*]}"
    echo "cc ${CC_PACKAGES[*]}"
    apt_source_lines
    printf '%s\n' "$versions"
  } | sha256sum | cut -d' ' -f1
}

# ---------------------------------------------------------------- rootfs builders

# Same dpkg/apt trimming as the official -slim images (debuerreotype "slimify"):
# no docs except copyright, no man/info/locales; kept in the image so later
# `apt-get install` layers stay slim too.
SLIM_DPKG_OPTS=(
  'path-exclude=/usr/share/doc/*'
  'path-include=/usr/share/doc/*/copyright'
  'path-exclude=/usr/share/man/*'
  'path-exclude=/usr/share/groff/*'
  'path-exclude=/usr/share/info/*'
  'path-exclude=/usr/share/lintian/*'
  'path-exclude=/usr/share/linda/*'
  'path-exclude=/usr/share/locale/*'
  'path-include=/usr/share/locale/locale.alias'
)
SLIM_APT_OPTS=(
  'Acquire::Languages "none"'
  'Acquire::GzipIndexes "true"'
  'APT::AutoRemove::SuggestsImportant "false"'
)

# Pack a root directory into a reproducible tarball (numeric ids, sorted, fixed
# mtimes) - identical input gives an identical layer. /dev content is dropped:
# the runtime provides /dev.
pack_rootfs() {
  local root="$1" out="$2"
  tar -C "$root" --numeric-owner --sort=name --mtime=@0 --exclude='./dev/*' \
    --exclude='./proc/*' --exclude='./sys/*' -cf "$out.tmp" .
  mv -f "$out.tmp" "$out"
}

# mmdebstrap_rootfs OUT_TAR [--include=...]...: minbase + slim trimming.
mmdebstrap_rootfs() {
  local out="$1"
  shift
  local work="$out.d" sources
  rm -rf "$work"
  sources="$(dirname "$out")/sources.list"
  # merged-usr hook: set up the /usr merge directly and install usr-is-merged, as
  # the official images do. Without it apt pulls in usrmerge, which drags perl
  # (~25 MiB) into the "slim" image.
  local -a opts=(--variant=minbase --mode=root --format=directory --quiet
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr)
  local o
  for o in "${SLIM_DPKG_OPTS[@]}"; do opts+=(--dpkgopt="$o"); done
  for o in "${SLIM_APT_OPTS[@]}"; do opts+=(--aptopt="$o"); done
  # mmdebstrap copies the host's resolv.conf/hostname in; docker supplies both at
  # run time, and leaving them would leak host details and break reproducibility.
  # shellcheck disable=SC2016 # "$1" is expanded by mmdebstrap (the chroot path)
  opts+=(
    --customize-hook='rm -f "$1/etc/resolv.conf" "$1/etc/hostname"'
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/cache/debconf/*-old "$1"/var/lib/dpkg/*-old'
  )
  mmdebstrap "${opts[@]}" "$@" "$SUITE" "$work" "$sources" >"$out.log" 2>&1 ||
    die "mmdebstrap for $(basename "$out") failed: $(tail -n 3 "$out.log" | tr '\n' ' ') - see $out.log"
  pack_rootfs "$work" "$out"
  rm -rf "$work" "$out.log"
}

# Download .debs (no dependencies, no maintainer scripts) with the host's apt.
download_debs() {
  local dir="$1"
  shift
  mkdir -p "$dir"
  # Let apt's _apt sandbox user write there, otherwise apt warns and runs unsandboxed.
  if id _apt >/dev/null 2>&1; then chown _apt "$dir"; fi
  (cd "$dir" && apt-get download -q "$@" >"$dir/download.log" 2>&1) ||
    die "apt-get download $* failed: $(tail -n 2 "$dir/download.log" | tr '\n' ' ') - run apt-get update and retry"
}

# Record installed packages the way distroless does (/var/lib/dpkg/status.d/<pkg>)
# so image scanners can still inventory the image without a dpkg database.
write_status_d() {
  local root="$1" deb pkg
  shift
  mkdir -p "$root/var/lib/dpkg/status.d"
  for deb in "$@"; do
    pkg="$(dpkg-deb -f "$deb" Package)"
    {
      dpkg-deb -f "$deb" Package
      echo "Status: install ok installed"
      dpkg-deb -f "$deb" Priority Section Installed-Size Maintainer Architecture Multi-Arch Source Version Depends Description Homepage
    } | sed -n '1s/^/Package: /;p' >"$root/var/lib/dpkg/status.d/$pkg"
  done
}

# Fail if anything that looks like a shell or a package manager is in the tree.
assert_no_shell() {
  local root="$1" hits
  hits="$(find "$root" \( -type f -o -type l \) \( -name sh -o -name bash -o -name dash -o -name ash \
    -o -name zsh -o -name busybox -o -name 'apt' -o -name 'apt-get' -o -name dpkg -o -name 'dpkg-*' \
    -o -name perl -o -name python3 \) -print)"
  [[ -z "$hits" ]] || die "distroless rootfs $root contains a shell/package manager: $hits - fix the trimming in bases.sh"
}

# distroless_rootfs OUT_TAR PKG... : extract the debs (dpkg-deb -x, no maintainer
# scripts), then do by hand the little that their postinst scripts would do.
distroless_rootfs() {
  local out="$1"
  shift
  local work="$out.d" root="$out.d/rootfs" deb
  rm -rf "$work"
  mkdir -p "$root"
  download_debs "$work/debs" "$@"
  for deb in "$work"/debs/*.deb; do dpkg-deb -x "$deb" "$root"; done

  # No shell and no package manager: drop every bin/sbin dir (libc6/ca-certificates
  # only put helper tools there) and dpkg's config dir.
  rm -rf "${root:?}"/bin "${root:?}"/sbin "${root:?}"/usr/bin "${root:?}"/usr/sbin "${root:?}"/usr/games \
    "${root:?}"/usr/local/bin "${root:?}"/usr/local/sbin "${root:?}"/usr/libexec "${root:?}"/etc/dpkg \
    "${root:?}"/etc/update-motd.d "${root:?}"/etc/profile.d "${root:?}"/etc/skel "${root:?}"/etc/ca-certificates
  # Same trimming as slim, plus things only debuggers or a shell would use.
  find "$root/usr/share/doc" -mindepth 2 ! -name copyright -delete 2>/dev/null || true
  rm -rf "$root"/usr/share/{man,info,lintian,locale,gdb,gcc,bug,menu} \
    "$root"/usr/share/zoneinfo/right "$root"/usr/share/common-licenses/GPL-1 \
    "$root"/usr/lib/x86_64-linux-gnu/gconv
  # The zone database's source text and tables only zic and tzselect read (about 170 KiB):
  # programs read the compiled zone files, which stay. Keeps the static base under 1 MiB.
  rm -f "$root"/usr/share/zoneinfo/{tzdata.zi,zone.tab,zone1970.tab,iso3166.tab,leap-seconds.list,leapseconds}
  # base-files' postinst turns these into symlinks; without it they are plain dirs.
  rm -rf "$root/var/run" "$root/var/lock"
  ln -s /run "$root/var/run"
  ln -s /run/lock "$root/var/lock"

  # What update-ca-certificates would produce: all Mozilla roots concatenated.
  mkdir -p "$root/etc/ssl/certs"
  find "$root/usr/share/ca-certificates" -name '*.crt' -print0 | LC_ALL=C sort -z |
    xargs -0 -r awk 1 >"$root/etc/ssl/certs/ca-certificates.crt"
  [[ -s "$root/etc/ssl/certs/ca-certificates.crt" ]] || die "no CA certificates extracted - check the ca-certificates download"
  rm -rf "$root/usr/share/ca-certificates"
  # tzdata's postinst would write these; UTC is what distroless uses.
  ln -sf /usr/share/zoneinfo/Etc/UTC "$root/etc/localtime"
  echo "Etc/UTC" >"$root/etc/timezone"

  cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
EOF
  cat >"$root/etc/group" <<'EOF'
root:x:0:
nobody:x:65534:
nonroot:x:65532:
EOF
  cat >"$root/etc/nsswitch.conf" <<'EOF'
passwd:         files
group:          files
shadow:         files
hosts:          files dns
networks:       files
protocols:      files
services:       files
ethers:         files
rpc:            files
EOF
  chmod 644 "$root/etc/passwd" "$root/etc/group" "$root/etc/nsswitch.conf"
  mkdir -p "$root/tmp" "$root/root" "$root/home/nonroot" "$root/run/lock" "$root/var/tmp"
  chmod 1777 "$root/tmp" "$root/var/tmp"
  chmod 700 "$root/root" "$root/home/nonroot"
  chown 65532:65532 "$root/home/nonroot"

  # Dynamic loader cache for the cc image (a no-op for static, which has no libs).
  if [[ -d "$root/etc/ld.so.conf.d" ]]; then
    echo 'include /etc/ld.so.conf.d/*.conf' >"$root/etc/ld.so.conf"
    ldconfig -r "$root"
    rm -rf "$root/var/cache/ldconfig"
  fi

  write_status_d "$root" "$work"/debs/*.deb
  assert_no_shell "$root"
  pack_rootfs "$root" "$out"
  rm -rf "$work"
}

# build_rootfs NAME OUT_TAR
build_rootfs() {
  case "$1" in
    debian-slim) mmdebstrap_rootfs "$2" ;;
    # Recommends stay off (mmdebstrap's default) so the builder is small.
    gcc) mmdebstrap_rootfs "$2" --include="$(
      IFS=,
      echo "${GCC_PACKAGES[*]}"
    )" ;;
    distroless-static) distroless_rootfs "$2" "${STATIC_PACKAGES[@]}" ;;
    distroless-cc) distroless_rootfs "$2" "${STATIC_PACKAGES[@]}" "${CC_PACKAGES[@]}" ;;
    *) die "unknown base $1" ;;
  esac
}

# ---------------------------------------------------------------- image + push

# import_and_push NAME TAR RECIPE -> prints the pushed manifest digest
import_and_push() {
  local name="$1" tar="$2" recipe="$3" image push_out digest
  image="$GOLDEN_MIRROR/${REPOSITORY[$name]}:${TAG[$name]}"
  local -a changes=(
    --change "ENV PATH=$STD_PATH"
    --change "LABEL io.pulumi.golden-image.base=$name io.pulumi.golden-image.recipe=$recipe"
  )
  case "$name" in
    debian-slim | gcc) changes+=(--change 'CMD ["bash"]') ;;
    distroless-*)
      changes+=(
        --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt'
        --change 'USER 65532:65532'
        --change 'WORKDIR /home/nonroot'
      )
      ;;
  esac
  "$DOCKER" import "${changes[@]}" "$tar" "$image" >/dev/null ||
    die "docker import of $tar failed - check scripts/services.sh status"
  push_out="$("$DOCKER" push "$image" 2>&1)" ||
    die "docker push $image failed: $(tail -n 2 <<<"$push_out" | tr '\n' ' ') - run scripts/services.sh start (it logs docker in); if it names a missing layerdb/overlay2 file, dockerd's data-root was changed under it: scripts/services.sh stop, then start"
  # The digest is the registry's own answer (Docker-Content-Digest), never scraped from push output.
  digest="$(registry_curl --head -o /dev/null -w '%header{docker-content-digest}' "${REGISTRY_ACCEPT[@]}" \
    "http://$GOLDEN_REGISTRY/v2/mirror/${REPOSITORY[$name]}/manifests/${TAG[$name]}" 2>/dev/null || true)"
  [[ "$digest" =~ ^sha256:[0-9a-f]{64}$ ]] ||
    die "registry does not serve $image right after the push (digest '${digest}') - see $GOLDEN_RUN_DIR/registry.log"
  echo "$digest"
}

# Prove the images do what the pipeline relies on before publishing bases.json.
smoke_test() {
  local json="$1" slim gcc static cc dir
  slim="$(jq -r '.bases["debian-slim"].ref' "$json")"
  gcc="$(jq -r '.bases.gcc.ref' "$json")"
  static="$(jq -r '.bases["distroless-static"].ref' "$json")"
  cc="$(jq -r '.bases["distroless-cc"].ref' "$json")"
  # Fixed scratch dir (wiped before and after) instead of mktemp + trap: die() exits
  # from anywhere and a stale dir is harmless.
  dir="$GOLDEN_RUN_DIR/smoke"
  rm -rf "$dir"
  mkdir -p "$dir"
  cat >"$dir/hello.c" <<'EOF'
#include <stdio.h>
#include <unistd.h>
int main(void) { printf("hello uid=%d\n", (int)getuid()); return 0; }
EOF
  "$DOCKER" run --rm --network none "$slim" sh -c 'command -v apt-get >/dev/null' ||
    die "smoke test: $slim has no sh/apt-get - fix the debian-slim recipe"
  "$DOCKER" run --rm --network none -v "$dir:/src" "$gcc" \
    sh -c 'gcc -static -O2 -o /src/hello-static /src/hello.c && gcc -O2 -o /src/hello-dynamic /src/hello.c' ||
    die "smoke test: compiling in $gcc failed - fix the gcc recipe"
  chmod 755 "$dir"/hello-*
  local out
  out="$("$DOCKER" run --rm --network none -v "$dir/hello-static:/hello:ro" --entrypoint /hello "$static")" ||
    die "smoke test: static binary does not run in $static"
  [[ "$out" == "hello uid=65532" ]] || die "smoke test: $static ran as '$out', expected uid 65532"
  out="$("$DOCKER" run --rm --network none -v "$dir/hello-dynamic:/hello:ro" --entrypoint /hello "$cc")" ||
    die "smoke test: dynamic binary does not run in $cc - missing runtime libs?"
  [[ "$out" == "hello uid=65532" ]] || die "smoke test: $cc ran as '$out', expected uid 65532"
  local img
  for img in "$static" "$cc"; do
    if "$DOCKER" run --rm --network none --entrypoint /bin/sh "$img" -c true >/dev/null 2>&1; then
      die "smoke test: $img has a working /bin/sh - fix the distroless trimming"
    fi
  done
  rm -rf "$dir"
  log "smoke tests passed (slim has apt, gcc compiles, static+cc run as 65532, no shell)"
}

# ---------------------------------------------------------------- report

bases_up_to_date() {
  local recipe="$1" name repo digest
  [[ -s "$GOLDEN_BASES_JSON" ]] || return 1
  [[ "$(jq -r '.recipe // ""' "$GOLDEN_BASES_JSON" 2>/dev/null)" == "$recipe" ]] || return 1
  [[ "$(jq -r '.registry // ""' "$GOLDEN_BASES_JSON")" == "$GOLDEN_REGISTRY" ]] || return 1
  for name in "${NAMES[@]}"; do
    digest="$(jq -r --arg n "$name" '.bases[$n].digest // ""' "$GOLDEN_BASES_JSON")"
    repo="mirror/${REPOSITORY[$name]}"
    if [[ -z "$digest" ]] || ! registry_has_manifest "$repo" "$digest"; then
      log "$name ($repo@${digest:-none}) missing from the registry"
      return 1
    fi
  done
}

human_size() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }

print_table() {
  local name ref repo digest compressed local_size
  printf '%-18s %-12s %-13s %s\n' NAME COMPRESSED UNCOMPRESSED REF >&2
  for name in "${NAMES[@]}"; do
    ref="$(jq -r --arg n "$name" '.bases[$n].ref' "$GOLDEN_BASES_JSON")"
    digest="$(jq -r --arg n "$name" '.bases[$n].digest' "$GOLDEN_BASES_JSON")"
    repo="mirror/${REPOSITORY[$name]}"
    # Compressed = what a pull transfers (config + layers from the manifest).
    compressed="$(registry_curl "${REGISTRY_ACCEPT[@]}" "http://$GOLDEN_REGISTRY/v2/$repo/manifests/$digest" |
      jq '[.config.size, (.layers[].size)] | add' 2>/dev/null || echo 0)"
    local_size="$("$DOCKER" image inspect --format '{{.Size}}' "$ref" 2>/dev/null || echo 0)"
    printf '%-18s %-12s %-13s %s\n' "$name" "$(human_size "$compressed")" \
      "$( ((local_size > 0)) && human_size "$local_size" || echo '-')" "$ref" >&2
  done
}

main() {
  require_root
  golden_lock
  local start recipe
  start="$(date +%s.%N)"
  "$DOCKER" info >/dev/null 2>&1 || die "dockerd is not reachable - run scripts/services.sh start"
  [[ "$(registry_probe_anonymous)" != 000 ]] || die "no registry on $GOLDEN_REGISTRY - run scripts/services.sh start"
  command -v mmdebstrap >/dev/null || die "mmdebstrap missing - run scripts/install-tools.sh"

  recipe="$(compute_recipe)"
  if bases_up_to_date "$recipe"; then
    log "bases up to date (recipe ${recipe:0:12}, checked in $(elapsed_since "$start")s)"
    print_table
    return 0
  fi
  log "building bases for recipe ${recipe:0:12}"

  local cache="$CACHE_ROOT/$recipe" name
  mkdir -p "$cache"
  apt_source_lines >"$cache/sources.list"
  [[ -s "$cache/sources.list" ]] || die "apt has no $SUITE sources configured - fix /etc/apt/sources.list.d and run apt-get update"
  # Older recipes' tarballs are dead weight (hundreds of MiB); keep only this one.
  find "$CACHE_ROOT" -mindepth 1 -maxdepth 1 -type d ! -name "$recipe" -exec rm -rf {} +

  # The two mmdebstrap runs are network/CPU bound and independent: run them in
  # parallel; the distroless trees are quick and built meanwhile.
  local -A pids=()
  for name in "${NAMES[@]}"; do
    if [[ -s "$cache/$name.tar" ]]; then
      log "$name: rootfs cached ($cache/$name.tar)"
      continue
    fi
    log "$name: building rootfs"
    (
      s="$(date +%s.%N)"
      build_rootfs "$name" "$cache/$name.tar"
      log "$name: rootfs built in $(elapsed_since "$s")s ($(du -h "$cache/$name.tar" | cut -f1))"
    ) &
    pids[$name]=$!
  done
  local failed=0
  for name in "${!pids[@]}"; do
    wait "${pids[$name]}" || failed=1
  done
  ((failed == 0)) || die "building a base rootfs failed (see messages above) - fix and rerun scripts/bases.sh"

  local -A digests=()
  for name in "${NAMES[@]}"; do
    digests[$name]="$(import_and_push "$name" "$cache/$name.tar" "$recipe")"
    log "$name: pushed $GOLDEN_MIRROR/${REPOSITORY[$name]}:${TAG[$name]}@${digests[$name]}"
  done

  local bases='{}' repo
  for name in "${NAMES[@]}"; do
    repo="$GOLDEN_MIRROR/${REPOSITORY[$name]}"
    bases="$(jq --arg n "$name" --arg repo "$repo" --arg tag "${TAG[$name]}" --arg d "${digests[$name]}" \
      '.[$n] = {repository: $repo, tag: $tag, digest: $d, ref: "\($repo):\($tag)@\($d)"}' <<<"$bases")"
  done
  jq -S -n --arg recipe "$recipe" --arg reg "$GOLDEN_REGISTRY" --arg mirror "$GOLDEN_MIRROR" \
    --argjson bases "$bases" '{recipe: $recipe, registry: $reg, mirror: $mirror, bases: $bases}' \
    >"$GOLDEN_BASES_JSON.tmp"
  smoke_test "$GOLDEN_BASES_JSON.tmp"
  mv -f "$GOLDEN_BASES_JSON.tmp" "$GOLDEN_BASES_JSON"
  log "wrote $GOLDEN_BASES_JSON in $(elapsed_since "$start")s"
  print_table
}

main "$@"
