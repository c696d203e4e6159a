/**
 * IAM documents of the rebuild executors, rendered by pure functions: the build role that runs
 * the plan (push to its repositories, sign with its key, write its promotion pointers, write its
 * logs: nothing else), the roles EventBridge Scheduler and an EventBridge rule use to start it,
 * and the trust policies that let only those services, for this account, assume them.
 * Deterministic: statements in a fixed order, actions and resources sorted and deduplicated.
 */
import { ECR_AUTH_ACTION, ECR_PULL_ACTIONS, ECR_PUSH_ACTIONS, IAM_POLICY_VERSION } from "./iam";
import { joinPath, throwIfIssues, ValidationIssue } from "./issues";
import { KMS_SIGN_ACTIONS } from "./kms-policy";

/** What the build role does with its promotion pointers: read the last record, write the new one. */
export const SSM_POINTER_ACTIONS = ["ssm:GetParameter", "ssm:PutParameter"] as const;
/** What CodeBuild needs to write a build's log stream. */
export const LOG_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents"] as const;
export const START_BUILD_ACTION = "codebuild:StartBuild";
export const SEND_DEAD_LETTER_ACTION = "sqs:SendMessage";
/** The AWS services that assume the executors' roles. */
export const EXECUTOR_SERVICES = ["codebuild", "scheduler", "events"] as const;
export type ExecutorService = (typeof EXECUTOR_SERVICES)[number];

export interface IamStatement {
  readonly Sid: string;
  readonly Effect: "Allow";
  readonly Principal?: { readonly Service: string } | { readonly AWS: string[] };
  readonly Action: string | string[];
  readonly Resource?: string | string[];
  readonly Condition?: Record<string, Record<string, string>>;
}

export interface IamDocument {
  readonly Version: typeof IAM_POLICY_VERSION;
  readonly Statement: IamStatement[];
}

/** Where the build role lives; ARNs of its resources are derived from these. */
export interface AccountScope {
  /** `aws`, `aws-cn`, `aws-us-gov`, ... */
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
}

export interface BuilderPolicyArgs extends AccountScope {
  /** The golden repositories: images, signatures and attestations are pushed here. */
  readonly repositoryArns: readonly string[];
  /** Repositories holding bases and builder images (a mirror, a pull-through cache): pull only.
   *  @default none */
  readonly baseRepositoryArns?: readonly string[];
  /** The KMS signing key (kms mode): the role signs with it and reads its public key. @default none */
  readonly signingKeyArn?: string;
  /** The Secrets Manager secret holding the cosign key pair (keypair mode). @default none */
  readonly signingSecretArn?: string;
  /** The SSM path of the promotion pointers, e.g. `/golden-images/dev`: the role writes below it only. */
  readonly pointerPath: string;
  /** The CloudWatch log group of the builds. */
  readonly logGroupName: string;
}

const ACCOUNT_ID = /^\d{12}$/;
const PARTITION = /^aws(?:-[a-z]+)*$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d$/;
const ECR_REPOSITORY_ARN = /^arn:aws(?:-[a-z]+)*:ecr:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:repository\/[a-z0-9._\/-]+$/;
const KMS_KEY_ARN = /^arn:aws(?:-[a-z]+)*:kms:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:key\/[0-9a-f-]{36}$|^arn:aws(?:-[a-z]+)*:kms:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:key\/mrk-[0-9a-f]{32}$/;
const SECRET_ARN = /^arn:aws(?:-[a-z]+)*:secretsmanager:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;
/** An SSM parameter path: starts with `/`, no trailing `/`, at most 15 levels, not under `/aws` or `/ssm`. */
export const POINTER_PATH = /^(?!\/(?:aws|ssm)(?:\/|$))(?:\/[A-Za-z0-9_.-]+){1,14}$/i;
const LOG_GROUP_NAME = /^[A-Za-z0-9_\-/.#]{1,512}$/;
const CODEBUILD_PROJECT_ARN = /^arn:aws(?:-[a-z]+)*:codebuild:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:project\/[A-Za-z0-9][A-Za-z0-9_-]{1,254}$/;
const SQS_QUEUE_ARN = /^arn:aws(?:-[a-z]+)*:sqs:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:[A-Za-z0-9_-]{1,80}(?:\.fifo)?$/;

function scopeIssues(args: AccountScope, path: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (!PARTITION.test(String(args.partition))) {
    issues.push({ path: joinPath(path, "partition"), value: args.partition, problem: "is not an AWS partition", fix: 'give e.g. "aws" (aws.getPartition().partition)' });
  }
  if (!REGION.test(String(args.region))) {
    issues.push({ path: joinPath(path, "region"), value: args.region, problem: "is not an AWS region", fix: 'give e.g. "eu-central-1"' });
  }
  if (!ACCOUNT_ID.test(String(args.accountId))) {
    issues.push({ path: joinPath(path, "accountId"), value: args.accountId, problem: "is not a 12-digit AWS account ID", fix: "give aws.getCallerIdentity().accountId" });
  }
  return issues;
}

function arnListIssues(list: readonly string[] | undefined, pattern: RegExp, path: string, what: string, required: boolean): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (list === undefined || list.length === 0) {
    return required ? [{ path, value: list, problem: "must not be empty", fix: `give at least one ${what} (never "*")` }] : [];
  }
  list.forEach((arn, i) => {
    if (!pattern.test(String(arn))) {
      issues.push({ path: joinPath(path, i), value: arn, problem: `is not ${what}`, fix: "give the full ARN, without wildcards" });
    }
  });
  return issues;
}

