#!/usr/bin/env node
/**
 * `golden`: the golden-image pipeline on the embedded default (local Docker engine, local
 * registry). Reads the same image specs the stack passes to GoldenImagePipeline: the
 * `golden-images:*` config of Pulumi.<stack>.yaml.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseArgs } from "util";
import * as YAML from "yaml";
import { renderDockerfile } from "../components/render/dockerfile";
import { readGitFacts, specWithGitSource } from "../components/image/git-source";
import { formatIssue, ValidationError } from "../components/render/issues";
import { CATALOG, FLAVORS } from "../components/spec/catalog";
import type { StackConfig } from "../stacks/config";
import { renderPlanScript } from "../components/plan/script";
import { ImageResult, LocalSupplyChain, localPlan, PROMOTION_DIR, readPromotion, runLocalPipeline, SetupError, StepError } from "../executors/local";
import { ensureLocalKeyPair, goldenStateDir, keyFingerprint, localSigning, localSigningPlan } from "../executors/local-signing";
import { cosignVerifyArgs } from "../components/signing/cosign";
import { SIGNING_DEFAULTS, SigningPlan } from "../components/signing/types";
import { writeDockerConfig } from "./docker-config";
import { resolveDigestRef, verifySigned } from "./verify";
import { StepEvent } from "../executors/plan-runner";
import { isLoopbackHost, RegistryAuth, RegistryClient, RegistryError } from "./registry-client";
import { runStepCommand, StepFailure } from "./steps";
import { openPromotionStore } from "./promotion-store";

const HELP = `golden: build and push golden images locally (BuildKit + local registry)

Usage:
  golden build    [options]   run the pipeline plan of every image: pin, render, build, push, verify,
                              then SBOM, scan and gate, sign, attest, verify signatures, promote
  golden verify IMAGE [opts]  check an image (a stack image name, or host/repo:tag or @digest) against
                              the stack's signing policy: signature, SBOM, scan report, provenance
  golden plan     [options]   print the plan as JSON, or with --script as the POSIX script that runs it
  golden render   [options]   print the rendered Dockerfiles (bases as configured)
  golden validate [options]   check the stack's image specs and policy, build nothing
  golden diff     [options]   what a change to the stack rebuilds, for a pull request's reviewer: per image
                              the Dockerfile diff, base digest, spec and context changes, added or removed;
                              against the promoted images or a git revision (--against)
  golden flavors              list the runtime flavors of the base catalog
  golden step KIND ...        one golden step of a plan (pin, render, decide, verify, assess, gate,
                              provenance, promote: what \`golden plan --script\` runs)

Options:
  --stack NAME          read Pulumi.NAME.yaml (golden-images:* config)        [default: dev]
  --project-dir DIR     directory holding Pulumi.yaml and the build contexts  [default: .]
  --image NAME          only this image (repeatable)                          [default: all]
  --registry HOST:PORT  local registry to push to         [default: $GOLDEN_REGISTRY or 127.0.0.1:5000]
  --username USER       registry user                     [default: $GOLDEN_REGISTRY_USER]
  --password-file FILE  file holding the registry password [default: $GOLDEN_REGISTRY_PASSWORD_FILE]
  --mirror PREFIX       registry prefix serving the bases  [default: $GOLDEN_MIRROR or <registry>/mirror]
  --prefix PREFIX       repository prefix for the images: empty or ending in /  [default: golden/]
  --unsigned            build, push and verify only: no SBOM, scan, signature or promotion
  --rebuild             build every image even when its inputs equal the promoted ones
  --key FILE            verify: the cosign public key      [default: the local pipeline's key]
  --against WHAT        diff: "promoted" (the records in .golden/promoted) or a git revision,
                        e.g. origin/main or HEAD~1                             [default: promoted]
  --json                print the results (build, verify), the plan (plan) or the diff (diff) as JSON
  --script              with plan: print the POSIX shell script of the plan
  --verbose             on a failed step, also print the step's full output
  -h, --help            show this help

Bases are resolved through the mirror and pinned to the digest it serves before the build,
so every Dockerfile that is built is digest-pinned. Builds run on BuildKit (BUILDKIT_HOST)
with timestamps rewritten to the stack's sourceDateEpoch: the same inputs give the same digest.
Every step's full output is kept in .golden/logs/ under the project directory.
Signing uses a cosign key pair generated on first use in $GOLDEN_STATE_DIR/signing (mode 600);
scanners read their database from their own settings (GRYPE_DB_*, TRIVY_*). An image is
promoted (.golden/promoted/<image>.json) only when the gate passed and the signature and every
attestation verified; a failed run leaves the previous promotion in place.
Exit code 0 when every image was pushed and verified (and promoted); 1 on a failed step (images
that did finish are still listed); 2 on bad input or an unusable BuildKit daemon or registry.

golden diff contacts no registry (it runs in a PR job without registry credentials). Against a
revision, both sides are rendered from their specs as the renderer produces them (a tag-only base
renders as a tag, through the stack's mirror; a base pinned in the spec shows its digest), with
the revision's contexts from \`git archive\`. Against the promoted images, each image is pinned to
the digests it was promoted with (a base whose reference changed stays a tag: golden build
resolves it; a base the mirror now serves at a newer digest shows only in golden build) and
compared with the Dockerfile and content tag of its promotion record. Output is sorted by image,
plain text with a header per changed image and the unchanged ones on one line.
golden diff exits 0 when nothing changes, 1 when something does (like git diff --exit-code), 2 on
bad input (an unknown stack, image or revision).

Set up BuildKit, the registry and the offline bases first: bash scripts/setup.sh
`;

class UsageError extends Error {}

/** Where the command writes; the bin passes the process's streams, tests capture them. */
export interface GoldenIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** Runs `golden` with these arguments; returns the exit code. Never throws: every failure is a line and a code. */
export async function runGolden(argv: string[], io: GoldenIo): Promise<number> {
  const dirAt = argv.indexOf("--project-dir");
  const state = { verbose: argv.includes("--verbose"), projectDir: path.resolve(dirAt >= 0 ? (argv[dirAt + 1] ?? ".") : ".") };
  try {
    return await main(argv, io);
  } catch (e) {
    return reportFailure(e, io, state);
  }
}

