/**
 * The local executor: runs the pipeline's steps (components/render/steps.ts) for each image
 * with the local Docker engine and a local registry. Fails closed: an image is reported done
 * only when the registry serves its tag at the digest the push reported.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { contentTag } from "../components/image/context-hash";
import { lintDockerfile } from "../components/render/lint";
import { renderDockerfile } from "../components/render/dockerfile";
import { defaultBase, defaultBuilderImage, resolveImage } from "../components/render/resolve";
import { imageSteps, PipelineStep } from "../components/render/steps";
import { formatIssue, ValidationError } from "../components/render/issues";
import { CATALOG } from "../components/spec/catalog";
import { formatReference, parseReference, resolveThroughMirror } from "../components/spec/reference";
import { EnvironmentPolicy, ImageSpec } from "../components/spec/types";
import { RegistryAuth, RegistryClient } from "./registry-client";

export interface LocalRunOptions {
  readonly images: readonly ImageSpec[];
  readonly policy: EnvironmentPolicy;
  /** host:port of the local registry images are pushed to. */
  readonly registry: string;
  readonly auth?: RegistryAuth;
  /** Registry prefix that serves the bases (replaces the stack's mirror). */
  readonly mirror: string;
  /** Repository prefix below the registry. @default "golden/" */
  readonly repositoryPrefix?: string;
  /** Directory that specs' contexts are relative to, and where `.golden/` is written. */
  readonly projectDir: string;
  /** @default "/usr/bin/docker" when it exists, else "docker" */
  readonly docker?: string;
  readonly tagPrefix?: string;
  readonly onProgress?: (event: ProgressEvent) => void;
}

export interface ProgressEvent {
  readonly image: string;
  readonly step: string;
  readonly state: "start" | "done" | "failed";
  readonly detail?: string;
}

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
}

export class StepError extends Error {
  constructor(
    public readonly image: string,
    public readonly step: string,
    message: string,
    public readonly output = "",
  ) {
    super(message);
  }
}

export function defaultDocker(): string {
  return process.env.GOLDEN_DOCKER ?? (fs.existsSync("/usr/bin/docker") ? "/usr/bin/docker" : "docker");
}

/** Checks the engine answers; throws a one-line problem-and-fix error otherwise. */
export async function checkEngine(docker: string): Promise<void> {
  const r = await run(docker, ["version", "--format", "{{.Server.Version}}"], {});
  if (r.code !== 0) {
    const why = r.output.trim().split("\n").pop() ?? "no answer";
    throw new Error(`the Docker engine is not running (${why}). Fix: start it with \`bash scripts/services.sh start\``);
  }
}

/**
 * Pins every base and builder reference to the digest the mirror serves for it. A reference
 * already carrying a digest must exist there (fail closed on a stale pin).
 */
export async function pinBases(spec: ImageSpec, mirror: string, client: RegistryClient): Promise<ImageSpec> {
  const pin = async (ref: string, property: string): Promise<string> => {
    const full = resolveThroughMirror(ref, mirror);
    const parsed = parseReference(full);
    if (parsed.host !== client.address) {
      throw new StepError(spec.name, "pin", `${property} "${full}" is not served by the local mirror ${mirror}. Fix: use a host-less reference (it resolves through the mirror) or push that base to ${client.address}`);
    }
    const digest = await client.digestOf(parsed.path, parsed.digest ?? parsed.tag ?? "latest");
    if (digest === undefined) {
      throw new StepError(spec.name, "pin", `${property} "${full}" is not in the mirror. Fix: run \`bash scripts/bases.sh\` to build the offline bases, or push it there`);
    }
    if (parsed.digest !== undefined && parsed.digest !== digest) {
      throw new StepError(spec.name, "pin", `${property} "${full}" is served at ${digest}, not at the pinned digest`);
    }
    return formatReference({ ...parsed, digest });
  };
  const base = CATALOG[spec.flavor].runtime === undefined ? undefined : await pin(spec.base ?? (defaultBase(spec.flavor) as string), "base");
  const builders = [];
  for (const [i, b] of (spec.builders ?? []).entries()) {
    builders.push({ ...b, image: await pin(b.image ?? defaultBuilderImage(spec.flavor), `builders[${i}].image`) });
  }
  return { ...spec, ...(base === undefined ? {} : { base }), ...(spec.builders === undefined ? {} : { builders }) };
}

