/**
 * `golden step pin|render|verify`: the plan's own steps (components/plan), run by any executor
 * (the local one, the rendered script, a CodeBuild job). Each reads its inputs from files,
 * writes its result to a file, and ends with one line naming the problem and the fix on
 * failure. Registry logins come from the Docker config ($DOCKER_CONFIG), never from arguments.
 */
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { contentTag } from "../components/image/context-hash";
import { gitSourceReader, SourceReader, specWithGitSource } from "../components/image/git-source";
import { PinInput } from "../components/plan/planner";
import { renderDockerfile } from "../components/render/dockerfile";
import { formatIssue, ValidationError } from "../components/render/issues";
import { lintDockerfile } from "../components/render/lint";
import { applyPins, baseReferences } from "../components/render/pin";
import { resolveImage } from "../components/render/resolve";
import { parseReference } from "../components/spec/reference";
import { EnvironmentPolicy, ImageSpec } from "../components/spec/types";
import { evaluateGate, findingsOf, GatePolicy, mergeScanReports, gatePolicyIssues, GateVerdict, Scanner, SCANNERS, verdictSummary } from "../components/signing/gate";
import { provenancePredicate, vulnPredicate } from "../components/signing/predicates";
import { registryAuthFor } from "./docker-config";
import { parsePromotionStore } from "../components/plan/promotion-store";
import { BuiltInputs, openPromotionStore, PromotionRecord, PromotionStore, PromotionStoreError, recordText } from "./promotion-store";
import { isLoopbackHost, RegistryClient } from "./registry-client";

/** A step's failure: the message names the problem and the fix. Exit code 1 (2 for bad input). */
export class StepFailure extends Error {
  constructor(
    message: string,
    public readonly exitCode = 1,
  ) {
    super(message);
  }
}

export async function runStepCommand(argv: readonly string[]): Promise<number> {
  const [kind, ...rest] = argv;
  switch (kind) {
    case "pin":
      await pinStep(rest);
      return 0;
    case "render":
      renderStep(rest);
      return 0;
    case "verify":
      await verifyStep(rest);
      return 0;
    case "assess":
      assessStep(rest);
      return 0;
    case "gate":
      gateStep(rest);
      return 0;
    case "provenance":
      provenanceStep(rest);
      return 0;
    case "promote":
      promoteStep(rest);
      return 0;
    case "decide":
      await decideStep(rest);
      return 0;
    default:
      throw new StepFailure(`unknown step "${kind ?? ""}". Fix: use pin, render, decide, verify, assess, gate, provenance or promote (the plan's golden steps)`, 2);
  }
}

function options<T extends Record<string, { type: "string" | "boolean"; multiple?: boolean }>>(argv: readonly string[], spec: T, required: readonly (keyof T & string)[]) {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: [...argv], options: spec, allowPositionals: false }).values as Record<string, string | boolean | undefined>;
  } catch (e) {
    throw new StepFailure(`${(e as Error).message}. Fix: see \`golden --help\``, 2);
  }
  const missing = required.filter((k) => values[k] === undefined);
  if (missing.length > 0) {
    throw new StepFailure(`missing ${missing.map((m) => `--${m}`).join(", ")}. Fix: the plan passes them; run the step from a rendered plan`, 2);
  }
  return values as { [K in keyof T]: T[K]["type"] extends "boolean" ? boolean | undefined : string };
}

function readJson<T>(file: string, what: string): T {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as T;
  } catch (e) {
    throw new StepFailure(`cannot read ${what} ${file} (${(e as Error).message.split("\n")[0]}). Fix: run the steps it needs first`, 2);
  }
}

function writeResult(file: string, content: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(`${file}.tmp`, content);
  fs.renameSync(`${file}.tmp`, file);
}

/** A client for `host`, plain HTTP only where allowed and only to loopback. */
function clientFor(host: string, insecure: boolean): RegistryClient {
  if (insecure && !isLoopbackHost(host)) {
    throw new StepFailure(`--insecure (plain HTTP) is only allowed for a loopback registry, not ${host}. Fix: use TLS for ${host}`, 2);
  }
  return new RegistryClient(host, registryAuthFor(host), { plainHttp: insecure });
}

