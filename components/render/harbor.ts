/**
 * Harbor settings rendered from the same typed args the ECR backend uses (pure; no Pulumi):
 * retention rules from the lifecycle rules, immutable tag rules from the tag rules, least-privilege
 * robot permissions, and validators for what Harbor accepts. Field names follow the Pulumiverse
 * Harbor provider's schema (checked by test/integration/harbor-schema.test.ts).
 */
import { joinPath, throwIfIssues, ValidationIssue } from "./issues";
import { DefaultLifecycleOptions, defaultLifecycleRules, LifecycleRule, orderLifecycleRules, validateDefaultLifecycleOptions, validateLifecycleRules } from "./lifecycle";

/** One rule of `harbor:index/retentionPolicy:RetentionPolicy` (the provider's `RetentionPolicyRule`). */
export interface HarborRetentionRuleDocument {
  /** Repositories the rule looks at (doublestar), e.g. `**`. */
  readonly repoMatching: string;
  /** Tags the rule selects (doublestar, `{a*,b*}` for several). Mutually exclusive with tagExcluding. */
  readonly tagMatching?: string;
  /** Tags the rule does NOT select. Mutually exclusive with tagMatching. */
  readonly tagExcluding?: string;
  /** Whether artifacts without any tag are selected too. */
  readonly untaggedArtifacts: boolean;
  /** Retain the N most recently pushed selected artifacts. */
  readonly mostRecentlyPushed?: number;
  /** Retain selected artifacts pushed within the last N days. */
  readonly nDaysSinceLastPush?: number;
  /** Retain every selected artifact. */
  readonly alwaysRetain?: boolean;
}

/** Every repository of the project (Harbor's doublestar). */
export const ALL_REPOSITORIES = "**";
/** Harbor allows this many retention rules a project. */
export const HARBOR_MAX_RETENTION_RULES = 15;

/**
 * Harbor keeps what any rule retains and deletes the rest, where ECR expires what a rule selects and
 * keeps the rest. So each ECR rule becomes a rule retaining what ECR keeps of its selection, and
 * what no ECR rule selects is retained by extra `alwaysRetain` rules: nothing ECR would keep is
 * deleted (cosign's `sha256-*` tags, the build cache, other tags). A catch-all governs only what
 * the other rules do not select, as in ECR. Harbor's selector is doublestar: an ECR prefix `v` is
 * `v*`, an ECR pattern stays as is. An artifact with a release tag and another tag is also
 * selected by the "other tags" rule, so Harbor keeps it where ECR could expire it (never the reverse).
 *
 * Accepts the lifecycle args EcrRegistry takes (`DefaultLifecycleOptions`) or explicit rules.
 * Throws one ValidationError with every problem.
 */
export function harborRetentionRules(lifecycle: DefaultLifecycleOptions | readonly LifecycleRule[] = {}, path = "lifecycle"): HarborRetentionRuleDocument[] {
  const rules = lifecycleRulesOf(lifecycle, path);
  const ordered = orderLifecycleRules(rules);
  const taggedGlobs = sortedUnique(ordered.filter((r) => r.tagStatus === "tagged").flatMap(tagGlobs));
  const hasUntaggedRule = ordered.some((r) => r.tagStatus === "untagged");
  const hasCatchAll = ordered.some((r) => r.tagStatus === "any");
  // Tags no tagged rule selects (every tag when there is no tagged rule).
  const otherTags: TagSelection = taggedGlobs.length === 0 ? { match: ["**"] } : { exclude: taggedGlobs };
  const out: HarborRetentionRuleDocument[] = [];
  for (const rule of ordered) {
    const keep = rule.maxImageCount !== undefined ? { mostRecentlyPushed: rule.maxImageCount } : { nDaysSinceLastPush: rule.maxImageAgeDays as number };
    const selection =
      rule.tagStatus === "untagged"
        ? selector("none", true)
        : rule.tagStatus === "tagged"
          ? selector({ match: tagGlobs(rule) }, false)
          : selector(otherTags, !hasUntaggedRule);
    out.push({ repoMatching: ALL_REPOSITORIES, ...selection, ...keep });
  }
  if (!hasCatchAll) {
    out.push({ repoMatching: ALL_REPOSITORIES, ...selector(otherTags, false), alwaysRetain: true });
    if (!hasUntaggedRule) {
      out.push({ repoMatching: ALL_REPOSITORIES, ...selector("none", true), alwaysRetain: true });
    }
  }
  if (out.length > HARBOR_MAX_RETENTION_RULES) {
    throwIfIssues("Invalid Harbor retention rules", [
      {
        path,
        value: rules.length,
        problem: `makes ${out.length} Harbor retention rules (Harbor allows ${HARBOR_MAX_RETENTION_RULES} a project)`,
        fix: "merge rules: list several tag prefixes in one rule's tagPrefixList",
      },
    ]);
  }
  return out;
}

