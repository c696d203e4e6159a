/**
 * KubernetesRebuilder under Pulumi mocks: the rendered manifests become typed Kubernetes
 * resources, parented and in dependency order; the schedule reaches the CronJob; the key pair is
 * in a Secret only, as a Pulumi secret; the pointer ConfigMap survives updates and destroys; and
 * bad arguments fail, all at once, before anything is created.
 */
import * as pulumi from "@pulumi/pulumi";
import { planImages } from "../../components/plan";
import { KUBERNETES_REBUILD_JOB_DEFAULTS, renderKubernetesRebuildJob, SIGNING_SECRET_KEYS } from "../../components/plan/kubernetes-job";
import { SupplyChainTarget } from "../../components/plan/planner";
import { renderPlanScript } from "../../components/plan/script";
import { Plan } from "../../components/plan/types";
import { ValidationError, WELL_FORMED_PATH } from "../../components/render/issues";
import { KUBERNETES_REBUILDER_TYPE, KubernetesRebuilder, KubernetesRebuilderArgs, kubernetesRebuilderIssues } from "../../components/rebuild/kubernetes-rebuilder";
import { SigningPlan } from "../../components/signing/types";
import { ImageSpec } from "../../components/spec/types";
import { descendantsOf, MockRecorder, settle, setupMocks, valueOf } from "./mocks";

let mocks: MockRecorder;
beforeEach(() => {
  mocks = setupMocks();
});

const T = {
  serviceAccount: "kubernetes:core/v1:ServiceAccount",
  role: "kubernetes:rbac.authorization.k8s.io/v1:Role",
  roleBinding: "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
  configMap: "kubernetes:core/v1:ConfigMap",
  secret: "kubernetes:core/v1:Secret",
  cronJob: "kubernetes:batch/v1:CronJob",
} as const;

const KEYPAIR: SigningPlan = { mode: "keypair", key: "env://COSIGN_PRIVATE_KEY", publicKey: "env://COSIGN_PUBLIC_KEY" };
const KMS: SigningPlan = { mode: "kms", key: "awskms:///alias/golden", publicKey: "awskms:///alias/golden" };
const spec: ImageSpec = {
  name: "api-base",
  flavor: "distroless-static",
  context: "images/hello",
  builders: [{ name: "build", copy: [{ src: "hello.c", dest: "/src/hello.c" }], run: ["gcc -static -o /out/hello hello.c"] }],
  copy: [{ from: "build", src: "/out/hello", dest: "/hello" }],
  entrypoint: ["/hello"],
};
const chain = (store: string, signing: SigningPlan): SupplyChainTarget => ({
  signing,
  gate: { scanner: "grype", severity: "HIGH" },
  promotionStore: store,
  builderId: "urn:pulumi-golden-image:executor:kubernetes",
});
const planTo = (store: string, signing: SigningPlan = KEYPAIR): Plan =>
  planImages([spec], { environment: "prod", allowTagOnlyBases: true, sourceDateEpoch: 1763856000 }, (s) => ({
    repository: `registry.example.test/golden/${s.name}`,
    mirror: "registry.example.test/mirror",
    insecure: false,
    supplyChain: chain(store, signing),
  }));

const STORE = "configmap:golden-images/golden-prod-promoted";
const PRIVATE_KEY = "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nc2VjcmV0\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n";
const PUBLIC_KEY = "-----BEGIN PUBLIC KEY-----\nx\n-----END PUBLIC KEY-----\n";
const PASSWORD = "hunter2-password";
const BUILDER = `registry.example.test/golden/builder@sha256:${"a".repeat(64)}`;
const BUILDKIT = `moby/buildkit:v0.25.2-rootless@sha256:${"b".repeat(64)}`;

const args: KubernetesRebuilderArgs = {
  plan: planTo(STORE),
  namespace: "golden-images",
  schedule: { expression: "0 4 * * 0", timezone: "Europe/Berlin" },
  source: { url: "https://git.example.test/platform/golden-images.git", revision: "main" },
  builderImage: BUILDER,
  buildkitImage: BUILDKIT,
  registrySecretName: "golden-registry",
  keyPair: { privateKey: PRIVATE_KEY, publicKey: PUBLIC_KEY, password: pulumi.secret(PASSWORD) },
  labels: { "example.com/team": "platform" },
};

