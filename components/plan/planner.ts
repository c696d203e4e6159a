/**
 * Builds the plan of one image: pin -> render -> build -> push -> verify. Every step carries
 * its full command; the same plan runs locally (executors/local.ts) and as a POSIX script
 * (script.ts) that the CodeBuild and Kubernetes executors wrap.
 */
import { EnvironmentPolicy, ImageSpec, Platform } from "../spec/types";
import { Plan, resultRef, Step } from "./types";

/** Where one image goes and where its files live. */
export interface ImageTarget {
  /** `host[:port]/path` of the image's repository (no tag, no digest). */
  readonly repository: string;
  /** Registry prefix that serves host-less base and builder references (the pull-through cache). */
  readonly mirror: string;
  /** Plain HTTP to the registry and mirror: only ever true for a loopback registry. */
  readonly insecure: boolean;
  /** Release prefix of the content tag. @default "v" */
  readonly tagPrefix?: string;
  /** Directory for this image's files and results, relative to the working directory.
   *  @default `.golden/run/<image name with / as ->` */
  readonly workDir?: string;
}

export const PLAN_DEFAULTS = { tagPrefix: "v", workRoot: ".golden/run" } as const;

/** The file the pin step reads: the spec as written and the environment's rules. */
export interface PinInput {
  readonly spec: ImageSpec;
  readonly policy: EnvironmentPolicy;
}

export function imageWorkDir(image: string): string {
  return `${PLAN_DEFAULTS.workRoot}/${image.replace(/\//g, "-")}`;
}

/** The five steps of one image. The spec must have passed validation. */
export function planImage(spec: ImageSpec, policy: EnvironmentPolicy, target: ImageTarget): Step[] {
  const w = target.workDir ?? imageWorkDir(spec.name);
  const id = (kind: string) => `${spec.name}:${kind}`;
  const insecure = target.insecure ? ["--insecure"] : [];
  const context = normalizeContext(spec.context ?? ".");
  const platforms: readonly Platform[] = spec.platforms ?? ["linux/amd64"];
  const tag = resultRef(id("render"), "tag");
  const taggedRef = `${target.repository}:${tag}`;
  const input: PinInput = { spec, policy };

  const pin: Step = {
    id: id("pin"),
    kind: "pin",
    image: spec.name,
    description: `pin every base and builder of ${spec.name} to the digest ${target.mirror} serves`,
    needs: [],
    run: { tool: "golden", args: ["step", "pin", "--spec", `${w}/spec.json`, "--mirror", target.mirror, ...insecure, "--output", `${w}/pinned.json`] },
    files: { [`${w}/spec.json`]: `${JSON.stringify(input, null, 2)}\n` },
    outputs: { pinned: `${w}/pinned.json` },
    gate: true,
  };
  const render: Step = {
    id: id("render"),
    kind: "render",
    image: spec.name,
    description: `render, validate and lint the Dockerfile of ${spec.name}; compute its content tag`,
    needs: [pin.id],
    run: {
      tool: "golden",
      args: ["step", "render", "--spec", `${w}/pinned.json`, "--context", context, "--tag-prefix", target.tagPrefix ?? PLAN_DEFAULTS.tagPrefix, "--output-dir", `${w}/render`],
    },
    files: {},
    outputs: { dockerfile: `${w}/render/Dockerfile`, tag: `${w}/render/tag` },
    gate: true,
  };
  const build: Step = {
    id: id("build"),
    kind: "build",
    image: spec.name,
    description: `build ${spec.name} with BuildKit, timestamps rewritten to SOURCE_DATE_EPOCH (reproducible)`,
    needs: [render.id],
    run: {
      tool: "buildctl",
      args: [
        "build",
        "--frontend",
        "dockerfile.v0",
        "--local",
        `context=${context}`,
        "--local",
        `dockerfile=${w}/render`,
        "--opt",
        "filename=Dockerfile",
        "--opt",
        `platform=${platforms.join(",")}`,
        "--opt",
        `build-arg:SOURCE_DATE_EPOCH=${policy.sourceDateEpoch ?? 0}`,
        "--output",
        `type=oci,dest=${w}/image.oci.tar,rewrite-timestamp=true`,
        "--metadata-file",
        `${w}/build.json`,
      ],
    },
    files: {},
    outputs: { image: `${w}/image.oci.tar`, metadata: `${w}/build.json` },
    gate: true,
  };
  const push: Step = {
    id: id("push"),
    kind: "push",
    image: spec.name,
    description: `push ${spec.name} to ${target.repository} under its content tag, digests preserved`,
    needs: [build.id],
    run: {
      tool: "skopeo",
      args: [
        "copy",
        "--all",
        "--preserve-digests",
        ...(target.insecure ? ["--dest-tls-verify=false"] : []),
        "--digestfile",
        `${w}/push.digest`,
        "--",
        `oci-archive:${w}/image.oci.tar`,
        `docker://${taggedRef}`,
      ],
    },
    files: {},
    outputs: { digest: `${w}/push.digest` },
    gate: true,
  };
  const verify: Step = {
    id: id("verify"),
    kind: "verify",
    image: spec.name,
    description: `check the registry serves ${spec.name} at the digest that was built and pushed`,
    needs: [build.id, push.id],
    run: {
      tool: "golden",
      args: ["step", "verify", "--ref", taggedRef, "--digest-file", `${w}/push.digest`, "--metadata", `${w}/build.json`, ...insecure, "--output", `${w}/verified.ref`],
    },
    files: {},
    outputs: { ref: `${w}/verified.ref` },
    gate: true,
  };
  return [pin, render, build, push, verify];
}

/** The plan of every image, in the order given. */
export function planImages(specs: readonly ImageSpec[], policy: EnvironmentPolicy, target: (spec: ImageSpec) => ImageTarget): Plan {
  return { version: 1, steps: specs.flatMap((s) => planImage(s, policy, target(s))) };
}

/** `./images/hello/` -> `images/hello`: one spelling per directory, so plans and tags compare. */
export function normalizeContext(context: string): string {
  const parts = context.split("/").filter((p) => p !== "" && p !== ".");
  return parts.length === 0 ? "." : parts.join("/");
}
