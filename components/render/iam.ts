/**
 * IAM and ECR repository policy documents for registry grants. Pure and deterministic:
 * actions, resources, principals and statements are deduplicated and sorted.
 */
import { joinPath, throwIfIssues, ValidationIssue } from "./issues";

/** What `docker pull` needs on a repository. */
export const ECR_PULL_ACTIONS = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"] as const;
/** What `docker push` needs on a repository (pull is part of push: layers are checked first). */
export const ECR_PUSH_ACTIONS = [
  ...ECR_PULL_ACTIONS,
  "ecr:CompleteLayerUpload",
  "ecr:InitiateLayerUpload",
  "ecr:PutImage",
  "ecr:UploadLayerPart",
] as const;
/** `docker login` to ECR; the only ECR action that cannot be scoped to a repository, so Resource "*". */
export const ECR_AUTH_ACTION = "ecr:GetAuthorizationToken";

export const IAM_POLICY_VERSION = "2012-10-17";
export const GRANT_REPOSITORY_SID = "EcrRepositoryAccess";
export const GRANT_AUTH_SID = "EcrAuthorizationToken";
export const PULL_ACCOUNTS_SID = "PullFromAccounts";
export const PULL_ORGANIZATION_SID = "PullFromOrganization";

export interface PolicyStatement {
  readonly Sid: string;
  readonly Effect: "Allow";
  readonly Principal?: "*" | { readonly AWS: string[] };
  readonly Action: string[];
  readonly Resource?: string | string[];
  readonly Condition?: Record<string, Record<string, string>>;
}

export interface PolicyDocument {
  readonly Version: typeof IAM_POLICY_VERSION;
  readonly Statement: PolicyStatement[];
}

/** A single ECR action, no wildcards (least privilege). */
const ECR_ACTION = /^ecr:[A-Z][A-Za-z]+$/;
const ECR_REPOSITORY_ARN = /^arn:aws(?:-[a-z]+)*:ecr:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:repository\/(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const ACCOUNT_ID = /^\d{12}$/;
const IAM_PRINCIPAL_ARN = /^arn:aws(?:-[a-z]+)*:iam::\d{12}:(?:root|(?:role|user)\/[A-Za-z0-9+=,.@_/-]+)$/;
const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;

/** Problems of a grant: ECR actions without wildcards, and repository ARNs whenever a repository action is asked for. */
export function validateGrant(actions: readonly string[], repositoryArns: readonly string[], path = "grant"): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (actions.length === 0) {
    issues.push({ path: joinPath(path, "actions"), value: actions, problem: "must not be empty", fix: "use ECR_PULL_ACTIONS or ECR_PUSH_ACTIONS" });
  }
  actions.forEach((action, i) => {
    if (!ECR_ACTION.test(action)) {
      issues.push({ path: joinPath(joinPath(path, "actions"), i), value: action, problem: "is not a single ECR action", fix: 'name one ECR action without wildcards, e.g. "ecr:BatchGetImage"' });
    }
  });
  const needsRepositories = actions.some((a) => a !== ECR_AUTH_ACTION);
  if (needsRepositories && repositoryArns.length === 0) {
    issues.push({
      path: joinPath(path, "repositoryArns"),
      value: repositoryArns,
      problem: "must not be empty when repository actions are granted",
      fix: "grant on at least one repository ARN (never on \"*\")",
    });
  }
  repositoryArns.forEach((arn, i) => {
    if (!ECR_REPOSITORY_ARN.test(arn)) {
      issues.push({
        path: joinPath(joinPath(path, "repositoryArns"), i),
        value: arn,
        problem: "is not an ECR repository ARN",
        fix: "give arn:<partition>:ecr:<region>:<account>:repository/<name>, without wildcards",
      });
    }
  });
  return issues;
}

/**
 * IAM identity policy: the repository actions on exactly `repositoryArns`, and, when asked for,
 * `ecr:GetAuthorizationToken` in its own statement on "*".
 */
export function grantPolicyDocument(actions: readonly string[], repositoryArns: readonly string[]): PolicyDocument {
  throwIfIssues("Invalid ECR grant", validateGrant(actions, repositoryArns));
  const repositoryActions = sortedUnique(actions.filter((a) => a !== ECR_AUTH_ACTION));
  const statements: PolicyStatement[] = [];
  if (repositoryActions.length > 0) {
    statements.push({ Sid: GRANT_REPOSITORY_SID, Effect: "Allow", Action: repositoryActions, Resource: sortedUnique(repositoryArns) });
  }
  if (actions.includes(ECR_AUTH_ACTION)) {
    statements.push({ Sid: GRANT_AUTH_SID, Effect: "Allow", Action: [ECR_AUTH_ACTION], Resource: "*" });
  }
  return { Version: IAM_POLICY_VERSION, Statement: sortBySid(statements) };
}

