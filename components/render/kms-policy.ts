/**
 * KMS key policies rendered by pure functions: no account-wide `kms:*` grant. Administrators
 * manage the key but cannot use it; the pipeline's build role signs; consumers verify; and an
 * ECR encryption key is usable only through ECR by principals of the account.
 */

/** What key administrators may do: manage, never use (no Sign, Verify, Encrypt or Decrypt). */
export const KMS_ADMIN_ACTIONS = [
  "kms:Create*",
  "kms:Describe*",
  "kms:Enable*",
  "kms:List*",
  "kms:Put*",
  "kms:Update*",
  "kms:Revoke*",
  "kms:Disable*",
  "kms:Get*",
  "kms:Delete*",
  "kms:TagResource",
  "kms:UntagResource",
  "kms:ScheduleKeyDeletion",
  "kms:CancelKeyDeletion",
  "kms:RotateKeyOnDemand",
] as const;
export const KMS_SIGN_ACTIONS = ["kms:Sign", "kms:GetPublicKey", "kms:DescribeKey"] as const;
export const KMS_VERIFY_ACTIONS = ["kms:Verify", "kms:GetPublicKey", "kms:DescribeKey"] as const;
/** What ECR needs of a repository encryption key on behalf of a caller (AWS's documented set). */
export const KMS_ECR_USE_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey"] as const;

interface Statement {
  Sid: string;
  Effect: "Allow";
  Principal: { AWS: string[] };
  Action: string[];
  Resource: "*";
  Condition?: Record<string, Record<string, string>>;
}

function statement(sid: string, principals: readonly string[], actions: readonly string[], condition?: Statement["Condition"]): Statement {
  return { Sid: sid, Effect: "Allow", Principal: { AWS: [...new Set(principals)].sort() }, Action: [...actions], Resource: "*", ...(condition !== undefined ? { Condition: condition } : {}) };
}

export interface SigningKeyPolicyArgs {
  /** Principals that administer the key (the deploying role at least: KMS refuses a policy that locks its author out). */
  readonly administrators: readonly string[];
  /** The pipeline's build role(s): the only principals that may sign. */
  readonly signers: readonly string[];
  /** Consumers that verify with the key (GetPublicKey, Verify). @default [] */
  readonly verifiers?: readonly string[];
}

/** The key policy of a signing key (ECC_NIST_P256, SIGN_VERIFY). */
export function renderSigningKeyPolicy(args: SigningKeyPolicyArgs): string {
  const statements = [statement("KeyAdministration", args.administrators, KMS_ADMIN_ACTIONS), statement("PipelineSigns", args.signers, KMS_SIGN_ACTIONS)];
  if ((args.verifiers ?? []).length > 0) {
    statements.push(statement("ConsumersVerify", args.verifiers ?? [], KMS_VERIFY_ACTIONS));
  }
  return JSON.stringify({ Version: "2012-10-17", Statement: statements }, null, 2);
}

export interface EcrKeyPolicyArgs {
  readonly administrators: readonly string[];
  readonly accountId: string;
  readonly region: string;
  readonly partition: string;
  /** The partition's DNS suffix (`aws.getPartition().dnsSuffix`): ECR's service name is `ecr.<region>.<suffix>`. */
  readonly dnsSuffix: string;
}

/** The key policy of the ECR repositories' encryption key: administered by the given principals, used only through ECR. */
export function renderEcrKeyPolicy(args: EcrKeyPolicyArgs): string {
  return JSON.stringify(
    {
      Version: "2012-10-17",
      Statement: [
        statement("KeyAdministration", args.administrators, KMS_ADMIN_ACTIONS),
        statement("UseThroughEcrOnly", [`arn:${args.partition}:iam::${args.accountId}:root`], KMS_ECR_USE_ACTIONS, {
          StringEquals: { "kms:ViaService": `ecr.${args.region}.${args.dnsSuffix}`, "kms:CallerAccount": args.accountId },
        }),
      ],
    },
    null,
    2,
  );
}
