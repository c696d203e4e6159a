/**
 * The fuzz suite's malformed inputs through the last two entry points users call: the
 * `golden validate` command (in process, on a stack file written to a project directory) and
 * the GoldenImagePipeline constructor under Pulumi mocks. Each input ends in exactly one of two
 * ways: accepted, or one report (exit code 2 / a ValidationError) naming well-formed paths.
 * Never a crash, a stack trace, or another exit code. The seed is printed; FUZZ_SEED replays it.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as fc from "fast-check";
import * as YAML from "yaml";
import { runGolden } from "../../cli/golden";
import { GoldenImagePipeline, GoldenImagePipelineArgs } from "../../components/pipeline";
import { formatIssue, ValidationError, WELL_FORMED_PATH } from "../../components/render/issues";
import { fuzzSettings, pipelineArgsInput, stackConfigInput } from "../helpers/fuzz";
import { setupMocks } from "./mocks";

const ROOT = path.join(__dirname, "..", "..");
const WELL_FORMED = WELL_FORMED_PATH;
const { seed, runs } = fuzzSettings(600);

/**
 * Every line of a refusal is one issue (`  - <path>: <problem> (value: ...). Fix: ...`, the path
 * well-formed) or the closing `golden:` line. Paths are read with the issue's own grammar: a
 * bracketed key may hold blanks and `: `, so the path ends where the grammar says.
 */
function reportLineProblems(lines: readonly string[]): string[] {
  const problems: string[] = [];
  for (const line of lines.slice(0, -1)) {
    const m = /^ {2}- ((?:[^\s:"[]|\[\d+\]|\["(?:[^"\\]|\\.)*"\]|:(?!\s))+): (.*)$/.exec(line);
    if (m === null || !/\. Fix: /.test(m[2])) {
      problems.push(`not an issue line: ${JSON.stringify(line.slice(0, 160))}`);
    } else if (!WELL_FORMED.test(m[1])) {
      problems.push(`malformed path ${m[1]}`);
    }
  }
  return problems;
}
const half = Math.max(3, Math.floor(runs / 2));

it("writes every issue on one line, whatever control characters or line separators the input held (regression)", () => {
  const line = formatIssue({ path: "images[0]", value: ["a\nUSER 0", "a\u2028b"], problem: 'unknown property "a\rUSER 0"', fix: "remove it" });
  expect(line).toBe('images[0]: unknown property "a\\u000dUSER 0" (value: ["a\\nUSER 0","a\\u2028b"]). Fix: remove it');
  expect(line.split(/[\r\n\u2028\u2029]/)).toHaveLength(1);
});

it("reads a refusal whose map key holds blanks, quotes and a colon as one well-formed issue (regression: FUZZ_SEED=2101406083)", () => {
  const key = 'a b"%X: c';
  const line = `  - golden-images:images[2].env[${JSON.stringify(key)}]: is not a variable name (value: ${JSON.stringify(key)}). Fix: use letters, digits and _`;
  expect(reportLineProblems([line, "golden: 1 problem(s) in the image specs; nothing was built. Fix: correct the listed properties"])).toEqual([]);
  expect(reportLineProblems(["  - golden-images:images[2].env[a b]: oops (value: 1). Fix: x", "golden: end"])).toEqual(["not an issue line: \"  - golden-images:images[2].env[a b]: oops (value: 1). Fix: x\""]);
});

it(`GIVEN ${half} malformed stack files (seed printed) WHEN \`golden validate\` reads them THEN each is accepted (exit 0) or refused with a report (exit 2)`, async () => {
  console.log(`entry fuzz: FUZZ_SEED=${seed} FUZZ_RUNS=${runs}`);
  const project = fs.mkdtempSync(path.join(os.tmpdir(), "golden-fuzz-cli-"));
  fs.cpSync(path.join(ROOT, "images"), path.join(project, "images"), { recursive: true });
  const samples = fc.sample(stackConfigInput, { seed, numRuns: half });
  const outcome = { accepted: 0, refused: 0, unwritable: 0 };
  const findings: string[] = [];
  for (const values of samples) {
    let text: string;
    try {
      const config = values !== null && typeof values === "object" && !Array.isArray(values) ? Object.fromEntries(Object.entries(values).map(([k, v]) => [`golden-images:${k}`, v])) : values;
      text = YAML.stringify({ config });
    } catch {
      outcome.unwritable += 1; // not a YAML document a user could write
      continue;
    }
    fs.writeFileSync(path.join(project, "Pulumi.fuzz.yaml"), text);
    let stdout = "";
    let stderr = "";
    const code = await runGolden(["validate", "--stack", "fuzz", "--project-dir", project], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
    const lines = stderr.replace(/\s+$/, "").split("\n");
    if (code === 0 && /^\d+ image\(s\) valid for (dev|staging|prod): /.test(stdout)) {
      outcome.accepted += 1;
    } else if (code === 2 && /^golden: .*Fix: /.test(lines[lines.length - 1]) && !/\n\s+at /.test(stderr)) {
      outcome.refused += 1;
      findings.push(...reportLineProblems(lines).map((p) => `${p} for ${text.slice(0, 200)}`));
    } else {
      findings.push(`exit ${code}: ${stderr.slice(0, 300)} for ${text.slice(0, 200)}`);
    }
  }
  console.log(`golden validate: ${outcome.accepted} accepted, ${outcome.refused} refused, ${outcome.unwritable} not YAML-writable`);
  expect(findings).toEqual([]);
  expect(outcome.accepted).toBeGreaterThan(0);
  expect(outcome.refused).toBeGreaterThan(0);
}, 120_000);

it(`GIVEN ${half} malformed pipeline args WHEN GoldenImagePipeline is constructed under mocks THEN it is created or throws one ValidationError`, () => {
  setupMocks();
  const before = process.cwd();
  process.chdir(ROOT);
  const outcome = { created: 0, refused: 0 };
  const findings: string[] = [];
  // Mutated args are nearly always refused; the dev stack's own args must be created, so both outcomes occur.
  const dev = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8")).config;
  const valid = { registry: dev["golden-images:registry"], images: dev["golden-images:images"], policy: { environment: "dev", mirror: dev["golden-images:mirror"], allowTagOnlyBases: true } };
  try {
    [valid, ...fc.sample(pipelineArgsInput, { seed: seed ^ 0x5f3759df, numRuns: half })].forEach((args, i) => {
      try {
        new GoldenImagePipeline(`fuzz${i}`, args as GoldenImagePipelineArgs);
        outcome.created += 1;
      } catch (e) {
        if (e instanceof ValidationError && e.issues.length > 0) {
          outcome.refused += 1;
          for (const issue of e.issues) {
            if (!WELL_FORMED.test(issue.path)) findings.push(`malformed path ${issue.path}`);
          }
        } else {
          findings.push(`crash: ${(e as Error)?.stack?.split("\n").slice(0, 2).join(" ") ?? String(e)} for ${JSON.stringify(args)?.slice(0, 200)}`);
        }
      }
    });
  } finally {
    process.chdir(before);
  }
  console.log(`GoldenImagePipeline: ${outcome.created} created, ${outcome.refused} refused`);
  expect(findings).toEqual([]);
  expect(outcome.created).toBeGreaterThan(0);
  expect(outcome.refused).toBeGreaterThan(0);
}, 120_000);
