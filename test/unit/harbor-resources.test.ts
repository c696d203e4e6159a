/**
 * The Harbor resource classes under Pulumi mocks: type tokens, the inputs sent, and what the SDK
 * really tells the engine (captured from the RegisterResource request, which the mock API hides):
 * the pinned plugin version and download URL, the provider reference, the secret outputs, and
 * secret inputs travelling as secrets.
 */
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import {
  HARBOR_PROVIDER,
  HARBOR_TOKENS,
  HarborImmutableTagRule,
  HarborProject,
  HarborProvider,
  HarborRegistryEndpoint,
  HarborRetentionPolicy,
  HarborRobotAccount,
} from "../../components/registry/harbor-resources";
import { BUILD_CACHE_TAG, COSIGN_TAG_PATTERNS } from "../../components/registry";
import { harborImmutableTagRules, harborRetentionRules, harborRobotPermissions } from "../../components/render/harbor";
import { MockRecorder, mockNumber, settle, setupMocks, valueOf } from "./mocks";

/** What the SDK sends the engine for one resource. */
interface Wire {
  readonly version: string;
  readonly pluginDownloadURL: string;
  readonly provider: string;
  readonly additionalSecretOutputs: string[];
  /** The serialized inputs, secrets still wrapped. */
  readonly object: Record<string, unknown>;
}
const wire = new Map<string, Wire>();
const originalRegister = MockMonitor.prototype.registerResource;
beforeAll(() => {
  MockMonitor.prototype.registerResource = function (req: any, callback: (err: any, response: any) => void) {
    wire.set(`${req.getType()}::${req.getName()}`, {
      version: req.getVersion(),
      pluginDownloadURL: req.getPlugindownloadurl(),
      provider: req.getProvider(),
      additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
      object: req.getObject()?.toJavaScript() ?? {},
    });
    return originalRegister.call(this, req, callback);
  };
});
afterAll(() => {
  MockMonitor.prototype.registerResource = originalRegister;
});

function wireOf(type: string, name: string): Wire {
  const w = wire.get(`${type}::${name}`);
  if (w === undefined) {
    throw new Error(`${type}::${name} was not registered; have ${[...wire.keys()].join(", ")}`);
  }
  return w;
}

function isWireSecret(value: unknown): boolean {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[specialSigKey] === specialSecretSig;
}

/** How the mocks record a secret input: still wrapped, so a test sees it was sent as a secret. */
function asSecret(value: string): Record<string, string> {
  return { [specialSigKey]: specialSecretSig, value };
}

async function registered(...resources: pulumi.Resource[]): Promise<void> {
  await Promise.all(resources.map((r) => valueOf(r.urn)));
  await settle();
}

const PERMISSIONS = harborRobotPermissions("golden", "push");