async function main(argv: string[], io: GoldenIo): Promise<number> {
  if (argv[0] === "step") {
    return runStepCommand(argv.slice(1));
  }
  if (argv[0] === "step-server") {
    // The local executor's golden steps, in one process (see cli/step-server.ts).
    const { runStepServer } = await import("./step-server");
    return runStepServer(runGolden);
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        stack: { type: "string", default: "dev" },
        "project-dir": { type: "string", default: "." },
        image: { type: "string", multiple: true },
        registry: { type: "string" },
        username: { type: "string" },
        "password-file": { type: "string" },
        mirror: { type: "string" },
        prefix: { type: "string", default: "golden/" },
        json: { type: "boolean", default: false },
        against: { type: "string" },
        unsigned: { type: "boolean", default: false },
        rebuild: { type: "boolean", default: false },
        key: { type: "string" },
        script: { type: "boolean", default: false },
        verbose: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}. Fix: see \`golden --help\``);
  }
  const { values, positionals } = parsed;
  const command = positionals[0];
  if (values.help || command === undefined || command === "help") {
    io.stdout(HELP);
    return command === undefined && !values.help ? 2 : 0;
  }
  if (command === "flavors") {
    for (const f of FLAVORS) {
      const c = CATALOG[f];
      io.stdout(`${f.padEnd(18)} shell=${c.hasShell ? "yes" : "no "} pkg=${c.packageManager.padEnd(4)} uid=${c.defaultUid} ${c.description}\n`);
    }
    return 0;
  }
  if (!["build", "plan", "render", "validate", "verify", "diff"].includes(command)) {
    throw new UsageError(`unknown command "${command}". Fix: use build, verify, plan, render, validate, diff or flavors (see \`golden --help\`)`);
  }
  if (values.against !== undefined && command !== "diff") {
    throw new UsageError(`--against is an option of golden diff. Fix: golden diff --against promoted|REVISION`);
  }
  if (command === "verify" && positionals.length !== 2) {
    throw new UsageError(`verify takes one image. Fix: golden verify NAME (an image of the stack) or golden verify HOST/REPO:TAG`);
  }
  if (command !== "verify" && positionals.length > 1) {
    throw new UsageError(`unexpected argument "${positionals[1]}". Fix: options start with -- (see \`golden --help\`)`);
  }
  const projectDir = path.resolve(values["project-dir"] as string);
  if (!fs.existsSync(projectDir) || !fs.statSync(projectDir).isDirectory()) {
    throw new UsageError(`--project-dir ${values["project-dir"]} is not a directory. Fix: give the directory that holds Pulumi.yaml and the Pulumi.<stack>.yaml files`);
  }
  const prefix = values.prefix as string;
  if (prefix !== "" && !/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*\/$/.test(prefix)) {
    throw new UsageError(`--prefix ${JSON.stringify(prefix)} is not a repository prefix. Fix: give lowercase path components ending in /, e.g. golden/ or team/golden/, or "" for none`);
  }
  const config = loadConfig(projectDir, values.stack as string);
  if (command === "diff") {
    // Before anything that reaches a registry: golden diff runs where there are no credentials.
    return diffCommand({ projectDir, stack: values.stack as string, config, only: values.image, against: values.against ?? "promoted", json: values.json === true }, io);
  }
  const images = command === "verify" ? config.images : selectImages(config, values.image);

  if (command === "validate") {
    io.stdout(`${images.length} image(s) valid for ${config.policy.environment}: ${images.map((i) => i.name).join(", ")}\n`);
    return 0;
  }
  if (command === "render") {
    for (const spec of images) {
      // With the source labels the pin step adds from the checkout, as `golden build` renders them.
      io.stdout(`# ---- ${spec.name} ----\n${renderDockerfile(specWithGitSource(spec, (context) => readGitFacts(projectDir, context)), config.policy)}`);
    }
    return 0;
  }

  const registry = values.registry ?? process.env.GOLDEN_REGISTRY ?? "127.0.0.1:5000";
  if (!/^(?:\[[0-9a-fA-F:]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::\d{1,5})?$/.test(registry)) {
    throw new UsageError(`--registry ${JSON.stringify(registry)} is not HOST[:PORT]. Fix: give the registry address without scheme or path, e.g. 127.0.0.1:5000`);
  }
  const username = values.username ?? process.env.GOLDEN_REGISTRY_USER;
  const passwordFile = values["password-file"] ?? process.env.GOLDEN_REGISTRY_PASSWORD_FILE;
  let auth;
  if (username !== undefined) {
    if (passwordFile === undefined || !fs.existsSync(passwordFile)) {
      throw new UsageError(`no password file for registry user "${username}" (${passwordFile ?? "not set"}). Fix: pass --password-file or run \`eval "$(bash scripts/services.sh env)"\``);
    }
    auth = { username, password: fs.readFileSync(passwordFile, "utf8").trim() };
  }
  const mirror = values.mirror ?? process.env.GOLDEN_MIRROR ?? `${registry}/mirror`;
  if (command === "verify") {
    return verifyCommand(positionals[1], { config, registry, auth, projectDir, key: values.key, json: values.json === true }, io);
  }
  const supplyChain = values.unsigned ? undefined : await localSupplyChain(config, projectDir, command === "plan", values.rebuild === true);
  if (command === "plan") {
    const plan = localPlan({ images, policy: config.policy, registry, mirror, repositoryPrefix: prefix, supplyChain });
    io.stdout(values.script ? renderPlanScript(plan) : `${JSON.stringify(plan, null, 2)}\n`);
    return 0;
  }
  if (auth !== undefined && !isLoopbackHost(registry)) {
    // The local executor talks plain HTTP only to loopback; anything else must be TLS.
    io.stderr(`golden: note: ${registry} is not a loopback address; using HTTPS\n`);
  }
  const t0 = Date.now();
  const results = await runLocalPipeline({
    images,
    policy: config.policy,
    registry,
    auth,
    mirror,
    repositoryPrefix: prefix,
    projectDir,
    supplyChain,
    onEvent: progressPrinter(io, images.length, images.map((i) => i.name)),
  });
  if (values.json) {
    io.stdout(`${JSON.stringify(results.map(({ dockerfile: _d, ...r }) => r), null, 2)}\n`);
  } else {
    io.stdout(summaryTable(results));
    const what = supplyChain !== undefined ? "pushed, scanned, signed, attested, verified and promoted" : "pushed and verified (unsigned: not promoted)";
    const built = results.filter((r) => r.unchanged === undefined);
    const same = results.filter((r) => r.unchanged !== undefined);
    io.stdout(`\n${built.length} image(s) ${what}${same.length > 0 ? `, ${same.length} unchanged` : ""} in ${((Date.now() - t0) / 1000).toFixed(1)} s:\n`);
    for (const r of built) {
      io.stdout(`  ${r.ref}\n`);
    }
    for (const r of same) {
      io.stdout(`  ${r.ref} (unchanged: ${r.unchanged}; nothing built or pushed)\n`);
    }
    if (supplyChain !== undefined) {
      io.stdout(`\nVerify one yourself: golden verify ${results[0]?.image ?? "IMAGE"}, or\n  ${consumerVerifyCommand(supplyChain.signing, results[0]?.ref ?? "IMAGE@DIGEST")}\n`);
    }
  }
  return 0;
}

