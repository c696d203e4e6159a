import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { baseDirectoryIssues, HardenedImage, HardenedImageArgs } from "./image/hardened-image";
import { structuralIssues } from "./render/schema";
import { registryBackend, registryTypes } from "./registry/backends";
import { EcrRegistryArgs } from "./registry/ecr-registry";
import { Registry } from "./registry/registry";
import { throwIfIssues, ValidationIssue } from "./render/issues";
import { validateImages } from "./render/validate";
import { EnvironmentPolicy, ImageSpec } from "./spec/types";
import { GatePolicy, gatePolicyIssues } from "./signing/gate";
import { SigningKey, SigningKeyArgs, validateSigningKeyArgs } from "./signing/signing-key";
import { SigningPlan } from "./signing/types";

/** Registry choice: a backend by `type` (see registry/backends.ts): an ECR registry the pipeline
 *  creates, a registry made elsewhere, or any registered backend with its own arguments. */
export type PipelineRegistryArgs =
  | ({ readonly type: "ecr" } & Omit<EcrRegistryArgs, "images">)
  | { readonly type: "existing"; readonly registry: Registry }
  | ({ readonly type: string } & Readonly<Record<string, unknown>>);

export interface GoldenImagePipelineArgs {
  /** Where images live. ECR repositories are created for every image. */
  readonly registry: PipelineRegistryArgs;
  /** The golden images, as typed specs. Names are unique. */
  readonly images: readonly ImageSpec[];
  /** The environment's rules: digests required (always in prod), mirror, commit time. */
  readonly policy: EnvironmentPolicy;
  /** Build settings applied to every image (see HardenedImageArgs).
   *  @default {} (HardenedImage defaults) */
  readonly build?: Pick<HardenedImageArgs, "tagPrefix" | "cache" | "baseDirectory" | "buildOnPreview">;
  /** The key images are signed with (a SigningKey child is created). Its `signing` (key references
   *  only) is what the plan's executors sign and verify with.
   *  @default none (no key: the pipeline builds and pushes; nothing is signed) */
  readonly signing?: SigningKeyArgs;
  /** The vulnerability gate the executors apply (validated here with everything else).
   *  @default {} (grype, HIGH and above block, no ignore entries) */
  readonly gate?: GatePolicy;
}

type BuildSettings = NonNullable<GoldenImagePipelineArgs["build"]>;

/** The build settings' shape, typed against the TypeScript type so the two cannot drift. */
const buildSettingsSchema = z
  .strictObject({ tagPrefix: z.string().optional(), cache: z.boolean().optional(), baseDirectory: z.string().optional(), buildOnPreview: z.boolean().optional() })
  .optional() satisfies z.ZodType<BuildSettings | undefined>;

/** Every problem of the pipeline's args, at once, with property paths from the args root. */
export function validateGoldenImagePipelineArgs(args: GoldenImagePipelineArgs): ValidationIssue[] {
  if (args === null || typeof args !== "object") {
    return [{ path: "args", value: args, problem: "must be an object", fix: "give { registry, images, policy }" }];
  }
  const issues = validateImages(args.images ?? [], args.policy, "images", "policy");
  if (!Array.isArray(args.images) || args.images.length === 0) {
    issues.push({ path: "images", value: args.images, problem: "no images to build", fix: "list at least one image spec" });
  }
  const build = structuralIssues(buildSettingsSchema, args.build, "build");
  issues.push(...(build.length > 0 ? build : baseDirectoryIssues(args.build?.baseDirectory, "build.baseDirectory")));
  if (args.signing !== undefined) {
    issues.push(...validateSigningKeyArgs(args.signing).map((i) => ({ ...i, path: prefixPath("signing", i.path === "args" ? "" : i.path) })));
  }
  issues.push(...gatePolicyIssues(args.gate ?? {}, "gate"));
  const registry = args.registry as { type?: unknown } | undefined;
  const backend = registryBackend(registry?.type);
  if (backend === undefined) {
    issues.push({ path: "registry.type", value: registry?.type, problem: "is not a registry type", fix: `use one of: ${registryTypes().map((t) => `"${t}"`).join(", ")}` });
  } else {
    const { type: _type, ...rest } = args.registry as { type: string } & Record<string, unknown>;
    issues.push(
      ...backend.validate(rest, imageNames(args)).map((i) => ({
        ...i,
        path: i.path.startsWith("images") ? i.path : prefixPath("registry", i.path),
      })),
    );
  }
  return issues;
}

