#!/usr/bin/env bash
# Lets this machine run linux/arm64 images, where the kernel allows it: installs Debian's
# qemu-user-static and registers its aarch64 interpreter with binfmt_misc (flag F: the kernel
# keeps the interpreter open, so it also works inside containers). Builds never need this (the
# builders cross-compile on the build platform); only tests that *run* arm64 payloads do.
#
# Prints one line on stdout: `binfmt=registered` or `binfmt=unavailable: <why>`. The second is
# not an error: the multi-architecture test then checks the arm64 image without running it and
# says so in its output.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
if [[ ! -x /usr/libexec/qemu-binfmt/aarch64-binfmt-P ]]; then
  log "installing qemu-user-static from apt"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends qemu-user-static >&2 ||
    die "apt-get install qemu-user-static failed - run apt-get update and retry"
fi
conf=/usr/lib/binfmt.d/qemu-aarch64.conf
[[ -s "$conf" ]] || die "$conf is missing - reinstall qemu-user-static"

binfmt=/proc/sys/fs/binfmt_misc
if [[ ! -e "$binfmt/register" ]]; then
  mount -t binfmt_misc binfmt_misc "$binfmt" 2>/dev/null || {
    echo "binfmt=unavailable: binfmt_misc cannot be mounted here (no privilege, or the kernel lacks it)"
    exit 0
  }
fi
if [[ ! -e "$binfmt/qemu-aarch64" ]]; then
  if ! cat "$conf" >"$binfmt/register" 2>/dev/null; then
    echo "binfmt=unavailable: the kernel refused to register the aarch64 interpreter"
    exit 0
  fi
fi
if [[ "$(head -n 1 "$binfmt/qemu-aarch64")" != enabled ]]; then
  echo "binfmt=unavailable: the aarch64 interpreter is registered but disabled"
  exit 0
fi
echo "binfmt=registered"
