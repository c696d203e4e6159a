/**
 * The golden-images policy pack (policy/): each policy's validateResource on passing and failing
 * resources of every kind it covers, with the exact messages; values unknown during preview sent
 * the way the engine sends them (a sentinel behind the SDK's unknownCheckingProxy); enforcement
 * levels; a fast-check property of the image rule; and the pack itself run by Pulumi's own policy
 * runner (run-policy-pack, what `pulumi preview --policy-pack policy/` starts) over gRPC.
 * Passing Kubernetes fixtures are judged by the Kubernetes schemas (kubernetes-models) first.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as fc from "fast-check";
import YAML from "yaml";
import { ResourceValidation, ResourceValidationArgs, ResourceValidationPolicy, unknownCheckingProxy } from "@pulumi/policy";
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import { GOLDEN_IMAGES_CONFIG_SCHEMA, GOLDEN_POLICY_DEFAULTS, goldenPolicies, GoldenPolicyOptions, PACK_DESCRIPTION, PACK_NAME } from "../../policy/policies";
import { GOLDEN_POLICY_NAMES, GoldenPolicyName, POLICY, WORKLOAD_POD_SPEC_PATHS, WorkloadType } from "../../policy/rules";

const ROOT = path.join(__dirname, "..", "..");
const POLICY_DIR = path.join(ROOT, "policy");

/** One seed for every property of this file, printed so any failure replays (PROPERTY_SEED, PROPERTY_RUNS). */
const SEED = process.env.PROPERTY_SEED !== undefined && process.env.PROPERTY_SEED !== "" ? Number(process.env.PROPERTY_SEED) | 0 : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
const RUNS = { numRuns: Number(process.env.PROPERTY_RUNS ?? 200), seed: SEED };

beforeAll(() => {
  console.log(`policy pack property tests: PROPERTY_SEED=${SEED} PROPERTY_RUNS=${RUNS.numRuns}`);
});

// ---------------------------------------------------------------------------------------------
// The Kubernetes schemas judge the passing fixtures (ES modules, loaded with Node's own require
// as in kubernetes-job.test.ts).

type ModelClass = new (data: object) => { validate(): void };
const nodeRequire = process.getBuiltinModule("module").createRequire(__filename);
const MODELS_DIR = path.dirname(nodeRequire.resolve("kubernetes-models/package.json"));
const APIMACHINERY_DIR = path.dirname(nodeRequire.resolve("@kubernetes-models/apimachinery/package.json"));
const models = (group: string): Record<string, ModelClass> => nodeRequire(path.join(MODELS_DIR, group, "index.js"));
const MODEL_OF: Readonly<Record<string, ModelClass>> = { ...pick(models("v1"), "Pod"), ...models("apps/v1"), ...models("batch/v1") };

function pick(all: Record<string, ModelClass>, ...names: string[]): Record<string, ModelClass> {
  return Object.fromEntries(names.map((n) => [n, all[n]]));
}

/** Every property name the models know: the schemas accept unknown fields, this catches a misspelt one. */
const KNOWN_FIELDS: ReadonlySet<string> = new Set(
  [path.join(MODELS_DIR, "v1"), path.join(MODELS_DIR, "apps", "v1"), path.join(MODELS_DIR, "batch", "v1"), path.join(APIMACHINERY_DIR, "apis", "meta", "v1")].flatMap((dir) =>
    fs
      .readdirSync(dir)
      .filter((f) => f.endsWith(".d.ts"))
      .flatMap((f) => [...fs.readFileSync(path.join(dir, f), "utf8").matchAll(/"([A-Za-z$][A-Za-z0-9$]*)"\??:/g)].map((m) => m[1])),
  ),
);

function unknownFields(value: unknown, at = ""): string[] {
  if (Array.isArray(value)) {
    return value.flatMap((v, i) => unknownFields(v, `${at}[${i}]`));
  }
  if (value === null || typeof value !== "object") {
    return [];
  }
  return Object.entries(value).flatMap(([k, v]) => [...(KNOWN_FIELDS.has(k) ? [] : [`${at}.${k}`]), ...(k === "labels" || k === "matchLabels" ? [] : unknownFields(v, `${at}.${k}`))]);
}

function expectValidKubernetes(manifest: Record<string, unknown>): void {
  expect(unknownFields(manifest)).toEqual([]);
  expect(() => new MODEL_OF[manifest.kind as string](manifest).validate()).not.toThrow();
}

// ---------------------------------------------------------------------------------------------
// Fixtures. Fake registry hosts only.

const REGISTRY = "registry.example.internal/golden/";
const CONFIG = { goldenRegistries: [REGISTRY] };
const HEX = "0123456789abcdef".repeat(4);
const golden = (repository: string) => `${REGISTRY}${repository}@sha256:${HEX}`;
/** What the engine sends for a value it cannot know during preview. */
const UNKNOWN_VALUE = unknownValue;

const HARDENED = {
  runAsNonRoot: true,
  readOnlyRootFilesystem: true,
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
} as const;

type Container = Record<string, unknown>;
type PodSpec = { containers: Container[]; initContainers?: Container[]; ephemeralContainers?: Container[]; securityContext?: Record<string, unknown> };

const container = (name: string, image: unknown, securityContext: unknown = HARDENED): Container => ({ name, image, securityContext });
/** A container that sets no securityContext at all. */
const bare = (name: string, image: unknown): Container => ({ name, image });
const HARDENED_POD: PodSpec = { initContainers: [container("migrate", golden("migrate"))], containers: [container("app", golden("api")), container("sidecar", golden("proxy"))] };

