/**
 * Real builds: every flavor that can be realized offline is rendered, built by the local
 * Docker engine, pushed by digest to the local registry (with a login), run, and inspected.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { EnvironmentPolicy, ImageSpec } from "../../components/spec";
import { ImageResult, runLocalPipeline, StepError } from "../../executors/local";
import { ValidationError } from "../../components/render/issues";
import { configValuesFromStackFile, parseStackConfig, StackConfig } from "../../stacks/config";
import { assertEngine, docker, DOCKER, imageFiles, ROOT, testEnv, TestEnv } from "./helpers/env";

jest.setTimeout(15 * 60 * 1000);

const SHELLS = ["/bin/sh", "/usr/bin/sh", "/bin/bash", "/usr/bin/bash", "/bin/dash", "/usr/bin/dash", "/bin/busybox"];
/** Package manager programs; their package databases (/var/lib/dpkg/status, /lib/apk/db) stay for scanners. */
const PACKAGE_MANAGERS = ["/usr/bin/apt", "/usr/bin/apt-get", "/usr/bin/dpkg", "/usr/bin/dpkg-deb", "/sbin/apk", "/etc/apt"];
/** Which offline base (scripts/bases.sh) each buildable flavor runs on. */
const BASE_OF: Record<string, string | undefined> = {
  "distroless-static": "distroless-static",
  "distroless-base": "distroless-base",
  "distroless-cc": "distroless-cc",
  "distroless-java": "distroless-java",
  "distroless-python": "distroless-python",
  "distroless-nodejs": "distroless-nodejs",
  "debian-slim": "debian-slim",
  scratch: undefined,
};

