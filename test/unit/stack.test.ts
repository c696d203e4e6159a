/**
 * The per-environment program, run under mocks with each Pulumi.<env>.yaml, and the
 * determinism guarantee: the same program from two directories gives identical inputs.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { InvalidArgumentsError, Registry, RegistryAuth } from "../../components";
import { registerRegistryBackend } from "../../components/registry/backends";
import { CONFIG_KEYS, configValuesFromStackFile, parseStackConfig } from "../../stacks/config";
import { createStack } from "../../stacks/program";
import { MockRecorder, settle, setupMocks, valueOf } from "./mocks";

const ROOT = path.join(__dirname, "..", "..");

function stackFile(env: string): Record<string, unknown> {
  return configValuesFromStackFile(YAML.parse(fs.readFileSync(path.join(ROOT, `Pulumi.${env}.yaml`), "utf8")));
}

/** Sets the stack's config the way the Pulumi engine hands it to a program (JSON for objects). */
function useConfig(values: Record<string, unknown>): void {
  const all: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) {
    all[`golden-images:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
  }
  pulumi.runtime.setAllConfig(all);
}

async function runStack(values: Record<string, unknown>, cwd = ROOT): Promise<MockRecorder> {
  const mocks = setupMocks("golden-images", "test");
  const before = process.cwd();
  process.chdir(cwd);
  try {
    useConfig(values);
    const pipeline = createStack();
    await valueOf(pipeline.refs);
    await settle();
    return mocks;
  } finally {
    process.chdir(before);
  }
}

describe.each(["dev", "staging", "prod"])("the %s stack", (env) => {
  const values = stackFile(env);
  const images = (values.images as { name: string }[]).map((i) => i.name).sort();
  let mocks: MockRecorder;
  beforeAll(async () => {
    mocks = await runStack(values);
  });

  it("composes one pipeline with a repository and a build per configured image", () => {
    expect(mocks.ofType("golden-image:index:GoldenImagePipeline").map((r) => r.name)).toEqual([`golden-${env}`]);
    expect(mocks.ofType("aws:ecr/repository:Repository").map((r) => r.inputs.name).sort()).toEqual(images.map((i) => `golden/${i}`));
    expect(mocks.ofType("docker-build:index:Image")).toHaveLength(images.length);
  });

  it("signs with a generated cosign key pair by default (signing: {}), its key and password secrets", () => {
    expect(mocks.ofType("golden-image:signing:SigningKey").map((r) => r.name)).toEqual([`golden-${env}-signing`]);
    expect(mocks.ofType("tls:index/privateKey:PrivateKey")).toHaveLength(1);
    expect(mocks.ofType("random:index/randomPassword:RandomPassword")).toHaveLength(1);
  });

  it("uses immutable tags and a lifecycle that keeps the configured releases", () => {
    const registry = values.registry as { lifecycle: { keepReleases: number; untaggedRetentionDays: number } };
    for (const repo of mocks.ofType("aws:ecr/repository:Repository")) {
      expect(repo.inputs.imageTagMutability).toMatch(/^IMMUTABLE/);
    }
    const policy = JSON.parse(mocks.ofType("aws:ecr/lifecyclePolicy:LifecyclePolicy")[0].inputs.policy);
    const counts = policy.rules.map((r: { selection: { countNumber: number } }) => r.selection.countNumber);
    expect(counts).toEqual(expect.arrayContaining([registry.lifecycle.keepReleases, registry.lifecycle.untaggedRetentionDays]));
  });

  it("renders only digest-pinned bases in its Dockerfiles unless the environment allows tags", () => {
    for (const build of mocks.ofType("docker-build:index:Image")) {
      const froms = (build.inputs.dockerfile.inline as string).split("\n").filter((l) => l.startsWith("FROM ") && !l.startsWith("FROM scratch"));
      for (const from of froms) {
        if (env === "dev") {
          // A multi-platform image's builders run on the build platform.
          expect(from).toMatch(/^FROM (--platform=\$BUILDPLATFORM )?mirror\.example\.internal\/hub\//);
        } else {
          expect(from).toMatch(/@sha256:[a-f0-9]{64} AS /);
        }
      }
    }
  });
});

describe("stack configuration errors", () => {
  it("are reported at preview, naming the config keys and the fix, all at once", async () => {
    // GIVEN prod config with a tag-only base, a root user and an unknown key
    const prod = stackFile("prod");
    const images = JSON.parse(JSON.stringify(prod.images));
    images[0].base = "distroless/static-debian12:nonroot";
    images[1].user = "0";
    setupMocks("golden-images", "test");
    useConfig({ ...prod, images, retention: 3 });
    // WHEN the program runs THEN one report names every key
    let error: unknown;
    try {
      createStack();
    } catch (e) {
      error = e;
    }
    await settle();
    expect(error).toBeInstanceOf(InvalidArgumentsError);
    expect((error as Error).message).toBe(
      [
        "Invalid stack configuration (3 problems):",
        '  - golden-images:retention: is not a configuration key of this project (value: 3). Fix: remove it or use one of: golden-images:environment, golden-images:registry, golden-images:mirror, golden-images:images, golden-images:allowTagOnlyBases, golden-images:sourceDateEpoch, golden-images:signing, golden-images:gate, golden-images:rebuild',
        '  - golden-images:images[0].base: has no digest and this environment requires digests (value: "distroless/static-debian12:nonroot"). Fix: pin it: "distroless/static-debian12:nonroot@sha256:<digest>" (the digest your mirror serves)',
        '  - golden-images:images[1].user: runs as root (value: "0"). Fix: use a non-root UID such as 65532 (the catalog\'s nonroot)',
      ].join("\n"),
    );
  });

  it("names a missing required key and how to set it", () => {
    expect(() => parseStackConfig({ registry: { type: "ecr" }, images: [] })).toThrow(
      [
        "Invalid stack configuration (2 problems):",
        '  - golden-images:environment: is required (value: not set). Fix: run `pulumi config set golden-images:environment <value>` or add it to Pulumi.<stack>.yaml (to one of: "dev", "staging", "prod")',
        "  - golden-images:images: is empty (value: []). Fix: list at least 1",
      ].join("\n"),
    );
  });

  it("refuses tag-only bases in prod even when allowTagOnlyBases is set", () => {
    expect(() => parseStackConfig({ ...stackFile("prod"), allowTagOnlyBases: true })).toThrow(
      "golden-images:allowTagOnlyBases: prod never allows tag-only bases (value: true)",
    );
  });
});

describe("determinism", () => {
  it("gives identical resource inputs from two different working directories", async () => {
    // GIVEN two copies of the project's build contexts in unrelated directories
    const dirs = ["a", "b/deeper"].map((sub) => {
      const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "golden-det-")), sub);
      fs.mkdirSync(path.join(dir, "images"), { recursive: true });
      fs.cpSync(path.join(ROOT, "images"), path.join(dir, "images"), { recursive: true });
      return dir;
    });
    // WHEN the dev program runs in each
    const snapshot = async (dir: string) => {
      const mocks = await runStack(stackFile("dev"), dir);
      return JSON.stringify(mocks.resources.map((r) => ({ type: r.type, name: r.name, inputs: r.inputs })));
    };
    const first = await snapshot(dirs[0]);
    const second = await snapshot(dirs[1]);
    // THEN every input is the same and none carries a machine path
    expect(second).toBe(first);
    expect(first).not.toContain(os.tmpdir());
    expect(first).not.toContain(ROOT);
    expect(first).toContain("docker-build:index:Image");
  });

  it("changes the image tag when a file of the build context changes, only for the images built from it", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "golden-ctx-"));
    fs.cpSync(path.join(ROOT, "images"), path.join(dir, "images"), { recursive: true });
    const tags = async (): Promise<Record<string, string>> =>
      Object.fromEntries((await runStack(stackFile("dev"), dir)).ofType("docker-build:index:Image").map((r) => [r.name, r.inputs.tags[0] as string]));
    const before = await tags();
    fs.appendFileSync(path.join(dir, "images", "hello", "hello.c"), "/* patched */\n");
    const after = await tags();
    expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
    // images/hello is the context of the C images; the Java, Python and Node.js apps have their own.
    const changed = Object.keys(before).filter((name) => after[name] !== before[name]);
    expect(changed.sort()).toEqual(["hello-base", "hello-cc", "hello-debian", "hello-scratch", "hello-static"].map((n) => `golden-dev-${n}-build`));
  });
});

describe("a registry backend added without touching the pipeline or the stack program", () => {
  /** A small OCI registry with a basic login: what a Harbor or an on-prem registry backend looks like. */
  class TestOciRegistry extends pulumi.ComponentResource implements Registry {
    public readonly kind = "oci" as const;
    public readonly tagRules = { immutable: true, mutableTags: ["sha256-*"] };
    constructor(
      name: string,
      private readonly host: string,
      public readonly imageNames: readonly string[],
      opts?: pulumi.ComponentResourceOptions,
    ) {
      super("test:registry:Oci", name, {}, opts);
      this.registerOutputs({});
    }
    repositoryUrl(image: string) {
      return pulumi.output(`${this.host}/${image}`);
    }
    auth(): RegistryAuth {
      return { kind: "basic", address: pulumi.output(this.host), username: pulumi.output("robot$ci"), password: pulumi.secret("s3cret") };
    }
    grant(): never {
      throw new Error("not used");
    }
    cacheRef() {
      return undefined;
    }
  }

  beforeAll(() => {
    registerRegistryBackend("test-oci", {
      validate: (args) =>
        typeof args.host === "string" ? [] : [{ path: "host", value: args.host, problem: "is required", fix: "give the registry host, e.g. registry.example.internal" }],
      create: (name, args, images, opts) => new TestOciRegistry(name, args.host as string, images, opts),
    });
  });

  it("GIVEN registry.type test-oci in the stack config THEN the program pushes there with its basic login and creates no ECR", async () => {
    // Rebuilds need ECR: this stack has none.
    const { rebuild: _rebuild, ...dev } = stackFile("dev");
    const mocks = await runStack({ ...dev, registry: { type: "test-oci", host: "registry.example.internal" } });
    expect(mocks.ofType("aws:ecr/repository:Repository")).toEqual([]);
    expect(mocks.ofType("test:registry:Oci").map((r) => r.name)).toEqual(["golden-dev-registry"]);
    const build = mocks.byName("golden-dev-hello-static-build").inputs;
    expect(build.tags[0]).toMatch(/^registry\.example\.internal\/hello-static:v[a-f0-9]{16}$/);
    expect(build.registries.value).toEqual([{ address: "registry.example.internal", username: "robot$ci", password: "s3cret" }]);
    expect(build.cacheFrom).toBeUndefined();
  });

  it("GIVEN the backend's own arguments are wrong THEN the report names them under the config key", () => {
    expect(() => parseStackConfig({ ...stackFile("dev"), registry: { type: "test-oci" } })).toThrow(
      "golden-images:registry.host: is required (value: not set). Fix: give the registry host, e.g. registry.example.internal",
    );
    setupMocks("golden-images", "test");
    useConfig({ ...stackFile("dev"), registry: { type: "test-oci" } });
    expect(() => createStack()).toThrow('registry.host: is required (value: not set). Fix: give the registry host, e.g. registry.example.internal');
  });

  it("GIVEN an unregistered type THEN the config report lists the registered ones", () => {
    expect(() => parseStackConfig({ ...stackFile("dev"), registry: { type: "quay" } })).toThrow(
      'golden-images:registry.type: is not a registry type (value: "quay"). Fix: use one of: "ecr", "harbor", "test-oci"',
    );
  });
});

describe("Pulumi.yaml declares exactly the keys the config parser reads", () => {
  const declared = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")).config as Record<string, { type: string; items?: unknown; default?: unknown }>;

  it("the same keys, both ways", () => {
    expect(Object.keys(declared).sort()).toEqual(CONFIG_KEYS.map((k) => `golden-images:${k}`).sort());
  });

  it("arrays declare their items; the optional keys carry a default (Pulumi requires every key without one)", () => {
    for (const [key, decl] of Object.entries(declared)) {
      if (decl.type === "array") expect({ key, items: decl.items }).toEqual({ key, items: expect.anything() });
    }
    const required = Object.entries(declared).filter(([, d]) => d.default === undefined).map(([k]) => k).sort();
    expect(required).toEqual(["golden-images:environment", "golden-images:images", "golden-images:mirror", "golden-images:registry"]);
  });
});

describe("the stack's signing and gate config", () => {
  it("kms mode: a signing key whose policy lets only the configured role and the rebuild role sign", async () => {
    const role = "arn:aws:iam::123456789012:role/golden-build";
    const mocks = await runStack({ ...stackFile("dev"), signing: { mode: "kms", signers: [role], format: "bundle" } });
    const key = mocks.ofType("aws:kms/key:Key").find((k) => k.inputs.keyUsage === "SIGN_VERIFY");
    expect(key?.inputs.customerMasterKeySpec).toBe("ECC_NIST_P256");
    const sign = JSON.parse(key?.inputs.policy).Statement.find((st: { Sid: string }) => st.Sid === "PipelineSigns");
    expect(sign.Principal.AWS).toEqual([role, "arn:aws:iam::123456789012:role/golden-dev-build"]);
  });

  it("names every signing and gate mistake under its config key, before anything is created", () => {
    const issues = (() => {
      try {
        parseStackConfig({ ...stackFile("dev"), signing: { mode: "kms", identity: "x" }, gate: { severity: "SEVERE", ignore: [{ id: "CVE-2024-1", reason: "short", expires: "soon" }] } });
      } catch (e) {
        return (e as { issues: { path: string; problem: string }[] }).issues;
      }
      return [];
    })();
    expect(issues.map((i) => `${i.path}: ${i.problem}`)).toEqual([
      "golden-images:signing.identity: applies to keyless signing only (mode is kms)",
      "golden-images:signing.signers: lists no signer",
      "golden-images:gate.severity: is not one of the allowed values",
    ]);
  });
});

describe("the stacks' rebuilds", () => {
  it.each([
    ["dev", "cron(0 2 * * ? *)", { mode: "FLEXIBLE", maximumWindowInMinutes: 60 }, undefined],
    ["staging", "cron(0 3 ? * MON *)", { mode: "FLEXIBLE", maximumWindowInMinutes: 60 }, undefined],
    ["prod", "cron(0 4 ? * TUE *)", { mode: "OFF" }, ["CRITICAL"]],
  ])("GIVEN the %s stack THEN a CodeBuild rebuild runs on %s, promoting to its own SSM path; findings: %j", async (env, expression, window, findings) => {
    const mocks = await runStack(stackFile(env));
    const schedule = mocks.one("aws:scheduler/schedule:Schedule").inputs;
    expect(schedule).toMatchObject({ scheduleExpression: expression, scheduleExpressionTimezone: "Europe/Berlin", flexibleTimeWindow: window });
    const project = mocks.one("aws:codebuild/project:Project").inputs;
    expect(project.source.buildspec).toContain(`--store ssm:/golden-images/${env}`);
    expect(project.source.buildspec).toContain("--mirror mirror.example.internal/hub");
    const rules = mocks.ofType("aws:cloudwatch/eventRule:EventRule");
    expect(rules.map((r) => JSON.parse(r.inputs.eventPattern).detail.severity)).toEqual(findings === undefined ? [] : [findings]);
    const policy = JSON.parse(mocks.ofType("aws:iam/rolePolicy:RolePolicy").find((p) => p.name === `golden-${env}-build`)?.inputs.policy);
    expect(policy.Statement.find((s: { Sid: string }) => s.Sid === "WritePromotionPointers").Resource).toEqual([`arn:aws:ssm:eu-west-1:123456789012:parameter/golden-images/${env}/*`]);
  });

  it("GIVEN a rebuild every 5 minutes and an unknown severity THEN the config report names both under golden-images:rebuild", () => {
    const dev = stackFile("dev");
    const rebuild = { ...(dev.rebuild as object), schedule: { expression: "rate(5 minutes)" }, findings: { minimumSeverity: "SEVERE" } };
    expect(() => parseStackConfig({ ...dev, rebuild })).toThrow(/golden-images:rebuild\.findings\.minimumSeverity: is not one of the allowed values/);
    expect(() => parseStackConfig({ ...dev, rebuild: { ...rebuild, findings: undefined } })).toThrow(/golden-images:rebuild\.schedule\.expression: runs as often as every 5 minutes/);
  });

  it("GIVEN rebuild: {} (the declared default) THEN no rebuild resources", async () => {
    const mocks = await runStack({ ...stackFile("dev"), rebuild: {} });
    expect(mocks.ofType("aws:codebuild/project:Project")).toEqual([]);
  });
});

describe("the onprem stack: the prod images on Harbor", () => {
  it("GIVEN registry.type harbor THEN the same images build and push to the Harbor project with the pipeline robot's basic login, and no ECR is created", async () => {
    const mocks = await runStack(stackFile("onprem"));
    expect(mocks.ofType("aws:ecr/repository:Repository")).toEqual([]);
    expect(mocks.ofType("harbor:index/project:Project").map((p) => p.inputs.name).sort()).toEqual(["golden-prod", "hub"]);
    const build = mocks.byName("golden-prod-hello-static-build").inputs;
    expect(build.tags[0]).toMatch(/^harbor\.example\.internal\/golden-prod\/hello-static:v[a-f0-9]{16}$/);
    expect(build.registries.value[0].address).toBe("harbor.example.internal");
    // Only the registry settings differ from prod: the images are the same.
    const { registry: _a, rebuild: _b, mirror: _c, ...onprem } = stackFile("onprem");
    const { registry: _d, rebuild: _e, mirror: _f, ...prod } = stackFile("prod");
    expect(onprem).toEqual(prod);
  });
});
