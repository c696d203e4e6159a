import fc from "fast-check";
import { formatIssue, ValidationError } from "../../components/render/issues";
import {
  defaultLifecycleRules,
  LIFECYCLE_DEFAULTS,
  lifecyclePolicyDocument,
  LifecycleRule,
  renderLifecyclePolicy,
  validateDefaultLifecycleOptions,
  validateLifecycleRules,
} from "../../components/render/lifecycle";

const untagged: LifecycleRule = { description: "untagged", tagStatus: "untagged", maxImageAgeDays: 7 };
const releases: LifecycleRule = { description: "releases", tagStatus: "tagged", tagPrefixList: ["v"], maxImageCount: 10 };
const catchAll: LifecycleRule = { description: "everything", tagStatus: "any", maxImageCount: 100 };

describe("renderLifecyclePolicy", () => {
  describe.each([
    ["catch-all first", [catchAll, untagged, releases]],
    ["catch-all in the middle", [untagged, catchAll, releases]],
    ["catch-all last", [untagged, releases, catchAll]],
  ])("GIVEN the %s", (_label, rules) => {
    it("THEN the catch-all gets the last priority and the others keep their input order", () => {
      // WHEN
      const doc = lifecyclePolicyDocument(rules);
      // THEN
      expect(doc.rules.map((r) => [r.rulePriority, r.description])).toEqual([
        [1, "untagged"],
        [2, "releases"],
        [3, "everything"],
      ]);
    });
  });

  it("GIVEN the three rule shapes WHEN rendered THEN the JSON is exactly ECR's document", () => {
    expect(renderLifecyclePolicy([catchAll, untagged, releases])).toBe(
      JSON.stringify({
        rules: [
          {
            rulePriority: 1,
            description: "untagged",
            selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 7 },
            action: { type: "expire" },
          },
          {
            rulePriority: 2,
            description: "releases",
            selection: { tagStatus: "tagged", tagPrefixList: ["v"], countType: "imageCountMoreThan", countNumber: 10 },
            action: { type: "expire" },
          },
          {
            rulePriority: 3,
            description: "everything",
            selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 100 },
            action: { type: "expire" },
          },
        ],
      }),
    );
  });

  it("GIVEN the same rules written with a different key order and unsorted tag lists WHEN rendered THEN the bytes are identical", () => {
    // GIVEN
    const a: LifecycleRule[] = [{ tagStatus: "tagged", tagPatternList: ["rc-*", "beta-*", "rc-*"], maxImageCount: 3, description: "pre" }];
    const b: LifecycleRule[] = [{ description: "pre", maxImageCount: 3, tagPatternList: ["beta-*", "rc-*"], tagStatus: "tagged" }];
    // WHEN / THEN
    expect(renderLifecyclePolicy(a)).toBe(renderLifecyclePolicy(b));
    expect(renderLifecyclePolicy(a)).toBe(
      '{"rules":[{"rulePriority":1,"description":"pre","selection":{"tagStatus":"tagged","tagPatternList":["beta-*","rc-*"],"countType":"imageCountMoreThan","countNumber":3},"action":{"type":"expire"}}]}',
    );
  });

  it("GIVEN a rule without description WHEN rendered THEN no description key appears", () => {
    expect(renderLifecyclePolicy([{ tagStatus: "untagged", maxImageAgeDays: 1 }])).not.toContain("description");
  });

  it("GIVEN invalid rules WHEN rendered THEN one ValidationError lists every problem", () => {
    // GIVEN
    const rules = [catchAll, { tagStatus: "tagged", maxImageCount: 0 }, catchAll] as unknown as LifecycleRule[];
    // WHEN
    let error: unknown;
    try {
      renderLifecyclePolicy(rules);
    } catch (e) {
      error = e;
    }
    // THEN
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toBe(
      [
        "Invalid ECR lifecycle rules (3 problems):",
        '  - rules[1].tagPrefixList: is required when tagStatus is "tagged" (or give tagPatternList) (value: not set). Fix: give tagPrefixList (e.g. ["v"]) or tagPatternList (e.g. ["release-*"])',
        "  - rules[1].maxImageCount: must be a positive whole number (value: 0). Fix: give an integer of at least 1 for maxImageCount",
        '  - rules[2].tagStatus: is a second catch-all rule (the first is rules[0]) (value: "any"). Fix: keep one rule with tagStatus "any"; ECR evaluates it last, so merge the others into it',
      ].join("\n"),
    );
  });
});

