/**
 * The image linter judges every platform of every built image: the dev stack's images are built
 * and pushed by the local pipeline, then each platform's own manifest (an index is split into
 * them; no emulation is needed) is judged by Trivy's image configuration checks (DS-nnnn) and by
 * the file-system checks of policy/image-lint run by Trivy (GIL-nnnn) over its config and
 * `docker export` listing. Zero failures, except those accepted in image-lint-exceptions.yaml
 * with a reason; an exception that no longer matches a failure fails too. A deliberately bad
 * image, on two platforms, proves the judge can fail on each.
 *
 * Needs Trivy (scripts/supply-chain.sh) and the services (scripts/setup.sh); fails with the fix
 * when they are missing, never skips.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { writeDockerConfig } from "../../cli/docker-config";
import { DEFAULT_PLATFORMS } from "../../components/spec/types";
import { ImageResult, runLocalPipeline, StepError } from "../../executors/local";
import { toolCommand } from "../../executors/plan-runner";
import { configValuesFromStackFile, parseStackConfig, StackConfig } from "../../stacks/config";
import { assertEngine, ROOT, supplyChainEnv, testEnv, TestEnv } from "./helpers/env";
import {
  describeResult,
  dockerExport,
  LintDocument,
  lintDocument,
  LintException,
  LintResult,
  loadLintExceptions,
  PlatformImage,
  platformImages,
  readTar,
  staleExceptions,
  targetName,
  TRIVY_VERSION,
  trivyFileChecks,
  trivyImageConfig,
  trivyVersion,
  unexpectedFindings,
} from "./helpers/image-lint";

jest.setTimeout(20 * 60 * 1000);

const EXCEPTIONS_FILE = path.join(ROOT, "image-lint-exceptions.yaml");
const BAD = "bad-image";
/** The bad image is built for both architectures, so the judge is shown to fail on each. */
const BAD_PLATFORMS = ["linux/amd64", "linux/arm64"];
/** Checks every judged image must have been evaluated on: a run that skipped them cannot pass. */
const TRIVY_CORE = ["DS-0002", "DS-0026"];
const GIL_CHECKS = fs
  .readdirSync(path.join(ROOT, "policy", "image-lint"))
  .filter((f) => f.endsWith(".rego"))
  .flatMap((f) => [...fs.readFileSync(path.join(ROOT, "policy", "image-lint", f), "utf8").matchAll(/^#\s+id: (GIL-\d{4})$/gm)].map((m) => m[1]))
  .sort();
/** ELF e_machine of each architecture. */
const ELF_MACHINE: Record<string, number> = { amd64: 0x3e, arm64: 0xb7 };

function devConfig(): StackConfig {
  return parseStackConfig(configValuesFromStackFile(YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8"))));
}

/** Every image and platform that must have a verdict: what the dev stack builds, and the bad image. */
function expectedTargets(): string[] {
  const stack = devConfig().images.flatMap((i) => (i.platforms ?? DEFAULT_PLATFORMS).map((platform) => targetName({ image: i.name, platform })));
  return [...stack, ...BAD_PLATFORMS.map((platform) => targetName({ image: BAD, platform }))].sort();
}

/**
 * Everything a linter must object to, on linux/amd64 and linux/arm64: runs as root, a setuid
 * program, a shell and a package manager, no source/revision/base labels, no HEALTHCHECK. Built
 * by BuildKit like a golden image, on the cc base (an index of both platforms), with no RUN
 * step, so no emulation is needed; the programs are stand-ins (the checks judge names and modes).
 */
function buildBadImage(env: TestEnv): string {
  const base = env.bases["distroless-cc"];
  if (base === undefined) throw new Error(`no distroless-cc base in ${Object.keys(env.bases).join(", ")}. Fix: run \`bash scripts/bases.sh\``);
  if (process.env.BUILDKIT_HOST === undefined) throw new Error('BUILDKIT_HOST is not set. Fix: eval "$(bash scripts/services.sh env)"');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "image-lint-bad-"));
  try {
    const context = path.join(dir, "context");
    fs.mkdirSync(context);
    fs.writeFileSync(path.join(context, "stand-in"), "not a program\n");
    fs.writeFileSync(
      path.join(context, "Dockerfile"),
      [
        `FROM ${base.ref}`,
        "COPY --chmod=4755 stand-in /usr/local/bin/escalate",
        "COPY --chmod=0755 stand-in /usr/bin/sh",
        "COPY --chmod=0755 stand-in /usr/bin/apt-get",
        "USER root",
        'ENTRYPOINT ["/usr/bin/sh"]',
        "",
      ].join("\n"),
    );
    // The login reaches buildctl through a private Docker config, never its arguments.
    const config = writeDockerConfig(path.join(dir, "docker"), env.registry, { username: env.username, password: env.password });
    const name = `${env.registry}/lint/${BAD}`;
    const [cmd, ...pre] = toolCommand("buildctl", process.env);
    const args = [
      ...pre,
      "build",
      "--frontend", "dockerfile.v0",
      "--local", `context=${context}`,
      "--local", `dockerfile=${context}`,
      "--opt", `platform=${BAD_PLATFORMS.join(",")}`,
      "--output", `type=image,name=${name}:test,push=true,registry.insecure=true,oci-mediatypes=true`,
      "--metadata-file", path.join(dir, "build.json"),
    ];
    const build = spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, DOCKER_CONFIG: config } });
    if (build.status !== 0) throw new Error(`building the bad image failed: ${build.stderr.slice(-4000)}`);
    const digest = (JSON.parse(fs.readFileSync(path.join(dir, "build.json"), "utf8")) as Record<string, string>)["containerimage.digest"];
    if (digest === undefined) throw new Error(`buildctl pushed the bad image but reported no digest`);
    return `${name}@${digest}`;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The ELF machine of `file` in an exported file system; -1 when it is absent or not an ELF. */
function elfMachine(tar: Buffer, file: string): number {
  for (const entry of readTar(tar)) {
    if (entry.header.path === file && entry.content.length >= 20 && entry.content.subarray(0, 4).toString("latin1") === "\x7fELF") {
      return entry.content.readUInt16LE(18);
    }
  }
  return -1;
}

/** What the two halves judged for one platform, to show they judged the same image. */
interface Judged {
  readonly target: PlatformImage;
  readonly trivyImageId: string;
  readonly engineImageId: string;
  readonly configPlatform: string;
  /** ELF machine of the entrypoint, for the multi-platform images. */
  readonly entrypointMachine?: number;
}

let env: TestEnv;
let trivy: string;
let built: ImageResult[];
let targets: PlatformImage[];
let judged: Judged[];
let documents: LintDocument[];
let results: LintResult[];
let exceptions: LintException[];
let buildError: StepError | undefined;

const failures = (image?: string, platform?: string) =>
  results.filter((r) => r.status === "FAIL" && (image === undefined || r.image === image) && (platform === undefined || r.platform === platform));

beforeAll(async () => {
  assertEngine();
  env = testEnv();
  trivy = supplyChainEnv().GOLDEN_TRIVY;
  exceptions = loadLintExceptions(EXCEPTIONS_FILE);
  const config = devConfig();
  const registry = { username: env.username, password: env.password };
  try {
    built = await runLocalPipeline({
      images: config.images,
      policy: config.policy,
      registry: env.registry,
      auth: registry,
      mirror: env.mirror,
      repositoryPrefix: "lint/",
      projectDir: ROOT,
    });
  } catch (e) {
    // Judge what was built all the same; the build test below fails with the step's message.
    if (!(e instanceof StepError)) throw e;
    buildError = e;
    built = [...e.completed];
  }
  const badRef = buildBadImage(env);
  const multi = new Set(config.images.filter((i) => (i.platforms ?? DEFAULT_PLATFORMS).length > 1).map((i) => i.name));

  const start = process.hrtime.bigint();
  targets = [];
  for (const t of [...built.map((r) => ({ image: r.image, ref: r.ref })), { image: BAD, ref: badRef }]) {
    targets.push(...(await platformImages(t.image, t.ref, registry)));
  }
  results = [];
  documents = [];
  judged = [];
  const seconds = new Map<string, number>();
  for (const t of targets) {
    const t0 = process.hrtime.bigint();
    const trivyRun = trivyImageConfig(trivy, t, registry);
    results.push(...trivyRun.results);
    const exported = dockerExport(t);
    const doc = lintDocument(t, trivyRun.config, exported.tar);
    documents.push(doc);
    const cfg = trivyRun.config as { os?: string; architecture?: string; variant?: string; config?: { Entrypoint?: string[] } };
    const entrypoint = cfg.config?.Entrypoint?.[0];
    judged.push({
      target: t,
      trivyImageId: trivyRun.imageId,
      engineImageId: exported.imageId,
      configPlatform: [cfg.os, cfg.architecture, ...(cfg.variant ? [cfg.variant] : [])].join("/"),
      ...(multi.has(t.image) && entrypoint !== undefined ? { entrypointMachine: elfMachine(exported.tar, entrypoint) } : {}),
    });
    seconds.set(targetName(t), Number(process.hrtime.bigint() - t0) / 1e9);
  }
  const t1 = process.hrtime.bigint();
  results.push(...trivyFileChecks(trivy, documents));
  const fileSeconds = Number(process.hrtime.bigint() - t1) / 1e9;
  const total = Number(process.hrtime.bigint() - start) / 1e9;

  const lines = targets.map((t) => {
    const failed = failures(t.image, t.platform);
    const findings = failed.length === 0 ? "no findings" : failed.map((f) => `${f.check} ${f.message}`).join("; ");
    return `  ${targetName(t)} [${seconds.get(targetName(t))!.toFixed(1)}s]: ${findings}`;
  });
  // eslint-disable-next-line no-console
  console.log(
    `image linter (Trivy ${TRIVY_VERSION}): ${targets.length} image platforms, ${results.length} verdicts in ${total.toFixed(1)}s ` +
      `(GIL checks ${fileSeconds.toFixed(1)}s)\n${lines.join("\n")}`,
  );
});

it("runs the pinned Trivy", () => {
  expect(trivyVersion(trivy)).toBe(TRIVY_VERSION);
});

it("builds every image of the dev stack", () => {
  expect(buildError?.message).toBeUndefined();
  expect(built.map((r) => r.image).sort()).toEqual(devConfig().images.map((i) => i.name).sort());
});

it("judges every platform of every built image, and of the bad one", () => {
  // GIVEN the platforms each spec asks for WHEN the pushed references are split per platform
  // THEN exactly those were judged (an index that lost a platform fails here)
  expect(built.length).toBeGreaterThan(0);
  expect(targets.map(targetName).sort()).toEqual(expectedTargets());
  expect(targets.filter((t) => t.platform === "linux/arm64").map((t) => t.image).sort()).toEqual([BAD, "hello-cc", "hello-static"]);
});

it("evaluated Trivy's image config checks and every policy/image-lint check on each image and platform", () => {
  // GIVEN every verdict WHEN we look for the core checks per expected image and platform THEN each has a PASS or FAIL
  expect(GIL_CHECKS.length).toBeGreaterThanOrEqual(6);
  const missing = expectedTargets().flatMap((name) =>
    [...TRIVY_CORE, ...GIL_CHECKS].filter((check) => !results.some((r) => targetName(r) === name && r.check === check)).map((check) => `${name}: ${check}`),
  );
  expect(missing).toEqual([]);
});

it("judged each platform's own image in both halves (config, image id, payload machine)", () => {
  // Trivy's config, the engine's image and the registry's manifest are the same image, of that platform.
  const seen = judged.map((j) => [targetName(j.target), j.configPlatform, j.trivyImageId === j.target.configDigest, j.engineImageId === j.target.configDigest]);
  expect(seen).toEqual(judged.map((j) => [targetName(j.target), j.target.platform, true, true]));
  // The multi-platform payloads are ELF programs of the platform's machine: the arm64 file system was read.
  const payloads = judged.filter((j) => j.entrypointMachine !== undefined).map((j) => [targetName(j.target), j.entrypointMachine]);
  expect(payloads).toEqual(
    judged.filter((j) => j.entrypointMachine !== undefined).map((j) => [targetName(j.target), ELF_MACHINE[j.target.platform.split("/")[1]]]),
  );
  expect(payloads.map((p) => p[0]).sort()).toEqual(["hello-cc (linux/amd64)", "hello-cc (linux/arm64)", "hello-static (linux/amd64)", "hello-static (linux/arm64)"]);
});

it("read every image's file system on every platform (the documents the GIL checks judge)", () => {
  expect(documents.map(targetName).sort()).toEqual(expectedTargets());
  for (const doc of documents) {
    expect(doc.files.length).toBeGreaterThan(3);
    expect(doc.files.some((f) => f.type === "file" && f.path !== "/.dockerenv")).toBe(true);
  }
});

describe("the dev stack's images", () => {
  const stack = () => results.filter((r) => r.image !== BAD);

  it("fail no check that is not an accepted exception, on any platform", () => {
    const unexpected = unexpectedFindings(stack(), exceptions).map(describeResult);
    // Fix the renderer or the spec, or (only for an accepted risk) add image, check and reason to image-lint-exceptions.yaml.
    expect(unexpected).toEqual([]);
  });

  it("list only exceptions that are still needed, on every platform they cover", () => {
    expect(staleExceptions(stack(), exceptions).map((s) => s.message)).toEqual([]);
  });

  it("would reject an exception that matches no finding, and accept only the finding it names", () => {
    // GIVEN an exception for a check an image passes, one for a finding the bad image has on
    // every platform, and one for that finding on arm64 alone
    const passing = results.find((r) => r.image !== BAD && r.check === "DS-0002" && r.status === "PASS")!;
    const stale = { image: passing.image, check: "DS-0002", reason: "an exception for a check that passes" };
    const used = { image: BAD, check: "DS-0002", reason: "an exception for a finding that exists" };
    const arm64 = { ...used, platform: "linux/arm64" };
    // THEN the first is reported stale, the others are not
    expect(staleExceptions(results, [stale, used, arm64]).map((s) => s.exception)).toEqual([stale]);
    // AND the second covers DS-0002 on each platform of that image alone, the third on arm64 alone
    expect(unexpectedFindings(failures(BAD), [used]).filter((r) => r.check === "DS-0002")).toEqual([]);
    expect(unexpectedFindings(failures(BAD), [used]).filter((r) => r.check === "DS-0026").map(targetName)).toEqual(BAD_PLATFORMS.map((platform) => targetName({ image: BAD, platform })));
    expect(unexpectedFindings(failures(BAD), [arm64]).filter((r) => r.check === "DS-0002").map(targetName)).toEqual([`${BAD} (linux/amd64)`]);
  });

  it("would report an exception without platform whose finding is gone on one platform", () => {
    // GIVEN a finding on amd64 that arm64 no longer has
    const verdict = (platform: string, status: "PASS" | "FAIL"): LintResult => ({ image: "x", platform, check: "GIL-0004", title: "t", status, message: "m", severity: "HIGH" });
    const verdicts = [verdict("linux/amd64", "FAIL"), verdict("linux/arm64", "PASS")];
    const everywhere = { image: "x", check: "GIL-0004", reason: "an exception for every platform" };
    // THEN the entry for every platform is stale on arm64, the one for amd64 is not, one for an unjudged platform is
    const stale = staleExceptions(verdicts, [everywhere, { ...everywhere, platform: "linux/amd64" }, { ...everywhere, platform: "linux/s390x" }]);
    expect(stale.map((s) => s.message)).toEqual([
      "x: GIL-0004 no longer fails on linux/arm64 - give the entry `platform:` for each platform where it still fails (linux/amd64)",
      "x (linux/s390x): GIL-0004 names nothing that was judged - remove it from image-lint-exceptions.yaml",
    ]);
  });

  it("name in the exceptions only images and platforms of the dev stack", () => {
    const platforms = new Map(devConfig().images.map((i) => [i.name, (i.platforms ?? DEFAULT_PLATFORMS) as readonly string[]]));
    const unknown = exceptions.filter((e) => !platforms.has(e.image) || (e.platform !== undefined && !platforms.get(e.image)!.includes(e.platform)));
    expect(unknown.map((e) => `${e.image}${e.platform !== undefined ? ` (${e.platform})` : ""}: ${e.check}`)).toEqual([]);
  });
});

describe("image-lint-exceptions.yaml", () => {
  const load = (text: string) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "image-lint-exc-"));
    try {
      const file = path.join(dir, "exceptions.yaml");
      fs.writeFileSync(file, text);
      return loadLintExceptions(file);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
  const entry = (platform?: string) => `  - image: hello-static\n    check: GIL-0004\n${platform !== undefined ? `    platform: ${platform}\n` : ""}    reason: an accepted finding with its reason\n`;

  it("refuses an entry without a valid check id, platform or reason, naming the property", () => {
    expect(() => load("exceptions:\n  - image: hello-static\n    check: CKV_DOCKER_2\n    platform: arm64\n    reason: short\n")).toThrow(
      /exceptions\.0\.check: a check id such as DS-0002[\s\S]*exceptions\.0\.platform: a platform such as linux\/arm64[\s\S]*exceptions\.0\.reason: a reason a reviewer can judge/,
    );
  });

  it("accepts an entry per platform, and refuses one for every platform beside one for a platform", () => {
    expect(load(`exceptions:\n${entry("linux/amd64")}${entry("linux/arm64")}`).map((e) => e.platform)).toEqual(["linux/amd64", "linux/arm64"]);
    expect(() => load(`exceptions:\n${entry()}${entry("linux/arm64")}`)).toThrow(/lists GIL-0004 for hello-static on every platform and on linux\/arm64\. Fix: /);
    expect(() => load(`exceptions:\n${entry("linux/arm64")}${entry("linux/arm64")}`)).toThrow(/lists GIL-0004 for hello-static on linux\/arm64 twice/);
  });
});

describe.each(BAD_PLATFORMS)("the judge can fail: a deliberately bad image on %s", (platform) => {
  const messages = (check: string) => failures(BAD, platform).filter((r) => r.check === check).map((r) => r.message);

  it("runs as root: Trivy's DS-0002", () => {
    expect(messages("DS-0002")).toEqual(["Last USER command in Dockerfile should not be 'root'"]);
  });

  it("has no HEALTHCHECK: Trivy's DS-0026", () => {
    expect(messages("DS-0026")).toEqual(["Add HEALTHCHECK instruction in your Dockerfile"]);
  });

  it("has a setuid program: GIL-0004 names it and its mode", () => {
    expect(messages("GIL-0004")).toEqual(["/usr/local/bin/escalate is setuid (mode 4755)"]);
  });

  it("has a shell and a package manager: GIL-0002 and GIL-0003", () => {
    expect(messages("GIL-0002")).toEqual(["shell /usr/bin/sh is present"]);
    expect(messages("GIL-0003")).toEqual(["package manager /usr/bin/apt-get is present"]);
  });

  it("has no source, revision or base labels: GIL-0005 and GIL-0006", () => {
    expect(messages("GIL-0005").sort()).toEqual(["label org.opencontainers.image.revision is missing", "label org.opencontainers.image.source is missing"]);
    expect(messages("GIL-0006").sort()).toEqual(["label org.opencontainers.image.base.digest is missing", "label org.opencontainers.image.base.name is missing"]);
  });

  it("reads the setuid bit from the export exactly (tar mode 04755), from that platform's image", () => {
    const doc = documents.find((d) => d.image === BAD && d.platform === platform)!;
    expect(doc.files.find((f) => f.path === "/usr/local/bin/escalate")).toEqual({ path: "/usr/local/bin/escalate", type: "file", mode: 0o4755, uid: 0, gid: 0 });
    expect(doc.etc.passwd).toMatch(/^root:x:0:0:/m);
    expect((doc.config as { architecture: string }).architecture).toBe(platform.split("/")[1]);
  });
});

describe("the GIL checks on documents that isolate one fault", () => {
  // A stack image's document, judged again as it is and with one thing broken in each copy:
  // every check fails on exactly its own fault (findings of the original are left out).
  let verdicts: LintResult[] = [];
  let base: LintDocument | undefined;
  beforeAll(() => {
    // An image whose runtime user is listed (GIL-0001 passes), run as 65532:65532.
    base = documents.find((d) => d.image !== BAD && results.some((r) => r.image === d.image && r.platform === d.platform && r.check === "GIL-0001" && r.status === "PASS"));
    if (base === undefined) return;
    const cfg = base.config as { config: Record<string, unknown> };
    const variants: LintDocument[] = [
      { ...base, image: "original", config: { ...cfg, config: { ...cfg.config, User: "65532:65532" } } },
      { ...base, image: "no-passwd", config: { ...cfg, config: { ...cfg.config, User: "65532:65532" } }, etc: {} },
      { ...base, image: "unknown-user", config: { ...cfg, config: { ...cfg.config, User: "4242:4242" } } },
      { ...base, image: "setgid", files: [...base.files, { path: "/usr/bin/wall", type: "file", mode: 0o2755, uid: 0, gid: 5 }] },
      { ...base, image: "busybox", files: [...base.files, { path: "/bin/busybox", type: "file", mode: 0o755, uid: 0, gid: 0 }] },
    ];
    verdicts = trivyFileChecks(trivy, variants);
  });
  const failed = (image: string) => verdicts.filter((r) => r.image === image && r.status === "FAIL").map((r) => `${r.check} ${r.message}`);
  const added = (image: string) => failed(image).filter((m) => !failed("original").includes(m));

  it.each([
    ["no-passwd", ['GIL-0001 runtime user "65532" is not listed in /etc/passwd (the image has no such file)', 'GIL-0001 runtime group "65532" is not listed in /etc/group (the image has no such file)']],
    ["unknown-user", ['GIL-0001 runtime user "4242" is not listed in /etc/passwd', 'GIL-0001 runtime group "4242" is not listed in /etc/group']],
    ["setgid", ["GIL-0004 /usr/bin/wall is setgid (mode 2755)"]],
    ["busybox", ["GIL-0002 shell /bin/busybox is present"]],
  ])("%s", (image, findings) => {
    expect(base?.image).toBeDefined(); // some stack image must pass GIL-0001 to isolate faults in
    expect(added(image).sort()).toEqual([...findings].sort());
  });

  it("parses a tar stream with PAX long names", () => {
    // GIVEN a PAX header carrying a path longer than ustar's 100 bytes
    const long = `/opt/${"x".repeat(150)}/tool`;
    const block = (name: string, type: string, size: number, mode = 0o755) => {
      const h = Buffer.alloc(512);
      h.write(name.slice(0, 99), 0);
      h.write(`${mode.toString(8).padStart(7, "0")}\0`, 100);
      h.write("0000000\0", 108);
      h.write("0000000\0", 116);
      h.write(`${size.toString(8).padStart(11, "0")}\0`, 124);
      h.write(type, 156);
      h.write("ustar\0", 257);
      return h;
    };
    const rec = `path=${long.slice(1)}\n`;
    // A PAX record's length counts its own digits.
    let len = rec.length + 2;
    while (`${len} ${rec}`.length !== len) len = `${len} ${rec}`.length;
    const paxData = Buffer.from(`${len} ${rec}`);
    const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);
    const tar = Buffer.concat([block("PaxHeader", "x", paxData.length), pad(paxData), block("short", "0", 0, 0o6755), Buffer.alloc(1024)]);
    // WHEN it is read THEN the entry has the long path and both special bits
    expect([...readTar(tar)].map((e) => e.header)).toEqual([{ path: long, type: "file", mode: 0o6755, uid: 0, gid: 0 }]);
  });
});
