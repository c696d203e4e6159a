/**
 * HarborRegistry under Pulumi mocks: the Harbor objects it declares (by the provider's tokens),
 * their settings, the pipeline robot's least privilege and basic login, grants, destroy safety,
 * and validation before anything is created.
 */
import { HarborRegistry, HarborRegistryArgs } from "../../components/registry/harbor-registry";
import { harborRetentionPolicy } from "../../components/render/harbor";
import { HARBOR_CHART, renderHarborValues } from "../../components/render/harbor-values";
import { MockRecorder, settle, setupMocks, valueOf } from "./mocks";

let mocks: MockRecorder;
beforeEach(() => {
  mocks = setupMocks();
});

const args: HarborRegistryArgs = {
  images: ["api-base", "team/worker"],
  url: "https://harbor.example.internal",
  project: "golden-prod",
  admin: { password: "s3cret-admin" },
  lifecycle: { keepReleases: 10, untaggedRetentionDays: 3 },
  proxyCache: { project: "hub", upstreamUrl: "https://mirror.example.internal" },
};

describe("HarborRegistry", () => {
  it("GIVEN a project, lifecycle and proxy cache THEN the project, immutability, retention from the ECR lifecycle args, the pipeline robot and the proxy cache", async () => {
    const r = new HarborRegistry("reg", args);
    await settle();
    const projects = mocks.ofType("harbor:index/project:Project");
    expect(projects.map((p) => [p.inputs.name, p.inputs.public, p.inputs.vulnerabilityScanning, p.inputs.enableContentTrustCosign ?? null])).toEqual([
      ["golden-prod", false, true, false],
      ["hub", false, true, null],
    ]);
    expect(mocks.one("harbor:index/immutableTagRule:ImmutableTagRule").inputs).toMatchObject({ repoMatching: "**", tagExcluding: "{buildcache,sha256-*}" });
    const retention = mocks.one("harbor:index/retentionPolicy:RetentionPolicy").inputs;
    expect({ schedule: retention.schedule, rules: retention.rules }).toEqual(harborRetentionPolicy({ keepReleases: 10, untaggedRetentionDays: 3 }, "Daily"));
    const robot = mocks.one("harbor:index/robotAccount:RobotAccount").inputs;
    expect(robot).toMatchObject({ name: "pipeline", level: "project", permissions: [{ kind: "project", namespace: "golden-prod", accesses: [{ resource: "repository", action: "pull", effect: "allow" }, { resource: "repository", action: "push", effect: "allow" }] }] });
    expect(r.mirror).toBe("harbor.example.internal/hub");
    expect(await valueOf(r.repositoryUrl("team/worker"))).toBe("harbor.example.internal/golden-prod/team/worker");
    expect(await valueOf(r.cacheRef("api-base"))).toBe("harbor.example.internal/golden-prod/api-base:buildcache");
    expect(() => r.repositoryUrl("other")).toThrow(/harbor registry has no repository for image "other"/);
  });

  it("THEN executors log in with the pipeline robot (basic), its secret a secret", async () => {
    const r = new HarborRegistry("reg", args);
    const auth = r.auth();
    expect(auth.kind).toBe("basic");
    expect(await valueOf(auth.address)).toBe("harbor.example.internal");
    expect(pulumiIsSecret(auth.kind === "basic" ? auth.password : undefined)).toBe(true);
  });

  it("GIVEN a pull grant THEN a robot that can pull and not push, with its credentials as secrets", async () => {
    const r = new HarborRegistry("reg", args);
    const g = r.grant("cluster", { kind: "robot", name: "cluster-pull" }, "pull");
    await settle();
    const robot = mocks.ofType("harbor:index/robotAccount:RobotAccount").find((x) => x.name === "cluster")?.inputs;
    expect(robot?.permissions[0].accesses.map((a: { action: string }) => a.action)).toEqual(["pull"]);
    expect(pulumiIsSecret(g.credentials?.password)).toBe(true);
    expect(() => r.grant("x", { kind: "iam-role", roleName: "ci" }, "pull")).toThrow(/Harbor grants go to robot accounts/);
  });

  it("GIVEN the default THEN projects are kept on destroy; GIVEN allowDelete THEN they may go with their images", async () => {
    new HarborRegistry("reg", args);
    await settle();
    expect(mocks.ofType("harbor:index/project:Project").map((p) => p.inputs.forceDestroy)).toEqual([false, false]);
    mocks = setupMocks();
    new HarborRegistry("reg", { ...args, allowDelete: true });
    await settle();
    expect(mocks.ofType("harbor:index/project:Project").map((p) => p.inputs.forceDestroy)).toEqual([true, true]);
  });

  it("GIVEN every argument wrong THEN one report and nothing created", async () => {
    const bad = { ...args, url: "ftp://x", project: "Golden_Prod!", admin: { password: "" }, retentionSchedule: "0 3 * * *", security: { preventVulnerable: "severe" as any }, proxyCache: { project: "Golden_Prod!", upstreamUrl: "not a url" } };
    let message = "";
    try {
      new HarborRegistry("bad", bad);
    } catch (e) {
      message = (e as Error).message;
    }
    for (const path of ["url:", "project:", "admin.password:", "retentionSchedule:", "security.preventVulnerable:", "proxyCache.upstreamUrl:", "proxyCache.project:"]) {
      expect(message).toContain(`  - ${path}`);
    }
    await settle();
    expect(mocks.resources).toHaveLength(0);
  });
});

