/**
 * `golden verify IMAGE`: checks any image against the stack's signing policy with the real
 * cosign: the signature, and each required attestation (CycloneDX SBOM, scan report, SLSA
 * provenance) with the public key; the scan report must also carry a passed gate verdict.
 * A tag is resolved to its digest first and everything is checked on that digest.
 */
import { cosignVerifyArgs, cosignVerifyAttestationArgs } from "../components/signing/cosign";
import { AttestationKind, SigningPlan } from "../components/signing/types";
import { parseReference } from "../components/spec/reference";
import { run, toolCommand } from "../executors/plan-runner";
import { isLoopbackHost, RegistryClient } from "./registry-client";
import { StepFailure } from "./steps";

export interface VerifyCheck {
  readonly check: string;
  readonly passed: boolean;
  /** cosign's own last words on failure. */
  readonly detail: string;
}

export interface VerifyReport {
  readonly ref: string;
  readonly passed: boolean;
  readonly checks: readonly VerifyCheck[];
}

const KINDS: readonly AttestationKind[] = ["sbom", "scan", "provenance"];

/** Resolves `reference` to host/path@digest through the registry (a digest is checked to exist). */
export async function resolveDigestRef(reference: string, client: (host: string) => RegistryClient): Promise<string> {
  let parsed;
  try {
    parsed = parseReference(reference);
  } catch (e) {
    throw new StepFailure(`"${reference}" is not an image reference (${(e as Error).message}). Fix: give host/repository:tag, host/repository@sha256:..., or an image name of the stack`, 2);
  }
  if (parsed.host === undefined) {
    throw new StepFailure(`"${reference}" names no registry. Fix: give host/repository:tag or host/repository@sha256:...`, 2);
  }
  const digest = await client(parsed.host).digestOf(parsed.path, parsed.digest ?? parsed.tag ?? "latest");
  if (digest === undefined) {
    throw new StepFailure(`${reference} is not in the registry. Fix: check the reference (golden build prints the pushed ones)`);
  }
  if (parsed.digest !== undefined && parsed.digest !== digest) {
    throw new StepFailure(`${reference} is served at ${digest}, not at the digest it names`);
  }
  return `${parsed.host}/${parsed.path}@${digest}`;
}

/** Runs every check on `ref` (host/path@digest); never throws for a failed check. */
export async function verifySigned(ref: string, signing: SigningPlan, env: NodeJS.ProcessEnv): Promise<VerifyReport> {
  const host = ref.slice(0, ref.indexOf("/"));
  const insecure = isLoopbackHost(host);
  const [cmd, ...pre] = toolCommand("cosign", env);
  const checks: VerifyCheck[] = [];
  const sig = await run(cmd, [...pre, ...cosignVerifyArgs(signing, ref, insecure)], { env, timeoutMs: 120000 });
  checks.push({ check: "signature", passed: sig.code === 0, detail: sig.code === 0 ? "" : lastWords(sig.output) });
  for (const kind of KINDS) {
    const r = await run(cmd, [...pre, ...cosignVerifyAttestationArgs(signing, kind, ref, insecure)], { env, timeoutMs: 120000 });
    if (r.code !== 0) {
      checks.push({ check: `${kind} attestation`, passed: false, detail: lastWords(r.output) });
      continue;
    }
    checks.push({ check: `${kind} attestation`, passed: true, detail: "" });
    if (kind === "scan") {
      const gate = gateOfScanAttestation(r.output);
      checks.push({ check: "gate verdict in the scan report", passed: gate === true, detail: gate === true ? "" : gate === false ? "the attested scan report says the gate FAILED" : "no gate verdict in the attested scan report" });
    }
  }
  return { ref, passed: checks.every((c) => c.passed), checks };
}

/** The `passed` of the gate verdict inside the verified scan attestation(s): every one must say passed. */
function gateOfScanAttestation(output: string): boolean | undefined {
  let seen: boolean | undefined;
  for (const line of output.split("\n")) {
    if (!line.trim().startsWith("{")) {
      continue;
    }
    try {
      const envelope = JSON.parse(line) as { payload?: string; dsseEnvelope?: { payload?: string } };
      const payload = envelope.payload ?? envelope.dsseEnvelope?.payload;
      if (payload === undefined) {
        continue;
      }
      const statement = JSON.parse(Buffer.from(payload, "base64").toString("utf8")) as { predicate?: { invocation?: { parameters?: { gate?: { verdict?: { passed?: unknown } } } } } };
      const passed = statement.predicate?.invocation?.parameters?.gate?.verdict?.passed;
      if (typeof passed === "boolean") {
        seen = (seen ?? true) && passed;
      }
    } catch {
      // not an envelope line
    }
  }
  return seen;
}

function lastWords(output: string): string {
  const lines = output.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("WARNING") && !l.startsWith("Flag --"));
  const errors = lines.filter((l) => /^Error:|error during command execution/.test(l));
  return (errors.length > 0 ? errors[0] : lines[lines.length - 1] ?? "no output").replace(/^Error: /, "").replace(/:\s*$/, "").slice(0, 400);
}
