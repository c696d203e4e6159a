/**
 * SigningKey: the key the pipeline signs with, one interface for three modes.
 * - `kms`: an AWS KMS key (ECC_NIST_P256, SIGN_VERIFY) with an alias and a key policy in which
 *   only the pipeline's build role may sign, listed consumers may verify, and administrators
 *   manage the key without being able to use it. Signs as `awskms:///alias/<alias>`.
 * - `keypair`: a cosign key pair. Generated (an ECDSA P-256 key from @pulumi/tls and a password
 *   from @pulumi/random, encrypted into cosign's format) or brought in; the private key and the
 *   password are Pulumi secrets and only ever leave as secret outputs.
 * - `keyless`: Fulcio certificates for the executor's OIDC identity; verification requires the
 *   given identity and issuer.
 * `signing` is the plan's view (key references only, no secret), for every executor.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as tls from "@pulumi/tls";
import { joinKey, throwIfIssues, ValidationIssue } from "../render/issues";
import { renderSigningKeyPolicy } from "../render/kms-policy";
import { encryptCosignPrivateKey } from "./cosign-key";
import { SIGNATURE_FORMATS, SignatureFormat, SIGNING_MODES, SigningPlan, SigningSettings } from "./types";
import { keylessIssues } from "./validate";

export const SIGNING_KEY_TYPE = "golden-image:signing:SigningKey";

/** Environment variables a keypair key reaches executors through (the plan names them as `env://`). */
export const KEYPAIR_ENV = { privateKey: "COSIGN_PRIVATE_KEY", publicKey: "COSIGN_PUBLIC_KEY", password: "COSIGN_PASSWORD" } as const;

interface CommonArgs {
  /** @default "classic" */
  readonly format?: SignatureFormat;
  /** Upload signatures to the transparency log and require them at verification.
   *  @default false for keypair and kms (private images stay out of the public log), true for keyless */
  readonly transparencyLog?: boolean;
}

export interface KmsSigningKeyArgs extends CommonArgs {
  readonly mode: "kms";
  /** Alias name without `alias/`. @default `golden-signing-<component name>` */
  readonly alias?: string;
  /** IAM role ARNs that sign: the pipeline's build role. The only principals with `kms:Sign`. */
  readonly signers: readonly pulumi.Input<string>[];
  /** Principals that verify with the key (`kms:GetPublicKey`, `kms:Verify`). @default [] */
  readonly verifiers?: readonly pulumi.Input<string>[];
  /** Principals that administer the key (no use of it). @default the role running `pulumi up` */
  readonly administrators?: readonly pulumi.Input<string>[];
  /** Days KMS waits before deleting the key, 7 to 30. @default 30 */
  readonly deletionWindowInDays?: number;
}

export interface KeypairSigningKeyArgs extends CommonArgs {
  readonly mode: "keypair";
  /** An existing cosign private key (`cosign generate-key-pair`), as a secret. Give all three or none.
   *  @default generated */
  readonly privateKey?: pulumi.Input<string>;
  /** Its password, as a secret. */
  readonly password?: pulumi.Input<string>;
  /** Its public key (PEM). */
  readonly publicKey?: pulumi.Input<string>;
}

export interface KeylessSigningKeyArgs extends CommonArgs {
  readonly mode: "keyless";
  /** The certificate identity verification requires, e.g. the CI workflow's URI. */
  readonly identity: string;
  /** The OIDC issuer URL verification requires. */
  readonly issuer: string;
}

export type SigningKeyArgs = KmsSigningKeyArgs | KeypairSigningKeyArgs | KeylessSigningKeyArgs;

const KEYS: Record<string, readonly string[]> = {
  kms: ["mode", "format", "transparencyLog", "alias", "signers", "verifiers", "administrators", "deletionWindowInDays"],
  keypair: ["mode", "format", "transparencyLog", "privateKey", "password", "publicKey"],
  keyless: ["mode", "format", "transparencyLog", "identity", "issuer"],
};
const ALIAS = /^(?!aws\/)[A-Za-z0-9/_-]{1,250}$/;
const PRINCIPAL_ARN = /^arn:aws(?:-[a-z]+)*:(?:iam::\d{12}:(?:role|user|root)(?:\/\S*)?|iam::\d{12}:root)$/;

