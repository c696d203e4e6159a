/** Validation of the signing settings: every problem at once, naming the property and the fix. */
import { z } from "zod";
import { ValidationIssue } from "../render/issues";
import { structuralIssues } from "../render/schema";
import { SIGNATURE_FORMATS, SIGNING_MODES, SigningSettings } from "./types";

export const signingSettingsSchema = z.strictObject({
  mode: z.enum(SIGNING_MODES).optional(),
  format: z.enum(SIGNATURE_FORMATS).optional(),
  transparencyLog: z.boolean().optional(),
  identity: z.string().optional(),
  issuer: z.string().optional(),
  alias: z.string().optional(),
  signers: z.array(z.string()).optional(),
  verifiers: z.array(z.string()).optional(),
  administrators: z.array(z.string()).optional(),
  deletionWindowInDays: z.number().optional(),
});
void (signingSettingsSchema satisfies z.ZodType<SigningSettings>);

/** Keyless rules: the identity and an https issuer are required, and the transparency log. */
export function keylessIssues(s: { identity?: unknown; issuer?: unknown; transparencyLog?: unknown }, at: (k: string) => string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (typeof s.identity !== "string" || s.identity.trim() === "") {
    issues.push({ path: at("identity"), value: s.identity, problem: "is required for keyless signing", fix: 'give the certificate identity verification must require, e.g. "https://github.com/acme/golden/.github/workflows/build.yml@refs/heads/main"' });
  }
  if (typeof s.issuer !== "string" || !/^https:\/\/[^\s/]+(\/\S*)?$/.test(s.issuer)) {
    issues.push({ path: at("issuer"), value: s.issuer, problem: "must be the OIDC issuer's https URL for keyless signing", fix: 'e.g. "https://token.actions.githubusercontent.com"' });
  }
  if (s.transparencyLog === false) {
    issues.push({ path: at("transparencyLog"), value: false, problem: "keyless signatures cannot be verified without the transparency log", fix: "remove transparencyLog, or sign with a key pair or KMS key" });
  }
  return issues;
}

/** The stack's `signing` settings: their shape, then the SigningKey's own rules for the mode. */
export function signingSettingsIssues(value: unknown, base: string): ValidationIssue[] {
  const structural = structuralIssues(signingSettingsSchema, value, base);
  if (structural.length > 0) {
    return structural;
  }
  const s = value as SigningSettings;
  const at = (k: string) => (base === "" ? k : `${base}.${k}`);
  const mode = s.mode ?? "keypair";
  const allowed: Record<string, readonly string[]> = {
    keypair: ["mode", "format", "transparencyLog"],
    kms: ["mode", "format", "transparencyLog", "alias", "signers", "verifiers", "administrators", "deletionWindowInDays"],
    keyless: ["mode", "format", "transparencyLog", "identity", "issuer"],
  };
  const issues: ValidationIssue[] = Object.keys(s)
    .filter((k) => !allowed[mode].includes(k))
    .sort()
    .map((k) => ({ path: at(k), value: (s as Record<string, unknown>)[k], problem: `applies to ${Object.keys(allowed).filter((m) => allowed[m].includes(k)).join(" or ")} signing only (mode is ${mode})`, fix: `remove ${k}, or set the mode it belongs to` }));
  if (mode === "keyless") {
    issues.push(...keylessIssues(s, at));
  }
  if (mode === "kms" && (s.signers === undefined || s.signers.length === 0)) {
    issues.push({ path: at("signers"), value: s.signers, problem: "lists no signer", fix: "give the pipeline build role's ARN: only the signers may use kms:Sign" });
  }
  return issues;
}
