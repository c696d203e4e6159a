/**
 * EcrRegistry and ExistingEcrRegistry under Pulumi mocks: resource types and key inputs, what the
 * engine is told about deletion (captured from the real RegisterResource request), parenting,
 * names, validation before creation, documented defaults, grants and secret credentials.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { resolveLogin } from "../../components/registry/login";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import {
  EcrRegistry,
  EcrRegistryArgs,
  ExistingEcrRegistry,
  ExistingEcrRegistryArgs,
  retentionOptions,
  validateEcrRegistryArgs,
  validateExistingEcrRegistryArgs,
} from "../../components/registry";
import { formatIssue, ValidationError } from "../../components/render/issues";
import { defaultLifecycleRules, renderLifecyclePolicy } from "../../components/render/lifecycle";
import { ACCOUNT_ID, descendantsOf, FAKE_ECR_HOST, fakeEcrHost, MockRecorder, mockKeyId, REGION, settle, setupMocks, valueOf } from "./mocks";

const T = {
  registry: "golden-image:registry:EcrRegistry",
  existing: "golden-image:registry:ExistingEcrRegistry",
  key: "aws:kms/key:Key",
  alias: "aws:kms/alias:Alias",
  repository: "aws:ecr/repository:Repository",
  lifecycle: "aws:ecr/lifecyclePolicy:LifecyclePolicy",
  repositoryPolicy: "aws:ecr/repositoryPolicy:RepositoryPolicy",
  cache: "aws:ecr/pullThroughCacheRule:PullThroughCacheRule",
  scanning: "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration",
  replication: "aws:ecr/replicationConfiguration:ReplicationConfiguration",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
} as const;

const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const CREDENTIAL_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT_ID}:secret:ecr-pullthroughcache/upstream-AbCdEf`;
const repoArn = (name: string) => `arn:aws:ecr:${REGION}:${ACCOUNT_ID}:repository/${name}`;

/** What the SDK really sends the engine for each resource (the mock API hides these options). */
interface Wire {
  readonly parent: string;
  readonly retainOnDelete?: boolean;
  readonly protect?: boolean;
}
const wire = new Map<string, Wire>();
const originalRegister = MockMonitor.prototype.registerResource;
beforeAll(() => {
  MockMonitor.prototype.registerResource = function (req: any, callback: (err: any, response: any) => void) {
    wire.set(`${req.getType()}::${req.getName()}`, {
      parent: req.getParent(),
      retainOnDelete: req.hasRetainondelete() ? req.getRetainondelete() : undefined,
      protect: req.hasProtect() ? req.getProtect() : undefined,
    });
    return originalRegister.call(this, req, callback);
  };
});
afterAll(() => {
  MockMonitor.prototype.registerResource = originalRegister;
});

/** Waits until the component and every descendant has been registered with the mocks. */
async function registered(root: pulumi.Resource): Promise<void> {
  const all: pulumi.Resource[] = [root];
  const walk = (r: unknown) => {
    for (const child of (r as { __childResources?: Set<pulumi.Resource> }).__childResources ?? []) {
      all.push(child);
      walk(child);
    }
  };
  walk(root);
  await Promise.all(all.map((r) => valueOf(r.urn)));
  await settle();
}

async function build(args: EcrRegistryArgs, name = "reg"): Promise<{ reg: EcrRegistry; mocks: MockRecorder }> {
  wire.clear();
  const mocks = setupMocks();
  const reg = new EcrRegistry(name, args);
  await registered(reg);
  return { reg, mocks };
}

function names(mocks: MockRecorder): string[] {
  return mocks.resources.map((r) => `${r.type}::${r.name}`).sort();
}

const FULL: EcrRegistryArgs = {
  images: ["base", "python/3.12"],
  repositoryPrefix: "golden/",
  enhancedScanning: true,
  lifecycle: { untaggedRetentionDays: 7, keepReleases: 5, releaseTagPrefixes: ["v", "release-"] },
  pullPrincipals: ["210987654321"],
  pullOrganizationId: "o-abcdef1234",
  pullThroughCache: [
    { prefix: "hub", upstreamRegistryUrl: "registry.example.test", credentialArn: CREDENTIAL_ARN },
    { prefix: "mirror/quay", upstreamRegistryUrl: "quay.example.test" },
  ],
  replicationRegions: ["us-east-1", "eu-central-1"],
};

