/**
 * Event-driven rebuilds on AWS: which Inspector2 findings start a rebuild, and the StartBuild
 * request that rebuilds only the finding's image. Pure (no Pulumi imports), so the stack's config
 * validation and the CLI can use it.
 */

/** Inspector2 severities, lowest first. */
export const FINDING_SEVERITIES = ["LOW", "MEDIUM", "HIGH", "CRITICAL"] as const;
export type FindingSeverity = (typeof FINDING_SEVERITIES)[number];

/** StartBuild's request for a finding: the image of the finding's repository only, rebuilt even when unchanged. */
export const FINDING_INPUT_TRANSFORMER = {
  inputPaths: { repository: "$.detail.resources[0].details.awsEcrContainerImage.repositoryName" },
  inputTemplate:
    '{"environmentVariablesOverride": [{"name": "GOLDEN_ONLY_REPOSITORIES", "value": <repository>, "type": "PLAINTEXT"}, {"name": "GOLDEN_REBUILD", "value": "1", "type": "PLAINTEXT"}]}',
} as const;

/** Severities at or above `minimum`. */
export function severitiesFrom(minimum: FindingSeverity): FindingSeverity[] {
  return FINDING_SEVERITIES.slice(FINDING_SEVERITIES.indexOf(minimum));
}

/** The EventBridge pattern of Inspector2 findings at or above a severity in the given repositories. */
export function findingsEventPattern(minimum: FindingSeverity, repositoryNames: readonly string[]): string {
  return JSON.stringify({
    source: ["aws.inspector2"],
    "detail-type": ["Inspector2 Finding"],
    detail: {
      severity: severitiesFrom(minimum),
      status: ["ACTIVE"],
      resources: { details: { awsEcrContainerImage: { repositoryName: [...new Set(repositoryNames)].sort() } } },
    },
  });
}

/** Where a CodeBuild project's source can come from (the repository holding the build contexts). */
export const CODEBUILD_SOURCE_TYPES = ["CODECOMMIT", "GITHUB", "GITHUB_ENTERPRISE", "BITBUCKET", "GITLAB", "GITLAB_SELF_MANAGED", "S3"] as const;
