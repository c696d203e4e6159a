/**
 * Rebuild schedules for the two consumers that run a rebuild on a timer: EventBridge Scheduler
 * (`aws.scheduler.Schedule` scheduleExpression) and a Kubernetes CronJob (`.spec.schedule`).
 * Pure: each expression is checked against its own consumer's grammar, so an AWS-style cron never
 * reaches a CronJob (cdk8s-plus once shipped exactly that), and nothing runs more often than hourly.
 *
 * Grammars, as their consumers document and implement them:
 * - EventBridge Scheduler: `cron(minutes hours day-of-month month day-of-week year)` with `?` in
 *   exactly one day field, `L`/`W` in day-of-month, `L`/`#` in day-of-week (no `/` there), names
 *   in upper case; `rate(value unit)`; `at(yyyy-mm-ddThh:mm:ss)`.
 * - Kubernetes (robfig/cron `ParseStandard`): 5 fields, day-of-week 0-6 (robfig rejects 7), names
 *   in any case, `?` means `*`, the documented macros; `TZ=`/`CRON_TZ=` rejected (spec.timeZone).
 */
import { z } from "zod";
import { joinPath, throwIfIssues, ValidationIssue } from "../render/issues";
import { structuralIssues } from "../render/schema";

export const SCHEDULE_CONSUMERS = ["eventbridge", "kubernetes"] as const;
export type ScheduleConsumer = (typeof SCHEDULE_CONSUMERS)[number];

export interface RebuildScheduleArgs {
  /** When rebuilds run, in the consumer's grammar: `cron(0 3 * * ? *)`, `rate(1 day)` or
   *  `at(2030-01-15T03:00:00)` for EventBridge; `0 3 * * *` or `@daily` for Kubernetes.
   *  Required: no default (a default would silently run at some frequency). */
  readonly expression: string;
  /** IANA time zone the expression is evaluated in, e.g. "Europe/Berlin".
   *  @default "UTC" */
  readonly timezone?: string;
  /** EventBridge flexible time window in minutes (1-1440); "off" when absent. Not allowed for kubernetes. */
  readonly flexibleWindowMinutes?: number;
  /** Whether the schedule runs (EventBridge state ENABLED, CronJob `suspend: false`).
   *  @default true */
  readonly enabled?: boolean;
}

/** A validated schedule with its defaults applied: what the EventBridge and CronJob renderers take. */
export interface RebuildSchedule {
  readonly consumer: ScheduleConsumer;
  readonly expression: string;
  readonly timezone: string;
  readonly flexibleWindowMinutes?: number;
  readonly enabled: boolean;
  /**
   * Smallest interval between two runs, in minutes, computed from the minute and hour sets: exact
   * when every day matches, a lower bound when days are restricted (the day fields only thin the
   * runs out). `Infinity` for a one-time `at(...)` schedule.
   */
  readonly minIntervalMinutes: number;
}

export const REBUILD_SCHEDULE_DEFAULTS = { timezone: "UTC", enabled: true } as const;

/** A rebuild takes minutes and every run costs: nothing may fire more often than this. */
export const MIN_REBUILD_INTERVAL_MINUTES = 60;

/** A valid daily schedule (03:00) per consumer, shown in fixes. */
export const SCHEDULE_EXAMPLES: Readonly<Record<ScheduleConsumer, string>> = {
  eventbridge: "cron(0 3 * * ? *)",
  kubernetes: "0 3 * * *",
};

export const rebuildScheduleSchema = z.strictObject({
  expression: z.string(),
  timezone: z.string().optional(),
  flexibleWindowMinutes: z.number().optional(),
  enabled: z.boolean().optional(),
});
type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never] ? true : false;
void (true satisfies SameKeys<RebuildScheduleArgs, z.infer<typeof rebuildScheduleSchema>>);
void (rebuildScheduleSchema satisfies z.ZodType<RebuildScheduleArgs>);

const PROPERTIES = Object.keys(rebuildScheduleSchema.shape);

/** Every problem of a rebuild schedule at once, each naming the property, the value and the fix. */
export function scheduleIssues(value: unknown, consumer: ScheduleConsumer, path: string): ValidationIssue[] {
  return analyzeSchedule(value, consumer, path).issues;
}

