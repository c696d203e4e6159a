#!/usr/bin/env bash
# Build the offline base images from Debian packages and push them to the local
# registry under $GOLDEN_REGISTRY/mirror, at the repository paths a pull-through
# cache of the public images would use where the content is what that public
# image holds, and under mirror/golden-builders/ where it is not:
#
#   mirror/library/debian:bookworm-slim            debian-slim-like (mmdebstrap minbase)
#   mirror/library/gcc:12-bookworm                 builder: minbase + gcc/libc6-dev/make/binutils
#   mirror/golden-builders/gcc-cross:12-bookworm   builder: gcc + Debian's aarch64 cross compiler
#   mirror/golden-builders/openjdk:17-jdk-bookworm builder: minbase + Debian's OpenJDK 17 JDK
#   mirror/golden-builders/python:3.11-bookworm    builder: minbase + Debian's Python 3.11, pip, venv
#   mirror/golden-builders/node:18-bookworm        builder: minbase + Debian's Node.js 18, npm
#   mirror/distroless/static-debian12:nonroot      no shell, no package manager, uid 65532; only
#                                                  what a static program needs (CA roots, passwd,
#                                                  nsswitch, os-release; no time-zone data)
#   mirror/distroless/base-debian12:nonroot        static + glibc + libssl
#   mirror/distroless/cc-debian12:nonroot          static + libc6/libgcc-s1/libstdc++6/libssl3
#   mirror/distroless/java17-debian12:nonroot      base + Debian's headless OpenJDK 17 JRE
#   mirror/distroless/python3-debian12:nonroot     base + Debian's Python 3.11 and its standard library
#   mirror/distroless/nodejs18-debian12:nonroot    base + Debian's Node.js 18
#
# The builders are Debian's own toolchains, not the Docker Hub images of the same
# names (library/openjdk, library/python and library/node ship upstream builds
# under other paths), hence golden-builders/. Debian bookworm has Node.js 18 only,
# so its base is nodejs18 (the catalog's default nodejs20 is not built here: an
# image on this base names it). The runtime bases hold their roots' apt dependency
# closure minus NOT_RUNTIME (shells, dpkg, debconf, tools, and what a headless
# runtime only loads for printing or NSS), checked by running every ELF file's
# libraries through the base's own dynamic loader.
#
# distroless-static and distroless-cc are built for linux/amd64 and linux/arm64 and pushed as
# one OCI index (BuildKit, from the two trees; no emulation: the arm64 trees are Debian's arm64
# packages extracted here, with apt's own resolver on a private arm64 package list).
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
# The cross builder: builds for arm64 on this machine (FROM --platform=$BUILDPLATFORM).
CROSS_PACKAGES=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
JDK_PACKAGES=(openjdk-17-jdk-headless)
PYTHON_BUILDER_PACKAGES=(python3 python3-pip python3-venv)
NODE_BUILDER_PACKAGES=(nodejs npm)
# The static base: what a static program needs at run time. Time-zone data is not in it (about
# 460 KiB, half the base): an image that needs it copies /usr/share/zoneinfo from its builder.
STATIC_BASE_PACKAGES=(base-files netbase ca-certificates)
STATIC_PACKAGES=("${STATIC_BASE_PACKAGES[@]}" tzdata)
# libssl3 costs ~5 MiB uncompressed but the real cc-debian12 ships it, and TLS
# clients are the most common reason to pick cc over static.
CC_PACKAGES=(libc6 libgcc-s1 libstdc++6 libssl3)
# Roots of the runtime bases: each gets STATIC_PACKAGES + its roots + their apt
# dependency closure (Recommends off), minus NOT_RUNTIME.
BASE_PACKAGES=(libc6 libssl3)
JAVA_PACKAGES=(openjdk-17-jre-headless)
PYTHON_PACKAGES=(python3.11)
NODEJS_PACKAGES=(nodejs)
# Never in a runtime base: shells and awk, the package manager and its helpers, tools
# (util-linux, openssl's CLI), java-common and ca-certificates-java (postinst
# helpers; the Java trust store is written here), and the libraries a headless
# JRE only loads for printing (libcups2) or a configured NSS provider (libnss3),
# which would bring D-Bus, Avahi, GnuTLS and Kerberos along.
NOT_RUNTIME=(bash dash mawk coreutils perl-base dpkg debconf cdebconf debianutils tar install-info
  util-linux util-linux-extra sysvinit-utils lsb-base openssl java-common ca-certificates-java
  libcups2 libnss3)
RUNTIME_BASES=(distroless-base distroless-java distroless-python distroless-nodejs)
NAMES=(debian-slim gcc gcc-cross jdk python node distroless-static distroless-cc "${RUNTIME_BASES[@]}")
# Built for both architectures and pushed as one index.
MULTIARCH_BASES=(distroless-static distroless-cc)
HOST_ARCH="$(dpkg --print-architecture)"
# The other architecture of the pair: the multi-architecture bases are amd64 + arm64, built on
# an amd64 machine (the cross builder and the smoke test's aarch64 programs assume it).
[[ "$HOST_ARCH" == amd64 ]] ||
  die "bases.sh builds the linux/amd64 + linux/arm64 bases on an amd64 machine; this one is $HOST_ARCH - run it on amd64"
