/**
 * The stack's configuration, read the same way by the Pulumi program and by the `golden`
 * CLI (from Pulumi.<env>.yaml), so both see one set of image specs. Every mistake is reported
 * at once, naming the config key and the fix.
 */
import { z } from "zod";
import { ENVIRONMENTS, EnvironmentPolicy, ImageSpec } from "../components/spec/types";
import { formatIssues, ValidationError, ValidationIssue } from "../components/render/issues";
import { structuralIssues } from "../components/render/schema";
import { validateImages } from "../components/render/validate";
import { registryBackend, registryTypes } from "../components/registry/backends";

/** The Pulumi project name, and so the config namespace. */
export const CONFIG_NAMESPACE = "golden-images";

export const CONFIG_KEYS = ["environment", "registry", "mirror", "images", "allowTagOnlyBases", "sourceDateEpoch"] as const;
export type ConfigKey = (typeof CONFIG_KEYS)[number];

export interface StackConfig {
  readonly policy: EnvironmentPolicy;
  /** Registry settings, passed to the registry component (type selects the backend). */
  readonly registry: { readonly type: string } & Record<string, unknown>;
  readonly images: readonly ImageSpec[];
}

const topLevel = z.object({
  environment: z.enum(ENVIRONMENTS),
  // Any backend of the one registry table (components/registry/backends.ts) that config can select.
  registry: z.looseObject({ type: z.string() }),
  mirror: z.string().optional(),
  images: z.array(z.unknown()).min(1),
  allowTagOnlyBases: z.boolean().optional(),
  sourceDateEpoch: z.number().optional(),
});

/**
 * Parses config values (already decoded from YAML or `pulumi.Config.getObject`), keyed by the
 * short key. Throws one ValidationError naming `golden-images:<key>` paths.
 */
export function parseStackConfig(values: Readonly<Record<string, unknown>>): StackConfig {
  const issues = stackConfigIssues(values);
  if (issues.length > 0) {
    throw new ValidationError(`Invalid stack configuration`, issues);
  }
  const v = values as Record<string, any>;
  return {
    policy: policyFrom(v),
    registry: v.registry,
    images: v.images as ImageSpec[],
  };
}

export function stackConfigIssues(values: Readonly<Record<string, unknown>>): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const key of Object.keys(values).sort()) {
    if (!(CONFIG_KEYS as readonly string[]).includes(key)) {
      issues.push({
        path: `${CONFIG_NAMESPACE}:${key}`,
        value: values[key],
        problem: "is not a configuration key of this project",
        fix: `remove it or use one of: ${CONFIG_KEYS.map((k) => `${CONFIG_NAMESPACE}:${k}`).join(", ")}`,
      });
    }
  }
  const structural = structuralIssues(topLevel, pick(values), "").map((i) => ({
    ...i,
    path: `${CONFIG_NAMESPACE}:${i.path}`,
    fix:
      i.problem === "is required" && !i.path.includes(".") && !i.path.includes("[")
        ? `run \`pulumi config set ${CONFIG_NAMESPACE}:${i.path} <value>\` or add it to Pulumi.<stack>.yaml (${i.fix.replace(/^set \S+ to/, "to")})`
        : i.fix,
  }));
  if (structural.length > 0) {
    return [...issues, ...structural];
  }
  const v = values as Record<string, any>;
  // Any backend of the one registry table (components/registry/backends.ts) that config can select.
  if (!registryTypes(true).includes(v.registry.type)) {
    issues.push({
      path: `${CONFIG_NAMESPACE}:registry.type`,
      value: v.registry.type,
      problem: "is not a registry type",
      fix: `use one of: ${registryTypes(true).map((t) => JSON.stringify(t)).join(", ")}`,
    });
  } else {
    // The backend's own arguments, named under the config key.
    const { type: _type, ...rest } = v.registry as Record<string, unknown>;
    const names = (v.images as unknown[]).map((i) => (i as { name?: unknown } | null)?.name).filter((n): n is string => typeof n === "string");
    for (const issue of (registryBackend(v.registry.type) as NonNullable<ReturnType<typeof registryBackend>>).validate(rest, [...new Set(names)])) {
      if (!issue.path.startsWith("images")) {
        issues.push({ ...issue, path: `${CONFIG_NAMESPACE}:registry${issue.path.startsWith("[") ? "" : "."}${issue.path}` });
      }
    }
  }
  const policy = policyFrom(v);
  // Policy problems are named by their config key, not by a policy path.
  const imageIssues = validateImages(v.images as unknown[], policy, `${CONFIG_NAMESPACE}:images`, CONFIG_NAMESPACE).map((i) => ({
    ...i,
    path: i.path.replace(new RegExp(`^${CONFIG_NAMESPACE}\\.`), `${CONFIG_NAMESPACE}:`),
  }));
  return [...issues, ...imageIssues];
}

export function formatConfigIssues(issues: readonly ValidationIssue[]): string {
  return formatIssues("Invalid stack configuration", issues);
}

function policyFrom(v: Record<string, any>): EnvironmentPolicy {
  const policy: { -readonly [K in keyof EnvironmentPolicy]: EnvironmentPolicy[K] } = { environment: v.environment };
  if (v.mirror !== undefined) policy.mirror = v.mirror;
  if (v.allowTagOnlyBases !== undefined) policy.allowTagOnlyBases = v.allowTagOnlyBases;
  if (v.sourceDateEpoch !== undefined) policy.sourceDateEpoch = v.sourceDateEpoch;
  return policy;
}

function pick(values: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    if (values[key] !== undefined) {
      out[key] = values[key];
    }
  }
  return out;
}

/** Reads `config:` of a Pulumi.<stack>.yaml document into short keys (for the CLI and tests). */
export function configValuesFromStackFile(doc: unknown): Record<string, unknown> {
  const config = (doc as { config?: Record<string, unknown> } | null)?.config ?? {};
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    const [ns, short] = key.includes(":") ? key.split(":", 2) : [CONFIG_NAMESPACE, key];
    if (ns === CONFIG_NAMESPACE) {
      out[short] = value;
    }
  }
  return out;
}

