/**
 * CodeBuildRebuilder: the AWS executor. A CodeBuild project runs the plan's script (the buildspec
 * is rendered from it), started by an EventBridge Scheduler schedule (retries, a dead-letter
 * queue) and by an EventBridge rule on Inspector2 findings at or above a severity in the golden
 * repositories. Every run pins the bases again, so a new digest behind a pinned base tag rebuilds
 * exactly the images that use it; an image whose inputs equal its promoted ones is skipped.
 *
 * Least privilege: the build role pushes only to its repositories, signs only with its key, reads
 * only its key pair secret, writes only its promotion pointers and its log group
 * (components/render/rebuild-iam.ts, proven by IAM policy simulation in the tests); the schedule's
 * and the rule's roles may start this one project and nothing else.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { BuildspecArgs, renderBuildspec } from "../plan/buildspec";
import { parsePromotionStore, planPromotionStores } from "../plan/promotion-store";
import { Plan } from "../plan/types";
import { joinPath, throwIfIssues, ValidationIssue } from "../render/issues";
import { POINTER_PATH, renderBuilderPolicy, renderStarterPolicy, renderTrustPolicy } from "../render/rebuild-iam";
import { CODEBUILD_SOURCE_TYPES, FINDING_INPUT_TRANSFORMER, FINDING_SEVERITIES, FindingSeverity, findingsEventPattern, severitiesFrom } from "./findings";
import { prepareRebuildSchedule, RebuildScheduleArgs, scheduleIssues } from "./schedule";

export { FINDING_INPUT_TRANSFORMER, FINDING_SEVERITIES, findingsEventPattern, severitiesFrom } from "./findings";
export type { FindingSeverity } from "./findings";

export const CODEBUILD_REBUILDER_TYPE = "golden-image:rebuild:CodeBuildRebuilder";

export const CODEBUILD_DEFAULTS = {
  image: "aws/codebuild/amazonlinux-x86_64-standard:5.0",
  computeType: "BUILD_GENERAL1_MEDIUM",
  timeoutMinutes: 120,
  logRetentionDays: 90,
  maximumRetryAttempts: 2,
  maximumEventAgeSeconds: 3600,
} as const;

/** Retention values CloudWatch Logs accepts. */
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;
const SOURCE_TYPES = CODEBUILD_SOURCE_TYPES;

export interface CodeBuildRebuilderArgs {
  /** The plan the project runs: its targets are the golden repositories, its promotion store `ssm:<pointerPath>`. */
  readonly plan: pulumi.Input<Plan>;
  /** Where the build contexts come from (the repository holding the image specs and contexts). */
  readonly source: { readonly type: (typeof SOURCE_TYPES)[number]; readonly location: string; readonly version?: string };
  /** The SSM path the plan promotes to (the plan's store must be `ssm:` + this path). */
  readonly pointerPath: string;
  /** Registry hosts the plan pushes to and pulls from. */
  readonly registryHosts: pulumi.Input<pulumi.Input<string>[]>;
  /** The golden repositories (push). */
  readonly repositoryArns: pulumi.Input<pulumi.Input<string>[]>;
  /** Repositories of bases and builders (pull only). @default none */
  readonly baseRepositoryArns?: pulumi.Input<pulumi.Input<string>[]>;
  /** KMS signing: the key's ARN. */
  readonly signingKeyArn?: pulumi.Input<string>;
  /** Keypair signing: the key material, stored in a Secrets Manager secret the build reads. Secrets. */
  readonly keyPair?: { readonly privateKey: pulumi.Input<string>; readonly publicKey: pulumi.Input<string>; readonly password: pulumi.Input<string> };
  /** When to run. @default none: only findings (and manual starts) run it */
  readonly schedule?: RebuildScheduleArgs;
  /** Rebuild on Inspector2 findings at or above this severity in these repositories. @default none */
  readonly findings?: { readonly minimumSeverity: FindingSeverity; readonly repositoryNames: pulumi.Input<pulumi.Input<string>[]> };
  /** This library's version the build installs. @default this package's version */
  readonly goldenVersion?: string;
  /** @default "BUILD_GENERAL1_MEDIUM" */
  readonly computeType?: string;
  /** @default 120 */
  readonly timeoutMinutes?: number;
  /** @default 90 */
  readonly logRetentionDays?: number;
  readonly tags?: Record<string, string>;
}

