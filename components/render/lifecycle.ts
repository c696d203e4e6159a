/**
 * ECR lifecycle policies as typed rules (after aws-cdk-lib aws-ecr `LifecycleRule`): validated,
 * given priorities in input order with the catch-all rule forced last, rendered as byte-stable JSON.
 */
import { joinKey, joinPath, throwIfIssues, ValidationIssue } from "./issues";

export const TAG_STATUSES = ["tagged", "untagged", "any"] as const;
export type TagStatus = (typeof TAG_STATUSES)[number];

interface LifecycleRuleSelection {
  /** Shown in the ECR console next to the rule.
   *  @default none */
  readonly description?: string;
  /** Which images the rule looks at; `"any"` is the catch-all and always gets the last priority. */
  readonly tagStatus: TagStatus;
  /** Tag prefixes the rule selects. Only with `tagStatus: "tagged"`; mutually exclusive with `tagPatternList`.
   *  @default none */
  readonly tagPrefixList?: readonly string[];
  /** Tag wildcard patterns (`*`, at most 4 a pattern). Only with `tagStatus: "tagged"`; mutually exclusive with `tagPrefixList`.
   *  @default none */
  readonly tagPatternList?: readonly string[];
}

/** Expire the images beyond the newest `maxImageCount`, or older than `maxImageAgeDays` (exactly one of them). */
export type LifecycleRule = LifecycleRuleSelection &
  (
    | { /** Keep this many of the newest selected images. */ readonly maxImageCount: number; readonly maxImageAgeDays?: undefined }
    | { /** Expire selected images pushed more than this many days ago. */ readonly maxImageAgeDays: number; readonly maxImageCount?: undefined }
  );

/** One rule of the ECR lifecycle policy document, keys in ECR's documented order. */
export interface LifecyclePolicyRuleDocument {
  readonly rulePriority: number;
  readonly description?: string;
  readonly selection: {
    readonly tagStatus: TagStatus;
    readonly tagPrefixList?: string[];
    readonly tagPatternList?: string[];
    readonly countType: "imageCountMoreThan" | "sinceImagePushed";
    readonly countUnit?: "days";
    readonly countNumber: number;
  };
  readonly action: { readonly type: "expire" };
}

export interface LifecyclePolicyDocument {
  readonly rules: LifecyclePolicyRuleDocument[];
}

const RULE_KEYS = ["description", "tagStatus", "tagPrefixList", "tagPatternList", "maxImageCount", "maxImageAgeDays"] as const;
/** Characters ECR allows in a tag; a prefix is any non-empty start of a tag. */
const TAG_PREFIX = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const TAG_PATTERN = /^[A-Za-z0-9_*][A-Za-z0-9_.*-]{0,127}$/;
const MAX_WILDCARDS = 4;

export interface DefaultLifecycleOptions {
  /** Untagged images (superseded builds, failed pushes) are expired this many days after push.
   *  @default 14 */
  readonly untaggedRetentionDays?: number;
  /** How many release-tagged images to keep; older releases are expired.
   *  @default 30 */
  readonly keepReleases?: number;
  /** Tag prefixes that mark a release.
   *  @default ["v"] */
  readonly releaseTagPrefixes?: readonly string[];
}

/** The documented defaults of {@link DefaultLifecycleOptions}, applied once in {@link defaultLifecycleRules}. */
export const LIFECYCLE_DEFAULTS = {
  untaggedRetentionDays: 14,
  keepReleases: 30,
  releaseTagPrefixes: ["v"] as readonly string[],
} as const;

/** The golden-image default: expire untagged images after N days, keep the last N releases. */
export function defaultLifecycleRules(options: DefaultLifecycleOptions = {}): LifecycleRule[] {
  const days = options.untaggedRetentionDays ?? LIFECYCLE_DEFAULTS.untaggedRetentionDays;
  const keep = options.keepReleases ?? LIFECYCLE_DEFAULTS.keepReleases;
  const prefixes = options.releaseTagPrefixes ?? LIFECYCLE_DEFAULTS.releaseTagPrefixes;
  return [
    { description: `Expire untagged images after ${days} days`, tagStatus: "untagged", maxImageAgeDays: days },
    {
      description: `Keep the last ${keep} release images`,
      tagStatus: "tagged",
      tagPrefixList: [...prefixes],
      maxImageCount: keep,
    },
  ];
}

const DEFAULT_OPTION_KEYS = ["untaggedRetentionDays", "keepReleases", "releaseTagPrefixes"] as const;