/** Pulumi's marker of a secret value as the mock monitor records it. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270";

/** Each resource's options as its constructor got them (transformations run in the SDK, so they
 *  see what the mock monitor is never told). */
function optionsRecorder(): { opts: Map<string, pulumi.CustomResourceOptions>; transformation: pulumi.ResourceTransformation } {
  const opts = new Map<string, pulumi.CustomResourceOptions>();
  return {
    opts,
    transformation: (a) => {
      opts.set(`${a.type}::${a.name}`, a.opts);
      return undefined;
    },
  };
}

function thrown(f: () => unknown): ValidationError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return e as ValidationError;
  }
  throw new Error("expected a ValidationError");
}

describe("KubernetesRebuilder", () => {
  it("GIVEN a keypair plan and a weekly schedule THEN it creates the job's objects with the typed classes, in dependency order, all its children", async () => {
    const { opts, transformation } = optionsRecorder();
    const r = new KubernetesRebuilder("golden-prod", args, { transformations: [transformation] });
    await valueOf(r.script);
    await settle();
    // Construction order (the mock monitor sees registrations as their inputs resolve).
    const children = [
      `${T.serviceAccount}::golden-prod-service-account`,
      `${T.role}::golden-prod-pointer-role`,
      `${T.roleBinding}::golden-prod-pointer-binding`,
      `${T.configMap}::golden-prod-plan`,
      `${T.configMap}::golden-prod-pointer`,
      `${T.secret}::golden-prod-cosign`,
      `${T.cronJob}::golden-prod-cronjob`,
    ];
    expect([...opts.keys()]).toEqual([`${KUBERNETES_REBUILDER_TYPE}::golden-prod`, ...children]);
    expect(mocks.resources.map((m) => `${m.type}::${m.name}`).sort()).toEqual([`${KUBERNETES_REBUILDER_TYPE}::golden-prod`, ...children].sort());
    expect(descendantsOf(r)).toEqual([...children].sort());
  });

  it("THEN each object is the renderer's document, the plan ConfigMap holding the plan's script", async () => {
    const r = new KubernetesRebuilder("golden-prod", args);
    const script = await valueOf(r.script);
    await settle();
    expect(script).toBe(renderPlanScript(planTo(STORE)));
    const expected = renderKubernetesRebuildJob({
      name: "golden-prod",
      namespace: "golden-images",
      schedule: "0 4 * * 0",
      timeZone: "Europe/Berlin",
      suspend: false,
      source: args.source,
      builderImage: BUILDER,
      buildkitImage: BUILDKIT,
      script,
      registrySecretName: "golden-registry",
      signingSecretName: "golden-prod-cosign",
      pointerConfigMapName: "golden-prod-promoted",
      labels: { "example.com/team": "platform" },
    });
    const childNames = ["golden-prod-service-account", "golden-prod-pointer-role", "golden-prod-pointer-binding", "golden-prod-plan", "golden-prod-pointer", "golden-prod-cronjob"];
    expect(childNames.map((n) => mocks.byName(n).inputs)).toEqual(JSON.parse(JSON.stringify(expected)));
    expect(mocks.byName("golden-prod-plan").inputs.data).toEqual({ "plan.sh": script });
  });

  it("THEN the CronJob runs on the schedule in its time zone, one run at a time, not suspended, from the cloned source", async () => {
    new KubernetesRebuilder("golden-prod", args);
    await settle();
    const cronJob = mocks.one(T.cronJob).inputs;
    expect(cronJob.metadata).toMatchObject({ name: "golden-prod", namespace: "golden-images" });
    expect(cronJob.spec).toMatchObject({ schedule: "0 4 * * 0", timeZone: "Europe/Berlin", concurrencyPolicy: "Forbid", suspend: false });
    const pod = cronJob.spec.jobTemplate.spec.template.spec;
    expect(pod.initContainers[0].command).toEqual(["git", "clone", "--depth", "1", "--branch", "main", "--", "https://git.example.test/platform/golden-images.git", "/workspace/source"]);
    expect(pod.containers[0].resources).toEqual(KUBERNETES_REBUILD_JOB_DEFAULTS.resources);
  });

  it("GIVEN a disabled schedule without a time zone THEN the CronJob is suspended, in UTC (the documented default)", async () => {
    new KubernetesRebuilder("golden-prod", { ...args, schedule: { expression: "@weekly", enabled: false } });
    await settle();
    expect(mocks.one(T.cronJob).inputs.spec).toMatchObject({ schedule: "@weekly", timeZone: "UTC", suspend: true });
  });

  it("THEN the key pair is in the Secret only, as a Pulumi secret, under the keys the job reads; never in the CronJob or the script", async () => {
    const r = new KubernetesRebuilder("golden-prod", args);
    const script = await valueOf(r.script);
    await settle();
    const secret = mocks.one(T.secret).inputs;
    expect(secret.metadata).toMatchObject({ name: "golden-prod-cosign", namespace: "golden-images" });
    expect(secret.type).toBe("Opaque");
    // Recorded as a secret (Pulumi's secret signature), so the engine encrypts it in the state.
    expect(secret.stringData[SECRET_SIG]).toBe(SECRET_VALUE);
    expect(secret.stringData.value).toEqual({ COSIGN_PASSWORD: PASSWORD, COSIGN_PRIVATE_KEY: PRIVATE_KEY, COSIGN_PUBLIC_KEY: PUBLIC_KEY });
    expect(Object.keys(secret.stringData.value)).toEqual([...SIGNING_SECRET_KEYS]);
    expect(secret.data).toBeUndefined();

    const cronJob = mocks.one(T.cronJob).inputs;
    const env = cronJob.spec.jobTemplate.spec.template.spec.containers[0].env.filter((e: { name: string }) => e.name.startsWith("COSIGN_"));
    expect(env).toEqual(SIGNING_SECRET_KEYS.map((key) => ({ name: key, valueFrom: { secretKeyRef: { name: "golden-prod-cosign", key } } })));
    const documents = [JSON.stringify(cronJob), JSON.stringify(mocks.byName("golden-prod-plan").inputs), script].join("\n");
    for (const secretText of [PASSWORD, "c2VjcmV0", "BEGIN"]) {
      expect(documents).not.toContain(secretText);
    }
  });

  it("THEN the pointer ConfigMap is created empty, ignores its data (the job writes it) and is retained on destroy; nothing else is", async () => {
    const { opts, transformation } = optionsRecorder();
    new KubernetesRebuilder("golden-prod", args, { transformations: [transformation] });
    await settle();
    const pointer = mocks.byName("golden-prod-pointer").inputs;
    expect(pointer.metadata).toMatchObject({ name: "golden-prod-promoted", namespace: "golden-images" });
    expect(pointer.data).toEqual({});
    expect(opts.get(`${T.configMap}::golden-prod-pointer`)).toMatchObject({ ignoreChanges: ["data"], retainOnDelete: true });
    const others = [...opts.entries()].filter(([k]) => k !== `${T.configMap}::golden-prod-pointer` && !k.startsWith(KUBERNETES_REBUILDER_TYPE));
    expect(others).toHaveLength(6);
    for (const [, o] of others) {
      expect([o.ignoreChanges, o.retainOnDelete]).toEqual([undefined, undefined]);
    }
  });

  it("THEN the RoleBinding waits for its ServiceAccount and Role, the CronJob for everything it names", async () => {
    const { opts, transformation } = optionsRecorder();
    new KubernetesRebuilder("golden-prod", args, { transformations: [transformation] });
    await settle();
    const dependsOn = (key: string) => ((opts.get(key)?.dependsOn ?? []) as pulumi.Resource[]).map((d) => (d as unknown as { __name: string }).__name);
    expect(dependsOn(`${T.roleBinding}::golden-prod-pointer-binding`)).toEqual(["golden-prod-service-account", "golden-prod-pointer-role"]);
    expect(dependsOn(`${T.cronJob}::golden-prod-cronjob`)).toEqual(["golden-prod-service-account", "golden-prod-pointer-binding", "golden-prod-plan", "golden-prod-pointer", "golden-prod-cosign"]);
  });

  it("THEN its outputs name the CronJob, the namespace and the pointer store GoldenImageRef reads", async () => {
    const r = new KubernetesRebuilder("golden-prod", args);
    expect(await valueOf(r.cronJobName)).toBe("golden-prod");
    expect(r.namespace).toBe("golden-images");
    expect(r.pointerStore).toBe(STORE);
  });

  it("GIVEN a pointer name and a KMS plan without keyPair THEN the Role names that pointer and no Secret is created", async () => {
    const r = new KubernetesRebuilder("golden-prod", { ...args, plan: planTo("configmap:golden-images/promoted", KMS), pointerConfigMapName: "promoted", keyPair: undefined });
    await settle();
    expect(r.pointerStore).toBe("configmap:golden-images/promoted");
    expect(mocks.one(T.role).inputs.rules[0].resourceNames).toEqual(["promoted"]);
    expect(mocks.ofType(T.secret)).toHaveLength(0);
    const env = mocks.one(T.cronJob).inputs.spec.jobTemplate.spec.template.spec.containers[0].env;
    expect(env.filter((e: { name: string }) => e.name.startsWith("COSIGN_"))).toEqual([]);
  });

  it("GIVEN the plan as an Output THEN the objects are created at once and the ConfigMap gets the script when the plan resolves", async () => {
    const r = new KubernetesRebuilder("golden-prod", { ...args, plan: pulumi.output(planTo(STORE)) });
    const script = await valueOf(r.script);
    await settle();
    expect(mocks.ofType(T.cronJob)).toHaveLength(1);
    expect(mocks.byName("golden-prod-plan").inputs.data).toEqual({ "plan.sh": script });
    expect(script).toBe(renderPlanScript(planTo(STORE)));
  });
});