function devConfig(): StackConfig {
  return parseStackConfig(configValuesFromStackFile(YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8"))));
}

let env: TestEnv;

/** The local pipeline against the test registry, under the `it/` prefix. */
function localRun(specs: readonly ImageSpec[], policy: EnvironmentPolicy): Promise<ImageResult[]> {
  return runLocalPipeline({
    images: specs,
    policy,
    registry: env.registry,
    auth: { username: env.username, password: env.password },
    mirror: env.mirror,
    repositoryPrefix: "it/",
    projectDir: ROOT,
  });
}
let results: ImageResult[];
let images: ImageSpec[];

beforeAll(async () => {
  assertEngine();
  env = testEnv();
  const config = devConfig();
  // One image also carries an ENV value with characters a shell or the Dockerfile could expand.
  images = config.images.map((i) => (i.name === "hello-cc" ? { ...i, env: { GREETING: 'costs $5 "quoted" \\ back' } } : i));
  results = await localRun(images, config.policy);
  // BuildKit pushed them; the engine pulls them to run and inspect what a cluster would get.
  for (const r of results) {
    docker(["pull", "--quiet", r.taggedRef]);
  }
});

it("builds every offline flavor of the dev stack", () => {
  expect(results.map((r) => r.flavor).sort()).toEqual(["debian-slim", "distroless-base", "distroless-cc", "distroless-java", "distroless-nodejs", "distroless-python", "distroless-static", "scratch"]);
});

describe.each(["hello-static", "hello-cc", "hello-scratch", "hello-debian"])("the %s image", (name) => {
  const result = () => {
    const r = results.find((x) => x.image === name);
    if (r === undefined) throw new Error(`${name} was not built`);
    return r;
  };

  it("runs its program, as UID 65532, with no network", () => {
    const out = docker(["run", "--rm", "--network", "none", result().ref]).stdout;
    expect(out).toBe("hello from a golden image: uid=65532 gid=65532\n");
    expect(docker(["image", "inspect", "--format", "{{.Config.User}}", result().ref]).stdout.trim()).toBe("65532:65532");
    expect(result().user).toBe("65532:65532");
  });

  it("has no shell and no package manager", () => {
    // GIVEN every file of the image WHEN we look for shells and package managers THEN none is there
    const files = new Set(imageFiles(result().ref));
    expect(files.has("/hello") || files.has("/usr/local/bin/hello")).toBe(true);
    expect([...SHELLS, ...PACKAGE_MANAGERS].filter((f) => files.has(f))).toEqual([]);
    if (result().flavor === "debian-slim") {
      // Strict hardening removed dpkg but kept what scanners need to list the packages.
      expect(files.has("/var/lib/dpkg/status")).toBe(true);
    }
    // And the engine agrees: there is nothing to exec.
    const sh = docker(["run", "--rm", "--network", "none", "--entrypoint", "/bin/sh", result().ref, "-c", "true"], { allowFailure: true });
    expect(sh.code).not.toBe(0);
  });

  it("carries the OCI labels, with base.digest equal to the base's real digest", async () => {
    const labels = JSON.parse(docker(["image", "inspect", "--format", "{{json .Config.Labels}}", result().ref]).stdout) as Record<string, string>;
    expect(labels["org.opencontainers.image.title"]).toBe(name);
    expect(labels["org.opencontainers.image.created"]).toBe("2025-11-23T00:00:00Z");
    const baseKey = BASE_OF[result().flavor];
    if (baseKey === undefined) {
      expect(labels["org.opencontainers.image.base.digest"]).toBeUndefined();
      return;
    }
    const base = env.bases[baseKey];
    const path = base.repository.slice(env.registry.length + 1);
    const served = await env.client.digestOf(path, base.tag);
    expect(labels["org.opencontainers.image.base.digest"]).toBe(served);
    expect(labels["org.opencontainers.image.base.name"]).toBe(`${base.repository}:${base.tag}`);
  });

  it("carries the source URL of its spec and the revision of the last commit that touched its context (none while it is dirty)", () => {
    const labels = JSON.parse(docker(["image", "inspect", "--format", "{{json .Config.Labels}}", result().ref]).stdout) as Record<string, string>;
    const spec = images.find((i) => i.name === name)!;
    expect(labels["org.opencontainers.image.source"]).toBe("https://git.example.com/platform/golden-images");
    const context = spec.context ?? ".";
    const dirty = execFileSync("git", ["-C", ROOT, "status", "--porcelain", "--untracked-files=all", "--", context], { encoding: "utf8" }).trim() !== "";
    const last = execFileSync("git", ["-C", ROOT, "log", "-1", "--format=%H", "--", context], { encoding: "utf8" }).trim();
    expect(labels["org.opencontainers.image.revision"]).toBe(dirty || last === "" ? undefined : last);
  });

  it("is in the registry at exactly the digest that was reported", async () => {
    const r = result();
    const [repository, tag] = r.taggedRef.split(/:(?=[^:/]+$)/);
    const repoPath = repository.slice(env.registry.length + 1);
    expect(await env.client.digestOf(repoPath, tag)).toBe(r.digest);
    expect(await env.client.digestOf(repoPath, r.digest)).toBe(r.digest);
    expect(r.ref).toBe(`${repository}@${r.digest}`);
    const repoDigests = JSON.parse(docker(["image", "inspect", "--format", "{{json .RepoDigests}}", r.taggedRef]).stdout) as string[];
    expect(repoDigests).toContain(r.ref);
  });
});

/** `docker export` of an image as `tar -tv` lines (mode, owner, size, time, path). */
function exportListing(ref: string): string[] {
  const id = docker(["create", ref]).stdout.trim();
  try {
    return execFileSync("sh", ["-c", `${DOCKER} export ${id} | tar -tv --numeric-owner`], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 })
      .split("\n")
      .filter((l) => l !== "");
  } finally {
    docker(["rm", "-f", id], { allowFailure: true });
  }
}

/** One file of an image, read from `docker export`. */
function exportedFile(ref: string, file: string): string {
  const id = docker(["create", ref]).stdout.trim();
  try {
    return execFileSync("sh", ["-c", `${DOCKER} export ${id} | tar -xO ${file}`], { encoding: "utf8" });
  } finally {
    docker(["rm", "-f", id], { allowFailure: true });
  }
}

describe("hardening findings stay fixed", () => {
  it("no built image holds a setuid or setgid file (CIS Docker Benchmark 4.8)", () => {
    expect(results.length).toBeGreaterThan(0);
    for (const r of results) {
      const listing = exportListing(r.ref);
      expect(listing.length).toBeGreaterThan(0);
      // `-rwsr-xr-x`: s or S in the user or group execute place; directories may keep setgid (inherited group, no privilege).
      const setid = listing.filter((l) => !l.startsWith("d") && /^.{3}[sS]|^.{6}[sS]/.test(l));
      expect({ image: r.image, setid }).toEqual({ image: r.image, setid: [] });
    }
  });

  it("hello-debian keeps the programs that were setuid or setgid, stripped of the bits", () => {
    const r = results.find((x) => x.image === "hello-debian")!;
    const listing = exportListing(r.ref);
    const was = ["usr/bin/su", "usr/bin/mount", "usr/bin/umount", "usr/bin/passwd", "usr/bin/chfn", "usr/bin/chsh", "usr/bin/gpasswd", "usr/bin/newgrp", "usr/bin/chage", "usr/bin/expiry", "usr/sbin/unix_chkpwd"];
    for (const file of was) {
      const line = listing.find((l) => l.endsWith(` ${file}`) || l.endsWith(` ./${file}`));
      expect({ file, mode: line?.split(/\s+/)[0] }).toEqual({ file, mode: "-rwxr-xr-x" });
    }
  });

  it("hello-scratch has /etc/passwd and /etc/group with nonroot 65532, root and nobody", () => {
    const r = results.find((x) => x.image === "hello-scratch")!;
    const passwd = exportedFile(r.ref, "etc/passwd");
    expect(passwd).toContain("\nnonroot:x:65532:65532:");
    expect(passwd.split("\n").map((l) => l.split(":")[0])).toEqual(["root", "nobody", "nonroot", ""]);
    expect(exportedFile(r.ref, "etc/group")).toBe("root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n");
    // Root owns them and only root may change them.
    const modes = exportListing(r.ref).filter((l) => / etc\/(passwd|group)$/.test(l)).map((l) => l.split(/\s+/).slice(0, 2).join(" "));
    expect(modes).toEqual(["-rw-r--r-- 0/0", "-rw-r--r-- 0/0"]);
  });
});

it("keeps ENV values literal: no variable expansion, quotes and backslashes intact", () => {
  const r = results.find((x) => x.image === "hello-cc")!;
  const envs = JSON.parse(docker(["image", "inspect", "--format", "{{json .Config.Env}}", r.ref]).stdout) as string[];
  expect(envs).toContain('GREETING=costs $5 "quoted" \\ back');
});

it("is reproducible: a second run of unchanged specs pushes the same tag at the same digest", async () => {
  const again = await localRun(images.filter((i) => i.name === "hello-static"), devConfig().policy);
  const first = results.find((x) => x.image === "hello-static")!;
  expect(again[0].taggedRef).toBe(first.taggedRef);
  expect(again[0].digest).toBe(first.digest);
});

describe("failures", () => {
  function failingSpec(run: string, name: string): ImageSpec {
    return {
      name,
      flavor: "distroless-static",
      context: "images/hello",
      builders: [{ name: "build", copy: [{ src: "hello.c", dest: "/src/hello.c" }], run: [run] }],
      copy: [{ from: "build", src: "/out/hello", dest: "/hello" }],
      entrypoint: ["/hello"],
    };
  }

  /** What the local pipeline throws for one image, or undefined when it succeeds. */
  async function failureOf(spec: ImageSpec): Promise<unknown> {
    try {
      await localRun([spec], { environment: "dev", allowTagOnlyBases: true });
      return undefined;
    } catch (e) {
      return e;
    }
  }

  it("reports a builder-stage failure with the failing step and pushes nothing", async () => {
    const name = `broken-${process.pid}`;
    const run = "gcc -static -o /out/hello does-not-exist.c";
    const error = await failureOf(failingSpec(run, name));
    expect(error).toBeInstanceOf(StepError);
    expect((error as StepError).step).toBe("build");
    expect((error as StepError).message).toContain("does-not-exist.c");
    expect(await env.client.tags(`it/${name}`)).toEqual([]);
  });

  it("refuses a spec that breaks hardening before anything is built or pushed", async () => {
    const name = `rootly-${process.pid}`;
    const imageIds = () => new Set(docker(["image", "ls", "-q", "--no-trunc"]).stdout.split("\n").filter((l) => l !== ""));
    const before = imageIds();
    const error = await failureOf({ ...failingSpec("true", name), user: "0:0" });
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toContain("images[0].user: runs as root");
    expect([...imageIds()].filter((id) => !before.has(id))).toEqual([]);
    expect(await env.client.tags(`it/${name}`)).toEqual([]);
  });
});

it("keeps the hardened static image under 1 MiB over its payload", () => {
  // A size budget, not a timing: the static base must stay distroless-small.
  const r = results.find((x) => x.image === "hello-static")!;
  const imageBytes = Number(docker(["image", "inspect", "--format", "{{.Size}}", r.ref]).stdout.trim());
  const id = docker(["create", r.ref]).stdout.trim();
  try {
    const listing = execFileSync("sh", ["-c", `${DOCKER} export ${id} | tar -tv`], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    const payload = listing.split("\n").find((l) => / hello$/.test(l));
    const payloadBytes = Number(payload?.trim().split(/\s+/)[2]);
    expect(payloadBytes).toBeGreaterThan(100 * 1024);
    expect(imageBytes - payloadBytes).toBeLessThan(1024 * 1024);
  } finally {
    docker(["rm", "-f", id], { allowFailure: true });
  }
});
