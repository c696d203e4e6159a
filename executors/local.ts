/**
 * The local executor: the golden-image plan on this machine, with BuildKit (buildkitd) and a
 * local OCI registry. It plans every image, runs the plan, and reports an image done only
 * when its verify step proved the registry serves the digest that was built and pushed.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { imageWorkDir, PinInput, planImages, SupplyChainTarget } from "../components/plan/planner";
import { GatePolicy, GateVerdict, verdictSummary } from "../components/signing/gate";
import { SigningPlan } from "../components/signing/types";
import { Plan, Step } from "../components/plan/types";
import { throwIfIssues } from "../components/render/issues";
import { validateImages } from "../components/render/validate";
import { EnvironmentPolicy, ImageSpec } from "../components/spec/types";
import { writeDockerConfig } from "../cli/docker-config";
import { PromotionRecord, readPromotionRecord } from "../cli/steps";
import { isLoopbackHost, RegistryAuth, RegistryClient } from "../cli/registry-client";
import { run, runPlan, StepEvent, StepOutcome, toolCommand } from "./plan-runner";

export interface LocalRunOptions {
  readonly images: readonly ImageSpec[];
  readonly policy: EnvironmentPolicy;
  /** host:port of the registry images are pushed to. */
  readonly registry: string;
  readonly auth?: RegistryAuth;
  /** Registry prefix that serves the bases (replaces the stack's mirror). */
  readonly mirror: string;
  /** Repository prefix below the registry: empty, or ending in "/". @default "golden/" */
  readonly repositoryPrefix?: string;
  /** Directory that specs' contexts are relative to, and where `.golden/` is written. */
  readonly projectDir: string;
  /** Release prefix of the content tag. @default "v" */
  readonly tagPrefix?: string;
  readonly onEvent?: (event: StepEvent) => void;
  /** Environment of the steps. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** SBOM, scan gate, signature, attestations, verification and promotion after the push.
   *  @default none: build, push and verify only (nothing is signed or promoted) */
  readonly supplyChain?: LocalSupplyChain;
}

/** The supply chain of a local run: how to sign (key references and the secrets behind them) and the gate. */
export interface LocalSupplyChain {
  readonly signing: SigningPlan;
  /** Environment only the steps see, e.g. COSIGN_PASSWORD and `env://` keys; never in the plan. */
  readonly secretEnv?: Readonly<Record<string, string>>;
  readonly gate: GatePolicy;
  /** Source revision for the provenance when a spec gives none. */
  readonly revision?: string;
  /** Build even when the inputs equal the promoted ones. @default false */
  readonly rebuild?: boolean;
  /** Fingerprint of the verification key: a new key makes every image build and sign again. */
  readonly keyFingerprint?: string;
}

/** Where promotion records live, relative to the project directory. */
export const PROMOTION_DIR = ".golden/promoted";
/** The builder id in the provenance of a local run. */
export const LOCAL_BUILDER_ID = "urn:pulumi-golden-image:executor:local";

export interface ImageResult {
  readonly image: string;
  readonly flavor: string;
  readonly ref: string;
  readonly taggedRef: string;
  readonly digest: string;
  readonly sizeBytes: number;
  readonly user: string;
  readonly buildSeconds: number;
  readonly baseDigest?: string;
  readonly dockerfile: string;
  /** The gate's verdict, e.g. `passed (0 below HIGH)` (runs with a supply chain). */
  readonly gate?: string;
  /** `verified` when the signature and every attestation verified with the public key. */
  readonly signature?: string;
  /** The promoted reference (runs with a supply chain). */
  readonly promoted?: string;
  /** Set when nothing was built or pushed: the inputs equal the promoted ones (the reason). */
  readonly unchanged?: string;
}

export interface ImageFailure {
  readonly image: string;
  readonly step: string;
  readonly message: string;
  readonly log?: string;
}

/** Some image failed a step. `completed` lists what was pushed and verified all the same. */
export class StepError extends Error {
  public readonly image: string;
  public readonly step: string;
  constructor(
    public readonly failures: readonly ImageFailure[],
    public readonly completed: readonly ImageResult[],
  ) {
    super(failures.map((f) => `${f.image}: step ${f.step} failed: ${f.message}`).join("\n"));
    this.image = failures[0].image;
    this.step = failures[0].step;
  }
}

/** The machine is not ready: a daemon or the CLI build is missing. Exit code 2, like bad input. */
export class SetupError extends Error {}

export const LOCAL_DEFAULTS = { repositoryPrefix: "golden/", tagPrefix: "v" } as const;