/**
 * The whole golden-image pipeline for one environment: the registry and every hardened image.
 * With `signing`, its SigningKey too; the gate is validated here and applied by the executors.
 */
export class GoldenImagePipeline extends pulumi.ComponentResource {
  public readonly registry: Registry;
  public readonly images: Readonly<Record<string, HardenedImage>>;
  /** Image name -> `repository@sha256:<digest>`. */
  public readonly refs: pulumi.Output<Record<string, string>>;
  /** Image name -> rendered Dockerfile. */
  public readonly dockerfiles: pulumi.Output<Record<string, string>>;
  /** The signing key, when `signing` was given. */
  public readonly signingKey?: SigningKey;
  /** How the executors sign and verify (key references only), when `signing` was given. */
  public readonly signing?: pulumi.Output<SigningPlan>;
  /** The public key consumers verify with (empty for keyless), when `signing` was given. */
  public readonly signingPublicKey?: pulumi.Output<string>;
  /** The vulnerability gate, validated. */
  public readonly gate: GatePolicy;

  constructor(name: string, args: GoldenImagePipelineArgs, opts?: pulumi.ComponentResourceOptions) {
    super("golden-image:index:GoldenImagePipeline", name, {}, opts);
    throwIfIssues(`Invalid GoldenImagePipeline "${name}"`, validateGoldenImagePipelineArgs(args));

    const { type, ...rest } = args.registry as { type: string } & Record<string, unknown>;
    this.registry = (registryBackend(type) as NonNullable<ReturnType<typeof registryBackend>>).create(`${name}-registry`, rest, imageNames(args), { parent: this });
    const images: Record<string, HardenedImage> = {};
    for (const spec of [...args.images].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      images[spec.name] = new HardenedImage(
        `${name}-${spec.name.replace(/\//g, "-")}`,
        { spec, policy: args.policy, registry: this.registry, ...(args.build ?? {}) },
        { parent: this },
      );
    }
    this.images = images;
    this.refs = collect(images, (i) => i.ref);
    this.dockerfiles = collect(images, (i) => i.dockerfile);
    this.gate = args.gate ?? {};
    if (args.signing !== undefined) {
      this.signingKey = new SigningKey(`${name}-signing`, args.signing, { parent: this });
      this.signing = this.signingKey.signing;
      this.signingPublicKey = this.signingKey.publicKeyPem;
    }
    this.registerOutputs({ refs: this.refs, dockerfiles: this.dockerfiles, ...(this.signing !== undefined ? { signing: this.signing, signingPublicKey: this.signingPublicKey } : {}) });
  }
}

function imageNames(args: GoldenImagePipelineArgs): string[] {
  const names = (Array.isArray(args.images) ? args.images : []).map((i) => i?.name).filter((n): n is string => typeof n === "string");
  return Array.from(new Set(names));
}

/** `registry` + `lifecycle.keepReleases` -> `registry.lifecycle.keepReleases`; `registry` + `[0]` -> `registry[0]`. */
function prefixPath(base: string, path: string): string {
  return path === "" ? base : path.startsWith("[") ? `${base}${path}` : `${base}.${path}`;
}

function collect(images: Record<string, HardenedImage>, pick: (i: HardenedImage) => pulumi.Output<string>): pulumi.Output<Record<string, string>> {
  const keys = Object.keys(images).sort();
  return pulumi.all(keys.map((k) => pick(images[k]))).apply((values) => Object.fromEntries(keys.map((k, i) => [k, values[i]])));
}