/** Problems of {@link DefaultLifecycleOptions}, named by the user's property (not the rule it becomes). */
export function validateDefaultLifecycleOptions(options: unknown, path = "lifecycle"): ValidationIssue[] {
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    return [{ path, value: options, problem: "must be an object", fix: "give { untaggedRetentionDays?, keepReleases?, releaseTagPrefixes? }" }];
  }
  const o = options as Record<string, unknown>;
  const issues: ValidationIssue[] = [];
  for (const key of Object.keys(o).sort()) {
    if (!(DEFAULT_OPTION_KEYS as readonly string[]).includes(key)) {
      issues.push({ path: joinKey(path, key), value: o[key], problem: "is not a lifecycle option", fix: `remove it or correct the spelling (allowed: ${DEFAULT_OPTION_KEYS.join(", ")})` });
    }
  }
  for (const key of ["untaggedRetentionDays", "keepReleases"] as const) {
    if (o[key] !== undefined && !isPositiveInteger(o[key])) {
      issues.push({ path: joinPath(path, key), value: o[key], problem: "must be a positive whole number", fix: `give an integer of at least 1 for ${key}` });
    }
  }
  if (o.releaseTagPrefixes !== undefined) {
    const at = joinPath(path, "releaseTagPrefixes");
    const listIssues = tagListIssues(o.releaseTagPrefixes, at, "prefix");
    issues.push(...listIssues);
    if (listIssues.length === 0) {
      (o.releaseTagPrefixes as string[]).forEach((prefix, i, all) => {
        const first = all.indexOf(prefix);
        if (first !== i) {
          issues.push({ path: joinPath(at, i), value: prefix, problem: `repeats ${joinPath(at, first)}`, fix: "list each prefix once" });
        }
      });
    }
  }
  return issues;
}

/**
 * Every problem of a rule list at once. Accepts any value (it checks plain JS input too) and never
 * throws; each issue names the property path under `path`.
 */
export function validateLifecycleRules(rules: unknown, path = "rules"): ValidationIssue[] {
  if (!Array.isArray(rules)) {
    return [{ path, value: rules, problem: "must be a list of lifecycle rules", fix: "give an array such as defaultLifecycleRules()" }];
  }
  if (rules.length === 0) {
    return [{ path, value: rules, problem: "must contain at least one rule", fix: "add a rule or use defaultLifecycleRules()" }];
  }
  const issues: ValidationIssue[] = [];
  let catchAll: number | undefined;
  rules.forEach((rule: unknown, i: number) => {
    const at = joinPath(path, i);
    if (rule === null || typeof rule !== "object" || Array.isArray(rule)) {
      issues.push({ path: at, value: rule, problem: "must be a lifecycle rule object", fix: "give { tagStatus, maxImageCount | maxImageAgeDays, ... }" });
      return;
    }
    issues.push(...ruleIssues(rule as Record<string, unknown>, at));
    if ((rule as Record<string, unknown>).tagStatus === "any") {
      if (catchAll !== undefined) {
        issues.push({
          path: joinPath(at, "tagStatus"),
          value: "any",
          problem: `is a second catch-all rule (the first is ${joinPath(path, catchAll)})`,
          fix: 'keep one rule with tagStatus "any"; ECR evaluates it last, so merge the others into it',
        });
      } else {
        catchAll = i;
      }
    }
  });
  return issues;
}

function ruleIssues(rule: Record<string, unknown>, at: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const p = (key: string) => joinPath(at, key);
  for (const key of Object.keys(rule).sort()) {
    if (!(RULE_KEYS as readonly string[]).includes(key)) {
      issues.push({ path: joinKey(at, key), value: rule[key], problem: "is not a lifecycle rule property", fix: `remove it or correct the spelling (allowed: ${RULE_KEYS.join(", ")})` });
    }
  }
  if (rule.description !== undefined && (typeof rule.description !== "string" || rule.description.trim() === "")) {
    issues.push({ path: p("description"), value: rule.description, problem: "must be a non-empty string", fix: "describe what the rule expires, or remove description" });
  }
  const status = rule.tagStatus;
  if (!(TAG_STATUSES as readonly unknown[]).includes(status)) {
    issues.push({ path: p("tagStatus"), value: status, problem: "is not a tag status", fix: 'use one of: "tagged", "untagged", "any"' });
  }
  const hasPrefixes = rule.tagPrefixList !== undefined;
  const hasPatterns = rule.tagPatternList !== undefined;
  if (hasPrefixes) {
    issues.push(...tagListIssues(rule.tagPrefixList, p("tagPrefixList"), "prefix"));
  }
  if (hasPatterns) {
    issues.push(...tagListIssues(rule.tagPatternList, p("tagPatternList"), "pattern"));
  }
  if (status === "tagged" && !hasPrefixes && !hasPatterns) {
    issues.push({
      path: p("tagPrefixList"),
      value: undefined,
      problem: 'is required when tagStatus is "tagged" (or give tagPatternList)',
      fix: 'give tagPrefixList (e.g. ["v"]) or tagPatternList (e.g. ["release-*"])',
    });
  }
  if (hasPrefixes && hasPatterns) {
    issues.push({
      path: p("tagPatternList"),
      value: rule.tagPatternList,
      problem: "cannot be combined with tagPrefixList in one rule",
      fix: "split it into two rules, one with tagPrefixList and one with tagPatternList",
    });
  }
  if (status !== "tagged" && (TAG_STATUSES as readonly unknown[]).includes(status)) {
    for (const key of ["tagPrefixList", "tagPatternList"] as const) {
      if (rule[key] !== undefined) {
        issues.push({ path: p(key), value: rule[key], problem: `is only allowed with tagStatus "tagged" (not "${String(status)}")`, fix: `remove ${key} or set tagStatus to "tagged"` });
      }
    }
  }
  const hasCount = rule.maxImageCount !== undefined;
  const hasAge = rule.maxImageAgeDays !== undefined;
  if (!hasCount && !hasAge) {
    issues.push({
      path: p("maxImageCount"),
      value: undefined,
      problem: "is required (or give maxImageAgeDays)",
      fix: "give exactly one of maxImageCount (keep the newest N) or maxImageAgeDays (expire after N days)",
    });
  }
  if (hasCount && hasAge) {
    issues.push({
      path: p("maxImageAgeDays"),
      value: rule.maxImageAgeDays,
      problem: "cannot be combined with maxImageCount in one rule",
      fix: "keep exactly one of maxImageCount or maxImageAgeDays; use two rules for both limits",
    });
  }
  for (const key of ["maxImageCount", "maxImageAgeDays"] as const) {
    const v = rule[key];
    if (v !== undefined && !isPositiveInteger(v)) {
      issues.push({ path: p(key), value: v, problem: "must be a positive whole number", fix: `give an integer of at least 1 for ${key}` });
    }
  }
  return issues;
}

