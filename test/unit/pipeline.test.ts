/**
 * HardenedImage and GoldenImagePipeline under Pulumi mocks: resource types, key inputs,
 * parenting, names, validation before creation, and quiet (deterministic) inputs.
 */
import * as pulumi from "@pulumi/pulumi";
import { GoldenImagePipeline, GoldenImagePipelineArgs, HardenedImage, HARDENED_IMAGE_DEFAULTS, InvalidArgumentsError, ImageSpec, Registry } from "../../components";
import { descendantsOf, MockRecorder, REGISTRY_DIGESTS, REGISTRY_LOOKUPS, settle, setupMocks, valueOf } from "./mocks";
import { renderDockerfile } from "../../components/render/dockerfile";
import { prepareStats } from "../../components/render/prepare";
import { ValidationError } from "../../components/render/issues";
import { pinSpec } from "../../cli/steps";
import { RegistryClient } from "../../cli/registry-client";

const DIGEST = `sha256:${"1".repeat(64)}`;
const GCC = `library/gcc:12-bookworm@sha256:${"2".repeat(64)}`;

function spec(name: string, flavor: ImageSpec["flavor"] = "distroless-static"): ImageSpec {
  return {
    name,
    flavor,
    ...(flavor === "scratch" ? {} : { base: `distroless/static-debian12:nonroot@${DIGEST}` }),
    context: "images/hello",
    builders: [{ name: "build", image: GCC, copy: [{ src: "hello.c", dest: "/src/hello.c" }], run: ["gcc -static -o /out/hello hello.c"] }],
    copy: [{ from: "build", src: "/out/hello", dest: "/hello" }],
    entrypoint: ["/hello"],
  };
}

const ARGS: GoldenImagePipelineArgs = {
  registry: { type: "ecr", repositoryPrefix: "golden/" },
  images: [spec("hello-static"), spec("hello-scratch", "scratch")],
  policy: { environment: "prod", mirror: "mirror.example.internal/hub", sourceDateEpoch: 1763856000 },
};

