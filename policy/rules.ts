/**
 * The checks of the golden-images policy pack as pure functions over a resource's plain inputs:
 * no Pulumi engine, no PolicyPack, nothing happens at import. `policies.ts` adapts them to
 * `@pulumi/policy`; the tests call both.
 *
 * Self-contained on purpose: `pulumi policy publish policy/` uploads this folder only.
 */

/** The pack's policies, by stable name (the names a `--policy-pack-config` file uses). */
export const POLICY = {
  imagesByDigest: "golden-images-by-digest",
  ecrImmutableKms: "ecr-repositories-immutable-and-kms",
  workloadSecurityContext: "workload-security-context",
} as const;
export type GoldenPolicyName = (typeof POLICY)[keyof typeof POLICY];
export const GOLDEN_POLICY_NAMES: readonly GoldenPolicyName[] = Object.values(POLICY);

/**
 * A value Pulumi cannot know during preview (an output of a resource not created yet). The
 * adapter puts it where the engine sent its "unknown" sentinel; a check never reports it.
 */
export const UNKNOWN: unique symbol = Symbol("unknown during preview");

/** Configuration of `golden-images-by-digest`. */
export interface GoldenImagesConfig {
  /**
   * Registry prefixes golden images live under, e.g. `<account>.dkr.ecr.<region>.<suffix>/golden/`.
   * A prefix ending in `/` covers every repository below it; one without names a repository or a
   * namespace, never a string prefix of a sibling (`.../golden` does not cover `.../golden-old/x`).
   */
  readonly goldenRegistries: readonly string[];
}

/** What a check sees of a resource: its type token, its Pulumi name and its inputs. */
export interface CheckedResource {
  readonly type: string;
  readonly name: string;
  readonly props: Readonly<Record<string, unknown>>;
}

/** Kubernetes workloads and where each keeps its pod spec. */
export const WORKLOAD_POD_SPEC_PATHS = {
  "kubernetes:core/v1:Pod": ["spec"],
  "kubernetes:apps/v1:Deployment": ["spec", "template", "spec"],
  "kubernetes:apps/v1:StatefulSet": ["spec", "template", "spec"],
  "kubernetes:apps/v1:DaemonSet": ["spec", "template", "spec"],
  "kubernetes:apps/v1:ReplicaSet": ["spec", "template", "spec"],
  "kubernetes:batch/v1:Job": ["spec", "template", "spec"],
  "kubernetes:batch/v1:CronJob": ["spec", "jobTemplate", "spec", "template", "spec"],
} as const satisfies Record<string, readonly string[]>;
export type WorkloadType = keyof typeof WORKLOAD_POD_SPEC_PATHS;

export const ECS_TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition";
export const LAMBDA_FUNCTION = "aws:lambda/function:Function";
export const ECR_REPOSITORY = "aws:ecr/repository:Repository";

/** Every container list of a pod spec (each is checked: an init container runs code too). */
const CONTAINER_LISTS = ["containers", "initContainers", "ephemeralContainers"] as const;

const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;
const IMMUTABLE_TAG_SETTINGS: readonly string[] = ["IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION"];
const CONFINED_SECCOMP_TYPES: readonly string[] = ["RuntimeDefault", "Localhost"];

// ---------------------------------------------------------------------------------------------
// golden-images-by-digest

/** An image reference split the way a container runtime reads it. */
export interface ImageReference {
  /** Everything before the tag and digest: `[host[:port]/]path`. */
  readonly repository: string;
  readonly tag?: string;
  /** `algorithm:hex`, as written. */
  readonly digest?: string;
}

export function parseImageReference(image: string): ImageReference {
  const at = image.indexOf("@");
  const name = at < 0 ? image : image.slice(0, at);
  const digest = at < 0 ? undefined : image.slice(at + 1);
  // A colon after the last slash starts the tag; one before it is a registry port.
  const colon = name.indexOf(":", name.lastIndexOf("/") + 1);
  return colon < 0 ? { repository: name, digest } : { repository: name.slice(0, colon), tag: name.slice(colon + 1), digest };
}

