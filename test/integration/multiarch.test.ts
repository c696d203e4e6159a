/**
 * Two architectures without emulation: the dev stack's multi-platform images are built by
 * builders that run on the build platform and cross-compile for each target (`FROM
 * --platform=$BUILDPLATFORM`, `$TARGETARCH`), on bases whose index carries both platforms. The
 * pushed reference is an OCI image index with linux/amd64 and linux/arm64; each platform's
 * payload is an ELF of its own machine. The arm64 image is also run, under qemu-user-static,
 * where this machine lets binfmt_misc register it (scripts/install-qemu.sh); where it cannot,
 * the test says so and checks the payload without running it.
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { ImageSpec } from "../../components/spec";
import { ImageResult, runLocalPipeline, StepError } from "../../executors/local";
import { configValuesFromStackFile, parseStackConfig, StackConfig } from "../../stacks/config";
import { assertEngine, docker, ROOT, testEnv, TestEnv } from "./helpers/env";

jest.setTimeout(15 * 60 * 1000);

const INDEX_TYPES = ["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"];
const MANIFEST_ACCEPT = [...INDEX_TYPES, "application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json"].join(", ");
/** ELF e_machine of each architecture. */
const ELF_MACHINE: Record<string, number> = { amd64: 0x3e, arm64: 0xb7 };

let env: TestEnv;
let specs: ImageSpec[];
let results: ImageResult[];
let binfmt: string;
let work: string;

async function registryGet(repository: string, what: string, accept?: string): Promise<Response> {
  const res = await fetch(`http://${env.registry}/v2/${repository}/${what}`, {
    headers: { Authorization: `Basic ${Buffer.from(`${env.username}:${env.password}`).toString("base64")}`, ...(accept !== undefined ? { Accept: accept } : {}) },
  });
  if (!res.ok) {
    throw new Error(`GET /v2/${repository}/${what}: HTTP ${res.status}`);
  }
  return res;
}

interface Platformed {
  readonly digest: string;
  readonly platform: { readonly os: string; readonly architecture: string };
}

/** `host/path:tag@digest` -> `path`. */
function repositoryOf(ref: string): string {
  const named = ref.slice(ref.indexOf("/") + 1, ref.indexOf("@"));
  const slash = named.lastIndexOf("/");
  const colon = named.lastIndexOf(":");
  return colon > slash ? named.slice(0, colon) : named;
}

/** The index a reference names: its media type and its platforms' manifests. */
async function indexOf(ref: string): Promise<{ mediaType: string; manifests: Platformed[] }> {
  const res = await registryGet(repositoryOf(ref), `manifests/${ref.slice(ref.indexOf("@") + 1)}`, MANIFEST_ACCEPT);
  const body = (await res.json()) as { mediaType?: string; manifests?: Platformed[] };
  return { mediaType: body.mediaType ?? res.headers.get("content-type") ?? "", manifests: body.manifests ?? [] };
}