/**
 * Pins every base and builder reference to the digest its registry serves (components/render/pin.ts
 * lists them, as for `pulumi up`). A reference that already has a digest must be served at exactly
 * that digest (fail closed on a stale pin). The source labels the spec leaves out are taken from
 * the checkout here too (`source`: git in the current directory, the project's), as HardenedImage
 * does, so both paths render the same labels and the render step stays a pure function of its file.
 */
export async function pinSpec(
  spec: ImageSpec,
  policy: EnvironmentPolicy,
  clients: (host: string) => RegistryClient,
  source: SourceReader = gitSourceReader,
): Promise<{ spec: ImageSpec; policy: EnvironmentPolicy }> {
  const digests: Record<string, string> = {};
  for (const { property, ref } of baseReferences(spec, policy.mirror)) {
    const parsed = parseReference(ref);
    if (parsed.host === undefined) {
      throw new StepFailure(`${property} "${ref}" names no registry. Fix: give a mirror (--mirror HOST/PREFIX) or a reference with a host`);
    }
    const digest = await clients(parsed.host).digestOf(parsed.path, parsed.digest ?? parsed.tag ?? "latest");
    if (digest === undefined) {
      throw new StepFailure(`${property} "${ref}" is not in the registry. Fix: run \`bash scripts/bases.sh\` to build the offline bases, or push that base there`);
    }
    if (parsed.digest !== undefined && parsed.digest !== digest) {
      throw new StepFailure(`${property} "${ref}" is served at ${digest}, not at the pinned digest. Fix: update the pin`);
    }
    digests[property] = digest;
    // The runtime stage is built FROM the base for every target platform: a base that lacks one
    // would be used for it anyway (BuildKit only warns) and give an image of the wrong machine.
    if (property === "base" && spec.platforms !== undefined) {
      const served = await clients(parsed.host).platformsOf(parsed.path, digest);
      const missing = spec.platforms.filter((p) => !served.includes(p));
      if (missing.length > 0) {
        throw new StepFailure(
          `base "${ref}" serves ${served.join(", ") || "no platform"}, not ${missing.join(", ")} of platforms ${JSON.stringify(spec.platforms)}. Fix: use a base whose index has every platform (the offline distroless static and cc bases have linux/amd64 and linux/arm64), or remove ${missing.join(", ")} from platforms`,
        );
      }
    }
  }
  let labelled: ImageSpec;
  try {
    labelled = specWithGitSource(spec, source);
  } catch (e) {
    throw new StepFailure((e as Error).message, 2);
  }
  return applyPins(labelled, policy, digests);
}

async function pinStep(argv: readonly string[]): Promise<void> {
  const o = options(argv, { spec: { type: "string" }, mirror: { type: "string" }, insecure: { type: "boolean" }, output: { type: "string" } }, ["spec", "mirror", "output"]);
  const input = readJson<PinInput>(o.spec, "the spec file");
  const clients = new Map<string, RegistryClient>();
  const client = (host: string) => {
    if (!clients.has(host)) {
      clients.set(host, clientFor(host, o.insecure === true));
    }
    return clients.get(host) as RegistryClient;
  };
  // Every reference is pinned from here on, so the rest of the plan runs under digests-required rules.
  const pinned = await pinSpec(input.spec, { ...input.policy, mirror: o.mirror }, client);
  writeResult(o.output, `${JSON.stringify(pinned satisfies PinInput, null, 2)}\n`);
}