describe("GIVEN a provider and one resource of each kind", () => {
  let mocks: MockRecorder;
  let provider: HarborProvider;
  let project: HarborProject;
  let cache: HarborProject;
  let endpoint: HarborRegistryEndpoint;
  let robot: HarborRobotAccount;
  let retention: HarborRetentionPolicy;
  let immutable: HarborImmutableTagRule;
  beforeAll(async () => {
    wire.clear();
    mocks = setupMocks();
    provider = new HarborProvider("harbor", { url: "https://registry.example.internal", username: "admin", password: "s3cret-admin" });
    const opts = { provider };
    project = new HarborProject("golden", { name: "golden", public: false, vulnerabilityScanning: true, enableContentTrustCosign: true, deploymentSecurity: "high" }, opts);
    endpoint = new HarborRegistryEndpoint(
      "upstream",
      { name: "upstream", providerName: "docker-registry", endpointUrl: "https://mirror.example.internal", accessId: "puller", accessSecret: "s3cret-upstream" },
      opts,
    );
    cache = new HarborProject("cache", { name: "cache", registryId: endpoint.registryId }, opts);
    robot = new HarborRobotAccount("golden-push", { name: "golden-push", description: "pushes golden images", level: "project", permissions: PERMISSIONS }, opts);
    retention = new HarborRetentionPolicy("golden-retention", { scope: project.id, schedule: "0 0 3 * * *", rules: harborRetentionRules() }, opts);
    immutable = new HarborImmutableTagRule(
      "golden-immutable",
      { projectId: project.id, ...harborImmutableTagRules(["v"], [BUILD_CACHE_TAG, ...COSIGN_TAG_PATTERNS])[0] },
      opts,
    );
    await registered(provider, project, endpoint, cache, robot, retention, immutable);
  });

  it("THEN exactly these types and names are registered", () => {
    expect(mocks.resources.map((r) => `${r.type}::${r.name}`).sort()).toEqual(
      [
        `${HARBOR_TOKENS.provider}::harbor`,
        `${HARBOR_TOKENS.project}::golden`,
        `${HARBOR_TOKENS.project}::cache`,
        `${HARBOR_TOKENS.registry}::upstream`,
        `${HARBOR_TOKENS.robotAccount}::golden-push`,
        `${HARBOR_TOKENS.retentionPolicy}::golden-retention`,
        `${HARBOR_TOKENS.immutableTagRule}::golden-immutable`,
      ].sort(),
    );
  });

  it("THEN the tokens are the provider's", () => {
    expect(HARBOR_TOKENS).toEqual({
      provider: "pulumi:providers:harbor",
      project: "harbor:index/project:Project",
      robotAccount: "harbor:index/robotAccount:RobotAccount",
      retentionPolicy: "harbor:index/retentionPolicy:RetentionPolicy",
      immutableTagRule: "harbor:index/immutableTagRule:ImmutableTagRule",
      registry: "harbor:index/registry:Registry",
    });
  });

  it("THEN the provider gets url, username, the password and insecure as JSON text (as the generated SDKs send config)", () => {
    expect(mocks.byName("harbor").inputs).toEqual({ url: "https://registry.example.internal", username: "admin", password: asSecret("s3cret-admin"), insecure: "false" });
  });

  it("THEN the provider password travels as a secret and is a secret output", () => {
    const w = wireOf(HARBOR_TOKENS.provider, "harbor");
    expect(isWireSecret(w.object.password)).toBe(true);
    expect(isWireSecret(w.object.url)).toBe(false);
    expect(w.additionalSecretOutputs).toEqual(["password"]);
  });

  it("THEN the project inputs are exactly the given ones and projectId is read back", async () => {
    expect(mocks.byName("golden").inputs).toEqual({ name: "golden", public: false, vulnerabilityScanning: true, enableContentTrustCosign: true, deploymentSecurity: "high" });
    expect(await valueOf(project.projectId)).toBe(mockNumber("golden"));
  });

  it("THEN the proxy-cache project takes the endpoint's numeric registryId", () => {
    expect(mocks.byName("cache").inputs).toEqual({ name: "cache", registryId: mockNumber("upstream") });
  });

  it("THEN the endpoint's access secret travels as a secret and is a secret output", async () => {
    expect(mocks.byName("upstream").inputs).toEqual({
      name: "upstream",
      providerName: "docker-registry",
      endpointUrl: "https://mirror.example.internal",
      accessId: "puller",
      accessSecret: asSecret("s3cret-upstream"),
    });
    const w = wireOf(HARBOR_TOKENS.registry, "upstream");
    expect(isWireSecret(w.object.accessSecret)).toBe(true);
    expect(w.additionalSecretOutputs).toEqual(["accessSecret"]);
    expect(await valueOf(endpoint.registryId)).toBe(mockNumber("upstream"));
  });

  it("THEN the robot gets the rendered permissions, and its secret is declared a secret output", async () => {
    expect(mocks.byName("golden-push").inputs).toEqual({
      name: "golden-push",
      description: "pushes golden images",
      level: "project",
      permissions: [
        {
          kind: "project",
          namespace: "golden",
          accesses: [
            { resource: "repository", action: "pull", effect: "allow" },
            { resource: "repository", action: "push", effect: "allow" },
          ],
        },
      ],
    });
    expect(wireOf(HARBOR_TOKENS.robotAccount, "golden-push").additionalSecretOutputs).toEqual(["secret"]);
    expect(await valueOf(robot.fullName)).toBe("robot$golden+golden-push");
  });

  it("THEN the retention policy is scoped to the project's id with the rendered rules and schedule", () => {
    expect(mocks.byName("golden-retention").inputs).toEqual({ scope: "golden-id", schedule: "0 0 3 * * *", rules: harborRetentionRules() });
  });

  it("THEN the immutable tag rule leaves the build cache and cosign's tags writable", () => {
    expect(mocks.byName("golden-immutable").inputs).toEqual({ projectId: "golden-id", repoMatching: "**", tagExcluding: "{buildcache,sha256-*}" });
  });

  it("THEN no resource sends an input that is unset (outputs are not inputs)", () => {
    for (const r of mocks.resources) {
      expect(Object.entries(r.inputs).filter(([, v]) => v === undefined)).toEqual([]);
    }
    expect(Object.keys(mocks.byName("golden-push").inputs)).not.toContain("secret");
    expect(Object.keys(mocks.byName("golden").inputs)).not.toContain("projectId");
  });

  describe.each([
    [HARBOR_TOKENS.provider, "harbor"],
    [HARBOR_TOKENS.project, "golden"],
    [HARBOR_TOKENS.project, "cache"],
    [HARBOR_TOKENS.registry, "upstream"],
    [HARBOR_TOKENS.robotAccount, "golden-push"],
    [HARBOR_TOKENS.retentionPolicy, "golden-retention"],
    [HARBOR_TOKENS.immutableTagRule, "golden-immutable"],
  ])("WHEN %s %s is registered", (type, name) => {
    it("THEN the engine is told the pinned plugin version and download URL", () => {
      const w = wireOf(type, name);
      expect({ version: w.version, pluginDownloadURL: w.pluginDownloadURL }).toEqual({
        version: HARBOR_PROVIDER.version,
        pluginDownloadURL: HARBOR_PROVIDER.pluginDownloadURL,
      });
    });
    if (type !== HARBOR_TOKENS.provider) {
      it("THEN it uses the explicit provider", () => {
        expect(wireOf(type, name).provider).toBe(`urn:pulumi:dev::golden-test::${HARBOR_TOKENS.provider}::harbor::harbor-id`);
      });
    }
  });
});

