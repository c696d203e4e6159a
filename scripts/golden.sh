#!/usr/bin/env bash
# The main job: the local golden-image pipeline on the embedded default (local Docker engine,
# local registry, offline bases). Installs and starts what it needs, then runs
# `golden build` (default: every image of the dev stack). Extra arguments go to `golden`.
set -euo pipefail
cd "$(dirname "$0")/.."
# cosign, Syft and the scanners at their pinned versions, and the scanners' database (offline
# here): in the background, while npm, apt, the services and the bases set up.
supply="$(mktemp -d)"
trap 'rm -rf "$supply"' EXIT
bash scripts/supply-chain.sh >"$supply/env" 2>"$supply/log" &
supply_pid=$!
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi
npx tsc -p tsconfig.build.json
bash scripts/setup.sh >/dev/null
eval "$(bash scripts/services.sh env)"
if ! wait "$supply_pid"; then
  cat "$supply/log" >&2
  echo "installing the supply-chain tools failed (messages above). Fix: bash scripts/supply-chain.sh" >&2
  exit 1
fi
grep -E "built|building" "$supply/log" >&2 || true
eval "$(cat "$supply/env")"
if [[ $# -eq 0 ]]; then
  set -- build --stack dev
fi
node dist/cli/golden.js "$@"