describe("validateLifecycleRules", () => {
  describe.each<[string, unknown, string[]]>([
    ["not a list", { tagStatus: "any" }, ['rules: must be a list of lifecycle rules (value: {"tagStatus":"any"}). Fix: give an array such as defaultLifecycleRules()']],
    ["an empty list", [], ["rules: must contain at least one rule (value: []). Fix: add a rule or use defaultLifecycleRules()"]],
    ["a null rule", [null], ["rules[0]: must be a lifecycle rule object (value: null). Fix: give { tagStatus, maxImageCount | maxImageAgeDays, ... }"]],
    [
      "neither count nor age",
      [{ tagStatus: "untagged" }],
      ["rules[0].maxImageCount: is required (or give maxImageAgeDays) (value: not set). Fix: give exactly one of maxImageCount (keep the newest N) or maxImageAgeDays (expire after N days)"],
    ],
    [
      "both count and age",
      [{ tagStatus: "untagged", maxImageCount: 1, maxImageAgeDays: 2 }],
      ["rules[0].maxImageAgeDays: cannot be combined with maxImageCount in one rule (value: 2). Fix: keep exactly one of maxImageCount or maxImageAgeDays; use two rules for both limits"],
    ],
    [
      "a fractional age",
      [{ tagStatus: "untagged", maxImageAgeDays: 1.5 }],
      ["rules[0].maxImageAgeDays: must be a positive whole number (value: 1.5). Fix: give an integer of at least 1 for maxImageAgeDays"],
    ],
    [
      "a negative count",
      [{ tagStatus: "any", maxImageCount: -3 }],
      ["rules[0].maxImageCount: must be a positive whole number (value: -3). Fix: give an integer of at least 1 for maxImageCount"],
    ],
    [
      "a count given as a string",
      [{ tagStatus: "any", maxImageCount: "5" }],
      ['rules[0].maxImageCount: must be a positive whole number (value: "5"). Fix: give an integer of at least 1 for maxImageCount'],
    ],
    [
      "an unknown tag status",
      [{ tagStatus: "TAGGED", maxImageCount: 1 }],
      ['rules[0].tagStatus: is not a tag status (value: "TAGGED"). Fix: use one of: "tagged", "untagged", "any"'],
    ],
    [
      "tagged without a list",
      [{ tagStatus: "tagged", maxImageCount: 1 }],
      ['rules[0].tagPrefixList: is required when tagStatus is "tagged" (or give tagPatternList) (value: not set). Fix: give tagPrefixList (e.g. ["v"]) or tagPatternList (e.g. ["release-*"])'],
    ],
    [
      "both tag lists",
      [{ tagStatus: "tagged", tagPrefixList: ["v"], tagPatternList: ["v*"], maxImageCount: 1 }],
      ['rules[0].tagPatternList: cannot be combined with tagPrefixList in one rule (value: ["v*"]). Fix: split it into two rules, one with tagPrefixList and one with tagPatternList'],
    ],
    [
      "a prefix list on an untagged rule",
      [{ tagStatus: "untagged", tagPrefixList: ["v"], maxImageAgeDays: 1 }],
      ['rules[0].tagPrefixList: is only allowed with tagStatus "tagged" (not "untagged") (value: ["v"]). Fix: remove tagPrefixList or set tagStatus to "tagged"'],
    ],
    [
      "an empty prefix list",
      [{ tagStatus: "tagged", tagPrefixList: [], maxImageCount: 1 }],
      ["rules[0].tagPrefixList: must not be empty (value: []). Fix: list at least one tag prefix or remove the property"],
    ],
    [
      "a bad prefix",
      [{ tagStatus: "tagged", tagPrefixList: ["v", "-x"], maxImageCount: 1 }],
      ['rules[0].tagPrefixList[1]: is not a valid tag prefix (value: "-x"). Fix: use 1-128 of A-Z a-z 0-9 _ . - not starting with . or -'],
    ],
    [
      "too many wildcards",
      [{ tagStatus: "tagged", tagPatternList: ["*a*b*c*d*"], maxImageCount: 1 }],
      ['rules[0].tagPatternList[0]: has more than 4 wildcards (value: "*a*b*c*d*"). Fix: use at most 4 * in one pattern'],
    ],
    [
      "a misspelled property",
      [{ tagStatus: "any", maxImageCount: 1, maxImageAge: 3 }],
      ["rules[0].maxImageAge: is not a lifecycle rule property (value: 3). Fix: remove it or correct the spelling (allowed: description, tagStatus, tagPrefixList, tagPatternList, maxImageCount, maxImageAgeDays)"],
    ],
    [
      "an empty description",
      [{ description: " ", tagStatus: "any", maxImageCount: 1 }],
      ['rules[0].description: must be a non-empty string (value: " "). Fix: describe what the rule expires, or remove description'],
    ],
    [
      "two catch-all rules",
      [
        { tagStatus: "any", maxImageCount: 1 },
        { tagStatus: "untagged", maxImageAgeDays: 1 },
        { tagStatus: "any", maxImageAgeDays: 9 },
      ],
      ['rules[2].tagStatus: is a second catch-all rule (the first is rules[0]) (value: "any"). Fix: keep one rule with tagStatus "any"; ECR evaluates it last, so merge the others into it'],
    ],
  ])("GIVEN %s", (_label, rules, expected) => {
    it("THEN exactly these issues are reported", () => {
      expect(validateLifecycleRules(rules).map(formatIssue)).toEqual(expected);
    });
  });

  it("GIVEN several broken rules WHEN validated THEN every problem is reported at once", () => {
    const issues = validateLifecycleRules([{ tagStatus: "tagged", maxImageCount: 0 }, { tagStatus: "bogus" }]);
    expect(issues.map((i) => i.path)).toEqual(["rules[0].tagPrefixList", "rules[0].maxImageCount", "rules[1].tagStatus", "rules[1].maxImageCount"]);
  });
});