/** Runs render, build, push and verify for every image, in order. Throws StepError on the first failure. */
export async function runLocalPipeline(options: LocalRunOptions): Promise<ImageResult[]> {
  const docker = options.docker ?? defaultDocker();
  const progress = options.onProgress ?? (() => undefined);
  const client = new RegistryClient(options.registry, options.auth);
  const prefix = options.repositoryPrefix ?? "golden/";
  await checkEngine(docker);
  await client.ping();

  const results: ImageResult[] = [];
  for (const spec of options.images) {
    progress({ image: spec.name, step: "pin", state: "start" });
    const pinned = await pinBases(spec, options.mirror, client);
    // Every reference is now pinned, so the build runs under digests-required rules.
    const policy: EnvironmentPolicy = { ...options.policy, mirror: options.mirror, allowTagOnlyBases: false };
    progress({ image: spec.name, step: "pin", state: "done", detail: pinned.base });

    const resolved = resolveImage(pinned, policy);
    const workDir = path.join(options.projectDir, ".golden", "build", spec.name.replace(/\//g, "-"));
    const dockerfileRel = path.relative(options.projectDir, path.join(workDir, "Dockerfile"));
    const contextRel = path.normalize(resolved.context);
    const repository = `${options.registry}/${prefix}${spec.name}`;
    let dockerfile = "";
    const started = Date.now();
    let digest = "";
    let tag = "";
    const steps: PipelineStep[] = [];
    try {
      dockerfile = renderDockerfile(pinned, policy);
      tag = contentTag(dockerfile, path.join(options.projectDir, contextRel), options.tagPrefix ?? "v", {
        platforms: resolved.platforms,
        buildArgs: { SOURCE_DATE_EPOCH: String(resolved.sourceDateEpoch) },
        baseDirectory: options.projectDir,
      });
      steps.push(...imageSteps(resolved, { repository, tag, dockerfile: dockerfileRel, context: contextRel }));
    } catch (e) {
      if (e instanceof ValidationError) {
        throw new StepError(spec.name, "render", e.issues.map(formatIssue).join("\n"));
      }
      throw e;
    }
    for (const step of steps) {
      progress({ image: spec.name, step: step.kind, state: "start", detail: step.description });
      if (step.kind === "render") {
        const lint = lintDockerfile(dockerfile, { requireDigest: true, shellless: !resolved.runtimeHasShell });
        if (lint.length > 0) {
          throw new StepError(spec.name, "render", lint.map(formatIssue).join("\n"));
        }
        fs.mkdirSync(workDir, { recursive: true });
        fs.writeFileSync(path.join(workDir, "Dockerfile"), dockerfile);
      } else if (step.kind === "verify") {
        const served = await client.digestOf(`${prefix}${spec.name}`, tag);
        if (served !== digest) {
          throw new StepError(spec.name, "verify", `the registry serves ${repository}:${tag} at ${served ?? "nothing"}, but the push reported ${digest}`);
        }
      } else {
        const argv = step.argv as readonly string[];
        const r = await run(docker, argv.slice(1), { cwd: options.projectDir, env: { ...process.env, DOCKER_BUILDKIT: "1" } });
        if (r.code !== 0) {
          throw new StepError(spec.name, step.kind, `${step.kind} failed (exit ${r.code}): ${lastFailure(r.output)}`, r.output);
        }
        if (step.kind === "push") {
          const m = /digest: (sha256:[a-f0-9]{64})/.exec(r.output);
          if (m === null) {
            throw new StepError(spec.name, "push", "push reported no digest", r.output);
          }
          digest = m[1];
        }
      }
      progress({ image: spec.name, step: step.kind, state: "done" });
    }
    const inspect = await run(docker, ["image", "inspect", "--format", "{{.Config.User}}", `${repository}:${tag}`], {});
    results.push({
      image: spec.name,
      flavor: spec.flavor,
      ref: `${repository}@${digest}`,
      taggedRef: `${repository}:${tag}`,
      digest,
      sizeBytes: await client.imageSize(`${prefix}${spec.name}`, digest),
      user: inspect.output.trim(),
      buildSeconds: (Date.now() - started) / 1000,
      baseDigest: resolved.baseRef?.digest,
      dockerfile,
    });
  }
  return results;
}

/** The line of build output that says what failed (BuildKit prints `ERROR` / `failed to solve`). */
export function lastFailure(output: string): string {
  const lines = output.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  const failing = lines.filter((l) => /error|failed/i.test(l));
  return (failing.length > 0 ? failing.slice(-2).join(" | ") : lines.slice(-1)[0] ?? "no output").slice(0, 600);
}

export function run(cmd: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv }): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("error", (e) => resolve({ code: 127, output: `${output}${e.message}` }));
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}
