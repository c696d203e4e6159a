/**
 * Build benchmark for the dev stack's example images (NOT a test: nothing is asserted on the
 * figures; they are printed and written to bench/results.md).
 *
 * For every image of Pulumi.dev.yaml it measures
 *   - payload: size of the program file inside the final image (from `docker export`),
 *   - image size: uncompressed (`docker image inspect {{.Size}}`) and compressed in the
 *     registry (the runner's `sizeBytes`), and the overhead over the payload,
 *   - cold build time: built images removed and `buildctl prune --all` first (the bases
 *     stay in the registry, so resolving/pulling them is part of the cold time),
 *   - warm build time: the same pipeline run again at once, unchanged (cache hits).
 * Each pair is repeated --runs times (default 3); median and min/max are reported.
 *
 * Run: bash scripts/bench.sh [--runs N] [--image NAME ...] [--output FILE]
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseArgs } from "util";
import * as YAML from "yaml";
import { RegistryAuth, RegistryClient } from "../cli/registry-client";
import { ImageResult, runLocalPipeline } from "../executors/local";
import { run, toolCommand } from "../executors/plan-runner";
import { pinSpec } from "../cli/steps";
import { ImageSpec } from "../components/spec/types";
import { configValuesFromStackFile, parseStackConfig, StackConfig } from "../stacks/config";

const REPOSITORY_PREFIX = "bench/";
/** A static image close to its payload: at most this much beside it, uncompressed. */
const TARGET_BYTES = 400 * 1024;

interface Measurement {
  readonly image: string;
  readonly flavor: string;
  readonly payloadPath: string;
  readonly payloadBytes: number;
  readonly uncompressedBytes: number;
  readonly compressedBytes: number;
  readonly coldSeconds: number[];
  readonly warmSeconds: number[];
  readonly ref: string;
  /** Pinned base/builder refs, and whether the engine's image store held them at cold start. */
  readonly bases: readonly { ref: string; local: boolean }[];
  /** What the bytes beside the payload are, by file (the export's regular files). */
  readonly overhead: readonly ExportedFile[];
}

interface ExportedFile {
  readonly path: string;
  readonly bytes: number;
}

