/** One problem found in user input: where, what was there, what is wrong, how to fix it. */
export interface ValidationIssue {
  /** Property path, e.g. `images[1].builders[0].name`. */
  readonly path: string;
  readonly value: unknown;
  readonly problem: string;
  readonly fix: string;
}

/** Every problem at once, in one report; thrown before any resource is created. */
export class ValidationError extends Error {
  public readonly issues: readonly ValidationIssue[];
  /** Pulumi's brand for a RunError (checked by duck typing): the CLI then prints the report
   *  alone, without a stack trace, and this layer stays free of Pulumi imports. */
  public readonly __pulumiRunError = true;
  constructor(title: string, issues: readonly ValidationIssue[]) {
    super(formatIssues(title, issues));
    this.name = "ValidationError";
    this.issues = issues;
  }
}

export function formatIssue(issue: ValidationIssue): string {
  return `${issue.path}: ${issue.problem} (value: ${describeValue(issue.value)}). Fix: ${issue.fix}`;
}

export function formatIssues(title: string, issues: readonly ValidationIssue[]): string {
  const count = issues.length === 1 ? "1 problem" : `${issues.length} problems`;
  return [`${title} (${count}):`, ...issues.map((i) => `  - ${formatIssue(i)}`)].join("\n");
}

/** Throws a ValidationError when there is any issue. */
export function throwIfIssues(title: string, issues: readonly ValidationIssue[]): void {
  if (issues.length > 0) {
    throw new ValidationError(title, issues);
  }
}

export function joinPath(base: string, key: string | number): string {
  if (typeof key === "number") {
    return `${base}[${key}]`;
  }
  if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key)) {
    return base === "" ? key : `${base}.${key}`;
  }
  return `${base}[${JSON.stringify(key)}]`;
}

function describeValue(value: unknown): string {
  if (value === undefined) {
    return "not set";
  }
  try {
    const text = JSON.stringify(value);
    if (text === undefined) {
      return String(value);
    }
    return text.length > 120 ? `${text.slice(0, 117)}...` : text;
  } catch {
    return String(value);
  }
}