function underPrefix(repository: string, prefix: string): boolean {
  if (prefix.endsWith("/")) {
    return repository.startsWith(prefix) && repository.length > prefix.length;
  }
  return repository === prefix || repository.startsWith(`${prefix}/`);
}

/**
 * What is wrong with one image reference, each problem with its fix; empty when the image is
 * under a golden registry and pinned by a sha256 digest (a tag beside the digest is allowed: the
 * digest is what runs).
 */
export function imageReferenceProblems(image: string, config: GoldenImagesConfig): string[] {
  const ref = parseImageReference(image);
  const golden = config.goldenRegistries.some((prefix) => underPrefix(ref.repository, prefix));
  const problems: string[] = [];
  if (!golden) {
    problems.push(
      config.goldenRegistries.length === 0
        ? "is not from a golden registry (none is configured: set goldenRegistries in the policy pack config)"
        : `is not from a golden registry (use an image under ${config.goldenRegistries.join(" or ")})`,
    );
  }
  if (ref.digest === undefined || !SHA256_DIGEST.test(ref.digest)) {
    const why =
      ref.digest !== undefined
        ? `digest "${ref.digest}" is not sha256:<64 lowercase hex>`
        : ref.tag === undefined
          ? 'no tag means "latest"'
          : ref.tag === "latest"
            ? 'tag "latest" moves'
            : `tag "${ref.tag}" alone can be moved`;
    const pinned = golden ? `${ref.repository}@sha256:<64 hex>` : "<golden registry>/<repository>@sha256:<64 hex>";
    problems.push(`is not pinned by digest: ${why} (use ${pinned}, the digest the golden pipeline promoted)`);
  }
  return problems;
}

/** One image found in a resource's inputs, with where it was found. */
export interface FoundImage {
  /** What holds the image, e.g. `container "app" (spec.template.spec.containers[0]) image` or `imageUri`. */
  readonly where: string;
  readonly image: unknown;
}

/** Images of a resource the image policy applies to; `problems` for inputs it cannot read. */
export function imagesOf(resource: CheckedResource): { images: FoundImage[]; problems: string[] } {
  if (isWorkload(resource.type)) {
    return {
      images: podContainers(resource).map(({ where, container }) => ({ where: `${where} image`, image: field(container, "image") })),
      problems: [],
    };
  }
  if (resource.type === ECS_TASK_DEFINITION) {
    return ecsImages(field(resource.props, "containerDefinitions"));
  }
  if (resource.type === LAMBDA_FUNCTION && field(resource.props, "packageType") === "Image") {
    return { images: [{ where: "imageUri", image: field(resource.props, "imageUri") }], problems: [] };
  }
  return { images: [], problems: [] };
}

function ecsImages(definitions: unknown): { images: FoundImage[]; problems: string[] } {
  if (definitions === undefined || definitions === UNKNOWN) {
    return { images: [], problems: [] };
  }
  const fix = 'pass a JSON array of container definitions, e.g. JSON.stringify([{ name: "app", image: "<golden image>@sha256:<64 hex>" }])';
  if (typeof definitions !== "string") {
    return { images: [], problems: [`containerDefinitions is ${show(definitions)}, not a JSON string, so its images cannot be checked (${fix})`] };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(definitions);
  } catch {
    const shown = definitions.length > 60 ? `${definitions.slice(0, 60)}...` : definitions;
    return { images: [], problems: [`containerDefinitions ${JSON.stringify(shown)} is not valid JSON, so its images cannot be checked (${fix})`] };
  }
  if (!Array.isArray(parsed)) {
    return { images: [], problems: [`containerDefinitions is ${show(parsed)}, not a JSON array, so its images cannot be checked (${fix})`] };
  }
  return {
    images: parsed.map((definition, i) => ({ where: `${containerLabel(field(definition, "name"))}(containerDefinitions[${i}]) image`, image: field(definition, "image") })),
    problems: [],
  };
}

