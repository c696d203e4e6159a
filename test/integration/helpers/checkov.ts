/**
 * Checkov, the external judge of rendered Dockerfiles: where it is installed, how to run it
 * offline over a directory, and the accepted exceptions (checkov-exceptions.yaml).
 * Used by test/integration/judge.test.ts; installed by scripts/install-checkov.sh.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { z } from "zod";

/** Keep in step with CHECKOV_VERSION in scripts/install-checkov.sh. */
export const CHECKOV_VERSION = "3.3.30";
export const INSTALL_HINT = "checkov not installed: run bash scripts/install-checkov.sh";

/** Where scripts/install-checkov.sh puts the venv (the same default as scripts/lib.sh). */
export function checkovVenvBinary(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.XDG_CACHE_HOME || path.join(env.HOME || os.homedir(), ".cache");
  const state = env.GOLDEN_STATE_DIR || path.join(cache, "pulumi-golden-image");
  return path.join(state, "checkov-venv", "bin", "checkov");
}

/** GOLDEN_CHECKOV if set, else the venv binary. Throws, naming the fix, when it is not there. */
export function locateCheckov(env: NodeJS.ProcessEnv = process.env): string {
  const candidate = env.GOLDEN_CHECKOV || checkovVenvBinary(env);
  try {
    fs.accessSync(candidate, fs.constants.X_OK);
  } catch {
    const from = env.GOLDEN_CHECKOV ? `GOLDEN_CHECKOV=${env.GOLDEN_CHECKOV}` : candidate;
    throw new Error(`${INSTALL_HINT} (no executable checkov at ${from}${env.CI ? "; CI must install it before the integration tests" : ""})`);
  }
  return candidate;
}

/**
 * What keeps Checkov off the network. Without them it fetches policy guidelines/mappings from
 * the Prisma Cloud API on every run and checks the package index for a newer version:
 * - --skip-download: no guidelines, custom policies or suppressions from the platform;
 * - BC_SKIP_MAPPING=TRUE: the same switch as an environment variable (also covers code paths
 *   that read only the variable);
 * - CKV_SKIP_PACKAGE_UPDATE_CHECK=true: no "update available" query at import time.
 * No API key is ever passed, so nothing is uploaded either (BC_API_KEY is removed below).
 */
export const CHECKOV_OFFLINE_ARGS = ["--skip-download"] as const;
export const CHECKOV_OFFLINE_ENV: Readonly<Record<string, string>> = {
  BC_SKIP_MAPPING: "TRUE",
  CKV_SKIP_PACKAGE_UPDATE_CHECK: "true",
};

/** One check result as Checkov's JSON report has it (the fields the judge uses). */
export interface CheckResult {
  readonly check_id: string;
  readonly check_name: string;
  readonly file_path: string;
  readonly file_line_range: readonly [number, number];
  readonly resource: string;
}

export interface CheckovReport {
  readonly passed: readonly CheckResult[];
  readonly failed: readonly CheckResult[];
  readonly skipped: readonly CheckResult[];
  readonly parsingErrors: readonly string[];
  readonly summary: { readonly passed: number; readonly failed: number; readonly parsing_errors: number; readonly checkov_version: string };
  readonly seconds: number;
}

/**
 * Runs Checkov once over `dir` (dockerfile framework only, offline, JSON). Hermetic: cwd and
 * HOME are a scratch directory, so no .checkov.yaml of the machine or the repo changes the run.
 * Not --quiet: in JSON, --quiet drops the passed checks and parsing errors the judge asserts on.
 */
export function runCheckov(binary: string, dir: string): CheckovReport {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "checkov-home-"));
  const env: NodeJS.ProcessEnv = { ...process.env, ...CHECKOV_OFFLINE_ENV, HOME: scratch, LOG_LEVEL: "WARNING" };
  delete env.BC_API_KEY;
  delete env.CKV_SKIP_CHECK;
  delete env.CKV_FRAMEWORK;
  const args = ["--directory", dir, "--framework", "dockerfile", "--output", "json", ...CHECKOV_OFFLINE_ARGS];
  const start = process.hrtime.bigint();
  try {
    const run = spawnSync(binary, args, { cwd: scratch, env, encoding: "utf8", maxBuffer: 512 * 1024 * 1024, timeout: 300_000 });
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const command = `${binary} ${args.join(" ")}`;
    if (run.error) {
      throw new Error(`could not run ${command}: ${run.error.message}. ${INSTALL_HINT}`);
    }
    // 0: no failed check, 1: some failed check; anything else is a crash.
    if (run.status !== 0 && run.status !== 1) {
      throw new Error(`${command} exited ${run.status ?? run.signal}:\n${run.stderr}\n${run.stdout.slice(0, 2000)}`);
    }
    return parseReport(run.stdout, command, seconds);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

function parseReport(stdout: string, command: string, seconds: number): CheckovReport {
  let doc: any;
  try {
    doc = JSON.parse(stdout);
  } catch {
    throw new Error(`${command} printed no JSON report:\n${stdout.slice(0, 2000)}`);
  }
  const reports = (Array.isArray(doc) ? doc : [doc]).filter((r: any) => r?.check_type === "dockerfile");
  if (reports.length !== 1 || reports[0].results === undefined) {
    throw new Error(`${command} produced no dockerfile report (no Dockerfile found?):\n${stdout.slice(0, 2000)}`);
  }
  const [report] = reports;
  return {
    passed: report.results.passed_checks ?? [],
    failed: report.results.failed_checks ?? [],
    skipped: report.results.skipped_checks ?? [],
    parsingErrors: report.results.parsing_errors ?? [],
    summary: report.summary,
    seconds,
  };
}

/** An accepted failed check: which check, why, and optionally which images/flavors only. */
export interface CheckovException {
  readonly check: string;
  readonly reason: string;
  readonly images?: readonly string[];
  readonly flavors?: readonly string[];
}

const exceptionSchema = z.strictObject({
  check: z.string().regex(/^CKV2?_DOCKER_\d+$/, "a Checkov dockerfile check id such as CKV_DOCKER_2"),
  reason: z.string().trim().min(20, "a reason a reviewer can judge (at least 20 characters)"),
  images: z.array(z.string().min(1)).min(1).optional(),
  flavors: z.array(z.string().min(1)).min(1).optional(),
});
const exceptionsFileSchema = z.strictObject({ exceptions: z.array(exceptionSchema) });

export function loadExceptions(file: string): CheckovException[] {
  const parsed = exceptionsFileSchema.safeParse(YAML.parse(fs.readFileSync(file, "utf8")));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  - ${i.path.join(".") || "(top)"}: ${i.message}`);
    throw new Error(`${file} is not a valid exceptions file:\n${problems.join("\n")}`);
  }
  return parsed.data.exceptions;
}

/** What was judged: one rendered Dockerfile and where its spec came from. */
export interface JudgedFile {
  /** e.g. "stack prod", "fixture", "golden file". */
  readonly source: string;
  readonly image: string;
  readonly flavor: string;
  /** File name in the judged directory. */
  readonly file: string;
}

export function exceptionCovers(e: CheckovException, check: string, target: JudgedFile): boolean {
  return (
    e.check === check &&
    (e.images === undefined || e.images.includes(target.image)) &&
    (e.flavors === undefined || e.flavors.includes(target.flavor))
  );
}