describe("GoldenImagePipeline", () => {
  let mocks: MockRecorder;
  let pipeline: GoldenImagePipeline;
  beforeAll(async () => {
    mocks = setupMocks();
    pipeline = new GoldenImagePipeline("golden", ARGS);
    await valueOf(pipeline.refs);
    await settle();
  });

  it("creates one registry, one repository and one build per image", () => {
    expect(mocks.ofType("golden-image:registry:EcrRegistry").map((r) => r.name)).toEqual(["golden-registry"]);
    expect(mocks.ofType("aws:ecr/repository:Repository").map((r) => r.inputs.name).sort()).toEqual(["golden/hello-scratch", "golden/hello-static"]);
    expect(mocks.ofType("golden-image:image:HardenedImage").map((r) => r.name).sort()).toEqual(["golden-hello-scratch", "golden-hello-static"]);
    expect(mocks.ofType("docker-build:index:Image").map((r) => r.name).sort()).toEqual(["golden-hello-scratch-build", "golden-hello-static-build"]);
  });

  it("parents every resource under the pipeline", () => {
    // GIVEN every resource the mocks saw WHEN we walk the pipeline's children THEN all are reached
    const recorded = mocks.resources.filter((r) => r.name !== "golden").map((r) => `${r.type}::${r.name}`).sort();
    expect(descendantsOf(pipeline)).toEqual(recorded);
  });

  it("outputs image name -> repository@sha256 digest refs", async () => {
    const refs = await valueOf(pipeline.refs);
    expect(Object.keys(refs)).toEqual(["hello-scratch", "hello-static"]);
    for (const [name, ref] of Object.entries(refs)) {
      expect(ref).toMatch(new RegExp(`^[^@]+/golden/${name}@sha256:[a-f0-9]{64}$`));
    }
  });

  it("exposes the rendered Dockerfile of each image as an output", async () => {
    const dockerfiles = await valueOf(pipeline.dockerfiles);
    expect(dockerfiles["hello-static"]).toContain(`FROM mirror.example.internal/hub/distroless/static-debian12:nonroot@${DIGEST} AS runtime`);
    expect(dockerfiles["hello-scratch"]).toContain("FROM scratch AS runtime");
  });

  it("builds each image with the rendered Dockerfile, immutable content tag, a reproducible push and a registry cache", () => {
    const build = mocks.byName("golden-hello-static-build").inputs;
    expect(build.dockerfile.inline).toContain("USER 65532:65532");
    expect(build.push).toBe(false);
    // Pushed with timestamps rewritten to SOURCE_DATE_EPOCH, like the plan's buildctl step.
    expect(build.exports).toEqual([{ raw: `type=registry,name=${build.tags[0]},oci-mediatypes=true,rewrite-timestamp=true` }]);
    expect(build.platforms).toEqual(["linux/amd64"]);
    expect(build.context.location).toBe("images/hello");
    expect(build.buildArgs).toEqual({ SOURCE_DATE_EPOCH: "1763856000" });
    expect(build.tags).toHaveLength(1);
    expect(build.tags[0]).toMatch(/\/golden\/hello-static:v[a-f0-9]{16}$/);
    expect(build.cacheFrom).toEqual([{ registry: { ref: expect.stringMatching(/\/golden\/hello-static:buildcache$/) } }]);
    expect(build.cacheTo[0].registry).toMatchObject({ mode: "max", imageManifest: true, ociMediaTypes: true });
    expect(build.buildOnPreview).toBe(false);
    // The registry login reaches the provider as a secret, never as plain text in the state.
    expect(build.registries).toEqual({
      [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig,
      value: [{ address: expect.stringContaining("registry.example.test"), username: "AWS", password: "mock-password" }],
    });
  });
});

describe("GoldenImagePipeline validation", () => {
  beforeEach(() => setupMocks());

  it("reports every problem at once, with paths from the args root, before creating anything", () => {
    // GIVEN two bad images and a bad registry setting
    const mocks = setupMocks();
    const bad: GoldenImagePipelineArgs = {
      registry: { type: "ecr", repositoryPrefix: "Golden" },
      images: [{ ...spec("hello-static"), user: 0 }, { ...spec("hello-static"), base: "distroless/static-debian12:nonroot" }],
      policy: ARGS.policy,
    };
    // WHEN the pipeline is constructed THEN one report lists them all
    let error: unknown;
    try {
      new GoldenImagePipeline("bad", bad);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidArgumentsError);
    const paths = (error as InvalidArgumentsError).issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(["images[0].user", "images[1].base", "images[1].name", "registry.repositoryPrefix"]));
    expect((error as Error).message).toContain('images[0].user: runs as root (value: 0). Fix: use a non-root UID such as 65532');
    expect(pulumi.runtime.isDryRun()).toBe(false);
    // The component itself registered, but no child was created.
    expect(mocks.resources.filter((r) => r.type !== "golden-image:index:GoldenImagePipeline")).toEqual([]);
  });

  it("refuses tag-only bases in prod even when the policy asks for them", () => {
    expect(() => new GoldenImagePipeline("p", { ...ARGS, policy: { ...ARGS.policy, allowTagOnlyBases: true } })).toThrow(
      "policy.allowTagOnlyBases: prod never allows tag-only bases (value: true)",
    );
  });

  it("uses an existing registry instead of creating one", async () => {
    const mocks = setupMocks();
    const existing: Registry = {
      kind: "oci",
      imageNames: ["hello-static"],
      repositoryUrl: (image: string) => pulumi.output(`registry.example.internal/${image}`),
      auth: () => ({ kind: "basic", address: pulumi.output("registry.example.internal"), username: pulumi.output("u"), password: pulumi.secret("p") }),
      grant: () => {
        throw new Error("not used");
      },
      cacheRef: () => undefined,
      tagRules: { immutable: true, mutableTags: [] },
    };
    const p = new GoldenImagePipeline("ext", { registry: { type: "existing", registry: existing }, images: [spec("hello-static")], policy: ARGS.policy });
    const refs = await valueOf(p.refs);
    await settle();
    expect(refs["hello-static"]).toMatch(/^registry\.example\.internal\/hello-static@sha256:/);
    expect(mocks.ofType("aws:ecr/repository:Repository")).toEqual([]);
  });
});

