#!/usr/bin/env node
/**
 * `golden`: the golden-image pipeline on the embedded default (local Docker engine, local
 * registry). Reads the same image specs the stack passes to GoldenImagePipeline: the
 * `golden-images:*` config of Pulumi.<stack>.yaml.
 */
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import * as YAML from "yaml";
import { renderDockerfile } from "../components/render/dockerfile";
import { formatIssue, ValidationError } from "../components/render/issues";
import { CATALOG, FLAVORS } from "../components/spec/catalog";
import { configValuesFromStackFile, parseStackConfig, StackConfig } from "../stacks/config";
import { renderPlanScript } from "../components/plan/script";
import { ImageResult, localPlan, runLocalPipeline, SetupError, StepError } from "../executors/local";
import { StepEvent } from "../executors/plan-runner";
import { isLoopbackHost, RegistryError } from "./registry-client";
import { runStepCommand, StepFailure } from "./steps";

const HELP = `golden: build and push golden images locally (BuildKit + local registry)

Usage:
  golden build    [options]   run the pipeline plan (pin, render, build, push, verify) of every image
  golden plan     [options]   print the plan as JSON, or with --script as the POSIX script that runs it
  golden render   [options]   print the rendered Dockerfiles (bases as configured)
  golden validate [options]   check the stack's image specs and policy, build nothing
  golden flavors              list the runtime flavors of the base catalog
  golden step pin|render|verify ...   one step of a plan (what \`golden plan --script\` runs)

Options:
  --stack NAME          read Pulumi.NAME.yaml (golden-images:* config)        [default: dev]
  --project-dir DIR     directory holding Pulumi.yaml and the build contexts  [default: .]
  --image NAME          only this image (repeatable)                          [default: all]
  --registry HOST:PORT  local registry to push to         [default: $GOLDEN_REGISTRY or 127.0.0.1:5000]
  --username USER       registry user                     [default: $GOLDEN_REGISTRY_USER]
  --password-file FILE  file holding the registry password [default: $GOLDEN_REGISTRY_PASSWORD_FILE]
  --mirror PREFIX       registry prefix serving the bases  [default: $GOLDEN_MIRROR or <registry>/mirror]
  --prefix PREFIX       repository prefix for the images: empty or ending in /  [default: golden/]
  --json                print the results (build) or the plan (plan) as JSON
  --script              with plan: print the POSIX shell script of the plan
  --verbose             on a failed step, also print the step's full output
  -h, --help            show this help

Bases are resolved through the mirror and pinned to the digest it serves before the build,
so every Dockerfile that is built is digest-pinned. Builds run on BuildKit (BUILDKIT_HOST)
with timestamps rewritten to the stack's sourceDateEpoch: the same inputs give the same digest.
Every step's full output is kept in .golden/logs/ under the project directory.
Exit code 0 when every image was pushed and verified; 1 on a failed step (images that did
finish are still listed); 2 on bad input or an unusable BuildKit daemon or registry.

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
  if (!["build", "plan", "render", "validate"].includes(command)) {
    throw new UsageError(`unknown command "${command}". Fix: use build, plan, render, validate or flavors (see \`golden --help\`)`);
  }
  if (positionals.length > 1) {
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
  const images = selectImages(config, values.image);

  if (command === "validate") {
    io.stdout(`${images.length} image(s) valid for ${config.policy.environment}: ${images.map((i) => i.name).join(", ")}\n`);
    return 0;
  }
  if (command === "render") {
    for (const spec of images) {
      io.stdout(`# ---- ${spec.name} ----\n${renderDockerfile(spec, config.policy)}`);
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
  if (command === "plan") {
    const plan = localPlan({ images, policy: config.policy, registry, mirror, repositoryPrefix: prefix });
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
    onEvent: progressPrinter(io, images.length, images.map((i) => i.name)),
  });
  if (values.json) {
    io.stdout(`${JSON.stringify(results.map(({ dockerfile: _d, ...r }) => r), null, 2)}\n`);
  } else {
    io.stdout(summaryTable(results));
    io.stdout(`\n${results.length} image(s) pushed and verified in ${((Date.now() - t0) / 1000).toFixed(1)} s:\n`);
    for (const r of results) {
      io.stdout(`  ${r.ref}\n`);
    }
  }
  return 0;
}

function loadConfig(projectDir: string, stack: string): StackConfig {
  const file = path.join(projectDir, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) {
    throw new UsageError(`no stack file ${path.relative(process.cwd(), file) || file}. Fix: pass --stack with one of: ${stackNames(projectDir).join(", ") || "(none found)"}, or --project-dir`);
  }
  let doc: unknown;
  try {
    doc = YAML.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new UsageError(`${path.basename(file)} is not valid YAML (${(e as Error).message.split("\n")[0]}). Fix: correct the YAML`);
  }
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
  const rows = [
    ["IMAGE", "FLAVOR", "DIGEST", "SIZE", "USER", "BUILD"],
    ...results.map((r) => [r.image, r.flavor, r.digest.slice(0, 19), formatSize(r.sizeBytes), r.user, `${r.buildSeconds.toFixed(1)}s`]),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  return rows.map((row) => row.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd()).join("\n") + "\n";
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
      io.stderr(`golden: ${r.image}: pushed and verified ${r.ref}\n`);
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
