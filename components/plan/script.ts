/**
 * Renders a plan as one POSIX shell script: the form a CodeBuild buildspec or a Kubernetes Job
 * runs. Every step is a real command; a failing step stops the script (set -e), so nothing
 * after a failed gate runs and a failed image is never pushed or verified.
 */
import { assertPlan } from "./check";
import { TOOLS } from "./tools";
import { Plan, RESULT_REF, Step, TOOL_NAMES } from "./types";

export function renderPlanScript(plan: Plan): string {
  assertPlan(plan);
  const outputs = new Map(plan.steps.map((s) => [s.id, s.outputs]));
  const lines = [
    "#!/bin/sh",
    `# Rendered by pulumi-golden-image from a pipeline plan (${plan.steps.length} steps). Do not edit: change the specs instead.`,
    "# Runs in the project directory. Tools resolve through these variables (defaults: on PATH).",
    "set -eu",
    ...TOOL_NAMES.map((t) => `: "\${${TOOLS[t].env}:=${TOOLS[t].command}}"`),
    ...secretChecks(plan),
    ...SELECTION,
  ];
  let block: string | undefined;
  for (const step of plan.steps) {
    // Steps of one image run in one block, guarded by its repository (GOLDEN_ONLY_REPOSITORIES).
    if (step.repository !== block) {
      if (block !== undefined) {
        lines.push("", "fi");
      }
      if (step.repository !== undefined) {
        lines.push("", `if golden_selected ${shellQuote(step.repository)}; then`);
      }
      block = step.repository;
    }
    lines.push("", `# ${step.id}: ${step.description}`, `echo ${shellQuote(`== ${step.id}`)} >&2`);
    const dirs = new Set([...Object.keys(step.files), ...Object.values(step.outputs)].map(dirOf).filter((d) => d !== "."));
    if (dirs.size > 0) {
      lines.push(`mkdir -p ${[...dirs].sort().map(shellQuote).join(" ")}`);
    }
    for (const [file, content] of Object.entries(step.files).sort(([a], [b]) => (a < b ? -1 : 1))) {
      lines.push(`printf '%s' ${shellQuote(content)} > ${shellQuote(file)}`);
    }
    const env = Object.entries(step.run.env ?? {})
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${k}=${shellQuote(v)} `)
      .join("");
    const command = `${env}$${TOOLS[step.run.tool].env} ${step.run.args.map((a) => scriptWord(a, step, outputs)).join(" ")}`;
    if (step.runIf !== undefined) {
      const file = outputs.get(step.runIf.step)?.[step.runIf.output] as string;
      lines.push(`if [ "$(head -n 1 ${shellQuote(file)})" = ${shellQuote(step.runIf.equals)} ]; then`, `  ${command}`, `else`, `  echo ${shellQuote(`   ${step.id}: not run (${step.runIf.step} says otherwise)`)} >&2`, `fi`);
    } else {
      lines.push(command);
    }
  }
  if (block !== undefined) {
    lines.push("", "fi");
  }
  return `${lines.join("\n")}\n`;
}

/**
 * The executor's choice of images: GOLDEN_ONLY_REPOSITORIES (repository names or host/names,
 * separated by spaces or commas; e.g. the repository of an Inspector2 finding) runs only those
 * images; unset or empty runs every image.
 */
const SELECTION = [
  "# GOLDEN_ONLY_REPOSITORIES: run only the images of these repositories (names or host/names, space or comma separated); unset: all.",
  "golden_selected() {",
  '  [ -z "${GOLDEN_ONLY_REPOSITORIES:-}" ] && return 0',
  '  for golden_r in $(printf \'%s\' "$GOLDEN_ONLY_REPOSITORIES" | tr \',\' \' \'); do',
  '    case "$1" in "$golden_r" | */"$golden_r") return 0 ;; esac',
  "  done",
  '  echo "== skipping $1 (not in GOLDEN_ONLY_REPOSITORIES)" >&2',
  "  return 1",
  "}",
];

/** One argument as a shell word: literal text single-quoted, results read with `$(cat FILE)`. */
function scriptWord(arg: string, step: Step, outputs: Map<string, Readonly<Record<string, string>>>): string {
  const parts: string[] = [];
  let last = 0;
  for (const m of arg.matchAll(RESULT_REF)) {
    const index = m.index ?? 0;
    if (index > last) {
      parts.push(shellQuote(arg.slice(last, index)));
    }
    const file = outputs.get(m[1])?.[m[2]];
    if (file === undefined) {
      throw new Error(`step ${step.id}: no output ${m[2]} of ${m[1]}`);
    }
    parts.push(`"$(cat ${shellQuote(file)})"`);
    last = index + m[0].length;
  }
  if (last < arg.length || parts.length === 0) {
    parts.push(shellQuote(arg.slice(last)));
  }
  return parts.join("");
}

function dirOf(file: string): string {
  const i = file.lastIndexOf("/");
  return i <= 0 ? "." : file.slice(0, i);
}

/** A shell word that stands for exactly `word`: bare when it is plain, else single-quoted. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

/**
 * What the plan needs from the environment and never holds: keys named `env://NAME`, and the
 * password of a key pair. The script stops at once, naming the variable, when one is missing.
 */
/** The environment variables the plan's key references name (`env://NAME`), and COSIGN_PASSWORD
 *  when a key pair signs: what every executor must provide, from its secret store. Sorted. */
export function planEnvironmentNames(plan: Plan): string[] {
  const names = new Set<string>();
  let keyPair = false;
  for (const step of plan.steps) {
    step.run.args.forEach((arg, i) => {
      const m = /^env:\/\/([A-Z_][A-Z0-9_]*)$/.exec(arg);
      if (m !== null) {
        names.add(m[1]);
        if (step.run.tool === "cosign" && step.run.args[i - 1] === "--key" && ["sign", "attest"].includes(step.run.args[0])) {
          keyPair = true;
        }
      }
    });
  }
  if (keyPair) {
    names.add("COSIGN_PASSWORD");
  }
  return [...names].sort();
}

function secretChecks(plan: Plan): string[] {
  const names = planEnvironmentNames(plan);
  if (names.length === 0) {
    return [];
  }
  return [
    "# Secrets come from the environment only (the plan names them, never holds them).",
    ...names.map((n) => `: "\${${n}:?${n} is not set: the cosign key material reaches this script through the environment}"`),
  ];
}