/** The stack's supply chain on this machine: its gate, its signature format, and the local key pair. */
async function localSupplyChain(config: StackConfig, projectDir: string, planOnly: boolean, rebuild: boolean): Promise<LocalSupplyChain> {
  const format = config.signing.format ?? SIGNING_DEFAULTS.format;
  const revision = gitRevision(projectDir);
  const base = { gate: config.gate, ...(revision !== undefined ? { revision } : {}), ...(rebuild ? { rebuild } : {}) };
  if (planOnly) {
    // The plan names the key by reference only; no key is needed to print it.
    return { ...base, signing: localSigningPlan(format) };
  }
  const keys = await ensureLocalKeyPair(stateDir());
  const { signing, secretEnv } = localSigning(keys, format);
  return { ...base, signing, secretEnv, keyFingerprint: keyFingerprint(keys) };
}

function stateDir(): string {
  return goldenStateDir(process.env);
}

/** The checkout's commit, for the provenance of images whose spec names no revision. */
function gitRevision(dir: string): string | undefined {
  const r = spawnSync("git", ["-C", dir, "rev-parse", "--verify", "HEAD"], { encoding: "utf8" });
  const rev = r.status === 0 ? r.stdout.trim() : "";
  return /^[0-9a-f]{40,64}$/.test(rev) ? rev : undefined;
}

