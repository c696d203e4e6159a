/**
 * HarborRegistry under Pulumi mocks: the Harbor objects it declares (by the provider's tokens),
 * their settings, the pipeline robot's least privilege and basic login, grants, destroy safety,
 * and validation before anything is created.
 */
import { HarborRegistry, HarborRegistryArgs } from "../../components/registry/harbor-registry";
import { harborRetentionPolicy } from "../../components/render/harbor";
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

function pulumiIsSecret(value: unknown): boolean {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const pulumi = require("@pulumi/pulumi");
  return pulumi.Output.isInstance(value) && (value as { isSecret: Promise<boolean> }).isSecret !== undefined;
}