type TagSelection = "none" | { readonly match: readonly string[] } | { readonly exclude: readonly string[] };

/**
 * Harbor's tag selector as the provider sends it: one pattern, matching or excluding, and an
 * `untagged` flag whose sense FLIPS with excluding (Harbor's doublestar selector selects an untagged
 * artifact when `untagged` is true under "matches", and when it is false under "excludes").
 */
function selector(tags: TagSelection, untagged: boolean): Pick<HarborRetentionRuleDocument, "tagMatching" | "tagExcluding" | "untaggedArtifacts"> {
  if (tags === "none") {
    // Excluding every tag: no tagged artifact is selected.
    return { tagExcluding: "**", untaggedArtifacts: !untagged };
  }
  if ("match" in tags) {
    return { tagMatching: globUnion(tags.match), untaggedArtifacts: untagged };
  }
  return { tagExcluding: globUnion(tags.exclude), untaggedArtifacts: !untagged };
}

/** A retention policy: the rules and a required schedule (no silent default). */
export interface HarborRetentionPolicyDocument {
  readonly schedule: string;
  readonly rules: HarborRetentionRuleDocument[];
}

/** The rules of {@link harborRetentionRules} and a validated schedule, every problem in one report. */
export function harborRetentionPolicy(
  lifecycle: DefaultLifecycleOptions | readonly LifecycleRule[],
  schedule: string,
  path = "lifecycle",
  schedulePath = "retentionSchedule",
): HarborRetentionPolicyDocument {
  throwIfIssues("Invalid Harbor retention schedule", validateHarborSchedule(schedule, schedulePath));
  return { schedule: schedule.trim(), rules: harborRetentionRules(lifecycle, path) };
}

function lifecycleRulesOf(lifecycle: DefaultLifecycleOptions | readonly LifecycleRule[], path: string): LifecycleRule[] {
  if (Array.isArray(lifecycle)) {
    throwIfIssues("Invalid lifecycle rules", validateLifecycleRules(lifecycle, path));
    return [...(lifecycle as readonly LifecycleRule[])];
  }
  throwIfIssues("Invalid lifecycle options", validateDefaultLifecycleOptions(lifecycle, path));
  return defaultLifecycleRules(lifecycle as DefaultLifecycleOptions);
}

function tagGlobs(rule: LifecycleRule): string[] {
  return [...(rule.tagPrefixList ?? []).map((p) => `${p}*`), ...(rule.tagPatternList ?? [])];
}

/** `a*` for one glob, `{a*,b*}` (doublestar alternation) for several; sorted, so the same rules give the same text. */
export function globUnion(globs: readonly string[]): string {
  const unique = sortedUnique(globs);
  return unique.length === 1 ? unique[0] : `{${unique.join(",")}}`;
}

/** Retention schedules the provider names, and Harbor's own cron (6 fields: second minute hour day-of-month month day-of-week). */
export const HARBOR_SCHEDULE_PRESETS = ["Hourly", "Daily", "Weekly"] as const;
const CRON_FIELD = /^(?:\*|\?|[0-9A-Za-z]+(?:-[0-9A-Za-z]+)?)(?:\/[0-9]+)?(?:,(?:\*|[0-9A-Za-z]+(?:-[0-9A-Za-z]+)?)(?:\/[0-9]+)?)*$/;
/** Upper bounds of each numeric cron field, seconds first. */
const CRON_MAX = [59, 59, 23, 31, 12, 7] as const;
const CRON_MIN = [0, 0, 0, 1, 1, 0] as const;