/** The plan the local executor runs (and the script renderer renders) for these images. */
export function localPlan(options: Pick<LocalRunOptions, "images" | "policy" | "registry" | "mirror" | "repositoryPrefix" | "tagPrefix" | "supplyChain">): Plan {
  const prefix = options.repositoryPrefix ?? LOCAL_DEFAULTS.repositoryPrefix;
  const insecure = isLoopbackHost(options.registry);
  const chain = options.supplyChain;
  const supplyChain: SupplyChainTarget | undefined =
    chain === undefined
      ? undefined
      : {
          signing: chain.signing,
          gate: chain.gate,
          promotionStore: PROMOTION_DIR,
          builderId: LOCAL_BUILDER_ID,
          ...(chain.revision !== undefined ? { revision: chain.revision } : {}),
          ...(chain.rebuild === true ? { rebuild: true } : {}),
          ...(chain.keyFingerprint !== undefined ? { keyFingerprint: chain.keyFingerprint } : {}),
        };
  return planImages(options.images, options.policy, (spec) => ({
    repository: `${options.registry}/${prefix}${spec.name}`,
    mirror: options.mirror,
    insecure,
    tagPrefix: options.tagPrefix ?? LOCAL_DEFAULTS.tagPrefix,
    ...(supplyChain !== undefined ? { supplyChain } : {}),
  }));
}

/** Fails with the problem and the fix when BuildKit does not answer. */
export async function checkBuildKit(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const [cmd, ...pre] = toolCommand("buildctl", env);
  const r = await run(cmd, [...pre, "debug", "workers"], { env, timeoutMs: 20000 });
  if (r.code !== 0) {
    const why = r.output.trim().split("\n").pop() ?? "no answer";
    throw new SetupError(
      `the BuildKit daemon does not answer at ${env.BUILDKIT_HOST ?? "its default address"} (${why}). Fix: start it with \`bash scripts/services.sh start\` and \`eval "$(bash scripts/services.sh env)"\``,
    );
  }
}

/** Validates every spec, then runs the plan. Throws ValidationError (nothing run) or StepError. */
export async function runLocalPipeline(options: LocalRunOptions): Promise<ImageResult[]> {
  throwIfIssues("Invalid golden image spec", validateImages(options.images, options.policy, "images", "policy"));
  const baseEnv = options.env ?? process.env;
  const client = new RegistryClient(options.registry, options.auth);
  await checkBuildKit(baseEnv);
  await client.ping();

  const plan = localPlan(options);
  // One run at a time per project: the plan's files under .golden/run would clobber each other.
  const releaseLock = lockProject(options.projectDir);
  // Logins go to the steps through a private Docker config, never through their arguments.
  const configDir = fs.mkdtempSync(path.join(os.tmpdir(), "golden-auth-"));
  let outcomes: StepOutcome[];
  try {
    const env: NodeJS.ProcessEnv = { ...baseEnv, ...(options.supplyChain?.secretEnv ?? {}) };
    if (options.auth !== undefined) {
      writeDockerConfig(configDir, options.registry, options.auth);
      env.DOCKER_CONFIG = configDir;
      env.REGISTRY_AUTH_FILE = path.join(configDir, "config.json");
    }
    outcomes = await runPlan(plan, { cwd: options.projectDir, env, tools: { golden: goldenCommand(baseEnv) }, onEvent: options.onEvent });
  } finally {
    fs.rmSync(configDir, { recursive: true, force: true });
    releaseLock();
  }

  const results: ImageResult[] = [];
  const failures: ImageFailure[] = [];
  for (const spec of options.images) {
    const mine = outcomes.filter((o) => o.step.image === spec.name);
    const failed = mine.find((o) => o.state === "failed");
    if (failed !== undefined) {
      const promoted = readPromotion(options.projectDir, spec.name);
      failures.push({
        image: spec.name,
        step: failed.step.kind,
        message: `${failed.message ?? "failed"}${options.supplyChain !== undefined ? `; not promoted (${promoted !== undefined ? `the approved digest stays ${promoted}` : "no approved digest yet"})` : ""}`,
        log: failed.log,
      });
      continue;
    }
    const skipped = mine.find((o) => o.step.kind === "build" && o.state === "unchanged");
    results.push(skipped !== undefined ? await unchangedResult(spec, mine, options, client) : await imageResult(spec, mine, options, client));
  }
  if (failures.length > 0) {
    throw new StepError(failures, results);
  }
  return results;
}