FOREIGN_ARCH=arm64
declare -A REPOSITORY=(
  [debian-slim]=library/debian
  [gcc]=library/gcc
  [gcc-cross]=golden-builders/gcc-cross
  [jdk]=golden-builders/openjdk
  [python]=golden-builders/python
  [node]=golden-builders/node
  [distroless-static]=distroless/static-debian12
  [distroless-base]=distroless/base-debian12
  [distroless-cc]=distroless/cc-debian12
  [distroless-java]=distroless/java17-debian12
  [distroless-python]=distroless/python3-debian12
  [distroless-nodejs]=distroless/nodejs18-debian12
)
declare -A TAG=(
  [debian-slim]=bookworm-slim
  [gcc]=12-bookworm
  [gcc-cross]=12-bookworm
  [jdk]=17-jdk-bookworm
  [python]=3.11-bookworm
  [node]=18-bookworm
  [distroless-static]=nonroot
  [distroless-base]=nonroot
  [distroless-cc]=nonroot
  [distroless-java]=nonroot
  [distroless-python]=nonroot
  [distroless-nodejs]=nonroot
)
JAVA_HOME_DIR="/usr/lib/jvm/java-17-openjdk-$(dpkg --print-architecture)"
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

# apt as on an empty system that knows only the $SUITE sources: neither the host's
# installed packages (say a newer nodejs from another repository, which apt would keep
# as the candidate) nor its other repositories decide what goes into an image. The
# package caches live in APT_DIR, not /var/cache/apt, so the host's apt is untouched.
APT_DIR="$GOLDEN_RUN_DIR/bases-apt"
APT_OPTS=(
  -o "Dir::State::status=$APT_DIR/status"
  -o "Dir::Etc::SourceList=$APT_DIR/sources.list" -o Dir::Etc::SourceParts=/nonexistent
  -o "Dir::Cache=$APT_DIR/cache" -o APT::Install-Recommends=false -o Debug::NoLocking=true
)
# Same, with NOT_RUNTIME marked installed and held (and without dependencies), so
# the resolver neither installs them nor follows them.
APT_RUNTIME_OPTS=("${APT_OPTS[@]}" -o "Dir::State::status=$APT_DIR/status-not-runtime"
  -o "Dir::Cache::pkgcache=$APT_DIR/cache/not-runtime.bin" -o "Dir::Cache::srcpkgcache=$APT_DIR/cache/not-runtime-src.bin")

# The same empty system for the foreign architecture, with its own package lists (apt-get
# update into APT_DIR; the host's apt configuration is never changed).
APT_FOREIGN_OPTS=("${APT_OPTS[@]}" -o "APT::Architecture=$FOREIGN_ARCH" -o "APT::Architectures::=$FOREIGN_ARCH"
  -o "Dir::State::Lists=$APT_DIR/lists-$FOREIGN_ARCH" -o "Dir::Cache::pkgcache=$APT_DIR/cache/$FOREIGN_ARCH.bin"
  -o "Dir::Cache::srcpkgcache=$APT_DIR/cache/$FOREIGN_ARCH-src.bin")

# The foreign lists follow the host's: fetched again whenever the host's lists are newer, so
# both architectures come from the same day's archive.
apt_foreign_update() {
  local lists="$APT_DIR/lists-$FOREIGN_ARCH"
  mkdir -p "$lists/partial"
  if id _apt >/dev/null 2>&1; then chown _apt "$lists/partial"; fi
  if [[ -e "$lists/.updated" ]] && [[ -z "$(find /var/lib/apt/lists -maxdepth 1 -type f -newer "$lists/.updated" -print -quit)" ]]; then
    return 0
  fi
  apt-get "${APT_FOREIGN_OPTS[@]}" update -q >"$APT_DIR/update-$FOREIGN_ARCH.log" 2>&1 ||
    die "apt-get update of the $FOREIGN_ARCH package lists failed: $(tail -n 2 "$APT_DIR/update-$FOREIGN_ARCH.log" | tr '\n' ' ') - check the apt sources and retry"
  touch "$lists/.updated"
}

apt_private_setup() {
  mkdir -p "$APT_DIR/cache/archives/partial"
  apt_source_lines >"$APT_DIR/sources.list"
  [[ -s "$APT_DIR/sources.list" ]] || die "apt has no $SUITE sources configured - fix /etc/apt/sources.list.d and run apt-get update"
  : >"$APT_DIR/status"
  apt-cache "${APT_OPTS[@]}" show --no-all-versions "${NOT_RUNTIME[@]}" 2>/dev/null |
    awk '/^Package:/ { print; print "Status: hold ok installed" } /^(Version|Architecture|Multi-Arch|Provides):/ || /^$/ { print }' \
      >"$APT_DIR/status-not-runtime"
  grep -q '^Package: dpkg$' "$APT_DIR/status-not-runtime" || die "apt-cache knows no dpkg in the $SUITE sources - run apt-get update and retry"
  # Build both package caches now, so the parallel downloads later only read them.
  apt-cache "${APT_OPTS[@]}" policy >/dev/null
  apt-cache "${APT_RUNTIME_OPTS[@]}" policy >/dev/null
  apt_foreign_update
  apt-cache "${APT_FOREIGN_OPTS[@]}" policy >/dev/null
}

# runtime_roots NAME: the packages a runtime base is made from (before the closure).
runtime_roots() {
  case "$1" in
    distroless-base) echo "${STATIC_PACKAGES[@]}" "${BASE_PACKAGES[@]}" ;;
    distroless-java) echo "${STATIC_PACKAGES[@]}" "${BASE_PACKAGES[@]}" "${JAVA_PACKAGES[@]}" ;;
    distroless-python) echo "${STATIC_PACKAGES[@]}" "${BASE_PACKAGES[@]}" "${PYTHON_PACKAGES[@]}" ;;
    distroless-nodejs) echo "${STATIC_PACKAGES[@]}" "${BASE_PACKAGES[@]}" "${NODEJS_PACKAGES[@]}" ;;
    *) die "unknown runtime base $1" ;;
  esac
}