describe("HarborRegistry with deploy", () => {
  const deploy = { namespace: "harbor", values: { tls: { secretName: "harbor-tls" }, persistence: { storageClass: "fast", registrySize: "200Gi" } } };

  it("GIVEN deploy THEN the pinned chart is released with the rendered values, the admin password only in a Secret, and Harbor's objects wait for it", async () => {
    const r = new HarborRegistry("reg", { ...args, deploy });
    await settle();
    const release = mocks.one("kubernetes:helm.sh/v3:Release").inputs;
    expect(release).toMatchObject({ chart: "harbor", version: HARBOR_CHART.version, namespace: "harbor", repositoryOpts: { repo: HARBOR_CHART.repository } });
    const rendered = renderHarborValues({
      ...deploy.values,
      externalURL: args.url,
      adminPasswordSecret: { name: "reg-harbor-admin" },
      encryptionKeySecret: "reg-harbor-secret-key",
      registryCredentialsSecret: "reg-harbor-registry-credentials",
    });
    expect(r.values).toEqual(rendered);
    expect(JSON.stringify(r.values)).not.toMatch(/"password"/i);
    expect(rendered).toMatchObject({ existingSecretSecretKey: "reg-harbor-secret-key", registry: { credentials: { existingSecret: "reg-harbor-registry-credentials", username: "harbor_registry_user" } } });
    // The release's values are the rendered ones plus the internal database's generated password, all a secret.
    const passwords = mocks.ofType("random:index/randomPassword:RandomPassword");
    expect(passwords.map((p) => [p.name, p.inputs])).toEqual([
      ["reg-secret-key", { length: 16, special: false }],
      ["reg-registry-password", { length: 32, special: false }],
      ["reg-database-password", { length: 32, special: false }],
    ]);
    expect(isSecretValue(release.values)).toBe(true);
    const dbPassword = release.values.value.database.internal.password;
    expect(dbPassword).toHaveLength(32);
    expect(dbPassword).not.toBe("changeit");
    expect({ ...release.values.value, database: { type: "internal" } }).toEqual(rendered);
    expect(JSON.stringify(release)).not.toContain("s3cret-admin");
    const secrets = (n: string) => mocks.ofType("kubernetes:core/v1:Secret").find((x) => x.name === n)?.inputs as Record<string, any>;
    expect(secrets("reg-secret-key").metadata).toEqual({ name: "reg-harbor-secret-key", namespace: "harbor" });
    expect(secrets("reg-secret-key").stringData.value.secretKey).toHaveLength(16);
    // Harbor's own registry login: the password and its bcrypt htpasswd line for the chart's user, a secret.
    const registry = secrets("reg-registry-credentials");
    expect(registry.metadata).toEqual({ name: "reg-harbor-registry-credentials", namespace: "harbor" });
    expect(isSecretValue(registry.stringData)).toBe(true);
    expect(registry.stringData.value.REGISTRY_PASSWD).toHaveLength(32);
    expect(registry.stringData.value.REGISTRY_HTPASSWD).toMatch(/^harbor_registry_user:\$2a\$10\$.{53}$/);
    expect(registry.stringData.value.REGISTRY_PASSWD).not.toBe("harbor_registry_password");
    const secret = secrets("reg-admin");
    expect(secret.metadata).toEqual({ name: "reg-harbor-admin", namespace: "harbor" });
    // The whole stringData is a secret (the engine encrypts it in the state).
    expect(isSecretValue(secret.stringData)).toBe(true);
    expect(secret.stringData.value).toEqual({ HARBOR_ADMIN_PASSWORD: "s3cret-admin" });
  });

  it("GIVEN an external database THEN the release's values are the rendered ones, with no generated database password", async () => {
    const external = { ...deploy, values: { ...deploy.values, persistence: { storageClass: "fast" }, database: { external: { host: "postgres.example.internal", username: "harbor", passwordSecret: "harbor-db" } } } };
    const r = new HarborRegistry("reg", { ...args, deploy: external });
    await settle();
    const release = mocks.one("kubernetes:helm.sh/v3:Release").inputs;
    expect(release.values).toEqual(r.values);
    expect(mocks.ofType("random:index/randomPassword:RandomPassword").map((p) => p.name)).toEqual(["reg-secret-key", "reg-registry-password"]);
  });

  it("GIVEN a bad namespace and chart settings THEN they are reported with the rest, under deploy", () => {
    expect(() => new HarborRegistry("bad", { ...args, deploy: { namespace: "Harbor NS", values: { tls: { secretName: "" }, persistence: { registrySize: "lots" } } } })).toThrow(
      /deploy\.namespace: is not a Kubernetes namespace name[\s\S]*deploy\.values\.tls\.secretName[\s\S]*deploy\.values\.persistence\.registrySize/,
    );
  });
});

function pulumiIsSecret(value: unknown): boolean {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const pulumi = require("@pulumi/pulumi");
  return pulumi.Output.isInstance(value) && (value as { isSecret: Promise<boolean> }).isSecret !== undefined;
}

/** A value the mock monitor received as a secret (the engine would encrypt it in the state). */
function isSecretValue(v: unknown): boolean {
  return typeof v === "object" && v !== null && (v as Record<string, unknown>)["4dabf18193072939515e22adb298388d"] === "1b47061264138c4ac30d75fd1eb44270";
}
