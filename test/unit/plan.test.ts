/**
 * The pipeline plan as data: every step has a real command, results pass through files, and the
 * POSIX script and the local runner run the same thing (proven here with stand-in tools that
 * record their arguments; the integration tests run the real ones).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { assertPlan, planImage, planImages, planProblems, renderPlanScript, STEP_KINDS, TOOLS } from "../../components/plan";
import { Plan, Step } from "../../components/plan/types";
import { runPlan } from "../../executors/plan-runner";
import { lockProject } from "../../executors/local";
import { ImageSpec } from "../../components/spec/types";

const spec: ImageSpec = {
  name: "team/hello",
  flavor: "distroless-static",
  context: "./images/hello/",
  builders: [{ name: "build", copy: [{ src: "hello.c", dest: "/src/hello.c" }], run: ["gcc -static -o /out/hello hello.c"] }],
  copy: [{ from: "build", src: "/out/hello", dest: "/hello" }],
  entrypoint: ["/hello"],
  platforms: ["linux/amd64", "linux/arm64"],
  // Characters a shell would expand or end a quote with: the script must write them literally.
  env: { GREETING: "it's $HOME \"q\" \\ `id` $(id)" },
};
const policy = { environment: "dev" as const, allowTagOnlyBases: true, sourceDateEpoch: 1763856000 };
const target = { repository: "127.0.0.1:5000/golden/team/hello", mirror: "127.0.0.1:5000/mirror", insecure: true };

describe("planImage", () => {
  const steps = planImage(spec, policy, target);
  const byKind = (k: string) => steps.find((s) => s.kind === k) as Step;

  it("has one step per kind, in pipeline order, each needing the one before", () => {
    expect(steps.map((s) => s.kind)).toEqual(["pin", "render", "build", "push", "verify"].filter((k) => (STEP_KINDS as readonly string[]).includes(k)));
    expect(steps.map((s) => s.id)).toEqual(["team/hello:pin", "team/hello:render", "team/hello:build", "team/hello:push", "team/hello:verify"]);
    expect(steps.map((s) => s.needs)).toEqual([[], ["team/hello:pin"], ["team/hello:render"], ["team/hello:build"], ["team/hello:build", "team/hello:push"]]);
    expect(steps.every((s) => s.gate)).toBe(true);
    expect(planProblems({ version: 1, steps })).toEqual([]);
  });

  it("gives every step a real command of a known tool (nothing is a comment)", () => {
    for (const s of steps) {
      expect(Object.keys(TOOLS)).toContain(s.run.tool);
      expect(s.run.args.length).toBeGreaterThan(3);
    }
    expect(steps.map((s) => `${s.run.tool} ${s.run.args[0]} ${s.run.args[1]}`)).toEqual([
      "golden step pin",
      "golden step render",
      "buildctl build --frontend",
      "skopeo copy --all",
      "golden step verify",
    ]);
  });

  it("writes the spec and policy for the pin step, and nothing else before a step", () => {
    expect(byKind("pin").files).toEqual({ ".golden/run/team-hello/spec.json": `${JSON.stringify({ spec, policy }, null, 2)}\n` });
    expect(steps.slice(1).every((s) => Object.keys(s.files).length === 0)).toBe(true);
  });

  it("builds reproducibly: timestamps rewritten to the stack's epoch, every platform, an OCI archive and a metadata file", () => {
    const args = byKind("build").run.args;
    expect(args).toContain("build-arg:SOURCE_DATE_EPOCH=1763856000");
    expect(args).toContain("platform=linux/amd64,linux/arm64");
    expect(args).toContain("type=oci,dest=.golden/run/team-hello/image.oci.tar,rewrite-timestamp=true");
    expect(args).toContain("context=images/hello");
    expect(args.slice(-2)).toEqual(["--metadata-file", ".golden/run/team-hello/build.json"]);
  });

  it("pushes with digests preserved, the digest to a file, `--` before the positional arguments", () => {
    const args = byKind("push").run.args;
    expect(args).toEqual([
      "copy",
      "--all",
      "--preserve-digests",
      "--dest-tls-verify=false",
      "--digestfile",
      ".golden/run/team-hello/push.digest",
      "--",
      "oci-archive:.golden/run/team-hello/image.oci.tar",
      "docker://127.0.0.1:5000/golden/team/hello:$(results.team/hello:render.tag)",
    ]);
  });

  it("uses plain HTTP only when the target says so", () => {
    const tls = planImage(spec, policy, { ...target, insecure: false });
    expect(tls.flatMap((s) => s.run.args).filter((a) => /insecure|tls-verify/.test(a))).toEqual([]);
    expect(steps.flatMap((s) => s.run.args).filter((a) => /insecure|tls-verify/.test(a))).toEqual(["--insecure", "--dest-tls-verify=false", "--insecure"]);
  });

  it("is the same data for the same input (deterministic)", () => {
    expect(JSON.stringify(planImage(spec, policy, target))).toBe(JSON.stringify(steps));
  });
});

describe("planProblems", () => {
  const good = planImage(spec, policy, target);
  it.each([
    ["a duplicate id", [...good, good[0]], "step team/hello:pin: duplicate id"],
    ["a need that comes later", [good[1], good[0]], 'step team/hello:render: needs "team/hello:pin", which is not an earlier step'],
    ["a result of a step it does not need", [good[0], good[1], good[2], { ...good[3], needs: [] }], 'step team/hello:push: uses a result of "team/hello:render", which it does not need (directly or through its needs)'],
    ["an unknown output", [good[0], { ...good[1], run: { tool: "golden", args: ["$(results.team/hello:pin.nope)"] } }], 'step team/hello:render: "team/hello:pin" has no output "nope"'],
    ["a path outside the working directory", [{ ...good[0], outputs: { x: "../x" } }], 'step team/hello:pin: path "../x" leaves the working directory'],
    ["an unknown tool", [{ ...good[0], run: { tool: "curl", args: [] } }], 'step team/hello:pin: unknown tool "curl"'],
  ] as [string, Step[], string][])("finds %s", (_what, steps, problem) => {
    expect(planProblems({ version: 1, steps })).toContain(problem);
    expect(() => assertPlan({ version: 1, steps })).toThrow(problem);
  });
});

/** Stand-in tools: each records its argv to calls.log and writes the outputs the real tool would. */
function fakeTools(dir: string): Record<string, string> {
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin);
  const tool = (name: string, body: string) => {
    fs.writeFileSync(path.join(bin, name), `#!/bin/sh\nprintf '%s\\n' "${name} $*" >> "$CALLS"\n${body}\n`, { mode: 0o755 });
    return path.join(bin, name);
  };
  return {
    GOLDEN_CLI: tool(
      "golden",
      [
        'case "$2" in',
        '  pin) shift 2; while [ $# -gt 0 ]; do [ "$1" = --output ] && cp "$(dirname "$2")/spec.json" "$2"; shift; done ;;',
        '  render) shift 2; while [ $# -gt 0 ]; do [ "$1" = --output-dir ] && mkdir -p "$2" && echo "FROM scratch" > "$2/Dockerfile" && echo v0123456789abcdef > "$2/tag"; shift; done ;;',
        '  verify) shift 2; while [ $# -gt 0 ]; do [ "$1" = --output ] && echo "repo@sha256:$(printf %064d 7)" > "$2"; shift; done ;;',
        "esac",
      ].join("\n"),
    ),
    GOLDEN_BUILDCTL: tool("buildctl", '[ -n "$FAIL_BUILD" ] && { echo "ERROR: failed to solve: $FAIL_BUILD" >&2; exit 1; }\nwhile [ $# -gt 0 ]; do [ "$1" = --metadata-file ] && echo "{}" > "$2"; case "$1" in type=oci,dest=*) d=${1#type=oci,dest=}; echo tar > "${d%%,*}";; esac; shift; done'),
    GOLDEN_SKOPEO: tool("skopeo", 'while [ $# -gt 0 ]; do [ "$1" = --digestfile ] && echo "sha256:$(printf %064d 7)" > "$2"; shift; done'),
  };
}

