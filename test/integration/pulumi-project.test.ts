/**
 * The project files, judged by the program that reads them: Pulumi's own Go project loader
 * (sdk v3.200.0, tools/pulumi-project-check) loads Pulumi.yaml and every Pulumi.<stack>.yaml
 * and runs the stack config validation `pulumi preview` runs first.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { ROOT } from "./helpers/env";

jest.setTimeout(20 * 60 * 1000);

interface Report {
  project: { file: string; ok: boolean; error?: string };
  stacks: { file: string; ok: boolean; error?: string }[];
}

let bin: string;

beforeAll(() => {
  // Built from the Go module proxy on a new machine (cached by content afterwards).
  const r = spawnSync("bash", [path.join(ROOT, "scripts", "install-go-tool.sh"), "pulumi-project-check"], { encoding: "utf8" });
  if (r.status !== 0) {
    throw new Error(`could not build Pulumi's project loader: ${r.stderr.trim().split("\n").slice(-3).join(" | ")}`);
  }
  bin = r.stdout.trim();
});

function check(dir: string): { code: number; report: Report } {
  const r = spawnSync(bin, [dir], { encoding: "utf8" });
  return { code: r.status ?? 1, report: JSON.parse(r.stdout) as Report };
}

/** A copy of the project files, with an edit. */
function projectWith(edit: (project: Record<string, any>, stacks: Record<string, Record<string, any>>) => void): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "golden-project-"));
  const project = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"));
  const stacks: Record<string, Record<string, any>> = {};
  for (const f of fs.readdirSync(ROOT).filter((f) => /^Pulumi\..+\.yaml$/.test(f))) {
    stacks[f] = YAML.parse(fs.readFileSync(path.join(ROOT, f), "utf8"));
  }
  edit(project, stacks);
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), YAML.stringify(project));
  for (const [f, doc] of Object.entries(stacks)) {
    fs.writeFileSync(path.join(dir, f), YAML.stringify(doc));
  }
  return dir;
}

it("accepts Pulumi.yaml and every stack file of this repository", () => {
  const { code, report } = check(ROOT);
  expect(report.project).toEqual({ file: "Pulumi.yaml", ok: true });
  const stackFiles = fs.readdirSync(ROOT).filter((f) => /^Pulumi\..+\.yaml$/.test(f)).sort();
  expect(stackFiles).toEqual(["Pulumi.dev.yaml", "Pulumi.onprem.yaml", "Pulumi.prod.yaml", "Pulumi.staging.yaml"]);
  expect(report.stacks).toEqual(stackFiles.map((file) => ({ file, ok: true })));
  expect(code).toBe(0);
});

it("refuses an array key without items (the loader is a judge that can fail)", () => {
  const dir = projectWith((p) => {
    delete p.config["golden-images:images"].items;
  });
  const { code, report } = check(dir);
  expect(code).toBe(1);
  expect(report.project.error).toContain("The configuration key 'golden-images:images' declares an array but does not specify the underlying type via the 'items' attribute");
});

it("refuses a stack that misses a required key", () => {
  const dir = projectWith((_p, stacks) => {
    delete stacks["Pulumi.prod.yaml"].config["golden-images:environment"];
  });
  const { code, report } = check(dir);
  expect(code).toBe(1);
  expect(report.stacks.find((s) => s.file === "Pulumi.prod.yaml")?.error).toContain("Stack 'prod' is missing configuration value 'golden-images:environment'");
  expect(report.stacks.find((s) => s.file === "Pulumi.dev.yaml")?.ok).toBe(true);
});

it("refuses a stack value of the wrong type", () => {
  const dir = projectWith((_p, stacks) => {
    stacks["Pulumi.dev.yaml"].config["golden-images:sourceDateEpoch"] = "yesterday";
  });
  const { code, report } = check(dir);
  expect(code).toBe(1);
  expect(report.stacks.find((s) => s.file === "Pulumi.dev.yaml")?.error).toMatch(/golden-images:sourceDateEpoch/);
});