describe("defaultLifecycleRules", () => {
  it("GIVEN no options WHEN rendered THEN untagged expire after 14 days and the last 30 v-releases are kept", () => {
    expect(LIFECYCLE_DEFAULTS).toEqual({ untaggedRetentionDays: 14, keepReleases: 30, releaseTagPrefixes: ["v"] });
    expect(lifecyclePolicyDocument(defaultLifecycleRules()).rules).toEqual([
      {
        rulePriority: 1,
        description: "Expire untagged images after 14 days",
        selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 14 },
        action: { type: "expire" },
      },
      {
        rulePriority: 2,
        description: "Keep the last 30 release images",
        selection: { tagStatus: "tagged", tagPrefixList: ["v"], countType: "imageCountMoreThan", countNumber: 30 },
        action: { type: "expire" },
      },
    ]);
  });

  it("GIVEN options WHEN rendered THEN they are used", () => {
    const doc = lifecyclePolicyDocument(defaultLifecycleRules({ untaggedRetentionDays: 3, keepReleases: 5, releaseTagPrefixes: ["release-", "v"] }));
    expect(doc.rules.map((r) => r.selection)).toEqual([
      { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 3 },
      { tagStatus: "tagged", tagPrefixList: ["release-", "v"], countType: "imageCountMoreThan", countNumber: 5 },
    ]);
  });

  describe.each<[string, unknown, string[]]>([
    ["a zero retention", { untaggedRetentionDays: 0 }, ["lifecycle.untaggedRetentionDays: must be a positive whole number (value: 0). Fix: give an integer of at least 1 for untaggedRetentionDays"]],
    ["an empty prefix list", { releaseTagPrefixes: [] }, ["lifecycle.releaseTagPrefixes: must not be empty (value: []). Fix: list at least one tag prefix or remove the property"]],
    ["a repeated prefix", { releaseTagPrefixes: ["v", "v"] }, ['lifecycle.releaseTagPrefixes[1]: repeats lifecycle.releaseTagPrefixes[0] (value: "v"). Fix: list each prefix once']],
    [
      "an unknown option",
      { keepRelease: 3 },
      ["lifecycle.keepRelease: is not a lifecycle option (value: 3). Fix: remove it or correct the spelling (allowed: untaggedRetentionDays, keepReleases, releaseTagPrefixes)"],
    ],
  ])("GIVEN %s", (_label, options, expected) => {
    it("THEN validateDefaultLifecycleOptions reports exactly it", () => {
      expect(validateDefaultLifecycleOptions(options).map(formatIssue)).toEqual(expected);
    });
  });
});