export function codeBuildRebuilderIssues(args: CodeBuildRebuilderArgs): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (!POINTER_PATH.test(String(args.pointerPath))) {
    issues.push({ path: "pointerPath", value: args.pointerPath, problem: "is not an SSM parameter path the pipeline may own", fix: 'e.g. "/golden-images/dev"' });
  }
  if (args.source === undefined || !(SOURCE_TYPES as readonly string[]).includes(args.source.type)) {
    issues.push({ path: "source.type", value: args.source?.type, problem: "is not a CodeBuild source type", fix: `use one of ${SOURCE_TYPES.join(", ")}` });
  }
  if (args.source !== undefined && (typeof args.source.location !== "string" || args.source.location.trim() === "")) {
    issues.push({ path: "source.location", value: args.source.location, problem: "must name the repository holding the image contexts", fix: 'e.g. "https://git.example.com/platform/golden-images.git"' });
  }
  if (args.schedule !== undefined) {
    issues.push(...scheduleIssues(args.schedule, "eventbridge", "schedule"));
  }
  if (args.findings !== undefined && !(FINDING_SEVERITIES as readonly string[]).includes(args.findings.minimumSeverity)) {
    issues.push({ path: "findings.minimumSeverity", value: args.findings.minimumSeverity, problem: "is not an Inspector2 severity", fix: `use one of ${FINDING_SEVERITIES.join(", ")}` });
  }
  if (args.signingKeyArn !== undefined && args.keyPair !== undefined) {
    issues.push({ path: "keyPair", value: "(secret)", problem: "cannot be given with signingKeyArn", fix: "sign with the KMS key or the key pair, not both" });
  }
  if (args.timeoutMinutes !== undefined && (!Number.isInteger(args.timeoutMinutes) || args.timeoutMinutes < 5 || args.timeoutMinutes > 2160)) {
    issues.push({ path: "timeoutMinutes", value: args.timeoutMinutes, problem: "must be an integer from 5 to 2160", fix: "e.g. 120" });
  }
  if (args.logRetentionDays !== undefined && !(LOG_RETENTION_DAYS as readonly number[]).includes(args.logRetentionDays)) {
    issues.push({ path: "logRetentionDays", value: args.logRetentionDays, problem: "is not a retention CloudWatch Logs accepts", fix: `use one of ${LOG_RETENTION_DAYS.join(", ")}` });
  }
  if (!pulumi.Output.isInstance(args.plan) && !(args.plan instanceof Promise) && args.plan !== undefined) {
    issues.push(...planStoreIssues(args.plan as Plan, args.pointerPath));
  }
  return issues.map((i) => ({ ...i, path: joinPath("", i.path) }));
}

/** The plan must promote to the pointer path the build role may write. */
function planStoreIssues(plan: Plan, pointerPath: string): ValidationIssue[] {
  const stores = planPromotionStores(plan);
  return stores
    .filter((st) => {
      const ref = parsePromotionStore(st);
      return ref.kind !== "ssm" || ref.path !== pointerPath;
    })
    .map((st) => ({ path: "plan", value: st, problem: `promotes to ${st}, not ssm:${pointerPath}`, fix: `plan with promotionStore "ssm:${pointerPath}"` }));
}

/** This package's version, from its package.json (two levels up in the sources, three in dist/). */
export function packageVersion(): string {
  for (const candidate of ["../../package.json", "../../../package.json"]) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      const pkg = require(candidate) as { name?: string; version?: string };
      if (pkg.name === "pulumi-golden-image" && typeof pkg.version === "string") {
        return pkg.version;
      }
    } catch {
      // not this one
    }
  }
  throw new Error("cannot find the package.json of pulumi-golden-image. Fix: give goldenVersion");
}

export class CodeBuildRebuilder extends pulumi.ComponentResource {
  public readonly projectName: pulumi.Output<string>;
  public readonly projectArn: pulumi.Output<string>;
  public readonly roleArn: pulumi.Output<string>;
  public readonly buildspec: pulumi.Output<string>;
  public readonly logGroupName: pulumi.Output<string>;
  public readonly scheduleArn?: pulumi.Output<string>;
  public readonly findingsRuleArn?: pulumi.Output<string>;
  public readonly deadLetterQueueArn?: pulumi.Output<string>;

