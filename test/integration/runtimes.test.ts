/**
 * The language-runtime flavors, built for real: the dev stack's Java, Python, Node.js and
 * glibc (distroless-base) apps are compiled in their Debian builders, built on the offline
 * bases of scripts/bases.sh by the local pipeline, pushed, run and inspected.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { ImageResult, runLocalPipeline } from "../../executors/local";
import { configValuesFromStackFile, parseStackConfig } from "../../stacks/config";
import { assertEngine, docker, imageFiles, ROOT, testEnv, TestEnv } from "./helpers/env";

jest.setTimeout(20 * 60 * 1000);

const LINE = "hello from a golden image: uid=65532 gid=65532\n";
const SHELLS = ["/bin/sh", "/usr/bin/sh", "/bin/bash", "/usr/bin/bash", "/bin/dash", "/usr/bin/dash", "/bin/busybox", "/usr/bin/busybox"];
const PACKAGE_MANAGERS = ["/usr/bin/apt", "/usr/bin/apt-get", "/usr/bin/dpkg", "/usr/bin/dpkg-deb", "/sbin/apk", "/etc/apt", "/etc/dpkg"];

/**
 * Per image: its flavor's offline base (the bases.json key), the runtime's own version
 * command and what the base's repository name claims it answers, and the Debian package the
 * scanners must find in /var/lib/dpkg/status.d.
 */
const RUNTIMES = [
  { image: "hello-base", base: "distroless-base", version: ["/lib64/ld-linux-x86-64.so.2", "--version"], claims: /^ld\.so \(Debian GLIBC 2\.36-/, pkg: "libc6" },
  { image: "hello-java", base: "distroless-java", version: ["/usr/bin/java", "-version"], claims: /^openjdk version "17\./, pkg: "openjdk-17-jre-headless" },
  { image: "hello-python", base: "distroless-python", version: ["/usr/bin/python3", "--version"], claims: /^Python 3\.11\./, pkg: "python3.11" },
  { image: "hello-nodejs", base: "distroless-nodejs", version: ["/usr/bin/node", "--version"], claims: /^v18\./, pkg: "nodejs" },
] as const;

let env: TestEnv;
let results: ImageResult[];

beforeAll(async () => {
  assertEngine();
  env = testEnv();
  const missing = RUNTIMES.filter((r) => env.bases[r.base] === undefined).map((r) => r.base);
  if (missing.length > 0) {
    throw new Error(`bases.json has no ${missing.join(", ")}. Fix: run \`bash scripts/bases.sh\` (it builds the runtime bases)`);
  }
  const config = parseStackConfig(configValuesFromStackFile(YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8"))));
  const names: readonly string[] = RUNTIMES.map((r) => r.image);
  const specs = config.images.filter((i) => names.includes(i.name));
  expect(specs.map((s) => s.name).sort()).toEqual([...names].sort());
  results = await runLocalPipeline({
    images: specs,
    policy: config.policy,
    registry: env.registry,
    auth: { username: env.username, password: env.password },
    mirror: env.mirror,
    repositoryPrefix: "it-runtimes/",
    projectDir: ROOT,
  });
  // BuildKit pushed them; the engine pulls them to run and inspect what a cluster would get.
  for (const r of results) {
    docker(["pull", "--quiet", r.taggedRef]);
  }
});

describe.each(RUNTIMES)("the $image image ($base)", (runtime) => {
  const result = (): ImageResult => {
    const r = results.find((x) => x.image === runtime.image);
    if (r === undefined) throw new Error(`${runtime.image} was not built`);
    return r;
  };

  it("prints its line as UID 65532, with no network", () => {
    const out = docker(["run", "--rm", "--network", "none", result().ref]);
    expect(out.stdout).toBe(LINE);
    expect(out.stderr).toBe("");
    expect(docker(["image", "inspect", "--format", "{{.Config.User}}", result().ref]).stdout.trim()).toBe("65532:65532");
    expect(result().flavor).toBe(runtime.base);
  });

  it("has a health check that exits 0", () => {
    // GIVEN the image's own HEALTHCHECK command WHEN run in the image THEN it succeeds silently
    const health = JSON.parse(docker(["image", "inspect", "--format", "{{json .Config.Healthcheck}}", result().ref]).stdout) as { Test: string[] };
    expect(health.Test[0]).toBe("CMD");
    const [cmd, ...args] = health.Test.slice(1);
    expect(args).toContain("--health");
    const r = docker(["run", "--rm", "--network", "none", "--entrypoint", cmd, result().ref, ...args], { allowFailure: true });
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: "" });
  });

  it("has no shell and no package manager, and keeps the package records scanners read", () => {
    const files = new Set(imageFiles(result().ref));
    expect([...SHELLS, ...PACKAGE_MANAGERS].filter((f) => files.has(f))).toEqual([]);
    // Nor under another bin directory (the JRE's has only its launcher).
    expect([...files].filter((f) => /\/s?bin\/(sh|bash|dash|busybox|perl|awk|mawk|apt|apt-get|dpkg|dpkg-deb)$/.test(f))).toEqual([]);
    expect(files.has(`/var/lib/dpkg/status.d/${runtime.pkg}`)).toBe(true);
    // And the engine agrees: there is nothing to exec.
    const sh = docker(["run", "--rm", "--network", "none", "--entrypoint", "/bin/sh", result().ref, "-c", "true"], { allowFailure: true });
    expect(sh.code).not.toBe(0);
  });

  it("carries the OCI labels, with base.name and base.digest naming the base it was built on", async () => {
    const labels = JSON.parse(docker(["image", "inspect", "--format", "{{json .Config.Labels}}", result().ref]).stdout) as Record<string, string>;
    expect(labels["org.opencontainers.image.title"]).toBe(runtime.image);
    expect(labels["org.opencontainers.image.created"]).toBe("2025-11-23T00:00:00Z");
    expect(labels["org.opencontainers.image.source"]).toBe("https://git.example.com/platform/golden-images");
    const base = env.bases[runtime.base];
    expect(labels["org.opencontainers.image.base.name"]).toBe(`${base.repository}:${base.tag}`);
    const served = await env.client.digestOf(base.repository.slice(env.registry.length + 1), base.tag);
    expect(labels["org.opencontainers.image.base.digest"]).toBe(served);
    expect(result().baseDigest).toBe(served);
  });

  it("runs the runtime version its base's repository name claims", () => {
    const [cmd, ...args] = runtime.version;
    const r = docker(["run", "--rm", "--network", "none", "--entrypoint", cmd, result().ref, ...args]);
    // java -version writes to stderr, the others to stdout.
    expect(`${r.stdout}${r.stderr}`).toMatch(runtime.claims);
  });
});