/** The one way in: validates (throwing every problem at once) and applies the defaults. */
export function prepareRebuildSchedule(value: unknown, consumer: ScheduleConsumer, path = "schedule"): RebuildSchedule {
  const { issues, minIntervalMinutes } = analyzeSchedule(value, consumer, path);
  throwIfIssues("Invalid rebuild schedule", issues);
  const args = value as RebuildScheduleArgs;
  return {
    consumer,
    expression: args.expression,
    timezone: args.timezone ?? REBUILD_SCHEDULE_DEFAULTS.timezone,
    ...(args.flexibleWindowMinutes === undefined ? {} : { flexibleWindowMinutes: args.flexibleWindowMinutes }),
    enabled: args.enabled ?? REBUILD_SCHEDULE_DEFAULTS.enabled,
    minIntervalMinutes: minIntervalMinutes as number,
  };
}

// ---------------------------------------------------------------------------------------------
// The settings object

function analyzeSchedule(value: unknown, consumer: ScheduleConsumer, path: string): { issues: ValidationIssue[]; minIntervalMinutes?: number } {
  const example = SCHEDULE_EXAMPLES[consumer];
  if (value === undefined || value === null) {
    return { issues: [{ path, value, problem: "is required: a rebuild schedule has no default", fix: `set ${path}, e.g. { expression: "${example}" }` }] };
  }
  if (typeof value === "string") {
    return { issues: [{ path, value, problem: "must be an object, not a bare expression", fix: `give { expression: ${JSON.stringify(value)} }` }] };
  }
  if (typeof value !== "object" || Array.isArray(value)) {
    return { issues: [{ path, value, problem: "must be an object", fix: `give { expression: "${example}" }` }] };
  }
  const at = (k: string) => joinPath(path, k);
  // Structural problems first (types, unknown properties); a property with one is not checked further.
  const issues = structuralIssues(rebuildScheduleSchema, value, path).map((issue): ValidationIssue => {
    if (issue.path === path && Array.isArray(issue.value)) {
      return { ...issue, fix: `remove it or correct the spelling (a schedule takes ${PROPERTIES.join(", ")})` };
    }
    if (issue.path === at("expression") && issue.value === undefined) {
      return { ...issue, problem: "is required: a rebuild schedule has no default", fix: `set it, e.g. "${example}" (every day at 03:00)` };
    }
    return issue;
  });
  const structural = new Set(issues.map((i) => i.path));
  const s = Object.fromEntries(Object.entries(value).filter(([k]) => !structural.has(at(k))));
  let minIntervalMinutes: number | undefined;
  if (typeof s.expression === "string") {
    const analysis = expressionAnalysis(s.expression, consumer);
    issues.push(...analysis.findings.map((f) => ({ path: at("expression"), value: s.expression, ...f })));
    minIntervalMinutes = analysis.minIntervalMinutes;
  }
  if (typeof s.timezone === "string") {
    const fix = timezoneFix(s.timezone);
    if (fix !== undefined) {
      issues.push({ path: at("timezone"), value: s.timezone, problem: "is not an IANA time zone name", fix });
    }
  }
  if (typeof s.flexibleWindowMinutes === "number") {
    if (consumer !== "eventbridge") {
      issues.push({ path: at("flexibleWindowMinutes"), value: s.flexibleWindowMinutes, problem: `applies to eventbridge schedules only (the consumer is ${consumer})`, fix: "remove flexibleWindowMinutes" });
    } else if (!Number.isInteger(s.flexibleWindowMinutes) || s.flexibleWindowMinutes < 1 || s.flexibleWindowMinutes > 1440) {
      issues.push({ path: at("flexibleWindowMinutes"), value: s.flexibleWindowMinutes, problem: "must be a whole number of minutes from 1 to 1440", fix: "e.g. 15, or remove it to start on time (flexible time window off)" });
    }
  }
  return { issues, minIntervalMinutes };
}

/** Node 20's Intl.supportedValuesOf("timeZone") lists ICU's canonical names only: no "UTC" and
 *  no aliases such as "Asia/Kolkata" (it lists "Asia/Calcutta"), so UTC is added here and an alias
 *  is accepted when Intl resolves it and it is spelled like an IANA name (Area/Location). */
let knownZones: ReadonlySet<string> | undefined;
const IANA_NAME = /^[A-Z][A-Za-z0-9_+-]*(?:\/[A-Z][A-Za-z0-9_+-]*)+$/;

