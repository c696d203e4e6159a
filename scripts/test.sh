#!/usr/bin/env bash
# The test command (README, .ci/run): installs what it needs (npm packages, Debian packages,
# Checkov), starts the Docker engine, the local registry and the offline bases, runs the unit
# and the integration tests, and stops the services it started.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
started=()

say() { printf '== %s\n' "$*" >&2; }

supply_pid=""
extra_pid=""
helm_pid=""
cleanup() {
  for pid in "$supply_pid" "$extra_pid" "$helm_pid"; do
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
      pkill -TERM -P "$pid" 2>/dev/null || true
      kill "$pid" 2>/dev/null || true
    fi
  done
  if [[ ${#started[@]} -gt 0 ]]; then
    say "stopping the services this run started"
    bash "$root/scripts/services.sh" stop || true
  fi
}
trap cleanup EXIT

# The supply-chain tools (cosign, Syft, Grype, Trivy) build from the Go module proxy on a new
# machine: start that first, in the background, while npm, apt, the services and the bases set up.
supply="$(mktemp -d)"
bash scripts/supply-chain.sh >"$supply/env" 2>"$supply/log" &
supply_pid=$!
# The admission tests' Kyverno CLI (a Go build, cached by version) and the AWS CLI with moto's
# SSM server (pip, cached), also in the background.
extra="$(mktemp -d)"
(bash scripts/install-kyverno.sh >"$extra/kyverno" && bash scripts/install-aws-tools.sh >"$extra/aws") 2>"$extra/log" &
extra_pid=$!
# Helm and the pinned Harbor chart (the Harbor values' real consumer), from the Go module proxy.
helm="$(mktemp -d)"
bash scripts/install-helm.sh --chart >"$helm/out" 2>"$helm/log" &
helm_pid=$!

# Images carry the revision of the last commit that touched their context: a shallow clone
# cannot tell it (the label is then left out and the linter test fails), so deepen one first.
if [[ "$(git rev-parse --is-shallow-repository 2>/dev/null)" == true ]]; then
  say "shallow clone: fetching the history (source revision labels)"
  git fetch --quiet --unshallow || echo "git fetch --unshallow failed: images will carry no revision label" >&2
fi

if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  say "npm ci"
  npm ci --no-audit --no-fund
fi
say "build"
npx tsc -p tsconfig.build.json
say "public API report (api/pulumi-golden-image.api.md)"
if ! npx api-extractor run >"$root/dist/api-extractor.log" 2>&1; then
  grep -iE "warning|error" "$root/dist/api-extractor.log" >&2 || cat "$root/dist/api-extractor.log" >&2
  echo "The public API changed (or api-extractor failed). Fix: review the change, run \`npm run api\` and commit api/pulumi-golden-image.api.md" >&2
  exit 1
fi

# Services this run starts are stopped at the end; ones already running are left alone.
if ! bash scripts/services.sh status >/dev/null 2>&1; then
  started+=(services)
fi

say "setup: engine, registry, offline bases"
bash scripts/setup.sh >/dev/null
# await_install PID LOG WHAT FIX: a background install's end; its log when it failed, else what it built.
await_install() {
  say "$3"
  if ! wait "$1"; then
    cat "$2" >&2
    echo "installing the $3 failed (messages above). Fix: $4" >&2
    exit 1
  fi
  grep -E "built|building|installed" "$2" >&2 || true
}
await_install "$supply_pid" "$supply/log" "supply-chain tools (cosign, Syft, Grype, Trivy) and the offline vulnerability databases" "bash scripts/supply-chain.sh"
eval "$(cat "$supply/env")"
await_install "$extra_pid" "$extra/log" "Kyverno CLI, AWS CLI and moto" "bash scripts/install-kyverno.sh; bash scripts/install-aws-tools.sh"
await_install "$helm_pid" "$helm/log" "Helm and the Harbor chart" "bash scripts/install-helm.sh --chart"
say "qemu-user-static for the arm64 images ($(bash scripts/install-qemu.sh))"
say "checkov"
GOLDEN_CHECKOV="$(bash scripts/install-checkov.sh | tail -n 1)"
export GOLDEN_CHECKOV
eval "$(bash scripts/services.sh env)"

results="$(mktemp -d)"
status=0
say "unit tests"
npx jest --ci --selectProjects unit --json --outputFile "$results/unit.json" || status=1
say "integration tests (real engine, registry, Checkov)"
npx jest --ci --selectProjects integration --runInBand --json --outputFile "$results/integration.json" || status=1

node -e '
  const fs = require("fs");
  let passed = 0, failed = 0, skipped = 0;
  for (const f of process.argv.slice(1)) {
    if (!fs.existsSync(f)) { failed += 1; continue; }
    const r = JSON.parse(fs.readFileSync(f, "utf8"));
    passed += r.numPassedTests; failed += r.numFailedTests + r.numRuntimeErrorTestSuites;
    skipped += r.numPendingTests + r.numTodoTests;
  }
  console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  if (passed === 0 || skipped > 0) process.exitCode = 1;
' "$results/unit.json" "$results/integration.json" || status=1
exit "$status"
