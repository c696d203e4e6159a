/**
 * The GitHub Actions workflow template (.github/workflows/golden-images.yml), judged by its real
 * consumer's linter: actionlint at its pinned release (scripts/install-actionlint.sh) finds nothing
 * in the template, and finds the deliberate mistake in each broken copy, so the judge can fail.
 * actionlint runs its shellcheck rules only when shellcheck is on PATH (it is not installed here).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";

const ROOT = path.join(__dirname, "..", "..");
const WORKFLOW = path.join(".github", "workflows", "golden-images.yml");
const TEMPLATE = fs.readFileSync(path.join(ROOT, WORKFLOW), "utf8");

interface Finding {
  readonly message: string;
  readonly line: number;
  readonly kind: string;
}

let actionlint = "";
let scratch = "";

beforeAll(() => {
  const r = spawnSync("bash", [path.join(ROOT, "scripts", "install-actionlint.sh")], { encoding: "utf8" });
  if (r.status !== 0) {
    throw new Error(`scripts/install-actionlint.sh failed: ${r.stderr.trim().split("\n").pop() ?? r.error?.message ?? ""}. Fix: run it by hand and follow its message`);
  }
  actionlint = r.stdout.trim().split("\n").pop() as string;
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "golden-workflow-"));
}, 600_000);

afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** actionlint's findings on a workflow file (relative to `cwd`), from its JSON output. */
function lint(cwd: string, file: string): Finding[] {
  const r = spawnSync(actionlint, ["-no-color", "-format", "{{json .}}", file], { cwd, encoding: "utf8" });
  // 0: no finding, 1: findings; anything else is a crash or a bad command line.
  if (r.status !== 0 && r.status !== 1) {
    throw new Error(`${actionlint} ${file} exited ${r.status ?? r.signal}: ${r.stderr}`);
  }
  return JSON.parse(r.stdout) as Finding[];
}

/** A copy of the template with one edit, in a scratch repository of its own. */
function brokenCopy(name: string, from: string, to: string): string {
  expect(TEMPLATE).toContain(from);
  const dir = path.join(scratch, name);
  fs.mkdirSync(path.join(dir, ".github", "workflows"), { recursive: true });
  fs.writeFileSync(path.join(dir, WORKFLOW), TEMPLATE.replace(from, to));
  return dir;
}

describe("the golden-images workflow template", () => {
  it("GIVEN the template THEN actionlint finds nothing", () => {
    expect(lint(ROOT, WORKFLOW)).toEqual([]);
  });

  describe.each([
    ["a runner from a matrix key that does not exist", "runs-on: ubuntu-latest\n    timeout-minutes: 60", "runs-on: ${{ matrix.os }}\n    timeout-minutes: 60", "expression", /property "os" is not defined in object type \{stack: string\}/],
    ["a reference to a step id that does not exist", "if: steps.diff.outputs.changed == 'true'", "if: steps.golden-diff.outputs.changed == 'true'", "expression", /property "golden-diff" is not defined in object type/],
    ["an unknown permission scope", "pull-requests: write", "pull-request: write", "permissions", /unknown permission scope "pull-request"/],
    // Reported at the job that has the `needs:`.
    ["a job that needs a job that does not exist", "needs: diff", "needs: golden-diff", "job-needs", /job "comment" needs job "golden-diff" which does not exist in this workflow/, "\n  comment:\n"],
  ])("GIVEN a copy with %s", (what, from, to, kind, message, at = from) => {
    it("THEN actionlint reports exactly that mistake", () => {
      const dir = brokenCopy(what.replace(/\W+/g, "-"), from, to);
      const findings = lint(dir, WORKFLOW);
      expect(findings).toEqual([expect.objectContaining({ kind, message: expect.stringMatching(message) })]);
      expect(findings[0].line).toBe(TEMPLATE.slice(0, TEMPLATE.indexOf(at as string) + (at === from ? 0 : 1)).split("\n").length);
    });
  });

  it("GIVEN the template THEN every action is pinned by a full commit SHA, with its release beside it", () => {
    const uses = [...TEMPLATE.matchAll(/^\s*(?:-\s*)?uses:\s*(\S+)(.*)$/gm)].map((m) => [m[1], m[2].trim()]);
    expect(uses.length).toBeGreaterThanOrEqual(6);
    for (const [ref, comment] of uses) {
      expect({ ref, comment }).toEqual({ ref: expect.stringMatching(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/), comment: expect.stringMatching(/^# v\d+\.\d+\.\d+$/) });
    }
  });

  it("GIVEN the template THEN it reads the repository only, and only the comment job may write to pull requests", () => {
    const doc = YAML.parse(TEMPLATE);
    expect(doc.on).toEqual({ pull_request: null });
    expect(doc.permissions).toEqual({ contents: "read" });
    expect(doc.jobs.diff.permissions).toBeUndefined();
    expect(doc.jobs.comment.permissions).toEqual({ contents: "read", "pull-requests": "write" });
    expect(doc.jobs.diff.strategy.matrix.stack).toEqual(["dev", "staging", "prod"]);
  });

  it("GIVEN the diff step THEN it compares with the base branch, takes exit code 1 as a change, and the pipeline runs only then", () => {
    const steps = YAML.parse(TEMPLATE).jobs.diff.steps as { id?: string; if?: string; run?: string; env?: Record<string, string>; with?: Record<string, unknown> }[];
    const checkout = steps[0];
    expect(checkout.with).toMatchObject({ "fetch-depth": 0, "persist-credentials": false });
    const diff = steps.find((s) => s.id === "diff");
    expect(diff?.env).toEqual({ STACK: "${{ matrix.stack }}", BASE_REF: "${{ github.base_ref }}" });
    expect(diff?.run).toContain('npx golden diff --stack "$STACK" --against "origin/$BASE_REF" > golden-out/diff.txt || status=$?');
    expect(diff?.run).toContain('1) echo "changed=true" >> "$GITHUB_OUTPUT" ;;');
    const pipeline = steps.find((s) => s.id === "pipeline");
    expect(pipeline).toMatchObject({ if: "steps.diff.outputs.changed == 'true'", run: 'npm run golden -- build --stack "$STACK"' });
    const preview = steps.find((s) => s.id === "preview");
    expect(preview?.with).toMatchObject({ command: "preview", "stack-name": "${{ matrix.stack }}", diff: true, "comment-on-pr": false });
    // Secrets reach steps only through env, never through a command line or the comment.
    expect(TEMPLATE.match(/secrets\.\w+/g)).toEqual(["secrets.PULUMI_ACCESS_TOKEN"]);
    expect(preview?.env).toEqual({ PULUMI_ACCESS_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}" });
  });
});
