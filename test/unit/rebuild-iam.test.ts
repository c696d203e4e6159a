/**
 * The rebuild executors' IAM, judged by an IAM policy simulator (@cloud-copilot/iam-simulate,
 * offline): every action the plan needs is allowed, and what the roles must never do is denied.
 * The simulation covers the build role, the schedule's role, the registry's grants and
 * repository policy, and the signing key's key policy together.
 */
import { runSimulation, Simulation } from "@cloud-copilot/iam-simulate";
import { grantPolicyDocument, ECR_PULL_ACTIONS, ECR_PUSH_ACTIONS, repositoryPolicyDocument } from "../../components/render/iam";
import { renderSigningKeyPolicy } from "../../components/render/kms-policy";
import { ValidationError } from "../../components/render/issues";
import {
  builderPolicyDocument,
  BuilderPolicyArgs,
  builderPolicyIssues,
  renderBuilderPolicy,
  starterPolicyDocument,
  trustPolicyDocument,
} from "../../components/render/rebuild-iam";

const ACCOUNT = "123456789012";
const CONSUMER_ACCOUNT = "210987654321";
const REGION = "eu-central-1";
const scope = { partition: "aws", region: REGION, accountId: ACCOUNT };
const repo = (name: string) => `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/golden/${name}`;
const KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const OTHER_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/9999abcd-12ab-34cd-56ef-1234567890ab`;
const SECRET = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:golden-images/dev/cosign-AbCdEf`;
const BUILDER = `arn:aws:iam::${ACCOUNT}:role/golden-images-dev-rebuild`;
const SCHEDULER_ROLE = `arn:aws:iam::${ACCOUNT}:role/golden-images-dev-schedule`;
const ADMIN = `arn:aws:iam::${ACCOUNT}:role/platform-admin`;
const VERIFIER = `arn:aws:iam::${CONSUMER_ACCOUNT}:role/admission`;
const PROJECT = `arn:aws:codebuild:${REGION}:${ACCOUNT}:project/golden-images-dev-rebuild`;
const DLQ = `arn:aws:sqs:${REGION}:${ACCOUNT}:golden-images-dev-rebuild-dlq`;
const pointer = (name: string) => `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/golden-images/dev/${name}`;
const LOG_GROUP = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/golden-images/dev/rebuild`;

const builderArgs: BuilderPolicyArgs = {
  ...scope,
  repositoryArns: [repo("api-base"), repo("worker-base")],
  baseRepositoryArns: [`arn:aws:ecr:${REGION}:${ACCOUNT}:repository/mirror/debian`],
  signingKeyArn: KEY,
  signingSecretArn: SECRET,
  pointerPath: "/golden-images/dev",
  logGroupName: "/golden-images/dev/rebuild",
};
const builderPolicy = builderPolicyDocument(builderArgs);
const schedulePolicy = starterPolicyDocument({ projectArn: PROJECT, deadLetterQueueArn: DLQ });
const keyPolicy = JSON.parse(renderSigningKeyPolicy({ administrators: [ADMIN], signers: [BUILDER], verifiers: [VERIFIER] }));
/** Another team's key with KMS's default key policy: the account's IAM policies decide who uses it. */
const defaultKeyPolicy = { Version: "2012-10-17", Statement: [{ Sid: "EnableIamPolicies", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: "kms:*", Resource: "*" }] };
const consumerGrant = grantPolicyDocument([...ECR_PULL_ACTIONS, "ecr:GetAuthorizationToken"], [repo("api-base")]);
const repositoryPolicy = repositoryPolicyDocument({ pullPrincipals: [CONSUMER_ACCOUNT] });

type Decision = "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied";

interface Case {
  readonly who: string;
  readonly principal: string;
  readonly identity: object;
  readonly action: string;
  readonly resource: string;
  readonly resourcePolicy?: object;
}

async function decide(c: Case): Promise<Decision> {
  const resourceAccount = /^arn:aws:[a-z0-9-]+:[a-z0-9-]*:(\d{12}):/.exec(c.resource)?.[1] ?? ACCOUNT;
  const simulation: Simulation = {
    identityPolicies: [{ name: "policy", policy: c.identity as any }],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(c.resourcePolicy !== undefined ? { resourcePolicy: c.resourcePolicy as any } : {}),
    request: { principal: c.principal, action: c.action, resource: { resource: c.resource, accountId: resourceAccount }, contextVariables: {} },
  };
  const result = await runSimulation(simulation, {});
  if (result.resultType === "error") {
    throw new Error(`the simulator refused the request ${c.action} on ${c.resource}: ${JSON.stringify(result.errors)}`);
  }
  return result.overallResult as Decision;
}

const builder = (action: string, resource: string, resourcePolicy?: object): Case => ({ who: "build role", principal: BUILDER, identity: builderPolicy, action, resource, resourcePolicy });
const scheduler = (action: string, resource: string): Case => ({ who: "schedule role", principal: SCHEDULER_ROLE, identity: schedulePolicy, action, resource });
const consumer = (action: string, resource: string, resourcePolicy?: object): Case => ({ who: "consumer", principal: VERIFIER, identity: consumerGrant, action, resource, resourcePolicy });
const admin = (action: string, resource: string, resourcePolicy?: object): Case => ({
  who: "key administrator",
  principal: ADMIN,
  identity: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "kms:*", Resource: "*" }] },
  action,
  resource,
  resourcePolicy,
});

const ALLOWED: Case[] = [
  ...ECR_PUSH_ACTIONS.map((a) => builder(a, repo("api-base"))),
  builder("ecr:PutImage", repo("worker-base")),
  builder("ecr:BatchGetImage", `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/mirror/debian`),
  builder("ecr:GetAuthorizationToken", "*"),
  builder("kms:Sign", KEY, keyPolicy),
  builder("kms:GetPublicKey", KEY, keyPolicy),
  builder("secretsmanager:GetSecretValue", SECRET),
  builder("ssm:PutParameter", pointer("api-base")),
  builder("ssm:GetParameter", pointer("api-base/record")),
  builder("logs:CreateLogStream", `${LOG_GROUP}:log-stream:build-1`),
  builder("logs:PutLogEvents", `${LOG_GROUP}:log-stream:build-1`),
  scheduler("codebuild:StartBuild", PROJECT),
  scheduler("sqs:SendMessage", DLQ),
  consumer("ecr:BatchGetImage", repo("api-base"), repositoryPolicy),
  consumer("ecr:GetDownloadUrlForLayer", repo("api-base"), repositoryPolicy),
  { who: "verifier", principal: VERIFIER, identity: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["kms:Verify", "kms:GetPublicKey"], Resource: KEY }] }, action: "kms:GetPublicKey", resource: KEY, resourcePolicy: keyPolicy },
  admin("kms:ScheduleKeyDeletion", KEY, keyPolicy),
];

const DENIED: Case[] = [
  builder("ecr:PutImage", repo("someone-elses")),
  builder("ecr:PutImage", `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/mirror/debian`),
  builder("ecr:DeleteRepository", repo("api-base")),
  builder("ecr:SetRepositoryPolicy", repo("api-base")),
  builder("ecr:BatchDeleteImage", repo("api-base")),
  builder("ecr:PutLifecyclePolicy", repo("api-base")),
  builder("ecr:PutImageTagMutability", repo("api-base")),
  builder("ecr:CreateRepository", repo("new")),
  builder("kms:Sign", OTHER_KEY, defaultKeyPolicy),
  builder("kms:ScheduleKeyDeletion", KEY, keyPolicy),
  builder("kms:PutKeyPolicy", KEY, keyPolicy),
  builder("kms:Decrypt", KEY, keyPolicy),
  builder("kms:CreateGrant", KEY, keyPolicy),
  builder("iam:PassRole", BUILDER),
  builder("iam:CreateRole", `arn:aws:iam::${ACCOUNT}:role/escalate`),
  builder("iam:AttachRolePolicy", BUILDER),
  builder("iam:PutRolePolicy", BUILDER),
  builder("sts:AssumeRole", ADMIN),
  builder("ssm:PutParameter", `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/golden-images/prod/api-base`),
  builder("ssm:GetParameter", `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/database/password`),
  builder("ssm:DeleteParameter", pointer("api-base")),
  builder("secretsmanager:GetSecretValue", `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:prod/database-XyZ123`),
  builder("logs:DeleteLogGroup", LOG_GROUP),
  builder("codebuild:StartBuild", PROJECT),
  builder("codebuild:UpdateProject", PROJECT),
  builder("s3:GetObject", "arn:aws:s3:::any-bucket/secret.txt"),
  scheduler("codebuild:StartBuild", `arn:aws:codebuild:${REGION}:${ACCOUNT}:project/another-project`),
  scheduler("codebuild:DeleteProject", PROJECT),
  scheduler("sqs:SendMessage", `arn:aws:sqs:${REGION}:${ACCOUNT}:another-queue`),
  scheduler("iam:PassRole", BUILDER),
  consumer("ecr:PutImage", repo("api-base"), repositoryPolicy),
  consumer("ecr:BatchGetImage", repo("worker-base")),
  { who: "verifier", principal: VERIFIER, identity: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "kms:*", Resource: "*" }] }, action: "kms:Sign", resource: KEY, resourcePolicy: keyPolicy },
  admin("kms:Sign", KEY, keyPolicy),
  admin("kms:Decrypt", KEY, keyPolicy),
];

describe("the rebuild roles under IAM policy simulation", () => {
  it.each(ALLOWED.map((c) => [c.who, c.action, c.resource, c] as const))("GIVEN the %s WHEN it calls %s on %s THEN it is allowed", async (_who, _action, _resource, c) => {
    expect(await decide(c)).toBe("Allowed");
  });

  it.each(DENIED.map((c) => [c.who, c.action, c.resource, c] as const))("GIVEN the %s WHEN it calls %s on %s THEN it is denied", async (_who, _action, _resource, c) => {
    expect(await decide(c)).not.toBe("Allowed");
  });

  it("THEN at least 15 forbidden actions of the build role are denied", () => {
    expect(DENIED.filter((c) => c.who === "build role").length).toBeGreaterThanOrEqual(15);
  });

  it("THEN a policy granting everything would fail the denied cases (the simulation can fail)", async () => {
    const everything = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] };
    const cases = DENIED.filter((c) => c.who === "build role" && (c.resourcePolicy === undefined || c.resourcePolicy === defaultKeyPolicy));
    const decisions = await Promise.all(cases.map(async (c) => [c.action, await decide({ ...c, identity: everything })]));
    expect(decisions.filter(([, d]) => d !== "Allowed")).toEqual([]);
  });
});

describe("builderPolicyDocument", () => {
  it("GIVEN the same scope twice THEN the document is byte-identical, with no wildcard action and one statement on '*' (ECR login)", () => {
    expect(renderBuilderPolicy(builderArgs)).toBe(renderBuilderPolicy({ ...builderArgs, repositoryArns: [...builderArgs.repositoryArns].reverse() }));
    const actions = builderPolicy.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(actions.filter((a) => a.includes("*"))).toEqual([]);
    expect(builderPolicy.Statement.filter((s) => s.Resource === "*").map((s) => s.Action)).toEqual([["ecr:GetAuthorizationToken"]]);
  });

  it("GIVEN no signing key and no secret THEN no KMS or Secrets Manager statement", () => {
    const doc = builderPolicyDocument({ ...builderArgs, signingKeyArn: undefined, signingSecretArn: undefined });
    expect(doc.Statement.map((s) => s.Sid)).toEqual(["PushGoldenRepositories", "PullBases", "EcrLogin", "WritePromotionPointers", "WriteBuildLogs"]);
  });

  it("GIVEN every input wrong THEN every problem is reported at once with the property and the fix", () => {
    const bad = { partition: "amazon", region: "central", accountId: "12", repositoryArns: ["*"], signingKeyArn: "alias/x", signingSecretArn: "secret", pointerPath: "/aws/golden", logGroupName: "" };
    expect(builderPolicyIssues(bad).map((i) => i.path)).toEqual(["partition", "region", "accountId", "repositoryArns[0]", "signingKeyArn", "signingSecretArn", "pointerPath", "logGroupName"]);
    expect(() => builderPolicyDocument(bad)).toThrow(ValidationError);
    expect(() => builderPolicyDocument(bad)).toThrow(/pointerPath: is not an SSM parameter path the pipeline may own \(value: "\/aws\/golden"\)\. Fix: give a path that starts with "\/"/);
  });

  it.each([["/golden-images/dev", true], ["/golden-images/dev/", false], ["golden-images", false], ["/ssm/x", false], ["/AWS/x", false], ["/awsome/x", true], ["/a/b/c/d/e/f/g/h/i/j/k/l/m/n", true], ["/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o", false]])(
    "GIVEN the pointer path %s THEN it is accepted: %s",
    (pointerPath, ok) => {
      expect(builderPolicyIssues({ ...builderArgs, pointerPath }).length === 0).toBe(ok);
    },
  );
});

describe("trustPolicyDocument", () => {
  it("GIVEN CodeBuild THEN only codebuild.amazonaws.com for this account may assume the role", () => {
    expect(trustPolicyDocument("codebuild", scope)).toEqual({
      Version: "2012-10-17",
      Statement: [{ Sid: "AssumedByCodebuild", Effect: "Allow", Principal: { Service: "codebuild.amazonaws.com" }, Action: "sts:AssumeRole", Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT } } }],
    });
  });

  it("GIVEN the schedule's ARN THEN the scheduler may assume the role for that schedule only", () => {
    const doc = trustPolicyDocument("scheduler", scope, `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/default/golden-rebuild`);
    expect(doc.Statement[0].Condition).toEqual({ StringEquals: { "aws:SourceAccount": ACCOUNT }, ArnLike: { "aws:SourceArn": `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/default/golden-rebuild` } });
  });
});