describe("lifecycle properties", () => {
  const prefix = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,8}$/);
  const limit = fc.oneof(
    fc.record({ maxImageCount: fc.integer({ min: 1, max: 10_000 }) }),
    fc.record({ maxImageAgeDays: fc.integer({ min: 1, max: 10_000 }) }),
  );
  const description = fc.option(fc.stringMatching(/^[A-Za-z][A-Za-z0-9 ]{0,20}$/), { nil: undefined });
  const tagged = fc
    .tuple(description, fc.oneof(fc.record({ tagPrefixList: fc.array(prefix, { minLength: 1, maxLength: 3 }) }), fc.record({ tagPatternList: fc.array(prefix.map((p) => `${p}*`), { minLength: 1, maxLength: 3 }) })), limit)
    .map(([d, list, l]) => ({ ...(d === undefined ? {} : { description: d }), tagStatus: "tagged" as const, ...list, ...l }) as LifecycleRule);
  const untaggedRule = fc.tuple(description, limit).map(([d, l]) => ({ ...(d === undefined ? {} : { description: d }), tagStatus: "untagged" as const, ...l }) as LifecycleRule);
  const anyRule = limit.map((l) => ({ tagStatus: "any" as const, ...l }) as LifecycleRule);
  const validRules = fc
    .tuple(fc.array(fc.oneof(tagged, untaggedRule), { maxLength: 6 }), fc.option(anyRule, { nil: undefined }), fc.nat())
    .filter(([rest, any]) => rest.length + (any === undefined ? 0 : 1) > 0)
    .map(([rest, any, at]) => {
      const rules = [...rest];
      if (any !== undefined) {
        rules.splice(at % (rules.length + 1), 0, any);
      }
      return rules;
    });

  it("GIVEN any valid rule list WHEN rendered THEN the JSON parses, priorities strictly increase from 1 and the only catch-all is last", () => {
    fc.assert(
      fc.property(validRules, (rules) => {
        expect(validateLifecycleRules(rules)).toEqual([]);
        const json = renderLifecyclePolicy(rules);
        const doc = JSON.parse(json) as { rules: { rulePriority: number; selection: { tagStatus: string } }[] };
        expect(doc.rules.map((r) => r.rulePriority)).toEqual(rules.map((_r, i) => i + 1));
        const anyAt = doc.rules.map((r) => r.selection.tagStatus).flatMap((s, i) => (s === "any" ? [i] : []));
        expect(anyAt.length).toBeLessThanOrEqual(1);
        if (anyAt.length === 1) {
          expect(anyAt[0]).toBe(doc.rules.length - 1);
        }
        expect(renderLifecyclePolicy(JSON.parse(JSON.stringify(rules)))).toBe(json);
      }),
    );
  });

  it("GIVEN arbitrary input WHEN validated THEN it never throws and any rejection names a property under rules", () => {
    const junk = fc.oneof(
      fc.anything(),
      fc.array(fc.anything()),
      fc.array(
        fc.record(
          {
            description: fc.anything(),
            tagStatus: fc.oneof(fc.constantFrom("tagged", "untagged", "any"), fc.anything()),
            tagPrefixList: fc.oneof(fc.array(fc.string()), fc.anything()),
            tagPatternList: fc.oneof(fc.array(fc.string()), fc.anything()),
            maxImageCount: fc.oneof(fc.integer(), fc.double(), fc.anything()),
            maxImageAgeDays: fc.oneof(fc.integer(), fc.double(), fc.anything()),
          },
          { requiredKeys: [] },
        ),
      ),
    );
    fc.assert(
      fc.property(junk, (input) => {
        const issues = validateLifecycleRules(input);
        for (const issue of issues) {
          expect(issue.path).toMatch(/^rules(\[\d+\](\.[A-Za-z_$][\w$]*|\[".*"\])?(\[\d+\])?)?$/s);
          expect(issue.problem.length).toBeGreaterThan(0);
          expect(issue.fix.length).toBeGreaterThan(0);
        }
        if (issues.length > 0) {
          expect(() => renderLifecyclePolicy(input as LifecycleRule[])).toThrow(ValidationError);
        } else {
          expect(() => JSON.parse(renderLifecyclePolicy(input as LifecycleRule[]))).not.toThrow();
        }
      }),
    );
  });
});