describe("KubernetesRebuilder refuses bad arguments before creating anything", () => {
  it("GIVEN a plan promoting elsewhere THEN it fails naming both and the fix", async () => {
    const e = thrown(() => new KubernetesRebuilder("golden-prod", { ...args, plan: planTo("configmap:golden-images/other") }));
    expect(e.message).toBe(
      'Invalid KubernetesRebuilder "golden-prod" (1 problem):\n  - plan: promotes to configmap:golden-images/other, not configmap:golden-images/golden-prod-promoted (value: "configmap:golden-images/other"). Fix: plan with promotionStore "configmap:golden-images/golden-prod-promoted"',
    );
    await settle();
    expect(mocks.resources).toHaveLength(0);
  });

  it("GIVEN an Output plan THEN nothing is checked up front; its apply runs the same check on the resolved plan", () => {
    // A failing apply fails the deployment through the plan ConfigMap's registration, which the
    // mock monitor cannot show a test without leaking the rejection; the check itself is this one.
    expect(kubernetesRebuilderIssues("golden-prod", { ...args, plan: pulumi.output(planTo("ssm:/golden-images/prod")) })).toEqual([]);
    expect(kubernetesRebuilderIssues("golden-prod", { ...args, plan: planTo("ssm:/golden-images/prod") }).map((i) => [i.path, i.problem])).toEqual([
      ["plan", "promotes to ssm:/golden-images/prod, not configmap:golden-images/golden-prod-promoted"],
    ]);
  });

  it("GIVEN a plan promoting to the right name in another namespace THEN it is refused too", () => {
    const e = thrown(() => new KubernetesRebuilder("golden-prod", { ...args, plan: planTo("configmap:default/golden-prod-promoted") }));
    expect(e.issues.map((i) => i.path)).toEqual(["plan"]);
  });

  it("GIVEN a too frequent schedule in the wrong grammar, a bad time zone and a flexible window THEN every problem at once, at its path", async () => {
    const e = thrown(() => new KubernetesRebuilder("golden-prod", { ...args, schedule: { expression: "cron(*/5 * * * ? *)", timezone: "Mars/Olympus", flexibleWindowMinutes: 15 } }));
    const paths = e.issues.map((i) => i.path);
    expect(new Set(paths)).toEqual(new Set(["schedule.expression", "schedule.timezone", "schedule.flexibleWindowMinutes"]));
    expect(e.message).toMatch(/^Invalid KubernetesRebuilder "golden-prod" \(\d+ problems\):/);
    await settle();
    expect(mocks.resources).toHaveLength(0);
  });

  it.each([
    ["every 5 minutes", "*/5 * * * *"],
    ["an EventBridge cron", "cron(0 3 * * ? *)"],
    ["a time zone prefix", "CRON_TZ=UTC 0 3 * * *"],
  ])("GIVEN a schedule %s THEN it is refused at schedule.expression", (_label, expression) => {
    const e = thrown(() => new KubernetesRebuilder("golden-prod", { ...args, schedule: { expression } }));
    expect(e.issues.length).toBeGreaterThan(0);
    expect(e.issues.every((i) => i.path === "schedule.expression")).toBe(true);
  });

  it("GIVEN a keypair plan without keyPair THEN keyPair is required, naming what the plan reads", async () => {
    const e = thrown(() => new KubernetesRebuilder("golden-prod", { ...args, keyPair: undefined }));
    expect(e.issues.map((i) => [i.path, i.problem])).toEqual([["keyPair", "is required: the plan signs with a key pair (it reads COSIGN_PASSWORD, COSIGN_PRIVATE_KEY, COSIGN_PUBLIC_KEY)"]]);
    await settle();
    expect(mocks.resources).toHaveLength(0);
  });

  it("GIVEN a KMS plan with a keyPair THEN the key pair is refused (nothing would read it)", () => {
    const e = thrown(() => new KubernetesRebuilder("golden-prod", { ...args, plan: planTo(STORE, KMS) }));
    expect(e.issues.map((i) => [i.path, i.value])).toEqual([["keyPair", "(secret)"]]);
    expect(e.message).not.toContain(PASSWORD);
  });

  it("GIVEN a plan reading a key from another variable THEN it is refused: the job's Secret holds the cosign key pair only", () => {
    const e = thrown(() => new KubernetesRebuilder("golden-prod", { ...args, plan: planTo(STORE, { mode: "keypair", key: "env://MY_KEY", publicKey: "env://COSIGN_PUBLIC_KEY" }) }));
    expect(e.issues.map((i) => [i.path, i.value])).toEqual([["plan", "env://MY_KEY"]]);
  });

  it("GIVEN every argument wrong THEN one report names them all, at their paths, and nothing is created", async () => {
    const bad = {
      ...args,
      plan: planTo("configmap:golden-images/elsewhere"),
      namespace: "Golden_Images",
      schedule: { expression: "* * * * *" },
      source: { url: "http://git.example.test/golden.git", revision: "abc1234" },
      builderImage: "builder:latest",
      registrySecretName: "golden-prod-cosign",
      env: { GITHUB_TOKEN: "x" },
      resources: { requests: { memory: "lots" } },
      labels: { "app.kubernetes.io/name": "x" },
      pointerConfigMapName: "golden-prod-plan",
      keyPaIr: {},
    } as unknown as KubernetesRebuilderArgs;
    const e = thrown(() => new KubernetesRebuilder("golden-prod", bad));
    expect(e.issues.map((i) => i.path)).toEqual([
      "keyPaIr",
      "schedule.expression",
      "plan",
      "namespace",
      "builderImage",
      "source.url",
      "source.revision",
      "pointerConfigMapName",
      "env.GITHUB_TOKEN",
      "resources.requests.memory",
      'labels["app.kubernetes.io/name"]',
      "registrySecretName",
    ]);
    e.issues.forEach((i) => expect(i.path).toMatch(WELL_FORMED_PATH));
    expect(e.message).not.toContain(PASSWORD);
    await settle();
    expect(mocks.resources).toHaveLength(0);
  });

  it("GIVEN a component name that is no DNS label THEN the name is reported once, not again for each name derived from it", () => {
    const issues = kubernetesRebuilderIssues("Golden_Prod", args);
    // The plan promotes to golden-prod-promoted, not to the default Golden_Prod-promoted: also reported.
    expect(issues.map((i) => i.path)).toEqual(["plan", "name"]);
    expect(issues[1]).toMatchObject({ value: "Golden_Prod", problem: expect.stringContaining("is not a DNS-1123 label") });
  });

  it("GIVEN the valid example THEN there is no issue, and a missing plan is one", () => {
    expect(kubernetesRebuilderIssues("golden-prod", args)).toEqual([]);
    expect(kubernetesRebuilderIssues("golden-prod", { ...args, plan: undefined as unknown as Plan }).map((i) => [i.path, i.problem])).toEqual([["plan", "is required"]]);
  });
});
