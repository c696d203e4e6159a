/**
 * Structural checks of a plan, shared by every executor before it runs or renders anything:
 * unique ids, known needs that come earlier, result references only to outputs of needs.
 */
import { TOOLS } from "./tools";
import { Plan, RESULT_REF, Step } from "./types";

export function planProblems(plan: Plan): string[] {
  const problems: string[] = [];
  const seen = new Map<string, Step>();
  /** Every step a step waits for, directly or through its needs. */
  const ancestors = new Map<string, Set<string>>();
  for (const step of plan.steps) {
    const mine = new Set<string>();
    for (const need of step.needs) {
      mine.add(need);
      for (const a of ancestors.get(need) ?? []) {
        mine.add(a);
      }
    }
    ancestors.set(step.id, mine);
    if (seen.has(step.id)) {
      problems.push(`step ${step.id}: duplicate id`);
    }
    if (!(step.run.tool in TOOLS)) {
      problems.push(`step ${step.id}: unknown tool "${step.run.tool}"`);
    }
    for (const need of step.needs) {
      if (!seen.has(need)) {
        problems.push(`step ${step.id}: needs "${need}", which is not an earlier step`);
      }
    }
    for (const arg of step.run.args) {
      for (const m of arg.matchAll(RESULT_REF)) {
        const [, ref, output] = m;
        if (!mine.has(ref)) {
          problems.push(`step ${step.id}: uses a result of "${ref}", which it does not need (directly or through its needs)`);
        } else if (!(output in (seen.get(ref)?.outputs ?? {}))) {
          problems.push(`step ${step.id}: "${ref}" has no output "${output}"`);
        }
      }
    }
    if (step.runIf !== undefined) {
      const { step: on, output } = step.runIf;
      if (!mine.has(on)) {
        problems.push(`step ${step.id}: runs on a result of "${on}", which it does not need (directly or through its needs)`);
      } else if (!(output in (seen.get(on)?.outputs ?? {}))) {
        problems.push(`step ${step.id}: "${on}" has no output "${output}" to run on`);
      }
    }
    for (const name of Object.keys(step.run.env ?? {})) {
      if (!/^[A-Z_][A-Z0-9_]*$/.test(name)) {
        problems.push(`step ${step.id}: environment variable name "${name}" is not NAME (A-Z, 0-9, _)`);
      }
    }
    for (const p of [...Object.keys(step.files), ...Object.values(step.outputs)]) {
      if (p.startsWith("/") || p.split("/").includes("..") || p.includes("\0")) {
        problems.push(`step ${step.id}: path "${p}" leaves the working directory`);
      }
    }
    seen.set(step.id, step);
  }
  return problems;
}

export function assertPlan(plan: Plan): void {
  const problems = planProblems(plan);
  if (problems.length > 0) {
    throw new Error(`Invalid plan (${problems.length} problem(s)):\n  - ${problems.join("\n  - ")}`);
  }
}

/** Replaces every result reference with the value `lookup` gives for (step id, output). */
export function substituteResults(arg: string, lookup: (step: string, output: string) => string): string {
  return arg.replace(RESULT_REF, (_m, step: string, output: string) => lookup(step, output));
}