async function imageResult(spec: ImageSpec, outcomes: readonly StepOutcome[], options: LocalRunOptions, client: RegistryClient): Promise<ImageResult> {
  const file = (kind: string, output: string) => {
    const step = outcomes.find((o) => o.step.kind === kind)?.step as Step;
    return fs.readFileSync(path.join(options.projectDir, step.outputs[output]), "utf8");
  };
  const ref = file("verify", "ref").trim();
  const digest = ref.slice(ref.indexOf("@") + 1);
  const repository = ref.slice(0, ref.indexOf("@"));
  const repoPath = repository.slice(options.registry.length + 1);
  const pinned = JSON.parse(file("pin", "pinned")) as PinInput;
  const config = await client.imageConfig(repoPath, digest);
  return {
    image: spec.name,
    flavor: spec.flavor,
    ref,
    taggedRef: `${repository}:${file("render", "tag").trim()}`,
    digest,
    sizeBytes: await client.imageSize(repoPath, digest),
    user: config.User ?? "",
    buildSeconds: outcomes.reduce((s, o) => s + o.seconds, 0),
    baseDigest: pinned.spec.base?.split("@")[1],
    dockerfile: file("render", "dockerfile"),
    ...(options.supplyChain !== undefined
      ? {
          gate: verdictSummary(JSON.parse(file("assess", "verdict")) as GateVerdict),
          signature: "verified",
          promoted: (JSON.parse(file("promote", "record")) as { ref: string }).ref,
        }
      : {}),
  };
}

/** An image the plan skipped: what its promotion record and the registry say. */
async function unchangedResult(spec: ImageSpec, outcomes: readonly StepOutcome[], options: LocalRunOptions, client: RegistryClient): Promise<ImageResult> {
  const record = readPromotionRecord(path.join(options.projectDir, PROMOTION_DIR), spec.name) as PromotionRecord;
  const decide = outcomes.find((o) => o.step.kind === "decide")?.step as Step;
  const reason = fs.readFileSync(path.join(options.projectDir, decide.outputs.decision), "utf8").split("\n").slice(1).join(" ").trim();
  const repository = record.ref.slice(0, record.ref.indexOf("@"));
  const repoPath = repository.slice(options.registry.length + 1);
  const config = await client.imageConfig(repoPath, record.digest);
  const render = outcomes.find((o) => o.step.kind === "render")?.step as Step;
  return {
    image: spec.name,
    flavor: spec.flavor,
    ref: record.ref,
    taggedRef: `${repository}:${record.tag}`,
    digest: record.digest,
    sizeBytes: await client.imageSize(repoPath, record.digest),
    user: config.User ?? "",
    buildSeconds: outcomes.reduce((s, o) => s + o.seconds, 0),
    dockerfile: fs.readFileSync(path.join(options.projectDir, render.outputs.dockerfile), "utf8"),
    gate: record.gate,
    signature: "unchanged",
    promoted: record.ref,
    unchanged: reason,
  };
}

/** The approved reference of an image (its promotion record), if any. */
export function readPromotion(projectDir: string, image: string): string | undefined {
  return readPromotionRecord(path.join(projectDir, PROMOTION_DIR), image)?.ref;
}

/**
 * Takes `.golden/run.lock` in the project (the holder's pid inside). A lock whose process is gone
 * is taken over; a live one is refused with the fix. Returns the release function.
 */
export function lockProject(projectDir: string): () => void {
  const file = path.join(projectDir, ".golden", "run.lock");
  fs.mkdirSync(path.dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, `${process.pid}\n`, { flag: "wx" });
      return () => fs.rmSync(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") {
        throw e;
      }
      const holder = Number(fs.readFileSync(file, "utf8").trim());
      if (Number.isInteger(holder) && holder > 0 && processAlive(holder)) {
        throw new SetupError(`another golden run (pid ${holder}) is using ${path.join(projectDir, ".golden")}. Fix: wait for it to finish, or build from another --project-dir`);
      }
      fs.rmSync(file, { force: true });
    }
  }
  throw new SetupError(`could not take ${file}. Fix: remove it if no golden run is active`);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** This package's own CLI, run by the same Node: `GOLDEN_CLI` when set, else dist/cli/golden.js. */
export function goldenCommand(env: NodeJS.ProcessEnv = process.env): readonly string[] {
  const given = env.GOLDEN_CLI?.trim();
  if (given !== undefined && given !== "") {
    return given.split(/\s+/);
  }
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, "package.json")) && path.dirname(dir) !== dir) {
    dir = path.dirname(dir);
  }
  const bin = path.join(dir, "dist", "cli", "golden.js");
  if (!fs.existsSync(bin)) {
    throw new SetupError(`the golden CLI is not built (${bin} is missing). Fix: run \`npm run build\``);
  }
  return [process.execPath, bin];
}

export { imageWorkDir };