export function renderGrantPolicy(actions: readonly string[], repositoryArns: readonly string[]): string {
  return JSON.stringify(grantPolicyDocument(actions, repositoryArns));
}

export interface RepositoryPolicyArgs {
  /** Accounts (12-digit IDs) or IAM principal ARNs that may pull. Can be combined with `pullOrganizationId`.
   *  @default none */
  readonly pullPrincipals?: readonly string[];
  /** Every principal of this AWS Organization may pull. Can be combined with `pullPrincipals`.
   *  @default none */
  readonly pullOrganizationId?: string;
}

/** Problems of the pull principals; paths are relative to `path` ("" gives `pullPrincipals[0]`). */
export function validateRepositoryPolicyArgs(args: RepositoryPolicyArgs, path = ""): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const principalsPath = joinPath(path, "pullPrincipals");
  if (args.pullPrincipals !== undefined) {
    if (!Array.isArray(args.pullPrincipals)) {
      issues.push({ path: principalsPath, value: args.pullPrincipals, problem: "must be a list of strings", fix: 'give e.g. ["210987654321"]' });
    } else {
      if (args.pullPrincipals.length === 0) {
        issues.push({ path: principalsPath, value: args.pullPrincipals, problem: "must not be empty", fix: "list at least one account or remove pullPrincipals" });
      }
      const seen = new Map<string, number>();
      args.pullPrincipals.forEach((principal: unknown, i: number) => {
        const at = joinPath(principalsPath, i);
        if (typeof principal !== "string" || !(ACCOUNT_ID.test(principal) || IAM_PRINCIPAL_ARN.test(principal))) {
          issues.push({
            path: at,
            value: principal,
            problem: "is not an AWS account ID or IAM principal ARN",
            fix: "give a 12-digit account ID or arn:aws:iam::<account>:root|role/<name>|user/<name>",
          });
        } else if (seen.has(principal)) {
          issues.push({ path: at, value: principal, problem: `repeats ${joinPath(principalsPath, seen.get(principal) as number)}`, fix: "list each principal once" });
        } else {
          seen.set(principal, i);
        }
      });
    }
  }
  if (args.pullOrganizationId !== undefined && (typeof args.pullOrganizationId !== "string" || !ORGANIZATION_ID.test(args.pullOrganizationId))) {
    issues.push({
      path: joinPath(path, "pullOrganizationId"),
      value: args.pullOrganizationId,
      problem: "is not an AWS Organizations ID",
      fix: 'give the organization ID, "o-" followed by 10-32 lowercase letters or digits',
    });
  }
  if (args.pullPrincipals === undefined && args.pullOrganizationId === undefined) {
    issues.push({
      path: principalsPath,
      value: undefined,
      problem: "is required when no pullOrganizationId is given",
      fix: "give pullPrincipals, pullOrganizationId or both",
    });
  }
  return issues;
}

/** ECR repository policy: the pull actions for the listed principals and/or the organization. */
export function repositoryPolicyDocument(args: RepositoryPolicyArgs): PolicyDocument {
  throwIfIssues("Invalid ECR repository policy", validateRepositoryPolicyArgs(args));
  const actions = sortedUnique(ECR_PULL_ACTIONS);
  const statements: PolicyStatement[] = [];
  if (args.pullPrincipals !== undefined) {
    statements.push({ Sid: PULL_ACCOUNTS_SID, Effect: "Allow", Principal: { AWS: sortedUnique(args.pullPrincipals) }, Action: actions });
  }
  if (args.pullOrganizationId !== undefined) {
    statements.push({
      Sid: PULL_ORGANIZATION_SID,
      Effect: "Allow",
      Principal: "*",
      Action: actions,
      Condition: { StringEquals: { "aws:PrincipalOrgID": args.pullOrganizationId } },
    });
  }
  return { Version: IAM_POLICY_VERSION, Statement: sortBySid(statements) };
}

export function renderRepositoryPolicy(args: RepositoryPolicyArgs): string {
  return JSON.stringify(repositoryPolicyDocument(args));
}

function sortedUnique(list: readonly string[]): string[] {
  return [...new Set(list)].sort();
}

function sortBySid(statements: PolicyStatement[]): PolicyStatement[] {
  return [...statements].sort((a, b) => (a.Sid < b.Sid ? -1 : a.Sid > b.Sid ? 1 : 0));
}