  constructor(name: string, args: CodeBuildRebuilderArgs, opts?: pulumi.ComponentResourceOptions) {
    throwIfIssues(`Invalid CodeBuildRebuilder "${name}"`, codeBuildRebuilderIssues(args));
    super(CODEBUILD_REBUILDER_TYPE, name, {}, opts);
    const schedule = args.schedule !== undefined ? prepareRebuildSchedule(args.schedule, "eventbridge") : undefined;
    const parent = { parent: this };
    const identity = aws.getCallerIdentityOutput({}, parent);
    const region = aws.getRegionOutput({}, parent);
    const partition = aws.getPartitionOutput({}, parent);
    const scope = pulumi.all([partition.partition, region.region, identity.accountId]).apply(([p, r, a]) => ({ partition: p, region: r, accountId: a }));
    const projectName = `${name}-rebuild`.replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 150);
    const logGroupName = `/golden-images/${projectName}`;
    const projectArn = scope.apply((s) => `arn:${s.partition}:codebuild:${s.region}:${s.accountId}:project/${projectName}`);

    const logGroup = new aws.cloudwatch.LogGroup(`${name}-logs`, { name: logGroupName, retentionInDays: args.logRetentionDays ?? CODEBUILD_DEFAULTS.logRetentionDays, tags: args.tags }, parent);

    let secretArn: pulumi.Output<string> | undefined;
    if (args.keyPair !== undefined) {
      const secret = new aws.secretsmanager.Secret(`${name}-cosign`, { namePrefix: `${projectName}-cosign-`, description: "cosign key pair the golden image rebuilds sign with", recoveryWindowInDays: 30, tags: args.tags }, parent);
      new aws.secretsmanager.SecretVersion(
        `${name}-cosign`,
        {
          secretId: secret.id,
          secretString: pulumi.secret(
            pulumi
              .all([args.keyPair.privateKey, args.keyPair.publicKey, args.keyPair.password])
              .apply(([privateKey, publicKey, password]) => JSON.stringify({ COSIGN_PASSWORD: password, COSIGN_PRIVATE_KEY: privateKey, COSIGN_PUBLIC_KEY: publicKey })),
          ),
        },
        parent,
      );
      secretArn = secret.arn;
    }

    const role = new aws.iam.Role(`${name}-build`, { assumeRolePolicy: scope.apply((s) => renderTrustPolicy("codebuild", s)), description: "runs the golden image plan", tags: args.tags }, parent);
    const policy = new aws.iam.RolePolicy(
      `${name}-build`,
      {
        role: role.id,
        policy: pulumi
          .all([scope, args.repositoryArns, args.baseRepositoryArns ?? [], args.signingKeyArn, secretArn])
          .apply(([s, repositoryArns, baseRepositoryArns, signingKeyArn, signingSecretArn]) =>
            renderBuilderPolicy({
              ...s,
              repositoryArns,
              baseRepositoryArns,
              ...(signingKeyArn !== undefined ? { signingKeyArn } : {}),
              ...(signingSecretArn !== undefined ? { signingSecretArn } : {}),
              pointerPath: args.pointerPath,
              logGroupName,
            }),
          ),
      },
      parent,
    );

    this.buildspec = pulumi.all([args.plan, args.registryHosts, secretArn]).apply(([plan, registryHosts, signingSecretArn]) => {
      throwIfIssues(`Invalid CodeBuildRebuilder "${name}"`, planStoreIssues(plan, args.pointerPath));
      const spec: BuildspecArgs = { plan, registryHosts, goldenVersion: args.goldenVersion ?? packageVersion(), ...(signingSecretArn !== undefined ? { signingSecretArn } : {}) };
      return renderBuildspec(spec);
    });

    const project = new aws.codebuild.Project(
      `${name}-rebuild`,
      {
        name: projectName,
        description: "golden image rebuilds: pin, build, scan, sign, verify, promote",
        serviceRole: role.arn,
        buildTimeout: args.timeoutMinutes ?? CODEBUILD_DEFAULTS.timeoutMinutes,
        concurrentBuildLimit: 1,
        artifacts: { type: "NO_ARTIFACTS" },
        environment: {
          type: "LINUX_CONTAINER",
          image: CODEBUILD_DEFAULTS.image,
          computeType: args.computeType ?? CODEBUILD_DEFAULTS.computeType,
          imagePullCredentialsType: "CODEBUILD",
          // BuildKit's daemon needs it (mounts, namespaces); the plan's steps themselves run unprivileged tools.
          privilegedMode: true,
        },
        source: { type: args.source.type, location: args.source.location, buildspec: this.buildspec, gitCloneDepth: args.source.type === "S3" ? undefined : 1 },
        sourceVersion: args.source.version,
        cache: { type: "LOCAL", modes: ["LOCAL_CUSTOM_CACHE"] },
        logsConfig: { cloudwatchLogs: { groupName: logGroup.name, status: "ENABLED" }, s3Logs: { status: "DISABLED" } },
        tags: args.tags,
      },
      { parent: this, dependsOn: [policy] },
    );
    this.projectName = project.name;
    this.projectArn = project.arn;
    this.roleArn = role.arn;
    this.logGroupName = logGroup.name;