/** Every problem of the build role's scope at once. */
export function builderPolicyIssues(args: BuilderPolicyArgs, path = ""): ValidationIssue[] {
  const issues = scopeIssues(args, path);
  issues.push(...arnListIssues(args.repositoryArns, ECR_REPOSITORY_ARN, joinPath(path, "repositoryArns"), "an ECR repository ARN", true));
  issues.push(...arnListIssues(args.baseRepositoryArns, ECR_REPOSITORY_ARN, joinPath(path, "baseRepositoryArns"), "an ECR repository ARN", false));
  if (args.signingKeyArn !== undefined) {
    issues.push(...arnListIssues([args.signingKeyArn], KMS_KEY_ARN, joinPath(path, "signingKeyArn"), "a KMS key ARN", true).map((i) => ({ ...i, path: joinPath(path, "signingKeyArn") })));
  }
  if (args.signingSecretArn !== undefined) {
    issues.push(...arnListIssues([args.signingSecretArn], SECRET_ARN, joinPath(path, "signingSecretArn"), "a Secrets Manager secret ARN", true).map((i) => ({ ...i, path: joinPath(path, "signingSecretArn") })));
  }
  if (!POINTER_PATH.test(String(args.pointerPath))) {
    issues.push({
      path: joinPath(path, "pointerPath"),
      value: args.pointerPath,
      problem: "is not an SSM parameter path the pipeline may own",
      fix: 'give a path that starts with "/", has 1-14 levels of letters, digits, "_", "." or "-", no trailing "/", and is not under /aws or /ssm, e.g. "/golden-images/dev"',
    });
  }
  if (!LOG_GROUP_NAME.test(String(args.logGroupName))) {
    issues.push({ path: joinPath(path, "logGroupName"), value: args.logGroupName, problem: "is not a CloudWatch log group name", fix: 'give 1-512 of letters, digits, "_-/.#", e.g. "/golden-images/dev/rebuild"' });
  }
  return issues;
}

/** The ARN pattern of every promotion pointer below `pointerPath` (SSM writes `parameter` + the path). */
export function pointerParameterArn(scope: AccountScope, pointerPath: string): string {
  return `arn:${scope.partition}:ssm:${scope.region}:${scope.accountId}:parameter${pointerPath}/*`;
}

export function logGroupArns(scope: AccountScope, logGroupName: string): string[] {
  const group = `arn:${scope.partition}:logs:${scope.region}:${scope.accountId}:log-group:${logGroupName}`;
  return [group, `${group}:*`];
}