const HELP = `build-bench: image size and build time figures for the dev stack's images

Usage: node dist/bench/build-bench.js [--runs N] [--image NAME ...] [--output FILE] [--retries N]

  --runs N        cold+warm pairs per image                 [default: 3]
  --retries N     redo a failed pair from cold at most N times (reported) [default: 1]
  --image NAME    only this image (repeatable)               [default: all of Pulumi.dev.yaml]
  --output FILE   where the Markdown table is written        [default: bench/results.md]

Needs the engine, registry and bases (bash scripts/setup.sh) and the environment of
\`bash scripts/services.sh env\`. Images are pushed below ${REPOSITORY_PREFIX} in the registry.
WARNING: every cold run calls \`buildctl prune --all\` on the shared BuildKit daemon.
`;

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: "string", default: "3" },
      retries: { type: "string", default: "1" },
      image: { type: "string", multiple: true },
      output: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) {
    throw new Error(`--runs must be a positive integer (got "${values.runs}"). Fix: pass e.g. --runs 3`);
  }

  const retries = Number(values.retries);
  if (!Number.isInteger(retries) || retries < 0) {
    throw new Error(`--retries must be a non-negative integer (got "${values.retries}")`);
  }

  const repoDir = path.resolve(__dirname, "..", "..");
  const output = path.resolve(values.output ?? path.join(repoDir, "bench", "results.md"));
  const config = loadConfig(path.join(repoDir, "Pulumi.dev.yaml"));
  const images = selectImages(config, values.image);

  const docker = process.env.GOLDEN_DOCKER ?? (fs.existsSync("/usr/bin/docker") ? "/usr/bin/docker" : "docker");
  const registry = process.env.GOLDEN_REGISTRY ?? "127.0.0.1:5000";
  const mirror = process.env.GOLDEN_MIRROR ?? `${registry}/mirror`;
  const auth = registryAuth();

  // A private project dir (copies of the build contexts): the runner writes
  // <projectDir>/.golden/build/<image>/Dockerfile, which must not race with the CLI or tests
  // building the same image names from the repository at the same time. The content tag
  // only depends on the Dockerfile and the context's files, so it is the same as in the repo.
  const projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "golden-bench-"));
  for (const ctx of new Set(images.map((i) => path.normalize(i.context ?? ".")))) {
    fs.cpSync(path.join(repoDir, ctx), path.join(projectDir, ctx), { recursive: true });
  }

  const benchStart = process.hrtime.bigint();
  const machine = await machineLine(docker);
  log(`${machine}; ${runs} run(s) per image; images pushed to ${registry}/${REPOSITORY_PREFIX}*`);

  const pipeline = async (spec: ImageSpec): Promise<{ seconds: number; result: ImageResult }> => {
    const t0 = process.hrtime.bigint();
    const [result] = await runLocalPipeline({
      images: [spec],
      policy: config.policy,
      registry,
      auth,
      mirror,
      repositoryPrefix: REPOSITORY_PREFIX,
      projectDir,
    });
    return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, result };
  };

  const measurements: Measurement[] = [];
  const retried: string[] = [];
  try {
    for (const spec of images) {
      const cold: number[] = [];
      const warm: number[] = [];
      let last: ImageResult | undefined;
      let bases: { ref: string; local: boolean }[] = [];
      for (let i = 1; i <= runs; i++) {
        // A failed pair (the engine is shared; a concurrent prune or restart can break a
        // build) is redone from a fresh cold state, at most --retries times, and reported.
        for (let attempt = 0; ; attempt++) {
          try {
            await makeCold(docker, `${registry}/${REPOSITORY_PREFIX}${spec.name}`);
            bases = await baseState(spec, mirror, new RegistryClient(registry, auth));
            const c = await pipeline(spec);
            const w = await pipeline(spec);
            cold.push(c.seconds);
            warm.push(w.seconds);
            if (w.result.digest !== c.result.digest) {
              log(`  note: ${spec.name} run ${i}: warm digest ${w.result.digest} differs from cold ${c.result.digest}`);
            }
            last = w.result;
            log(`${spec.name} run ${i}/${runs}: cold ${c.seconds.toFixed(2)} s, warm ${w.seconds.toFixed(2)} s`);
            break;
          } catch (e) {
            if (attempt >= retries) {
              throw e;
            }
            retried.push(`${spec.name} run ${i}: ${(e as Error).message.split("\n")[0].slice(0, 300)}`);
            log(`${spec.name} run ${i}/${runs} failed, redoing it cold (${attempt + 1}/${retries}): ${(e as Error).message.split("\n")[0]}`);
          }
        }
      }
      const result = last as ImageResult;
      const payloadPath = payloadPathOf(spec);
      // BuildKit pushed the image; the engine pulls it to measure what `docker run` would get.
      await must(docker, ["pull", "--quiet", result.taggedRef]);
      measurements.push({
        image: spec.name,
        flavor: spec.flavor,
        payloadPath,
        payloadBytes: await payloadSize(docker, result.taggedRef, payloadPath),
        overhead: (await exportedFiles(docker, result.taggedRef)).filter((f) => f.path !== payloadPath.replace(/^\/+/, "")),
        uncompressedBytes: await uncompressedSize(docker, result.taggedRef),
        compressedBytes: result.sizeBytes,
        coldSeconds: cold,
        warmSeconds: warm,
        ref: result.ref,
        bases,
      });
    }
  } finally {
    fs.rmSync(projectDir, { recursive: true, force: true });
  }

  const totalSeconds = Number(process.hrtime.bigint() - benchStart) / 1e9;
  const report = renderReport(measurements, { machine, runs, totalSeconds, date: new Date(), retried });
  fs.mkdirSync(path.dirname(output), { recursive: true });
  fs.writeFileSync(output, report);
  process.stdout.write(report);
  log(`written to ${path.relative(process.cwd(), output) || output}; total ${totalSeconds.toFixed(1)} s`);
  return 0;
}

// ------------------------------------------------------------------------- setup

function loadConfig(file: string): StackConfig {
  return parseStackConfig(configValuesFromStackFile(YAML.parse(fs.readFileSync(file, "utf8"))));
}

function selectImages(config: StackConfig, only: string[] | undefined): readonly ImageSpec[] {
  if (only === undefined || only.length === 0) {
    return config.images;
  }
  const known = config.images.map((i) => i.name);
  const unknown = only.filter((n) => !known.includes(n));
  if (unknown.length > 0) {
    throw new Error(`unknown image ${unknown.join(", ")}. Fix: use one of: ${known.join(", ")}`);
  }
  return config.images.filter((i) => only.includes(i.name));
}

