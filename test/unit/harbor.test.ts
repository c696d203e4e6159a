/**
 * The pure Harbor renderers: retention from the same lifecycle args ECR takes (Harbor retains,
 * ECR expires), immutability that leaves cosign's tags writable, least-privilege robots, and the
 * validators' exact reports. A small model of Harbor's retention (its doublestar tag selector,
 * including the `untagged` flag that flips under "excludes") checks what the rules keep.
 */
import { BUILD_CACHE_TAG, COSIGN_TAG_PATTERNS, ECR_TAG_RULES } from "../../components/registry";
import {
  harborImmutableTagRules,
  harborRetentionPolicy,
  HarborRetentionRuleDocument,
  harborRetentionRules,
  harborRobotPermissions,
  validateHarborProjectName,
  validateHarborRobotName,
  validateHarborSchedule,
  validateHarborSeverity,
  validateHarborUrl,
} from "../../components/render/harbor";
import { formatIssue, ValidationError } from "../../components/render/issues";
import { defaultLifecycleRules, LIFECYCLE_DEFAULTS, LifecycleRule } from "../../components/render/lifecycle";

const MUTABLE = [BUILD_CACHE_TAG, ...COSIGN_TAG_PATTERNS];

/** One artifact of a repository: its tags and its age in pushes (0 = newest) and days. */
interface Artifact {
  readonly id: string;
  readonly tags: readonly string[];
  readonly pushedDaysAgo: number;
}

/** Tag globs as Harbor's doublestar matches tags: `*` any run, `{a,b}` alternation (tags have no `/`). */
function globMatch(pattern: string, tag: string): boolean {
  const alternatives = pattern.startsWith("{") && pattern.endsWith("}") ? pattern.slice(1, -1).split(",") : [pattern];
  return alternatives.some((p) => new RegExp(`^${p.replace(/[.+?^$()|[\]\\-]/g, "\\$&").replace(/\*+/g, ".*")}$`).test(tag));
}

/** Harbor's doublestar tag selector (src/lib/selector/selectors/doublestar). */
function selects(rule: HarborRetentionRuleDocument, a: Artifact): boolean {
  if (rule.tagMatching !== undefined) {
    return a.tags.length === 0 ? rule.untaggedArtifacts : a.tags.some((t) => globMatch(rule.tagMatching as string, t));
  }
  return a.tags.length === 0 ? !rule.untaggedArtifacts : a.tags.some((t) => !globMatch(rule.tagExcluding as string, t));
}

/** What a Harbor retention run keeps: the union of what each rule retains of its selection. */
function retained(rules: readonly HarborRetentionRuleDocument[], artifacts: readonly Artifact[]): string[] {
  const kept = new Set<string>();
  for (const rule of rules) {
    const selected = artifacts.filter((a) => selects(rule, a)).sort((x, y) => x.pushedDaysAgo - y.pushedDaysAgo);
    const keep =
      rule.alwaysRetain === true
        ? selected
        : rule.mostRecentlyPushed !== undefined
          ? selected.slice(0, rule.mostRecentlyPushed)
          : selected.filter((a) => a.pushedDaysAgo <= (rule.nDaysSinceLastPush as number));
    keep.forEach((a) => kept.add(a.id));
  }
  return [...kept].sort();
}

