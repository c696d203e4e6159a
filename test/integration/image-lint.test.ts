/**
 * The image linter judges every built image: the dev stack's images are built and pushed by the
 * local pipeline, then judged from the registry by Trivy's image configuration checks (DS-nnnn)
 * and by the file-system checks of policy/image-lint run by Trivy (GIL-nnnn) over each image's
 * config and `docker export` listing. Zero failures, except those accepted in
 * image-lint-exceptions.yaml with a reason; an exception that no longer matches a failure fails
 * too. A deliberately bad image proves the judge can fail.
 *
 * Needs Trivy (scripts/supply-chain.sh) and the services (scripts/setup.sh); fails with the fix
 * when they are missing, never skips.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { ImageResult, runLocalPipeline, StepError } from "../../executors/local";
import { configValuesFromStackFile, parseStackConfig, StackConfig } from "../../stacks/config";
import { assertEngine, docker, DOCKER, ROOT, supplyChainEnv, testEnv, TestEnv } from "./helpers/env";
import {
  describeResult,
  dockerExport,
  LintDocument,
  lintDocument,
  LintException,
  LintResult,
  loadLintExceptions,
  readTar,
  staleExceptions,
  TRIVY_VERSION,
  trivyFileChecks,
  trivyImageConfig,
  trivyVersion,
  unexpectedFindings,
} from "./helpers/image-lint";

jest.setTimeout(20 * 60 * 1000);

const EXCEPTIONS_FILE = path.join(ROOT, "image-lint-exceptions.yaml");
const BAD = "bad-image";
/** Checks every judged image must have been evaluated on: a run that skipped them cannot pass. */
const TRIVY_CORE = ["DS-0002", "DS-0026"];
const GIL_CHECKS = fs
  .readdirSync(path.join(ROOT, "policy", "image-lint"))
  .filter((f) => f.endsWith(".rego"))
  .flatMap((f) => [...fs.readFileSync(path.join(ROOT, "policy", "image-lint", f), "utf8").matchAll(/^#\s+id: (GIL-\d{4})$/gm)].map((m) => m[1]))
  .sort();

function devConfig(): StackConfig {
  return parseStackConfig(configValuesFromStackFile(YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8"))));
}

/**
 * Everything a linter must object to: runs as root, a setuid program, a shell and a package
 * manager (the Debian base has both), no OCI labels, no HEALTHCHECK. Built by the engine's
 * classic builder (no BuildKit frontend needed) and pushed like any golden image.
 */
function buildBadImage(env: TestEnv): string {
  const base = env.bases["debian-slim"];
  if (base === undefined) throw new Error(`no debian-slim base in ${Object.keys(env.bases).join(", ")}. Fix: run \`bash scripts/bases.sh\``);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "image-lint-bad-"));
  try {
    fs.writeFileSync(
      path.join(dir, "Dockerfile"),
      [
        `FROM ${base.ref}`,
        "RUN cp /bin/true /usr/local/bin/escalate && chmod 4755 /usr/local/bin/escalate",
        "USER root",
        'ENTRYPOINT ["/bin/sh"]',
        "",
      ].join("\n"),
    );
    const tag = `${env.registry}/lint/${BAD}:test`;
    const build = spawnSync(DOCKER, ["build", "--network", "none", "--quiet", "--tag", tag, dir], { encoding: "utf8", env: { ...process.env, DOCKER_BUILDKIT: "0" } });
    if (build.status !== 0) throw new Error(`building the bad image failed: ${build.stderr}`);
    docker(["push", "--quiet", tag]);
    const digest = JSON.parse(docker(["image", "inspect", "--format", "{{json .RepoDigests}}", tag]).stdout) as string[];
    const ref = digest.find((d) => d.startsWith(`${env.registry}/lint/${BAD}@`));
    if (ref === undefined) throw new Error(`the bad image was pushed but has no digest in ${env.registry}: ${digest.join(", ")}`);
    return ref;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

let env: TestEnv;
let trivy: string;
let built: ImageResult[];
let images: string[];
let documents: LintDocument[];
let results: LintResult[];
let exceptions: LintException[];
let badRef: string;
let buildError: StepError | undefined;

const failures = (image?: string) => results.filter((r) => r.status === "FAIL" && (image === undefined || r.image === image));

beforeAll(async () => {
  assertEngine();
  env = testEnv();
  trivy = supplyChainEnv().GOLDEN_TRIVY;
  exceptions = loadLintExceptions(EXCEPTIONS_FILE);
  const config = devConfig();
  try {
    built = await runLocalPipeline({
      images: config.images,
      policy: config.policy,
      registry: env.registry,
      auth: { username: env.username, password: env.password },
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
  badRef = buildBadImage(env);

  // The engine's own platform: the one `docker export` sees, so both halves judge the same image.
  const platform = docker(["version", "--format", "{{.Server.Os}}/{{.Server.Arch}}"]).stdout.trim();
  const targets = [...built.map((r) => ({ image: r.image, ref: r.ref })), { image: BAD, ref: badRef }];
  images = targets.map((t) => t.image);
  results = [];
  documents = [];
  const start = process.hrtime.bigint();
  for (const t of targets) {
    const judged = trivyImageConfig(trivy, t.image, t.ref, { username: env.username, password: env.password }, platform);
    results.push(...judged.results);
    docker(["pull", "--quiet", "--platform", platform, t.ref]);
    documents.push(lintDocument(t.image, t.ref, judged.config, dockerExport(t.ref)));
  }
  results.push(...trivyFileChecks(trivy, documents));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;

  const lines = targets.map((t) => {
    const failed = failures(t.image);
    return `  ${t.image}: ${failed.length === 0 ? "no findings" : failed.map((f) => `${f.check} ${f.message}`).join("; ")}`;
  });
  // eslint-disable-next-line no-console
  console.log(`image linter (Trivy ${TRIVY_VERSION}): ${targets.length} images, ${results.length} verdicts in ${seconds.toFixed(1)}s\n${lines.join("\n")}`);
});

it("runs the pinned Trivy", () => {
  expect(trivyVersion(trivy)).toBe(TRIVY_VERSION);
});

it("builds every image of the dev stack", () => {
  expect(buildError?.message).toBeUndefined();
  expect(built.map((r) => r.image).sort()).toEqual(devConfig().images.map((i) => i.name).sort());
});

it("judges every built image, and the bad one", () => {
  expect(built.length).toBeGreaterThan(0);
  expect([...images].sort()).toEqual([...built.map((r) => r.image), BAD].sort());
});

it("evaluated Trivy's image config checks and every policy/image-lint check on each image", () => {
  // GIVEN every verdict WHEN we look for the core checks per image THEN each has a PASS or FAIL
  expect(GIL_CHECKS.length).toBeGreaterThanOrEqual(6);
  const missing = images.flatMap((image) =>
    [...TRIVY_CORE, ...GIL_CHECKS].filter((check) => !results.some((r) => r.image === image && r.check === check)).map((check) => `${image}: ${check}`),
  );
  expect(missing).toEqual([]);
});

it("read every image's file system (the documents the GIL checks judge)", () => {
  for (const doc of documents) {
    expect(doc.files.length).toBeGreaterThan(3);
    expect(doc.files.some((f) => f.type === "file" && f.path !== "/.dockerenv")).toBe(true);
  }
});

describe("the dev stack's images", () => {
  const stack = () => results.filter((r) => r.image !== BAD);

  it("fail no check that is not an accepted exception", () => {
    const unexpected = unexpectedFindings(stack(), exceptions).map(describeResult);
    // Fix the renderer or the spec, or (only for an accepted risk) add image, check and reason to image-lint-exceptions.yaml.
    expect(unexpected).toEqual([]);
  });

  it("list only exceptions that are still needed", () => {
    const stale = staleExceptions(stack(), exceptions).map((e) => `${e.image}: ${e.check} no longer fails - remove it from image-lint-exceptions.yaml`);
    expect(stale).toEqual([]);
  });

  it("would reject an exception that matches no finding, and accept only the finding it names", () => {
    // GIVEN an exception for a check the image passes, and one for a finding the bad image has
    const passing = results.find((r) => r.image !== BAD && r.check === "DS-0002" && r.status === "PASS")!;
    const stale = { image: passing.image, check: "DS-0002", reason: "an exception for a check that passes" };
    const used = { image: BAD, check: "DS-0002", reason: "an exception for a finding that exists" };
    // THEN the first is reported stale, and the second covers DS-0002 on that image alone
    expect(staleExceptions(results, [stale, used])).toEqual([stale]);
    const left = unexpectedFindings(failures(BAD), [used]);
    expect(left.some((r) => r.check === "DS-0002")).toBe(false);
    expect(left.some((r) => r.check === "DS-0026")).toBe(true);
  });

  it("name in the exceptions only images of the dev stack", () => {
    const names = new Set(devConfig().images.map((i) => i.name));
    expect(exceptions.filter((e) => !names.has(e.image)).map((e) => `${e.image}: ${e.check}`)).toEqual([]);
  });
});

describe("image-lint-exceptions.yaml", () => {
  it("refuses an entry without a valid check id or reason, naming the property", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "image-lint-exc-"));
    try {
      const file = path.join(dir, "exceptions.yaml");
      fs.writeFileSync(file, "exceptions:\n  - image: hello-static\n    check: CKV_DOCKER_2\n    reason: short\n");
      expect(() => loadLintExceptions(file)).toThrow(/exceptions\.0\.check: a check id such as DS-0002[\s\S]*exceptions\.0\.reason: a reason a reviewer can judge/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the judge can fail: a deliberately bad image", () => {
  const messages = (check: string) => failures(BAD).filter((r) => r.check === check).map((r) => r.message);

  it("runs as root: Trivy's DS-0002", () => {
    expect(messages("DS-0002")).toEqual(["Last USER command in Dockerfile should not be 'root'"]);
  });

  it("has no HEALTHCHECK: Trivy's DS-0026", () => {
    expect(messages("DS-0026")).toEqual(["Add HEALTHCHECK instruction in your Dockerfile"]);
  });

  it("has a setuid program: GIL-0004 names it and its mode", () => {
    expect(messages("GIL-0004")).toContain("/usr/local/bin/escalate is setuid (mode 4755)");
    // The Debian base's own setuid programs are found too.
    expect(messages("GIL-0004")).toContain("/usr/bin/su is setuid (mode 4755)");
  });

  it("has a shell and a package manager: GIL-0002 and GIL-0003", () => {
    // Debian 12 has a merged /usr: /bin is a symbolic link, the shells are under /usr/bin.
    expect(messages("GIL-0002").sort()).toEqual(["shell /usr/bin/bash is present", "shell /usr/bin/dash is present", "shell /usr/bin/sh is present"]);
    expect(messages("GIL-0003")).toEqual(expect.arrayContaining(["package manager /usr/bin/apt-get is present", "package manager /usr/bin/dpkg is present"]));
  });

  it("has no OCI labels: GIL-0005 and GIL-0006", () => {
    expect(messages("GIL-0005").sort()).toEqual(["label org.opencontainers.image.revision is missing", "label org.opencontainers.image.source is missing"]);
    expect(messages("GIL-0006").sort()).toEqual(["label org.opencontainers.image.base.digest is missing", "label org.opencontainers.image.base.name is missing"]);
  });

  it("reads the setuid bit from the export exactly (tar mode 04755)", () => {
    const doc = documents.find((d) => d.image === BAD)!;
    expect(doc.files.find((f) => f.path === "/usr/local/bin/escalate")).toEqual({ path: "/usr/local/bin/escalate", type: "file", mode: 0o4755, uid: 0, gid: 0 });
    expect(doc.etc.passwd).toMatch(/^root:x:0:0:/m);
  });
});

describe("the GIL checks on documents that isolate one fault", () => {
  // A stack image's document, judged again as it is and with one thing broken in each copy:
  // every check fails on exactly its own fault (findings of the original are left out).
  let verdicts: LintResult[] = [];
  let base: LintDocument | undefined;
  beforeAll(() => {
    // An image whose runtime user is listed (GIL-0001 passes), run as 65532:65532.
    base = documents.find((d) => d.image !== BAD && results.some((r) => r.image === d.image && r.check === "GIL-0001" && r.status === "PASS"));
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
