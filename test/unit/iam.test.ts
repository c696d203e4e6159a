import fc from "fast-check";
import {
  ECR_AUTH_ACTION,
  ECR_PULL_ACTIONS,
  ECR_PUSH_ACTIONS,
  grantPolicyDocument,
  renderGrantPolicy,
  renderRepositoryPolicy,
  RepositoryPolicyArgs,
  validateGrant,
  validateRepositoryPolicyArgs,
} from "../../components/render/iam";
import { formatIssue } from "../../components/render/issues";

const ARN_A = "arn:aws:ecr:eu-west-1:123456789012:repository/golden/a";
const ARN_B = "arn:aws:ecr:eu-west-1:123456789012:repository/golden/b";

describe("ECR action constants", () => {
  it("THEN pull is exactly the three layer/manifest read actions", () => {
    expect([...ECR_PULL_ACTIONS]).toEqual(["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]);
  });
  it("THEN push is pull plus exactly the four upload actions", () => {
    expect([...ECR_PUSH_ACTIONS]).toEqual([
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:GetDownloadUrlForLayer",
      "ecr:CompleteLayerUpload",
      "ecr:InitiateLayerUpload",
      "ecr:PutImage",
      "ecr:UploadLayerPart",
    ]);
  });
  it("THEN login is a separate constant and in neither list", () => {
    expect(ECR_AUTH_ACTION).toBe("ecr:GetAuthorizationToken");
    expect(ECR_PUSH_ACTIONS as readonly string[]).not.toContain(ECR_AUTH_ACTION);
  });
});

describe("renderGrantPolicy", () => {
  it("GIVEN unsorted, repeated actions and ARNs WHEN rendered THEN actions and resources are deduped and sorted and login gets its own '*' statement", () => {
    // GIVEN
    const actions = ["ecr:PutImage", ECR_AUTH_ACTION, "ecr:BatchGetImage", "ecr:PutImage"];
    // WHEN
    const json = renderGrantPolicy(actions, [ARN_B, ARN_A, ARN_B]);
    // THEN
    expect(json).toBe(
      JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Sid: "EcrAuthorizationToken", Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: "*" },
          { Sid: "EcrRepositoryAccess", Effect: "Allow", Action: ["ecr:BatchGetImage", "ecr:PutImage"], Resource: [ARN_A, ARN_B] },
        ],
      }),
    );
  });

  it("GIVEN only repository actions WHEN rendered THEN there is no '*' resource anywhere", () => {
    const doc = grantPolicyDocument(ECR_PULL_ACTIONS, [ARN_A]);
    expect(doc.Statement).toEqual([{ Sid: "EcrRepositoryAccess", Effect: "Allow", Action: [...ECR_PULL_ACTIONS].sort(), Resource: [ARN_A] }]);
  });

  it("GIVEN any order of the same actions and ARNs WHEN rendered THEN the bytes are identical", () => {
    const actions = fc.subarray([...ECR_PUSH_ACTIONS, ECR_AUTH_ACTION], { minLength: 1 });
    fc.assert(
      fc.property(actions, fc.shuffledSubarray([ARN_A, ARN_B], { minLength: 2, maxLength: 2 }), (a, arns) => {
        expect(renderGrantPolicy([...a].reverse(), arns)).toBe(renderGrantPolicy(a, [ARN_A, ARN_B]));
      }),
    );
  });

  describe.each<[string, string[], string[], string[]]>([
    ["no actions", [], [ARN_A], ["grant.actions: must not be empty (value: []). Fix: use ECR_PULL_ACTIONS or ECR_PUSH_ACTIONS"]],
    ["a wildcard action", ["ecr:*"], [ARN_A], ['grant.actions[0]: is not a single ECR action (value: "ecr:*"). Fix: name one ECR action without wildcards, e.g. "ecr:BatchGetImage"']],
    ["a non-ECR action", ["s3:GetObject"], [ARN_A], ['grant.actions[0]: is not a single ECR action (value: "s3:GetObject"). Fix: name one ECR action without wildcards, e.g. "ecr:BatchGetImage"']],
    [
      "repository actions without repositories",
      ["ecr:BatchGetImage"],
      [],
      ['grant.repositoryArns: must not be empty when repository actions are granted (value: []). Fix: grant on at least one repository ARN (never on "*")'],
    ],
    [
      "a '*' resource",
      ["ecr:BatchGetImage"],
      ["*"],
      ['grant.repositoryArns[0]: is not an ECR repository ARN (value: "*"). Fix: give arn:<partition>:ecr:<region>:<account>:repository/<name>, without wildcards'],
    ],
  ])("GIVEN %s", (_label, actions, arns, expected) => {
    it("THEN validateGrant reports exactly it and the renderer refuses", () => {
      expect(validateGrant(actions, arns).map(formatIssue)).toEqual(expected);
      expect(() => renderGrantPolicy(actions, arns)).toThrow(expected[0]);
    });
  });

  it("GIVEN only the login action and no repositories WHEN validated THEN it is allowed", () => {
    expect(validateGrant([ECR_AUTH_ACTION], [])).toEqual([]);
  });
});