describe("GIVEN a robot created with the caller's own options", () => {
  it("WHEN the caller names another version and secret output THEN the version stays pinned and both secret outputs are declared", async () => {
    wire.clear();
    setupMocks();
    const robot = new HarborRobotAccount(
      "pull",
      { name: "pull", level: "project", permissions: harborRobotPermissions("golden", "pull") },
      { version: "0.0.1", pluginDownloadURL: "github://api.github.com/someone-else", additionalSecretOutputs: ["description"] },
    );
    await registered(robot);
    const w = wireOf(HARBOR_TOKENS.robotAccount, "pull");
    expect([w.version, w.pluginDownloadURL]).toEqual([HARBOR_PROVIDER.version, HARBOR_PROVIDER.pluginDownloadURL]);
    expect(w.additionalSecretOutputs).toEqual(["description", "secret"]);
  });

  it("WHEN the robot's secret is read through the grant path THEN it is a secret", async () => {
    setupMocks();
    const robot = new HarborRobotAccount("pull2", { name: "pull2", level: "project", permissions: harborRobotPermissions("golden", "pull") });
    await registered(robot);
    // The mocks do not apply additionalSecretOutputs (the engine does); a grant wraps it anyway.
    const password = pulumi.secret(robot.secret);
    expect(await pulumi.isSecret(password)).toBe(true);
    expect(await valueOf(robot.secret)).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });
});

describe("GIVEN the provider with insecure set", () => {
  it("THEN insecure is sent as JSON text", async () => {
    setupMocks();
    const mocks = setupMocks();
    const p = new HarborProvider("lab", { url: "http://registry.example.internal:8080", username: "admin", password: "pw", insecure: true });
    await registered(p);
    expect(mocks.byName("lab").inputs.insecure).toBe("true");
  });
});