describe("EcrRegistry with only images", () => {
  let reg: EcrRegistry;
  let mocks: MockRecorder;
  beforeAll(async () => {
    ({ reg, mocks } = await build({ images: ["base", "python/3.12"] }));
  });

  it("THEN it creates exactly a key, its alias, and a repository with a lifecycle policy per image", () => {
    expect(names(mocks)).toEqual([
      `${T.alias}::reg-key-alias`,
      `${T.lifecycle}::reg-base-lifecycle`,
      `${T.lifecycle}::reg-python-3.12-lifecycle`,
      `${T.key}::reg-key`,
      `${T.repository}::reg-base`,
      `${T.repository}::reg-python-3.12`,
      `${T.registry}::reg`,
    ].sort());
  });

  it("THEN every repository is immutable (all but the build cache tag), scanned on push, KMS-encrypted with the created key and not force-deleted", () => {
    for (const [child, repoName] of [
      ["reg-base", "base"],
      ["reg-python-3.12", "python/3.12"],
    ]) {
      expect(mocks.byName(child).inputs).toEqual({
        name: repoName,
        imageTagMutability: "IMMUTABLE_WITH_EXCLUSION",
        imageTagMutabilityExclusionFilters: [
          { filter: "buildcache", filterType: "WILDCARD" },
          { filter: "sha256-*", filterType: "WILDCARD" },
        ],
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: `arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/${mockKeyId("reg-key")}` }],
        forceDelete: false,
      });
    }
  });

  it("THEN the created key rotates, waits 30 days before deletion and has a deterministic alias", () => {
    expect(mocks.byName("reg-key").inputs).toMatchObject({ enableKeyRotation: true, deletionWindowInDays: 30 });
    expect(mocks.byName("reg-key-alias").inputs).toEqual({ name: "alias/golden-image/reg", targetKeyId: mockKeyId("reg-key") });
  });

  it("THEN each lifecycle policy is the default rendered policy on its repository", () => {
    const expected = renderLifecyclePolicy(defaultLifecycleRules());
    expect(mocks.byName("reg-base-lifecycle").inputs).toEqual({ repository: "base", policy: expected });
    expect(mocks.byName("reg-python-3.12-lifecycle").inputs).toEqual({ repository: "python/3.12", policy: expected });
  });

  it("THEN the outputs map image names to URLs and ARNs and give the key ARN", async () => {
    expect(await valueOf(reg.repositoryUrls)).toEqual({ base: `${FAKE_ECR_HOST}/base`, "python/3.12": `${FAKE_ECR_HOST}/python/3.12` });
    expect(await valueOf(reg.repositoryArns)).toEqual({ base: repoArn("base"), "python/3.12": repoArn("python/3.12") });
    expect(await valueOf(reg.kmsKeyArn)).toBe(`arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/${mockKeyId("reg-key")}`);
    expect(await valueOf(reg.repositoryUrl("python/3.12"))).toBe(`${FAKE_ECR_HOST}/python/3.12`);
    expect(reg.kind).toBe("ecr");
    expect(reg.imageNames).toEqual(["base", "python/3.12"]);
  });

  it("THEN the engine is told to retain the repositories and the key on delete, and nothing is protected", () => {
    expect(wire.get(`${T.repository}::reg-base`)?.retainOnDelete).toBe(true);
    expect(wire.get(`${T.repository}::reg-python-3.12`)?.retainOnDelete).toBe(true);
    expect(wire.get(`${T.key}::reg-key`)?.retainOnDelete).toBe(true);
    expect(wire.get(`${T.lifecycle}::reg-base-lifecycle`)?.retainOnDelete).toBeUndefined();
    expect(wire.get(`${T.alias}::reg-key-alias`)?.retainOnDelete).toBeUndefined();
    expect([...wire.values()].filter((w) => w.protect === true)).toEqual([]);
  });

  it("WHEN an unknown image is asked for THEN it throws the shared unknown-image error", () => {
    expect(() => reg.repositoryUrl("node")).toThrow(
      'ecr registry has no repository for image "node". Fix: add "node" to the registry\'s images (known: "base", "python/3.12").',
    );
  });
});

