/**
 * The golden-images policies as `@pulumi/policy` ResourceValidationPolicies over the pure checks
 * of `rules.ts`. Building them needs no engine, so tests call `goldenPolicies()` and each
 * policy's `validateResource` directly; only `index.ts` constructs the PolicyPack.
 */
import { PolicyConfigSchema, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, UnknownValueError } from "@pulumi/policy";
import {
  CheckedResource,
  ecrRepositoryViolations,
  GOLDEN_POLICY_NAMES,
  GoldenImagesConfig,
  GoldenPolicyName,
  imageViolations,
  POLICY,
  securityContextViolations,
  UNKNOWN,
} from "./rules";

/** The enforcement levels a golden policy takes (none of them remediates). */
export const GOLDEN_ENFORCEMENT_LEVELS = ["advisory", "mandatory", "disabled"] as const;
export type GoldenEnforcementLevel = (typeof GOLDEN_ENFORCEMENT_LEVELS)[number];

export interface GoldenPolicyOptions {
  /** The level of every policy that `enforcementLevels` does not name.
   *  @default "mandatory" */
  readonly enforcementLevel?: GoldenEnforcementLevel;
  /** A level per policy name, e.g. `{ "workload-security-context": "advisory" }`.
   *  @default {} */
  readonly enforcementLevels?: Partial<Record<GoldenPolicyName, GoldenEnforcementLevel>>;
}

export const GOLDEN_POLICY_DEFAULTS = { enforcementLevel: "mandatory" } as const satisfies GoldenPolicyOptions;

export const PACK_NAME = "golden-images";
export const PACK_DESCRIPTION =
  "Consumer stacks run golden images only: by digest from the golden registries, from immutable KMS-encrypted ECR repositories, in hardened Kubernetes containers.";

/** `golden-images-by-digest` needs the registry prefixes; the engine refuses a config without them. */
export const GOLDEN_IMAGES_CONFIG_SCHEMA: PolicyConfigSchema = {
  properties: {
    goldenRegistries: {
      type: "array",
      items: { type: "string", minLength: 1 },
      minItems: 1,
      uniqueItems: true,
      description: "Registry prefixes golden images live under, e.g. \"<account>.dkr.ecr.<region>.<suffix>/golden/\".",
    },
  },
  required: ["goldenRegistries"],
};

/** Every problem of the options at once, each naming the property, the bad value and the fix. */
export function validateGoldenPolicyOptions(options: GoldenPolicyOptions): string[] {
  const levels = GOLDEN_ENFORCEMENT_LEVELS.join(", ");
  const issues: string[] = [];
  const level = (path: string, value: unknown) => {
    if (!(GOLDEN_ENFORCEMENT_LEVELS as readonly unknown[]).includes(value)) {
      issues.push(`${path}: ${JSON.stringify(value)} is not an enforcement level of this pack (use one of ${levels})`);
    }
  };
  if (options.enforcementLevel !== undefined) {
    level("enforcementLevel", options.enforcementLevel);
  }
  for (const [name, value] of Object.entries(options.enforcementLevels ?? {})) {
    if (!(GOLDEN_POLICY_NAMES as readonly string[]).includes(name)) {
      issues.push(`enforcementLevels.${name}: no policy of this pack has that name (use one of ${GOLDEN_POLICY_NAMES.join(", ")})`);
    } else {
      level(`enforcementLevels.${name}`, value);
    }
  }
  return issues;
}

/**
 * The pack's policies, each with its enforcement level: `enforcementLevels[name]`, else
 * `enforcementLevel`, else mandatory. A `--policy-pack-config` file overrides them at run time.
 */
export function goldenPolicies(options: GoldenPolicyOptions = {}): ResourceValidationPolicy[] {
  const issues = validateGoldenPolicyOptions(options);
  if (issues.length > 0) {
    throw new Error(`Invalid golden policy options:\n${issues.map((i) => `  - ${i}`).join("\n")}`);
  }
  const levelOf = (name: GoldenPolicyName) => options.enforcementLevels?.[name] ?? options.enforcementLevel ?? GOLDEN_POLICY_DEFAULTS.enforcementLevel;
  return [
    {
      name: POLICY.imagesByDigest,
      description:
        "Kubernetes workloads, ECS task definitions and Lambda container functions run images from a golden registry, pinned by sha256 digest (no latest, no tag alone).",
      enforcementLevel: levelOf(POLICY.imagesByDigest),
      configSchema: GOLDEN_IMAGES_CONFIG_SCHEMA,
      validateResource: validation((resource, args) => imageViolations(resource, goldenImagesConfig(args.getConfig<Record<string, unknown>>()))),
    },
    {
      name: POLICY.ecrImmutableKms,
      description: "ECR repositories have immutable tags (IMMUTABLE or IMMUTABLE_WITH_EXCLUSION) and KMS encryption.",
      enforcementLevel: levelOf(POLICY.ecrImmutableKms),
      validateResource: validation((resource) => ecrRepositoryViolations(resource)),
    },
    {
      name: POLICY.workloadSecurityContext,
      description:
        "Every container of a Kubernetes workload runs as non-root with a read-only root filesystem, no privilege escalation, ALL capabilities dropped, a RuntimeDefault or Localhost seccomp profile, and is not privileged.",
      enforcementLevel: levelOf(POLICY.workloadSecurityContext),
      validateResource: validation((resource) => securityContextViolations(resource)),
    },
  ];
}

/** The policy's config as the engine passes it; a missing or malformed list reads as none (so every image fails, saying why). */
export function goldenImagesConfig(config: Record<string, unknown>): GoldenImagesConfig {
  const registries = config.goldenRegistries;
  return { goldenRegistries: Array.isArray(registries) ? registries.filter((r): r is string => typeof r === "string" && r !== "") : [] };
}

function validation(check: (resource: CheckedResource, args: ResourceValidationArgs) => string[]) {
  return (args: ResourceValidationArgs, reportViolation: ReportViolation): void => {
    const resource: CheckedResource = { type: args.type, name: args.name, props: plainProps(args.props) };
    for (const message of check(resource, args)) {
      reportViolation(message);
    }
  };
}

/**
 * A plain copy of the engine's inputs with UNKNOWN for every value unknown during preview. The
 * engine sends unknowns as sentinels behind a proxy that throws `UnknownValueError` on access;
 * left to throw, the SDK would skip the whole policy for the resource, so a known bad setting
 * beside an unknown image would go unreported.
 */
export function plainProps(props: Record<string, unknown>): Record<string, unknown> {
  const copy = plain(props);
  return copy !== null && typeof copy === "object" && !Array.isArray(copy) ? (copy as Record<string, unknown>) : {};
}

function plain(value: unknown): unknown {
  if (value === null || typeof value !== "object") {
    return value;
  }
  if (Array.isArray(value)) {
    return Array.from({ length: value.length }, (_, i) => read(value as unknown as Record<number, unknown>, i));
  }
  return Object.fromEntries(Object.keys(value).map((key) => [key, read(value as Record<string, unknown>, key)]));
}

function read(container: Record<string | number, unknown>, key: string | number): unknown {
  try {
    return plain(container[key]);
  } catch (e) {
    if (e instanceof UnknownValueError) {
      return UNKNOWN;
    }
    throw e;
  }
}