async function verifyCommand(
  image: string,
  o: { config: StackConfig; registry: string; auth?: RegistryAuth; projectDir: string; key?: string; json: boolean },
  io: GoldenIo,
): Promise<number> {
  const format = o.config.signing.format ?? SIGNING_DEFAULTS.format;
  let reference = image;
  if (o.config.images.some((i) => i.name === image)) {
    const promoted = readPromotion(o.projectDir, image);
    if (promoted === undefined) {
      throw new StepFailure(`${image} has no promoted digest in ${o.projectDir}/.golden/promoted. Fix: run golden build first, or give a reference (host/repo:tag)`);
    }
    reference = promoted;
  }
  const clients = (host: string) => new RegistryClient(host, host === o.registry ? o.auth : undefined, { plainHttp: isLoopbackHost(host) });
  const ref = await resolveDigestRef(reference, clients);
  const env: NodeJS.ProcessEnv = { ...process.env };
  let signing: SigningPlan;
  if (o.key !== undefined) {
    if (!fs.existsSync(o.key)) {
      throw new UsageError(`--key ${o.key} does not exist. Fix: give the cosign public key file`);
    }
    signing = { mode: "keypair", publicKey: path.resolve(o.key), format };
  } else {
    const keys = await ensureLocalKeyPair(stateDir());
    signing = { mode: "keypair", publicKey: keys.publicKeyFile, format };
  }
  const configDir = fs.mkdtempSync(path.join(os.tmpdir(), "golden-auth-"));
  let report;
  try {
    if (o.auth !== undefined) {
      writeDockerConfig(configDir, o.registry, o.auth);
      env.DOCKER_CONFIG = configDir;
    }
    report = await verifySigned(ref, signing, env);
  } finally {
    fs.rmSync(configDir, { recursive: true, force: true });
  }
  if (o.json) {
    io.stdout(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    io.stdout(`${ref}\n`);
    for (const c of report.checks) {
      io.stdout(`  ${c.passed ? "ok  " : "FAIL"} ${c.check}${c.detail !== "" ? `: ${c.detail}` : ""}\n`);
    }
  }
  if (!report.passed) {
    io.stderr(`golden: ${ref} FAILED verification (${report.checks.filter((c) => !c.passed).map((c) => c.check).join(", ")}). Fix: use only images the pipeline signed and promoted\n`);
    return 1;
  }
  io.stdout(`verified: signed by the pipeline's key, with SBOM, scan report (gate passed) and provenance\n`);
  return 0;
}

/**
 * `golden diff`: the stack against the promoted images or a git revision. Renders and hashes only;
 * never contacts a registry. Exit 0 when nothing changes, 1 when something does.
 */
async function diffCommand(
  o: { projectDir: string; stack: string; config: StackConfig; only?: string[]; against: string; json: boolean },
  io: GoldenIo,
): Promise<number> {
  const d = await import("./diff");
  let old: Map<string, import("./diff").Side>;
  let cur: Map<string, import("./diff").ImageSide>;
  const labels = { old: o.against, new: "working tree" };
  try {
    if (o.against === "promoted") {
      const store = openPromotionStore(path.join(o.projectDir, PROMOTION_DIR));
      ({ old, cur } = d.promotedSides(path.join(o.projectDir, PROMOTION_DIR), o.config.images, o.config.policy, o.projectDir, (image) => store.read(image)));
    } else {
      const tree = d.revisionTree(o.projectDir, o.against, o.stack);
      try {
        old = new Map();
        if (tree.stackFile !== undefined) {
          let before: StackConfig;
          try {
            before = parseConfigText(tree.stackFile, `Pulumi.${o.stack}.yaml at ${o.against}`, tree.dir);
          } catch (e) {
            if (e instanceof ValidationError) {
              const more = e.issues.length > 1 ? ` (and ${e.issues.length - 1} more)` : "";
              throw new UsageError(`Pulumi.${o.stack}.yaml at ${o.against} is not a valid stack: ${formatIssue(e.issues[0])}${more}. Fix: compare with a revision whose stack is valid, or --against promoted`);
            }
            throw e;
          }
          // The extracted tree has no .git: its source labels are read as of that commit.
          const atRevision = (context: string) => readGitFacts(o.projectDir, context, { at: tree.commit });
          for (const spec of before.images) {
            old.set(spec.name, d.renderedSide(spec, before.policy, tree.dir, atRevision));
          }
        }
        cur = new Map(o.config.images.map((spec) => [spec.name, d.renderedSide(spec, o.config.policy, o.projectDir)]));
      } finally {
        tree.remove();
      }
    }
  } catch (e) {
    throw e instanceof d.DiffInputError ? new UsageError(e.message) : e;
  }
  const known = [...new Set([...old.keys(), ...cur.keys()])].sort();
  const unknown = (o.only ?? []).filter((n) => !known.includes(n));
  if (unknown.length > 0) {
    throw new UsageError(`unknown image ${unknown.map((n) => `"${n}"`).join(", ")}. Fix: use one of: ${known.join(", ")}`);
  }
  const result = d.diffStack(o.stack, o.against, old, cur, labels, o.only);
  io.stdout(o.json ? d.formatDiffJson(result) : d.formatDiff(result));
  return d.diffExitCode(result);
}

function loadConfig(projectDir: string, stack: string): StackConfig {
  const file = path.join(projectDir, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) {
    throw new UsageError(`no stack file ${path.relative(process.cwd(), file) || file}. Fix: pass --stack with one of: ${stackNames(projectDir).join(", ") || "(none found)"}, or --project-dir`);
  }
  return parseConfigText(fs.readFileSync(file, "utf8"), path.basename(file), projectDir);
}

/** A stack file's text as the stack config; `name` names it in errors. Contexts are checked in `projectDir`. */
function parseConfigText(text: string, name: string, projectDir: string): StackConfig {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    throw new UsageError(`${name} is not valid YAML (${(e as Error).message.split("\n")[0]}). Fix: correct the YAML`);
  }
  // Loaded here, not at the top: the stack config reaches the registry backends and so @pulumi/aws,
  // about a second of start-up that every `golden step` process of a plan would pay for nothing.
  const { configValuesFromStackFile, parseStackConfig } = require("../stacks/config") as typeof import("../stacks/config");
  // Contexts are checked on disk here too: a missing or escaping context fails before any build.
  return parseStackConfig(configValuesFromStackFile(doc), { projectDir });
}