describe("harborRetentionRules", () => {
  it("GIVEN the default lifecycle THEN the rules retain fresh untagged, the last 30 releases, and every other tag", () => {
    expect(harborRetentionRules()).toEqual([
      { repoMatching: "**", tagExcluding: "**", untaggedArtifacts: false, nDaysSinceLastPush: 14 },
      { repoMatching: "**", tagMatching: "v*", untaggedArtifacts: false, mostRecentlyPushed: 30 },
      { repoMatching: "**", tagExcluding: "v*", untaggedArtifacts: true, alwaysRetain: true },
    ]);
  });

  it("GIVEN the documented defaults spelt out, or the rules they make THEN the rules are the same", () => {
    const spelt = harborRetentionRules({ ...LIFECYCLE_DEFAULTS });
    expect(spelt).toEqual(harborRetentionRules({}));
    expect(harborRetentionRules(defaultLifecycleRules())).toEqual(spelt);
  });

  it("GIVEN custom options THEN prefixes become one sorted doublestar alternation", () => {
    expect(harborRetentionRules({ untaggedRetentionDays: 3, keepReleases: 5, releaseTagPrefixes: ["v", "release-"] })).toEqual([
      { repoMatching: "**", tagExcluding: "**", untaggedArtifacts: false, nDaysSinceLastPush: 3 },
      { repoMatching: "**", tagMatching: "{release-*,v*}", untaggedArtifacts: false, mostRecentlyPushed: 5 },
      { repoMatching: "**", tagExcluding: "{release-*,v*}", untaggedArtifacts: true, alwaysRetain: true },
    ]);
  });

  it("GIVEN explicit rules with a catch-all first THEN the catch-all comes last, covers the rest, and nothing is always retained", () => {
    const rules: LifecycleRule[] = [
      { tagStatus: "any", maxImageCount: 100 },
      { tagStatus: "tagged", tagPatternList: ["release-*"], maxImageAgeDays: 90 },
    ];
    expect(harborRetentionRules(rules)).toEqual([
      { repoMatching: "**", tagMatching: "release-*", untaggedArtifacts: false, nDaysSinceLastPush: 90 },
      { repoMatching: "**", tagExcluding: "release-*", untaggedArtifacts: false, mostRecentlyPushed: 100 },
    ]);
  });

  it("GIVEN only an untagged rule THEN every tag is always retained", () => {
    expect(harborRetentionRules([{ tagStatus: "untagged", maxImageCount: 2 }])).toEqual([
      { repoMatching: "**", tagExcluding: "**", untaggedArtifacts: false, mostRecentlyPushed: 2 },
      { repoMatching: "**", tagMatching: "**", untaggedArtifacts: false, alwaysRetain: true },
    ]);
  });

  it("GIVEN the default rules WHEN Harbor runs them THEN it keeps exactly what ECR's lifecycle keeps", () => {
    const artifacts: Artifact[] = [
      ...Array.from({ length: 32 }, (_, i) => ({ id: `v1.${i}`, tags: [`v1.${i}`], pushedDaysAgo: 100 - i })),
      { id: "untagged-new", tags: [], pushedDaysAgo: 2 },
      { id: "untagged-old", tags: [], pushedDaysAgo: 40 },
      { id: "signature", tags: ["sha256-abc"], pushedDaysAgo: 400 },
      { id: "cache", tags: [BUILD_CACHE_TAG], pushedDaysAgo: 400 },
    ];
    // ECR: untagged older than 14 days expire; the 2 oldest of 32 releases expire; the rest is untouched.
    expect(retained(harborRetentionRules(), artifacts)).toEqual(
      artifacts.map((a) => a.id).filter((id) => !["untagged-old", "v1.0", "v1.1"].includes(id)).sort(),
    );
  });

  it("GIVEN a catch-all and an untagged rule WHEN Harbor runs them THEN untagged artifacts are governed by the untagged rule alone", () => {
    const rules = harborRetentionRules([
      { tagStatus: "untagged", maxImageAgeDays: 1 },
      { tagStatus: "any", maxImageCount: 1 },
    ]);
    const artifacts: Artifact[] = [
      { id: "a", tags: [], pushedDaysAgo: 0 },
      { id: "b", tags: [], pushedDaysAgo: 5 },
      { id: "t1", tags: ["x"], pushedDaysAgo: 3 },
      { id: "t2", tags: ["y"], pushedDaysAgo: 4 },
    ];
    expect(retained(rules, artifacts)).toEqual(["a", "t1"]);
  });

  it("GIVEN invalid lifecycle options THEN every problem is reported with the user's path", () => {
    expect(() => harborRetentionRules({ keepReleases: 0, untaggedRetentionDays: -1 } as never)).toThrow(ValidationError);
    try {
      harborRetentionRules({ keepReleases: 0, untaggedRetentionDays: -1 } as never);
    } catch (e) {
      expect((e as ValidationError).issues.map(formatIssue)).toEqual([
        "lifecycle.untaggedRetentionDays: must be a positive whole number (value: -1). Fix: give an integer of at least 1 for untaggedRetentionDays",
        "lifecycle.keepReleases: must be a positive whole number (value: 0). Fix: give an integer of at least 1 for keepReleases",
      ]);
    }
  });

  it("GIVEN more rules than Harbor allows a project THEN it refuses with a fix", () => {
    const many: LifecycleRule[] = Array.from({ length: 15 }, (_, i) => ({ tagStatus: "tagged", tagPrefixList: [`p${i}`], maxImageCount: 1 }));
    expect(() => harborRetentionRules(many)).toThrow(
      "lifecycle: makes 17 Harbor retention rules (Harbor allows 15 a project) (value: 15). Fix: merge rules: list several tag prefixes in one rule's tagPrefixList",
    );
  });
});

