/**
 * The image linter, the external judge of built images (CIS Docker Benchmark, section 4), in two
 * halves that both run on Trivy (v0.74.0, installed by scripts/supply-chain.sh), offline, on every
 * platform of an image (an OCI index is judged per platform manifest, no emulation needed):
 *
 * - Trivy's own image configuration checks (`trivy image --image-config-scanners misconfig`):
 *   the checks embedded in the binary, read from the registry like a cluster would pull it
 *   (DS-0002 root user, DS-0026 no HEALTHCHECK, ...). Trivy rebuilds a Dockerfile from the
 *   config and its history and judges that.
 * - What Trivy does not look at in the file system, as Rego checks of this project
 *   (policy/image-lint, GIL-nnnn) that Trivy's `config` scanner runs over one JSON document per
 *   image: the config Trivy read, the `docker export` listing with modes (setuid/setgid, CIS 4.8;
 *   shells and package managers, 4.3) and /etc/passwd and /etc/group (the runtime user, 4.1).
 *
 * Accepted findings live in image-lint-exceptions.yaml. Used by test/integration/image-lint.test.ts.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { z } from "zod";
import { DOCKER } from "./env";

/** Keep in step with the trivy pin in scripts/install-release-tool.sh. */
export const TRIVY_VERSION = "0.74.0";
export const CHECKS_DIR = path.join(__dirname, "..", "..", "..", "policy", "image-lint");

/** One check's verdict on one platform of one image. */
export interface LintResult {
  readonly image: string;
  /** os/arch[/variant], e.g. linux/arm64. */
  readonly platform: string;
  /** Check id: DS-nnnn (Trivy's own) or GIL-nnnn (policy/image-lint). */
  readonly check: string;
  readonly title: string;
  readonly status: "PASS" | "FAIL";
  readonly message: string;
  readonly severity: string;
}

/** One entry of an image's file system as `docker export` writes it. */
export interface FileEntry {
  readonly path: string;
  readonly type: "file" | "hardlink" | "symlink" | "char" | "block" | "dir" | "fifo";
  /** Permission bits with setuid (04000), setgid (02000) and sticky (01000). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly link?: string;
}

/** What the GIL checks read: see policy/image-lint/lib.rego. */
export interface LintDocument {
  readonly image: string;
  readonly platform: string;
  /** The platform's own manifest, repo@sha256:... */
  readonly reference: string;
  readonly config: unknown;
  readonly files: readonly FileEntry[];
  /** Text of /etc/passwd and /etc/group; a key is absent when the image has no such file. */
  readonly etc: { passwd?: string; group?: string };
}

export interface Registry {
  readonly username: string;
  readonly password: string;
}

/** One platform of one built image: the unit the linter judges. */
export interface PlatformImage {
  readonly image: string;
  readonly platform: string;
  /**
   * `repo@sha256:<the platform's own manifest>`, never the index: the engine keeps one platform
   * per reference, so `docker create` of an index reference may reuse another platform's image.
   */
  readonly ref: string;
  /** Digest of the platform's config: the image id both Trivy and the engine report. */
  readonly configDigest: string;
}

/** `image (platform)`: how results are named in the output. */
export const targetName = (t: { image: string; platform: string }) => `${t.image} (${t.platform})`;

const INDEX_TYPES = ["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"];
const MANIFEST_ACCEPT = [...INDEX_TYPES, "application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json"].join(", ");

interface OciPlatform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}
const platformOf = (p: OciPlatform) => [p.os, p.architecture, ...(p.variant !== undefined && p.variant !== "" ? [p.variant] : [])].join("/");

/**
 * Every platform of `ref` (`host/repo[:tag]@sha256:...`), read from the registry: each manifest
 * of an index (attestation entries, platform unknown/unknown, are not images), or the image
 * itself with the platform its config names.
 */
