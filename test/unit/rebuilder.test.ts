/**
 * CodeBuildRebuilder and GoldenImageRef under Pulumi mocks: what is created (project, roles,
 * schedule with retries and a dead-letter queue, the findings rule), that the buildspec is the
 * plan's, that the roles' policies are the simulated ones, that secrets stay out of documents,
 * and that bad arguments fail before anything is created.
 */
import { parse } from "yaml";
import { planImages } from "../../components/plan";
import { renderBuildspec } from "../../components/plan/buildspec";
import { SupplyChainTarget } from "../../components/plan/planner";
import { builderPolicyDocument } from "../../components/render/rebuild-iam";
import { CodeBuildRebuilder, CodeBuildRebuilderArgs, findingsEventPattern, packageVersion } from "../../components/rebuild/codebuild-rebuilder";
import { checkApprovedReference, getApprovedDigest, GoldenImageRef } from "../../components/rebuild/golden-image-ref";
import { helloSpec } from "./specs";
import { ACCOUNT_ID, FAKE_ECR_HOST, MockRecorder, REGION, settle, setupMocks, SSM_PARAMETERS, valueOf } from "./mocks";

let mocks: MockRecorder;
beforeEach(() => {
  mocks = setupMocks();
  SSM_PARAMETERS.clear();
});

const spec = helloSpec;
const chain = (store: string): SupplyChainTarget => ({
  signing: { mode: "keypair", key: "env://COSIGN_PRIVATE_KEY", publicKey: "env://COSIGN_PUBLIC_KEY" },
  gate: { scanner: "grype", severity: "HIGH" },
  promotionStore: store,
  builderId: "urn:pulumi-golden-image:executor:codebuild",
});
const planTo = (store: string) =>
  planImages([spec("api-base")], { environment: "prod", allowTagOnlyBases: true, sourceDateEpoch: 1763856000 }, (s) => ({
    repository: `${FAKE_ECR_HOST}/golden/${s.name}`,
    mirror: `${FAKE_ECR_HOST}/mirror`,
    insecure: false,
    supplyChain: chain(store),
  }));
const REPO = `arn:aws:ecr:${REGION}:${ACCOUNT_ID}:repository/golden/api-base`;
const PRIVATE_KEY = "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nc2VjcmV0\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n";
const args: CodeBuildRebuilderArgs = {
  plan: planTo("ssm:/golden-images/prod"),
  source: { type: "CODECOMMIT", location: "https://git.example.test/v1/repos/golden-images" },
  pointerPath: "/golden-images/prod",
  registryHosts: [FAKE_ECR_HOST],
  repositoryArns: [REPO],
  keyPair: { privateKey: PRIVATE_KEY, publicKey: "-----BEGIN PUBLIC KEY-----\nx\n-----END PUBLIC KEY-----\n", password: "hunter2-password" },
  schedule: { expression: "cron(0 4 ? * SUN *)", timezone: "Europe/Berlin", flexibleWindowMinutes: 30 },
  findings: { minimumSeverity: "CRITICAL", repositoryNames: ["golden/api-base"] },
  goldenVersion: "0.1.0",
};