function registryAuth(): RegistryAuth | undefined {
  const username = process.env.GOLDEN_REGISTRY_USER;
  if (username === undefined) {
    return undefined;
  }
  const file = process.env.GOLDEN_REGISTRY_PASSWORD_FILE;
  if (file === undefined || !fs.existsSync(file)) {
    throw new Error(`no password file for registry user "${username}" (${file ?? "GOLDEN_REGISTRY_PASSWORD_FILE not set"}). Fix: eval "$(bash scripts/services.sh env)"`);
  }
  return { username, password: fs.readFileSync(file, "utf8").trim() };
}

async function machineLine(docker: string): Promise<string> {
  const nproc = await run("nproc", [], {});
  const version = await must(docker, ["version", "--format", "{{.Server.Version}}"]);
  const cpu = os.cpus()[0]?.model?.trim() ?? "unknown CPU";
  const cores = nproc.code === 0 ? nproc.output.trim() : String(os.availableParallelism());
  return `nproc ${cores} (${cpu}), ${Math.round(os.totalmem() / 1024 ** 3)} GiB RAM, Docker server ${version.trim()}, Node ${process.version}`;
}

// ------------------------------------------------------------------------- docker

async function must(docker: string, args: readonly string[]): Promise<string> {
  const r = await run(docker, args, { env: { ...process.env, DOCKER_BUILDKIT: "1" } });
  if (r.code !== 0) {
    throw new Error(`docker ${args.join(" ")} failed (exit ${r.code}): ${r.output.trim().split("\n").slice(-3).join(" | ")}`);
  }
  return r.output;
}

/** Removes every local tag of the benchmark's repository and the whole BuildKit cache (buildkitd's). */
async function makeCold(docker: string, repository: string): Promise<void> {
  const [buildctl, ...pre] = toolCommand("buildctl", process.env);
  const pruned = await run(buildctl, [...pre, "prune", "--all"], {});
  if (pruned.code !== 0) {
    throw new Error(`buildctl prune --all failed (exit ${pruned.code}): ${pruned.output.trim().split("\n").slice(-2).join(" | ")}`);
  }
  const listed = await must(docker, ["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"]);
  const tags = listed
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith(`${repository}:`) && !l.endsWith(":<none>"));
  if (tags.length > 0) {
    await must(docker, ["image", "rm", ...tags]);
  }
  await must(docker, ["builder", "prune", "-af"]);
}

/**
 * The digest-pinned bases and builder images of a spec. After `buildctl prune --all` buildkitd
 * holds none of them, so a cold run pulls every one from the local registry (local: false).
 */
async function baseState(spec: ImageSpec, mirror: string, client: RegistryClient): Promise<{ ref: string; local: boolean }[]> {
  const { spec: pinned } = await pinSpec(spec, { environment: "dev", mirror }, () => client);
  const refs = [...(pinned.builders ?? []).map((b) => b.image as string), ...(pinned.base === undefined ? [] : [pinned.base])];
  return [...new Set(refs)].map((ref) => ({ ref, local: false }));
}

async function uncompressedSize(docker: string, ref: string): Promise<number> {
  return Number((await must(docker, ["image", "inspect", "--format", "{{.Size}}", ref])).trim());
}

/** The program file: what the spec copies into the final stage (else the exec-form entrypoint). */
function payloadPathOf(spec: ImageSpec): string {
  const copied = spec.copy?.[0]?.dest;
  const entry = Array.isArray(spec.entrypoint) ? (spec.entrypoint as readonly string[])[0] : undefined;
  const p = copied ?? (entry !== undefined && entry.startsWith("/") ? entry : undefined);
  if (p === undefined) {
    throw new Error(`${spec.name}: no copy dest or exec-form entrypoint to locate the payload`);
  }
  return p;
}

/**
 * Size of `file` inside the image: creates (never starts) a container and lists
 * `docker export` with `tar -tv`. Works for shell-less images, unlike `docker run`.
 */
async function payloadSize(docker: string, ref: string, file: string): Promise<number> {
  const id = (await must(docker, ["container", "create", ref])).trim().split("\n").pop() as string;
  try {
    const listing = await exportListing(docker, id);
    const want = file.replace(/^\/+/, "");
    for (const line of listing.split("\n")) {
      // -rwxr-xr-x 65532/65532  715912 2025-11-23 00:00 hello
      const m = /^(\S)\S*\s+\S+\s+(\d+)\s+\S+\s+\S+\s+(.*)$/.exec(line);
      if (m !== null && m[3].replace(/^\.?\/+/, "") === want) {
        if (m[1] !== "-") {
          throw new Error(`${file} in ${ref} is not a regular file (${line})`);
        }
        return Number(m[2]);
      }
    }
    throw new Error(`${file} not found in the export of ${ref}`);
  } finally {
    await run(docker, ["container", "rm", "-f", id], {});
  }
}