function tagListIssues(list: unknown, at: string, kind: "prefix" | "pattern"): ValidationIssue[] {
  if (!Array.isArray(list)) {
    return [{ path: at, value: list, problem: "must be a list of strings", fix: kind === "prefix" ? 'give e.g. ["v"]' : 'give e.g. ["release-*"]' }];
  }
  if (list.length === 0) {
    return [{ path: at, value: list, problem: "must not be empty", fix: `list at least one tag ${kind} or remove the property` }];
  }
  const issues: ValidationIssue[] = [];
  list.forEach((entry: unknown, i: number) => {
    const grammar = kind === "prefix" ? TAG_PREFIX : TAG_PATTERN;
    if (typeof entry !== "string" || !grammar.test(entry)) {
      issues.push({
        path: joinPath(at, i),
        value: entry,
        problem: `is not a valid tag ${kind}`,
        fix:
          kind === "prefix"
            ? "use 1-128 of A-Z a-z 0-9 _ . - not starting with . or -"
            : "use 1-128 of A-Z a-z 0-9 _ . - and * wildcards, not starting with . or -",
      });
    } else if (kind === "pattern" && (entry.match(/\*/g) ?? []).length > MAX_WILDCARDS) {
      issues.push({ path: joinPath(at, i), value: entry, problem: `has more than ${MAX_WILDCARDS} wildcards`, fix: `use at most ${MAX_WILDCARDS} * in one pattern` });
    }
  });
  return issues;
}

function isPositiveInteger(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 1;
}

/** Rules in evaluation order: input order, the catch-all moved last. */
export function orderLifecycleRules(rules: readonly LifecycleRule[]): LifecycleRule[] {
  return [...rules.filter((r) => r.tagStatus !== "any"), ...rules.filter((r) => r.tagStatus === "any")];
}

/** The policy document (validated; throws one ValidationError with every problem). */
export function lifecyclePolicyDocument(rules: readonly LifecycleRule[], path = "rules"): LifecyclePolicyDocument {
  throwIfIssues("Invalid ECR lifecycle rules", validateLifecycleRules(rules, path));
  return {
    rules: orderLifecycleRules(rules).map((rule, i): LifecyclePolicyRuleDocument => {
      const byCount = rule.maxImageCount !== undefined;
      const selection = {
        tagStatus: rule.tagStatus,
        ...(rule.tagPrefixList !== undefined ? { tagPrefixList: sortedUnique(rule.tagPrefixList) } : {}),
        ...(rule.tagPatternList !== undefined ? { tagPatternList: sortedUnique(rule.tagPatternList) } : {}),
        countType: byCount ? ("imageCountMoreThan" as const) : ("sinceImagePushed" as const),
        ...(byCount ? {} : { countUnit: "days" as const }),
        countNumber: byCount ? (rule.maxImageCount as number) : (rule.maxImageAgeDays as number),
      };
      return {
        rulePriority: i + 1,
        ...(rule.description !== undefined ? { description: rule.description } : {}),
        selection,
        action: { type: "expire" },
      };
    }),
  };
}

/** The policy as ECR's `lifecyclePolicy` JSON: same rules in, same bytes out. */
export function renderLifecyclePolicy(rules: readonly LifecycleRule[], path = "rules"): string {
  return JSON.stringify(lifecyclePolicyDocument(rules, path));
}

function sortedUnique(list: readonly string[]): string[] {
  return [...new Set(list)].sort();
}