describe("the rendered script and the local runner", () => {
  const plan: Plan = planImages([spec, { ...spec, name: "other", platforms: undefined }], policy, (s) => ({ ...target, repository: `127.0.0.1:5000/golden/${s.name}` }));

  function workspace(): { dir: string; env: NodeJS.ProcessEnv } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-test-"));
    fs.mkdirSync(path.join(dir, "images", "hello"), { recursive: true });
    return { dir, env: { ...process.env, ...fakeTools(dir), CALLS: path.join(dir, "calls.log") } };
  }

  it("renders a POSIX script that `sh -n` accepts and that names every tool through its variable", () => {
    const script = renderPlanScript(plan);
    expect(spawnSync("sh", ["-n"], { input: script }).status).toBe(0);
    expect(script).toContain(': "${GOLDEN_BUILDCTL:=buildctl}"');
    expect(script).toContain('docker://127.0.0.1:5000/golden/team/hello:"$(cat .golden/run/team-hello/render/tag)"');
    expect(script.match(/^\$GOLDEN_/gm)).toHaveLength(plan.steps.length);
    expect(renderPlanScript(plan)).toBe(script);
  });

  it("runs the same commands, with the same results substituted, as the local runner", async () => {
    const a = workspace();
    const b = workspace();
    const script = path.join(a.dir, "plan.sh");
    fs.writeFileSync(script, renderPlanScript(plan));
    const r = spawnSync("sh", [script], { cwd: a.dir, env: a.env, encoding: "utf8" });
    expect(r.stderr).toContain("== other:verify");
    expect(r.status).toBe(0);
    // A process a step, as the script runs them.
    const outcomes = await runPlan(plan, { cwd: b.dir, env: b.env, stepServer: false });
    expect(outcomes.map((o) => o.state)).toEqual(plan.steps.map(() => "done"));
    const calls = (d: string) => fs.readFileSync(path.join(d, "calls.log"), "utf8");
    expect(calls(b.dir)).toBe(calls(a.dir));
    // With the step server (the default): this fake golden cannot serve, so the runner falls back
    // to a process a step after one try, and the commands are the same.
    const c = workspace();
    const served = await runPlan(plan, { cwd: c.dir, env: c.env });
    expect(served.map((o) => o.state)).toEqual(plan.steps.map(() => "done"));
    const lines = calls(c.dir).split("\n");
    expect(lines.filter((l) => /step-server/.test(l))).toHaveLength(1);
    expect(lines.filter((l) => !/step-server/.test(l)).join("\n")).toBe(calls(a.dir));
    expect(calls(a.dir)).toContain("docker://127.0.0.1:5000/golden/team/hello:v0123456789abcdef");
    expect(calls(a.dir).split("\n").filter((l) => l !== "")).toHaveLength(plan.steps.length);
    const specFile = ".golden/run/team-hello/spec.json";
    expect(fs.readFileSync(path.join(a.dir, specFile), "utf8")).toBe(plan.steps[0].files[specFile]);
    expect(fs.readFileSync(path.join(b.dir, specFile), "utf8")).toBe(plan.steps[0].files[specFile]);
    expect(JSON.parse(fs.readFileSync(path.join(a.dir, specFile), "utf8")).spec.env.GREETING).toBe("it's $HOME \"q\" \\ `id` $(id)");
  });

  it("stops an image at its failed gate, names the tool's error, and still runs the other image (fail closed)", async () => {
    const w = workspace();
    const outcomes = await runPlan(plan, { cwd: w.dir, env: { ...w.env, FAIL_BUILD: "gcc: error: missing.c" } });
    const state = Object.fromEntries(outcomes.map((o) => [o.step.id, o.state]));
    expect(state).toEqual({
      "team/hello:pin": "done",
      "team/hello:render": "done",
      "team/hello:build": "failed",
      "team/hello:push": "skipped",
      "team/hello:verify": "skipped",
      "other:pin": "done",
      "other:render": "done",
      "other:build": "failed",
      "other:push": "skipped",
      "other:verify": "skipped",
    });
    const failed = outcomes.find((o) => o.step.id === "team/hello:build");
    expect(failed?.message).toBe("build failed (exit 1): ERROR: failed to solve: gcc: error: missing.c");
    expect(fs.readFileSync(path.join(w.dir, failed?.log as string), "utf8")).toContain("gcc: error: missing.c");
    expect(fs.readFileSync(path.join(w.dir, "calls.log"), "utf8")).not.toContain("skopeo");
  });

  it("fails a step that exits 0 without writing its result, and never reuses a stale result", async () => {
    const w = workspace();
    fs.mkdirSync(path.join(w.dir, ".golden/run/other"), { recursive: true });
    fs.writeFileSync(path.join(w.dir, ".golden/run/other/push.digest"), "sha256:stale");
    const env = { ...w.env, GOLDEN_SKOPEO: "true" };
    const outcomes = await runPlan(plan, { cwd: w.dir, env });
    const push = outcomes.find((o) => o.step.id === "other:push");
    expect(push?.state).toBe("failed");
    expect(push?.message).toBe("push failed (exit 0): exit 0 but no digest result was written");
    expect(outcomes.find((o) => o.step.id === "other:verify")?.state).toBe("skipped");
  });
});

describe("one local run per project", () => {
  it("refuses a second run while the first holds the project, takes over a lock whose process is gone", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "golden-lock-"));
    const release = lockProject(dir);
    expect(() => lockProject(dir)).toThrow(
      `another golden run (pid ${process.pid}) is using ${path.join(dir, ".golden")}. Fix: wait for it to finish, or build from another --project-dir`,
    );
    release();
    const again = lockProject(dir);
    again();
    // A lock left by a process that no longer exists (pid far above pid_max) is stale.
    fs.writeFileSync(path.join(dir, ".golden", "run.lock"), "99999999\n");
    const taken = lockProject(dir);
    expect(fs.readFileSync(path.join(dir, ".golden", "run.lock"), "utf8")).toBe(`${process.pid}\n`);
    taken();
    expect(fs.existsSync(path.join(dir, ".golden", "run.lock"))).toBe(false);
  });
});
