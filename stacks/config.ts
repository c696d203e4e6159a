/**
 * The stack's configuration, read the same way by the Pulumi program and by the `golden`
 * CLI (from Pulumi.<env>.yaml), so both see one set of image specs. Every mistake is reported
 * at once, naming the config key and the fix.
 */
import { z } from "zod";
import { contextDirectoryIssues } from "../components/image/context-hash";
import { validateEcrRegistryArgs } from "../components/registry/ecr-registry";
import { ENVIRONMENTS, EnvironmentPolicy, ImageSpec } from "../components/spec/types";
import { formatIssues, joinKey, joinPath, ValidationError, ValidationIssue } from "../components/render/issues";
import { structuralIssues } from "../components/render/schema";
import { validateImages } from "../components/render/validate";

/** The Pulumi project name, and so the config namespace. */
export const CONFIG_NAMESPACE = "golden-images";

export const CONFIG_KEYS = ["environment", "registry", "mirror", "images", "allowTagOnlyBases", "sourceDateEpoch"] as const;
export type ConfigKey = (typeof CONFIG_KEYS)[number];

export interface StackConfig {
  readonly policy: EnvironmentPolicy;
  /** Registry settings, passed to the registry component (type selects the backend). */
  readonly registry: { readonly type: "ecr" } & Record<string, unknown>;
  readonly images: readonly ImageSpec[];
}

const topLevel = z.object({
  environment: z.enum(ENVIRONMENTS),
  registry: z.looseObject({ type: z.literal("ecr") }),
  mirror: z.string().optional(),
  images: z.array(z.unknown()).min(1),
  allowTagOnlyBases: z.boolean().optional(),
  sourceDateEpoch: z.number().optional(),
});

export interface StackConfigOptions {
  /** The program's (project) directory: when given, every image's `context` must be a directory
   *  inside it (symlinks resolved), checked on disk with the rest of the config.
   *  @default none (contexts are checked as paths only; the build checks them on disk) */
  readonly projectDir?: string;
}

/**
 * Parses config values (already decoded from YAML or `pulumi.Config.getObject`), keyed by the
 * short key. Throws one ValidationError naming `golden-images:<key>` paths; never another error,
 * whatever it is given.
 */
export function parseStackConfig(values: unknown, options: StackConfigOptions = {}): StackConfig {
  const issues = stackConfigIssues(values, options);
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

/** Every problem of the stack's config, each under `golden-images:<key>...`. */
export function stackConfigIssues(values: unknown, options: StackConfigOptions = {}): ValidationIssue[] {
  if (values === null || typeof values !== "object" || Array.isArray(values)) {
    return [{
      path: "config",
      value: values,
      problem: `must be a map of ${CONFIG_NAMESPACE}:* keys`,
      fix: `give the stack's config, e.g. { environment: "dev", registry: { type: "ecr" }, images: [...] } (the ${CONFIG_NAMESPACE}: keys of Pulumi.<stack>.yaml)`,
    }];
  }
  const record = values as Readonly<Record<string, unknown>>;
  const issues: ValidationIssue[] = [];
  for (const key of Object.keys(record).sort()) {
    if (!(CONFIG_KEYS as readonly string[]).includes(key)) {
      issues.push({
        path: `${CONFIG_NAMESPACE}:${joinKey("", key)}`,
        value: record[key],
        problem: "is not a configuration key of this project",
        fix: `remove it or use one of: ${CONFIG_KEYS.map((k) => `${CONFIG_NAMESPACE}:${k}`).join(", ")}`,
      });
    }
  }
  const structural = structuralIssues(topLevel, pick(record), "").map((i) => ({
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
  const v = record as Record<string, any>;
  const policy = policyFrom(v);
  // Policy problems are named by their config key, not by a policy path.
  const imageIssues = validateImages(v.images as unknown[], policy, `${CONFIG_NAMESPACE}:images`, CONFIG_NAMESPACE).map((i) => ({
    ...i,
    path: i.path.replace(new RegExp(`^${CONFIG_NAMESPACE}\\.`), `${CONFIG_NAMESPACE}:`),
  }));
  issues.push(...imageIssues, ...registryIssues(v.registry, v.images as unknown[]));
  if (options.projectDir !== undefined && imageIssues.length === 0) {
    (v.images as ImageSpec[]).forEach((image, i) => {
      issues.push(...contextDirectoryIssues(options.projectDir as string, image.context ?? ".", joinPath(`${CONFIG_NAMESPACE}:images[${i}]`, "context")));
    });
  }
  return issues;
}

/**
 * The registry settings, checked by the backend's own validator with the images it will hold,
 * so `golden-images:registry.lifecycle.keepReleases` is reported with everything else, before
 * the program creates anything.
 */
function registryIssues(registry: { type: "ecr" } & Record<string, unknown>, images: readonly unknown[]): ValidationIssue[] {
  const { type: _type, ...ecr } = registry;
  const names = images.map((image) => (image as { name?: unknown } | null | undefined)?.name).filter((n): n is string => typeof n === "string");
  const unique = Array.from(new Set(names));
  const registryPath = `${CONFIG_NAMESPACE}:registry`;
  const issues: ValidationIssue[] = [];
  if ("images" in ecr) {
    issues.push({
      path: joinPath(registryPath, "images"),
      value: ecr.images,
      problem: "is not a registry setting of the stack",
      fix: `remove it: the repositories are the images of ${CONFIG_NAMESPACE}:images`,
    });
  }
  const backend = validateEcrRegistryArgs({ ...ecr, images: unique } as Parameters<typeof validateEcrRegistryArgs>[0])
    // An empty or malformed name list is already reported under golden-images:images.
    .filter((i) => i.path !== "images")
    .map((i) => {
      // Image names are the images' own: name the image, not the registry's list.
      const m = /^images\[(\d+)\]$/.exec(i.path);
      if (m !== null) {
        return { ...i, path: `${CONFIG_NAMESPACE}:images[${names.indexOf(unique[Number(m[1])])}].name` };
      }
      return { ...i, path: joinPath(registryPath, i.path) };
    });
  return [...issues, ...backend];
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