# runtime_closure NAME -> "name=version" of every package of a runtime base: apt's own
# resolver (alternatives, virtual packages, versioned dependencies) on an empty system.
runtime_closure() {
  local -a roots resolved
  read -ra roots <<<"$(runtime_roots "$1")"
  mapfile -t resolved < <(
    apt-get "${APT_RUNTIME_OPTS[@]}" --simulate install "${roots[@]}" 2>&1 |
      awk '$1 == "Inst" { v = $3; gsub(/[()]/, "", v); print $2 "=" v }' | LC_ALL=C sort
  )
  ((${#resolved[@]} >= ${#roots[@]})) ||
    die "apt cannot resolve $1 (${roots[*]}): $(apt-get "${APT_RUNTIME_OPTS[@]}" --simulate install "${roots[@]}" 2>&1 | tail -n 3 | tr '\n' ' ') - run apt-get update and retry"
  printf '%s\n' "${resolved[@]}"
}

# "name=version" for every package that can land in an image: the Priority:required
# set + apt (what minbase installs), the builders' lists and their dependency closure,
# and each runtime base's closure. Uses the host's apt lists; run `apt-get update` to
# pick up new versions.
resolved_versions() {
  local -a roots closure
  local name
  mapfile -t roots < <(apt-cache "${APT_OPTS[@]}" dumpavail | awk '/^Package:/ { p = $2 } /^Priority: required$/ { print p }')
  roots+=(apt "${GCC_PACKAGES[@]}" "${CROSS_PACKAGES[@]}" "${JDK_PACKAGES[@]}" "${PYTHON_BUILDER_PACKAGES[@]}" "${NODE_BUILDER_PACKAGES[@]}")
  ((${#roots[@]} > 5)) || die "apt knows no Priority:required packages - run apt-get update and retry"
  mapfile -t closure < <(
    apt-cache "${APT_OPTS[@]}" depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
      --no-replaces --no-enhances "${roots[@]}" | grep -v '^[ <]' | LC_ALL=C sort -u
  )
  closure+=("${STATIC_PACKAGES[@]}" "${CC_PACKAGES[@]}")
  apt-cache "${APT_OPTS[@]}" show --no-all-versions "${closure[@]}" 2>/dev/null |
    awk '/^Package:/ { p = $2 } /^Version:/ { print p "=" $2 }' | LC_ALL=C sort -u
  for name in "${RUNTIME_BASES[@]}"; do
    runtime_closure "$name" | sed "s/^/$name /"
  done
  apt-cache "${APT_FOREIGN_OPTS[@]}" show --no-all-versions "${STATIC_PACKAGES[@]}" "${CC_PACKAGES[@]}" 2>/dev/null |
    awk -v a="$FOREIGN_ARCH" '/^Package:/ { p = $2 } /^Version:/ { print a " " p "=" $2 }' | LC_ALL=C sort -u
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
      # The foreign architecture's lists too: wiped or refreshed, they may hold other versions.
      find "$APT_DIR/lists-$FOREIGN_ARCH" -maxdepth 1 -type f -printf '%f %s %T@\n' 2>/dev/null | LC_ALL=C sort
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
  apt_private_setup
  versions="$(resolved_versions)"
  [[ -n "$versions" ]] || die "apt-cache returned no package versions - run apt-get update and retry"
  {
    echo "script $(sha256sum <"$SCRIPT_PATH" | cut -d' ' -f1)"
    echo "arch $(dpkg --print-architecture)"
    echo "suite $SUITE"
    echo "gcc ${GCC_PACKAGES[*]} / ${CROSS_PACKAGES[*]}"
    echo "multiarch ${MULTIARCH_BASES[*]} on $FOREIGN_ARCH"
    echo "static ${STATIC_PACKAGES[*]}"
    echo "cc ${CC_PACKAGES[*]}"
    echo "builders ${JDK_PACKAGES[*]} / ${PYTHON_BUILDER_PACKAGES[*]} / ${NODE_BUILDER_PACKAGES[*]}"
    echo "runtimes ${BASE_PACKAGES[*]} / ${JAVA_PACKAGES[*]} / ${PYTHON_PACKAGES[*]} / ${NODEJS_PACKAGES[*]} - ${NOT_RUNTIME[*]}"
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

# Download .debs (no dependencies, no maintainer scripts) with the host's apt lists.
download_debs() {
  local dir="$1"
  shift
  mkdir -p "$dir"
  # Let apt's _apt sandbox user write there, otherwise apt warns and runs unsandboxed.
  if id _apt >/dev/null 2>&1; then chown _apt "$dir"; fi
  local -a opts=("${APT_OPTS[@]}")
  if [[ "${ROOTFS_ARCH:-$HOST_ARCH}" == "$FOREIGN_ARCH" ]]; then opts=("${APT_FOREIGN_OPTS[@]}"); fi
  (cd "$dir" && apt-get "${opts[@]}" download -q "$@" >"$dir/download.log" 2>&1) ||
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

# Fail if anything that looks like a shell or a package manager is in the tree, or a
# setuid/setgid file. ALLOWED is a runtime's own interpreter (python3 in the python base).
assert_no_shell() {
  local root="$1" allowed="${2:-}" hits name
  local -a names=()
  for name in sh bash dash ash zsh busybox apt apt-get dpkg 'dpkg-*' perl python3; do
    [[ "$name" == "$allowed" ]] || names+=(${names[0]+-o} -name "$name")
  done
  hits="$(find "$root" \( -type f -o -type l \) \( "${names[@]}" \) -print)"
  [[ -z "$hits" ]] || die "distroless rootfs $root contains a shell/package manager: $hits - fix the trimming in bases.sh"
  hits="$(find "$root" -type f -perm /6000 -print)"
  [[ -z "$hits" ]] || die "distroless rootfs $root has setuid/setgid files: $hits - fix the trimming in bases.sh"
}

# Every library every ELF file of the tree needs must be in the tree. The judge is the
# tree's own dynamic loader (what ldd runs), chrooted, so a library only some module
# loads (the JRE's libjsound, a Python extension) cannot be missing unnoticed. Private
# library dirs (the JRE's lib/ and lib/server/, where libjvm.so is already loaded when
# a module needs it) are on the search path. A tree without a loader (static) has nothing
# linked against one. A foreign architecture's tree is checked the same way where this machine
# runs its programs (qemu-user-static in binfmt_misc), and said to be unchecked elsewhere.
assert_libraries_resolve() {
  local root="$1" loader libpath missing
  # amd64: /lib64/ld-linux-x86-64.so.2; arm64: /lib/ld-linux-aarch64.so.1.
  loader="$(cd "$root" && find lib64 lib -maxdepth 1 -name 'ld-linux*.so.*' -print -quit 2>/dev/null || true)"
  [[ -n "$loader" ]] || return 0
  if [[ "${ROOTFS_ARCH:-$HOST_ARCH}" != "$HOST_ARCH" ]] && [[ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]]; then
    log "$(basename "$(dirname "$root")"): libraries not checked (no qemu in binfmt_misc to run the $ROOTFS_ARCH loader here)"
    return 0
  fi
  libpath="$(cd "$root" && find . -type f -name '*.so*' -printf '%h\n' | sed 's|^\.||' | LC_ALL=C sort -u | paste -sd:)"
  missing="$(
    cd "$root" && find . -type f \( -name '*.so' -o -name '*.so.*' -o -perm /111 \) -print | LC_ALL=C sort |
      while read -r f; do
        [[ "$(head -c 4 "$f" | od -An -c | tr -d ' \n')" == '177ELF' ]] || continue
        # A missing library is a "not found" line, or an error exit when the loader gives up.
        if ! out="$(chroot "$root" "/$loader" --library-path "$libpath" --list "${f#.}" 2>&1)" || [[ "$out" == *"not found"* ]]; then
          out="$(grep -E 'not found|error' <<<"$out" | head -n 1)"
          echo "${f#.}: ${out#"${f#.}: "}"
        fi
      done
  )"
  [[ -z "$missing" ]] || die "libraries missing from $root: $(head -n 5 <<<"$missing" | tr '\n' ' ') - add their packages to the base (or drop them from NOT_RUNTIME) in bases.sh"
}

# A Java trust store (JKS, password "changeit" as Debian's) of the Mozilla roots, what
# ca-certificates-java's postinst would generate, but with fixed entry dates so the same
# certificates give the same bytes (keytool would stamp the current time). Python is
# there wherever mmdebstrap is (it depends on python3).
write_java_truststore() {
  local certs="$1" out="$2"
  python3 - "$certs" "$out" <<'EOF' || die "writing the Java trust store $out failed - see the Python error above"
import base64, hashlib, pathlib, re, struct, sys

def utf(text):
    data = text.encode("utf-8")
    return struct.pack(">H", len(data)) + data

entries = []
for path in pathlib.Path(sys.argv[1]).rglob("*.crt"):
    pem = re.search(rb"-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----", path.read_bytes(), re.S)
    entries.append(("debian:" + path.stem.lower() + ".pem", base64.b64decode(b"".join(pem.group(1).split()))))
entries.sort()
body = struct.pack(">IiI", 0xFEEDFEED, 2, len(entries))
for alias, der in entries:
    # tag 2 = trusted certificate, creation date 0 (ms since the epoch)
    body += struct.pack(">I", 2) + utf(alias) + struct.pack(">q", 0) + utf("X.509") + struct.pack(">I", len(der)) + der
digest = hashlib.sha1("changeit".encode("utf-16-be") + b"Mighty Aphrodite" + body).digest()
if len(entries) < 100:
    sys.exit(f"only {len(entries)} certificates under {sys.argv[1]}")
pathlib.Path(sys.argv[2]).write_bytes(body + digest)
EOF
}

# What a runtime's maintainer scripts (update-alternatives, py3compile, ...) would have
# done, and trimming the tools its packages ship.
customize_runtime() {
  local name="$1" root="$2"
  case "$name" in
    distroless-java)
      # Only the launcher: keytool, jpackage and rmiregistry are tools.
      find "$root$JAVA_HOME_DIR/bin" -mindepth 1 ! -name java -delete
      mkdir -p "$root/usr/bin" "$root/etc/ssl/certs/java"
      ln -s "$JAVA_HOME_DIR/bin/java" "$root/usr/bin/java"
      write_java_truststore "$root/usr/share/ca-certificates" "$root/etc/ssl/certs/java/cacerts"
      ;;
    distroless-python)
      ln -s python3.11 "$root/usr/bin/python3"
      # py3compile's job, but checked against the source's hash instead of its mtime (the
      # layer's mtimes are all 0), so the interpreter never tries to recompile (as nonroot
      # it could not write the cache anyway). A fixed hash seed gives the same bytes.
      env -i PATH="$STD_PATH" PYTHONHASHSEED=0 chroot "$root" /usr/bin/python3.11 -m compileall -q -j 1 \
        --invalidation-mode checked-hash /usr/lib/python3.11 >/dev/null ||
        die "byte-compiling the Python standard library failed - run: chroot $root /usr/bin/python3.11 -m compileall /usr/lib/python3.11"
      ;;
  esac
  # The OpenSSL default locations (openssl's package links them; the CLI stays out), so
  # TLS finds the roots without SSL_CERT_FILE too.
  mkdir -p "$root/usr/lib/ssl"
  ln -s /etc/ssl/certs "$root/usr/lib/ssl/certs"
  ln -s /etc/ssl/certs/ca-certificates.crt "$root/usr/lib/ssl/cert.pem"
}

# Only the license texts the kept copyright files refer to: base-files ships about 200 KiB of
# them, most of which name no package in the image. A referenced link (GPL -> GPL-3) keeps its
# target too.
prune_common_licenses() {
  local root="$1" dir="$1/usr/share/common-licenses" name f
  [[ -d "$dir" ]] || return 0
  local -A keep=()
  while read -r name; do
    [[ -n "$name" ]] || continue
    keep[$name]=1
    if [[ -L "$dir/$name" ]]; then keep[$(basename "$(readlink "$dir/$name")")]=1; fi
  done < <(grep -rhoE '/usr/share/common-licenses/[A-Za-z0-9.+_-]+' "$root/usr/share/doc" 2>/dev/null | sed 's|.*/||; s/\.$//' | LC_ALL=C sort -u)
  for f in "$dir"/*; do
    [[ -n "${keep[$(basename "$f")]:-}" ]] || rm -f "$f"
  done
}

# distroless_rootfs NAME OUT_TAR PKG... : (ROOTFS_ARCH=arm64 for the foreign architecture's tree) extract the debs (dpkg-deb -x, no maintainer
# scripts), then do by hand the little that their postinst scripts would do.
distroless_rootfs() {
  local name="$1" out="$2"
  shift 2
  local work="$out.d" root="$out.d/rootfs" deb keep
  rm -rf "$work"
  mkdir -p "$root"
  download_debs "$work/debs" "$@"
  for deb in "$work"/debs/*.deb; do dpkg-deb -x "$deb" "$root"; done

  # The runtime's own interpreter is the one program kept from the bin dirs.
  case "$name" in
    distroless-python) keep=usr/bin/python3.11 ;;
    distroless-nodejs) keep=usr/bin/node ;;
    *) keep="" ;;
  esac
  if [[ -n "$keep" ]]; then
    [[ -f "$root/$keep" ]] || die "$name: /$keep is not in its packages - fix the package list in bases.sh"
    mv "$root/$keep" "$work/interpreter"
  fi
  # No shell and no package manager: drop every bin/sbin dir (libc6/ca-certificates
  # only put helper tools there) and dpkg's config dir.
  rm -rf "${root:?}"/bin "${root:?}"/sbin "${root:?}"/usr/bin "${root:?}"/usr/sbin "${root:?}"/usr/games \
    "${root:?}"/usr/local/bin "${root:?}"/usr/local/sbin "${root:?}"/usr/libexec "${root:?}"/etc/dpkg \
    "${root:?}"/etc/update-motd.d "${root:?}"/etc/profile.d "${root:?}"/etc/skel "${root:?}"/etc/ca-certificates
  if [[ -n "$keep" ]]; then
    mkdir -p "$root/$(dirname "$keep")"
    mv "$work/interpreter" "$root/$keep"
  fi
  # Same trimming as slim, plus things only debuggers or a shell would use.
  find "$root/usr/share/doc" -mindepth 2 ! -name copyright -delete 2>/dev/null || true
  rm -rf "$root"/usr/share/{man,info,lintian,locale,gdb,gcc,bug,menu} \
    "$root"/usr/share/zoneinfo/right "$root"/usr/lib/*-linux-gnu/gconv
  prune_common_licenses "$root"
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
  # tzdata's postinst would write these; UTC is what distroless uses. Without tzdata (the
  # static base) there is no zone file to link: the C library then uses UTC by itself.
  if [[ -e "$root/usr/share/zoneinfo/Etc/UTC" ]]; then
    ln -sf /usr/share/zoneinfo/Etc/UTC "$root/etc/localtime"
    echo "Etc/UTC" >"$root/etc/timezone"
  fi

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

  # Dynamic loader cache for the cc image (a no-op for static, which has no libs). This
  # machine's ldconfig cannot read a foreign architecture's libraries (it would write an empty
  # cache); without a cache Debian's loader searches the multiarch directories itself.
  if [[ -d "$root/etc/ld.so.conf.d" ]]; then
    echo 'include /etc/ld.so.conf.d/*.conf' >"$root/etc/ld.so.conf"
    if [[ "${ROOTFS_ARCH:-$HOST_ARCH}" == "$HOST_ARCH" ]]; then
      ldconfig -r "$root"
    fi
    rm -rf "$root/var/cache/ldconfig"
  fi

  case "$name" in
    distroless-static | distroless-cc) ;;
    *) customize_runtime "$name" "$root" ;;
  esac
  assert_libraries_resolve "$root"
  rm -rf "$root/usr/share/ca-certificates"
  write_status_d "$root" "$work"/debs/*.deb
  assert_no_shell "$root" "$([[ "$name" == distroless-python ]] && echo python3)"
  pack_rootfs "$root" "$out"
  rm -rf "$work"
}

# runtime_packages NAME OUT_TAR -> the "name=version" list main resolved for a runtime base
runtime_packages() {
  local list
  list="$(dirname "$2")/$1.packages"
  [[ -s "$list" ]] || die "no package list $list - main resolves it before the builds"
  cat "$list"
}

# build_rootfs NAME OUT_TAR
build_rootfs() {
  local -a packages
  case "$1" in
    debian-slim) mmdebstrap_rootfs "$2" ;;
    # Recommends stay off (mmdebstrap's default) so the builders are small.
    gcc) mmdebstrap_rootfs "$2" --include="$(IFS=, && echo "${GCC_PACKAGES[*]}")" ;;
    gcc-cross) mmdebstrap_rootfs "$2" --include="$(IFS=, && echo "${GCC_PACKAGES[*]},${CROSS_PACKAGES[*]}")" ;;
    # The JRE's postinst links its man pages with update-alternatives, which fails when
    # the slim path-exclude left no /usr/share/man/man1 (the known openjdk-on-slim bug).
    jdk)
      # shellcheck disable=SC2016 # "$1" is expanded by mmdebstrap (the chroot path)
      mmdebstrap_rootfs "$2" --include="$(IFS=, && echo "${JDK_PACKAGES[*]}")" \
        --essential-hook='mkdir -p "$1/usr/share/man/man1"' --customize-hook='rm -rf "$1/usr/share/man"'
      ;;
    python) mmdebstrap_rootfs "$2" --include="$(IFS=, && echo "${PYTHON_BUILDER_PACKAGES[*]}")" ;;
    node) mmdebstrap_rootfs "$2" --include="$(IFS=, && echo "${NODE_BUILDER_PACKAGES[*]}")" ;;
    distroless-static) distroless_rootfs "$1" "$2" "${STATIC_BASE_PACKAGES[@]}" ;;
    distroless-cc) distroless_rootfs "$1" "$2" "${STATIC_PACKAGES[@]}" "${CC_PACKAGES[@]}" ;;
    distroless-base | distroless-java | distroless-python | distroless-nodejs)
      mapfile -t packages < <(runtime_packages "$1" "$2")
      distroless_rootfs "$1" "$2" "${packages[@]}"
      ;;
    *) die "unknown base $1" ;;
  esac
}

# ---------------------------------------------------------------- image + push

is_multiarch() {
  local m
  for m in "${MULTIARCH_BASES[@]}"; do [[ "$m" == "$1" ]] && return 0; done
  return 1
}

# push_index NAME HOST_TAR IMAGE --change INSTRUCTION... : one image per architecture from its
# tree (NAME's host tree, and the foreign tree beside it), the same configuration as `docker
# import --change` gives, pushed by BuildKit as one OCI index. No RUN: nothing is emulated.
# Timestamps are rewritten to 0, so the same trees give the same index digest.
push_index() {
  local name="$1" tar="$2" image="$3" dir buildctl
  shift 3
  dir="$(dirname "$tar")/$name.index"
  rm -rf "$dir"
  mkdir -p "$dir"
  ln "$tar" "$dir/rootfs-$HOST_ARCH.tar"
  ln "${tar%.tar}-$FOREIGN_ARCH.tar" "$dir/rootfs-$FOREIGN_ARCH.tar"
  {
    echo "FROM scratch"
    echo "ARG TARGETARCH"
    echo 'ADD rootfs-${TARGETARCH}.tar /'
    while (($# > 0)); do
      [[ "$1" == --change ]] && shift
      echo "$1"
      shift
    done
  } >"$dir/Dockerfile"
  buildctl="$(bash "$GOLDEN_SCRIPTS_DIR/install-buildkit.sh")/buildctl"
  "$buildctl" --addr "unix://$GOLDEN_BUILDKIT_SOCKET" build --frontend dockerfile.v0 \
    --local "context=$dir" --local "dockerfile=$dir" \
    --opt "platform=linux/$HOST_ARCH,linux/$FOREIGN_ARCH" --opt build-arg:SOURCE_DATE_EPOCH=0 \
    --output "type=image,name=$image,push=true,registry.insecure=true,oci-mediatypes=true,rewrite-timestamp=true" \
    >"$dir/build.log" 2>&1 ||
    die "pushing the $name index failed: $(tail -n 3 "$dir/build.log" | tr '\n' ' ') - check scripts/services.sh status (BuildKit, registry login)"
  rm -rf "$dir"
}

# import_and_push NAME TAR RECIPE -> prints the pushed manifest digest
import_and_push() {
  local name="$1" tar="$2" recipe="$3" image push_out digest
  image="$GOLDEN_MIRROR/${REPOSITORY[$name]}:${TAG[$name]}"
  local -a changes=(
    --change "ENV PATH=$STD_PATH"
    --change "LABEL io.pulumi.golden-image.base=$name io.pulumi.golden-image.recipe=$recipe"
  )
  case "$name" in
    debian-slim | gcc | gcc-cross | python | node) changes+=(--change 'CMD ["bash"]') ;;
    jdk) changes+=(--change "ENV JAVA_HOME=$JAVA_HOME_DIR" --change 'CMD ["bash"]') ;;
    distroless-*)
      changes+=(
        --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt'
        --change 'USER 65532:65532'
        --change 'WORKDIR /home/nonroot'
      )
      ;;
  esac
  if [[ "$name" == distroless-java ]]; then changes+=(--change "ENV JAVA_HOME=$JAVA_HOME_DIR"); fi
  if is_multiarch "$name"; then
    push_index "$name" "$tar" "$image" "${changes[@]}"
  else
    "$DOCKER" import "${changes[@]}" "$tar" "$image" >/dev/null ||
      die "docker import of $tar failed - check scripts/services.sh status"
    push_out="$("$DOCKER" push "$image" 2>&1)" ||
      die "docker push $image failed: $(tail -n 2 <<<"$push_out" | tr '\n' ' ') - run scripts/services.sh start (it logs docker in); if it names a missing layerdb/overlay2 file, dockerd's data-root was changed under it: scripts/services.sh stop, then start"
  fi
  # The digest is the registry's own answer (Docker-Content-Digest), never scraped from push output.
  digest="$(registry_curl --head -o /dev/null -w '%header{docker-content-digest}' "${REGISTRY_ACCEPT[@]}" \
    "http://$GOLDEN_REGISTRY/v2/mirror/${REPOSITORY[$name]}/manifests/${TAG[$name]}" 2>/dev/null || true)"
  [[ "$digest" =~ ^sha256:[0-9a-f]{64}$ ]] ||
    die "registry does not serve $image right after the push (digest '${digest}') - see $GOLDEN_RUN_DIR/registry.log"
  echo "$digest"
}

# Prove the images do what the pipeline relies on before publishing bases.json.
smoke_test() {
  local json="$1" dir name out img
  local -A ref=()
  for name in "${NAMES[@]}"; do
    ref[$name]="$(jq -r --arg n "$name" '.bases[$n].ref' "$json")"
  done
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
  # The trust store loads and holds the roots; the uid comes from jdk.security.auth.
  cat >"$dir/Smoke.java" <<'EOF'
public class Smoke {
  public static void main(String[] args) throws Exception {
    javax.net.ssl.TrustManagerFactory f = javax.net.ssl.TrustManagerFactory.getInstance("PKIX");
    f.init((java.security.KeyStore) null);
    int roots = ((javax.net.ssl.X509TrustManager) f.getTrustManagers()[0]).getAcceptedIssuers().length;
    System.out.println("hello uid=" + new com.sun.security.auth.module.UnixSystem().getUid() + (roots > 100 ? "" : " roots=" + roots));
  }
}
EOF
  smoke_run() { "$DOCKER" run --rm --network none "$@"; }
  smoke_run "${ref[debian-slim]}" sh -c 'command -v apt-get >/dev/null' ||
    die "smoke test: ${ref[debian-slim]} has no sh/apt-get - fix the debian-slim recipe"
  smoke_run -v "$dir:/src" "${ref[gcc]}" \
    sh -c 'gcc -static -O2 -o /src/hello-static /src/hello.c && gcc -O2 -o /src/hello-dynamic /src/hello.c' ||
    die "smoke test: compiling in ${ref[gcc]} failed - fix the gcc recipe"
  smoke_run -v "$dir:/src" -w /src "${ref[jdk]}" sh -c 'javac -d /src/classes Smoke.java' ||
    die "smoke test: javac in ${ref[jdk]} failed - fix the jdk recipe"
  smoke_run "${ref[python]}" sh -c 'python3 --version && python3 -m pip --version && python3 -m venv /tmp/v' >/dev/null ||
    die "smoke test: ${ref[python]} has no working python3/pip/venv - fix the python builder recipe"
  smoke_run "${ref[node]}" sh -c 'node --version && npm --version' >/dev/null ||
    die "smoke test: ${ref[node]} has no working node/npm - fix the node builder recipe"
  chmod -R a+rX "$dir"
  chmod 755 "$dir"/hello-*

  # smoke_expect NAME OUTPUT_WANTED DOCKER_RUN_ARGS... : the base runs it as 65532.
  smoke_expect() {
    local base="$1" want="$2"
    shift 2
    # stderr apart: a pull's progress (an index is pushed by BuildKit, not imported here) is not output.
    out="$(smoke_run "$@" 2>"$dir/err")" || die "smoke test: ${ref[$base]} failed to run $*: $(tail -n 3 "$dir/err" | tr '\n' ' ')"
    [[ "$out" == "$want" ]] || die "smoke test: ${ref[$base]} printed '$out', expected '$want'"
  }
  smoke_expect distroless-static "hello uid=65532" -v "$dir/hello-static:/hello:ro" --entrypoint /hello "${ref[distroless-static]}"
  smoke_expect distroless-cc "hello uid=65532" -v "$dir/hello-dynamic:/hello:ro" --entrypoint /hello "${ref[distroless-cc]}"
  smoke_expect distroless-base "hello uid=65532" -v "$dir/hello-dynamic:/hello:ro" --entrypoint /hello "${ref[distroless-base]}"
  smoke_expect distroless-java "hello uid=65532" -v "$dir/classes:/app:ro" --entrypoint /usr/bin/java "${ref[distroless-java]}" -cp /app Smoke
  smoke_expect distroless-python "hello uid=65532" --entrypoint /usr/bin/python3 "${ref[distroless-python]}" -c \
    'import json, os, ssl, sqlite3; n = ssl.create_default_context().cert_store_stats()["x509_ca"]; print("hello uid=%d" % os.getuid() + ("" if n > 100 else " roots=%d" % n))'
  smoke_expect distroless-nodejs "hello uid=65532" --entrypoint /usr/bin/node "${ref[distroless-nodejs]}" -e \
    'require("tls"); require("zlib"); console.log("hello uid=" + process.getuid())'
  # The versions the repository names claim.
  out="$(smoke_run --entrypoint /usr/bin/java "${ref[distroless-java]}" -version 2>&1)"
  [[ "$out" == *'openjdk version "17.'* ]] || die "smoke test: ${ref[distroless-java]} is not Java 17: $out"
  out="$(smoke_run --entrypoint /usr/bin/python3 "${ref[distroless-python]}" --version)"
  [[ "$out" == "Python 3.11."* ]] || die "smoke test: ${ref[distroless-python]} is not Python 3.11: $out"
  out="$(smoke_run --entrypoint /usr/bin/node "${ref[distroless-nodejs]}" --version)"
  [[ "$out" == v18.* ]] || die "smoke test: ${ref[distroless-nodejs]} is not Node.js 18: $out"
  for name in distroless-static distroless-cc "${RUNTIME_BASES[@]}"; do
    img="${ref[$name]}"
    if smoke_run --entrypoint /bin/sh "$img" -c true >/dev/null 2>&1; then
      die "smoke test: $img has a working /bin/sh - fix the distroless trimming"
    fi
  done
  smoke_foreign "$dir" "${ref[gcc-cross]}" "${ref[distroless-static]}" "${ref[distroless-cc]}"
  rm -rf "$dir"
  log "smoke tests passed (slim has apt, gcc/javac compile, the python and node builders work, every distroless base runs as 65532 with no shell, java 17, python 3.11, node 18)"
}

# platform_ref REPO:TAG@DIGEST ARCH -> REPO@DIGEST of that architecture's manifest in the index.
platform_ref() {
  local ref="$1" arch="$2" repo digest path
  repo="${ref%@*}"
  repo="${repo%:*}"
  path="${repo#"$GOLDEN_REGISTRY"/}"
  digest="$(registry_curl "${REGISTRY_ACCEPT[@]}" "http://$GOLDEN_REGISTRY/v2/$path/manifests/${ref##*@}" |
    jq -r --arg a "$arch" '.manifests[]? | select(.platform.architecture == $a) | .digest')"
  [[ "$digest" =~ ^sha256:[0-9a-f]{64}$ ]] || die "$ref has no $arch image in its index - rebuild the bases (bash scripts/bases.sh)"
  echo "$repo@$digest"
}

# smoke_foreign DIR CROSS STATIC CC: the cross builder makes aarch64 programs (static and
# dynamic), and the arm64 images of the static and cc indexes run them as 65532 where this
# machine can run arm64 programs (qemu-user-static registered with binfmt_misc, see
# scripts/install-qemu.sh); elsewhere that is said, and the programs' machine is still checked.
smoke_foreign() {
  local dir="$1" cross="$2" static="$3" cc="$4" f out pair
  "$DOCKER" run --rm --network none -v "$dir:/src" "$cross" sh -c \
    'aarch64-linux-gnu-gcc -static -O2 -o /src/hello-arm64-static /src/hello.c && aarch64-linux-gnu-gcc -O2 -o /src/hello-arm64-dynamic /src/hello.c' ||
    die "smoke test: cross-compiling in $cross failed - fix the gcc-cross recipe"
  for f in "$dir"/hello-arm64-*; do
    # e_machine (bytes 18-19, little endian) 183 = EM_AARCH64
    [[ "$(od -An -tu2 -j18 -N2 "$f" | tr -d ' ')" == 183 ]] || die "smoke test: $f is not an aarch64 program - fix the gcc-cross recipe"
  done
  chmod 755 "$dir"/hello-arm64-*
  if [[ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]]; then
    log "smoke test: arm64 images not run (no qemu-aarch64 in binfmt_misc here); their programs are aarch64 ELF"
    return 0
  fi
  local img ref
  for pair in "$static:hello-arm64-static" "$cc:hello-arm64-dynamic"; do
    # The arm64 manifest by its own digest: the engine keeps one platform per reference, and
    # the index's reference already holds the host's image.
    img="${pair%:*}"
    ref="$(platform_ref "$img" "$FOREIGN_ARCH")"
    out="$("$DOCKER" run --rm --network none --platform "linux/$FOREIGN_ARCH" -v "$dir/${pair##*:}:/hello:ro" --entrypoint /hello "$ref" 2>"$dir/err")" ||
      die "smoke test: the $FOREIGN_ARCH image of $img failed to run ${pair##*:}: $(tail -n 3 "$dir/err" | tr '\n' ' ')"
    [[ "$out" == "hello uid=65532" ]] || die "smoke test: the $FOREIGN_ARCH image of $img printed '$out', expected 'hello uid=65532'"
  done
  log "smoke test: the $FOREIGN_ARCH images of the static and cc indexes run aarch64 programs as 65532 (under qemu-user-static)"
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
    # An index: the host platform's image.
    if is_multiarch "$name"; then
      digest="$(registry_curl "${REGISTRY_ACCEPT[@]}" "http://$GOLDEN_REGISTRY/v2/$repo/manifests/$digest" |
        jq -r --arg a "$HOST_ARCH" '.manifests[] | select(.platform.architecture == $a) | .digest' 2>/dev/null || echo "$digest")"
    fi
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
  # The runtime bases' package lists, resolved once (apt's cache is not built for
  # parallel writers) and kept beside the tarballs as the record of what went in.
  apt_private_setup
  for name in "${RUNTIME_BASES[@]}"; do
    if [[ ! -s "$cache/$name.packages" ]]; then
      runtime_closure "$name" >"$cache/$name.packages.tmp"
      mv -f "$cache/$name.packages.tmp" "$cache/$name.packages"
    fi
  done

  # The mmdebstrap runs are network/CPU bound and independent: run them in
  # parallel; the distroless trees are quick and built meanwhile.
  # Jobs: every base for this machine, and NAME@arm64 for the multi-architecture ones.
  local -A pids=()
  local job arch tar
  for job in "${NAMES[@]}" "${MULTIARCH_BASES[@]/%/@$FOREIGN_ARCH}"; do
    name="${job%@*}"
    arch="${job#"$name"}"
    arch="${arch#@}"
    tar="$cache/$name${arch:+-$arch}.tar"
    if [[ -s "$tar" ]]; then
      log "$job: rootfs cached ($tar)"
      continue
    fi
    log "$job: building rootfs"
    (
      s="$(date +%s.%N)"
      ROOTFS_ARCH="${arch:-$HOST_ARCH}" build_rootfs "$name" "$tar"
      log "$job: rootfs built in $(elapsed_since "$s")s ($(du -h "$tar" | cut -f1))"
    ) &
    pids[$job]=$!
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
