/**
 * Selecting images at run time, as the findings rule does: the rendered script, run by the real
 * shell with every tool replaced by a recorder, runs only the images of GOLDEN_ONLY_REPOSITORIES;
 * and GOLDEN_REBUILD makes the decide step build although the inputs equal the promoted ones.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { planImages, renderPlanScript } from "../../components/plan";
import { SupplyChainTarget } from "../../components/plan/planner";
import { TOOLS } from "../../components/plan/tools";
import { TOOL_NAMES } from "../../components/plan/types";
import { helloSpec } from "./specs";
import { runStepCommand } from "../../cli/steps";

const spec = helloSpec;
const chain: SupplyChainTarget = {
  signing: { mode: "kms", key: "awskms:///alias/golden", publicKey: "awskms:///alias/golden" },
  gate: { scanner: "grype" },
  promotionStore: ".golden/promoted",
  builderId: "urn:pulumi-golden-image:executor:test",
};
const HOST = "golden.registry.example.internal";
const plan = planImages([spec("api-base"), spec("worker-base")], { environment: "dev", allowTagOnlyBases: true }, (s) => ({
  repository: `${HOST}/golden/${s.name}`,
  mirror: `${HOST}/mirror`,
  insecure: false,
  supplyChain: { ...chain, rebuild: true },
}));

function runScript(only: string | undefined): { status: number; calls: string[]; stderr: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "selection-"));
  try {
    const recorder = path.join(dir, "record.sh");
    fs.writeFileSync(recorder, `#!/bin/sh\nprintf '%s\\n' "$*" >> "${dir}/calls.log"\n`, { mode: 0o755 });
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, ...Object.fromEntries(TOOL_NAMES.map((t) => [TOOLS[t].env, recorder])) };
    if (only !== undefined) {
      env.GOLDEN_ONLY_REPOSITORIES = only;
    }
    fs.writeFileSync(path.join(dir, "plan.sh"), renderPlanScript(plan));
    const r = spawnSync("sh", ["plan.sh"], { cwd: dir, env, encoding: "utf8" });
    const log = path.join(dir, "calls.log");
    return { status: r.status ?? 1, calls: fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [], stderr: r.stderr };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const imagesOf = (calls: string[]) => [...new Set(calls.flatMap((c) => [...c.matchAll(/golden\/(api-base|worker-base)/g)].map((m) => m[1])))].sort();

describe("GOLDEN_ONLY_REPOSITORIES in the rendered script (real shell)", () => {
  it("GIVEN none THEN every image's steps run", () => {
    const r = runScript(undefined);
    expect(r.status).toBe(0);
    expect(imagesOf(r.calls)).toEqual(["api-base", "worker-base"]);
    expect(r.calls).toHaveLength(plan.steps.length);
  });

  it.each([["golden/worker-base"], [`${HOST}/golden/worker-base`], ["other/x, golden/worker-base"]])("GIVEN %s THEN only worker-base runs, and the skip is reported", (only) => {
    const r = runScript(only);
    expect(r.status).toBe(0);
    expect(imagesOf(r.calls)).toEqual(["worker-base"]);
    expect(r.calls).toHaveLength(plan.steps.filter((s) => s.image === "worker-base").length);
    expect(r.stderr).toContain(`== skipping ${HOST}/golden/api-base (not in GOLDEN_ONLY_REPOSITORIES)`);
  });

  it("GIVEN a repository no image has THEN nothing runs", () => {
    expect(runScript("golden/base").calls).toEqual([]);
  });
});

describe("GOLDEN_REBUILD and the decide step", () => {
  it("GIVEN GOLDEN_REBUILD=1 THEN decide writes build with the reason, before looking at the store", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "decide-"));
    const before = process.env.GOLDEN_REBUILD;
    const write = process.stdout.write;
    process.env.GOLDEN_REBUILD = "1";
    process.stdout.write = (() => true) as any;
    try {
      const out = path.join(dir, "decision");
      await runStepCommand(["decide", "--image", "api-base", "--repository", `${HOST}/golden/api-base`, "--tag", "v1", "--settings", "sha256:x", "--store", path.join(dir, "promoted"), "--output", out]);
      expect(fs.readFileSync(out, "utf8")).toBe("build\na rebuild was asked for (GOLDEN_REBUILD)\n");
    } finally {
      process.stdout.write = write;
      if (before === undefined) delete process.env.GOLDEN_REBUILD;
      else process.env.GOLDEN_REBUILD = before;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