/** Undefined when the time zone is valid, else the fix. */
function timezoneFix(tz: string): string | undefined {
  knownZones ??= new Set([...Intl.supportedValuesOf("timeZone"), "UTC", "Etc/UTC"]);
  if (knownZones.has(tz)) {
    return undefined;
  }
  let resolved: string | undefined;
  try {
    resolved = new Intl.DateTimeFormat("en-US", { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    resolved = undefined;
  }
  if (resolved !== undefined && IANA_NAME.test(tz)) {
    return undefined;
  }
  const lower = tz.toLowerCase();
  const sameName = [...knownZones].find((z) => z.toLowerCase() === lower) ?? (resolved?.toLowerCase() === lower ? resolved : undefined);
  if (sameName !== undefined) {
    return `use "${sameName}" (time zone names are case-sensitive)`;
  }
  return 'use an IANA time zone name, e.g. "Europe/Berlin" or "UTC"';
}

// ---------------------------------------------------------------------------------------------
// Expressions

interface Finding {
  readonly problem: string;
  readonly fix: string;
}
/** Findings about an expression, and its smallest interval when it (or the form a fix suggests) is known. */
interface Analysis {
  readonly findings: Finding[];
  readonly minIntervalMinutes?: number;
}

function expressionAnalysis(raw: string, consumer: ScheduleConsumer): Analysis {
  const example = SCHEDULE_EXAMPLES[consumer];
  const findings: Finding[] = [];
  let expression = raw.trim();
  if (expression !== raw && expression !== "") {
    findings.push({ problem: "has leading or trailing whitespace", fix: `remove it: "${expression}"` });
  }
  const tz = /^(?:CRON_)?TZ=(\S*)\s*(.*)$/s.exec(expression);
  if (tz !== null) {
    const who = consumer === "kubernetes" ? "Kubernetes rejects it (the zone goes into .spec.timeZone)" : "EventBridge Scheduler takes the zone separately";
    const zone = tz[1] === "" ? "Europe/Berlin" : tz[1];
    findings.push({ problem: `sets the time zone inside the expression; ${who}`, fix: `remove "${expression.slice(0, expression.length - tz[2].length).trim()}" and set timezone: "${zone}"` });
    expression = tz[2];
  } else if (consumer === "kubernetes" && expression.includes("TZ")) {
    findings.push({ problem: 'contains "TZ", which Kubernetes rejects in a schedule', fix: "remove it and set the time zone with timezone" });
  }
  if (expression === "") {
    findings.push({ problem: "is empty: a rebuild schedule has no default", fix: `give an expression, e.g. "${example}" (every day at 03:00)` });
    return { findings };
  }
  const analysis = consumer === "eventbridge" ? eventBridgeExpression(expression) : kubernetesExpression(expression);
  findings.push(...analysis.findings);
  const interval = analysis.minIntervalMinutes;
  if (interval !== undefined && interval < MIN_REBUILD_INTERVAL_MINUTES) {
    findings.push(tooFrequent(interval, consumer));
  }
  return { findings, minIntervalMinutes: interval };
}

function tooFrequent(minutes: number, consumer: ScheduleConsumer): Finding {
  const every = minutes === 1 ? "minute" : `${minutes} minutes`;
  const examples = consumer === "eventbridge" ? '"rate(1 hour)", or daily, e.g. "cron(0 3 * * ? *)"' : '"0 * * * *", or daily, e.g. "0 3 * * *"';
  return {
    problem: `runs as often as every ${every}; rebuilds may run at most hourly (a rebuild takes minutes and every run costs)`,
    fix: `run hourly, e.g. ${examples}`,
  };
}

const CALL = /^(cron|rate|at)\((.*)\)$/s;

function eventBridgeExpression(expression: string): Analysis {
  const example = SCHEDULE_EXAMPLES.eventbridge;
  const call = CALL.exec(expression);
  if (call !== null) {
    const [, kind, inner] = call;
    if (kind === "rate") {
      return rateExpression(inner);
    }
    if (kind === "at") {
      return atExpression(inner);
    }
    const fields = splitFields(inner);
    if (fields.length === 6) {
      return eventBridgeCron(fields);
    }
    const converted = fields.length === 5 ? fromKubernetesFields(fields) : undefined;
    return {
      findings: [
        {
          problem: `has ${fields.length} field${fields.length === 1 ? "" : "s"} inside cron(...); EventBridge Scheduler needs 6: minutes hours day-of-month month day-of-week year`,
          fix: converted !== undefined ? `use "${converted.expression}"` : `e.g. "${example}" (? in day-of-month or day-of-week, then the year)`,
        },
      ],
      minIntervalMinutes: converted?.minIntervalMinutes,
    };
  }
  if (expression.startsWith("@")) {
    const expanded = KUBERNETES_MACROS[expression];
    const converted = expanded === undefined ? undefined : fromKubernetesFields(splitFields(expanded));
    return {
      findings: [
        {
          problem: "is a Kubernetes/Unix cron macro; EventBridge Scheduler has none",
          fix: converted !== undefined ? `use "${converted.expression}"` : `use cron(...), rate(...) or at(...), e.g. "${example}"`,
        },
      ],
      minIntervalMinutes: converted?.minIntervalMinutes,
    };
  }
  const fields = splitFields(expression);
  if (fields.length === 5) {
    const converted = fromKubernetesFields(fields);
    return {
      findings: [
        {
          problem: "is a 5-field Kubernetes/Unix cron; EventBridge Scheduler needs cron(minutes hours day-of-month month day-of-week year)",
          fix:
            converted !== undefined
              ? `use "${converted.expression}"`
              : `write it as cron(minutes hours day-of-month month day-of-week year) with ? in day-of-month or day-of-week, e.g. "${example}"`,
        },
      ],
      minIntervalMinutes: converted?.minIntervalMinutes,
    };
  }
  if (fields.length === 6 && eventBridgeCron(fields).findings.length === 0) {
    return { findings: [{ problem: "lacks the cron(...) around its 6 fields", fix: `write "cron(${fields.join(" ")})"` }] };
  }
  return {
    findings: [
      {
        problem: "is not an EventBridge Scheduler expression",
        fix: `use cron(minutes hours day-of-month month day-of-week year), rate(value unit) or at(yyyy-mm-ddThh:mm:ss), e.g. "${example}"`,
      },
    ],
  };
}

function kubernetesExpression(expression: string): Analysis {
  const example = SCHEDULE_EXAMPLES.kubernetes;
  if (expression.startsWith("@")) {
    const expanded = KUBERNETES_MACROS[expression];
    if (expanded !== undefined) {
      return kubernetesCron(splitFields(expanded));
    }
    return {
      findings: [
        {
          problem: `"${expression}" is not one of the CronJob macros`,
          fix: `use one of ${Object.keys(KUBERNETES_MACROS).join(", ")}, or 5 fields, e.g. "${example}"`,
        },
      ],
    };
  }
  const call = CALL.exec(expression);
  if (call !== null) {
    const [, kind, inner] = call;
    if (kind === "at") {
      return {
        findings: [
          {
            problem: "is an EventBridge one-time at(...) expression; a CronJob runs on a recurring schedule",
            fix: `give a recurring 5-field cron, e.g. "${example}", or start the rebuild once by hand`,
          },
        ],
      };
    }
    const converted = kind === "cron" ? fromEventBridgeFields(splitFields(inner)) : fromRate(inner);
    return {
      findings: [
        {
          problem: `is an EventBridge ${kind}(...) expression; a CronJob schedule is 5 fields: minute hour day-of-month month day-of-week`,
          fix: converted !== undefined ? `use "${converted.expression}"` : `write the 5 fields without cron(...), ? or a year, e.g. "${example}"`,
        },
      ],
      minIntervalMinutes: converted?.minIntervalMinutes,
    };
  }
  const fields = splitFields(expression);
  if (fields.length === 5) {
    return kubernetesCron(fields);
  }
  const converted = fields.length === 6 ? fromEventBridgeFields(fields) : undefined;
  return {
    findings: [
      {
        problem: `has ${fields.length} field${fields.length === 1 ? "" : "s"}; a CronJob schedule needs 5: minute hour day-of-month month day-of-week`,
        fix: converted !== undefined ? `use "${converted.expression}"` : `drop the seconds or year field, e.g. "${example}"`,
      },
    ],
    minIntervalMinutes: converted?.minIntervalMinutes,
  };
}

function splitFields(text: string): string[] {
  const trimmed = text.trim();
  return trimmed === "" ? [] : trimmed.split(/\s+/);
}

// ---------------------------------------------------------------------------------------------
// rate(...) and at(...)

const RATE_UNIT_MINUTES: Readonly<Record<string, number>> = { minute: 1, minutes: 1, hour: 60, hours: 60, day: 1440, days: 1440 };

function rateExpression(inner: string): Analysis {
  const fix = 'e.g. "rate(1 hour)" or "rate(12 hours)"';
  const parts = splitFields(inner);
  if (parts.length !== 2) {
    return { findings: [{ problem: "rate(...) needs a value and a unit", fix }] };
  }
  const [valueText, unit] = parts;
  const findings: Finding[] = [];
  const value = /^\d+$/.test(valueText) ? Number(valueText) : Number.NaN;
  if (!(value > 0)) {
    findings.push({ problem: `rate value "${valueText}" must be a positive whole number`, fix });
  }
  const perUnit = RATE_UNIT_MINUTES[unit];
  if (perUnit === undefined) {
    findings.push({ problem: `rate unit "${unit}" must be minute, hour or day (plural for a value above 1)`, fix });
  }
  if (findings.length > 0) {
    return { findings };
  }
  const singular = unit.replace(/s$/, "");
  if (value === 1 && unit !== singular) {
    findings.push({ problem: `rate(1 ${unit}) needs the singular unit for a value of 1`, fix: `write "rate(1 ${singular})"` });
  } else if (value > 1 && unit === singular) {
    findings.push({ problem: `rate(${value} ${unit}) needs the plural unit for a value above 1`, fix: `write "rate(${value} ${unit}s)"` });
  }
  return { findings, minIntervalMinutes: value * perUnit };
}

const DAYS_IN_MONTH = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function atExpression(inner: string): Analysis {
  const fix = 'e.g. "at(2030-01-15T03:00:00)"';
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(inner);
  if (m === null) {
    return { findings: [{ problem: "at(...) must hold a date-time yyyy-mm-ddThh:mm:ss", fix }] };
  }
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const monthDays = month === 2 && !leap ? 28 : DAYS_IN_MONTH[month];
  if (month < 1 || month > 12 || day < 1 || day > monthDays || hour > 23 || minute > 59 || second > 59) {
    return { findings: [{ problem: `at(...) date-time "${inner}" does not exist`, fix }] };
  }
  return { findings: [], minIntervalMinutes: Number.POSITIVE_INFINITY };
}

// ---------------------------------------------------------------------------------------------
// Cron fields

interface FieldRule {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** Names for min, min+1, ... (months from JAN, days from SUN). */
  readonly names?: readonly string[];
  /** The wildcards the field takes, for the fix. */
  readonly wildcards: string;
}

interface Grammar {
  readonly consumer: ScheduleConsumer;
  readonly fields: readonly FieldRule[];
  /** Kubernetes reads names in any case; EventBridge documents them in upper case. */
  readonly namesAnyCase: boolean;
}

const MONTH_NAMES = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAY_NAMES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

const EVENTBRIDGE: Grammar = {
  consumer: "eventbridge",
  namesAnyCase: false,
  fields: [
    { name: "minutes", min: 0, max: 59, wildcards: ", - * /" },
    { name: "hours", min: 0, max: 23, wildcards: ", - * /" },
    { name: "day-of-month", min: 1, max: 31, wildcards: ", - * ? / L W" },
    { name: "month", min: 1, max: 12, names: MONTH_NAMES, wildcards: ", - * /" },
    { name: "day-of-week", min: 1, max: 7, names: DAY_NAMES, wildcards: ", - * ? L #" },
    { name: "year", min: 1970, max: 2199, wildcards: ", - * /" },
  ],
};

const KUBERNETES: Grammar = {
  consumer: "kubernetes",
  namesAnyCase: true,
  fields: [
    { name: "minute", min: 0, max: 59, wildcards: ", - * /" },
    { name: "hour", min: 0, max: 23, wildcards: ", - * /" },
    { name: "day-of-month", min: 1, max: 31, wildcards: ", - * /" },
    { name: "month", min: 1, max: 12, names: MONTH_NAMES, wildcards: ", - * /" },
    { name: "day-of-week", min: 0, max: 6, names: DAY_NAMES, wildcards: ", - * /" },
  ],
};

/** The macros Kubernetes documents for .spec.schedule, as the 5 fields they stand for. */
const KUBERNETES_MACROS: Readonly<Record<string, string>> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

/** A parsed field: its values, whether it is unrestricted (`*`), `?`, or an L/W/# special. */
interface Field {
  readonly text: string;
  readonly values: readonly number[];
  readonly star: boolean;
  readonly question: boolean;
  readonly special: boolean;
}
interface FieldError {
  readonly problem: string;
  readonly fix?: string;
}
type FieldResult = Field | FieldError;

function isError(r: object | number): r is FieldError {
  return typeof r === "object" && "problem" in r;
}

function rangeText(rule: FieldRule): string {
  const names = rule.names === undefined ? "" : ` or ${rule.names[0]}-${rule.names[rule.names.length - 1]}`;
  return `${rule.min}-${rule.max}${names}`;
}

function fieldFix(rule: FieldRule, g: Grammar): string {
  return `give ${rule.name} ${rangeText(rule)} (with ${rule.wildcards}), e.g. "${SCHEDULE_EXAMPLES[g.consumer]}"`;
}

function parseValue(token: string, item: string, rule: FieldRule, g: Grammar): number | FieldError {
  if (/^\d+$/.test(token)) {
    const n = Number(token);
    if (n < rule.min || n > rule.max) {
      const sunday = g.consumer === "kubernetes" && rule.name === "day-of-week" && n === 7;
      return { problem: `${rule.name} value ${token} must be ${rangeText(rule)}`, fix: sunday ? "use 0 or SUN for Sunday: Kubernetes rejects 7" : undefined };
    }
    return n;
  }
  if (token === "") {
    return { problem: `${rule.name} "${item}" is not a value, range or step` };
  }
  if (rule.names !== undefined) {
    const index = rule.names.indexOf(g.namesAnyCase ? token.toUpperCase() : token);
    if (index >= 0) {
      return rule.min + index;
    }
    if (rule.names.includes(token.toUpperCase())) {
      return { problem: `${rule.name} value "${token}" must be upper case: ${token.toUpperCase()}` };
    }
  }
  return { problem: `${rule.name} value "${token}" is not a number${rule.names === undefined ? "" : " or a name"}` };
}

/** One comma-separated item: `*`, `n`, `a-b`, each optionally with `/step` (`n/step` runs to the maximum). */
function parseItem(item: string, rule: FieldRule, g: Grammar): { values: number[]; star: boolean } | FieldError {
  const parts = item.split("/");
  if (parts.length > 2) {
    return { problem: `${rule.name} "${item}" has more than one /` };
  }
  const [base, stepText] = parts;
  let step = 1;
  if (stepText !== undefined) {
    if (rule.wildcards.indexOf("/") < 0) {
      return { problem: `${rule.name} "${item}" uses /, which EventBridge Scheduler does not allow in ${rule.name}` };
    }
    step = /^\d+$/.test(stepText) ? Number(stepText) : 0;
    if (step < 1 || step > rule.max - rule.min) {
      return { problem: `${rule.name} step "${stepText}" must be 1-${rule.max - rule.min}` };
    }
  }
  let start: number;
  let end: number;
  // robfig/cron reads `?` as `*` in every field; EventBridge's `?` is handled before (day fields only).
  const star = base === "*" || (g.consumer === "kubernetes" && base === "?");
  if (star) {
    start = rule.min;
    end = rule.max;
  } else {
    const bounds = base.split("-");
    if (bounds.length > 2) {
      return { problem: `${rule.name} "${item}" is not a value, range or step` };
    }
    const a = parseValue(bounds[0], item, rule, g);
    if (isError(a)) {
      return a;
    }
    start = a;
    end = stepText === undefined ? a : rule.max;
    if (bounds.length === 2) {
      const b = parseValue(bounds[1], item, rule, g);
      if (isError(b)) {
        return b;
      }
      if (a > b) {
        return { problem: `${rule.name} range "${base}" runs backwards`, fix: `write the range low-high, or list the values across the wrap, e.g. "22,23,0,1"` };
      }
      end = b;
    }
  }
  const values: number[] = [];
  for (let v = start; v <= end; v += step) {
    values.push(v);
  }
  return { values, star: star && step === 1 };
}

/** EventBridge's day specials stand alone in their field: `L`, `15W`; `L`, `6L`, `2#1`. */
function eventBridgeDaySpecial(text: string, rule: FieldRule, g: Grammar): FieldResult | undefined {
  const special = (values: number[]): Field => ({ text, values, star: false, question: false, special: true });
  if (rule.name === "day-of-month" && /[LW]/.test(text)) {
    if (text === "L") {
      return special([]);
    }
    const w = /^(\d+)W$/.exec(text);
    if (w !== null) {
      const n = parseValue(w[1], text, rule, g);
      return isError(n) ? n : special([n]);
    }
    return { problem: `day-of-month "${text}": L and W stand alone (L, or a day with W such as 15W)` };
  }
  if (rule.name === "day-of-week" && /[L#]/.test(text)) {
    if (text === "L") {
      return special([7]);
    }
    const last = /^([^,#/-]+)L$/.exec(text);
    const nth = /^([^,#/-]+)#([^,#]*)$/.exec(text);
    const day = last ?? nth;
    if (day === null) {
      return { problem: `day-of-week "${text}": L and # stand alone (L, a day with L such as 6L, or day#n such as 2#1)` };
    }
    const n = parseValue(day[1], text, rule, g);
    if (isError(n)) {
      return n;
    }
    if (nth !== null && !/^[1-5]$/.test(nth[2])) {
      return { problem: `day-of-week "${text}": the occurrence after # must be 1-5` };
    }
    return special([n]);
  }
  return undefined;
}

function parseField(text: string, rule: FieldRule, g: Grammar): FieldResult {
  const isDay = rule.name === "day-of-month" || rule.name === "day-of-week";
  if (g.consumer === "eventbridge") {
    if (text === "?") {
      return isDay ? { text, values: [], star: false, question: true, special: false } : { problem: `${rule.name} cannot be ?: only day-of-month or day-of-week can` };
    }
    const special = isDay ? eventBridgeDaySpecial(text, rule, g) : undefined;
    if (special !== undefined) {
      return special;
    }
  }
  const values = new Set<number>();
  let star = false;
  for (const item of text.split(",")) {
    if (item === "") {
      return { problem: `${rule.name} "${text}" has an empty list item` };
    }
    const parsed = parseItem(item, rule, g);
    if (isError(parsed)) {
      return parsed;
    }
    parsed.values.forEach((v) => values.add(v));
    star ||= parsed.star;
  }
  return { text, values: [...values].sort((a, b) => a - b), star, question: false, special: false };
}

/** Parses every field; one finding per bad field. */
function parseFields(fields: readonly string[], g: Grammar): { parsed: Field[]; findings: Finding[] } {
  const parsed: Field[] = [];
  const findings: Finding[] = [];
  g.fields.forEach((rule, i) => {
    const r = parseField(fields[i], rule, g);
    if (isError(r)) {
      findings.push({ problem: r.problem, fix: r.fix ?? fieldFix(rule, g) });
    } else {
      parsed.push(r);
    }
  });
  return { parsed, findings };
}

/** The smallest gap between two runs over consecutive days where every day matches. */
function minIntervalOf(minutes: readonly number[], hours: readonly number[]): number {
  const times = hours.flatMap((h) => minutes.map((m) => h * 60 + m)).sort((a, b) => a - b);
  let smallest = times[0] + 1440 - times[times.length - 1];
  for (let i = 1; i < times.length; i++) {
    smallest = Math.min(smallest, times[i] - times[i - 1]);
  }
  return smallest;
}

/** A day-of-month that no chosen month has never fires (`30` in FEB); checked when days are not OR-ed with weekdays. */
function neverRuns(dom: Field, month: Field, g: Grammar): Finding | undefined {
  if (dom.special || dom.question || dom.star) {
    return undefined;
  }
  if (month.values.some((m) => dom.values.some((d) => d <= DAYS_IN_MONTH[m]))) {
    return undefined;
  }
  const last = g.consumer === "eventbridge" ? ", or L for the last day of the month" : "";
  return {
    problem: `never runs: day-of-month "${dom.text}" does not occur in month "${month.text}"`,
    fix: `pick a day that the chosen months have${last}, e.g. "${SCHEDULE_EXAMPLES[g.consumer]}"`,
  };
}

function eventBridgeCron(fields: readonly string[]): Analysis {
  const { parsed, findings } = parseFields(fields, EVENTBRIDGE);
  if (findings.length > 0) {
    return { findings };
  }
  const [minutes, hours, dom, month, dow] = parsed;
  if (dom.question === dow.question) {
    const fixed = [...fields];
    if (dom.question) {
      fixed[2] = "*";
    } else if (dow.text === "*") {
      fixed[4] = "?";
    } else if (dom.text === "*") {
      fixed[2] = "?";
    }
    const which = dom.question ? "are both ?" : "are both set";
    const suggestion = fixed.join(" ") !== fields.join(" ") ? `use "cron(${fixed.join(" ")})"` : `put ? in day-of-month or day-of-week, e.g. "cron(0 3 ? * MON *)" (Mondays)`;
    return { findings: [{ problem: `day-of-month and day-of-week ${which}; EventBridge Scheduler needs ? in exactly one of them`, fix: suggestion }] };
  }
  const never = dow.question ? neverRuns(dom, month, EVENTBRIDGE) : undefined;
  return { findings: never === undefined ? [] : [never], minIntervalMinutes: minIntervalOf(minutes.values, hours.values) };
}

function kubernetesCron(fields: readonly string[]): Analysis {
  const { parsed, findings } = parseFields(fields, KUBERNETES);
  if (findings.length > 0) {
    return { findings };
  }
  const [minute, hour, dom, month, dow] = parsed;
  // robfig/cron: the day fields are AND-ed when either is `*` (or `?`), else OR-ed.
  const never = dow.star ? neverRuns(dom, month, KUBERNETES) : undefined;
  return { findings: never === undefined ? [] : [never], minIntervalMinutes: minIntervalOf(minute.values, hour.values) };
}

// ---------------------------------------------------------------------------------------------
// The other consumer's grammar: convert when the meaning carries over unchanged

interface Conversion {
  readonly expression: string;
  readonly minIntervalMinutes?: number;
}

const isAny = (text: string) => text === "*" || text === "?";

/** Maps the numbers of a day-of-week list (no steps), keeping names: Kubernetes 0-6 <-> EventBridge 1-7. */
function shiftWeekdays(text: string, by: number): string | undefined {
  if (text.includes("/")) {
    return undefined;
  }
  return text
    .split(",")
    .map((item) =>
      item
        .split("-")
        .map((v) => (/^\d+$/.test(v) ? String((Number(v) + by + 7) % 7 || (by > 0 ? 7 : 0)) : v.toUpperCase()))
        .join("-"),
    )
    .join(",");
}

/** A 5-field cron as EventBridge's cron(...), when it parses and its day fields are not OR-ed. */
function fromKubernetesFields(fields: readonly string[]): Conversion | undefined {
  if (fields.length !== 5 || parseFields(fields, KUBERNETES).findings.length > 0) {
    return undefined;
  }
  const [minute, hour, dom, month, dow] = fields.map((f) => f.replace(/\?/g, "*"));
  let days: [string, string];
  if (isAny(dow)) {
    days = [dom, "?"];
  } else if (isAny(dom)) {
    const shifted = shiftWeekdays(dow, 1);
    if (shifted === undefined) {
      return undefined;
    }
    days = ["?", shifted];
  } else {
    return undefined;
  }
  const eb = [minute, hour, days[0], month.toUpperCase(), days[1], "*"];
  const analysis = eventBridgeCron(eb);
  return analysis.findings.length > 0 ? undefined : { expression: `cron(${eb.join(" ")})`, minIntervalMinutes: analysis.minIntervalMinutes };
}

/** EventBridge cron fields as a 5-field cron, when they parse, set at most one day field and use no year, L, W or #. */
function fromEventBridgeFields(fields: readonly string[]): Conversion | undefined {
  if (fields.length !== 6 || fields[5] !== "*") {
    return undefined;
  }
  const { parsed, findings } = parseFields(fields, EVENTBRIDGE);
  if (findings.length > 0 || parsed[2].special || parsed[4].special) {
    return undefined;
  }
  const [minute, hour, dom, month, dow] = fields;
  if (!isAny(dom) && !isAny(dow)) {
    // Both day fields set is invalid for EventBridge, and a CronJob would OR them: no safe reading.
    return undefined;
  }
  const weekdays = isAny(dow) ? "*" : shiftWeekdays(dow, -1);
  if (weekdays === undefined) {
    return undefined;
  }
  const k8s = [minute, hour, isAny(dom) ? "*" : dom, month, weekdays];
  const analysis = kubernetesCron(k8s);
  return analysis.findings.length > 0 ? undefined : { expression: k8s.join(" "), minIntervalMinutes: analysis.minIntervalMinutes };
}

/** rate(...) as a 5-field cron when the rate divides the hour or the day evenly. */
function fromRate(inner: string): Conversion | undefined {
  const m = /^(\d+) (minutes?|hours?|days?)$/.exec(inner.trim());
  if (m === null) {
    return undefined;
  }
  const minutes = Number(m[1]) * RATE_UNIT_MINUTES[m[2]];
  let expression: string | undefined;
  if (minutes > 0 && minutes < 60 && 60 % minutes === 0) {
    expression = `*/${minutes} * * * *`;
  } else if (minutes === 60) {
    expression = "0 * * * *";
  } else if (minutes > 60 && minutes < 1440 && minutes % 60 === 0 && 24 % (minutes / 60) === 0) {
    expression = `0 */${minutes / 60} * * *`;
  } else if (minutes === 1440) {
    expression = "0 0 * * *";
  }
  return expression === undefined ? undefined : { expression, minIntervalMinutes: minutes };
}
