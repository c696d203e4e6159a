/**
 * How images are signed and verified, as plain data the plan and every executor read. No secret
 * is ever part of it: a private key is named by a cosign key reference (a file path, `env://VAR`,
 * `k8s://ns/secret`, `awskms:///alias/...`) and its password reaches cosign through
 * `COSIGN_PASSWORD` in the executor's environment.
 */

export const SIGNING_MODES = ["keypair", "kms", "keyless"] as const;
/** `keypair`: a cosign key pair; `kms`: an AWS KMS key (`awskms:///...`); `keyless`: Fulcio
 *  certificates from the executor's OIDC identity, checked against an expected identity and issuer. */
export type SigningMode = (typeof SIGNING_MODES)[number];

export const SIGNATURE_FORMATS = ["classic", "bundle"] as const;
/**
 * `classic`: cosign's `.sig`/`.att` tags (`--new-bundle-format=false`), which every verifier
 * reads: cosign v2 and v3, Sigstore's policy-controller with a key, Kyverno's default type.
 * `bundle`: the Sigstore bundle cosign v3 writes by default; cosign v2 and policy-controller with
 * a key cannot verify it, Kyverno needs `type: SigstoreBundle`.
 */
export type SignatureFormat = (typeof SIGNATURE_FORMATS)[number];

/** Attestation predicate types the pipeline writes, by cosign's `--type` name. */
export const ATTESTATION_TYPES = {
  sbom: "cyclonedx",
  scan: "vuln",
  provenance: "slsaprovenance1",
} as const;
export type AttestationKind = keyof typeof ATTESTATION_TYPES;
/** The in-toto predicate type URI each `--type` stands for (what admission policies match). */
export const PREDICATE_TYPE_URIS: Readonly<Record<AttestationKind, string>> = {
  sbom: "https://cyclonedx.org/bom",
  scan: "https://cosign.sigstore.dev/attestation/vuln/v1",
  provenance: "https://slsa.dev/provenance/v1",
};

export interface SigningPlan {
  readonly mode: SigningMode;
  /** cosign key reference that signs (keypair, kms). Never key material. */
  readonly key?: string;
  /** cosign key reference that verifies: the public key file (keypair) or the KMS reference (kms). */
  readonly publicKey?: string;
  /** keyless: the certificate identity verification requires (e.g. the CI workflow's URI). */
  readonly identity?: string;
  /** keyless: the OIDC issuer verification requires. */
  readonly issuer?: string;
  /** @default "classic" */
  readonly format?: SignatureFormat;
  /** Upload signatures to a transparency log (Rekor) and require them at verification.
   *  @default false for keypair and kms (private images stay out of the public log), true for keyless (required) */
  readonly transparencyLog?: boolean;
}

export const SIGNING_DEFAULTS = { format: "classic" as SignatureFormat } as const;

export function transparencyLogOf(signing: SigningPlan): boolean {
  return signing.transparencyLog ?? signing.mode === "keyless";
}

/** The stack's signing settings (`golden-images:signing`): the SigningKey's arguments as plain data. */
export interface SigningSettings {
  /** @default "keypair" (generated) */
  readonly mode?: SigningMode;
  /** @default "classic" */
  readonly format?: SignatureFormat;
  /** @default false for keypair and kms, true for keyless */
  readonly transparencyLog?: boolean;
  /** keyless only (required there): the certificate identity, e.g. the CI workflow's URI. */
  readonly identity?: string;
  /** keyless only (required there): the OIDC issuer URL. */
  readonly issuer?: string;
  /** kms only: alias name without `alias/`. */
  readonly alias?: string;
  /** kms only (required there): role ARNs that sign. */
  readonly signers?: readonly string[];
  /** kms only: principals that verify. */
  readonly verifiers?: readonly string[];
  /** kms only: principals that administer the key. */
  readonly administrators?: readonly string[];
  /** kms only: 7 to 30. */
  readonly deletionWindowInDays?: number;
}
