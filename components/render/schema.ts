/**
 * Structural schemas (zod) for the spec: types, closed value sets and unknown properties.
 * Semantic hardening rules live in validate.ts; both report through ValidationIssue.
 */
import { z } from "zod";
import { FLAVORS, PACKAGE_MANAGERS } from "../spec/catalog";
import { BuilderStage, CopySpec, ENVIRONMENTS, EnvironmentPolicy, HARDENING_LEVELS, HealthcheckSpec, ImageSpec, PLATFORMS } from "../spec/types";
import { joinKey, ValidationIssue } from "./issues";

const stringMap = z.record(z.string(), z.string());
const copySpec = z.strictObject({ from: z.string().optional(), src: z.string(), dest: z.string() });

export const builderStageSchema = z.strictObject({
  name: z.string(),
  image: z.string().optional(),
  packageManager: z.enum(PACKAGE_MANAGERS).optional(),
  packages: z.array(z.string()).optional(),
  workdir: z.string().optional(),
  copy: z.array(copySpec).optional(),
  run: z.array(z.string()).optional(),
  env: stringMap.optional(),
});

export const imageSpecSchema = z.strictObject({
  name: z.string(),
  flavor: z.enum(FLAVORS),
  base: z.string().optional(),
  builders: z.array(builderStageSchema).optional(),
  copy: z.array(copySpec).optional(),
  packages: z.array(z.string()).optional(),
  entrypoint: z.union([z.array(z.string()), z.string()]).optional(),
  cmd: z.union([z.array(z.string()), z.string()]).optional(),
  user: z.union([z.string(), z.number()]).optional(),
  workdir: z.string().optional(),
  env: stringMap.optional(),
  args: stringMap.optional(),
  expose: z.array(z.union([z.number(), z.string()])).optional(),
  healthcheck: z
    .strictObject({
      test: z.array(z.string()),
      interval: z.string().optional(),
      timeout: z.string().optional(),
      retries: z.number().optional(),
      startPeriod: z.string().optional(),
    })
    .optional(),
  labels: stringMap.optional(),
  hardening: z.enum(HARDENING_LEVELS).optional(),
  source: z.strictObject({ url: z.string().optional(), revision: z.string().optional() }).optional(),
  context: z.string().optional(),
  platforms: z.array(z.enum(PLATFORMS)).optional(),
});

export const environmentPolicySchema = z.strictObject({
  environment: z.enum(ENVIRONMENTS),
  mirror: z.string().optional(),
  allowTagOnlyBases: z.boolean().optional(),
  sourceDateEpoch: z.number().optional(),
});

/**
 * The schemas are typed against the spec's TypeScript types, so the two cannot drift: each
 * schema's output must be the type (`satisfies`), and both must have the same keys (a key
 * added to the type and not to the schema, or the other way round, fails to compile).
 */
type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never] ? true : false;
export const SCHEMAS_MATCH_TYPES: readonly true[] = [
  true satisfies SameKeys<ImageSpec, z.infer<typeof imageSpecSchema>>,
  true satisfies SameKeys<BuilderStage, z.infer<typeof builderStageSchema>>,
  true satisfies SameKeys<CopySpec, z.infer<typeof copySpec>>,
  true satisfies SameKeys<HealthcheckSpec, NonNullable<z.infer<typeof imageSpecSchema>["healthcheck"]>>,
  true satisfies SameKeys<EnvironmentPolicy, z.infer<typeof environmentPolicySchema>>,
];
void (imageSpecSchema satisfies z.ZodType<ImageSpec>);
void (environmentPolicySchema satisfies z.ZodType<EnvironmentPolicy>);

/** Runs a zod schema and turns its issues into ours, each with a path, the value and a fix. */
export function structuralIssues(schema: z.ZodType, value: unknown, basePath: string): ValidationIssue[] {
  const result = schema.safeParse(value);
  if (result.success) {
    return [];
  }
  return result.error.issues.map((issue) => toIssue(issue, value, basePath));
}

function toIssue(issue: z.core.$ZodIssue, root: unknown, basePath: string): ValidationIssue {
  let path = basePath;
  for (const key of issue.path) {
    // Each segment is one key (a map key such as a label may hold dots): never a path.
    path = joinKey(path, typeof key === "number" ? key : String(key));
  }
  const value = valueAt(root, issue.path);
  switch (issue.code) {
    case "unrecognized_keys":
      return {
        path,
        value: issue.keys,
        problem: `unknown propert${issue.keys.length === 1 ? "y" : "ies"} ${issue.keys.map((k) => `"${k}"`).join(", ")}`,
        fix: "remove it or correct the spelling (see the ImageSpec reference in the README)",
      };
    case "invalid_value":
      if (value === undefined) {
        return { path, value, problem: "is required", fix: `set ${path} to one of: ${issue.values.map((v) => JSON.stringify(v)).join(", ")}` };
      }
      return {
        path,
        value,
        problem: "is not one of the allowed values",
        fix: `use one of: ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`,
      };
    case "invalid_type":
      return {
        path,
        value,
        problem: value === undefined ? "is required" : `must be ${article(issue.expected)}`,
        fix: value === undefined ? `set ${path} (${issue.expected})` : `give ${article(issue.expected)}`,
      };
    case "too_small":
      return {
        path,
        value,
        problem: Array.isArray(value) && value.length === 0 ? "is empty" : `is below the minimum of ${String(issue.minimum)}`,
        fix: Array.isArray(value) ? `list at least ${String(issue.minimum)}` : `use at least ${String(issue.minimum)}`,
      };
    case "invalid_union":
      return { path, value, problem: "has the wrong type", fix: unionFix(issue.path[issue.path.length - 1]) };
    default:
      return { path, value, problem: issue.message, fix: "correct the value" };
  }
}

/** The schema's unions: entrypoint/cmd (exec or shell form), user, and expose items. */
function unionFix(key: PropertyKey | undefined): string {
  if (key === "user") {
    return "give a numeric UID[:GID] as a string or a number, e.g. \"65532:65532\"";
  }
  if (typeof key === "number") {
    return "give a port as a number or a string, e.g. 8080 or \"8080/udp\"";
  }
  return "give a list of strings (exec form) or, where allowed, a string";
}

function article(expected: string): string {
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = root;
  for (const key of path) {
    if (current === null || typeof current !== "object") {
      return undefined;
    }
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}