/** The ELF machine of `file` in one platform's image, read from its layers (the last layer holding it wins). */
async function elfMachine(repository: string, manifestDigest: string, file: string): Promise<{ architecture: string; machine: number }> {
  const manifest = (await (await registryGet(repository, `manifests/${manifestDigest}`, MANIFEST_ACCEPT)).json()) as { config: { digest: string }; layers: { digest: string }[] };
  const config = (await (await registryGet(repository, `blobs/${manifest.config.digest}`)).json()) as { architecture: string };
  let machine = -1;
  for (const layer of manifest.layers) {
    const blob = path.join(work, layer.digest.replace(":", "-"));
    fs.writeFileSync(blob, Buffer.from(await (await registryGet(repository, `blobs/${layer.digest}`)).arrayBuffer()));
    const out = spawnSync("tar", ["-xzOf", blob, file.replace(/^\//, "")], { maxBuffer: 64 * 1024 * 1024 });
    if (out.status === 0 && out.stdout.length >= 20) {
      const elf = out.stdout as Buffer;
      expect(elf.subarray(0, 4).toString("latin1")).toBe("\x7fELF");
      machine = elf.readUInt16LE(18);
    }
  }
  return { architecture: config.architecture, machine };
}

/** The dev stack's config, and its local pipeline run against the test registry. */
function devConfig(): StackConfig {
  return parseStackConfig(configValuesFromStackFile(YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8"))));
}

function localRun(images: readonly ImageSpec[]): Promise<ImageResult[]> {
  return runLocalPipeline({
    images,
    policy: devConfig().policy,
    registry: env.registry,
    auth: { username: env.username, password: env.password },
    mirror: env.mirror,
    repositoryPrefix: "it-multiarch/",
    projectDir: ROOT,
  });
}

beforeAll(async () => {
  assertEngine();
  env = testEnv();
  work = fs.mkdtempSync(path.join(os.tmpdir(), "golden-multiarch-"));
  binfmt = execFileSync("bash", [path.join(ROOT, "scripts", "install-qemu.sh")], { encoding: "utf8" }).trim();
  specs = devConfig().images.filter((i) => (i.platforms ?? []).length > 1);
  results = await localRun(specs);
});

afterAll(() => {
  if (work !== undefined) {
    fs.rmSync(work, { recursive: true, force: true });
  }
});

it("GIVEN the dev stack THEN the static and cc images are the multi-platform ones", () => {
  expect(specs.map((s) => [s.name, s.flavor, s.platforms])).toEqual([
    ["hello-static", "distroless-static", ["linux/amd64", "linux/arm64"]],
    ["hello-cc", "distroless-cc", ["linux/amd64", "linux/arm64"]],
  ]);
});

it("GIVEN each multi-platform base THEN the mirror serves an index with both platforms", async () => {
  for (const name of ["distroless-static", "distroless-cc"]) {
    const index = await indexOf(env.bases[name].ref);
    expect([name, INDEX_TYPES.includes(index.mediaType)]).toEqual([name, true]);
    expect([name, index.manifests.map((m) => `${m.platform.os}/${m.platform.architecture}`).sort()]).toEqual([name, ["linux/amd64", "linux/arm64"]]);
  }
});

describe.each(["hello-static", "hello-cc"])("the %s image", (name) => {
  const result = () => {
    const r = results.find((x) => x.image === name);
    if (r === undefined) throw new Error(`${name} was not built`);
    return r;
  };

  it("is pushed as an index of linux/amd64 and linux/arm64, each payload an ELF of its own machine", async () => {
    const index = await indexOf(result().ref);
    expect(INDEX_TYPES).toContain(index.mediaType);
    const platforms = index.manifests.filter((m) => m.platform.architecture !== "unknown");
    expect(platforms.map((m) => `${m.platform.os}/${m.platform.architecture}`).sort()).toEqual(["linux/amd64", "linux/arm64"]);
    for (const m of platforms) {
      const elf = await elfMachine(repositoryOf(result().ref), m.digest, "/hello");
      expect({ architecture: elf.architecture, machine: elf.machine }).toEqual({ architecture: m.platform.architecture, machine: ELF_MACHINE[m.platform.architecture] });
    }
  });

  it("runs on arm64 under qemu-user-static where binfmt allows, as UID 65532", async () => {
    if (binfmt !== "binfmt=registered") {
      // Not a skip: the payload's machine was checked above; running it needs the kernel's help.
      process.stdout.write(`multiarch: could not run ${name} for linux/arm64 on this machine (${binfmt}); its payload was checked as an aarch64 ELF only\n`);
      expect(binfmt).toMatch(/^binfmt=unavailable: /);
      return;
    }
    // The arm64 manifest by its own digest: the engine keeps one platform per reference, and the
    // index's reference may hold the host's image already.
    const arm64 = (await indexOf(result().ref)).manifests.find((m) => m.platform.architecture === "arm64");
    const ref = `${env.registry}/${repositoryOf(result().ref)}@${arm64?.digest}`;
    const out = docker(["run", "--rm", "--platform", "linux/arm64", "--network", "none", ref]).stdout;
    expect(out).toBe("hello from a golden image: uid=65532 gid=65532\n");
    expect(docker(["image", "inspect", "--format", "{{.Architecture}}", ref]).stdout.trim()).toBe("arm64");
  });
});

it("GIVEN a base without every platform THEN the pin step stops before anything is built, naming base and platforms", async () => {
  // distroless-base is served for linux/amd64 only: BuildKit would build the arm64 image on it
  // anyway (it only warns), an image of the wrong machine that scans clean.
  const base = devConfig().images.find((i) => i.name === "hello-base") as ImageSpec;
  const name = `wrong-platform-${process.pid}`;
  let error: unknown;
  try {
    await localRun([{ ...base, name, platforms: ["linux/amd64", "linux/arm64"] }]);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(StepError);
  expect((error as StepError).step).toBe("pin");
  expect((error as StepError).message).toMatch(/base ".*distroless\/base-debian12:nonroot" serves linux\/amd64, not linux\/arm64 of platforms \["linux\/amd64","linux\/arm64"\]\. Fix: /);
  expect(await env.client.tags(`it-multiarch/${name}`)).toEqual([]);
});
