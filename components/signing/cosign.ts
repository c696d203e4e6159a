/**
 * cosign's command lines, one place for the planner (sign, attest, verify steps) and for
 * `golden verify` and the README's consumer command: the same flags everywhere.
 */
import { ATTESTATION_TYPES, AttestationKind, SIGNING_DEFAULTS, SigningPlan, transparencyLogOf } from "./types";

/** Flags every signing command shares: the key, the format, the transparency log, plain HTTP. */
function signingFlags(signing: SigningPlan, insecure: boolean): string[] {
  const flags: string[] = [];
  if (signing.mode !== "keyless") {
    flags.push("--key", signing.key as string);
  }
  if ((signing.format ?? SIGNING_DEFAULTS.format) === "classic") {
    flags.push("--new-bundle-format=false");
  }
  if (!transparencyLogOf(signing)) {
    // cosign v3 needs both: no signing config (which names a Rekor) and no upload.
    flags.push("--use-signing-config=false", "--tlog-upload=false");
  }
  if (insecure) {
    flags.push("--allow-http-registry");
  }
  return flags;
}

function verifyFlags(signing: SigningPlan, insecure: boolean): string[] {
  const flags: string[] = [];
  if (signing.mode === "keyless") {
    flags.push("--certificate-identity", signing.identity as string, "--certificate-oidc-issuer", signing.issuer as string);
  } else {
    flags.push("--key", signing.publicKey as string);
  }
  if ((signing.format ?? SIGNING_DEFAULTS.format) === "classic") {
    flags.push("--new-bundle-format=false");
  }
  if (!transparencyLogOf(signing)) {
    flags.push("--insecure-ignore-tlog=true");
  }
  if (insecure) {
    flags.push("--allow-http-registry");
  }
  return flags;
}

/** `cosign sign ... REF@DIGEST`: always by digest. */
export function cosignSignArgs(signing: SigningPlan, ref: string, insecure: boolean): string[] {
  return ["sign", ...signingFlags(signing, insecure), "--yes", ref];
}

export function cosignAttestArgs(signing: SigningPlan, kind: AttestationKind, predicate: string, ref: string, insecure: boolean): string[] {
  return ["attest", ...signingFlags(signing, insecure), "--type", ATTESTATION_TYPES[kind], "--predicate", predicate, "--yes", ref];
}

export function cosignVerifyArgs(signing: SigningPlan, ref: string, insecure: boolean): string[] {
  return ["verify", ...verifyFlags(signing, insecure), "--output", "json", ref];
}

export function cosignVerifyAttestationArgs(signing: SigningPlan, kind: AttestationKind, ref: string, insecure: boolean): string[] {
  return ["verify-attestation", ...verifyFlags(signing, insecure), "--type", ATTESTATION_TYPES[kind], ref];
}