describe("CodeBuildRebuilder", () => {
  it("GIVEN a keypair plan, a weekly schedule and CRITICAL findings THEN the project runs the plan's buildspec, privileged, one build at a time, logging to its group", async () => {
    const r = new CodeBuildRebuilder("golden-prod", args);
    const buildspec = await valueOf(r.buildspec);
    await settle();
    const project = mocks.one("aws:codebuild/project:Project");
    expect(project.inputs.environment).toMatchObject({ privilegedMode: true, type: "LINUX_CONTAINER", image: "aws/codebuild/amazonlinux-x86_64-standard:5.0" });
    expect(project.inputs.concurrentBuildLimit).toBe(1);
    expect(project.inputs.source.buildspec).toBe(buildspec);
    const secretArn = `arn:aws:secretsmanager:${REGION}:${ACCOUNT_ID}:secret:golden-prod-rebuild-cosign-AbCdEf`;
    expect(buildspec).toBe(renderBuildspec({ plan: planTo("ssm:/golden-images/prod"), registryHosts: [FAKE_ECR_HOST], goldenVersion: "0.1.0", signingSecretArn: secretArn }));
    expect(parse(buildspec).env["secrets-manager"].COSIGN_PRIVATE_KEY).toBe(`${secretArn}:COSIGN_PRIVATE_KEY`);
    expect(project.inputs.logsConfig.cloudwatchLogs.groupName).toBe("/golden-images/golden-prod-rebuild");
    expect(mocks.one("aws:cloudwatch/logGroup:LogGroup").inputs.retentionInDays).toBe(90);
  });

  it("THEN the build role's policy is exactly the simulated builder policy, and only CodeBuild of this account assumes it", async () => {
    new CodeBuildRebuilder("golden-prod", args);
    await settle();
    const build = mocks.ofType("aws:iam/rolePolicy:RolePolicy").find((p) => p.name === "golden-prod-build");
    expect(JSON.parse(build?.inputs.policy)).toEqual(
      builderPolicyDocument({
        partition: "aws",
        region: REGION,
        accountId: ACCOUNT_ID,
        repositoryArns: [REPO],
        signingSecretArn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT_ID}:secret:golden-prod-rebuild-cosign-AbCdEf`,
        pointerPath: "/golden-images/prod",
        logGroupName: "/golden-images/golden-prod-rebuild",
      }),
    );
    const trust = JSON.parse(mocks.ofType("aws:iam/role:Role").find((p) => p.name === "golden-prod-build")?.inputs.assumeRolePolicy);
    expect(trust.Statement).toEqual([expect.objectContaining({ Principal: { Service: "codebuild.amazonaws.com" }, Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT_ID } } })]);
  });

  it("THEN the schedule starts the project through StartBuild with retries and a dead-letter queue, in its time zone and window", async () => {
    new CodeBuildRebuilder("golden-prod", args);
    await settle();
    const schedule = mocks.one("aws:scheduler/schedule:Schedule").inputs;
    expect(schedule).toMatchObject({
      scheduleExpression: "cron(0 4 ? * SUN *)",
      scheduleExpressionTimezone: "Europe/Berlin",
      state: "ENABLED",
      flexibleTimeWindow: { mode: "FLEXIBLE", maximumWindowInMinutes: 30 },
    });
    expect(schedule.target).toMatchObject({
      arn: "arn:aws:scheduler:::aws-sdk:codebuild:startBuild",
      input: JSON.stringify({ ProjectName: "golden-prod-rebuild" }),
      retryPolicy: { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 3600 },
      deadLetterConfig: { arn: `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:golden-prod-rebuild-dlq` },
    });
    const starter = JSON.parse(mocks.ofType("aws:iam/rolePolicy:RolePolicy").find((p) => p.name === "golden-prod-scheduler")?.inputs.policy);
    expect(starter.Statement.map((s: any) => [s.Action, s.Resource])).toEqual([
      [["codebuild:StartBuild"], [`arn:aws:codebuild:${REGION}:${ACCOUNT_ID}:project/golden-prod-rebuild`]],
      [["sqs:SendMessage"], [`arn:aws:sqs:${REGION}:${ACCOUNT_ID}:golden-prod-rebuild-dlq`]],
    ]);
  });

  it("THEN an EventBridge rule on ACTIVE CRITICAL Inspector2 findings of the golden repositories starts the project", async () => {
    new CodeBuildRebuilder("golden-prod", args);
    await settle();
    expect(JSON.parse(mocks.one("aws:cloudwatch/eventRule:EventRule").inputs.eventPattern)).toEqual({
      source: ["aws.inspector2"],
      "detail-type": ["Inspector2 Finding"],
      detail: { severity: ["CRITICAL"], status: ["ACTIVE"], resources: { details: { awsEcrContainerImage: { repositoryName: ["golden/api-base"] } } } },
    });
    const target = mocks.one("aws:cloudwatch/eventTarget:EventTarget").inputs;
    expect(target.arn).toBe(`arn:aws:codebuild:${REGION}:${ACCOUNT_ID}:project/golden-prod-rebuild`);
    expect(target.roleArn).toContain("golden-prod-events");
    // StartBuild's request: the finding's repository only, rebuilt although unchanged.
    expect(target.inputTransformer.inputPaths).toEqual({ repository: "$.detail.resources[0].details.awsEcrContainerImage.repositoryName" });
    const request = JSON.parse(target.inputTransformer.inputTemplate.replace("<repository>", '"golden/api-base"'));
    expect(request).toEqual({
      environmentVariablesOverride: [
        { name: "GOLDEN_ONLY_REPOSITORIES", value: "golden/api-base", type: "PLAINTEXT" },
        { name: "GOLDEN_REBUILD", value: "1", type: "PLAINTEXT" },
      ],
    });
    expect(JSON.parse(findingsEventPattern("HIGH", ["b", "a", "b"])).detail).toMatchObject({ severity: ["HIGH", "CRITICAL"], resources: { details: { awsEcrContainerImage: { repositoryName: ["a", "b"] } } } });
  });

  it("THEN the key pair is in the Secrets Manager secret only, as a secret, and in no document", async () => {
    const r = new CodeBuildRebuilder("golden-prod", args);
    const buildspec = await valueOf(r.buildspec);
    await settle();
    const documents = [buildspec, ...mocks.ofType("aws:iam/rolePolicy:RolePolicy").map((p) => p.inputs.policy), ...mocks.ofType("aws:iam/role:Role").map((p) => p.inputs.assumeRolePolicy)].join("\n");
    expect(documents).not.toContain("hunter2-password");
    expect(documents).not.toContain("c2VjcmV0");
    const version = mocks.one("aws:secretsmanager/secretVersion:SecretVersion").inputs;
    // Recorded as a secret (Pulumi's secret signature), so the engine encrypts it in the state.
    expect(version.secretString["4dabf18193072939515e22adb298388d"]).toBe("1b47061264138c4ac30d75fd1eb44270");
    expect(JSON.parse(version.secretString.value)).toEqual({ COSIGN_PASSWORD: "hunter2-password", COSIGN_PRIVATE_KEY: PRIVATE_KEY, COSIGN_PUBLIC_KEY: "-----BEGIN PUBLIC KEY-----\nx\n-----END PUBLIC KEY-----\n" });
  });

  it("GIVEN no schedule and no findings THEN only the project, its role and logs (started by hand)", async () => {
    new CodeBuildRebuilder("golden-dev", { ...args, plan: planTo("ssm:/golden-images/dev"), pointerPath: "/golden-images/dev", schedule: undefined, findings: undefined });
    await settle();
    expect(mocks.ofType("aws:scheduler/schedule:Schedule")).toHaveLength(0);
    expect(mocks.ofType("aws:cloudwatch/eventRule:EventRule")).toHaveLength(0);
    expect(mocks.ofType("aws:sqs/queue:Queue")).toHaveLength(0);
  });

  it("GIVEN every argument wrong THEN one report names them all and nothing is created", async () => {
    const bad = {
      ...args,
      pointerPath: "/aws/x",
      source: { type: "FTP" as any, location: "" },
      schedule: { expression: "rate(5 minutes)" },
      findings: { minimumSeverity: "SEVERE" as any, repositoryNames: [] },
      signingKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/x",
      logRetentionDays: 42,
    };
    expect(() => new CodeBuildRebuilder("bad", bad)).toThrow(/Invalid CodeBuildRebuilder "bad" \(8 problems\)/);
    try {
      new CodeBuildRebuilder("bad", bad);
    } catch (e) {
      const text = (e as Error).message;
      for (const path of ["pointerPath:", "source.type:", "source.location:", "schedule.expression:", "findings.minimumSeverity:", "keyPair:", "logRetentionDays:", "plan:"]) {
        expect(text).toContain(`  - ${path}`);
      }
    }
    await settle();
    expect(mocks.resources).toHaveLength(0);
  });

  it("GIVEN a plan promoting elsewhere than its pointer path THEN it fails naming both, before anything is created", async () => {
    expect(() => new CodeBuildRebuilder("golden-prod", { ...args, plan: planTo(".golden/promoted") })).toThrow(
      /plan: promotes to \.golden\/promoted, not ssm:\/golden-images\/prod \(value: "\.golden\/promoted"\)\. Fix: plan with promotionStore "ssm:\/golden-images\/prod"/,
    );
    await settle();
    expect(mocks.resources).toHaveLength(0);
  });
});

it("packageVersion reads this package's version", () => {
  expect(packageVersion()).toBe(require("../../package.json").version);
});

describe("getApprovedDigest / GoldenImageRef", () => {
  const REF = `${FAKE_ECR_HOST}/golden/api-base@sha256:${"ab".repeat(32)}`;

  it("GIVEN the SSM pointer of a promoted image THEN the consumer reads its reference by digest", async () => {
    SSM_PARAMETERS.set("/golden-images/prod/api-base", REF);
    const ref = new GoldenImageRef("api-base", { store: "ssm:/golden-images/prod" });
    expect(await valueOf(ref.ref)).toBe(REF);
    expect(await valueOf(ref.digest)).toBe(`sha256:${"ab".repeat(32)}`);
    expect(await valueOf(ref.repository)).toBe(`${FAKE_ECR_HOST}/golden/api-base`);
  });

  it("GIVEN a pointer holding a tag THEN the consumer's program fails naming the image, the store and the fix", async () => {
    expect(() => checkApprovedReference("api-base", "ssm:/golden-images/prod", `${FAKE_ECR_HOST}/golden/api-base:latest`)).toThrow(
      /golden image api-base: the pointer in ssm:\/golden-images\/prod holds ".*:latest", not a reference by digest/,
    );
    expect(checkApprovedReference("api-base", "ssm:/golden-images/prod", `${REF}\n`)).toBe(REF);
  });

  it("GIVEN a local directory or a bad store THEN a clear error before any lookup", () => {
    expect(() => getApprovedDigest("api-base", { store: ".golden/promoted" })).toThrow(/is a local directory, which a stack cannot read/);
    expect(() => getApprovedDigest("api-base", { store: "s3://bucket" })).toThrow(/names an unknown store kind "s3"/);
  });
});
