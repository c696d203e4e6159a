/**
 * The predicates the pipeline attests, built from files the plan's earlier steps wrote:
 * - the scan report as cosign's vulnerability predicate (`--type vuln`), the scanner's own report
 *   under `scanner.result` and the gate's verdict under `invocation.parameters`;
 * - SLSA provenance v1 (`--type slsaprovenance1`) naming the rendered Dockerfile's digest, every
 *   base and builder digest, and the source revision.
 * Deterministic: the same inputs give the same bytes (no clock except the scanner's own times).
 */
import { createHash } from "crypto";
import { baseReferences } from "../render/pin";
import { parseReference } from "../spec/reference";
import { EnvironmentPolicy, ImageSpec } from "../spec/types";
import { GatePolicy, GateVerdict, Scanner } from "./gate";

/** BuildKit's own SLSA build type: the build is a BuildKit Dockerfile frontend solve. */
export const PROVENANCE_BUILD_TYPE = "https://mobyproject.org/buildkit@v1";

export function sha256Hex(content: string | Buffer): string {
  return createHash("sha256").update(content).digest("hex");
}

/** cosign's vulnerability predicate (https://cosign.sigstore.dev/attestation/vuln/v1). */
export function vulnPredicate(scanner: Scanner, report: Record<string, any>, policy: GatePolicy, verdict: GateVerdict): Record<string, unknown> {
  const version = scannerVersion(scanner, report);
  const times = scanTimes(scanner, report);
  return {
    invocation: {
      parameters: { gate: { policy, verdict } },
      uri: "",
      event_id: "",
      "builder.id": "",
    },
    scanner: {
      uri: scanner === "grype" ? `pkg:github/anchore/grype@${version}` : `pkg:github/aquasecurity/trivy@${version}`,
      version,
      db: databaseOf(scanner, report),
      result: report,
    },
    metadata: { scanStartedOn: times, scanFinishedOn: times },
  };
}

function scannerVersion(scanner: Scanner, report: Record<string, any>): string {
  const v = scanner === "grype" ? report.descriptor?.version : report.Trivy?.Version;
  return typeof v === "string" && v !== "" ? v.replace(/^v?/, "v") : "unknown";
}

function scanTimes(scanner: Scanner, report: Record<string, any>): string {
  const t = scanner === "grype" ? report.descriptor?.timestamp : report.CreatedAt;
  const d = typeof t === "string" ? new Date(t) : new Date(NaN);
  // cosign parses these as RFC 3339 times.
  return Number.isNaN(d.getTime()) ? "1970-01-01T00:00:00Z" : d.toISOString();
}

function databaseOf(scanner: Scanner, report: Record<string, any>): { uri: string; version: string } {
  if (scanner === "grype") {
    const db = report.descriptor?.db ?? {};
    const built = db.status?.built ?? db.built ?? "";
    const schema = db.status?.schemaVersion ?? db.schemaVersion ?? "";
    return { uri: String(db.status?.from ?? db.from ?? ""), version: `${String(schema)}${built !== "" ? ` built ${String(built)}` : ""}`.trim() };
  }
  return { uri: "", version: "" };
}

export interface ProvenanceInput {
  /** The pinned spec and policy (what the pin step wrote). */
  readonly spec: ImageSpec;
  readonly policy: EnvironmentPolicy;
  /** The rendered Dockerfile's bytes. */
  readonly dockerfile: string;
  /** The content tag the image was pushed under. */
  readonly tag: string;
  /** Source revision of the checkout (spec.source.revision wins). */
  readonly revision?: string;
  /** URI of the executor that built it, e.g. `urn:pulumi-golden-image:executor:local`. */
  readonly builderId: string;
}

/** SLSA provenance v1 (https://slsa.dev/provenance/v1) of one image. */
export function provenancePredicate(input: ProvenanceInput): Record<string, unknown> {
  const { spec, policy } = input;
  const revision = spec.source?.revision ?? input.revision;
  const dependencies = baseReferences(spec, policy.mirror).map(({ property, ref }) => {
    const parsed = parseReference(ref);
    const digest = parsed.digest ?? "";
    return {
      name: property,
      uri: `docker://${ref.split("@")[0]}`,
      digest: digest.startsWith("sha256:") ? { sha256: digest.slice("sha256:".length) } : {},
    };
  });
  return {
    buildDefinition: {
      buildType: PROVENANCE_BUILD_TYPE,
      externalParameters: {
        image: spec.name,
        flavor: spec.flavor,
        tag: input.tag,
        dockerfile: { digest: { sha256: sha256Hex(input.dockerfile) } },
        source: { uri: spec.source?.url ?? "", revision: revision ?? "" },
        platforms: spec.platforms ?? ["linux/amd64"],
        sourceDateEpoch: policy.sourceDateEpoch ?? 0,
      },
      internalParameters: { environment: policy.environment, hardening: spec.hardening ?? "strict" },
      resolvedDependencies: dependencies,
    },
    runDetails: {
      builder: { id: input.builderId },
      metadata: { invocationId: `${spec.name}@${input.tag}` },
    },
  };
}