describe("EcrRegistry with every option", () => {
  let reg: EcrRegistry;
  let mocks: MockRecorder;
  beforeAll(async () => {
    ({ reg, mocks } = await build(FULL));
    reg.grantPull("reg-pull", "puller-role");
    reg.grantPush("reg-push", "pusher-role");
    await registered(reg);
  });

  it("THEN the child names are exactly these", () => {
    expect(names(mocks)).toEqual([
      `${T.cache}::reg-cache-hub`,
      `${T.cache}::reg-cache-mirror-quay`,
      `${T.lifecycle}::reg-base-lifecycle`,
      `${T.lifecycle}::reg-python-3.12-lifecycle`,
      `${T.registry}::reg`,
      `${T.replication}::reg-replication`,
      `${T.repositoryPolicy}::reg-base-policy`,
      `${T.repositoryPolicy}::reg-python-3.12-policy`,
      `${T.scanning}::reg-scanning`,
      `${T.alias}::reg-key-alias`,
      `${T.key}::reg-key`,
      `${T.repository}::reg-base`,
      `${T.repository}::reg-python-3.12`,
      `${T.rolePolicy}::reg-pull`,
      `${T.rolePolicy}::reg-push`,
    ].sort());
  });

  it("THEN every resource except the component is its descendant and the engine sees the component as direct parent", async () => {
    const urn = await valueOf(reg.urn);
    const children = names(mocks).filter((n) => n !== `${T.registry}::reg`);
    expect(descendantsOf(reg)).toEqual(children);
    for (const child of children) {
      expect([child, wire.get(child)?.parent]).toEqual([child, urn]);
    }
  });

  it("THEN repositories carry the prefix", () => {
    expect(mocks.ofType(T.repository).map((r) => r.inputs.name).sort()).toEqual(["golden/base", "golden/python/3.12"]);
  });

  it("THEN the lifecycle policy is rendered from the lifecycle options", () => {
    const policy = JSON.parse(mocks.byName("reg-base-lifecycle").inputs.policy);
    expect(policy.rules.map((r: { selection: unknown }) => r.selection)).toEqual([
      { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 7 },
      { tagStatus: "tagged", tagPrefixList: ["release-", "v"], countType: "imageCountMoreThan", countNumber: 5 },
    ]);
  });

  it("THEN each repository gets the pull policy for the accounts and the organization", () => {
    const expected = {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "PullFromAccounts",
          Effect: "Allow",
          Principal: { AWS: ["210987654321"] },
          Action: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        },
        {
          Sid: "PullFromOrganization",
          Effect: "Allow",
          Principal: "*",
          Action: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
          Condition: { StringEquals: { "aws:PrincipalOrgID": "o-abcdef1234" } },
        },
      ],
    };
    for (const [policy, repo] of [
      ["reg-base-policy", "golden/base"],
      ["reg-python-3.12-policy", "golden/python/3.12"],
    ]) {
      const inputs = mocks.byName(policy).inputs;
      expect(inputs.repository).toBe(repo);
      expect(JSON.parse(inputs.policy)).toEqual(expected);
    }
  });

  it("THEN one pull-through cache rule per upstream, credentials only where given", () => {
    expect(mocks.byName("reg-cache-hub").inputs).toEqual({ ecrRepositoryPrefix: "hub", upstreamRegistryUrl: "registry.example.test", credentialArn: CREDENTIAL_ARN });
    expect(mocks.byName("reg-cache-mirror-quay").inputs).toEqual({ ecrRepositoryPrefix: "mirror/quay", upstreamRegistryUrl: "quay.example.test" });
  });

  it("THEN enhanced scanning scans the prefix continuously", () => {
    expect(mocks.byName("reg-scanning").inputs).toEqual({
      scanType: "ENHANCED",
      rules: [{ scanFrequency: "CONTINUOUS_SCAN", repositoryFilters: [{ filter: "golden/*", filterType: "WILDCARD" }] }],
    });
  });

  it("THEN replication goes to the sorted regions of the same account, filtered on the prefix", () => {
    expect(mocks.byName("reg-replication").inputs).toEqual({
      replicationConfiguration: {
        rules: [
          {
            destinations: [
              { region: "eu-central-1", registryId: ACCOUNT_ID },
              { region: "us-east-1", registryId: ACCOUNT_ID },
            ],
            repositoryFilters: [{ filter: "golden/", filterType: "PREFIX_MATCH" }],
          },
        ],
      },
    });
  });

  describe.each([
    ["grantPull", "reg-pull", "puller-role", ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]],
    [
      "grantPush",
      "reg-push",
      "pusher-role",
      [
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:CompleteLayerUpload",
        "ecr:GetDownloadUrlForLayer",
        "ecr:InitiateLayerUpload",
        "ecr:PutImage",
        "ecr:UploadLayerPart",
      ],
    ],
  ])("WHEN %s", (_method, policyName, role, actions) => {
    it("THEN the role policy has exactly these actions on exactly the repository ARNs, and login on '*'", () => {
      const inputs = mocks.byName(policyName).inputs;
      expect(inputs.role).toBe(role);
      expect(JSON.parse(inputs.policy)).toEqual({
        Version: "2012-10-17",
        Statement: [
          { Sid: "EcrAuthorizationToken", Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: "*" },
          { Sid: "EcrRepositoryAccess", Effect: "Allow", Action: actions, Resource: [repoArn("golden/base"), repoArn("golden/python/3.12")] },
        ],
      });
    });
  });

  it("WHEN asked how to log in THEN it describes an ECR token exchange, resolved only when a builder runs", async () => {
    const auth = reg.auth();
    expect(auth.kind).toBe("aws-ecr");
    if (auth.kind !== "aws-ecr") throw new Error("unreachable");
    expect(await valueOf(auth.address)).toBe(FAKE_ECR_HOST);
    expect(await valueOf(auth.registryId)).toMatch(/^\d{12}$/);
  });

  it("WHEN the pulumi up path resolves the login THEN the password is a secret from the token data source", async () => {
    const login = resolveLogin(reg.auth(), reg);
    expect(await pulumi.isSecret(login.password)).toBe(true);
    expect(await valueOf(login.password)).toBe("mock-password");
    expect(await valueOf(login.username)).toBe("AWS");
    expect(await valueOf(login.address)).toBe(FAKE_ECR_HOST);
  });

  it("WHEN a robot is given a grant THEN it is refused with the fix (ECR grants go to IAM roles)", () => {
    expect(() => reg.grant("r", { kind: "robot", name: "ci" }, "pull")).toThrow('ECR grants go to IAM roles, not to a robot ("ci"). Fix: pass { kind: "iam-role", roleName }');
  });

  it("keeps release tags immutable and leaves the build cache and cosign's tags writable", async () => {
    expect(reg.tagRules).toEqual({ immutable: true, mutableTags: ["buildcache", "sha256-*"] });
    expect(await valueOf(reg.cacheRef("base") as pulumi.Output<string>)).toMatch(/\/base:buildcache$/);
  });
});