function renderStep(argv: readonly string[]): void {
  const o = options(
    argv,
    { spec: { type: "string" }, context: { type: "string" }, "tag-prefix": { type: "string" }, "output-dir": { type: "string" } },
    ["spec", "context", "tag-prefix", "output-dir"],
  );
  const input = readJson<PinInput>(o.spec, "the pinned spec");
  let dockerfile: string;
  try {
    dockerfile = renderDockerfile(input.spec, input.policy);
  } catch (e) {
    if (e instanceof ValidationError) {
      throw new StepFailure(`${e.issues.map(formatIssue).join("; ")}. Fix: correct the spec`, 2);
    }
    throw e;
  }
  const resolved = resolveImage(input.spec, input.policy);
  const lint = lintDockerfile(dockerfile, { requireDigest: true, shellless: !resolved.runtimeHasShell });
  if (lint.length > 0) {
    throw new StepFailure(`the rendered Dockerfile fails the lint: ${lint.map(formatIssue).join("; ")}`);
  }
  if (!fs.existsSync(o.context) || !fs.statSync(o.context).isDirectory()) {
    throw new StepFailure(`build context ${o.context} is not a directory. Fix: set the spec's context to a directory of the project`, 2);
  }
  let tag: string;
  try {
    // The plan runs steps from the project directory: the context must stay inside it.
    tag = contentTag(dockerfile, o.context, o["tag-prefix"], {
      platforms: resolved.platforms,
      buildArgs: { SOURCE_DATE_EPOCH: String(resolved.sourceDateEpoch) },
      baseDirectory: process.cwd(),
    });
  } catch (e) {
    if (e instanceof ValidationError) {
      throw new StepFailure(`${e.issues.map(formatIssue).join("; ")}`, 2);
    }
    throw e;
  }
  writeResult(path.join(o["output-dir"], "Dockerfile"), dockerfile);
  writeResult(path.join(o["output-dir"], "tag"), `${tag}\n`);
}

async function verifyStep(argv: readonly string[]): Promise<void> {
  const o = options(
    argv,
    { ref: { type: "string" }, "digest-file": { type: "string" }, metadata: { type: "string" }, insecure: { type: "boolean" }, output: { type: "string" } },
    ["ref", "digest-file", "metadata", "output"],
  );
  const ref = parseReference(o.ref);
  if (ref.host === undefined || ref.tag === undefined) {
    throw new StepFailure(`--ref ${o.ref} is not host/path:tag. Fix: the plan passes the pushed tag`, 2);
  }
  const pushed = fs.existsSync(o["digest-file"]) ? fs.readFileSync(o["digest-file"], "utf8").trim() : "";
  const built = readJson<Record<string, unknown>>(o.metadata, "the build metadata")["containerimage.digest"];
  if (!/^sha256:[a-f0-9]{64}$/.test(pushed)) {
    throw new StepFailure(`the push wrote no digest to ${o["digest-file"]}. Fix: rerun the push step`);
  }
  if (built !== pushed) {
    throw new StepFailure(`the push stored ${pushed}, but the build made ${String(built)}: the registry changed the image. Fix: push with digests preserved`);
  }
  const served = await clientFor(ref.host, o.insecure === true).digestOf(ref.path, ref.tag);
  if (served !== pushed) {
    throw new StepFailure(`the registry serves ${o.ref} at ${served ?? "nothing"}, not at the pushed ${pushed}. Fix: check that nothing else writes this tag (tags must be immutable)`);
  }
  writeResult(o.output, `${ref.host}/${ref.path}@${pushed}\n`);
}

/** Reads the scanner's report, applies the gate policy, writes the verdict and the scan report predicate. Exit 0 whatever the verdict. */
function assessStep(argv: readonly string[]): void {
  const o = options(argv, { scanner: { type: "string" }, report: { type: "string" }, "platform-report": { type: "string", multiple: true }, policy: { type: "string" }, "output-dir": { type: "string" } }, ["scanner", "report", "policy", "output-dir"]);
  if (!(SCANNERS as readonly string[]).includes(o.scanner)) {
    throw new StepFailure(`--scanner ${o.scanner} is not a scanner. Fix: use ${SCANNERS.join(" or ")}`, 2);
  }
  const scanner = o.scanner as Scanner;
  const policy = readJson<GatePolicy>(o.policy, "the gate policy");
  const problems = gatePolicyIssues(policy, "gate");
  if (problems.length > 0) {
    throw new StepFailure(`the gate policy is invalid: ${problems.map(formatIssue).join("; ")}`, 2);
  }
  // A multi-platform image: one report per platform, judged together (any platform can block).
  const files = [o.report, ...((o["platform-report"] as unknown as string[] | undefined) ?? [])];
  let report: Record<string, any>;
  let verdict: GateVerdict;
  let file = o.report;
  try {
    const reports = files.map((f) => {
      file = f;
      const r = readJson<Record<string, any>>(f, `the ${scanner} report`);
      findingsOf(scanner, r);
      return r;
    });
    report = mergeScanReports(scanner, reports);
    verdict = evaluateGate(findingsOf(scanner, report), policy, new Date());
  } catch (e) {
    if (e instanceof StepFailure) {
      throw e;
    }
    throw new StepFailure(`${file}: ${(e as Error).message}. Fix: check that the scan step ran ${scanner} with JSON output`);
  }
  writeResult(path.join(o["output-dir"], "verdict.json"), `${JSON.stringify(verdict, null, 2)}\n`);
  writeResult(path.join(o["output-dir"], "vuln.json"), `${JSON.stringify(vulnPredicate(scanner, report, policy, verdict))}\n`);
  process.stdout.write(`gate: ${verdictSummary(verdict)}\n`);
}

