import * as pulumi from "@pulumi/pulumi";
import { formatIssues, ValidationError, ValidationIssue } from "./render/issues";

/**
 * A validation report thrown from a component or the stack. It is a Pulumi RunError, so the
 * CLI prints the report alone, without a stack trace.
 */
export class InvalidArgumentsError extends pulumi.RunError {
  public readonly issues: readonly ValidationIssue[];
  constructor(title: string, issues: readonly ValidationIssue[]) {
    super(formatIssues(title, issues));
    this.name = "InvalidArgumentsError";
    this.issues = issues;
  }
}

export function throwInvalid(title: string, issues: readonly ValidationIssue[]): void {
  if (issues.length > 0) {
    throw new InvalidArgumentsError(title, issues);
  }
}

/** Runs pure code that may throw a ValidationError and rethrows it as a RunError. */
export function asRunError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ValidationError) {
      throw new InvalidArgumentsError(e.message.split(" (")[0], e.issues);
    }
    throw e;
  }
}