/** Problems of a retention schedule: a preset or a 6-field cron (Harbor's, with seconds; not the 5-field Unix one). */
export function validateHarborSchedule(schedule: unknown, path = "schedule"): ValidationIssue[] {
  if ((HARBOR_SCHEDULE_PRESETS as readonly unknown[]).includes(schedule)) {
    return [];
  }
  const fix = 'give "Daily", "Weekly", "Hourly" or a 6-field cron with seconds first, e.g. "0 0 3 * * *" (03:00 daily)';
  if (typeof schedule !== "string" || schedule.trim() === "") {
    return [{ path, value: schedule, problem: "is required: a retention schedule", fix }];
  }
  const fields = schedule.trim().split(/\s+/);
  if (fields.length !== 6) {
    return [{ path, value: schedule, problem: `has ${fields.length} cron fields (Harbor's cron has 6, seconds first)`, fix }];
  }
  const bad = fields.findIndex((f, i) => !CRON_FIELD.test(f) || !numbersInRange(f, CRON_MIN[i], CRON_MAX[i]));
  if (bad >= 0) {
    const names = ["second", "minute", "hour", "day of month", "month", "day of week"];
    return [{ path, value: schedule, problem: `has an invalid ${names[bad]} field "${fields[bad]}"`, fix }];
  }
  return [];
}

function numbersInRange(field: string, min: number, max: number): boolean {
  return (field.match(/(?<![/\d])\d+/g) ?? []).every((n) => Number(n) >= min && Number(n) <= max);
}

/** One rule of `harbor:index/immutableTagRule:ImmutableTagRule`. */
export interface HarborImmutableTagRuleDocument {
  readonly repoMatching: string;
  readonly tagMatching?: string;
  readonly tagExcluding?: string;
}

/**
 * Every tag immutable except `mutableTags` (the backend's TagRules: the build cache and cosign's
 * `sha256-*` signature/attestation tags), as ECR's IMMUTABLE_WITH_EXCLUSION. Harbor's rule takes one
 * tag selector, so the exclusions are one doublestar alternation. Refuses a release prefix that a
 * mutable pattern could match (a release tag must never be rewritable).
 */
export function harborImmutableTagRules(
  releaseTagPrefixes: readonly string[],
  mutableTags: readonly string[],
  path = "lifecycle.releaseTagPrefixes",
): HarborImmutableTagRuleDocument[] {
  const issues: ValidationIssue[] = [];
  releaseTagPrefixes.forEach((prefix, i) => {
    const clash = mutableTags.find((glob) => prefixMeetsGlob(prefix, glob));
    if (clash !== undefined) {
      issues.push({
        path: joinPath(path, i),
        value: prefix,
        problem: `can start a tag that the mutable pattern "${clash}" also matches, so a release tag could be rewritten`,
        fix: `choose a release prefix that no mutable tag (${mutableTags.join(", ")}) can start with, e.g. "v"`,
      });
    }
  });
  throwIfIssues("Invalid Harbor tag rules", issues);
  if (mutableTags.length === 0) {
    return [{ repoMatching: ALL_REPOSITORIES, tagMatching: "**" }];
  }
  return [{ repoMatching: ALL_REPOSITORIES, tagExcluding: globUnion(mutableTags) }];
}

/** Whether some tag starting with `prefix` matches `glob` (`*` wildcards): conservative for globs with inner wildcards. */
function prefixMeetsGlob(prefix: string, glob: string): boolean {
  const star = glob.indexOf("*");
  if (star < 0) {
    return glob.startsWith(prefix);
  }
  const head = glob.slice(0, star);
  return head.startsWith(prefix) || prefix.startsWith(head);
}

export const HARBOR_ROBOT_ACCESS = ["pull", "push"] as const;
export type HarborRobotAccessLevel = (typeof HARBOR_ROBOT_ACCESS)[number];

/** A project permission of `harbor:index/robotAccount:RobotAccount` (the provider's `RobotAccountPermission`). */
export interface HarborRobotPermissionDocument {
  readonly kind: "project";
  readonly namespace: string;
  readonly accesses: readonly { readonly resource: string; readonly action: string; readonly effect: "allow" }[];
}

/**
 * Harbor authorizes the OCI distribution API (what BuildKit, crane and cosign speak: manifests,
 * blobs, tag lists, referrers) by the `repository` resource alone: `pull` reads all of it, `push`
 * writes manifests, blobs and tags, which is also what `cosign sign`/`attest` write (a `sha256-*`
 * tag or a referrer). Harbor's `artifact`, `tag` and `artifact-label` resources govern its own REST
 * API, which none of these tools call, so no robot gets them; no robot gets `delete`.
 */