/** The seven workload kinds: Pulumi type, where its pod spec is (written out here, not taken from the policy). */
const WORKLOADS: readonly (readonly [WorkloadType, string])[] = [
  ["kubernetes:core/v1:Pod", "spec"],
  ["kubernetes:apps/v1:Deployment", "spec.template.spec"],
  ["kubernetes:apps/v1:StatefulSet", "spec.template.spec"],
  ["kubernetes:apps/v1:DaemonSet", "spec.template.spec"],
  ["kubernetes:apps/v1:ReplicaSet", "spec.template.spec"],
  ["kubernetes:batch/v1:Job", "spec.template.spec"],
  ["kubernetes:batch/v1:CronJob", "spec.jobTemplate.spec.template.spec"],
];

const LABELS = { app: "web" };

/** The inputs of a Pulumi Kubernetes resource of that type (apiVersion and kind included, as the SDK sends them). */
function workload(type: WorkloadType, pod: PodSpec): Record<string, unknown> {
  const [, groupVersion, kind] = type.split(":");
  const apiVersion = groupVersion === "core/v1" ? "v1" : groupVersion;
  const metadata = { name: "web", namespace: "team-a" };
  const jobPod = { ...pod, restartPolicy: "Never" };
  switch (kind) {
    case "Pod":
      return { apiVersion, kind, metadata, spec: pod };
    case "Job":
      return { apiVersion, kind, metadata, spec: { template: { metadata: { labels: LABELS }, spec: jobPod } } };
    case "CronJob":
      return { apiVersion, kind, metadata, spec: { schedule: "0 3 * * *", jobTemplate: { spec: { template: { metadata: { labels: LABELS }, spec: jobPod } } } } };
    default:
      return {
        apiVersion,
        kind,
        metadata,
        spec: { ...(kind === "StatefulSet" ? { serviceName: "web" } : {}), selector: { matchLabels: LABELS }, template: { metadata: { labels: LABELS }, spec: pod } },
      };
  }
}

const ecsTask = (containerDefinitions: unknown) => ({
  type: "aws:ecs/taskDefinition:TaskDefinition",
  name: "api-task",
  props: { family: "api", requiresCompatibilities: ["FARGATE"], networkMode: "awsvpc", cpu: "256", memory: "512", containerDefinitions },
});
const lambda = (props: Record<string, unknown>) => ({ type: "aws:lambda/function:Function", name: "resize", props: { role: "arn:aws:iam::123456789012:role/resize", ...props } });
const ecrRepository = (props: Record<string, unknown>) => ({ type: "aws:ecr/repository:Repository", name: "api", props: { name: "team-a/api", ...props } });

// ---------------------------------------------------------------------------------------------
// Running a policy the way the SDK's analyzer does: inputs behind unknownCheckingProxy, config
// from getConfig, every reportViolation collected.

interface Resource {
  readonly type: string;
  readonly name: string;
  readonly props: Record<string, unknown>;
}

function engineArgs(resource: Resource, config: Record<string, unknown>): ResourceValidationArgs {
  return {
    type: resource.type,
    name: resource.name,
    urn: `urn:pulumi:dev::consumer::${resource.type}::${resource.name}`,
    props: unknownCheckingProxy(resource.props),
    opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] },
    stackTags: new Map<string, string>(),
    isType: () => false,
    asType: () => undefined,
    getConfig: <T extends object>() => config as T,
    notApplicable: (reason?: string) => {
      throw new Error(`notApplicable(${reason}) is not expected`);
    },
  };
}

function policyNamed(name: GoldenPolicyName, policies: ResourceValidationPolicy[] = goldenPolicies()): ResourceValidationPolicy {
  const found = policies.find((p) => p.name === name);
  if (found === undefined) {
    throw new Error(`no policy ${name}`);
  }
  return found;
}

function violations(name: GoldenPolicyName, resource: Resource, config: Record<string, unknown> = name === POLICY.imagesByDigest ? CONFIG : {}): string[] {
  const messages: string[] = [];
  const validate = policyNamed(name).validateResource as ResourceValidation;
  void validate(engineArgs(resource, config), (message) => messages.push(message));
  return messages;
}

/** Every policy of the pack over one resource, by policy name (policies with nothing to say left out). */
function allViolations(resource: Resource): Record<string, string[]> {
  return Object.fromEntries(GOLDEN_POLICY_NAMES.map((n) => [n, violations(n, resource)]).filter(([, v]) => v.length > 0));
}

const IMAGE_FIX = "(use <golden registry>/<repository>@sha256:<64 hex>, the digest the golden pipeline promoted)";
const notGolden = `is not from a golden registry (use an image under ${REGISTRY})`;
const pinFix = (repository: string) => `(use ${repository}@sha256:<64 hex>, the digest the golden pipeline promoted)`;

// ---------------------------------------------------------------------------------------------

describe("the pack's policies", () => {
  it("GIVEN goldenPolicies() THEN the three policies, with stable names, descriptions and mandatory levels", () => {
    const policies = goldenPolicies();
    expect(policies.map((p) => [p.name, p.enforcementLevel])).toEqual([
      ["golden-images-by-digest", "mandatory"],
      ["ecr-repositories-immutable-and-kms", "mandatory"],
      ["workload-security-context", "mandatory"],
    ]);
    expect(policies.every((p) => p.description.length > 20 && typeof p.validateResource === "function")).toBe(true);
    expect(GOLDEN_POLICY_DEFAULTS.enforcementLevel).toBe("mandatory");
  });

  it("GIVEN the image policy THEN its config schema requires a non-empty list of registry prefixes", () => {
    expect(policyNamed(POLICY.imagesByDigest).configSchema).toEqual(GOLDEN_IMAGES_CONFIG_SCHEMA);
    expect(GOLDEN_IMAGES_CONFIG_SCHEMA).toEqual({
      properties: {
        goldenRegistries: {
          type: "array",
          items: { type: "string", minLength: 1 },
          minItems: 1,
          uniqueItems: true,
          description: 'Registry prefixes golden images live under, e.g. "<account>.dkr.ecr.<region>.<suffix>/golden/".',
        },
      },
      required: ["goldenRegistries"],
    });
    expect(policyNamed(POLICY.ecrImmutableKms).configSchema).toBeUndefined();
    expect(policyNamed(POLICY.workloadSecurityContext).configSchema).toBeUndefined();
  });

  it("GIVEN the policy list THEN it names every kind of workload the brief lists, and only those", () => {
    expect(Object.keys(WORKLOAD_POD_SPEC_PATHS).sort()).toEqual(WORKLOADS.map(([t]) => t).sort());
  });
});