    const starter = (kind: "scheduler" | "events", deadLetterQueueArn?: pulumi.Output<string>) => {
      const r = new aws.iam.Role(`${name}-${kind}`, { assumeRolePolicy: scope.apply((s) => renderTrustPolicy(kind, s)), description: `starts the golden image rebuild (${kind})`, tags: args.tags }, parent);
      new aws.iam.RolePolicy(
        `${name}-${kind}`,
        { role: r.id, policy: pulumi.all([projectArn, deadLetterQueueArn]).apply(([p, d]) => renderStarterPolicy({ projectArn: p, ...(d !== undefined ? { deadLetterQueueArn: d } : {}) })) },
        parent,
      );
      return r;
    };

    if (schedule !== undefined) {
      const dlq = new aws.sqs.Queue(`${name}-rebuild-dlq`, { messageRetentionSeconds: 1209600, sqsManagedSseEnabled: true, tags: args.tags }, parent);
      const role = starter("scheduler", dlq.arn);
      const s = new aws.scheduler.Schedule(
        `${name}-rebuild`,
        {
          description: "starts the golden image rebuild",
          scheduleExpression: schedule.expression,
          scheduleExpressionTimezone: schedule.timezone,
          state: schedule.enabled ? "ENABLED" : "DISABLED",
          flexibleTimeWindow: schedule.flexibleWindowMinutes !== undefined ? { mode: "FLEXIBLE", maximumWindowInMinutes: schedule.flexibleWindowMinutes } : { mode: "OFF" },
          target: {
            // CodeBuild has no templated target: the universal target calls StartBuild.
            arn: partition.partition.apply((p) => `arn:${p}:scheduler:::aws-sdk:codebuild:startBuild`),
            roleArn: role.arn,
            input: project.name.apply((n) => JSON.stringify({ ProjectName: n })),
            retryPolicy: { maximumRetryAttempts: CODEBUILD_DEFAULTS.maximumRetryAttempts, maximumEventAgeInSeconds: CODEBUILD_DEFAULTS.maximumEventAgeSeconds },
            deadLetterConfig: { arn: dlq.arn },
          },
        },
        parent,
      );
      this.scheduleArn = s.arn;
      this.deadLetterQueueArn = dlq.arn;
    }

    if (args.findings !== undefined) {
      const findings = args.findings;
      const role = starter("events");
      const rule = new aws.cloudwatch.EventRule(
        `${name}-findings`,
        {
          description: `rebuild golden images on ${severitiesFrom(findings.minimumSeverity).join("/")} Inspector2 findings`,
          eventPattern: pulumi.output(findings.repositoryNames).apply((names) => findingsEventPattern(findings.minimumSeverity, names)),
          tags: args.tags,
        },
        parent,
      );
      new aws.cloudwatch.EventTarget(
        `${name}-findings`,
        {
          rule: rule.name,
          arn: project.arn,
          roleArn: role.arn,
          // The target's input is StartBuild's request: rebuild only the finding's repository, and
          // scan, sign and verify it again even when its inputs are unchanged.
          inputTransformer: FINDING_INPUT_TRANSFORMER,
          retryPolicy: { maximumRetryAttempts: CODEBUILD_DEFAULTS.maximumRetryAttempts, maximumEventAgeInSeconds: CODEBUILD_DEFAULTS.maximumEventAgeSeconds },
        },
        parent,
      );
      this.findingsRuleArn = rule.arn;
    }

    this.registerOutputs({ projectName: this.projectName, projectArn: this.projectArn, roleArn: this.roleArn, buildspec: this.buildspec, logGroupName: this.logGroupName });
  }
}