describe("HardenedImage", () => {
  it("applies its documented defaults", async () => {
    // GIVEN no optional args WHEN built THEN the defaults in HARDENED_IMAGE_DEFAULTS are the ones used
    const mocks = setupMocks();
    const p = new GoldenImagePipeline("d", { ...ARGS, images: [spec("hello-static")] });
    await valueOf(p.refs);
    await settle();
    const build = mocks.byName("d-hello-static-build").inputs;
    expect(build.tags[0]).toMatch(new RegExp(`:${HARDENED_IMAGE_DEFAULTS.tagPrefix}[a-f0-9]{16}$`));
    expect(HARDENED_IMAGE_DEFAULTS.cache).toBe(true);
    expect(build.cacheFrom[0].registry.ref).toMatch(/:buildcache$/);
    expect(build.buildOnPreview).toBe(HARDENED_IMAGE_DEFAULTS.buildOnPreview);
    expect(build.context.location).toBe("images/hello");
  });

  it("changes its tag when the Dockerfile changes, and only then", async () => {
    const tagFor = async (s: ImageSpec) => {
      const mocks = setupMocks();
      const p = new GoldenImagePipeline("t", { ...ARGS, images: [s] });
      await valueOf(p.refs);
      await settle();
      return mocks.byName(`t-${s.name}-build`).inputs.tags[0] as string;
    };
    const a = await tagFor(spec("hello-static"));
    expect(await tagFor(spec("hello-static"))).toBe(a);
    expect(await tagFor({ ...spec("hello-static"), env: { MODE: "x" } })).not.toBe(a);
  });

  it("can turn the registry cache off", async () => {
    const mocks = setupMocks();
    const p = new GoldenImagePipeline("n", { ...ARGS, images: [spec("hello-static")], build: { cache: false } });
    await valueOf(p.refs);
    await settle();
    const build = mocks.byName("n-hello-static-build").inputs;
    expect(build.cacheFrom).toBeUndefined();
    expect(build.cacheTo).toBeUndefined();
  });

  it("refuses an absolute base directory (it would differ between machines)", () => {
    setupMocks();
    expect(() => new GoldenImagePipeline("abs", { ...ARGS, build: { baseDirectory: "/home/me/project" } })).toThrow(
      'build.baseDirectory: is absolute, which differs between machines and makes previews noisy (value: "/home/me/project")',
    );
  });

  it("passes push credentials with a secret password", async () => {
    const mocks = setupMocks();
    const p = new GoldenImagePipeline("s", { ...ARGS, images: [spec("hello-static")] });
    await valueOf(p.refs);
    await settle();
    const build = mocks.byName("s-hello-static-build").inputs;
    // The login reaches the provider as a secret (Pulumi's secret signature wraps the whole list).
    expect(build.registries[pulumi.runtime.specialSigKey]).toBe(pulumi.runtime.specialSecretSig);
    expect(build.registries.value).toEqual([{ address: "123456789012.dkr.registry.example.test", username: "AWS", password: "mock-password" }]);
    expect(p.images["hello-static"]).toBeInstanceOf(HardenedImage);
  });
});

describe("validation errors reach the Pulumi CLI as a report, not a stack trace", () => {
  it("are RunErrors for Pulumi, from the pure layer and from components alike", () => {
    setupMocks();
    const errors: unknown[] = [];
    for (const make of [
      () => new GoldenImagePipeline("v1", { ...ARGS, images: [{ ...spec("x1"), user: 0 }] }),
      () => new HardenedImage("v2", { spec: { ...spec("x2"), user: 0 }, policy: ARGS.policy, registry: undefined as never }),
    ]) {
      try {
        make();
      } catch (e) {
        errors.push(e);
      }
    }
    expect(errors).toHaveLength(2);
    for (const e of errors) {
      expect(pulumi.RunError.isInstance(e)).toBe(true);
      expect((e as Error).message).toContain("user: runs as root (value: 0)");
    }
  });
});

