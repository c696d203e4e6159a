/**
 * What the integration tests need from the machine: the Docker engine, the local registry
 * with its login, and the offline bases. scripts/setup.sh provides them; when they are
 * missing a test fails with the fix, it never skips.
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { RegistryClient } from "../../../cli/registry-client";

export const ROOT = path.join(__dirname, "..", "..", "..");
export const DOCKER = process.env.GOLDEN_DOCKER ?? (fs.existsSync("/usr/bin/docker") ? "/usr/bin/docker" : "docker");

export interface BaseInfo {
  readonly repository: string;
  readonly tag: string;
  readonly digest: string;
  readonly ref: string;
}

export interface TestEnv {
  readonly registry: string;
  readonly username: string;
  readonly password: string;
  readonly passwordFile: string;
  readonly mirror: string;
  readonly bases: Readonly<Record<string, BaseInfo>>;
  readonly client: RegistryClient;
}

const FIX = "run `bash scripts/setup.sh` (installs and starts the Docker engine, the registry and the offline bases)";

/** Reads the services' environment (`scripts/services.sh env`) unless it is already exported. */
export function testEnv(): TestEnv {
  let vars: Record<string, string | undefined> = process.env;
  if (vars.GOLDEN_REGISTRY === undefined || vars.GOLDEN_REGISTRY_PASSWORD_FILE === undefined) {
    const out = spawnSync("bash", [path.join(ROOT, "scripts", "services.sh"), "env"], { encoding: "utf8" });
    if (out.status !== 0) {
      throw new Error(`the local registry is not set up (${out.stderr.trim()}). Fix: ${FIX}`);
    }
    vars = { ...vars };
    for (const m of out.stdout.matchAll(/^export ([A-Z_]+)=("?)(.*)\2$/gm)) {
      vars[m[1]] = m[3].replace(/^'(.*)'$/, "$1");
    }
    // The steps the tests run (buildctl) find the daemon through these.
    for (const key of ["BUILDKIT_HOST", "GOLDEN_BUILDCTL"]) {
      if (process.env[key] === undefined && vars[key] !== undefined) {
        process.env[key] = vars[key];
      }
    }
  }
  const registry = vars.GOLDEN_REGISTRY;
  const passwordFile = vars.GOLDEN_REGISTRY_PASSWORD_FILE;
  const basesFile = vars.GOLDEN_BASES_JSON;
  if (registry === undefined || passwordFile === undefined || !fs.existsSync(passwordFile)) {
    throw new Error(`no local registry credentials. Fix: ${FIX}`);
  }
  if (basesFile === undefined || !fs.existsSync(basesFile)) {
    throw new Error(`no offline bases (${basesFile ?? "GOLDEN_BASES_JSON not set"}). Fix: ${FIX}`);
  }
  const username = vars.GOLDEN_REGISTRY_USER ?? "golden";
  const password = fs.readFileSync(passwordFile, "utf8").trim();
  const bases = (JSON.parse(fs.readFileSync(basesFile, "utf8")) as { bases: Record<string, BaseInfo> }).bases;
  return {
    registry,
    username,
    password,
    passwordFile,
    mirror: vars.GOLDEN_MIRROR ?? `${registry}/mirror`,
    bases,
    client: new RegistryClient(registry, { username, password }),
  };
}

/** Fails (never skips) when the engine does not answer. */
export function assertEngine(): void {
  const r = spawnSync(DOCKER, ["version", "--format", "{{.Server.Version}}"], { encoding: "utf8" });
  if (r.status !== 0) {
    throw new Error(`the Docker engine is not running (${(r.stderr || r.error?.message || "").trim()}). Fix: ${FIX}`);
  }
}

export function docker(args: string[], opts: { allowFailure?: boolean } = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(DOCKER, args, { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  const result = { code: r.status ?? 1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
  if (result.code !== 0 && opts.allowFailure !== true) {
    throw new Error(`docker ${args.join(" ")} failed (${result.code}): ${result.stderr}`);
  }
  return result;
}

/** Every path in an image's filesystem, read from `docker export` of a created container. */
export function imageFiles(ref: string): string[] {
  const id = docker(["create", ref]).stdout.trim();
  try {
    const tar = execFileSync("sh", ["-c", `${DOCKER} export ${id} | tar -t`], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
    return tar
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => `/${l.replace(/^\.?\//, "").replace(/\/$/, "")}`);
  } finally {
    docker(["rm", "-f", id], { allowFailure: true });
  }
}

/**
 * The supply-chain tools and scanner databases (`scripts/supply-chain.sh`), exported into this
 * process unless already there. Fails (never skips) when they cannot be installed.
 */
export function supplyChainEnv(): Record<string, string> {
  const keys = ["GOLDEN_COSIGN", "GOLDEN_SYFT", "GOLDEN_GRYPE", "GOLDEN_TRIVY", "GRYPE_DB_CACHE_DIR", "TRIVY_CACHE_DIR"];
  if (keys.some((k) => process.env[k] === undefined)) {
    const out = spawnSync("bash", [path.join(ROOT, "scripts", "supply-chain.sh")], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    if (out.status !== 0) {
      throw new Error(`the supply-chain tools are not installed (${out.stderr.trim().split("\n").pop()}). Fix: run \`bash scripts/supply-chain.sh\``);
    }
    for (const m of out.stdout.matchAll(/([A-Z_][A-Z0-9_]*)=(\S+)/g)) {
      process.env[m[1]] = m[2].replace(/^'(.*)'$/, "$1");
    }
  }
  const missing = keys.filter((k) => process.env[k] === undefined || process.env[k] === "");
  if (missing.length > 0) {
    throw new Error(`supply-chain settings missing: ${missing.join(", ")}. Fix: run \`eval "$(bash scripts/supply-chain.sh)"\``);
  }
  return Object.fromEntries(keys.map((k) => [k, process.env[k] as string]));
}
