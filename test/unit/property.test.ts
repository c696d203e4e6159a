/**
 * Properties of the validator and the renderer over generated specs: every valid spec renders a
 * Dockerfile that a real parser reads back as hardened; every invalid one is reported, never crashes.
 */
import * as fc from "fast-check";
import { DockerfileParser, Instruction } from "dockerfile-ast";
import { normalizeUser } from "../../components/render/resolve";
import { renderDockerfile } from "../../components/render/dockerfile";
import { formatIssue, ValidationError } from "../../components/render/issues";
import { lintDockerfile } from "../../components/render/lint";
import { validateEnvironmentPolicy, validateImageSpec } from "../../components/render/validate";
import { CATALOG } from "../../components/spec/catalog";
import { ImageSpec } from "../../components/spec/types";
import { resolveImage } from "../../components/render/resolve";
import { judgeDockerfiles, judgeProblems } from "../helpers/buildkit-judge";
import { invalidSpecAndPolicy, permuteKeys, runtimeHasShell, validSpecAndPolicy } from "./arbitraries";

/** One seed for every property of this file, printed so any failure replays (PROPERTY_SEED, PROPERTY_RUNS). */
const SEED = process.env.PROPERTY_SEED !== undefined && process.env.PROPERTY_SEED !== "" ? Number(process.env.PROPERTY_SEED) | 0 : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
const RUNS = { numRuns: Number(process.env.PROPERTY_RUNS ?? 200), seed: SEED };

beforeAll(() => {
  console.log(`property tests: PROPERTY_SEED=${SEED} PROPERTY_RUNS=${RUNS.numRuns}`);
});

function last(instructions: Instruction[], keyword: string): Instruction | undefined {
  return instructions.filter((i) => i.getKeyword() === keyword).pop();
}

describe("valid specs", () => {
  it("GIVEN any generated valid spec and policy WHEN validated THEN there is no issue", () => {
    fc.assert(
      fc.property(validSpecAndPolicy, ({ spec, policy }) => {
        // WHEN / THEN
        expect([...validateEnvironmentPolicy(policy), ...validateImageSpec(spec, policy)].map(formatIssue)).toEqual([]);
      }),
      RUNS,
    );
  });

  it("GIVEN any valid spec WHEN rendered THEN the Dockerfile passes the lint with no issue", () => {
    fc.assert(
      fc.property(validSpecAndPolicy, ({ spec, policy }) => {
        // WHEN
        const text = renderDockerfile(spec, policy);
        // THEN
        expect(lintDockerfile(text, { requireDigest: true, shellless: !runtimeHasShell(spec) }).map(formatIssue)).toEqual([]);
      }),
      RUNS,
    );
  });

  it("GIVEN any valid spec WHEN rendered and parsed THEN stages, final USER and ENTRYPOINT are the spec's", () => {
    fc.assert(
      fc.property(validSpecAndPolicy, ({ spec, policy }) => {
        // WHEN
        const dockerfile = DockerfileParser.parse(renderDockerfile(spec, policy));
        // THEN one FROM per builder, then the runtime
        const froms = dockerfile.getFROMs();
        expect(froms.map((f) => f.getBuildStage())).toEqual([...(spec.builders ?? []).map((b) => b.name), "runtime"]);
        // The runtime stage decides who and what runs.
        const runtimeLine = froms[froms.length - 1].getRange().start.line;
        const runtime = dockerfile.getInstructions().filter((i) => i.getRange().start.line >= runtimeLine);
        const expectedUser = spec.user === undefined ? "65532:65532" : normalizeUser(spec.user, CATALOG[spec.flavor].defaultGid);
        expect(last(runtime, "USER")?.getArgumentsContent()).toBe(expectedUser);
        expect(JSON.parse(last(runtime, "ENTRYPOINT")?.getArgumentsContent() ?? "null")).toEqual(spec.entrypoint);
        // Nothing but comments, instructions and the line continuations of those.
        expect(dockerfile.getInstructions().map((i) => i.getKeyword()).filter((k) => !/^[A-Z]+$/.test(k))).toEqual([]);
      }),
      RUNS,
    );
  });

  it("GIVEN valid specs WHEN rendered THEN BuildKit's parser reads each exactly as the spec means it", () => {
    // GIVEN the generated specs of this seed, judged in one run of tools/dockerfile-judge
    const cases = fc.sample(validSpecAndPolicy, RUNS);
    // WHEN
    const judgements = judgeDockerfiles(cases.map(({ spec, policy }) => renderDockerfile(spec, policy)));
    // THEN
    const problems = judgements.flatMap((j, i) => judgeProblems(j, resolveImage(cases[i].spec, cases[i].policy)).map((p) => `${JSON.stringify(cases[i].spec).slice(0, 300)}: ${p}`));
    expect(problems).toEqual([]);
  });

  it("GIVEN any valid spec WHEN rendered twice THEN the output is byte-identical", () => {
    fc.assert(
      fc.property(validSpecAndPolicy, ({ spec, policy }) => {
        // WHEN / THEN
        expect(renderDockerfile(spec, policy)).toBe(renderDockerfile(structuredClone(spec), structuredClone(policy)));
      }),
      RUNS,
    );
  });

  it("GIVEN any valid spec WHEN env, args, labels and builder env keys are reordered THEN the output is identical", () => {
    fc.assert(
      fc.property(validSpecAndPolicy, fc.nat(), ({ spec, policy }, seed) => {
        // GIVEN
        const permuted: ImageSpec = {
          ...spec,
          env: permuteKeys(spec.env, seed),
          args: permuteKeys(spec.args, seed + 1),
          labels: permuteKeys(spec.labels, seed + 2),
          builders: spec.builders?.map((b, i) => ({ ...b, env: permuteKeys(b.env, seed + 3 + i) })),
        };
        // WHEN / THEN
        expect(renderDockerfile(permuted, policy)).toBe(renderDockerfile(spec, policy));
      }),
      RUNS,
    );
  });
});

describe("invalid specs", () => {
  it("GIVEN any invalid spec WHEN validated THEN at least one issue is reported, each under image", () => {
    fc.assert(
      fc.property(invalidSpecAndPolicy, ({ spec, policy }) => {
        // WHEN
        const issues = validateImageSpec(spec, policy);
        // THEN
        expect(issues.length).toBeGreaterThanOrEqual(1);
        for (const issue of issues) {
          expect(issue.path).toMatch(/^image(?:$|[.[])/);
          expect(issue.problem).not.toBe("");
          expect(issue.fix).not.toBe("");
          expect(typeof formatIssue(issue)).toBe("string");
        }
      }),
      RUNS,
    );
  });

  it("GIVEN any invalid spec WHEN rendered THEN it throws a ValidationError, never another error", () => {
    fc.assert(
      fc.property(invalidSpecAndPolicy, ({ spec, policy }) => {
        // WHEN
        let thrown: unknown;
        try {
          renderDockerfile(spec as ImageSpec, policy);
        } catch (e) {
          thrown = e;
        }
        // THEN
        expect(thrown).toBeInstanceOf(ValidationError);
        expect((thrown as ValidationError).issues.length).toBeGreaterThanOrEqual(1);
      }),
      RUNS,
    );
  });
});