/** Every problem of the arguments at once (only values known at preview are checked). */
export function validateSigningKeyArgs(args: SigningKeyArgs): ValidationIssue[] {
  if (args === null || typeof args !== "object") {
    return [{ path: "args", value: args, problem: "must be an object", fix: 'give { mode: "kms" | "keypair" | "keyless", ... }' }];
  }
  const raw = args as unknown as Record<string, unknown>;
  if (!(SIGNING_MODES as readonly unknown[]).includes(raw.mode)) {
    return [{ path: "mode", value: raw.mode, problem: "is not a signing mode", fix: `use one of: ${SIGNING_MODES.map((m) => JSON.stringify(m)).join(", ")}` }];
  }
  const issues: ValidationIssue[] = [];
  for (const key of Object.keys(raw).sort()) {
    if (!KEYS[args.mode].includes(key)) {
      issues.push({ path: joinKey("", key), value: raw[key], problem: `is not an argument of ${args.mode} mode`, fix: `remove it (allowed: ${KEYS[args.mode].join(", ")})` });
    }
  }
  if (args.format !== undefined && !(SIGNATURE_FORMATS as readonly string[]).includes(args.format)) {
    issues.push({ path: "format", value: args.format, problem: "is not a signature format", fix: 'use "classic" or "bundle"' });
  }
  if (args.mode === "kms") {
    if (!Array.isArray(args.signers) || args.signers.length === 0) {
      issues.push({ path: "signers", value: args.signers, problem: "lists no signer", fix: "give the pipeline build role's ARN, e.g. [buildRole.arn]: only the signers may use kms:Sign" });
    }
    for (const list of ["signers", "verifiers", "administrators"] as const) {
      const values = args[list];
      if (values !== undefined && !Array.isArray(values)) {
        issues.push({ path: list, value: values, problem: "must be a list of principal ARNs", fix: `give e.g. ["arn:aws:iam::123456789012:role/name"]` });
        continue;
      }
      (values ?? []).forEach((v, i) => {
        if (typeof v === "string" && !PRINCIPAL_ARN.test(v)) {
          issues.push({ path: `${list}[${i}]`, value: v, problem: "is not an IAM role, user or account root ARN", fix: 'give e.g. "arn:aws:iam::123456789012:role/golden-build"' });
        }
      });
    }
    if (args.alias !== undefined && (typeof args.alias !== "string" || !ALIAS.test(args.alias))) {
      issues.push({ path: "alias", value: args.alias, problem: "is not a KMS alias name", fix: 'give letters, digits, /, _ and - without the "alias/" prefix (and not starting with aws/)' });
    }
    const w = args.deletionWindowInDays;
    if (w !== undefined && (!Number.isInteger(w) || w < 7 || w > 30)) {
      issues.push({ path: "deletionWindowInDays", value: w, problem: "is not a whole number of days from 7 to 30", fix: "use 30 (the default) unless you must delete sooner" });
    }
  } else if (args.mode === "keypair") {
    const given = (["privateKey", "password", "publicKey"] as const).filter((k) => args[k] !== undefined);
    if (given.length > 0 && given.length < 3) {
      issues.push({ path: "privateKey", value: given, problem: "bring-your-own keys need the private key, its password and the public key together", fix: "give all three (from `cosign generate-key-pair`, as secrets), or none to generate a key pair" });
    }
    if (typeof args.privateKey === "string" && !args.privateKey.includes("ENCRYPTED")) {
      issues.push({ path: "privateKey", value: "(secret)", problem: "is not an encrypted cosign private key", fix: "give the cosign.key file `cosign generate-key-pair` writes, as a Pulumi secret" });
    }
    if (typeof args.publicKey === "string" && !args.publicKey.includes("BEGIN PUBLIC KEY")) {
      issues.push({ path: "publicKey", value: args.publicKey.slice(0, 40), problem: "is not a PEM public key", fix: "give the cosign.pub file `cosign generate-key-pair` writes" });
    }
  } else {
    issues.push(...keylessIssues(args, (k) => k));
  }
  return issues;
}

export class SigningKey extends pulumi.ComponentResource {
  public readonly mode: SigningKeyArgs["mode"];
  /** The plan's signing: key references only (`awskms:///alias/...`, `env://COSIGN_PRIVATE_KEY`), never key material. */
  public readonly signing: pulumi.Output<SigningPlan>;
  /** The public key (PEM) consumers verify with; empty for keyless. */
  public readonly publicKeyPem: pulumi.Output<string>;
  /** kms: the key's ARN (for IAM policies). */
  public readonly keyArn?: pulumi.Output<string>;
  /** keypair: the encrypted cosign private key (secret). */
  public readonly privateKey?: pulumi.Output<string>;
  /** keypair: its password (secret). */
  public readonly password?: pulumi.Output<string>;

