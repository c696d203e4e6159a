/**
 * The pipeline's steps, defined once as data. The local runner (`golden`) executes them, the
 * CodeBuild and Kubernetes executors render the same list into their scripts.
 */
import { ResolvedImage } from "./resolve";

export const STEP_KINDS = ["render", "build", "push", "verify"] as const;
export type StepKind = (typeof STEP_KINDS)[number];

export interface StepTarget {
  /** `host/path` of the image's repository. */
  readonly repository: string;
  /** The immutable tag pushed besides the digest. */
  readonly tag: string;
  /** Where the rendered Dockerfile is written, relative to the working directory. */
  readonly dockerfile: string;
  /** Build context directory, relative to the working directory. */
  readonly context: string;
}

export interface PipelineStep {
  readonly kind: StepKind;
  readonly image: string;
  readonly description: string;
  /** The command, as argv; `docker` is resolved by the executor. Undefined for in-process steps. */
  readonly argv?: readonly string[];
}

export function imageSteps(image: ResolvedImage, target: StepTarget): PipelineStep[] {
  const ref = `${target.repository}:${target.tag}`;
  return [
    { kind: "render", image: image.name, description: `render and validate ${target.dockerfile}` },
    {
      kind: "build",
      image: image.name,
      description: `build ${ref}`,
      argv: [
        "docker",
        "build",
        "--file",
        target.dockerfile,
        "--tag",
        ref,
        "--build-arg",
        `SOURCE_DATE_EPOCH=${image.sourceDateEpoch}`,
        ...(image.platforms.length === 1 ? ["--platform", image.platforms[0]] : []),
        target.context,
      ],
    },
    { kind: "push", image: image.name, description: `push ${ref}`, argv: ["docker", "push", ref] },
    { kind: "verify", image: image.name, description: `check the registry serves ${ref} at the pushed digest` },
  ];
}

/** POSIX shell form of the steps that run commands, for executors that take a script. */
export function renderStepScript(steps: readonly PipelineStep[]): string {
  const lines = ["#!/bin/sh", "set -eu"];
  for (const step of steps) {
    lines.push(`# ${step.kind}: ${step.description}`);
    if (step.argv !== undefined) {
      lines.push(step.argv.map(shellQuote).join(" "));
    }
  }
  return `${lines.join("\n")}\n`;
}

export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}