export async function platformImages(image: string, ref: string, registry: Registry): Promise<PlatformImage[]> {
  const at = ref.indexOf("@");
  const slash = ref.indexOf("/");
  if (at === -1 || slash === -1 || slash > at) throw new Error(`${image}: ${ref} is not a reference by digest (host/repository@sha256:...)`);
  const host = ref.slice(0, slash);
  const named = ref.slice(slash + 1, at);
  // A tag before the digest is not part of the repository.
  const repository = named.lastIndexOf(":") > named.lastIndexOf("/") ? named.slice(0, named.lastIndexOf(":")) : named;
  const get = async (what: string): Promise<unknown> => {
    const url = `http://${host}/v2/${repository}/${what}`;
    const res = await fetch(url, {
      headers: { Authorization: `Basic ${Buffer.from(`${registry.username}:${registry.password}`).toString("base64")}`, Accept: MANIFEST_ACCEPT },
      signal: AbortSignal.timeout(30_000),
    });
    if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status} (reading ${image} from the registry)`);
    return res.json();
  };
  const one = async (digest: string, expected?: OciPlatform): Promise<PlatformImage> => {
    const manifest = (await get(`manifests/${digest}`)) as { config?: { digest: string } };
    if (manifest.config === undefined) throw new Error(`${image}: manifest ${digest} has no config`);
    const config = (await get(`blobs/${manifest.config.digest}`)) as OciPlatform;
    const platform = platformOf(config);
    // The index entry and the config must agree, or the wrong image would be judged as this platform.
    if (expected !== undefined && platformOf(expected) !== platform) {
      throw new Error(`${image}: the index lists ${digest} as ${platformOf(expected)} but its config says ${platform}`);
    }
    return { image, platform, ref: `${host}/${repository}@${digest}`, configDigest: manifest.config.digest };
  };
  const top = (await get(`manifests/${ref.slice(at + 1)}`)) as { manifests?: { digest: string; platform?: OciPlatform }[] };
  if (top.manifests === undefined) return [await one(ref.slice(at + 1))];
  // An entry without platform is judged by what its config says.
  const images = top.manifests.filter((m) => !(m.platform?.os === "unknown" && m.platform.architecture === "unknown"));
  const out: PlatformImage[] = [];
  for (const m of images) out.push(await one(m.digest, m.platform));
  return out.sort((a, b) => (a.platform < b.platform ? -1 : a.platform > b.platform ? 1 : 0));
}

/**
 * The environment of every Trivy run: no TRIVY_* of the caller (a database or checks bundle
 * setting would change what is judged), HOME and the cache in a scratch directory, so the checks
 * are always the ones embedded in the binary and nothing is read from or written to the machine.
 */
function trivyEnv(scratch: string, registry?: Registry): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("TRIVY_")));
  env.HOME = scratch;
  env.DOCKER_CONFIG = path.join(scratch, "docker");
  if (registry !== undefined) {
    // The login goes through the environment, never through the arguments (visible in ps).
    env.TRIVY_USERNAME = registry.username;
    env.TRIVY_PASSWORD = registry.password;
  }
  return env;
}

/**
 * Offline: no database (no vulnerability scanner), no checks bundle download (the embedded checks
 * are used; Trivy logs that it falls back to them), no version check, no telemetry.
 */
const OFFLINE_ARGS = ["--skip-check-update", "--skip-version-check", "--disable-telemetry", "--cache-backend", "memory"] as const;

function runTrivy(binary: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): string {
  const run = spawnSync(binary, args, { cwd, env, encoding: "utf8", maxBuffer: 512 * 1024 * 1024, timeout: 600_000 });
  const command = `${binary} ${args.join(" ")}`;
  if (run.error) {
    throw new Error(`could not run ${command}: ${run.error.message}. Fix: eval "$(bash scripts/supply-chain.sh)" (installs Trivy ${TRIVY_VERSION})`);
  }
  if (run.status !== 0) {
    throw new Error(`${command} exited ${run.status ?? run.signal}:\n${run.stderr.slice(-4000)}`);
  }
  return run.stdout;
}

export function trivyVersion(binary: string): string {
  const out = spawnSync(binary, ["--version", "--format", "json"], { encoding: "utf8" });
  if (out.status !== 0) {
    throw new Error(`${binary} --version failed: ${out.stderr}. Fix: eval "$(bash scripts/supply-chain.sh)"`);
  }
  return (JSON.parse(out.stdout) as { Version: string }).Version;
}

interface TrivyMisconfig {
  ID: string;
  Title: string;
  Message: string;
  Severity: string;
  Status: string;
}
interface TrivyReport {
  Metadata?: { ImageConfig?: unknown; ImageID?: string };
  Results?: { Target: string; Class: string; Type: string; Misconfigurations?: TrivyMisconfig[] }[];
}

function toResults(target: { image: string; platform: string }, misconfigs: readonly TrivyMisconfig[]): LintResult[] {
  return misconfigs.map((m) => {
    if (m.Status !== "PASS" && m.Status !== "FAIL") {
      throw new Error(`Trivy reported ${m.ID} on ${targetName(target)} with status ${m.Status} (expected PASS or FAIL)`);
    }
    return { image: target.image, platform: target.platform, check: m.ID, title: m.Title, status: m.Status, message: m.Message, severity: m.Severity };
  });
}

/**
 * Trivy's image configuration checks on one platform's manifest, read from the registry (config
 * and history only: no emulation). Returns every check's verdict (passes too, so a run that
 * checked nothing cannot pass), the config Trivy read and the image id it judged.
 */
export function trivyImageConfig(binary: string, target: PlatformImage, registry: Registry): { results: LintResult[]; config: unknown; imageId: string } {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "image-lint-"));
  try {
    const args = [
      "image",
      "--quiet",
      // No scanner of the files (v0.74 refuses "none"; an empty list is accepted): the config only.
      "--scanners", "",
      "--image-config-scanners", "misconfig",
      "--image-src", "remote",
      "--platform", target.platform,
      // Plain HTTP: the local registry listens on 127.0.0.1 without TLS.
      "--insecure",
      "--include-non-failures",
      "--cache-dir", path.join(scratch, "cache"),
      ...OFFLINE_ARGS,
      "--format", "json",
      target.ref,
    ];
    const report = JSON.parse(runTrivy(binary, args, trivyEnv(scratch, registry), scratch)) as TrivyReport;
    const config = report.Metadata?.ImageConfig;
    if (config === undefined) {
      throw new Error(`trivy image ${target.ref} reported no image config`);
    }
    const misconfigs = (report.Results ?? []).filter((r) => r.Class === "config").flatMap((r) => r.Misconfigurations ?? []);
    return { results: toResults(target, misconfigs), config, imageId: report.Metadata?.ImageID ?? "" };
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** The GIL checks (policy/image-lint) over every document, in one Trivy run. */
export function trivyFileChecks(binary: string, documents: readonly LintDocument[]): LintResult[] {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "image-lint-"));
  try {
    const dir = path.join(scratch, "docs");
    fs.mkdirSync(dir);
    const byFile = new Map<string, { image: string; platform: string }>();
    for (const doc of documents) {
      const file = `${`${doc.image}_${doc.platform}`.replace(/[^A-Za-z0-9._-]+/g, "_")}.json`;
      if (byFile.has(file)) throw new Error(`two documents map to ${file}`);
      byFile.set(file, { image: doc.image, platform: doc.platform });
      fs.writeFileSync(path.join(dir, file), JSON.stringify(doc));
    }
    const args = [
      "config",
      "--quiet",
      "--misconfig-scanners", "json",
      "--config-check", CHECKS_DIR,
      "--check-namespaces", "user",
      "--include-non-failures",
      "--cache-dir", path.join(scratch, "cache"),
      ...OFFLINE_ARGS,
      "--format", "json",
      dir,
    ];
    const report = JSON.parse(runTrivy(binary, args, trivyEnv(scratch), scratch)) as TrivyReport;
    return (report.Results ?? []).flatMap((r) => {
      const target = byFile.get(path.basename(r.Target));
      if (target === undefined) throw new Error(`trivy config reported on ${r.Target}, which is not a judged document`);
      // Trivy's embedded checks for JSON (none today) would be judged too; only ours are expected.
      return toResults(target, r.Misconfigurations ?? []);
    });
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** The document the GIL checks read for one platform of an image: its config and its `docker export`. */
export function lintDocument(target: PlatformImage, config: unknown, exported: Buffer): LintDocument {
  const etc: { passwd?: string; group?: string } = {};
  const files: FileEntry[] = [];
  for (const entry of readTar(exported)) {
    files.push(entry.header);
    if (entry.header.type === "file" && (entry.header.path === "/etc/passwd" || entry.header.path === "/etc/group")) {
      etc[entry.header.path === "/etc/passwd" ? "passwd" : "group"] = entry.content.toString("utf8");
    }
  }
  return { image: target.image, platform: target.platform, reference: target.ref, config, files, etc };
}

function dockerRun(args: string[]): string {
  const run = spawnSync(DOCKER, args, { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`docker ${args.join(" ")} failed: ${run.stderr || run.error?.message}`);
  return run.stdout.trim();
}

/**
 * `docker export` of a container created (never started, so no emulation) from the platform's own
 * manifest, pulled for that platform; and the id of the image the engine created it from.
 */
export function dockerExport(target: PlatformImage): { tar: Buffer; imageId: string } {
  dockerRun(["pull", "--quiet", "--platform", target.platform, target.ref]);
  const imageId = dockerRun(["image", "inspect", "--format", "{{.Id}}", target.ref]);
  const id = dockerRun(["create", "--platform", target.platform, target.ref]);
  try {
    const out = spawnSync(DOCKER, ["export", id], { maxBuffer: 4 * 1024 * 1024 * 1024 });
    if (out.status !== 0) throw new Error(`docker export of ${target.ref} failed: ${out.stderr.toString()}`);
    return { tar: out.stdout, imageId };
  } finally {
    spawnSync(DOCKER, ["rm", "-f", id]);
  }
}

const TYPES: Record<string, FileEntry["type"]> = { "0": "file", "\0": "file", "7": "file", "1": "hardlink", "2": "symlink", "3": "char", "4": "block", "5": "dir", "6": "fifo" };

/**
 * The entries of a tar stream (POSIX ustar with PAX and GNU long-name records, as Go's
 * archive/tar under `docker export` writes it), with the content of regular files.
 */
export function* readTar(buf: Buffer): Generator<{ header: FileEntry; content: Buffer }> {
  let offset = 0;
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  const str = (start: number, len: number) => {
    const field = buf.subarray(offset + start, offset + start + len);
    const nul = field.indexOf(0);
    return field.subarray(0, nul === -1 ? len : nul).toString("utf8");
  };
  const num = (start: number, len: number) => {
    const field = buf.subarray(offset + start, offset + start + len);
    if ((field[0] & 0x80) !== 0) {
      // base-256 (GNU) for values that do not fit the octal field
      let v = field[0] & 0x7f;
      for (let i = 1; i < len; i++) v = v * 256 + field[i];
      return v;
    }
    const text = str(start, len).trim();
    return text === "" ? 0 : parseInt(text, 8);
  };
  while (offset + 512 <= buf.length) {
    if (buf.subarray(offset, offset + 512).every((b) => b === 0)) return;
    const typeflag = String.fromCharCode(buf[offset + 156]);
    const size = pax.size !== undefined ? Number(pax.size) : num(124, 12);
    const dataStart = offset + 512;
    const content = buf.subarray(dataStart, dataStart + size);
    const header = { name: str(0, 100), mode: num(100, 8), uid: num(108, 8), gid: num(116, 8), link: str(157, 100), prefix: str(257, 6).startsWith("ustar") ? str(345, 155) : "" };
    offset = dataStart + Math.ceil(size / 512) * 512;
    if (typeflag === "x") {
      pax = parsePax(content);
      continue;
    }
    if (typeflag === "g") continue;
    if (typeflag === "L") {
      longName = content.toString("utf8").replace(/\0.*$/s, "");
      continue;
    }
    if (typeflag === "K") {
      longLink = content.toString("utf8").replace(/\0.*$/s, "");
      continue;
    }
    const type = TYPES[typeflag];
    if (type === undefined) throw new Error(`tar entry ${header.name} has an unknown type ${JSON.stringify(typeflag)}`);
    const name = pax.path ?? longName ?? (header.prefix !== "" ? `${header.prefix}/${header.name}` : header.name);
    const link = pax.linkpath ?? longLink ?? header.link;
    const entry: FileEntry = {
      path: `/${name.replace(/^\.?\/+/, "").replace(/\/$/, "")}`,
      type,
      mode: header.mode & 0o7777,
      uid: pax.uid !== undefined ? Number(pax.uid) : header.uid,
      gid: pax.gid !== undefined ? Number(pax.gid) : header.gid,
      ...(type === "symlink" || type === "hardlink" ? { link } : {}),
    };
    pax = {};
    longName = undefined;
    longLink = undefined;
    yield { header: entry, content: type === "file" ? content : Buffer.alloc(0) };
  }
}

function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < data.length) {
    const space = data.indexOf(0x20, i);
    if (space === -1) break;
    const len = parseInt(data.subarray(i, space).toString("ascii"), 10);
    if (!Number.isInteger(len) || len <= 0) break;
    const record = data.subarray(space + 1, i + len - 1).toString("utf8");
    const eq = record.indexOf("=");
    out[record.slice(0, eq)] = record.slice(eq + 1);
    i += len;
  }
  return out;
}

/**
 * An accepted finding: which image, which check, why; on every platform of the image unless
 * `platform` names one (a finding of one architecture's base, say).
 */
export interface LintException {
  readonly image: string;
  readonly check: string;
  readonly platform?: string;
  readonly reason: string;
}

const exceptionSchema = z.strictObject({
  image: z.string().min(1, "an image name of a stack (spec `name`)"),
  check: z.string().regex(/^(DS|GIL)-\d{4}$/, "a check id such as DS-0002 (Trivy) or GIL-0004 (policy/image-lint)"),
  platform: z
    .string()
    .regex(/^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/, "a platform such as linux/arm64 (os/arch[/variant]); leave it out to accept the finding on every platform")
    .optional(),
  reason: z.string().trim().min(20, "a reason a reviewer can judge (at least 20 characters)"),
});
const exceptionsFileSchema = z.strictObject({ exceptions: z.array(exceptionSchema).nullable() });

const ALL = "every platform";

export function loadLintExceptions(file: string): LintException[] {
  const parsed = exceptionsFileSchema.safeParse(YAML.parse(fs.readFileSync(file, "utf8")));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  - ${i.path.join(".") || "(top)"}: ${i.message}`);
    throw new Error(`${file} is not a valid exceptions file:\n${problems.join("\n")}`);
  }
  const list = parsed.data.exceptions ?? [];
  const seen = new Map<string, string[]>();
  for (const e of list) {
    const key = `${e.image} ${e.check}`;
    const where = e.platform ?? ALL;
    const before = seen.get(key) ?? [];
    if (before.includes(where)) throw new Error(`${file} lists ${e.check} for ${e.image} on ${where} twice. Fix: keep one entry`);
    // One entry for every platform and one for a single platform would overlap.
    if (before.length > 0 && (where === ALL || before.includes(ALL))) {
      throw new Error(`${file} lists ${e.check} for ${e.image} on ${ALL} and on ${[...before, where].filter((w) => w !== ALL).join(", ")}. Fix: keep the entry without platform, or one entry per platform`);
    }
    seen.set(key, [...before, where]);
  }
  return list;
}

