/**
 * One way in: `prepareImage(spec, policy)` validates a spec under its environment's policy and
 * resolves every default once, or returns every problem. Renderers and components take only
 * its result, so nothing is validated twice and no default is applied in two places. A spec
 * prepared once (the same spec and policy objects) is not validated again: the pipeline
 * validates all its images, and each HardenedImage reuses that result.
 */
import { EnvironmentPolicy, ImageSpec } from "../spec/types";
import { throwIfIssues, ValidationIssue } from "./issues";
import { ResolvedImage, resolveImage } from "./resolve";
import { environmentPolicySchema, structuralIssues } from "./schema";
import { validateEnvironmentPolicy, validateImageSpec } from "./validate";

export interface PreparedImage {
  /** The spec as given (validated). */
  readonly spec: ImageSpec;
  readonly policy: EnvironmentPolicy;
  /** Every default applied. */
  readonly image: ResolvedImage;
}

/** Successful preparations by spec object, for the same policy object. Specs are readonly data. */
const PREPARED = new WeakMap<object, { policy: unknown; prepared: PreparedImage }>();

/** Counts validations actually run (not cache hits); tests check a spec is validated once. */
export const prepareStats = { validations: 0 };

export function prepareImage(spec: unknown, policy: unknown, path = "image", policyPath = "policy"): { prepared?: PreparedImage; issues: ValidationIssue[] } {
  const cached = spec !== null && typeof spec === "object" ? PREPARED.get(spec) : undefined;
  if (cached !== undefined && cached.policy === policy) {
    return { prepared: cached.prepared, issues: [] };
  }
  prepareStats.validations += 1;
  const policyIssues = validateEnvironmentPolicy(policy, policyPath);
  // All problems at once: the spec is checked whenever the policy has the right shape.
  const policyShaped = structuralIssues(environmentPolicySchema, policy, policyPath).length === 0;
  const issues = [...policyIssues, ...(policyShaped ? validateImageSpec(spec, policy as EnvironmentPolicy, path) : [])];
  if (issues.length > 0) {
    return { issues };
  }
  const prepared: PreparedImage = { spec: spec as ImageSpec, policy: policy as EnvironmentPolicy, image: resolveImage(spec as ImageSpec, policy as EnvironmentPolicy) };
  PREPARED.set(spec as object, { policy, prepared });
  return { prepared, issues: [] };
}

/** prepareImage, throwing one ValidationError (a Pulumi RunError) with every problem. */
export function prepareOrThrow(spec: unknown, policy: unknown, title?: string): PreparedImage {
  const { prepared, issues } = prepareImage(spec, policy);
  // `?.` and no String(object): the title must not crash on the very input it reports (null, undefined, ...).
  const name: unknown = (spec as { name?: unknown } | null | undefined)?.name;
  throwIfIssues(title ?? `Invalid golden image spec "${typeof name === "object" && name !== null ? "?" : String(name)}"`, issues);
  return prepared as PreparedImage;
}