/** Every regular file of the image with its size (`docker export` + `tar -tv`). */
async function exportedFiles(docker: string, ref: string): Promise<ExportedFile[]> {
  const id = (await must(docker, ["container", "create", ref])).trim().split("\n").pop() as string;
  try {
    return (await exportListing(docker, id))
      .split("\n")
      .map((line) => /^-\S*\s+\S+\s+(\d+)\s+\S+\s+\S+\s+(.*)$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ path: m[2].replace(/^\.?\/+/, ""), bytes: Number(m[1]) }));
  } finally {
    await run(docker, ["container", "rm", "-f", id], {});
  }
}

/** The overhead of an image by what it is for, largest first. */
export function overheadBreakdown(files: readonly ExportedFile[]): { what: string; files: number; bytes: number }[] {
  const groups: readonly (readonly [string, RegExp])[] = [
    ["CA certificates (/etc/ssl)", /^etc\/ssl\//],
    ["license texts (/usr/share/common-licenses)", /^usr\/share\/common-licenses\//],
    ["copyright notices (/usr/share/doc/*/copyright)", /^usr\/share\/doc\//],
    ["time-zone data (/usr/share/zoneinfo)", /^usr\/share\/zoneinfo\//],
    ["package records for scanners (/var/lib/dpkg)", /^var\/lib\/dpkg\//],
    ["shared libraries", /\.so(\.\d+)*$/],
    ["/etc (passwd, group, nsswitch.conf, services, protocols, ...)", /^etc\//],
  ];
  const out = new Map<string, { what: string; files: number; bytes: number }>();
  for (const f of files) {
    const what = groups.find(([, re]) => re.test(f.path))?.[0] ?? "other (os-release, ...)";
    const g = out.get(what) ?? { what, files: 0, bytes: 0 };
    out.set(what, { what, files: g.files + 1, bytes: g.bytes + f.bytes });
  }
  return [...out.values()].sort((a, b) => b.bytes - a.bytes);
}

function exportListing(docker: string, container: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const exp = spawn(docker, ["container", "export", container], { stdio: ["ignore", "pipe", "pipe"] });
    const tar = spawn("tar", ["-tvf", "-"], { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, LC_ALL: "C", TZ: "UTC" } });
    let out = "";
    let err = "";
    exp.stdout.pipe(tar.stdin);
    exp.stderr.on("data", (d) => (err += d));
    tar.stdout.on("data", (d) => (out += d));
    tar.stderr.on("data", (d) => (err += d));
    let expCode: number | null = null;
    exp.on("error", reject);
    tar.on("error", reject);
    exp.on("close", (code) => (expCode = code));
    tar.on("close", (code) => {
      // exp closes before tar sees EOF on its stdin
      if (code !== 0 || (expCode ?? 0) !== 0) {
        reject(new Error(`docker export ${container} | tar -tv failed (export ${expCode}, tar ${code}): ${err.trim()}`));
      } else {
        resolve(out);
      }
    });
  });
}

// ------------------------------------------------------------------------- report

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function timing(xs: readonly number[]): string {
  return `${median(xs).toFixed(2)} [${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}]`;
}

const kib = (bytes: number): string => (bytes / 1024).toFixed(1);

export function renderReport(ms: readonly Measurement[], meta: { machine: string; runs: number; totalSeconds: number; date: Date; retried: readonly string[] }): string {
  const header = [
    "image",
    "flavor",
    "payload KiB",
    "image KiB (uncompressed)",
    "overhead KiB (uncompressed)",
    "compressed KiB (registry)",
    "overhead KiB (compressed)",
    "cold s median [min–max]",
    "warm s median [min–max]",
  ];
  const right = [false, false, true, true, true, true, true, true, true];
  const rows = ms.map((m) => [
    m.image,
    m.flavor,
    kib(m.payloadBytes),
    kib(m.uncompressedBytes),
    kib(m.uncompressedBytes - m.payloadBytes),
    kib(m.compressedBytes),
    kib(m.compressedBytes - m.payloadBytes),
    timing(m.coldSeconds),
    timing(m.warmSeconds),
  ]);
  const lines = [
    "# Build benchmark",
    "",
    `- date: ${meta.date.toISOString()}`,
    `- machine: ${meta.machine}`,
    `- runs: ${meta.runs} cold+warm pair(s) per image; total benchmark time ${meta.totalSeconds.toFixed(1)} s`,
    "",
    `| ${header.join(" | ")} |`,
    `| ${right.map((r) => (r ? "---:" : "---")).join(" | ")} |`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
    "",
    "payload = the program file in the final image (`docker export` + `tar -tv`); overhead = image size − payload " +
      "(the compressed overhead subtracts the uncompressed payload from the registry size). 1 KiB = 1024 bytes. " +
      "cold = `buildctl prune --all` first (bases stay in the registry): no BuildKit cache, " +
      "the bases are resolved against the local registry and the program is compiled; warm = the same pipeline run again at once (cache hits, push of existing layers, verify). " +
      "Times cover the whole pipeline: pin, render+lint, build, push, verify.",
    "",
    ...pullLines(ms),
    "",
    ...targetLines(ms),
    "",
    ...breakdownLines(ms),
    ...(meta.retried.length === 0
      ? []
      : [`Redone after a failure (not counted in the figures): ${meta.retried.length}`, ...meta.retried.map((r) => `- ${r}`), ""]),
  ];
  return lines.join("\n");
}

/** Whether the cold time includes downloading the bases' layers (checked before each cold run). */
function pullLines(ms: readonly Measurement[]): string[] {
  const all = ms.flatMap((m) => m.bases.map((b) => ({ image: m.image, ...b })));
  const local = all.filter((b) => b.local);
  if (all.length > 0 && local.length === all.length) {
    return [
      "Base pull: every base and builder image was in the engine's image store at cold start (setup loads them there), " +
        "so BuildKit used the local copies: the cold times include resolving the bases' digests in the registry, " +
        "no layer download.",
    ];
  }
  if (local.length === 0) {
    return ["Base pull: buildkitd holds no base or builder image after the prune, so the cold times include pulling them from the local registry."];
  }
  const remote = all.filter((b) => !b.local).map((b) => `${b.image}: ${b.ref}`);
  return [`Base pull: these bases were not in the engine's image store at cold start, so their pull is part of the cold time: ${remote.join("; ")}. The others were used from the local store.`];
}

/** What the static image's overhead is, by kind and by file (issue: a static image close to its payload). */
function breakdownLines(ms: readonly Measurement[]): string[] {
  const s = ms.find((m) => m.flavor === "distroless-static");
  if (s === undefined) {
    return [];
  }
  const total = s.overhead.reduce((n, f) => n + f.bytes, 0);
  return [
    `What ${s.image}'s ${kib(total)} KiB of files beside its payload are (regular files; the image size adds directories and links):`,
    "",
    "| what | files | KiB |",
    "| --- | ---: | ---: |",
    ...overheadBreakdown(s.overhead).map((g) => `| ${g.what} | ${g.files} | ${kib(g.bytes)} |`),
    "",
    "Largest files:",
    "",
    ...[...s.overhead]
      .sort((a, b) => b.bytes - a.bytes || a.path.localeCompare(b.path))
      .slice(0, 10)
      .map((f) => `- /${f.path}: ${kib(f.bytes)} KiB`),
    "",
  ];
}

/** The project's target: the hardened static image adds at most 400 KiB over its payload. Computed. */
function targetLines(ms: readonly Measurement[]): string[] {
  const s = ms.find((m) => m.flavor === "distroless-static");
  if (s === undefined) {
    return ["Target (hardened static image adds at most 400 KiB over its payload): not evaluated, no distroless-static image was benchmarked."];
  }
  const un = s.uncompressedBytes - s.payloadBytes;
  const co = s.compressedBytes - s.payloadBytes;
  const verdict = (bytes: number): string =>
    bytes <= TARGET_BYTES
      ? `**met**: ${kib(bytes)} KiB ≤ 400 KiB (${kib(TARGET_BYTES - bytes)} KiB to spare)`
      : `**NOT met**: ${kib(bytes)} KiB > 400 KiB (${kib(bytes - TARGET_BYTES)} KiB over)`;
  return [
    `Target: the hardened static image (${s.image}, ${s.flavor}) adds at most 400 KiB over its payload (${kib(s.payloadBytes)} KiB); Google's distroless static is about 2 MiB:`,
    `- uncompressed (\`docker image inspect\` Size): ${verdict(un)}`,
    `- compressed (registry): ${verdict(co)}`,
  ];
}

function log(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      // A StepError's message names each failed image, its step and the tool's own error.
      process.stderr.write(`build-bench: ${(e as Error)?.message ?? String(e)}\n`);
      process.exit(1);
    },
  );
}