/** `golden-images-by-digest`: one message per bad image, naming the resource, the image and the fix. */
export function imageViolations(resource: CheckedResource, config: GoldenImagesConfig): string[] {
  const { images, problems } = imagesOf(resource);
  const messages = problems.map((p) => `${subject(resource)}: ${p}.`);
  for (const { where, image } of images) {
    // Unknown during preview, or absent (the provider rejects a container without an image).
    if (image === UNKNOWN || image === undefined) {
      continue;
    }
    if (typeof image !== "string") {
      messages.push(`${subject(resource)}: ${where} is ${show(image)}, not a string (use "<golden registry>/<repository>@sha256:<64 hex>").`);
      continue;
    }
    const imageProblems = imageReferenceProblems(image, config);
    if (imageProblems.length > 0) {
      messages.push(`${subject(resource)}: ${where} "${image}" ${imageProblems.join("; ")}.`);
    }
  }
  return messages;
}

// ---------------------------------------------------------------------------------------------
// ecr-repositories-immutable-and-kms

/** `ecr-repositories-immutable-and-kms`: one message listing what the repository lacks. */
export function ecrRepositoryViolations(resource: CheckedResource): string[] {
  if (resource.type !== ECR_REPOSITORY) {
    return [];
  }
  const problems: string[] = [];
  const mutability = field(resource.props, "imageTagMutability");
  if (mutability !== UNKNOWN && !(typeof mutability === "string" && IMMUTABLE_TAG_SETTINGS.includes(mutability))) {
    const value = mutability === undefined ? 'is unset, so "MUTABLE"' : `is ${show(mutability)}`;
    problems.push(`imageTagMutability ${value} (set "IMMUTABLE", or "IMMUTABLE_WITH_EXCLUSION" with exclusion filters)`);
  }
  const encryption = field(resource.props, "encryptionConfigurations");
  const kmsFix = '(set encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: <key ARN> }])';
  if (encryption === undefined || (Array.isArray(encryption) && encryption.length === 0)) {
    problems.push(`encryptionConfigurations is unset, so "AES256" ${kmsFix}`);
  } else if (encryption !== UNKNOWN && !Array.isArray(encryption)) {
    problems.push(`encryptionConfigurations is ${show(encryption)}, not a list ${kmsFix}`);
  } else if (Array.isArray(encryption)) {
    encryption.forEach((configuration, i) => {
      const type = field(configuration, "encryptionType");
      if (type !== UNKNOWN && type !== "KMS") {
        const value = type === undefined ? 'is unset, so "AES256"' : `is ${show(type)}`;
        problems.push(`encryptionConfigurations[${i}].encryptionType ${value} ${kmsFix}`);
      }
    });
  }
  return problems.length === 0 ? [] : [`${subject(resource)}: ${problems.join("; ")}.`];
}

// ---------------------------------------------------------------------------------------------
// workload-security-context

/**
 * `workload-security-context`: one message per container that is not hardened, listing each
 * setting, its value and the fix. runAsNonRoot and seccompProfile may come from the pod's
 * securityContext (Kubernetes inherits them); the others count only on the container.
 */
export function securityContextViolations(resource: CheckedResource): string[] {
  if (!isWorkload(resource.type)) {
    return [];
  }
  const podContext = field(podSpec(resource), "securityContext");
  const messages: string[] = [];
  for (const { where, container } of podContainers(resource)) {
    const own = field(container, "securityContext");
    if (own === UNKNOWN) {
      continue; // anything may be set there
    }
    const problems = [
      ...inheritedProblems("runAsNonRoot", field(own, "runAsNonRoot"), field(podContext, "runAsNonRoot"), (v) => v === true, "set true"),
      ...ownProblems("readOnlyRootFilesystem", field(own, "readOnlyRootFilesystem"), (v) => v === true, "set true on the container; mount an emptyDir where the program writes"),
      ...ownProblems("allowPrivilegeEscalation", field(own, "allowPrivilegeEscalation"), (v) => v === false, "set false on the container"),
      ...capabilityProblems(field(own, "capabilities")),
      ...seccompProblems(field(own, "seccompProfile"), field(podContext, "seccompProfile")),
      ...ownProblems("privileged", field(own, "privileged"), (v) => v === undefined || v === false, "remove it or set false"),
    ];
    if (problems.length > 0) {
      messages.push(`${subject(resource)}: ${where} securityContext: ${problems.join("; ")}.`);
    }
  }
  return messages;
}