const covers = (e: LintException, r: LintResult) => e.image === r.image && e.check === r.check && (e.platform === undefined || e.platform === r.platform);

/** Failed verdicts no exception accepts. */
export function unexpectedFindings(results: readonly LintResult[], exceptions: readonly LintException[]): LintResult[] {
  return results.filter((r) => r.status === "FAIL" && !exceptions.some((e) => covers(e, r)));
}

/** An exception that is not needed, or not needed on some of the platforms it covers. */
export interface StaleException {
  readonly exception: LintException;
  /** Platforms it covers where the check does not fail; [] when nothing it names was judged. */
  readonly passing: readonly string[];
  readonly message: string;
}

/**
 * Exceptions that match no failed verdict on some platform they cover. An entry without
 * `platform` must match a failure on every judged platform of its image, so it never accepts
 * in advance a finding on a platform where the image is clean today.
 */
export function staleExceptions(results: readonly LintResult[], exceptions: readonly LintException[]): StaleException[] {
  const out: StaleException[] = [];
  for (const e of exceptions) {
    const judged = [...new Set(results.filter((r) => r.image === e.image).map((r) => r.platform))].sort();
    const covered = e.platform === undefined ? judged : judged.filter((p) => p === e.platform);
    const failing = covered.filter((p) => results.some((r) => r.status === "FAIL" && r.platform === p && covers(e, r)));
    const passing = covered.filter((p) => !failing.includes(p));
    const name = `${e.image}${e.platform !== undefined ? ` (${e.platform})` : ""}: ${e.check}`;
    if (covered.length === 0) {
      out.push({ exception: e, passing, message: `${name} names nothing that was judged - remove it from image-lint-exceptions.yaml` });
    } else if (failing.length === 0) {
      out.push({ exception: e, passing, message: `${name} no longer fails - remove it from image-lint-exceptions.yaml` });
    } else if (passing.length > 0) {
      out.push({
        exception: e,
        passing,
        message: `${name} no longer fails on ${passing.join(", ")} - give the entry \`platform:\` for each platform where it still fails (${failing.join(", ")})`,
      });
    }
  }
  return out;
}

export const describeResult = (r: LintResult) => `${targetName(r)}: ${r.check} (${r.title}): ${r.message}`;
