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
import { planImages } from "./plan/planner";
import { Plan } from "./plan/types";
import { EcrRegistryBase } from "./registry/ecr-base";
import { CodeBuildRebuilder, CodeBuildRebuilderArgs, FINDING_SEVERITIES, FindingSeverity } from "./rebuild/codebuild-rebuilder";
import { scheduleIssues } from "./rebuild/schedule";
import { POINTER_PATH } from "./render/rebuild-iam";

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
  /** Scheduled and event-driven rebuilds (a CodeBuildRebuilder child): the plan of these images,
   *  signed with `signing`, gated by `gate`, promoted to SSM. Needs an ECR registry and `signing`
   *  (kms or keypair). @default none (images are built by `pulumi up` and the local `golden` only) */
  readonly rebuild?: PipelineRebuildArgs;
}

/** The pipeline's rebuilds on AWS CodeBuild; the plan, repositories and key come from the pipeline. */
export interface PipelineRebuildArgs extends Pick<CodeBuildRebuilderArgs, "source" | "schedule" | "computeType" | "timeoutMinutes" | "logRetentionDays" | "goldenVersion"> {
  readonly executor: "codebuild";
  /** SSM path of the promotion pointers. @default `/golden-images/<environment>` */
  readonly pointerPath?: string;
  /** Rebuild on Inspector2 findings at or above this severity in the pipeline's repositories. @default none */
  readonly findings?: { readonly minimumSeverity: FindingSeverity };
  /** Registry prefix serving host-less bases to the rebuild. @default policy.mirror */
  readonly mirror?: string;
}

/** The pointer path of an environment's promotions. */
export function defaultPointerPath(environment: string): string {
  return `/golden-images/${environment}`;
}

