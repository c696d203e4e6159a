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
    expect(release.values).toEqual(renderHarborValues({ ...deploy.values, externalURL: args.url, adminPasswordSecret: { name: "reg-harbor-admin" }, encryptionKeySecret: "reg-harbor-secret-key" }));
    expect(release.values.existingSecretSecretKey).toBe("reg-harbor-secret-key");
    expect(r.values).toEqual(release.values);
    expect(JSON.stringify(release)).not.toContain("s3cret-admin");
    const keySecret = mocks.ofType("kubernetes:core/v1:Secret").find((x) => x.name === "reg-secret-key")?.inputs;
    expect(keySecret?.metadata).toEqual({ name: "reg-harbor-secret-key", namespace: "harbor" });
    expect(keySecret?.stringData.value.secretKey).toHaveLength(16);
    expect(mocks.one("random:index/randomPassword:RandomPassword").inputs).toEqual({ length: 16, special: false });
    const secret = mocks.ofType("kubernetes:core/v1:Secret").find((x) => x.name === "reg-admin")?.inputs as Record<string, any>;
    expect(secret.metadata).toEqual({ name: "reg-harbor-admin", namespace: "harbor" });
    // The whole stringData is a secret (the engine encrypts it in the state).
    expect(secret.stringData["4dabf18193072939515e22adb298388d"]).toBe("1b47061264138c4ac30d75fd1eb44270");
    expect(secret.stringData.value).toEqual({ HARBOR_ADMIN_PASSWORD: "s3cret-admin" });
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
