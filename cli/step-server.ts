/**
 * `golden step-server`: runs `golden step ...` requests one at a time in one long-lived process,
 * so a plan's golden steps (pin, render, decide, ...) do not each pay Node's start-up and module
 * loading (about 0.1 s a step, most of a no-op run). The local executor starts it; every request
 * carries its own working directory and environment, exactly what a spawned step would get, and
 * the answer is the exit code and the output a spawned step would have printed.
 *
 * Protocol: one JSON object a line on stdin, `{ "args": [...], "cwd": "...", "env": {...} }`;
 * one JSON line on stdout per request, `{ "code": 0, "output": "..." }`. EOF ends the server.
 */
import * as readline from "readline";

export interface StepRequest {
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface StepResponse {
  readonly code: number;
  readonly output: string;
}

/** Replaces the process environment by `env` (keys not in it are removed). */
function useEnv(env: Readonly<Record<string, string | undefined>>): void {
  for (const key of Object.keys(process.env)) {
    if (!(key in env)) {
      delete process.env[key];
    }
  }
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined) {
      process.env[key] = value;
    }
  }
}

/** Runs one request as `golden step ...` would, capturing what it writes. */
export async function serveStep(request: StepRequest, run: (argv: string[], io: { stdout: (t: string) => void; stderr: (t: string) => void }) => Promise<number>): Promise<StepResponse> {
  let output = "";
  const capture = (chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
    output += typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString();
    const cb = typeof encoding === "function" ? encoding : callback;
    if (typeof cb === "function") {
      (cb as () => void)();
    }
    return true;
  };
  const out = process.stdout.write;
  const err = process.stderr.write;
  const dir = process.cwd();
  const env = { ...process.env };
  process.stdout.write = capture as typeof process.stdout.write;
  process.stderr.write = capture as typeof process.stderr.write;
  try {
    process.chdir(request.cwd);
    useEnv(request.env);
    const code = await run(["step", ...request.args], { stdout: (t) => (output += t), stderr: (t) => (output += t) });
    return { code, output };
  } catch (e) {
    return { code: 1, output: `${output}golden: ${e instanceof Error ? e.message : String(e)}\n` };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
    process.chdir(dir);
    useEnv(env);
  }
}

export async function runStepServer(run: Parameters<typeof serveStep>[1]): Promise<number> {
  const reply = process.stdout.write.bind(process.stdout);
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === "") {
      continue;
    }
    let response: StepResponse;
    try {
      response = await serveStep(JSON.parse(line) as StepRequest, run);
    } catch (e) {
      response = { code: 2, output: `golden: step-server: bad request: ${e instanceof Error ? e.message : String(e)}\n` };
    }
    reply(`${JSON.stringify(response)}\n`);
  }
  return 0;
}