export const HARBOR_ROBOT_ACTIONS: Record<HarborRobotAccessLevel, readonly string[]> = {
  pull: ["pull"],
  push: ["pull", "push"],
};

/** Least privilege on exactly one project: `pull` reads images, signatures and attestations; `push` also writes them. */
export function harborRobotPermissions(project: string, access: HarborRobotAccessLevel): HarborRobotPermissionDocument[] {
  const issues = [...validateHarborProjectName(project, "project")];
  if (!(HARBOR_ROBOT_ACCESS as readonly unknown[]).includes(access)) {
    issues.push({ path: "access", value: access, problem: "is not a robot access level", fix: 'use "pull" or "push"' });
  }
  throwIfIssues("Invalid Harbor robot permissions", issues);
  return [
    {
      kind: "project",
      namespace: project,
      accesses: HARBOR_ROBOT_ACTIONS[access].map((action) => ({ resource: "repository", action, effect: "allow" as const })),
    },
  ];
}

/** Harbor's name grammar for projects and robots: lowercase alphanumerics separated by single `.`, `_` or `-`. */
const HARBOR_NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const HARBOR_NAME_MAX = 255;

function nameIssues(name: unknown, path: string, what: string, example: string): ValidationIssue[] {
  const fix = `use 1-${HARBOR_NAME_MAX} lowercase letters and digits, separated by single ".", "_" or "-", e.g. "${example}"`;
  if (typeof name !== "string" || name === "") {
    return [{ path, value: name, problem: `is not a Harbor ${what} name`, fix }];
  }
  if (name.length > HARBOR_NAME_MAX) {
    return [{ path, value: name, problem: `is ${name.length} characters long (Harbor allows ${HARBOR_NAME_MAX})`, fix }];
  }
  if (!HARBOR_NAME.test(name)) {
    return [{ path, value: name, problem: `is not a valid Harbor ${what} name`, fix }];
  }
  return [];
}

export function validateHarborProjectName(name: unknown, path = "project"): ValidationIssue[] {
  return nameIssues(name, path, "project", "golden-images");
}

/** The robot's own name; Harbor adds its prefix (`robot$<project>+`). */
export function validateHarborRobotName(name: unknown, path = "robot"): ValidationIssue[] {
  return nameIssues(name, path, "robot", "golden-push");
}

export const HARBOR_SEVERITIES = ["none", "low", "medium", "high", "critical"] as const;
export type HarborSeverity = (typeof HARBOR_SEVERITIES)[number];

/** A project's `deploymentSecurity`: pulls of images with a finding this severe or worse are refused. */
export function validateHarborSeverity(severity: unknown, path = "deploymentSecurity"): ValidationIssue[] {
  if ((HARBOR_SEVERITIES as readonly unknown[]).includes(severity)) {
    return [];
  }
  return [{ path, value: severity, problem: "is not a Harbor severity", fix: `use one of: ${HARBOR_SEVERITIES.join(", ")} (lowercase)` }];
}

/** Harbor's URL or an upstream endpoint: http(s), a host, no credentials, query or fragment. */
export function validateHarborUrl(url: unknown, path = "url"): ValidationIssue[] {
  const fix = 'give an http(s) URL with a host and no credentials, e.g. "https://registry.example.internal"';
  if (typeof url !== "string") {
    return [{ path, value: url, problem: "is not a URL", fix }];
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [{ path, value: url, problem: "is not a URL", fix }];
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    return [{ path, value: url, problem: `has scheme "${parsed.protocol.replace(/:$/, "")}" (Harbor speaks http or https)`, fix }];
  }
  if (parsed.hostname === "") {
    return [{ path, value: url, problem: "has no host", fix }];
  }
  if (parsed.username !== "" || parsed.password !== "") {
    return [{ path, value: "<redacted>", problem: "carries credentials (they would land in the state in clear text)", fix: "remove user:password@ and pass the credentials as secrets" }];
  }
  if (parsed.search !== "" || parsed.hash !== "") {
    return [{ path, value: url, problem: "has a query or fragment", fix }];
  }
  return [];
}

function sortedUnique(list: readonly string[]): string[] {
  return [...new Set(list)].sort();
}
