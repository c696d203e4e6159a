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

/** One line per issue, whatever the input held: control characters and line separators are escaped. */
export function formatIssue(issue: ValidationIssue): string {
  return oneLine(`${issue.path}: ${issue.problem} (value: ${describeValue(issue.value)}). Fix: ${issue.fix}`);
}

/** Escapes what would break a report line or a terminal: C0/C1 controls, DEL, U+2028/U+2029. */
export function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
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

/** An identifier: joined with a dot. */
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
/** A bracketed map key as joinKey writes it: `["..."]` holding a JSON string. */
const BRACKET_KEY = String.raw`\["(?:[^"\\]|\\.)*"\]`;
/** A relative property path, e.g. `lifecycle.keepReleases`, `images[0].labels["com.example.team"]`, `[2].name`. */
const RELATIVE_PATH = new RegExp(String.raw`^(?:[A-Za-z_$][A-Za-z0-9_$]*|\[\d+\]|${BRACKET_KEY})(?:\.[A-Za-z_$][A-Za-z0-9_$]*|\[\d+\]|${BRACKET_KEY})*$`);
/** A well-formed issue path, optionally under a config namespace (`golden-images:registry.lifecycle.keepReleases`). */
export const WELL_FORMED_PATH = new RegExp(
  String.raw`^(?:[a-z][a-z0-9-]*:)?(?:[A-Za-z_$][A-Za-z0-9_$]*|${BRACKET_KEY})(?:\.[A-Za-z_$][A-Za-z0-9_$]*|\[\d+\]|${BRACKET_KEY})*$`,
);
/** Map keys longer than this are shortened in paths (the value itself is in the report). */
const MAX_KEY_IN_PATH = 64;

/**
 * Appends a property to a path: a number is an index (`base[0]`); a string is a property name or
 * a relative path from a nested validator (`base.lifecycle.keepReleases`), so a component can
 * prefix the issues of the validators it calls. Keys of user maps (labels, env) go through
 * joinKey, which always brackets what is not an identifier.
 */
export function joinPath(base: string, key: string | number): string {
  if (typeof key === "number") {
    return `${base}[${key}]`;
  }
  if (IDENTIFIER.test(key)) {
    return base === "" ? key : `${base}.${key}`;
  }
  if (RELATIVE_PATH.test(key)) {
    return base === "" || key.startsWith("[") ? `${base}${key}` : `${base}.${key}`;
  }
  return joinKey(base, key);
}

/** Appends a key of a user map: `base.NAME` for identifiers, else `base["com.example.team"]`. */
export function joinKey(base: string, key: string | number): string {
  if (typeof key === "number") {
    return `${base}[${key}]`;
  }
  if (key.length > MAX_KEY_IN_PATH) {
    return `${base}[${JSON.stringify(`${key.slice(0, MAX_KEY_IN_PATH - 3)}...`)}]`;
  }
  if (IDENTIFIER.test(key)) {
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
