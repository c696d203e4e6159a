/**
 * Runs a plan on this machine, step by step, in plan order: writes each step's files, runs its
 * command with the tool the tool map names, and hands results to later steps through their
 * output files. A failed step stops every step that needs it (fail closed); steps of other
 * images go on. The runner decides where a step runs, never what it does.
 */
import { ChildProcess, spawn } from "child_process";
import * as readline from "readline";
import * as fs from "fs";
import * as path from "path";
import { assertPlan, substituteResults } from "../components/plan/check";
import { TOOLS } from "../components/plan/tools";
import { Plan, Step, ToolName } from "../components/plan/types";

export interface StepEvent {
  readonly step: Step;
  readonly state: "start" | "done" | "failed" | "skipped" | "unchanged";
  readonly seconds?: number;
  readonly detail?: string;
}

export interface StepOutcome {
  readonly step: Step;
  /** `unchanged`: not run because its condition (runIf) said so; not a failure. */
  readonly state: "done" | "failed" | "skipped" | "unchanged";
  readonly seconds: number;
  readonly exitCode?: number;
  /** One line: what failed and why (the tool's own last words), for failed and skipped steps. */
  readonly message?: string;
  /** Where the step's full output was written, relative to the working directory. */
  readonly log?: string;
}

export interface RunPlanOptions {
  /** The working directory every path of the plan is relative to. */
  readonly cwd: string;
  /** Environment of every step (logins through DOCKER_CONFIG, BUILDKIT_HOST, ...). @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Command words per tool. @default from the tool map's variables, else the tool's name on PATH */
  readonly tools?: Partial<Record<ToolName, readonly string[]>>;
  /** Run the plan's golden steps in one `golden step-server` process instead of a process each
   *  (same arguments, working directory and environment; falls back to a process a step if the
   *  server cannot start). @default true */
  readonly stepServer?: boolean;
  /** Directory for step logs, relative to cwd. @default ".golden/logs" */
  readonly logDir?: string;
  readonly onEvent?: (event: StepEvent) => void;
}

/** The command words for a tool: the tool map's variable (split on blanks) or its default command. */
export function toolCommand(tool: ToolName, env: NodeJS.ProcessEnv, overrides?: RunPlanOptions["tools"]): readonly string[] {
  const given = overrides?.[tool];
  if (given !== undefined) {
    return given;
  }
  const fromEnv = env[TOOLS[tool].env]?.trim();
  return fromEnv !== undefined && fromEnv !== "" ? fromEnv.split(/\s+/) : [TOOLS[tool].command];
}

