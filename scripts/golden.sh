#!/usr/bin/env bash
# The main job: the local golden-image pipeline on the embedded default (local Docker engine,
# local registry, offline bases). Installs and starts what it needs, then runs
# `golden build` (default: every image of the dev stack). Extra arguments go to `golden`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi
npx tsc -p tsconfig.build.json
bash scripts/setup.sh >/dev/null
eval "$(bash scripts/services.sh env)"
# cosign, Syft and the scanners at their pinned versions, and the scanners' database (offline here).
eval "$(bash scripts/supply-chain.sh)"
if [[ $# -eq 0 ]]; then
  set -- build --stack dev
fi
exec node dist/cli/golden.js "$@"
