#!/usr/bin/env bash
# The boundary fuzzer at benchmark size (bench/fuzz-bench.ts): 20,000 cases by default.
# usage: [FUZZ_RUNS=N] [FUZZ_SEED=S] bash scripts/fuzz-bench.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=".golden/fuzz-bench"
rm -rf "$out"
echo "[fuzz-bench] compiling (tsc -p tsconfig.json into $out)" >&2
npx tsc -p tsconfig.json --outDir "$out" --declaration false --sourceMap false >&2
# Build (or find) the BuildKit judge before the clock starts.
GOLDEN_DOCKERFILE_JUDGE="${GOLDEN_DOCKERFILE_JUDGE:-$(bash scripts/install-go-tool.sh dockerfile-judge)}" \
  node "$out/bench/fuzz-bench.js"