export async function runPlan(plan: Plan, options: RunPlanOptions): Promise<StepOutcome[]> {
  assertPlan(plan);
  const env = options.env ?? process.env;
  const logDir = options.logDir ?? ".golden/logs";
  const emit = options.onEvent ?? (() => undefined);
  const outcomes = new Map<string, StepOutcome>();
  const byId = new Map(plan.steps.map((s) => [s.id, s]));
  const abs = (p: string) => path.join(options.cwd, p);
  let server: StepServer | undefined;
  try {
    return await runSteps();
  } finally {
    server?.close();
  }

  async function runGoldenStep(command: string, pre: readonly string[], args: readonly string[], stepEnv: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
    if (options.stepServer !== false) {
      server ??= new StepServer(command, pre, env);
      const r = await server.call(args, options.cwd, stepEnv).catch(() => undefined);
      if (r !== undefined) {
        return r;
      }
    }
    return run(command, [...pre, "step", ...args], { cwd: options.cwd, env: stepEnv });
  }

  async function runSteps(): Promise<StepOutcome[]> {
    for (const step of plan.steps) {
      if (step.runIf !== undefined && outcomes.get(step.runIf.step)?.state === "done") {
        const [first, ...reason] = fs.readFileSync(abs((byId.get(step.runIf.step) as Step).outputs[step.runIf.output]), "utf8").split("\n");
        if (first.trim() !== step.runIf.equals) {
          const outcome: StepOutcome = { step, state: "unchanged", seconds: 0, message: `not run: ${step.runIf.step} says ${first.trim()}${reason.join(" ").trim() !== "" ? ` (${reason.join(" ").trim()})` : ""}` };
          outcomes.set(step.id, outcome);
          emit({ step, state: "unchanged", detail: outcome.message });
          continue;
        }
      }
      const blocked = step.needs.find((n) => outcomes.get(n)?.state !== "done");
      if (blocked !== undefined) {
        const outcome: StepOutcome = { step, state: "skipped", seconds: 0, message: `not run: ${blocked} did not succeed` };
        outcomes.set(step.id, outcome);
        emit({ step, state: "skipped", detail: outcome.message });
        continue;
      }
      emit({ step, state: "start", detail: step.description });
      const started = Date.now();
      for (const [file, content] of Object.entries(step.files)) {
        fs.mkdirSync(path.dirname(abs(file)), { recursive: true });
        fs.writeFileSync(abs(file), content);
      }
      for (const file of Object.values(step.outputs)) {
        fs.mkdirSync(path.dirname(abs(file)), { recursive: true });
        // A stale result of an earlier run must never stand for this run's.
        fs.rmSync(abs(file), { force: true, recursive: true });
      }
      const args = step.run.args.map((a) =>
        substituteResults(a, (id, output) => fs.readFileSync(abs((byId.get(id) as Step).outputs[output]), "utf8").replace(/\n+$/, "")),
      );
      const [command, ...pre] = toolCommand(step.run.tool, env, options.tools);
      const stepEnv = { ...env, ...(step.run.env ?? {}) };
      const r =
        step.run.tool === "golden" && args[0] === "step"
          ? await runGoldenStep(command, pre, args.slice(1), stepEnv)
          : await run(command, [...pre, ...args], { cwd: options.cwd, env: stepEnv });
      const log = `${logDir}/${step.id.replace(/[/:]/g, "_")}.log`;
      fs.mkdirSync(path.dirname(abs(log)), { recursive: true });
      const envWords = Object.entries(step.run.env ?? {}).map(([k, v]) => `${k}=${v}`);
      fs.writeFileSync(abs(log), `$ ${[...envWords, step.run.tool, ...args].join(" ")}\n${r.output}`);
      const seconds = (Date.now() - started) / 1000;
      const missing = Object.entries(step.outputs).filter(([, file]) => !fs.existsSync(abs(file)));
      if (r.code !== 0 || missing.length > 0) {
        const why = r.code !== 0 ? lastFailure(r.output) : `exit 0 but no ${missing.map(([n]) => n).join(", ")} result was written`;
        const outcome: StepOutcome = { step, state: "failed", seconds, exitCode: r.code, message: `${step.kind} failed (exit ${r.code}): ${why}`, log };
        outcomes.set(step.id, outcome);
        emit({ step, state: "failed", seconds, detail: outcome.message });
        continue;
      }
      outcomes.set(step.id, { step, state: "done", seconds, exitCode: 0, log });
      emit({ step, state: "done", seconds });
    }
    return plan.steps.map((s) => outcomes.get(s.id) as StepOutcome);
  }
}

/**
 * A `golden step-server` child: requests go one a line on its stdin, answers come back one a line
 * on its stdout, in order. A server that died rejects every call (the runner then spawns the step).
 */
class StepServer {
  private readonly child: ChildProcess;
  private readonly pending: { resolve: (r: { code: number; output: string }) => void; reject: (e: Error) => void }[] = [];
  private dead = false;

  constructor(command: string, pre: readonly string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(command, [...pre, "step-server"], { env, stdio: ["pipe", "pipe", "pipe"] });
    const fail = (why: string) => {
      this.dead = true;
      for (const p of this.pending.splice(0)) {
        p.reject(new Error(why));
      }
    };
    this.child.on("error", (e) => fail(e.message));
    this.child.on("exit", () => fail("the step server exited"));
    this.child.stdin?.on("error", () => fail("the step server closed its input"));
    this.child.stderr?.resume();
    readline.createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      const p = this.pending.shift();
      try {
        p?.resolve(JSON.parse(line) as { code: number; output: string });
      } catch (e) {
        p?.reject(e as Error);
      }
    });
  }

  call(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
    if (this.dead) {
      return Promise.reject(new Error("the step server is not running"));
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.child.stdin?.write(`${JSON.stringify({ args, cwd, env })}\n`);
    });
  }

  close(): void {
    this.child.stdin?.end();
  }
}

/** The line of a tool's output that says what failed: `golden step` ends with it; BuildKit prints `ERROR` / `failed to solve`. */
export function lastFailure(output: string): string {
  const lines = output.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  const golden = lines.filter((l) => l.startsWith("golden: "));
  if (golden.length > 0) {
    return golden[golden.length - 1].slice("golden: ".length);
  }
  const failing = lines.filter((l) => /error|failed|fatal/i.test(l));
  return (failing.length > 0 ? failing.slice(-2).join(" | ") : lines.slice(-1)[0] ?? "no output").slice(0, 600);
}

export function run(cmd: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"], timeout: opts.timeoutMs });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("error", (e) => resolve({ code: 127, output: `${output}${e.message}` }));
    child.on("close", (code, signal) => resolve({ code: code ?? (signal !== null ? 128 : 1), output: signal !== null && code === null ? `${output}\nkilled by ${signal}` : output }));
  });
}