/** The gate itself: exit 1 with what blocked when the verdict failed. */
function gateStep(argv: readonly string[]): void {
  const o = options(argv, { verdict: { type: "string" } }, ["verdict"]);
  const verdict = readJson<GateVerdict>(o.verdict, "the gate verdict");
  if (typeof verdict.passed !== "boolean") {
    throw new StepFailure(`${o.verdict} is not a gate verdict. Fix: rerun the assess step`, 2);
  }
  if (!verdict.passed) {
    throw new StepFailure(`the vulnerability gate ${verdictSummary(verdict)}`);
  }
  process.stdout.write(`gate: ${verdictSummary(verdict)}\n`);
}

function provenanceStep(argv: readonly string[]): void {
  const o = options(
    argv,
    { pinned: { type: "string" }, dockerfile: { type: "string" }, tag: { type: "string" }, revision: { type: "string" }, "builder-id": { type: "string" }, output: { type: "string" } },
    ["pinned", "dockerfile", "tag", "builder-id", "output"],
  );
  const pinned = readJson<PinInput>(o.pinned, "the pinned spec");
  if (!fs.existsSync(o.dockerfile)) {
    throw new StepFailure(`the rendered Dockerfile ${o.dockerfile} is missing. Fix: run the render step first`, 2);
  }
  const predicate = provenancePredicate({
    spec: pinned.spec,
    policy: pinned.policy,
    dockerfile: fs.readFileSync(o.dockerfile, "utf8"),
    tag: o.tag,
    revision: o.revision,
    builderId: o["builder-id"],
  });
  writeResult(o.output, `${JSON.stringify(predicate, null, 2)}\n`);
}

export type { PromotionRecord } from "./promotion-store";

/** The promotion record of an image in a directory store, or undefined when there is none (or it cannot be read). */
export function readPromotionRecord(store: string, image: string): PromotionRecord | undefined {
  return openPromotionStore(store).read(image);
}

/** Opens the step's store; a store that cannot be read or written is the step's failure. */
function storeOf(store: string): PromotionStore {
  try {
    return openPromotionStore(store);
  } catch (e) {
    throw new StepFailure((e as Error).message, 2);
  }
}

function storeCall<T>(call: () => T): T {
  try {
    return call();
  } catch (e) {
    if (e instanceof PromotionStoreError) {
      throw new StepFailure(e.message);
    }
    throw e;
  }
}

/**
 * Skip when unchanged: writes `unchanged` and the reason when the content tag and the supply-chain
 * settings equal the promoted ones and the registry still serves the promoted digest; else
 * `build` and why. The plan runs every later step of the image only on `build`.
 */