describe("harborRetentionPolicy and validateHarborSchedule", () => {
  it("GIVEN a 6-field cron THEN the policy carries it and the rules", () => {
    expect(harborRetentionPolicy({}, "0 0 3 * * *")).toEqual({ schedule: "0 0 3 * * *", rules: harborRetentionRules() });
  });

  it.each(["Daily", "Hourly", "Weekly", "0 0 3 * * *", "0 */15 * * * *", "0 0 0 * * 0", "30 0 1-5 1,15 * ?"])("GIVEN %s THEN it is accepted", (schedule) => {
    expect(validateHarborSchedule(schedule)).toEqual([]);
  });

  it.each<[unknown, string]>([
    [undefined, 'schedule: is required: a retention schedule (value: not set). Fix: give "Daily", "Weekly", "Hourly" or a 6-field cron with seconds first, e.g. "0 0 3 * * *" (03:00 daily)'],
    ["0 3 * * *", `schedule: has 5 cron fields (Harbor's cron has 6, seconds first) (value: "0 3 * * *"). Fix: give "Daily", "Weekly", "Hourly" or a 6-field cron with seconds first, e.g. "0 0 3 * * *" (03:00 daily)`],
    ["0 0 25 * * *", 'schedule: has an invalid hour field "25" (value: "0 0 25 * * *"). Fix: give "Daily", "Weekly", "Hourly" or a 6-field cron with seconds first, e.g. "0 0 3 * * *" (03:00 daily)'],
    ["daily", `schedule: has 1 cron fields (Harbor's cron has 6, seconds first) (value: "daily"). Fix: give "Daily", "Weekly", "Hourly" or a 6-field cron with seconds first, e.g. "0 0 3 * * *" (03:00 daily)`],
  ])("GIVEN %p THEN exactly this issue", (schedule, expected) => {
    expect(validateHarborSchedule(schedule).map(formatIssue)).toEqual([expected]);
  });

  it("GIVEN a Unix cron THEN the policy is refused before anything is rendered", () => {
    expect(() => harborRetentionPolicy({}, "0 3 * * *")).toThrow("retentionSchedule: has 5 cron fields");
  });
});

describe("harborImmutableTagRules", () => {
  const [rule] = harborImmutableTagRules(["v"], MUTABLE);

  it("THEN one rule makes every tag immutable except the build cache and cosign's tags (ECR's exclusions)", () => {
    expect(harborImmutableTagRules(["v"], MUTABLE)).toEqual([{ repoMatching: "**", tagExcluding: "{buildcache,sha256-*}" }]);
    expect(MUTABLE).toEqual(ECR_TAG_RULES.mutableTags);
  });

  it.each([
    ["v1.2.3", true],
    ["v1.2.3-debian", true],
    ["latest", true],
    [`sha256-${"a".repeat(64)}`, false],
    [`sha256-${"a".repeat(64)}.sig`, false],
    [`sha256-${"a".repeat(64)}.att`, false],
    [BUILD_CACHE_TAG, false],
  ])("GIVEN tag %s THEN immutable is %p", (tag, immutable) => {
    // Harbor's "excludes": a tag is selected (made immutable) when the pattern does not match it.
    expect(!globMatch(rule.tagExcluding as string, tag)).toBe(immutable);
  });

  it("GIVEN a release prefix a mutable pattern could match THEN it is refused with the reason", () => {
    expect(() => harborImmutableTagRules(["v", "sha"], MUTABLE)).toThrow(
      'lifecycle.releaseTagPrefixes[1]: can start a tag that the mutable pattern "sha256-*" also matches, so a release tag could be rewritten (value: "sha"). Fix: choose a release prefix that no mutable tag (buildcache, sha256-*) can start with, e.g. "v"',
    );
    expect(() => harborImmutableTagRules(["build"], MUTABLE)).toThrow('the mutable pattern "buildcache"');
  });
});

describe("harborRobotPermissions", () => {
  const actions = (access: "pull" | "push") => harborRobotPermissions("golden", access).flatMap((p) => p.accesses.map((a) => `${a.resource}:${a.action}`));

  it("GIVEN pull THEN the robot can pull (images, signatures, attestations: all OCI reads) and NOT push", () => {
    expect(harborRobotPermissions("golden", "pull")).toEqual([{ kind: "project", namespace: "golden", accesses: [{ resource: "repository", action: "pull", effect: "allow" }] }]);
    expect(actions("pull")).not.toContain("repository:push");
  });

  it("GIVEN push THEN the robot can pull and push (what cosign sign and attest write), on its project only", () => {
    expect(actions("push")).toEqual(["repository:pull", "repository:push"]);
    expect(harborRobotPermissions("golden", "push").map((p) => [p.kind, p.namespace])).toEqual([["project", "golden"]]);
  });

  it.each(["pull", "push"] as const)("GIVEN %s THEN no action deletes anything and every access allows", (access) => {
    const accesses = harborRobotPermissions("golden", access).flatMap((p) => p.accesses);
    expect(accesses.filter((a) => a.action === "delete" || a.effect !== "allow")).toEqual([]);
  });

  it("GIVEN a bad project and access THEN both are reported", () => {
    expect(() => harborRobotPermissions("Golden", "admin" as never)).toThrow(ValidationError);
    try {
      harborRobotPermissions("Golden", "admin" as never);
    } catch (e) {
      expect((e as ValidationError).issues.map(formatIssue)).toEqual([
        'project: is not a valid Harbor project name (value: "Golden"). Fix: use 1-255 lowercase letters and digits, separated by single ".", "_" or "-", e.g. "golden-images"',
        'access: is not a robot access level (value: "admin"). Fix: use "pull" or "push"',
      ]);
    }
  });
});