function rebuildIssues(args: GoldenImagePipelineArgs): ValidationIssue[] {
  const r = args.rebuild;
  if (r === undefined) {
    return [];
  }
  const issues: ValidationIssue[] = [];
  if (r.executor !== "codebuild") {
    issues.push({ path: "rebuild.executor", value: r.executor, problem: "is not a rebuild executor of the pipeline", fix: 'use "codebuild" (for Kubernetes, compose KubernetesRebuilder with the plan)' });
  }
  if ((args.registry as { type?: unknown })?.type !== "ecr") {
    issues.push({ path: "rebuild", value: (args.registry as { type?: unknown })?.type, problem: "needs an ECR registry the pipeline creates (registry.type \"ecr\")", fix: "use an ECR registry, or compose CodeBuildRebuilder yourself" });
  }
  if (args.signing === undefined || args.signing.mode === "keyless") {
    issues.push({ path: "rebuild", value: args.signing?.mode, problem: "needs signing with a KMS key or a key pair (CodeBuild has no OIDC identity for keyless signing)", fix: 'give signing: { mode: "keypair" } or { mode: "kms", ... }' });
  }
  if (r.mirror === undefined && args.policy?.mirror === undefined) {
    issues.push({ path: "rebuild.mirror", value: undefined, problem: "is required when policy.mirror is not set: the rebuild pins host-less bases through it", fix: 'give the registry prefix serving the bases, e.g. "<pull-through cache host>/hub"' });
  }
  if (r.pointerPath !== undefined && !POINTER_PATH.test(r.pointerPath)) {
    issues.push({ path: "rebuild.pointerPath", value: r.pointerPath, problem: "is not an SSM parameter path the pipeline may own", fix: 'e.g. "/golden-images/prod"' });
  }
  if (r.schedule !== undefined) {
    issues.push(...scheduleIssues(r.schedule, "eventbridge", "rebuild.schedule"));
  }
  if (r.findings !== undefined && !(FINDING_SEVERITIES as readonly string[]).includes(r.findings.minimumSeverity)) {
    issues.push({ path: "rebuild.findings.minimumSeverity", value: r.findings.minimumSeverity, problem: "is not an Inspector2 severity", fix: `use one of ${FINDING_SEVERITIES.join(", ")}` });
  }
  return issues;
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
    // With rebuilds, the rebuild role signs: a KMS key needs no other signer.
    const rebuildSigns = args.rebuild !== undefined && args.signing.mode === "kms";
    issues.push(
      ...validateSigningKeyArgs(args.signing)
        .filter((i) => !(rebuildSigns && i.path === "signers" && i.problem === "lists no signer"))
        .map((i) => ({ ...i, path: prefixPath("signing", i.path === "args" ? "" : i.path) })),
    );
  }
  issues.push(...gatePolicyIssues(args.gate ?? {}, "gate"));
  issues.push(...rebuildIssues(args));
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
  /** The rebuild executor, when `rebuild` was given. */
  public readonly rebuilder?: CodeBuildRebuilder;
  /** The plan the rebuilds run, when `rebuild` was given. */
  public readonly plan?: pulumi.Output<Plan>;

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
    // The rebuilder and the key refer to each other: a KMS key lists the rebuild role as its
    // signer, and the rebuild signs with the key. The rebuilder is created first and reads the
    // key's outputs once it exists (a deferred value; no JS cycle).
    let keyReady: (key: SigningKey) => void = () => undefined;
    const deferredKey = pulumi.output(new Promise<SigningKey>((resolve) => (keyReady = resolve)));
    if (args.rebuild !== undefined && args.signing !== undefined) {
      const r = args.rebuild;
      const registry = this.registry as EcrRegistryBase;
      const names = imageNames(args);
      const pointerPath = r.pointerPath ?? defaultPointerPath(args.policy.environment);
      const mirror = (r.mirror ?? args.policy.mirror) as string;
      const urls = pulumi.all(names.map((n) => registry.repositoryUrl(n)));
      const gate = args.gate ?? {};
      this.plan = pulumi.all([urls, deferredKey.apply((k) => k.signing)]).apply(([repositories, signing]) =>
        planImages(args.images, args.policy, (spec) => ({
          repository: repositories[names.indexOf(spec.name)],
          mirror,
          insecure: false,
          supplyChain: { signing, gate, promotionStore: `ssm:${pointerPath}`, builderId: `urn:pulumi-golden-image:executor:codebuild:${name}` },
        })),
      );
      const keypair = args.signing.mode === "keypair";
      this.rebuilder = new CodeBuildRebuilder(
        `${name}`,
        {
          plan: this.plan,
          source: r.source,
          pointerPath,
          registryHosts: pulumi.all([urls]).apply(([u]) => [...new Set([...u, mirror].map((x) => x.split("/")[0]))].sort()),
          repositoryArns: registry.repositoryArns.apply((byName) => names.map((n) => byName[n])),
          ...(keypair
            ? {
                keyPair: {
                  privateKey: deferredKey.apply((k) => k.privateKey as pulumi.Output<string>),
                  publicKey: deferredKey.apply((k) => k.publicKeyPem),
                  password: deferredKey.apply((k) => k.password as pulumi.Output<string>),
                },
              }
            : { signingKeyArn: deferredKey.apply((k) => k.keyArn as pulumi.Output<string>) }),
          ...(r.schedule !== undefined ? { schedule: r.schedule } : {}),
          ...(r.findings !== undefined ? { findings: { minimumSeverity: r.findings.minimumSeverity, repositoryNames: urls.apply((u) => u.map((x) => x.slice(x.indexOf("/") + 1))) } } : {}),
          ...(r.computeType !== undefined ? { computeType: r.computeType } : {}),
          ...(r.timeoutMinutes !== undefined ? { timeoutMinutes: r.timeoutMinutes } : {}),
          ...(r.logRetentionDays !== undefined ? { logRetentionDays: r.logRetentionDays } : {}),
          ...(r.goldenVersion !== undefined ? { goldenVersion: r.goldenVersion } : {}),
        },
        { parent: this },
      );
    }
    if (args.signing !== undefined) {
      // With rebuilds, a KMS key's signers are the rebuild role (and whoever the args name).
      const signing: SigningKeyArgs =
        args.signing.mode === "kms" && this.rebuilder !== undefined ? { ...args.signing, signers: [...(args.signing.signers ?? []), this.rebuilder.roleArn] } : args.signing;
      this.signingKey = new SigningKey(`${name}-signing`, signing, { parent: this });
      this.signing = this.signingKey.signing;
      this.signingPublicKey = this.signingKey.publicKeyPem;
      keyReady(this.signingKey);
    }
    this.registerOutputs({
      refs: this.refs,
      dockerfiles: this.dockerfiles,
      ...(this.signing !== undefined ? { signing: this.signing, signingPublicKey: this.signingPublicKey } : {}),
      ...(this.rebuilder !== undefined ? { rebuildProject: this.rebuilder.projectName } : {}),
    });
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