describe("EcrRegistry with a given KMS key", () => {
  it("GIVEN kmsKeyArn THEN no key is created and the repositories use the given key", async () => {
    const { reg, mocks } = await build({ images: ["base"], kmsKeyArn: KEY_ARN });
    expect(mocks.ofType(T.key)).toEqual([]);
    expect(mocks.ofType(T.alias)).toEqual([]);
    expect(mocks.byName("reg-base").inputs.encryptionConfigurations).toEqual([{ encryptionType: "KMS", kmsKey: KEY_ARN }]);
    expect(await valueOf(reg.kmsKeyArn)).toBe(KEY_ARN);
  });
});

describe("deletion", () => {
  describe.each([
    [undefined, false, true],
    [false, false, true],
    [true, true, false],
  ])("GIVEN allowDelete %s", (allowDelete, forceDelete, retain) => {
    it(`THEN forceDelete is ${forceDelete} and the engine gets retainOnDelete ${retain} for repositories and the key`, async () => {
      const { mocks } = await build({ images: ["base"], ...(allowDelete === undefined ? {} : { allowDelete }) });
      expect(mocks.byName("reg-base").inputs.forceDelete).toBe(forceDelete);
      expect(wire.get(`${T.repository}::reg-base`)).toMatchObject({ retainOnDelete: retain, protect: undefined });
      expect(wire.get(`${T.key}::reg-key`)).toMatchObject({ retainOnDelete: retain, protect: undefined });
      expect(retentionOptions(allowDelete ?? false)).toEqual({ retainOnDelete: retain });
    });
  });
});