describe("validators", () => {
  it.each(["golden", "golden-images", "a", "team.golden_v2", "x".repeat(255)])("GIVEN project %s THEN it is valid", (name) => {
    expect(validateHarborProjectName(name)).toEqual([]);
  });

  it.each<[unknown, string]>([
    ["", 'project: is not a Harbor project name (value: ""). Fix: use 1-255 lowercase letters and digits, separated by single ".", "_" or "-", e.g. "golden-images"'],
    ["Golden", 'project: is not a valid Harbor project name (value: "Golden"). Fix: use 1-255 lowercase letters and digits, separated by single ".", "_" or "-", e.g. "golden-images"'],
    ["-golden", 'project: is not a valid Harbor project name (value: "-golden"). Fix: use 1-255 lowercase letters and digits, separated by single ".", "_" or "-", e.g. "golden-images"'],
    ["a--b", 'project: is not a valid Harbor project name (value: "a--b"). Fix: use 1-255 lowercase letters and digits, separated by single ".", "_" or "-", e.g. "golden-images"'],
    ["x".repeat(256), `project: is 256 characters long (Harbor allows 255) (value: "${"x".repeat(116)}...). Fix: use 1-255 lowercase letters and digits, separated by single ".", "_" or "-", e.g. "golden-images"`],
    [42, 'project: is not a Harbor project name (value: 42). Fix: use 1-255 lowercase letters and digits, separated by single ".", "_" or "-", e.g. "golden-images"'],
  ])("GIVEN project %p THEN exactly this issue", (name, expected) => {
    expect(validateHarborProjectName(name).map(formatIssue)).toEqual([expected]);
  });

  it("GIVEN a robot name with Harbor's prefix character THEN it is refused at the given path", () => {
    expect(validateHarborRobotName("robot$push", "grants[0].name").map(formatIssue)).toEqual([
      'grants[0].name: is not a valid Harbor robot name (value: "robot$push"). Fix: use 1-255 lowercase letters and digits, separated by single ".", "_" or "-", e.g. "golden-push"',
    ]);
    expect(validateHarborRobotName("golden-push")).toEqual([]);
  });

  it.each(["none", "low", "medium", "high", "critical"])("GIVEN severity %s THEN it is valid", (s) => {
    expect(validateHarborSeverity(s)).toEqual([]);
  });

  it.each(["High", "severe", undefined])("GIVEN severity %p THEN exactly one issue names the allowed values", (s) => {
    expect(validateHarborSeverity(s).map(formatIssue)).toEqual([
      `deploymentSecurity: is not a Harbor severity (value: ${s === undefined ? "not set" : JSON.stringify(s)}). Fix: use one of: none, low, medium, high, critical (lowercase)`,
    ]);
  });

  it.each(["https://registry.example.internal", "http://registry.example.internal:8080", "https://registry.example.internal/"])("GIVEN URL %s THEN it is valid", (url) => {
    expect(validateHarborUrl(url)).toEqual([]);
  });

  const URL_FIX = 'give an http(s) URL with a host and no credentials, e.g. "https://registry.example.internal"';
  it.each<[unknown, string]>([
    ["registry.example.internal", `url: is not a URL (value: "registry.example.internal"). Fix: ${URL_FIX}`],
    ["ftp://registry.example.internal", `url: has scheme "ftp" (Harbor speaks http or https) (value: "ftp://registry.example.internal"). Fix: ${URL_FIX}`],
    ["https://admin:pw@registry.example.internal", 'url: carries credentials (they would land in the state in clear text) (value: "<redacted>"). Fix: remove user:password@ and pass the credentials as secrets'],
    ["https://registry.example.internal/?x=1", `url: has a query or fragment (value: "https://registry.example.internal/?x=1"). Fix: ${URL_FIX}`],
    [undefined, `url: is not a URL (value: not set). Fix: ${URL_FIX}`],
  ])("GIVEN URL %p THEN exactly this issue (credentials never echoed)", (url, expected) => {
    expect(validateHarborUrl(url).map(formatIssue)).toEqual([expected]);
  });
});