function ownProblems(name: string, value: unknown, ok: (v: unknown) => boolean, fix: string): string[] {
  if (value === UNKNOWN || ok(value)) {
    return [];
  }
  return [`${name} ${value === undefined ? "is unset" : `is ${show(value)}`} (${fix})`];
}

function inheritedProblems(name: string, own: unknown, pod: unknown, ok: (v: unknown) => boolean, fix: string): string[] {
  const fromPod = own === undefined;
  const value = fromPod ? pod : own;
  if (value === UNKNOWN || ok(value)) {
    return [];
  }
  const shown = value === undefined ? "is unset" : `is ${show(value)}${fromPod ? " from the pod" : ""}`;
  return [`${name} ${shown} (${fix} on the container${fromPod ? " or the pod" : ""})`];
}

function seccompProblems(own: unknown, pod: unknown): string[] {
  // The whole profile is inherited: a container's profile replaces the pod's.
  const fromPod = own === undefined;
  const profile = fromPod ? pod : own;
  const type = profile === undefined ? undefined : field(profile, "type");
  if (profile === UNKNOWN || type === UNKNOWN || (typeof type === "string" && CONFINED_SECCOMP_TYPES.includes(type))) {
    return [];
  }
  const shown = type === undefined ? "is unset" : `is ${show(type)}${fromPod ? " from the pod" : ""}`;
  return [`seccompProfile.type ${shown} (set "RuntimeDefault", or "Localhost" with a profile, on the container${fromPod ? " or the pod" : ""})`];
}

function capabilityProblems(capabilities: unknown): string[] {
  const drop = field(capabilities, "drop");
  if (capabilities === UNKNOWN || drop === UNKNOWN || (Array.isArray(drop) && (drop.includes("ALL") || drop.includes(UNKNOWN)))) {
    return [];
  }
  return [`capabilities.drop ${drop === undefined ? "is unset" : `is ${show(drop)}`} (include "ALL" on the container; add back only what the program needs)`];
}

// ---------------------------------------------------------------------------------------------
// Reading inputs

export function isWorkload(type: string): type is WorkloadType {
  return Object.prototype.hasOwnProperty.call(WORKLOAD_POD_SPEC_PATHS, type);
}

/** `value[key]` of an object value; UNKNOWN stays UNKNOWN, anything else reads as undefined. */
function field(value: unknown, key: string): unknown {
  if (value === UNKNOWN) {
    return UNKNOWN;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return undefined;
  }
  // Kubernetes reads null as unset.
  return (value as Record<string, unknown>)[key] ?? undefined;
}

function podSpec(resource: CheckedResource): unknown {
  let value: unknown = resource.props;
  for (const key of WORKLOAD_POD_SPEC_PATHS[resource.type as WorkloadType]) {
    value = field(value, key);
  }
  return value;
}

/** Every known container of every list, with where it is; unknown lists and entries are skipped. */
function podContainers(resource: CheckedResource): { where: string; container: unknown }[] {
  const base = WORKLOAD_POD_SPEC_PATHS[resource.type as WorkloadType].join(".");
  const spec = podSpec(resource);
  const found: { where: string; container: unknown }[] = [];
  for (const list of CONTAINER_LISTS) {
    const containers = field(spec, list);
    if (!Array.isArray(containers)) {
      continue;
    }
    containers.forEach((container, i) => {
      if (container !== UNKNOWN) {
        found.push({ where: `${containerLabel(field(container, "name"))}(${base}.${list}[${i}])`, container });
      }
    });
  }
  return found;
}

function containerLabel(name: unknown): string {
  return typeof name === "string" ? `container "${name}" ` : "container ";
}

function subject(resource: CheckedResource): string {
  return `${resource.type} "${resource.name}"`;
}

function show(value: unknown): string {
  if (value === UNKNOWN) {
    return "unknown";
  }
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text;
}
