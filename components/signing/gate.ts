/**
 * The vulnerability gate: what a scan may find before an image is refused. The scanner writes
 * its own report; this module reads it (Grype or Trivy JSON), applies the policy (a severity
 * threshold, ignoreUnfixed, and an ignore list in which every entry has an id, a reason and an
 * expiry date) and gives a verdict that names what blocked. Pure functions: the `golden step
 * assess` and `gate` steps run them, and tests call them directly.
 */
import { z } from "zod";
import { joinPath, ValidationIssue } from "../render/issues";
import { structuralIssues } from "../render/schema";

export const SCANNERS = ["grype", "trivy"] as const;
/** `grype` (Anchore) or `trivy` (Aqua): both scan the pushed image by digest. */
export type Scanner = (typeof SCANNERS)[number];

/** Severities in rising order. `UNKNOWN` and `NEGLIGIBLE` never block. */
export const SEVERITIES = ["UNKNOWN", "NEGLIGIBLE", "LOW", "MEDIUM", "HIGH", "CRITICAL"] as const;
export type Severity = (typeof SEVERITIES)[number];
export const THRESHOLDS = ["LOW", "MEDIUM", "HIGH", "CRITICAL"] as const;
export type Threshold = (typeof THRESHOLDS)[number];

export interface IgnoreEntry {
  /** Vulnerability id as the scanner reports it, e.g. `CVE-2024-12345` or `GHSA-xxxx-xxxx-xxxx`. */
  readonly id: string;
  /** Why it is acceptable (kept in the scan report attestation). */
  readonly reason: string;
  /** `YYYY-MM-DD`: from that day on (UTC) the entry no longer applies and fails the gate until removed. */
  readonly expires: string;
  /** Only for this package (binary or source name). @default every package */
  readonly package?: string;
}

export interface GatePolicy {
  /** @default "grype" */
  readonly scanner?: Scanner;
  /** Findings at this severity or above fail the gate. @default "HIGH" (HIGH and CRITICAL, as `trivy image --severity CRITICAL,HIGH`) */
  readonly severity?: Threshold;
  /** Findings with no fixed version do not block. @default false */
  readonly ignoreUnfixed?: boolean;
  /** Accepted findings, each with a reason and an expiry date. @default [] */
  readonly ignore?: readonly IgnoreEntry[];
}

export const GATE_DEFAULTS = { scanner: "grype" as Scanner, severity: "HIGH" as Threshold, ignoreUnfixed: false } as const;

export const gatePolicySchema = z.strictObject({
  scanner: z.enum(SCANNERS).optional(),
  severity: z.enum(THRESHOLDS).optional(),
  ignoreUnfixed: z.boolean().optional(),
  ignore: z.array(z.strictObject({ id: z.string(), reason: z.string(), expires: z.string(), package: z.string().optional() })).optional(),
});
void (gatePolicySchema satisfies z.ZodType<GatePolicy>);

const VULN_ID = /^[A-Za-z][A-Za-z0-9]*-[A-Za-z0-9][A-Za-z0-9._:-]*$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Every problem of a gate policy, under `base`. Dates in the past are not input errors: the gate reports them. */
export function gatePolicyIssues(value: unknown, base: string): ValidationIssue[] {
  const structural = structuralIssues(gatePolicySchema, value, base);
  if (structural.length > 0) {
    return structural;
  }
  const policy = value as GatePolicy;
  const issues: ValidationIssue[] = [];
  const seen = new Map<string, number>();
  (policy.ignore ?? []).forEach((entry, i) => {
    const at = joinPath(joinPath(base, "ignore"), i);
    if (!VULN_ID.test(entry.id)) {
      issues.push({ path: `${at}.id`, value: entry.id, problem: "is not a vulnerability id", fix: 'give the id the scanner reports, e.g. "CVE-2024-12345" or "GHSA-abcd-efgh-ijkl"' });
    }
    if (entry.reason.trim().length < 10) {
      issues.push({ path: `${at}.reason`, value: entry.reason, problem: "does not say why the finding is acceptable", fix: "write the reason a reviewer needs (at least 10 characters), e.g. \"not reachable: the image never parses untrusted TIFF files\"" });
    }
    if (parseDay(entry.expires) === undefined) {
      issues.push({ path: `${at}.expires`, value: entry.expires, problem: "is not a date YYYY-MM-DD", fix: 'give the day the exception ends, e.g. "2026-12-31" (every ignore entry must expire)' });
    }
    if (entry.package !== undefined && !/^[a-z0-9][a-z0-9+.~:_@/-]*$/i.test(entry.package)) {
      issues.push({ path: `${at}.package`, value: entry.package, problem: "is not a package name", fix: "give the package name as the scanner reports it, or remove package to match every package" });
    }
    const key = `${entry.id}\u0000${entry.package ?? ""}`;
    if (seen.has(key)) {
      issues.push({ path: `${at}.id`, value: entry.id, problem: `repeats ignore[${seen.get(key)}]`, fix: "keep one entry per id (and package)" });
    } else {
      seen.set(key, i);
    }
  });
  return issues;
}