describe("determinism", () => {
  it("GIVEN the same arguments twice THEN the same resources with the same inputs are registered", async () => {
    const first = await build(FULL);
    const a = first.mocks.resources.map((r) => [r.type, r.name, r.inputs]);
    const second = await build({ ...FULL, replicationRegions: [...(FULL.replicationRegions ?? [])].reverse() });
    const b = second.mocks.resources.map((r) => [r.type, r.name, r.inputs]);
    const byName = (x: unknown[], y: unknown[]) => String(x[1]).localeCompare(String(y[1]));
    expect(b.sort(byName)).toEqual(a.sort(byName));
  });
});

describe("validateEcrRegistryArgs", () => {
  describe.each<[string, Record<string, unknown>, string[]]>([
    ["no images", { images: [] }, ["images: must not be empty (value: []). Fix: list at least one golden image"]],
    ["images not a list", { images: "base" }, ['images: must be a list of image names (value: "base"). Fix: give e.g. ["base", "python"]']],
    [
      "an upper-case image",
      { images: ["Base"] },
      ['images[0]: is not a valid ECR repository name (value: "Base"). Fix: use lowercase letters and digits separated by ".", "_", "-" or "/", e.g. "python-3.12"'],
    ],
    ["a repeated image", { images: ["base", "base"] }, ['images[1]: repeats images[0] (value: "base"). Fix: list each image once']],
    [
      "two images with the same resource name",
      { images: ["a/b", "a-b"] },
      ['images[1]: gets the same resource name "a-b" as images[0] (value: "a-b"). Fix: rename one of them: "/" and "-" map to the same resource name'],
    ],
    ["a one-letter repository", { images: ["a"] }, ['images[0]: makes repository name "a" of 1 characters (value: "a"). Fix: keep the repository name (prefix + image) between 2 and 256 characters']],
    [
      "a prefix without trailing slash",
      { images: ["base"], repositoryPrefix: "golden" },
      ['repositoryPrefix: is not a repository prefix (lowercase path components, each followed by "/") (value: "golden"). Fix: give e.g. "golden/" or "platform/golden/"'],
    ],
    [
      "a key alias instead of a key ARN",
      { images: ["base"], kmsKeyArn: "alias/mine" },
      ['kmsKeyArn: is not a KMS key ARN (value: "alias/mine"). Fix: give arn:<partition>:kms:<region>:<account>:key/<key-id>, or omit it to create a key'],
    ],
    ["a string boolean", { images: ["base"], allowDelete: "yes" }, ['allowDelete: must be true or false (value: "yes"). Fix: set allowDelete to true or false, or omit it']],
    [
      "a misspelled argument",
      { images: ["base"], replicationRegion: ["eu-central-1"] },
      [
        'replicationRegion: is not an EcrRegistry argument (value: ["eu-central-1"]). Fix: remove it or correct the spelling (allowed: images, repositoryPrefix, kmsKeyArn, keyAdministrators, enhancedScanning, lifecycle, pullPrincipals, pullOrganizationId, pullThroughCache, replicationRegions, allowDelete)',
      ],
    ],
    [
      "a fractional retention",
      { images: ["base"], lifecycle: { untaggedRetentionDays: 0.5 } },
      ["lifecycle.untaggedRetentionDays: must be a positive whole number (value: 0.5). Fix: give an integer of at least 1 for untaggedRetentionDays"],
    ],
    [
      "a bad pull principal",
      { images: ["base"], pullPrincipals: ["me"] },
      ['pullPrincipals[0]: is not an AWS account ID or IAM principal ARN (value: "me"). Fix: give a 12-digit account ID or arn:aws:iam::<account>:root|role/<name>|user/<name>'],
    ],
    [
      "a bad organization",
      { images: ["base"], pullOrganizationId: "org-1" },
      ['pullOrganizationId: is not an AWS Organizations ID (value: "org-1"). Fix: give the organization ID, "o-" followed by 10-32 lowercase letters or digits'],
    ],
    [
      "a cache prefix with a trailing slash",
      { images: ["base"], pullThroughCache: [{ prefix: "hub/", upstreamRegistryUrl: "registry.example.test" }] },
      ['pullThroughCache[0].prefix: is not a pull-through cache prefix (2-30 characters of the repository name grammar) (value: "hub/"). Fix: give e.g. "hub" or "mirror/quay", without a trailing "/"'],
    ],
    [
      "a repeated cache prefix",
      {
        images: ["base"],
        pullThroughCache: [
          { prefix: "hub", upstreamRegistryUrl: "registry.example.test" },
          { prefix: "hub", upstreamRegistryUrl: "other.example.test" },
        ],
      },
      ['pullThroughCache[1].prefix: repeats pullThroughCache[0].prefix (value: "hub"). Fix: give each upstream its own prefix'],
    ],
    [
      "two cache prefixes that map to one resource name (ab/cd and ab-cd)",
      {
        images: ["base"],
        pullThroughCache: [
          { prefix: "ab/cd", upstreamRegistryUrl: "registry.example.test" },
          { prefix: "ab-cd", upstreamRegistryUrl: "other.example.test" },
        ],
      },
      ['pullThroughCache[1].prefix: gets the same resource name "ab-cd" as pullThroughCache[0].prefix (value: "ab-cd"). Fix: rename one of them: "/" and "-" map to the same resource name'],
    ],
    [
      "a cache prefix that captures a golden repository",
      { images: ["base"], repositoryPrefix: "golden/", pullThroughCache: [{ prefix: "golden", upstreamRegistryUrl: "registry.example.test" }] },
      ['pullThroughCache[0].prefix: would route pulls of the golden repository "golden/base" to the upstream (value: "golden"). Fix: choose a prefix no golden repository name starts with'],
    ],
    [
      "an upstream with a scheme",
      { images: ["base"], pullThroughCache: [{ prefix: "hub", upstreamRegistryUrl: "https://registry.example.test" }] },
      ['pullThroughCache[0].upstreamRegistryUrl: is not a registry host (value: "https://registry.example.test"). Fix: give the upstream host name only, lowercase, without scheme or path'],
    ],
    [
      "a credential secret without the required name prefix",
      { images: ["base"], pullThroughCache: [{ prefix: "hub", upstreamRegistryUrl: "registry.example.test", credentialArn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT_ID}:secret:hub-creds` }] },
      [
        `pullThroughCache[0].credentialArn: is not a Secrets Manager ARN of a secret named ecr-pullthroughcache/... (value: "arn:aws:secretsmanager:${REGION}:${ACCOUNT_ID}:secret:hub-creds"). Fix: store the upstream credentials in a secret whose name starts with ecr-pullthroughcache/ and give its ARN`,
      ],
    ],
    ["a bad region", { images: ["base"], replicationRegions: ["EU-WEST-1"] }, ['replicationRegions[0]: is not an AWS region name (value: "EU-WEST-1"). Fix: give e.g. "eu-central-1"']],
    [
      "a repeated region",
      { images: ["base"], replicationRegions: ["eu-central-1", "eu-central-1"] },
      ['replicationRegions[1]: repeats replicationRegions[0] (value: "eu-central-1"). Fix: list each region once'],
    ],
  ])("GIVEN %s", (_label, args, expected) => {
    it("THEN exactly these issues are reported", () => {
      expect(validateEcrRegistryArgs(args as unknown as EcrRegistryArgs).map(formatIssue)).toEqual(expected);
    });
  });

  it("GIVEN valid args and an unresolved key Output THEN there is no issue", () => {
    expect(validateEcrRegistryArgs({ ...FULL, kmsKeyArn: pulumi.output("not-checked-until-known") })).toEqual([]);
  });

  it("GIVEN several problems WHEN constructing THEN one ValidationError lists them all and nothing is registered", async () => {
    // GIVEN
    const mocks = setupMocks();
    const args = { images: ["Base", "ok"], repositoryPrefix: "golden", enhancedScanning: "yes", replicationRegions: ["mars-1"] } as unknown as EcrRegistryArgs;
    // WHEN
    let error: unknown;
    try {
      new EcrRegistry("bad", args);
    } catch (e) {
      error = e;
    }
    await settle();
    // THEN
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toBe(
      [
        'Invalid EcrRegistry "bad" arguments (4 problems):',
        '  - repositoryPrefix: is not a repository prefix (lowercase path components, each followed by "/") (value: "golden"). Fix: give e.g. "golden/" or "platform/golden/"',
        '  - images[0]: is not a valid ECR repository name (value: "Base"). Fix: use lowercase letters and digits separated by ".", "_", "-" or "/", e.g. "python-3.12"',
        '  - enhancedScanning: must be true or false (value: "yes"). Fix: set enhancedScanning to true or false, or omit it',
        '  - replicationRegions[0]: is not an AWS region name (value: "mars-1"). Fix: give e.g. "eu-central-1"',
      ].join("\n"),
    );
    expect(mocks.resources).toEqual([]);
  });
});

describe("documented defaults", () => {
  /** `field -> @default text` of an interface, read from the source the user reads. */
  function documentedDefaults(file: string, iface: string): Map<string, string> {
    const source = fs.readFileSync(path.join(__dirname, "../..", file), "utf8");
    const start = source.indexOf(`export interface ${iface} {`);
    const body = source.slice(start, source.indexOf("\n}", start));
    const out = new Map<string, string>();
    for (const m of body.matchAll(/\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*readonly (\w+)(\??):/g)) {
      if (m[3] === "?") {
        const def = /@default (.+)/.exec(m[1]);
        out.set(m[2], def === null ? "(missing)" : def[1].trim());
      }
    }
    return out;
  }
  /** The literal part of a `@default`, e.g. `false` of `false`, `{}` of `{} (each field's own default)`. */
  function literal(text: string): unknown {
    try {
      return JSON.parse(text.replace(/\s*\(.*\)$/, ""));
    } catch {
      return undefined;
    }
  }

  const registryDefaults = documentedDefaults("components/registry/ecr-registry.ts", "EcrRegistryArgs");
  const lifecycleDefaults = documentedDefaults("components/render/lifecycle.ts", "DefaultLifecycleOptions");
  const BASE: EcrRegistryArgs = { images: ["base"] };

  it("THEN every optional field documents its default", () => {
    expect([...registryDefaults.entries()].filter(([, d]) => d === "(missing)")).toEqual([]);
    expect([...registryDefaults.keys()].sort()).toEqual(
      ["allowDelete", "enhancedScanning", "keyAdministrators", "kmsKeyArn", "lifecycle", "pullOrganizationId", "pullPrincipals", "pullThroughCache", "replicationRegions", "repositoryPrefix"].sort(),
    );
    expect(Object.fromEntries(lifecycleDefaults)).toEqual({ untaggedRetentionDays: "14", keepReleases: "30", releaseTagPrefixes: '["v"]' });
  });

  async function snapshot(args: EcrRegistryArgs) {
    const { mocks } = await build(args);
    return {
      resources: mocks.resources.map((r) => [r.type, r.name, r.inputs]).sort((a, b) => String(a[1]).localeCompare(String(b[1]))),
      wire: [...wire.entries()].sort(),
    };
  }

  const literalFields = [...registryDefaults.entries()].filter(([, d]) => literal(d) !== undefined);
  it("THEN the literal defaults are the fields that the next tests check by value", () => {
    expect(literalFields.map(([f]) => f).sort()).toEqual(["allowDelete", "enhancedScanning", "lifecycle", "pullThroughCache", "replicationRegions"]);
  });

  describe.each(literalFields)("GIVEN %s set to its documented default %s", (field, text) => {
    it("THEN the registered resources are identical to leaving it out", async () => {
      expect(await snapshot({ ...BASE, [field]: literal(text) })).toEqual(await snapshot(BASE));
    });
  });

  describe.each([...lifecycleDefaults.entries()])("GIVEN lifecycle.%s set to its documented default %s", (field, text) => {
    it("THEN the registered resources are identical to leaving it out", async () => {
      expect(await snapshot({ ...BASE, lifecycle: { [field]: literal(text) } })).toEqual(await snapshot(BASE));
    });
  });

  it("GIVEN no repositoryPrefix THEN the repository name is the image name and scanning covers '*'", async () => {
    expect(registryDefaults.get("repositoryPrefix")).toBe("none (repository name = image name)");
    const { mocks } = await build({ images: ["base"], enhancedScanning: true });
    expect(mocks.byName("reg-base").inputs.name).toBe("base");
    expect(mocks.byName("reg-scanning").inputs.rules[0].repositoryFilters).toEqual([{ filter: "*", filterType: "WILDCARD" }]);
  });

  it("GIVEN no kmsKeyArn THEN a key with rotation and a 30-day deletion window is created", async () => {
    expect(registryDefaults.get("kmsKeyArn")).toBe("none (a key with rotation and a 30-day deletion window is created)");
    const { mocks } = await build(BASE);
    expect(mocks.one(T.key).inputs).toMatchObject({ enableKeyRotation: true, deletionWindowInDays: 30 });
  });

  it("GIVEN neither pullPrincipals nor pullOrganizationId THEN there is no repository policy", async () => {
    expect(registryDefaults.get("pullPrincipals")).toBe("none (no repository policy)");
    expect(registryDefaults.get("pullOrganizationId")).toBe("none (no repository policy)");
    const { mocks } = await build(BASE);
    expect(mocks.ofType(T.repositoryPolicy)).toEqual([]);
  });

  it("GIVEN the defaults THEN the optional features are off", async () => {
    const { mocks } = await build(BASE);
    expect([T.scanning, T.replication, T.cache].flatMap((t) => mocks.ofType(t))).toEqual([]);
    expect(mocks.byName("reg-base").inputs.forceDelete).toBe(false);
  });
});

describe("ExistingEcrRegistry", () => {
  const ARGS: ExistingEcrRegistryArgs = { registryId: "210987654321", region: "eu-central-1", images: ["base", "python/3.12"], repositoryPrefix: "golden/" };

  it("GIVEN existing repositories THEN URLs and ARNs come from the lookup and nothing but the component is created", async () => {
    const mocks = setupMocks();
    const existing = new ExistingEcrRegistry("shared", ARGS);
    await registered(existing);
    expect(await valueOf(existing.repositoryUrls)).toEqual({
      base: `${fakeEcrHost("210987654321")}/golden/base`,
      "python/3.12": `${fakeEcrHost("210987654321")}/golden/python/3.12`,
    });
    expect(await valueOf(existing.repositoryUrl("base"))).toBe(`${fakeEcrHost("210987654321")}/golden/base`);
    expect(names(mocks)).toEqual([`${T.existing}::shared`]);
    expect(() => existing.repositoryUrl("node")).toThrow('ecr registry has no repository for image "node".');
  });

  it("WHEN a push grant is made THEN it targets exactly the existing repository ARNs and is parented", async () => {
    const mocks = setupMocks();
    const existing = new ExistingEcrRegistry("shared", ARGS);
    existing.grantPush("shared-push", "builder-role");
    await registered(existing);
    const statement = JSON.parse(mocks.byName("shared-push").inputs.policy).Statement;
    expect(statement[1]).toEqual({
      Sid: "EcrRepositoryAccess",
      Effect: "Allow",
      Action: [
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:CompleteLayerUpload",
        "ecr:GetDownloadUrlForLayer",
        "ecr:InitiateLayerUpload",
        "ecr:PutImage",
        "ecr:UploadLayerPart",
      ],
      Resource: ["arn:aws:ecr:eu-central-1:210987654321:repository/golden/base", "arn:aws:ecr:eu-central-1:210987654321:repository/golden/python/3.12"],
    });
    expect(statement[0]).toEqual({ Sid: "EcrAuthorizationToken", Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: "*" });
    expect(descendantsOf(existing)).toEqual([`${T.rolePolicy}::shared-push`]);
  });

  it("WHEN push credentials are asked for THEN the password is a secret", async () => {
    setupMocks();
    const existing = new ExistingEcrRegistry("shared", ARGS);
    const creds = resolveLogin(existing.auth(), existing);
    expect(await pulumi.isSecret(creds.password)).toBe(true);
    await registered(existing);
  });

  describe.each<[string, Record<string, unknown>, string[]]>([
    ["a short registry id", { registryId: "1234", images: ["base"] }, ['registryId: is not an AWS account ID (value: "1234"). Fix: give the 12-digit account ID that owns the repositories']],
    [
      "a bad region and image",
      { registryId: "210987654321", region: "central", images: ["x y"] },
      [
        `region: is not an AWS region name (value: "central"). Fix: give e.g. "eu-central-1", or omit it for the provider's region`,
        'images[0]: is not a valid ECR repository name (value: "x y"). Fix: use lowercase letters and digits separated by ".", "_", "-" or "/", e.g. "python-3.12"',
      ],
    ],
  ])("GIVEN %s", (_label, args, expected) => {
    it("THEN exactly these issues are reported and the constructor refuses", () => {
      setupMocks();
      expect(validateExistingEcrRegistryArgs(args as unknown as ExistingEcrRegistryArgs).map(formatIssue)).toEqual(expected);
      expect(() => new ExistingEcrRegistry("x", args as unknown as ExistingEcrRegistryArgs)).toThrow(ValidationError);
    });
  });
});
