#!/usr/bin/env bash
# Build benchmark of the dev stack's images (sizes, cold and warm build times).
# Not a test: prints a Markdown table and writes bench/results.md. See bench/README.md.
#
# usage: bash scripts/bench.sh [--runs N] [--image NAME ...] [--output FILE]
#        bash scripts/bench.sh supply-chain [--runs N] [--image NAME ...] [--scanner grype|trivy]
#        (or: npm run bench -- --runs 5)
#
# WARNING: every cold run calls `buildctl prune --all` on the BuildKit daemon; other builds
# running at the same time lose their BuildKit cache (they still work, only slower).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
start="$(date +%s.%N)"

if [[ ! -d node_modules ]]; then
  echo "[bench] node_modules missing: npm ci" >&2
  npm ci >&2
fi

echo "[bench] compiling (tsc -p tsconfig.build.json)" >&2
npx tsc -p tsconfig.build.json >&2

# Engine, registry and offline bases. setup.sh prints `export` lines on stdout: keep
# stdout for the table.
if [[ -f scripts/setup.sh ]]; then
  bash scripts/setup.sh >&2
else
  bash scripts/services.sh start >&2
  bash scripts/bases.sh >&2
fi

eval "$(bash scripts/services.sh env)"
export DOCKER_BUILDKIT=1
export GOLDEN_DOCKER=/usr/bin/docker

status=0
if [[ "${1:-}" == supply-chain ]]; then
  shift
  # cosign, Syft, the scanners and their (offline) databases.
  eval "$(bash scripts/supply-chain.sh)"
  node dist/bench/supply-chain-bench.js "$@" || status=$?
else
  node dist/bench/build-bench.js "$@" || status=$?
fi
echo "[bench] scripts/bench.sh finished in $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s (exit $status)" >&2
exit "$status"