/** Milliseconds at 00:00 UTC of a valid `YYYY-MM-DD`, else undefined. */
export function parseDay(text: string): number | undefined {
  const m = DATE.exec(text);
  if (m === null) {
    return undefined;
  }
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  const d = new Date(t);
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]) ? t : undefined;
}

/** One finding, whatever the scanner. */
export interface Finding {
  readonly id: string;
  readonly package: string;
  /** The source package (Debian) when the scanner says, else the package. */
  readonly sourcePackage: string;
  readonly installed: string;
  /** Fixed versions, empty when there is no fix. */
  readonly fixedIn: readonly string[];
  readonly severity: Severity;
}

/**
 * The reports of one multi-platform image's platforms as one report of the scanner's shape: the
 * first report with the findings of all of them (Grype's `matches`, Trivy's `Results`), so the
 * gate judges every platform and the attested report lists what each one has.
 */
export function mergeScanReports(scanner: Scanner, reports: readonly Record<string, any>[]): Record<string, any> {
  if (reports.length === 1) {
    return reports[0];
  }
  const key = scanner === "grype" ? "matches" : "Results";
  // Read each one first: a report that is not the scanner's fails here, not as a silent empty list.
  reports.forEach((r) => findingsOf(scanner, r));
  return { ...reports[0], [key]: reports.flatMap((r) => (Array.isArray(r[key]) ? r[key] : [])) };
}

/** Reads a scanner's JSON report. Throws an Error naming what is wrong when it is not one. */
export function findingsOf(scanner: Scanner, report: unknown): Finding[] {
  const r = report as Record<string, any>;
  if (scanner === "grype") {
    if (r === null || typeof r !== "object" || !Array.isArray(r.matches)) {
      throw new Error("not a Grype JSON report (no matches list)");
    }
    return r.matches.map((m: any) => {
      const v = m?.vulnerability ?? {};
      const a = m?.artifact ?? {};
      const fix = v.fix ?? {};
      return {
        id: String(v.id ?? ""),
        package: String(a.name ?? ""),
        sourcePackage: String(a.upstreams?.[0]?.name ?? a.name ?? ""),
        installed: String(a.version ?? ""),
        fixedIn: fix.state === "fixed" && Array.isArray(fix.versions) ? fix.versions.map(String) : [],
        severity: severityOf(v.severity),
      };
    });
  }
  if (r === null || typeof r !== "object" || (r.Results !== undefined && !Array.isArray(r.Results)) || r.SchemaVersion === undefined) {
    throw new Error("not a Trivy JSON report (no SchemaVersion/Results)");
  }
  return (r.Results ?? []).flatMap((res: any) =>
    (res?.Vulnerabilities ?? []).map((v: any) => ({
      id: String(v.VulnerabilityID ?? ""),
      package: String(v.PkgName ?? ""),
      sourcePackage: String(v.SrcName ?? v.PkgName ?? ""),
      installed: String(v.InstalledVersion ?? ""),
      fixedIn: typeof v.FixedVersion === "string" && v.FixedVersion !== "" ? v.FixedVersion.split(/,\s*/) : [],
      severity: severityOf(v.Severity),
    })),
  );
}

function severityOf(value: unknown): Severity {
  const s = String(value ?? "").toUpperCase();
  return (SEVERITIES as readonly string[]).includes(s) ? (s as Severity) : "UNKNOWN";
}

export interface IgnoredFinding {
  readonly finding: Finding;
  readonly reason: string;
  readonly expires: string;
}