describe("enforcement levels", () => {
  it.each<[string, GoldenPolicyOptions, string[]]>([
    ["a level for the pack", { enforcementLevel: "advisory" }, ["advisory", "advisory", "advisory"]],
    ["a level for one policy", { enforcementLevels: { "workload-security-context": "advisory" } }, ["mandatory", "mandatory", "advisory"]],
    [
      "a pack level and per-policy levels",
      { enforcementLevel: "advisory", enforcementLevels: { "golden-images-by-digest": "mandatory", "ecr-repositories-immutable-and-kms": "disabled" } },
      ["mandatory", "disabled", "advisory"],
    ],
  ])("GIVEN %s WHEN the policies are built THEN each carries its configured level", (_label, options, levels) => {
    expect(goldenPolicies(options).map((p) => p.enforcementLevel)).toEqual(levels);
  });

  it("GIVEN bad options WHEN the policies are built THEN every problem is reported at once", () => {
    expect(() =>
      goldenPolicies({
        enforcementLevel: "remediate",
        enforcementLevels: { "golden-images-by-digest": "warn", "no-such-policy": "advisory" },
      } as unknown as GoldenPolicyOptions),
    ).toThrow(
      new Error(
        [
          "Invalid golden policy options:",
          '  - enforcementLevel: "remediate" is not an enforcement level of this pack (use one of advisory, mandatory, disabled)',
          '  - enforcementLevels.golden-images-by-digest: "warn" is not an enforcement level of this pack (use one of advisory, mandatory, disabled)',
          "  - enforcementLevels.no-such-policy: no policy of this pack has that name (use one of golden-images-by-digest, ecr-repositories-immutable-and-kms, workload-security-context)",
        ].join("\n"),
      ),
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe("golden-images-by-digest", () => {
  describe.each(WORKLOADS)("GIVEN a %s", (type, podPath) => {
    it("WHEN every container, init container and ephemeral container runs a golden image by digest THEN no policy of the pack reports it", () => {
      // GIVEN a workload Kubernetes accepts
      const manifest = workload(type, HARDENED_POD);
      expectValidKubernetes(manifest);
      const withEphemeral = workload(type, { ...HARDENED_POD, ephemeralContainers: [container("debug", golden("debug"))] });
      // WHEN / THEN
      expect(allViolations({ type, name: "web", props: manifest })).toEqual({});
      expect(allViolations({ type, name: "web", props: withEphemeral })).toEqual({});
    });

    it("WHEN images are latest, a tag alone, untagged or from elsewhere THEN each is reported with where it is and the fix", () => {
      // GIVEN
      const pod: PodSpec = {
        initContainers: [container("migrate", `${REGISTRY}migrate:1.4.2`)],
        containers: [container("app", "nginx:latest"), container("sidecar", golden("proxy"))],
        ephemeralContainers: [container("debug", `${REGISTRY}debug`)],
      };
      // WHEN
      const messages = violations(POLICY.imagesByDigest, { type, name: "web", props: workload(type, pod) });
      // THEN
      expect(messages).toEqual([
        `${type} "web": container "app" (${podPath}.containers[0]) image "nginx:latest" ${notGolden}; is not pinned by digest: tag "latest" moves ${IMAGE_FIX}.`,
        `${type} "web": container "migrate" (${podPath}.initContainers[0]) image "${REGISTRY}migrate:1.4.2" is not pinned by digest: tag "1.4.2" alone can be moved ${pinFix(`${REGISTRY}migrate`)}.`,
        `${type} "web": container "debug" (${podPath}.ephemeralContainers[0]) image "${REGISTRY}debug" is not pinned by digest: no tag means "latest" ${pinFix(`${REGISTRY}debug`)}.`,
      ]);
    });
  });

  it.each([
    ["a sibling of the golden prefix", `registry.example.internal/golden-old/api@sha256:${HEX}`, [notGolden]],
    ["another registry with the golden path", `mirror.example.internal/golden/api@sha256:${HEX}`, [notGolden]],
    ["the prefix alone, no repository", `${REGISTRY}@sha256:${HEX}`, [notGolden]],
    ["a short digest", `${REGISTRY}api@sha256:abc123`, [`is not pinned by digest: digest "sha256:abc123" is not sha256:<64 lowercase hex> ${pinFix(`${REGISTRY}api`)}`]],
    ["an upper-case digest", `${REGISTRY}api@sha256:${HEX.toUpperCase()}`, [`is not pinned by digest: digest "sha256:${HEX.toUpperCase()}" is not sha256:<64 lowercase hex> ${pinFix(`${REGISTRY}api`)}`]],
    ["another algorithm", `${REGISTRY}api@sha512:${HEX}${HEX}`, [`is not pinned by digest: digest "sha512:${HEX}${HEX}" is not sha256:<64 lowercase hex> ${pinFix(`${REGISTRY}api`)}`]],
  ])("GIVEN an image from %s WHEN checked THEN it is reported", (_label, image, problems) => {
    const messages = violations(POLICY.imagesByDigest, lambda({ packageType: "Image", imageUri: image }));
    expect(messages).toEqual([`aws:lambda/function:Function "resize": imageUri "${image}" ${problems.join("; ")}.`]);
  });

  it.each([
    ["a tag beside the digest", `${REGISTRY}api:1.2.3@sha256:${HEX}`],
    ["a nested repository", `${REGISTRY}team-a/api/worker@sha256:${HEX}`],
  ])("GIVEN a golden image with %s WHEN checked THEN it passes (the digest is what runs)", (_label, image) => {
    expect(violations(POLICY.imagesByDigest, lambda({ packageType: "Image", imageUri: image }))).toEqual([]);
  });

  it("GIVEN prefixes with and without a trailing slash WHEN checked THEN a prefix covers its own repositories, never a sibling's", () => {
    const config = { goldenRegistries: ["registry.example.internal:5000/platform/golden", "registry.example.internal/base/api"] };
    const check = (image: string) => violations(POLICY.imagesByDigest, lambda({ packageType: "Image", imageUri: image }), config);
    expect(check(`registry.example.internal:5000/platform/golden/api@sha256:${HEX}`)).toEqual([]);
    expect(check(`registry.example.internal/base/api@sha256:${HEX}`)).toEqual([]);
    expect(check(`registry.example.internal/base/api-old@sha256:${HEX}`)).toEqual([
      `aws:lambda/function:Function "resize": imageUri "registry.example.internal/base/api-old@sha256:${HEX}" is not from a golden registry (use an image under registry.example.internal:5000/platform/golden or registry.example.internal/base/api).`,
    ]);
  });

  it("GIVEN no goldenRegistries in the config WHEN checked THEN every image fails, saying how to configure it", () => {
    expect(violations(POLICY.imagesByDigest, lambda({ packageType: "Image", imageUri: golden("api") }), {})).toEqual([
      `aws:lambda/function:Function "resize": imageUri "${golden("api")}" is not from a golden registry (none is configured: set goldenRegistries in the policy pack config).`,
    ]);
  });

  describe("ECS task definitions", () => {
    it("GIVEN every container definition runs a golden image by digest THEN it passes", () => {
      const definitions = JSON.stringify([
        { name: "api", image: golden("api"), essential: true },
        { name: "log-router", image: golden("fluent-bit"), essential: false },
      ]);
      expect(allViolations(ecsTask(definitions))).toEqual({});
    });

    it("GIVEN container definitions with a tag and a foreign image THEN each is reported", () => {
      const definitions = JSON.stringify([
        { name: "api", image: `${REGISTRY}api:2024.06` },
        { name: "log-router", image: "registry.example.internal/vendor/fluent-bit:latest" },
        { name: "sidecar", image: golden("proxy") },
      ]);
      expect(violations(POLICY.imagesByDigest, ecsTask(definitions))).toEqual([
        `aws:ecs/taskDefinition:TaskDefinition "api-task": container "api" (containerDefinitions[0]) image "${REGISTRY}api:2024.06" is not pinned by digest: tag "2024.06" alone can be moved ${pinFix(`${REGISTRY}api`)}.`,
        `aws:ecs/taskDefinition:TaskDefinition "api-task": container "log-router" (containerDefinitions[1]) image "registry.example.internal/vendor/fluent-bit:latest" ${notGolden}; is not pinned by digest: tag "latest" moves ${IMAGE_FIX}.`,
      ]);
    });

    it.each([
      ["not JSON", "[{ name: api }]", 'containerDefinitions "[{ name: api }]" is not valid JSON'],
      ["JSON but not a list", JSON.stringify({ name: "api", image: golden("api") }), `containerDefinitions is ${JSON.stringify({ name: "api", image: golden("api") })}, not a JSON array`],
    ])("GIVEN containerDefinitions %s THEN it fails closed: the images cannot be checked", (_label, definitions, problem) => {
      expect(violations(POLICY.imagesByDigest, ecsTask(definitions))).toEqual([
        `aws:ecs/taskDefinition:TaskDefinition "api-task": ${problem}, so its images cannot be checked (pass a JSON array of container definitions, e.g. JSON.stringify([{ name: "app", image: "<golden image>@sha256:<64 hex>" }])).`,
      ]);
    });
  });

  describe("Lambda functions", () => {
    it("GIVEN a container function on a golden image by digest THEN it passes", () => {
      expect(allViolations(lambda({ packageType: "Image", imageUri: golden("resize") }))).toEqual({});
    });

    it("GIVEN a container function on a tag THEN it is reported", () => {
      expect(violations(POLICY.imagesByDigest, lambda({ packageType: "Image", imageUri: `${REGISTRY}resize:latest` }))).toEqual([
        `aws:lambda/function:Function "resize": imageUri "${REGISTRY}resize:latest" is not pinned by digest: tag "latest" moves ${pinFix(`${REGISTRY}resize`)}.`,
      ]);
    });

    it("GIVEN a zip function THEN the image policy does not apply", () => {
      expect(violations(POLICY.imagesByDigest, lambda({ runtime: "nodejs20.x", handler: "index.handler", code: "./dist" }))).toEqual([]);
      expect(violations(POLICY.imagesByDigest, lambda({ packageType: "Zip", imageUri: "nginx:latest" }))).toEqual([]);
    });
  });

  it("GIVEN resources of other types THEN nothing is reported", () => {
    expect(allViolations({ type: "aws:s3/bucket:Bucket", name: "logs", props: { bucket: "logs", image: "nginx:latest" } })).toEqual({});
    expect(allViolations({ type: "kubernetes:core/v1:Service", name: "web", props: { spec: { containers: [bare("x", "nginx:latest")] } } })).toEqual({});
  });
});

// ---------------------------------------------------------------------------------------------

describe("values unknown during preview", () => {
  it("GIVEN unknown images, lists and containers WHEN checked THEN nothing unknown is reported and the known bad image still is", () => {
    // GIVEN a Deployment whose first image is an output of another resource
    const pod: PodSpec = {
      containers: [container("app", UNKNOWN_VALUE), UNKNOWN_VALUE as unknown as Container, container("sidecar", "nginx:1.27")],
      initContainers: UNKNOWN_VALUE as unknown as Container[],
    };
    const deployment = { type: "kubernetes:apps/v1:Deployment", name: "web", props: workload("kubernetes:apps/v1:Deployment", pod) };
    // WHEN / THEN
    expect(violations(POLICY.imagesByDigest, deployment)).toEqual([
      `kubernetes:apps/v1:Deployment "web": container "sidecar" (spec.template.spec.containers[2]) image "nginx:1.27" ${notGolden}; is not pinned by digest: tag "1.27" alone can be moved ${IMAGE_FIX}.`,
    ]);
    expect(violations(POLICY.workloadSecurityContext, deployment)).toEqual([]);
  });

  it.each<[string, Resource]>([
    ["a Lambda imageUri", lambda({ packageType: "Image", imageUri: UNKNOWN_VALUE })],
    ["a Lambda packageType", lambda({ packageType: UNKNOWN_VALUE, imageUri: "nginx:latest" })],
    ["ECS containerDefinitions", ecsTask(UNKNOWN_VALUE)],
    ["a whole pod spec", { type: "kubernetes:apps/v1:Deployment", name: "web", props: { spec: { template: UNKNOWN_VALUE } } }],
    ["a CronJob's job template", { type: "kubernetes:batch/v1:CronJob", name: "web", props: { spec: { schedule: "0 3 * * *", jobTemplate: { spec: UNKNOWN_VALUE } } } }],
    ["ECR settings", ecrRepository({ imageTagMutability: UNKNOWN_VALUE, encryptionConfigurations: UNKNOWN_VALUE })],
    ["an ECR encryption type", ecrRepository({ imageTagMutability: "IMMUTABLE", encryptionConfigurations: [{ encryptionType: UNKNOWN_VALUE, kmsKey: UNKNOWN_VALUE }] })],
  ])("GIVEN %s unknown WHEN every policy runs THEN none reports", (_label, resource) => {
    expect(allViolations(resource)).toEqual({});
  });

  it("GIVEN an image input left undefined WHEN checked THEN it is not reported (nothing to judge; Kubernetes requires an image)", () => {
    const pod: PodSpec = { containers: [{ name: "app", securityContext: HARDENED }] };
    expect(allViolations({ type: "kubernetes:core/v1:Pod", name: "web", props: workload("kubernetes:core/v1:Pod", pod) })).toEqual({});
    expect(allViolations(lambda({ packageType: "Image" }))).toEqual({});
  });

  it("GIVEN unknown security settings WHEN checked THEN only the known bad settings are reported", () => {
    const pod: PodSpec = {
      securityContext: UNKNOWN_VALUE as unknown as Record<string, unknown>,
      containers: [
        container("app", golden("api"), UNKNOWN_VALUE),
        container("sidecar", golden("proxy"), { readOnlyRootFilesystem: UNKNOWN_VALUE, allowPrivilegeEscalation: true, capabilities: { drop: UNKNOWN_VALUE }, privileged: UNKNOWN_VALUE }),
      ],
    };
    expect(violations(POLICY.workloadSecurityContext, { type: "kubernetes:core/v1:Pod", name: "web", props: workload("kubernetes:core/v1:Pod", pod) })).toEqual([
      'kubernetes:core/v1:Pod "web": container "sidecar" (spec.containers[1]) securityContext: allowPrivilegeEscalation is true (set false on the container).',
    ]);
  });
});

// ---------------------------------------------------------------------------------------------

describe("ecr-repositories-immutable-and-kms", () => {
  it.each([
    ["IMMUTABLE with a KMS key", { imageTagMutability: "IMMUTABLE", encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: "arn:aws:kms:eu-west-1:123456789012:key/1234" }] }],
    [
      "IMMUTABLE_WITH_EXCLUSION with the AWS-managed KMS key",
      { imageTagMutability: "IMMUTABLE_WITH_EXCLUSION", imageTagMutabilityExclusionFilters: [{ filter: "latest*", filterType: "WILDCARD" }], encryptionConfigurations: [{ encryptionType: "KMS" }] },
    ],
  ])("GIVEN a repository %s THEN it passes", (_label, props) => {
    expect(allViolations(ecrRepository(props))).toEqual({});
  });

  it.each([
    [
      "nothing set (the provider's defaults)",
      {},
      'imageTagMutability is unset, so "MUTABLE" (set "IMMUTABLE", or "IMMUTABLE_WITH_EXCLUSION" with exclusion filters); encryptionConfigurations is unset, so "AES256" (set encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: <key ARN> }])',
    ],
    [
      "MUTABLE and AES256",
      { imageTagMutability: "MUTABLE", encryptionConfigurations: [{ encryptionType: "AES256" }] },
      'imageTagMutability is "MUTABLE" (set "IMMUTABLE", or "IMMUTABLE_WITH_EXCLUSION" with exclusion filters); encryptionConfigurations[0].encryptionType is "AES256" (set encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: <key ARN> }])',
    ],
    [
      "MUTABLE_WITH_EXCLUSION and an encryption block without a type",
      { imageTagMutability: "MUTABLE_WITH_EXCLUSION", encryptionConfigurations: [{ kmsKey: "arn:aws:kms:eu-west-1:123456789012:key/1234" }] },
      'imageTagMutability is "MUTABLE_WITH_EXCLUSION" (set "IMMUTABLE", or "IMMUTABLE_WITH_EXCLUSION" with exclusion filters); encryptionConfigurations[0].encryptionType is unset, so "AES256" (set encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: <key ARN> }])',
    ],
    [
      "IMMUTABLE with an empty encryption list",
      { imageTagMutability: "IMMUTABLE", encryptionConfigurations: [] },
      'encryptionConfigurations is unset, so "AES256" (set encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: <key ARN> }])',
    ],
  ])("GIVEN a repository with %s THEN one message names each bad setting and its fix", (_label, props, problems) => {
    expect(violations(POLICY.ecrImmutableKms, ecrRepository(props))).toEqual([`aws:ecr/repository:Repository "api": ${problems}.`]);
  });
});

// ---------------------------------------------------------------------------------------------

describe("workload-security-context", () => {
  const UNSET_ALL =
    'runAsNonRoot is unset (set true on the container or the pod); readOnlyRootFilesystem is unset (set true on the container; mount an emptyDir where the program writes); allowPrivilegeEscalation is unset (set false on the container); capabilities.drop is unset (include "ALL" on the container; add back only what the program needs); seccompProfile.type is unset (set "RuntimeDefault", or "Localhost" with a profile, on the container or the pod)';

  describe.each(WORKLOADS)("GIVEN a %s", (type, podPath) => {
    it("WHEN a container and an init container set nothing THEN each is reported with every missing setting and its fix", () => {
      const pod: PodSpec = { initContainers: [bare("migrate", golden("migrate"))], containers: [bare("app", golden("api")), container("sidecar", golden("proxy"))] };
      expect(violations(POLICY.workloadSecurityContext, { type, name: "web", props: workload(type, pod) })).toEqual([
        `${type} "web": container "app" (${podPath}.containers[0]) securityContext: ${UNSET_ALL}.`,
        `${type} "web": container "migrate" (${podPath}.initContainers[0]) securityContext: ${UNSET_ALL}.`,
      ]);
    });

    it("WHEN runAsNonRoot and seccompProfile come from the pod THEN the containers inherit them and pass", () => {
      const { runAsNonRoot, seccompProfile, ...containerOnly } = HARDENED;
      const pod: PodSpec = { securityContext: { runAsNonRoot, seccompProfile, runAsUser: 65532 }, containers: [container("app", golden("api"), containerOnly)] };
      const manifest = workload(type, pod);
      expectValidKubernetes(manifest);
      expect(allViolations({ type, name: "web", props: manifest })).toEqual({});
    });
  });

  const pod = (securityContext: Record<string, unknown> | undefined, containerContext: unknown): Resource => ({
    type: "kubernetes:core/v1:Pod",
    name: "web",
    props: workload("kubernetes:core/v1:Pod", { ...(securityContext === undefined ? {} : { securityContext }), containers: [container("app", golden("api"), containerContext)] }),
  });
  const reported = (problems: string) => [`kubernetes:core/v1:Pod "web": container "app" (spec.containers[0]) securityContext: ${problems}.`];
  const { runAsNonRoot: _r, seccompProfile: _s, ...CONTAINER_ONLY } = HARDENED;

  it.each<[string, Resource, string[]]>([
    ["a Localhost seccomp profile", pod(undefined, { ...HARDENED, seccompProfile: { type: "Localhost", localhostProfile: "profiles/api.json" } }), []],
    ["drop ALL among others", pod(undefined, { ...HARDENED, capabilities: { drop: ["NET_RAW", "ALL"], add: ["NET_BIND_SERVICE"] } }), []],
    ["privileged: false", pod(undefined, { ...HARDENED, privileged: false }), []],
    ["a container that runs as root against the pod's setting", pod({ runAsNonRoot: true }, { ...HARDENED, runAsNonRoot: false }), reported("runAsNonRoot is false (set true on the container)")],
    ["a pod that runs as root", pod({ runAsNonRoot: false, seccompProfile: { type: "RuntimeDefault" } }, CONTAINER_ONLY), reported("runAsNonRoot is false from the pod (set true on the container or the pod)")],
    [
      "an Unconfined pod profile",
      pod({ runAsNonRoot: true, seccompProfile: { type: "Unconfined" } }, CONTAINER_ONLY),
      reported('seccompProfile.type is "Unconfined" from the pod (set "RuntimeDefault", or "Localhost" with a profile, on the container or the pod)'),
    ],
    [
      "an Unconfined container profile against a RuntimeDefault pod",
      pod({ seccompProfile: { type: "RuntimeDefault" } }, { ...HARDENED, seccompProfile: { type: "Unconfined" } }),
      reported('seccompProfile.type is "Unconfined" (set "RuntimeDefault", or "Localhost" with a profile, on the container)'),
    ],
    [
      // PodSecurityContext has no such fields; Kubernetes drops them, so they protect nothing.
      "container-only settings written on the pod",
      pod({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" }, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } }, {}),
      reported(
        'readOnlyRootFilesystem is unset (set true on the container; mount an emptyDir where the program writes); allowPrivilegeEscalation is unset (set false on the container); capabilities.drop is unset (include "ALL" on the container; add back only what the program needs)',
      ),
    ],
    [
      "a writable root, escalation, added capabilities without drop ALL, and privileged",
      pod(undefined, { ...HARDENED, readOnlyRootFilesystem: false, allowPrivilegeEscalation: true, capabilities: { drop: ["NET_RAW"], add: ["SYS_ADMIN"] }, privileged: true }),
      reported(
        'readOnlyRootFilesystem is false (set true on the container; mount an emptyDir where the program writes); allowPrivilegeEscalation is true (set false on the container); capabilities.drop is ["NET_RAW"] (include "ALL" on the container; add back only what the program needs); privileged is true (remove it or set false)',
      ),
    ],
  ])("GIVEN %s WHEN checked THEN the exact problems", (_label, resource, expected) => {
    expect(violations(POLICY.workloadSecurityContext, resource)).toEqual(expected);
  });

  it("GIVEN an ephemeral container that sets nothing THEN it is reported too", () => {
    const props = workload("kubernetes:core/v1:Pod", { ...HARDENED_POD, ephemeralContainers: [bare("debug", golden("debug"))] });
    expect(violations(POLICY.workloadSecurityContext, { type: "kubernetes:core/v1:Pod", name: "web", props })).toEqual([
      `kubernetes:core/v1:Pod "web": container "debug" (spec.ephemeralContainers[0]) securityContext: ${UNSET_ALL}.`,
    ]);
  });
});

// ---------------------------------------------------------------------------------------------

describe("property: golden image references", () => {
  const prefix = fc.constantFrom(REGISTRY, "123456789012.dkr.registry.example.test/golden/", "registry.example.internal:5000/platform/golden/");
  const component = fc.stringMatching(/^[a-z0-9]{1,10}(?:[._-][a-z0-9]{1,10}){0,2}$/);
  const repositoryPath = fc.array(component, { minLength: 1, maxLength: 3 }).map((parts) => parts.join("/"));
  const hex = fc.stringMatching(/^[a-f0-9]{64}$/);
  const tag = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,40}$/);
  const holder = fc.constantFrom<[string, (image: string) => Resource, (image: string) => string]>(
    ["Lambda", (image) => lambda({ packageType: "Image", imageUri: image }), (image) => `aws:lambda/function:Function "resize": imageUri "${image}"`],
    ["ECS", (image) => ecsTask(JSON.stringify([{ name: "api", image }])), (image) => `aws:ecs/taskDefinition:TaskDefinition "api-task": container "api" (containerDefinitions[0]) image "${image}"`],
    ...WORKLOADS.map(
      ([type, podPath]): [string, (image: string) => Resource, (image: string) => string] => [
        type,
        (image) => ({ type, name: "web", props: workload(type, { containers: [container("app", image)] }) }),
        (image) => `${type} "web": container "app" (${podPath}.containers[0]) image "${image}"`,
      ],
    ),
  );
  const config = { goldenRegistries: [REGISTRY, "123456789012.dkr.registry.example.test/golden/", "registry.example.internal:5000/platform/golden/"] };

  it("GIVEN any <golden prefix><path>@sha256:<64 hex> THEN it passes, and the same with a tag instead of the digest fails", () => {
    fc.assert(
      fc.property(prefix, repositoryPath, hex, tag, holder, (p, repository, digest, t, [, build, where]) => {
        // GIVEN
        const byDigest = `${p}${repository}@sha256:${digest}`;
        const byTag = `${p}${repository}:${t}`;
        // WHEN / THEN
        expect(violations(POLICY.imagesByDigest, build(byDigest), config)).toEqual([]);
        const why = t === "latest" ? 'tag "latest" moves' : `tag "${t}" alone can be moved`;
        expect(violations(POLICY.imagesByDigest, build(byTag), config)).toEqual([`${where(byTag)} is not pinned by digest: ${why} ${pinFix(`${p}${repository}`)}.`]);
      }),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The pack as Pulumi runs it: `pulumi preview --policy-pack policy/` starts the analyzer plugin in
// the pack's folder, which runs @pulumi/pulumi's run-policy-pack (ts-node compiles index.ts); the
// engine then speaks gRPC to it. Here the test is the engine, with Pulumi's own gRPC stack.

describe("through Pulumi's policy runner", () => {
  const pulumiRequire = process.getBuiltinModule("module").createRequire(require.resolve("@pulumi/pulumi"));
  /* eslint-disable @typescript-eslint/no-explicit-any */
  const grpc: any = pulumiRequire("@grpc/grpc-js");
  const structpb: any = pulumiRequire("google-protobuf/google/protobuf/struct_pb");
  const emptypb: any = pulumiRequire("google-protobuf/google/protobuf/empty_pb");
  const analyzerpb: any = pulumiRequire("./proto/analyzer_pb");
  const analyzerrpc: any = pulumiRequire("./proto/analyzer_grpc_pb");
  /* eslint-enable @typescript-eslint/no-explicit-any */
  const RUN_POLICY_PACK = path.join(path.dirname(require.resolve("@pulumi/pulumi/package.json")), "cmd", "run-policy-pack");

  let child: ChildProcess | undefined;
  let stderr = "";
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let client: any;

  beforeAll(async () => {
    child = spawn(process.execPath, [RUN_POLICY_PACK, "127.0.0.1:0", "."], { cwd: POLICY_DIR, stdio: ["ignore", "pipe", "pipe"] });
    child.stderr?.on("data", (d) => (stderr += String(d)));
    const port = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the policy pack printed no port within 60 s; stderr:\n${stderr}`)), 60_000);
      child?.stdout?.once("data", (d) => {
        clearTimeout(timer);
        resolve(String(d).trim());
      });
      child?.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`the policy pack exited with ${code}; stderr:\n${stderr}`));
      });
    });
    expect(port).toMatch(/^\d+$/);
    client = new analyzerrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  }, 90_000);

  afterAll(async () => {
    client?.close();
    const running = child;
    if (running?.pid !== undefined && running.exitCode === null && running.signalCode === null) {
      // Stop only the runner this file started, and wait until it is gone.
      const exited = new Promise((resolve) => running.once("exit", resolve));
      running.kill();
      await exited;
    }
  });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const call = (method: string, request: unknown): Promise<any> =>
    new Promise((resolve, reject) => client[method](request, (e: Error | null, r: unknown) => (e ? reject(e) : resolve(r))));

  const policyConfig = (level: number, properties: Record<string, unknown>) => {
    const config = new analyzerpb.PolicyConfig();
    config.setEnforcementlevel(level);
    config.setProperties(structpb.Struct.fromJavaScript(properties));
    return config;
  };

  const analyze = async (resource: Resource) => {
    const request = new analyzerpb.AnalyzeRequest();
    request.setType(resource.type);
    request.setName(resource.name);
    request.setUrn(`urn:pulumi:dev::consumer::${resource.type}::${resource.name}`);
    request.setProperties(structpb.Struct.fromJavaScript(resource.props));
    request.setOptions(new analyzerpb.AnalyzerResourceOptions());
    const response = await call("analyze", request);
    return response.getDiagnosticsList().map((d: { getPolicyname(): string; getEnforcementlevel(): number; getMessage(): string; getDescription(): string }) => ({
      policy: d.getPolicyname(),
      level: d.getEnforcementlevel(),
      message: d.getMessage().slice(d.getDescription().length + 1),
    }));
  };

  it("GIVEN the pack's folder WHEN Pulumi asks what it is THEN the pack, its version and the policies with their levels and config schema", async () => {
    const info = await call("getAnalyzerInfo", new emptypb.Empty());
    expect([info.getName(), info.getVersion(), info.getDescription(), info.getSupportsconfig()]).toEqual([PACK_NAME, "0.1.0", PACK_DESCRIPTION, true]);
    expect(info.getPoliciesList().map((p: { getName(): string; getEnforcementlevel(): number }) => [p.getName(), p.getEnforcementlevel()])).toEqual(
      GOLDEN_POLICY_NAMES.map((n) => [n, analyzerpb.EnforcementLevel.MANDATORY]),
    );
    expect(info.getPoliciesList()[0].getConfigschema().getProperties().toJavaScript()).toEqual(GOLDEN_IMAGES_CONFIG_SCHEMA.properties);
    expect(info.getPoliciesList()[0].getConfigschema().getRequiredList()).toEqual(["goldenRegistries"]);
  });

  it("GIVEN a policy pack config WHEN the engine sends a Deployment with an unknown image THEN the configured levels, the exact messages, nothing for the unknown", async () => {
    // GIVEN the config a --policy-pack-config file carries: the registries, and one policy advisory
    const configure = new analyzerpb.ConfigureAnalyzerRequest();
    configure.getPolicyconfigMap().set(POLICY.imagesByDigest, policyConfig(analyzerpb.EnforcementLevel.MANDATORY, { goldenRegistries: [REGISTRY] }));
    configure.getPolicyconfigMap().set(POLICY.workloadSecurityContext, policyConfig(analyzerpb.EnforcementLevel.ADVISORY, {}));
    await call("configure", configure);
    const pod: PodSpec = { containers: [container("app", UNKNOWN_VALUE), container("sidecar", "nginx:latest", { ...HARDENED, privileged: true })] };
    // WHEN
    const diagnostics = await analyze({ type: "kubernetes:apps/v1:Deployment", name: "web", props: workload("kubernetes:apps/v1:Deployment", pod) });
    // THEN
    expect(diagnostics).toEqual([
      {
        policy: POLICY.imagesByDigest,
        level: analyzerpb.EnforcementLevel.MANDATORY,
        message: `kubernetes:apps/v1:Deployment "web": container "sidecar" (spec.template.spec.containers[1]) image "nginx:latest" ${notGolden}; is not pinned by digest: tag "latest" moves ${IMAGE_FIX}.`,
      },
      {
        policy: POLICY.workloadSecurityContext,
        level: analyzerpb.EnforcementLevel.ADVISORY,
        message: 'kubernetes:apps/v1:Deployment "web": container "sidecar" (spec.template.spec.containers[1]) securityContext: privileged is true (remove it or set false).',
      },
    ]);
    // AND a hardened, golden-by-digest workload passes every policy
    expect(await analyze({ type: "kubernetes:apps/v1:Deployment", name: "web", props: workload("kubernetes:apps/v1:Deployment", HARDENED_POD) })).toEqual([]);
  });

  it("GIVEN a disabled policy WHEN the engine sends a bad ECR repository THEN nothing is reported for it", async () => {
    const configure = new analyzerpb.ConfigureAnalyzerRequest();
    configure.getPolicyconfigMap().set(POLICY.ecrImmutableKms, policyConfig(analyzerpb.EnforcementLevel.DISABLED, {}));
    await call("configure", configure);
    expect(await analyze(ecrRepository({ imageTagMutability: "MUTABLE" }))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------

describe("the pack's manifests", () => {
  const root = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
  const pack = JSON.parse(fs.readFileSync(path.join(POLICY_DIR, "package.json"), "utf8"));

  it("GIVEN policy/package.json (PolicyPack reads its version; a published pack installs from it) THEN its pins are the root package's", () => {
    expect(pack.version).toBe(root.version);
    expect(pack.main).toBe("index.ts");
    for (const [name, version] of Object.entries({ ...pack.dependencies, ...pack.devDependencies })) {
      expect([name, version]).toEqual([name, root.dependencies[name] ?? root.devDependencies[name]]);
    }
    expect(root.dependencies["@pulumi/policy"]).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("GIVEN policy/PulumiPolicy.yaml THEN it names the nodejs runtime and describes the pack", () => {
    const yaml = YAML.parse(fs.readFileSync(path.join(POLICY_DIR, "PulumiPolicy.yaml"), "utf8"));
    expect(yaml).toEqual({ runtime: "nodejs", description: PACK_DESCRIPTION });
  });

  it("GIVEN the README's example violation THEN it is the message the policy gives", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8").replace(/\s+/g, " ");
    const image = `${REGISTRY}api:1.4`;
    const [message] = violations(POLICY.imagesByDigest, { type: "kubernetes:apps/v1:Deployment", name: "web", props: workload("kubernetes:apps/v1:Deployment", { containers: [container("app", image)] }) });
    expect(readme).toContain(`\`${message.replace(/\.$/, "")}\`.`);
  });

  it("GIVEN the pack's sources THEN they import nothing from outside policy/ (`pulumi policy publish` uploads the folder alone)", () => {
    const imports = fs
      .readdirSync(POLICY_DIR)
      .filter((f) => f.endsWith(".ts"))
      .flatMap((f) => [...fs.readFileSync(path.join(POLICY_DIR, f), "utf8").matchAll(/from "([^"]+)"/g)].map((m) => m[1]));
    expect([...new Set(imports)].sort()).toEqual(["./policies", "./rules", "@pulumi/policy"]);
  });
});