describe("renderRepositoryPolicy", () => {
  it("GIVEN unsorted principals WHEN rendered THEN they get exactly the pull actions, principals sorted", () => {
    expect(JSON.parse(renderRepositoryPolicy({ pullPrincipals: ["arn:aws:iam::210987654321:role/ci", "111122223333"] }))).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "PullFromAccounts",
          Effect: "Allow",
          Principal: { AWS: ["111122223333", "arn:aws:iam::210987654321:role/ci"] },
          Action: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        },
      ],
    });
  });

  it("GIVEN an organization WHEN rendered THEN Principal is '*' restricted by aws:PrincipalOrgID", () => {
    expect(renderRepositoryPolicy({ pullOrganizationId: "o-abcdef1234" })).toBe(
      JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "PullFromOrganization",
            Effect: "Allow",
            Principal: "*",
            Action: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            Condition: { StringEquals: { "aws:PrincipalOrgID": "o-abcdef1234" } },
          },
        ],
      }),
    );
  });

  it("GIVEN both WHEN rendered THEN there are two statements in Sid order", () => {
    const doc = JSON.parse(renderRepositoryPolicy({ pullOrganizationId: "o-abcdef1234", pullPrincipals: ["111122223333"] }));
    expect(doc.Statement.map((s: { Sid: string }) => s.Sid)).toEqual(["PullFromAccounts", "PullFromOrganization"]);
  });

  describe.each<[string, RepositoryPolicyArgs, string[]]>([
    ["nothing", {}, ["pullPrincipals: is required when no pullOrganizationId is given (value: not set). Fix: give pullPrincipals, pullOrganizationId or both"]],
    ["an empty principal list", { pullPrincipals: [] }, ["pullPrincipals: must not be empty (value: []). Fix: list at least one account or remove pullPrincipals"]],
    [
      "an 11-digit account",
      { pullPrincipals: ["12345678901"] },
      ['pullPrincipals[0]: is not an AWS account ID or IAM principal ARN (value: "12345678901"). Fix: give a 12-digit account ID or arn:aws:iam::<account>:root|role/<name>|user/<name>'],
    ],
    [
      "a wildcard principal",
      { pullPrincipals: ["*"] },
      ['pullPrincipals[0]: is not an AWS account ID or IAM principal ARN (value: "*"). Fix: give a 12-digit account ID or arn:aws:iam::<account>:root|role/<name>|user/<name>'],
    ],
    ["a repeated principal", { pullPrincipals: ["111122223333", "111122223333"] }, ['pullPrincipals[1]: repeats pullPrincipals[0] (value: "111122223333"). Fix: list each principal once']],
    [
      "an org id that is too short",
      { pullOrganizationId: "o-abc" },
      ['pullOrganizationId: is not an AWS Organizations ID (value: "o-abc"). Fix: give the organization ID, "o-" followed by 10-32 lowercase letters or digits'],
    ],
    [
      "an org id in upper case and a bad ARN together",
      { pullOrganizationId: "o-ABCDEF1234", pullPrincipals: ["arn:aws:iam::123456789012:group/x"] },
      [
        'pullPrincipals[0]: is not an AWS account ID or IAM principal ARN (value: "arn:aws:iam::123456789012:group/x"). Fix: give a 12-digit account ID or arn:aws:iam::<account>:root|role/<name>|user/<name>',
        'pullOrganizationId: is not an AWS Organizations ID (value: "o-ABCDEF1234"). Fix: give the organization ID, "o-" followed by 10-32 lowercase letters or digits',
      ],
    ],
  ])("GIVEN %s", (_label, args, expected) => {
    it("THEN exactly these issues are reported and rendering refuses", () => {
      expect(validateRepositoryPolicyArgs(args).map(formatIssue)).toEqual(expected);
      expect(() => renderRepositoryPolicy(args)).toThrow(`Invalid ECR repository policy (${expected.length === 1 ? "1 problem" : `${expected.length} problems`}):`);
    });
  });

  it.each([["123456789012"], ["arn:aws:iam::123456789012:root"], ["arn:aws-us-gov:iam::123456789012:role/path/ci"], ["arn:aws:iam::123456789012:user/alice"]])(
    "GIVEN the valid principal %s THEN no issue",
    (principal) => {
      expect(validateRepositoryPolicyArgs({ pullPrincipals: [principal] })).toEqual([]);
    },
  );
});
