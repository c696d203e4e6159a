/**
 * The stack's configuration, read the same way by the Pulumi program and by the `golden`
 * CLI (from Pulumi.<env>.yaml), so both see one set of image specs. Every mistake is reported
 * at once, naming the config key and the fix.
 */
import { z } from "zod";
import { contextDirectoryIssues } from "../components/image/context-hash";
import { ENVIRONMENTS, EnvironmentPolicy, ImageSpec } from "../components/spec/types";
import { formatIssues, joinKey, joinPath, ValidationError, ValidationIssue } from "../components/render/issues";
import { structuralIssues } from "../components/render/schema";
import { validateImages } from "../components/render/validate";
import { registryBackend, registryTypes } from "../components/registry/backends";
import { GatePolicy, gatePolicyIssues } from "../components/signing/gate";
import { SigningSettings } from "../components/signing/types";
import { signingSettingsIssues } from "../components/signing/validate";
import type { PipelineRebuildArgs } from "../components/pipeline";
import { CODEBUILD_SOURCE_TYPES, FINDING_SEVERITIES } from "../components/rebuild/findings";
import { scheduleIssues } from "../components/rebuild/schedule";
import { POINTER_PATH } from "../components/render/rebuild-iam";

/** The Pulumi project name, and so the config namespace. */
export const CONFIG_NAMESPACE = "golden-images";

export const CONFIG_KEYS = ["environment", "registry", "mirror", "images", "allowTagOnlyBases", "sourceDateEpoch", "signing", "gate", "rebuild"] as const;
export type ConfigKey = (typeof CONFIG_KEYS)[number];

export interface StackConfig {
  readonly policy: EnvironmentPolicy;
  /** Registry settings, passed to the registry component (type selects the backend). */
  readonly registry: { readonly type: string } & Record<string, unknown>;
  readonly images: readonly ImageSpec[];
  /** How images are signed (mode, format). @default keypair, classic */
  readonly signing: SigningSettings;
  /** The vulnerability gate. @default grype, HIGH and above, no ignore entries */
  readonly gate: GatePolicy;
  /** Scheduled and event-driven rebuilds on CodeBuild. @default none */
  readonly rebuild?: PipelineRebuildArgs;
}

const topLevel = z.object({
  environment: z.enum(ENVIRONMENTS),
  // Any backend of the one registry table (components/registry/backends.ts) that config can select.
  registry: z.looseObject({ type: z.string() }),
  mirror: z.string().optional(),
  images: z.array(z.unknown()).min(1),
  allowTagOnlyBases: z.boolean().optional(),
  sourceDateEpoch: z.number().optional(),
  // Checked in detail by their own validators (named under the config key).
  signing: z.looseObject({}).optional(),
  gate: z.looseObject({}).optional(),
  rebuild: z.looseObject({}).optional(),
});

/** `golden-images:rebuild`: the pipeline's rebuild arguments as plain data. */
const rebuildSchema = z.strictObject({
  executor: z.literal("codebuild"),
  source: z.strictObject({ type: z.enum(CODEBUILD_SOURCE_TYPES), location: z.string().min(1), version: z.string().optional() }),
  schedule: z.looseObject({}).optional(),
  findings: z.strictObject({ minimumSeverity: z.enum(FINDING_SEVERITIES) }).optional(),
  pointerPath: z.string().optional(),
  mirror: z.string().optional(),
  computeType: z.string().optional(),
  timeoutMinutes: z.number().int().optional(),
  logRetentionDays: z.number().int().optional(),
  goldenVersion: z.string().optional(),
});

/** Problems of `golden-images:rebuild`: its shape, the schedule in EventBridge Scheduler's grammar, the pointer path. */
export function rebuildConfigIssues(value: unknown, base: string): ValidationIssue[] {
  if (isEmptyObject(value)) {
    return [];
  }
  const structural = structuralIssues(rebuildSchema, value, base);
  if (structural.length > 0) {
    return structural;
  }
  const r = value as PipelineRebuildArgs;
  const issues: ValidationIssue[] = [];
  if (r.schedule !== undefined) {
    issues.push(...scheduleIssues(r.schedule, "eventbridge", `${base}.schedule`));
  }
  if (r.pointerPath !== undefined && !POINTER_PATH.test(r.pointerPath)) {
    issues.push({ path: `${base}.pointerPath`, value: r.pointerPath, problem: "is not an SSM parameter path the pipeline may own", fix: 'e.g. "/golden-images/prod"' });
  }
  return issues;
}

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
    signing: (v.signing ?? {}) as SigningSettings,
    gate: (v.gate ?? {}) as GatePolicy,
    // {} (the declared default) means no rebuilds.
    ...(v.rebuild !== undefined && !isEmptyObject(v.rebuild) ? { rebuild: v.rebuild as PipelineRebuildArgs } : {}),
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
  issues.push(...imageIssues);
  issues.push(...signingSettingsIssues(v.signing ?? {}, `${CONFIG_NAMESPACE}:signing`));
  issues.push(...gatePolicyIssues(v.gate ?? {}, `${CONFIG_NAMESPACE}:gate`));
  if (v.rebuild !== undefined) {
    issues.push(...rebuildConfigIssues(v.rebuild, `${CONFIG_NAMESPACE}:rebuild`));
  }
  // Any backend of the one registry table (components/registry/backends.ts) that config can select.
  if (!registryTypes(true).includes(v.registry.type)) {
    issues.push({
      path: `${CONFIG_NAMESPACE}:registry.type`,
      value: v.registry.type,
      problem: "is not a registry type",
      fix: `use one of: ${registryTypes(true).map((t) => JSON.stringify(t)).join(", ")}`,
    });
  } else {
    // The backend's own arguments, named under the config key; a problem of an image's
    // repository name (e.g. prefix + name too long) is named at that image.
    const { type: _type, ...rest } = v.registry as Record<string, unknown>;
    const names = (v.images as unknown[]).map((i) => (i as { name?: unknown } | null)?.name);
    const unique = [...new Set(names.filter((n): n is string => typeof n === "string"))];
    for (const issue of (registryBackend(v.registry.type) as NonNullable<ReturnType<typeof registryBackend>>).validate(rest, unique)) {
      const image = /^images\[(\d+)\]$/.exec(issue.path);
      if (image !== null) {
        const at = `${CONFIG_NAMESPACE}:images[${names.indexOf(unique[Number(image[1])])}].name`;
        // A name the image rules already refused is reported once.
        if (!imageIssues.some((i) => i.path === at)) {
          issues.push({ ...issue, path: at });
        }
      } else if (issue.path !== "images") {
        // The list itself (empty, not a list) is reported under golden-images:images.
        issues.push({ ...issue, path: joinPath(`${CONFIG_NAMESPACE}:registry`, issue.path) });
      }
    }
  }
  if (options.projectDir !== undefined && imageIssues.length === 0) {
    (v.images as ImageSpec[]).forEach((image, i) => {
      issues.push(...contextDirectoryIssues(options.projectDir as string, image.context ?? ".", joinPath(`${CONFIG_NAMESPACE}:images[${i}]`, "context")));
    });
  }
  return issues;
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

function isEmptyObject(value: unknown): boolean {
  return value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 0;
}