export interface GateVerdict {
  readonly passed: boolean;
  readonly scanner: Scanner;
  readonly threshold: Threshold;
  readonly ignoreUnfixed: boolean;
  /** Findings at or above the threshold that nothing excuses: each one fails the gate. */
  readonly blocking: readonly Finding[];
  /** Findings at or above the threshold excused by an unexpired ignore entry, with its reason. */
  readonly ignored: readonly IgnoredFinding[];
  /** Findings at or above the threshold with no fix, let through by ignoreUnfixed. */
  readonly unfixed: readonly Finding[];
  /** Ignore entries whose expiry day has come: each one fails the gate until it is removed or renewed. */
  readonly expired: readonly IgnoreEntry[];
  /** How many findings were below the threshold. */
  readonly belowThreshold: number;
  /** The day the verdict was made (UTC), against which expiry is judged. */
  readonly day: string;
}

/** Applies the policy to the findings on `now` (expiry is judged by the UTC day). */
export function evaluateGate(findings: readonly Finding[], policy: GatePolicy, now: Date): GateVerdict {
  const threshold = policy.severity ?? GATE_DEFAULTS.severity;
  const ignoreUnfixed = policy.ignoreUnfixed ?? GATE_DEFAULTS.ignoreUnfixed;
  const day = now.toISOString().slice(0, 10);
  const today = parseDay(day) as number;
  const entries = policy.ignore ?? [];
  const expired = entries.filter((e) => (parseDay(e.expires) ?? -Infinity) <= today);
  const live = entries.filter((e) => !expired.includes(e));
  const min = SEVERITIES.indexOf(threshold);
  const blocking: Finding[] = [];
  const ignored: IgnoredFinding[] = [];
  const unfixed: Finding[] = [];
  let below = 0;
  for (const f of dedupe(findings)) {
    if (SEVERITIES.indexOf(f.severity) < min) {
      below += 1;
      continue;
    }
    const entry = live.find((e) => e.id === f.id && (e.package === undefined || e.package === f.package || e.package === f.sourcePackage));
    if (entry !== undefined) {
      ignored.push({ finding: f, reason: entry.reason, expires: entry.expires });
    } else if (ignoreUnfixed && f.fixedIn.length === 0) {
      unfixed.push(f);
    } else {
      blocking.push(f);
    }
  }
  return {
    passed: blocking.length === 0 && expired.length === 0,
    scanner: policy.scanner ?? GATE_DEFAULTS.scanner,
    threshold,
    ignoreUnfixed,
    blocking,
    ignored,
    unfixed,
    expired,
    belowThreshold: below,
    day,
  };
}

/** A scanner may list one finding once per location: one per (id, package, version) counts. */
function dedupe(findings: readonly Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.id}\u0000${f.package}\u0000${f.installed}`;
    if (seen.has(key)) {
      return false;
    }
    seen.add(key);
    return true;
  });
}

/** One line per reason the gate failed, for the step's last words and the summary. */
export function verdictProblems(v: GateVerdict): string[] {
  return [
    ...v.blocking.map((f) => `${f.id} (${f.severity}) in ${f.package} ${f.installed}${f.fixedIn.length > 0 ? `, fixed in ${f.fixedIn.join(", ")}` : ", no fix yet"}`),
    ...v.expired.map((e) => `ignore entry ${e.id}${e.package !== undefined ? ` (${e.package})` : ""} expired on ${e.expires}`),
  ];
}

/** The summary people read: `passed (2 ignored, 5 below HIGH)` or `FAILED: CVE-... (HIGH) in ...`. */
export function verdictSummary(v: GateVerdict): string {
  if (!v.passed) {
    const problems = verdictProblems(v);
    const fix = v.expired.length > 0 && v.blocking.length === 0
      ? "remove or renew the expired ignore entries"
      : "rebuild on a base with the fixed package versions, or add an ignore entry with a reason and an expiry date";
    return `FAILED: ${problems.length} problem(s): ${problems.slice(0, 5).join("; ")}${problems.length > 5 ? `; and ${problems.length - 5} more` : ""}. Fix: ${fix}`;
  }
  const notes = [
    v.ignored.length > 0 ? `${v.ignored.length} ignored (${v.ignored.map((i) => `${i.finding.id}: ${i.reason}, until ${i.expires}`).join("; ")})` : "",
    v.unfixed.length > 0 ? `${v.unfixed.length} without a fix let through` : "",
    `${v.belowThreshold} below ${v.threshold}`,
  ].filter((n) => n !== "");
  return `passed (${notes.join(", ")})`;
}
