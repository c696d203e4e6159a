/**
 * Supply-chain benchmark (NOT a test: nothing is asserted): what the SBOM, scan, gate,
 * signature, attestations, their verification and promotion add to a warm local pipeline run,
 * per image of the dev stack, with the real cosign, Syft and scanner.
 *
 * Per image: one unsigned run warms BuildKit's cache; then --runs times a warm unsigned run
 * (pin, render, build, push, verify), a warm signed run (the same plus the supply chain, with
 * --rebuild so it really builds), and a no-op run (unchanged inputs: pin, render, decide, then
 * nothing). Reported: median [min–max] seconds of each, the difference, the no-op run as a share
 * of the signed run, and the median of each supply-chain step. Written to
 * bench/supply-chain-results.md.
 *
 * Run: bash scripts/bench.sh supply-chain [--runs N] [--image NAME ...] [--scanner grype|trivy]
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseArgs } from "util";
import * as YAML from "yaml";
import { SUPPLY_CHAIN_KINDS } from "../components/plan/planner";
import { Scanner, SCANNERS } from "../components/signing/gate";
import { ImageSpec } from "../components/spec/types";
import { RegistryAuth } from "../cli/registry-client";
import { LocalSupplyChain, runLocalPipeline } from "../executors/local";
import { ensureLocalKeyPair, goldenStateDir, localSigning } from "../executors/local-signing";
import { StepEvent } from "../executors/plan-runner";
import { configValuesFromStackFile, parseStackConfig } from "../stacks/config";
import { median, timing } from "./build-bench";

const PREFIX = "bench-sc/";

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { runs: { type: "string", default: "3" }, image: { type: "string", multiple: true }, scanner: { type: "string", default: "grype" }, output: { type: "string" } },
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) {
    throw new Error(`--runs must be a positive integer (got "${values.runs}")`);
  }
  if (!(SCANNERS as readonly string[]).includes(values.scanner as string)) {
    throw new Error(`--scanner must be one of ${SCANNERS.join(", ")}`);
  }
  const repoDir = path.resolve(__dirname, "..", "..");
  const config = parseStackConfig(configValuesFromStackFile(YAML.parse(fs.readFileSync(path.join(repoDir, "Pulumi.dev.yaml"), "utf8"))));
  const images = values.image === undefined ? config.images : config.images.filter((i) => values.image?.includes(i.name));
  const registry = process.env.GOLDEN_REGISTRY ?? "127.0.0.1:5000";
  const mirror = process.env.GOLDEN_MIRROR ?? `${registry}/mirror`;
  const auth = registryAuth();
  const { signing, secretEnv } = localSigning(await ensureLocalKeyPair(goldenStateDir()), config.signing.format ?? "classic");
  const supplyChain: LocalSupplyChain = { signing, secretEnv, gate: { ...config.gate, scanner: values.scanner as Scanner } };
  const projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "golden-sc-bench-"));
  for (const ctx of new Set(images.map((i) => path.normalize(i.context ?? ".")))) {
    fs.cpSync(path.join(repoDir, ctx), path.join(projectDir, ctx), { recursive: true });
  }
  const once = async (spec: ImageSpec, chain: LocalSupplyChain | undefined) => {
    const steps = new Map<string, number>();
    const onEvent = (e: StepEvent) => {
      if (e.state === "done" && e.seconds !== undefined) {
        steps.set(e.step.kind, e.seconds);
      }
    };
    const t0 = process.hrtime.bigint();
    await runLocalPipeline({ images: [spec], policy: config.policy, registry, auth, mirror, repositoryPrefix: PREFIX, projectDir, supplyChain: chain, onEvent });
    return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, steps };
  };
  const rows: string[] = [];
  const stepRows: string[] = [];
  try {
    for (const spec of images) {
      await once(spec, undefined);
      const unsigned: number[] = [];
      const signed: number[] = [];
      const noop: number[] = [];
      const perStep = new Map<string, number[]>();
      for (let i = 1; i <= runs; i++) {
        unsigned.push((await once(spec, undefined)).seconds);
        const s = await once(spec, { ...supplyChain, rebuild: true });
        signed.push(s.seconds);
        noop.push((await once(spec, supplyChain)).seconds);
        for (const kind of SUPPLY_CHAIN_KINDS) {
          perStep.set(kind, [...(perStep.get(kind) ?? []), s.steps.get(kind) ?? NaN]);
        }
        process.stderr.write(`[bench] ${spec.name} run ${i}/${runs}: unsigned ${unsigned[i - 1].toFixed(2)} s, signed ${s.seconds.toFixed(2)} s, no-op ${noop[i - 1].toFixed(2)} s\n`);
      }
      rows.push(`| ${spec.name} | ${timing(unsigned)} | ${timing(signed)} | +${(median(signed) - median(unsigned)).toFixed(2)} | ${timing(noop)} | ${((100 * median(noop)) / median(signed)).toFixed(0)} % |`);
      stepRows.push(`| ${spec.name} | ${SUPPLY_CHAIN_KINDS.map((k) => median(perStep.get(k) ?? []).toFixed(2)).join(" | ")} |`);
    }
  } finally {
    fs.rmSync(projectDir, { recursive: true, force: true });
  }
  const report = [
    `# Supply-chain benchmark (${new Date().toISOString().slice(0, 10)}, ${values.scanner}, ${runs} run(s), nproc ${os.cpus().length}, Node ${process.version})`,
    "",
    "Warm runs of the local pipeline per image, seconds, median [min–max]: without the supply chain (pin, render, build, push, verify), with it (plus SBOM, scan, gate, sign, attest, verify signatures, promote; `--rebuild`), and the no-op run of unchanged inputs (pin, render, decide; nothing built or pushed) with its share of the signed run.",
    "",
    "| image | warm, unsigned | warm, signed | added | no-op (unchanged) | no-op / signed |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows,
    "",
    "Median seconds of each supply-chain step:",
    "",
    `| image | ${SUPPLY_CHAIN_KINDS.join(" | ")} |`,
    `| --- | ${SUPPLY_CHAIN_KINDS.map(() => "---").join(" | ")} |`,
    ...stepRows,
    "",
  ].join("\n");
  const output = path.resolve(values.output ?? path.join(repoDir, "bench", "supply-chain-results.md"));
  fs.writeFileSync(output, report);
  process.stdout.write(report);
  return 0;
}

function registryAuth(): RegistryAuth | undefined {
  const username = process.env.GOLDEN_REGISTRY_USER;
  const file = process.env.GOLDEN_REGISTRY_PASSWORD_FILE;
  return username !== undefined && file !== undefined && fs.existsSync(file) ? { username, password: fs.readFileSync(file, "utf8").trim() } : undefined;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`supply-chain-bench: ${(e as Error).message}\n`);
      process.exit(1);
    },
  );
}
