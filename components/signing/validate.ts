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
});
void (signingSettingsSchema satisfies z.ZodType<SigningSettings>);

export function signingSettingsIssues(value: unknown, base: string): ValidationIssue[] {
  const structural = structuralIssues(signingSettingsSchema, value, base);
  if (structural.length > 0) {
    return structural;
  }
  const s = value as SigningSettings;
  const issues: ValidationIssue[] = [];
  const at = (k: string) => (base === "" ? k : `${base}.${k}`);
  if (s.mode === "keyless") {
    if (s.identity === undefined || s.identity.trim() === "") {
      issues.push({ path: at("identity"), value: s.identity, problem: "is required for keyless signing", fix: 'give the certificate identity verification must require, e.g. "https://github.com/acme/golden/.github/workflows/build.yml@refs/heads/main"' });
    }
    if (s.issuer === undefined || !/^https:\/\/[^\s/]+(\/\S*)?$/.test(s.issuer)) {
      issues.push({ path: at("issuer"), value: s.issuer, problem: "must be the OIDC issuer's https URL for keyless signing", fix: 'e.g. "https://token.actions.githubusercontent.com"' });
    }
    if (s.transparencyLog === false) {
      issues.push({ path: at("transparencyLog"), value: false, problem: "keyless signatures cannot be verified without the transparency log", fix: "remove transparencyLog, or sign with a key pair or KMS key" });
    }
  } else {
    for (const k of ["identity", "issuer"] as const) {
      if (s[k] !== undefined) {
        issues.push({ path: at(k), value: s[k], problem: `applies to keyless signing only (mode is ${s.mode ?? "keypair"})`, fix: `remove ${k}, or set mode: keyless` });
      }
    }
  }
  return issues;
}