/** The build role's identity policy: exactly what the plan's steps need, on exactly its resources. */
export function builderPolicyDocument(args: BuilderPolicyArgs): IamDocument {
  throwIfIssues("Invalid rebuild role scope", builderPolicyIssues(args));
  const statements: IamStatement[] = [
    { Sid: "PushGoldenRepositories", Effect: "Allow", Action: sorted(ECR_PUSH_ACTIONS), Resource: sorted(args.repositoryArns) },
  ];
  const bases = (args.baseRepositoryArns ?? []).filter((arn) => !args.repositoryArns.includes(arn));
  if (bases.length > 0) {
    statements.push({ Sid: "PullBases", Effect: "Allow", Action: sorted(ECR_PULL_ACTIONS), Resource: sorted(bases) });
  }
  statements.push({ Sid: "EcrLogin", Effect: "Allow", Action: [ECR_AUTH_ACTION], Resource: "*" });
  if (args.signingKeyArn !== undefined) {
    statements.push({ Sid: "SignWithPipelineKey", Effect: "Allow", Action: sorted(KMS_SIGN_ACTIONS), Resource: [args.signingKeyArn] });
  }
  if (args.signingSecretArn !== undefined) {
    statements.push({ Sid: "ReadSigningKeyPair", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [args.signingSecretArn] });
  }
  statements.push(
    { Sid: "WritePromotionPointers", Effect: "Allow", Action: sorted(SSM_POINTER_ACTIONS), Resource: [pointerParameterArn(args, args.pointerPath)] },
    { Sid: "WriteBuildLogs", Effect: "Allow", Action: sorted(LOG_ACTIONS), Resource: logGroupArns(args, args.logGroupName) },
  );
  return { Version: IAM_POLICY_VERSION, Statement: statements };
}

export function renderBuilderPolicy(args: BuilderPolicyArgs): string {
  return JSON.stringify(builderPolicyDocument(args), null, 2);
}

export interface StarterPolicyArgs {
  /** The CodeBuild project the role may start, and nothing else. */
  readonly projectArn: string;
  /** EventBridge Scheduler's dead-letter queue (the schedule's role sends failed invocations there). @default none */
  readonly deadLetterQueueArn?: string;
}

export function starterPolicyIssues(args: StarterPolicyArgs, path = ""): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (!CODEBUILD_PROJECT_ARN.test(String(args.projectArn))) {
    issues.push({ path: joinPath(path, "projectArn"), value: args.projectArn, problem: "is not a CodeBuild project ARN", fix: "give the project's arn output" });
  }
  if (args.deadLetterQueueArn !== undefined && !SQS_QUEUE_ARN.test(String(args.deadLetterQueueArn))) {
    issues.push({ path: joinPath(path, "deadLetterQueueArn"), value: args.deadLetterQueueArn, problem: "is not an SQS queue ARN", fix: "give the queue's arn output" });
  }
  return issues;
}

/** The role a schedule or an event rule uses: start this one project; send to its dead-letter queue. */
export function starterPolicyDocument(args: StarterPolicyArgs): IamDocument {
  throwIfIssues("Invalid rebuild starter role", starterPolicyIssues(args));
  const statements: IamStatement[] = [{ Sid: "StartRebuild", Effect: "Allow", Action: [START_BUILD_ACTION], Resource: [args.projectArn] }];
  if (args.deadLetterQueueArn !== undefined) {
    statements.push({ Sid: "DeadLetter", Effect: "Allow", Action: [SEND_DEAD_LETTER_ACTION], Resource: [args.deadLetterQueueArn] });
  }
  return { Version: IAM_POLICY_VERSION, Statement: statements };
}

export function renderStarterPolicy(args: StarterPolicyArgs): string {
  return JSON.stringify(starterPolicyDocument(args), null, 2);
}

/**
 * Who may assume an executor role: the one service, acting for this account only (the
 * confused-deputy guard `aws:SourceAccount`, and `aws:SourceArn` when the caller is known).
 */
export function trustPolicyDocument(service: ExecutorService, scope: AccountScope, sourceArn?: string): IamDocument {
  throwIfIssues("Invalid rebuild trust policy", scopeIssues(scope, ""));
  const condition: Record<string, Record<string, string>> = { StringEquals: { "aws:SourceAccount": scope.accountId } };
  if (sourceArn !== undefined) {
    condition.ArnLike = { "aws:SourceArn": sourceArn };
  }
  return {
    Version: IAM_POLICY_VERSION,
    Statement: [{ Sid: "AssumedBy" + service[0].toUpperCase() + service.slice(1), Effect: "Allow", Principal: { Service: `${service}.amazonaws.com` }, Action: "sts:AssumeRole", Condition: condition }],
  };
}

export function renderTrustPolicy(service: ExecutorService, scope: AccountScope, sourceArn?: string): string {
  return JSON.stringify(trustPolicyDocument(service, scope, sourceArn), null, 2);
}

function sorted(list: readonly string[]): string[] {
  return [...new Set(list)].sort();
}
