/**
 * The pipeline as data. A plan is a list of steps; each step names its tool and full argument
 * list, the files written before it runs and the result files it writes. Results pass between
 * steps through files (Tekton's `$(results.<name>.path)`), never by parsing a tool's stdout.
 * Executors run or render the same plan; they decide where a step runs, never what it does.
 */

/** Step kinds, in pipeline order. Adding a kind touches the planner and the tool map only.
 *  pin, render, build, push and verify build and push; with a supply chain, `decide` skips an
 *  image whose inputs equal its promoted ones, and the rest are SBOM, scan and gate, signature,
 *  attestations, their verification, and promotion. */
export const STEP_KINDS = [
  "pin",
  "render",
  "decide",
  "build",
  "push",
  "verify",
  "sbom",
  "scan",
  "assess",
  "gate",
  "attest-scan",
  "sign",
  "provenance",
  "attest-sbom",
  "attest-provenance",
  "verify-signature",
  "verify-sbom",
  "verify-scan",
  "verify-provenance",
  "promote",
] as const;
export type StepKind = (typeof STEP_KINDS)[number];

/** The programs steps run. Each executor resolves a name to a command (see tools.ts). */
export const TOOL_NAMES = ["golden", "buildctl", "skopeo", "cosign", "syft", "grype", "trivy"] as const;
export type ToolName = (typeof TOOL_NAMES)[number];

export interface StepRun {
  readonly tool: ToolName;
  /** Full argument list. `$(results.<step id>.<output>)` inside an argument stands for the
   *  trimmed content of that output file of an earlier step (a `needs` of this one). */
  readonly args: readonly string[];
  /** Environment the tool needs whatever the executor (never secrets), e.g. Syft's plain-HTTP
   *  switch for a loopback registry. @default {} */
  readonly env?: Readonly<Record<string, string>>;
}

export interface Step {
  /** Unique in the plan: `<image>:<kind>`. */
  readonly id: string;
  readonly kind: StepKind;
  /** The image (spec name) the step works on. */
  readonly image: string;
  /** `host/path` of the image's repository: executors select images by it (e.g. the repository
   *  of an Inspector2 finding). @default none (the step always runs) */
  readonly repository?: string;
  /** One line for people: what the step does. */
  readonly description: string;
  /** Step ids that must have succeeded before this one runs. */
  readonly needs: readonly string[];
  readonly run: StepRun;
  /** Files written before the step runs: path (relative to the working directory) -> content. */
  readonly files: Readonly<Record<string, string>>;
  /** Result files the step writes: name -> path (relative to the working directory). */
  readonly outputs: Readonly<Record<string, string>>;
  /** A gate: when it fails, nothing after it runs for this image and the image is not reported done. */
  readonly gate: boolean;
  /** Run only when the first line of this result (of a step it needs, directly or not) is `equals`;
   *  otherwise the step ends as `unchanged`: not run, not a failure. @default always run */
  readonly runIf?: StepCondition;
}

export interface StepCondition {
  readonly step: string;
  readonly output: string;
  readonly equals: string;
}

export interface Plan {
  /** Format version of this document. */
  readonly version: 1;
  readonly steps: readonly Step[];
}

/** `$(results.<step id>.<output>)`: matches a reference inside an argument. */
export const RESULT_REF = /\$\(results\.([^)\s]+)\.([A-Za-z][A-Za-z0-9_-]*)\)/g;

export function resultRef(step: string, output: string): string {
  return `$(results.${step}.${output})`;
}