function stackNames(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

function selectImages(config: StackConfig, only: string[] | undefined) {
  if (only === undefined || only.length === 0) {
    return config.images;
  }
  const known = config.images.map((i) => i.name);
  const unknown = only.filter((n) => !known.includes(n));
  if (unknown.length > 0) {
    throw new UsageError(`unknown image ${unknown.map((n) => `"${n}"`).join(", ")}. Fix: use one of: ${known.join(", ")}`);
  }
  return config.images.filter((i) => only.includes(i.name));
}

function progressPrinter(io: GoldenIo, total: number, names: string[]): (e: StepEvent) => void {
  return (e) => {
    const n = names.indexOf(e.step.image) + 1;
    if (e.state === "start") {
      io.stderr(`[${n}/${total}] ${e.step.image}: ${e.step.kind} (${e.step.description})\n`);
    } else if (e.state === "failed") {
      io.stderr(`[${n}/${total}] ${e.step.image}: ${e.step.kind} FAILED: ${e.detail ?? ""}\n`);
    }
  };
}

export function summaryTable(results: readonly ImageResult[]): string {
  const signed = results.some((r) => r.gate !== undefined);
  const rows = [
    ["IMAGE", "FLAVOR", "DIGEST", "SIZE", "USER", ...(signed ? ["GATE", "SIGNATURE"] : []), "TIME"],
    ...results.map((r) => [
      r.image,
      r.flavor,
      r.digest.slice(0, 19),
      formatSize(r.sizeBytes),
      r.user,
      ...(signed ? [r.gate ?? "-", r.signature ?? "-"] : []),
      `${r.buildSeconds.toFixed(1)}s`,
    ]),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  return rows.map((row) => row.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd()).join("\n") + "\n";
}

/** The command a consumer runs to verify an image's signature with the public key file. */
export function consumerVerifyCommand(signing: SigningPlan, ref: string): string {
  const args = cosignVerifyArgs({ ...signing, publicKey: "cosign.pub" }, ref, isLoopbackHost(ref.slice(0, ref.indexOf("/"))));
  return ["cosign", ...args.filter((a, i, all) => !(a === "--output" || all[i - 1] === "--output"))].join(" ");
}

export function formatSize(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

function reportFailure(e: unknown, io: GoldenIo, state: { verbose: boolean; projectDir: string }): number {
  if (e instanceof ValidationError) {
    for (const issue of e.issues) {
      io.stderr(`  - ${formatIssue(issue)}\n`);
    }
    io.stderr(`golden: ${e.issues.length} problem(s) in the image specs; nothing was built. Fix: correct the listed properties\n`);
    return 2;
  }
  if (e instanceof StepError) {
    for (const r of e.completed) {
      io.stderr(`golden: ${r.image}: ${r.promoted !== undefined ? `gate ${r.gate ?? ""}; signed, attested, verified and promoted` : "pushed and verified"} ${r.ref}\n`);
    }
    for (const f of e.failures) {
      if (state.verbose && f.log !== undefined) {
        io.stderr(fs.readFileSync(path.isAbsolute(f.log) ? f.log : path.join(state.projectDir, f.log), "utf8"));
      }
      io.stderr(`golden: ${f.image}: step ${f.step} failed: ${f.message}; the image was not reported as pushed (full output: ${f.log ?? "none"}, or rerun with --verbose)\n`);
    }
    return 1;
  }
  if (e instanceof StepFailure) {
    io.stderr(`golden: ${e.message}\n`);
    return e.exitCode;
  }
  if (e instanceof UsageError || e instanceof RegistryError || e instanceof SetupError) {
    io.stderr(`golden: ${e.message}\n`);
    return 2;
  }
  // Anything else is a defect of this tool: one line, no stack trace, and how to report it.
  const message = e instanceof Error ? e.message : String(e);
  io.stderr(`golden: ${message}${/Fix:/.test(message) ? "" : ". Fix: rerun with --verbose; if it persists, report it with the command line"}\n`);
  return /Fix:/.test(message) ? 2 : 1;
}

if (require.main === module) {
  runGolden(process.argv.slice(2), { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) }).then((code) => process.exit(code));
}