  constructor(name: string, args: SigningKeyArgs, opts?: pulumi.ComponentResourceOptions) {
    super(SIGNING_KEY_TYPE, name, {}, validated(name, args, opts));
    this.mode = args.mode;
    const format = args.format ?? "classic";
    const tlog = args.transparencyLog !== undefined ? { transparencyLog: args.transparencyLog } : {};
    if (args.mode === "kms") {
      const alias = `alias/${args.alias ?? `golden-signing-${name}`}`;
      const administrators: pulumi.Input<readonly pulumi.Input<string>[]> =
        args.administrators !== undefined ? args.administrators : [deployingRole(this)];
      const policy = pulumi
        .all([pulumi.output(administrators), pulumi.output(args.signers), pulumi.output(args.verifiers ?? [])])
        .apply(([a, s, v]) => renderSigningKeyPolicy({ administrators: a, signers: s, verifiers: v }));
      const key = new aws.kms.Key(
        `${name}-key`,
        {
          description: `cosign signing key of the golden image pipeline (${name})`,
          customerMasterKeySpec: "ECC_NIST_P256",
          keyUsage: "SIGN_VERIFY",
          deletionWindowInDays: args.deletionWindowInDays ?? 30,
          policy,
        },
        { parent: this, retainOnDelete: true },
      );
      new aws.kms.Alias(`${name}-alias`, { name: alias, targetKeyId: key.keyId }, { parent: this });
      this.keyArn = key.arn;
      this.publicKeyPem = aws.kms.getPublicKeyOutput({ keyId: key.arn }, { parent: this }).publicKeyPem;
      const ref = `awskms:///${alias}`;
      this.signing = pulumi.output({ mode: "kms" as const, key: ref, publicKey: ref, format, ...tlog });
    } else if (args.mode === "keypair") {
      let privateKey: pulumi.Output<string>;
      let password: pulumi.Output<string>;
      if (args.privateKey !== undefined && args.password !== undefined && args.publicKey !== undefined) {
        privateKey = pulumi.secret(args.privateKey);
        password = pulumi.secret(args.password);
        this.publicKeyPem = pulumi.output(args.publicKey);
      } else {
        const key = new tls.PrivateKey(`${name}-key`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, { parent: this });
        const generated = new random.RandomPassword(`${name}-password`, { length: 40, special: false }, { parent: this });
        password = pulumi.secret(generated.result);
        privateKey = pulumi.secret(pulumi.all([key.privateKeyPemPkcs8, generated.result]).apply(([pem, pass]) => encryptCosignPrivateKey(pem, pass)));
        this.publicKeyPem = key.publicKeyPem;
      }
      this.privateKey = privateKey;
      this.password = password;
      this.signing = pulumi.output({ mode: "keypair" as const, key: `env://${KEYPAIR_ENV.privateKey}`, publicKey: `env://${KEYPAIR_ENV.publicKey}`, format, ...tlog });
    } else {
      this.publicKeyPem = pulumi.output("");
      this.signing = pulumi.output({ mode: "keyless" as const, identity: args.identity, issuer: args.issuer, format, ...tlog });
    }
    this.registerOutputs({ signing: this.signing, publicKeyPem: this.publicKeyPem });
  }
}

/** The IAM role running `pulumi up` (an assumed role's issuer), so KMS never locks the deployer out. */
function deployingRole(parent: pulumi.Resource): pulumi.Output<string> {
  const caller = aws.getCallerIdentityOutput({}, { parent });
  return aws.iam.getSessionContextOutput({ arn: caller.arn }, { parent }).issuerArn;
}

function validated(name: string, args: SigningKeyArgs, opts?: pulumi.ComponentResourceOptions): pulumi.ComponentResourceOptions | undefined {
  throwIfIssues(`Invalid SigningKey "${name}" arguments`, validateSigningKeyArgs(args));
  return opts;
}

/** The SigningKey arguments the stack's `signing` settings stand for (mode keypair by default). */
export function signingKeyArgsFromSettings(s: SigningSettings): SigningKeyArgs {
  const common = { ...(s.format !== undefined ? { format: s.format } : {}), ...(s.transparencyLog !== undefined ? { transparencyLog: s.transparencyLog } : {}) };
  switch (s.mode ?? "keypair") {
    case "kms":
      return {
        mode: "kms",
        ...common,
        signers: s.signers ?? [],
        ...(s.verifiers !== undefined ? { verifiers: s.verifiers } : {}),
        ...(s.administrators !== undefined ? { administrators: s.administrators } : {}),
        ...(s.alias !== undefined ? { alias: s.alias } : {}),
        ...(s.deletionWindowInDays !== undefined ? { deletionWindowInDays: s.deletionWindowInDays } : {}),
      };
    case "keyless":
      return { mode: "keyless", ...common, identity: s.identity ?? "", issuer: s.issuer ?? "" };
    default:
      return { mode: "keypair", ...common };
  }
}