async function decideStep(argv: readonly string[]): Promise<void> {
  const o = options(
    argv,
    { image: { type: "string" }, repository: { type: "string" }, tag: { type: "string" }, settings: { type: "string" }, store: { type: "string" }, insecure: { type: "boolean" }, output: { type: "string" } },
    ["image", "repository", "tag", "settings", "store", "output"],
  );
  const store = storeOf(o.store);
  const record = storeCall(() => store.read(o.image));
  const decide = (decision: "build" | "unchanged", reason: string) => {
    writeResult(o.output, `${decision}\n${reason}\n`);
    process.stdout.write(`decide: ${decision}: ${reason}\n`);
  };
  if (/^(1|true|yes)$/i.test(process.env.GOLDEN_REBUILD ?? "")) {
    // The executor asked for a rebuild (a finding, `golden build --rebuild` on a remote executor):
    // scan, sign and verify again even though the inputs did not change.
    return decide("build", "a rebuild was asked for (GOLDEN_REBUILD)");
  }
  if (record === undefined) {
    return decide("build", "no approved digest yet");
  }
  if (record.tag !== o.tag) {
    return decide("build", `inputs changed: ${record.tag ?? "no recorded tag"} -> ${o.tag}`);
  }
  if (record.settings !== o.settings) {
    return decide("build", "the gate or signing settings changed");
  }
  const repo = parseReference(`${o.repository}:x`);
  if (repo.host === undefined || !record.ref.startsWith(`${o.repository}@`)) {
    return decide("build", `the approved ${record.ref} is not in ${o.repository}`);
  }
  const served = await clientFor(repo.host, o.insecure === true).digestOf(repo.path, record.digest);
  if (served !== record.digest) {
    return decide("build", `the registry no longer serves the approved ${record.digest}`);
  }
  decide("unchanged", `inputs equal the approved ${record.ref} (${record.tag})`);
}

/**
 * Records the approved digest in the promotion store (cli/promotion-store.ts): a directory
 * (atomically, a write then a rename), SSM parameters or a ConfigMap. The plan runs this step only
 * after every verification passed, so a failed run leaves the previous record in place.
 */
function promoteStep(argv: readonly string[]): void {
  const o = options(
    argv,
    { image: { type: "string" }, ref: { type: "string" }, tag: { type: "string" }, settings: { type: "string" }, verdict: { type: "string" }, store: { type: "string" }, output: { type: "string" } },
    ["image", "ref", "tag", "settings", "verdict", "store", "output"],
  );
  const at = o.ref.lastIndexOf("@");
  const digest = at > 0 ? o.ref.slice(at + 1) : "";
  if (!/^sha256:[a-f0-9]{64}$/.test(digest)) {
    throw new StepFailure(`--ref ${o.ref} is not a reference by digest. Fix: promote the digest the verify step wrote`, 2);
  }
  const verdict = readJson<GateVerdict>(o.verdict, "the gate verdict");
  if (verdict.passed !== true) {
    throw new StepFailure(`${o.image} did not pass the gate; it is not promoted. Fix: see the gate step`);
  }
  const store = storeOf(o.store);
  // Only a directory store keeps what was built (an SSM parameter holds 4 KB).
  const built = parsePromotionStore(o.store).kind === "directory" ? builtInputs(path.dirname(o.output)) : undefined;
  const record: PromotionRecord = { image: o.image, ref: o.ref, digest, gate: verdictSummary(verdict), tag: o.tag, settings: o.settings, ...(built !== undefined ? { built } : {}) };
  storeCall(() => store.write(record));
  writeResult(o.output, recordText(record));
  process.stdout.write(`promote: ${o.image} -> ${o.ref} (${store.description})\n`);
}

/**
 * What `golden diff` compares a stack with: the spec as written, the pins and the Dockerfile that
 * were built. The plan keeps them in the image's work directory, beside the record the promote
 * step writes (components/plan/planner.ts: spec.json, pinned.json, render/Dockerfile); undefined
 * when one is missing (another executor's layout), and the record is written without them.
 */
export function builtInputs(workDir: string): BuiltInputs | undefined {
  const read = (file: string): string | undefined => {
    try {
      return fs.readFileSync(path.join(workDir, file), "utf8");
    } catch {
      return undefined;
    }
  };
  const [written, pinnedText, dockerfile] = [read("spec.json"), read("pinned.json"), read(path.join("render", "Dockerfile"))];
  if (written === undefined || pinnedText === undefined || dockerfile === undefined) {
    return undefined;
  }
  try {
    const input = JSON.parse(written) as PinInput;
    const pinned = JSON.parse(pinnedText) as PinInput;
    const mirror = pinned.policy.mirror ?? "";
    const pins = Object.fromEntries(baseReferences(pinned.spec, mirror).map((r) => [r.property, r.ref]));
    return { spec: input.spec, policy: input.policy, mirror, pins, dockerfile };
  } catch {
    return undefined;
  }
}