describe("base pinning at preview (tag-only bases, dev)", () => {
  const DEV = { environment: "dev" as const, mirror: "mirror.example.internal/hub", allowTagOnlyBases: true, sourceDateEpoch: 1763856000 };
  const tagOnly: ImageSpec = { ...spec("hello-static"), base: "distroless/static-debian12:nonroot", builders: [{ ...spec("x").builders![0], image: "library/gcc:12-bookworm" }] };
  const BASE = "mirror.example.internal/hub/distroless/static-debian12:nonroot";
  const BUILDER = "mirror.example.internal/hub/library/gcc:12-bookworm";

  async function preview(): Promise<{ dockerfile: string; tag: string }> {
    const mocks = setupMocks();
    const p = new GoldenImagePipeline("pin", { registry: { type: "ecr" }, images: [tagOnly], policy: DEV });
    const dockerfile = (await valueOf(p.dockerfiles))["hello-static"];
    await settle();
    return { dockerfile, tag: mocks.byName("pin-hello-static-build").inputs.tags[0] };
  }

  afterEach(() => {
    REGISTRY_DIGESTS.clear();
    REGISTRY_LOOKUPS.length = 0;
  });

  it("GIVEN tag-only bases THEN each is looked up once through the mirror and the Dockerfile is pinned to what it serves", async () => {
    REGISTRY_DIGESTS.set(BASE, `sha256:${"a".repeat(64)}`);
    REGISTRY_DIGESTS.set(BUILDER, `sha256:${"b".repeat(64)}`);
    const { dockerfile } = await preview();
    expect([...REGISTRY_LOOKUPS].sort()).toEqual([BASE, BUILDER]);
    expect(dockerfile).toContain(`FROM ${BUILDER}@sha256:${"b".repeat(64)} AS build`);
    expect(dockerfile).toContain(`FROM ${BASE}@sha256:${"a".repeat(64)} AS runtime`);
    expect(dockerfile).toContain(`org.opencontainers.image.base.digest="sha256:${"a".repeat(64)}"`);
  });

  it("GIVEN the base moved in the registry THEN the preview shows a digest diff and a new content tag, and nothing else changes", async () => {
    REGISTRY_DIGESTS.set(BASE, `sha256:${"a".repeat(64)}`);
    const before = await preview();
    REGISTRY_DIGESTS.set(BASE, `sha256:${"c".repeat(64)}`);
    const after = await preview();
    expect(after.tag).not.toBe(before.tag);
    const changed = after.dockerfile.split("\n").filter((line, i) => line !== before.dockerfile.split("\n")[i]);
    expect(changed).toEqual([`FROM ${BASE}@sha256:${"c".repeat(64)} AS runtime`, `LABEL org.opencontainers.image.base.digest="sha256:${"c".repeat(64)}" \\`]);
  });

  it("GIVEN every base pinned (prod) THEN nothing is looked up", async () => {
    setupMocks();
    const p = new GoldenImagePipeline("prodpin", ARGS);
    await valueOf(p.refs);
    await settle();
    expect(REGISTRY_LOOKUPS).toEqual([]);
  });

  it("renders the same Dockerfile as the local executor's pin and render steps for the same digests", async () => {
    REGISTRY_DIGESTS.set(BASE, `sha256:${"a".repeat(64)}`);
    REGISTRY_DIGESTS.set(BUILDER, `sha256:${"b".repeat(64)}`);
    const { dockerfile } = await preview();
    // The local pin step asks a registry client; this one serves the same table.
    const client = { digestOf: async (p: string, ref: string) => REGISTRY_DIGESTS.get(`mirror.example.internal/${p}:${ref}`) } as unknown as RegistryClient;
    const pinned = await pinSpec(tagOnly, DEV, () => client);
    expect(renderDockerfile(pinned.spec, pinned.policy)).toBe(dockerfile);
  });
});

describe("one validation path", () => {
  it("validates each image once on the way to a Dockerfile: the pipeline prepares it, the HardenedImage reuses it", async () => {
    setupMocks();
    const images = [spec("once-a"), spec("once-b"), spec("once-c", "scratch")];
    const before = prepareStats.validations;
    const p = new GoldenImagePipeline("once", { ...ARGS, images });
    await valueOf(p.dockerfiles);
    await settle();
    expect(prepareStats.validations - before).toBe(images.length);
  });

  it("throws the one ValidationError class, which Pulumi prints as a report (a RunError)", () => {
    setupMocks();
    let error: unknown;
    try {
      new GoldenImagePipeline("bad", { ...ARGS, build: { baseDirectory: 42 as unknown as string } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toBeInstanceOf(InvalidArgumentsError);
    expect(pulumi.RunError.isInstance(error)).toBe(true);
    expect((error as ValidationError).issues.map((i) => i.path)).toEqual(["build.baseDirectory"]);
  });
});
