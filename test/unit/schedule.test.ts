/**
 * Rebuild schedules: each consumer's grammar (EventBridge Scheduler, Kubernetes CronJob), hints
 * for the other consumer's grammar, the hourly floor, and a property test comparing the computed
 * interval with a brute-force walk over two days.
 */
import fc from "fast-check";
import { formatIssue, ValidationError, ValidationIssue, WELL_FORMED_PATH } from "../../components/render/issues";
import {
  MIN_REBUILD_INTERVAL_MINUTES,
  prepareRebuildSchedule,
  REBUILD_SCHEDULE_DEFAULTS,
  SCHEDULE_CONSUMERS,
  SCHEDULE_EXAMPLES,
  ScheduleConsumer,
  scheduleIssues,
} from "../../components/rebuild/schedule";

/** One seed for every property of this file, printed so any failure replays (GOLDEN_FC_SEED, PROPERTY_RUNS). */
const SEED = process.env.GOLDEN_FC_SEED !== undefined && process.env.GOLDEN_FC_SEED !== "" ? Number(process.env.GOLDEN_FC_SEED) | 0 : Date.now() | 0;
const RUNS = { numRuns: Number(process.env.PROPERTY_RUNS ?? 200), seed: SEED };

beforeAll(() => {
  console.log(`schedule property tests: GOLDEN_FC_SEED=${SEED} PROPERTY_RUNS=${RUNS.numRuns}`);
});

const EB_EXAMPLE = '"cron(0 3 * * ? *)"';
const K8S_EXAMPLE = '"0 3 * * *"';
const EB_FREQUENT_FIX = 'run hourly, e.g. "rate(1 hour)", or daily, e.g. "cron(0 3 * * ? *)"';
const K8S_FREQUENT_FIX = 'run hourly, e.g. "0 * * * *", or daily, e.g. "0 3 * * *"';
const frequent = (every: string) => `runs as often as every ${every}; rebuilds may run at most hourly (a rebuild takes minutes and every run costs)`;

/** The expression's issues as [problem, fix]; each must sit on schedule.expression with the expression as value. */
function expressionProblems(expression: string, consumer: ScheduleConsumer): [string, string][] {
  const issues = scheduleIssues({ expression }, consumer, "schedule");
  for (const issue of issues) {
    expect([issue.path, issue.value]).toEqual(["schedule.expression", expression]);
  }
  return issues.map((i) => [i.problem, i.fix]);
}

describe("valid schedules", () => {
  describe.each<[ScheduleConsumer, string, number]>([
    ["eventbridge", "cron(0 3 * * ? *)", 1440],
    ["eventbridge", "cron(0 */2 * * ? *)", 120],
    ["eventbridge", "cron(15 9-17 ? * MON-FRI *)", 60],
    ["eventbridge", "cron(30 1/6 * * ? *)", 360],
    ["eventbridge", "cron(0 22,23,0,1 * * ? *)", 60],
    ["eventbridge", "cron(0 0 1 JAN-JUN ? 2030-2035)", 1440],
    ["eventbridge", "cron(0 0 1 */3 ? 2030/2)", 1440],
    ["eventbridge", "cron(0 6,18 L * ? *)", 720],
    ["eventbridge", "cron(0 3 15W * ? *)", 1440],
    ["eventbridge", "cron(0 3 ? * L *)", 1440],
    ["eventbridge", "cron(0 3 ? * 6L *)", 1440],
    ["eventbridge", "cron(0 3 ? * FRIL *)", 1440],
    ["eventbridge", "cron(0 3 ? * 2#1 *)", 1440],
    ["eventbridge", "cron(0 3 ? * SUN,7 *)", 1440],
    ["eventbridge", "cron(0 3 29 FEB ? *)", 1440],
    ["eventbridge", "rate(1 hour)", 60],
    ["eventbridge", "rate(60 minutes)", 60],
    ["eventbridge", "rate(90 minutes)", 90],
    ["eventbridge", "rate(12 hours)", 720],
    ["eventbridge", "rate(1 day)", 1440],
    ["eventbridge", "rate(7 days)", 10080],
    ["eventbridge", "at(2030-01-15T03:00:00)", Number.POSITIVE_INFINITY],
    ["eventbridge", "at(2028-02-29T23:59:59)", Number.POSITIVE_INFINITY],
    ["kubernetes", "0 3 * * *", 1440],
    ["kubernetes", "0 */6 * * *", 360],
    ["kubernetes", "0 5/6 * * *", 360],
    ["kubernetes", "30 9-17 * * 1-5", 60],
    ["kubernetes", "0 0 1 jan,Jul *", 1440],
    ["kubernetes", "0 12 * * SUN", 1440],
    ["kubernetes", "0 12 * * Mon-Fri", 1440],
    ["kubernetes", "0 3 ? * 0", 1440],
    ["kubernetes", "0 0 13 * 5", 1440],
    ["kubernetes", "0 0,12 * * *", 720],
    ["kubernetes", "0 3 31 * *", 1440],
    ["kubernetes", "@yearly", 1440],
    ["kubernetes", "@annually", 1440],
    ["kubernetes", "@monthly", 1440],
    ["kubernetes", "@weekly", 1440],
    ["kubernetes", "@daily", 1440],
    ["kubernetes", "@midnight", 1440],
    ["kubernetes", "@hourly", 60],
  ])("GIVEN the %s expression %j", (consumer, expression, minIntervalMinutes) => {
    it(`THEN it has no issue and runs at most every ${minIntervalMinutes} minutes`, () => {
      // WHEN
      const issues = scheduleIssues({ expression }, consumer, "schedule");
      const schedule = prepareRebuildSchedule({ expression }, consumer);
      // THEN
      expect(issues).toEqual([]);
      expect(schedule).toEqual({ consumer, expression, timezone: "UTC", enabled: true, minIntervalMinutes });
    });
  });

  it("GIVEN no timezone and no enabled WHEN prepared THEN the documented defaults are the applied ones", () => {
    // GIVEN / WHEN
    const schedule = prepareRebuildSchedule({ expression: "0 3 * * *" }, "kubernetes");
    // THEN
    expect(REBUILD_SCHEDULE_DEFAULTS).toEqual({ timezone: "UTC", enabled: true });
    expect(schedule.timezone).toBe(REBUILD_SCHEDULE_DEFAULTS.timezone);
    expect(schedule.enabled).toBe(REBUILD_SCHEDULE_DEFAULTS.enabled);
    expect("flexibleWindowMinutes" in schedule).toBe(false);
  });

  it("GIVEN every property set WHEN prepared for eventbridge THEN each given value is kept", () => {
    // GIVEN
    const args = { expression: "cron(0 3 * * ? *)", timezone: "Europe/Berlin", flexibleWindowMinutes: 15, enabled: false };
    // WHEN
    const schedule = prepareRebuildSchedule(args, "eventbridge");
    // THEN
    expect(schedule).toEqual({ consumer: "eventbridge", ...args, minIntervalMinutes: 1440 });
  });

  it("GIVEN the examples shown in fixes WHEN validated THEN each is valid for its consumer", () => {
    for (const consumer of SCHEDULE_CONSUMERS) {
      expect(scheduleIssues({ expression: SCHEDULE_EXAMPLES[consumer] }, consumer, "schedule")).toEqual([]);
    }
  });
});

describe("invalid EventBridge expressions", () => {
  const fieldFix = (field: string, range: string, wildcards: string) => `give ${field} ${range} (with ${wildcards}), e.g. ${EB_EXAMPLE}`;
  const SIX = "EventBridge Scheduler needs 6: minutes hours day-of-month month day-of-week year";
  it.each<[string, string, string]>([
    ["cron(60 3 * * ? *)", "minutes value 60 must be 0-59", fieldFix("minutes", "0-59", ", - * /")],
    ["cron(0 25 * * ? *)", "hours value 25 must be 0-23", fieldFix("hours", "0-23", ", - * /")],
    ["cron(0 3 32 * ? *)", "day-of-month value 32 must be 1-31", fieldFix("day-of-month", "1-31", ", - * ? / L W")],
    ["cron(0 3 0 * ? *)", "day-of-month value 0 must be 1-31", fieldFix("day-of-month", "1-31", ", - * ? / L W")],
    ["cron(0 3 * 13 ? *)", "month value 13 must be 1-12 or JAN-DEC", fieldFix("month", "1-12 or JAN-DEC", ", - * /")],
    ["cron(0 3 * JANUARY ? *)", 'month value "JANUARY" is not a number or a name', fieldFix("month", "1-12 or JAN-DEC", ", - * /")],
    ["cron(0 3 ? * 0 *)", "day-of-week value 0 must be 1-7 or SUN-SAT", fieldFix("day-of-week", "1-7 or SUN-SAT", ", - * ? L #")],
    ["cron(0 3 ? * 8 *)", "day-of-week value 8 must be 1-7 or SUN-SAT", fieldFix("day-of-week", "1-7 or SUN-SAT", ", - * ? L #")],
    ["cron(0 3 ? * mon *)", 'day-of-week value "mon" must be upper case: MON', fieldFix("day-of-week", "1-7 or SUN-SAT", ", - * ? L #")],
    ["cron(0 3 ? * MON/2 *)", 'day-of-week "MON/2" uses /, which EventBridge Scheduler does not allow in day-of-week', fieldFix("day-of-week", "1-7 or SUN-SAT", ", - * ? L #")],
    ["cron(0 3 ? * 2#6 *)", 'day-of-week "2#6": the occurrence after # must be 1-5', fieldFix("day-of-week", "1-7 or SUN-SAT", ", - * ? L #")],
    ["cron(0 3 ? * 2#1,3#2 *)", 'day-of-week "2#1,3#2": L and # stand alone (L, a day with L such as 6L, or day#n such as 2#1)', fieldFix("day-of-week", "1-7 or SUN-SAT", ", - * ? L #")],
    ["cron(0 3 ? * 9L *)", "day-of-week value 9 must be 1-7 or SUN-SAT", fieldFix("day-of-week", "1-7 or SUN-SAT", ", - * ? L #")],
    ["cron(0 3 1,L * ? *)", 'day-of-month "1,L": L and W stand alone (L, or a day with W such as 15W)', fieldFix("day-of-month", "1-31", ", - * ? / L W")],
    ["cron(0 3 32W * ? *)", "day-of-month value 32 must be 1-31", fieldFix("day-of-month", "1-31", ", - * ? / L W")],
    ["cron(0 3 * * ? 2200)", "year value 2200 must be 1970-2199", fieldFix("year", "1970-2199", ", - * /")],
    ["cron(0 3 * * ? 1969-2030)", "year value 1969 must be 1970-2199", fieldFix("year", "1970-2199", ", - * /")],
    ["cron(? 3 * * ? *)", "minutes cannot be ?: only day-of-month or day-of-week can", fieldFix("minutes", "0-59", ", - * /")],
    ["cron(0 */0 * * ? *)", 'hours step "0" must be 1-23', fieldFix("hours", "0-23", ", - * /")],
    ["cron(0 */24 * * ? *)", 'hours step "24" must be 1-23', fieldFix("hours", "0-23", ", - * /")],
    ["cron(0 1/2/3 * * ? *)", 'hours "1/2/3" has more than one /', fieldFix("hours", "0-23", ", - * /")],
    ["cron(0 1-2-3 * * ? *)", 'hours "1-2-3" is not a value, range or step', fieldFix("hours", "0-23", ", - * /")],
    ["cron(0 -3 * * ? *)", 'hours "-3" is not a value, range or step', fieldFix("hours", "0-23", ", - * /")],
    ["cron(0 1,,2 * * ? *)", 'hours "1,,2" has an empty list item', fieldFix("hours", "0-23", ", - * /")],
    ["cron(0 20-4 * * ? *)", 'hours range "20-4" runs backwards', 'write the range low-high, or list the values across the wrap, e.g. "22,23,0,1"'],
    ["cron(0 3 * * * *)", "day-of-month and day-of-week are both set; EventBridge Scheduler needs ? in exactly one of them", 'use "cron(0 3 * * ? *)"'],
    ["cron(0 3 1 * * *)", "day-of-month and day-of-week are both set; EventBridge Scheduler needs ? in exactly one of them", 'use "cron(0 3 1 * ? *)"'],
    ["cron(0 3 * * MON *)", "day-of-month and day-of-week are both set; EventBridge Scheduler needs ? in exactly one of them", 'use "cron(0 3 ? * MON *)"'],
    ["cron(0 3 1 * MON *)", "day-of-month and day-of-week are both set; EventBridge Scheduler needs ? in exactly one of them", 'put ? in day-of-month or day-of-week, e.g. "cron(0 3 ? * MON *)" (Mondays)'],
    ["cron(0 3 ? * ? *)", "day-of-month and day-of-week are both ?; EventBridge Scheduler needs ? in exactly one of them", 'use "cron(0 3 * * ? *)"'],
    ["cron(0 3 30,31 FEB ? *)", 'never runs: day-of-month "30,31" does not occur in month "FEB"', `pick a day that the chosen months have, or L for the last day of the month, e.g. ${EB_EXAMPLE}`],
    ["cron(0 3 31 4,6,9,11 ? *)", 'never runs: day-of-month "31" does not occur in month "4,6,9,11"', `pick a day that the chosen months have, or L for the last day of the month, e.g. ${EB_EXAMPLE}`],
    ["cron(0 3 * * ?)", `has 5 fields inside cron(...); ${SIX}`, 'use "cron(0 3 * * ? *)"'],
    ["cron(0 3 * * ? * *)", `has 7 fields inside cron(...); ${SIX}`, `e.g. ${EB_EXAMPLE} (? in day-of-month or day-of-week, then the year)`],
    ["cron()", `has 0 fields inside cron(...); ${SIX}`, `e.g. ${EB_EXAMPLE} (? in day-of-month or day-of-week, then the year)`],
    ["rate(0 hours)", 'rate value "0" must be a positive whole number', 'e.g. "rate(1 hour)" or "rate(12 hours)"'],
    ["rate(1.5 hours)", 'rate value "1.5" must be a positive whole number', 'e.g. "rate(1 hour)" or "rate(12 hours)"'],
    ["rate(2 weeks)", 'rate unit "weeks" must be minute, hour or day (plural for a value above 1)', 'e.g. "rate(1 hour)" or "rate(12 hours)"'],
    ["rate(hour)", "rate(...) needs a value and a unit", 'e.g. "rate(1 hour)" or "rate(12 hours)"'],
    ["rate(1 hours)", "rate(1 hours) needs the singular unit for a value of 1", 'write "rate(1 hour)"'],
    ["rate(5 hour)", "rate(5 hour) needs the plural unit for a value above 1", 'write "rate(5 hours)"'],
    ["at(2030-01-15 03:00:00)", "at(...) must hold a date-time yyyy-mm-ddThh:mm:ss", 'e.g. "at(2030-01-15T03:00:00)"'],
    ["at(2030-01-15T03:00)", "at(...) must hold a date-time yyyy-mm-ddThh:mm:ss", 'e.g. "at(2030-01-15T03:00:00)"'],
    ["at(2027-02-29T00:00:00)", 'at(...) date-time "2027-02-29T00:00:00" does not exist', 'e.g. "at(2030-01-15T03:00:00)"'],
    ["at(2030-13-01T00:00:00)", 'at(...) date-time "2030-13-01T00:00:00" does not exist', 'e.g. "at(2030-01-15T03:00:00)"'],
    ["at(2030-01-15T24:00:00)", 'at(...) date-time "2030-01-15T24:00:00" does not exist', 'e.g. "at(2030-01-15T03:00:00)"'],
    ["every night", "is not an EventBridge Scheduler expression", `use cron(minutes hours day-of-month month day-of-week year), rate(value unit) or at(yyyy-mm-ddThh:mm:ss), e.g. ${EB_EXAMPLE}`],
    ["CRON(0 3 * * ? *)", "is not an EventBridge Scheduler expression", `use cron(minutes hours day-of-month month day-of-week year), rate(value unit) or at(yyyy-mm-ddThh:mm:ss), e.g. ${EB_EXAMPLE}`],
    ["", "is empty: a rebuild schedule has no default", `give an expression, e.g. ${EB_EXAMPLE} (every day at 03:00)`],
    ["   ", "is empty: a rebuild schedule has no default", `give an expression, e.g. ${EB_EXAMPLE} (every day at 03:00)`],
  ])("GIVEN %j WHEN validated for eventbridge THEN the one issue is %j", (expression, problem, fix) => {
    expect(expressionProblems(expression, "eventbridge")).toEqual([[problem, fix]]);
  });

  it("GIVEN several bad fields WHEN validated THEN each field is named in its own issue", () => {
    expect(expressionProblems("cron(61 25 32 13 ? 1800)", "eventbridge").map(([problem]) => problem)).toEqual([
      "minutes value 61 must be 0-59",
      "hours value 25 must be 0-23",
      "day-of-month value 32 must be 1-31",
      "month value 13 must be 1-12 or JAN-DEC",
      "year value 1800 must be 1970-2199",
    ]);
  });

  it("GIVEN a valid expression with surrounding whitespace WHEN validated THEN the fix shows it trimmed", () => {
    expect(expressionProblems(" cron(0 3 * * ? *) ", "eventbridge")).toEqual([["has leading or trailing whitespace", 'remove it: "cron(0 3 * * ? *)"']]);
  });

  it("GIVEN a TZ= prefix WHEN validated for eventbridge THEN the fix moves the zone to timezone", () => {
    expect(expressionProblems("TZ=Europe/Berlin cron(0 3 * * ? *)", "eventbridge")).toEqual([
      ["sets the time zone inside the expression; EventBridge Scheduler takes the zone separately", 'remove "TZ=Europe/Berlin" and set timezone: "Europe/Berlin"'],
    ]);
  });
});

describe("invalid Kubernetes expressions", () => {
  const fieldFix = (field: string, range: string) => `give ${field} ${range} (with , - * /), e.g. ${K8S_EXAMPLE}`;
  const FIVE = "a CronJob schedule needs 5: minute hour day-of-month month day-of-week";
  const MACROS = "@yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly";
  it.each<[string, string, string]>([
    ["60 3 * * *", "minute value 60 must be 0-59", fieldFix("minute", "0-59")],
    ["0 25 * * *", "hour value 25 must be 0-23", fieldFix("hour", "0-23")],
    ["0 3 0 * *", "day-of-month value 0 must be 1-31", fieldFix("day-of-month", "1-31")],
    ["0 3 * 13 *", "month value 13 must be 1-12 or JAN-DEC", fieldFix("month", "1-12 or JAN-DEC")],
    ["0 3 * * 7", "day-of-week value 7 must be 0-6 or SUN-SAT", "use 0 or SUN for Sunday: Kubernetes rejects 7"],
    ["0 3 * * 1-7", "day-of-week value 7 must be 0-6 or SUN-SAT", "use 0 or SUN for Sunday: Kubernetes rejects 7"],
    ["0 3 * * 8", "day-of-week value 8 must be 0-6 or SUN-SAT", fieldFix("day-of-week", "0-6 or SUN-SAT")],
    ["0 3 * * monday", 'day-of-week value "monday" is not a number or a name', fieldFix("day-of-week", "0-6 or SUN-SAT")],
    ["0 3 L * *", 'day-of-month value "L" is not a number', fieldFix("day-of-month", "1-31")],
    ["0 3 * * 5L", 'day-of-week value "5L" is not a number or a name', fieldFix("day-of-week", "0-6 or SUN-SAT")],
    ["0 3 * * 5-1", 'day-of-week range "5-1" runs backwards', 'write the range low-high, or list the values across the wrap, e.g. "22,23,0,1"'],
    ["0 3 * * sat-sun", 'day-of-week range "sat-sun" runs backwards', 'write the range low-high, or list the values across the wrap, e.g. "22,23,0,1"'],
    ["0 */0 * * *", 'hour step "0" must be 1-23', fieldFix("hour", "0-23")],
    ["0 3 1, * *", 'day-of-month "1," has an empty list item', fieldFix("day-of-month", "1-31")],
    ["0 3 30 2 *", 'never runs: day-of-month "30" does not occur in month "2"', `pick a day that the chosen months have, e.g. ${K8S_EXAMPLE}`],
    ["0 3 31 apr ?", 'never runs: day-of-month "31" does not occur in month "apr"', `pick a day that the chosen months have, e.g. ${K8S_EXAMPLE}`],
    ["@reboot", '"@reboot" is not one of the CronJob macros', `use one of ${MACROS}, or 5 fields, e.g. ${K8S_EXAMPLE}`],
    ["@every 2h", '"@every 2h" is not one of the CronJob macros', `use one of ${MACROS}, or 5 fields, e.g. ${K8S_EXAMPLE}`],
    ["@DAILY", '"@DAILY" is not one of the CronJob macros', `use one of ${MACROS}, or 5 fields, e.g. ${K8S_EXAMPLE}`],
    ["0 3 * *", `has 4 fields; ${FIVE}`, `drop the seconds or year field, e.g. ${K8S_EXAMPLE}`],
    ["0 0 3 * * ?", `has 6 fields; ${FIVE}`, `drop the seconds or year field, e.g. ${K8S_EXAMPLE}`],
    ["TZ=Europe/Berlin 0 3 * * *", "sets the time zone inside the expression; Kubernetes rejects it (the zone goes into .spec.timeZone)", 'remove "TZ=Europe/Berlin" and set timezone: "Europe/Berlin"'],
    ["CRON_TZ=America/New_York 0 3 * * *", "sets the time zone inside the expression; Kubernetes rejects it (the zone goes into .spec.timeZone)", 'remove "CRON_TZ=America/New_York" and set timezone: "America/New_York"'],
    ["", "is empty: a rebuild schedule has no default", `give an expression, e.g. ${K8S_EXAMPLE} (every day at 03:00)`],
  ])("GIVEN %j WHEN validated for kubernetes THEN the one issue is %j", (expression, problem, fix) => {
    expect(expressionProblems(expression, "kubernetes")).toEqual([[problem, fix]]);
  });

  it("GIVEN 0 3 30 2 1 (day-of-month OR day-of-week, as robfig/cron reads it) WHEN validated THEN it runs on February's Mondays and is valid", () => {
    expect(expressionProblems("0 3 30 2 1", "kubernetes")).toEqual([]);
  });

  it("GIVEN a TZ= prefix and a bad field WHEN validated THEN both are reported", () => {
    expect(expressionProblems("TZ=UTC 0 25 * * *", "kubernetes").map(([problem]) => problem)).toEqual([
      "sets the time zone inside the expression; Kubernetes rejects it (the zone goes into .spec.timeZone)",
      "hour value 25 must be 0-23",
    ]);
  });
});

describe("the other consumer's grammar", () => {
  const FIVE_FOR_EB = "is a 5-field Kubernetes/Unix cron; EventBridge Scheduler needs cron(minutes hours day-of-month month day-of-week year)";
  const GENERIC_EB = `write it as cron(minutes hours day-of-month month day-of-week year) with ? in day-of-month or day-of-week, e.g. ${EB_EXAMPLE}`;
  it.each<[string, string, string]>([
    ["0 3 * * *", FIVE_FOR_EB, 'use "cron(0 3 * * ? *)"'],
    ["0 3 * * ?", FIVE_FOR_EB, 'use "cron(0 3 * * ? *)"'],
    ["0 3 * * 1-5", FIVE_FOR_EB, 'use "cron(0 3 ? * 2-6 *)"'],
    ["0 3 * * 0,6", FIVE_FOR_EB, 'use "cron(0 3 ? * 1,7 *)"'],
    ["0 3 * * sun,sat", FIVE_FOR_EB, 'use "cron(0 3 ? * SUN,SAT *)"'],
    ["0 3 1 jan *", FIVE_FOR_EB, 'use "cron(0 3 1 JAN ? *)"'],
    ["0 3 1 * 1", FIVE_FOR_EB, GENERIC_EB],
    ["0 3 * * */2", FIVE_FOR_EB, GENERIC_EB],
    ["0 3 * * 7", FIVE_FOR_EB, GENERIC_EB],
    ["@daily", "is a Kubernetes/Unix cron macro; EventBridge Scheduler has none", 'use "cron(0 0 * * ? *)"'],
    ["@weekly", "is a Kubernetes/Unix cron macro; EventBridge Scheduler has none", 'use "cron(0 0 ? * 1 *)"'],
    ["@hourly", "is a Kubernetes/Unix cron macro; EventBridge Scheduler has none", 'use "cron(0 * * * ? *)"'],
    ["@reboot", "is a Kubernetes/Unix cron macro; EventBridge Scheduler has none", `use cron(...), rate(...) or at(...), e.g. ${EB_EXAMPLE}`],
    ["0 3 * * ? *", "lacks the cron(...) around its 6 fields", 'write "cron(0 3 * * ? *)"'],
    ["0 0 3 * * ?", "is not an EventBridge Scheduler expression", `use cron(minutes hours day-of-month month day-of-week year), rate(value unit) or at(yyyy-mm-ddThh:mm:ss), e.g. ${EB_EXAMPLE}`],
  ])("GIVEN %j WHEN validated for eventbridge THEN the hint is %j / %j", (expression, problem, fix) => {
    expect(expressionProblems(expression, "eventbridge")).toEqual([[problem, fix]]);
  });

  const EB_FOR_K8S = (kind: string) => `is an EventBridge ${kind}(...) expression; a CronJob schedule is 5 fields: minute hour day-of-month month day-of-week`;
  const GENERIC_K8S = `write the 5 fields without cron(...), ? or a year, e.g. ${K8S_EXAMPLE}`;
  it.each<[string, string, string]>([
    ["cron(0 3 * * ? *)", EB_FOR_K8S("cron"), 'use "0 3 * * *"'],
    ["cron(0 3 ? * 2-6 *)", EB_FOR_K8S("cron"), 'use "0 3 * * 1-5"'],
    ["cron(0 3 ? * MON-FRI *)", EB_FOR_K8S("cron"), 'use "0 3 * * MON-FRI"'],
    ["cron(0 3 ? * 1,7 *)", EB_FOR_K8S("cron"), 'use "0 3 * * 0,6"'],
    ["cron(0 3 1 JAN ? *)", EB_FOR_K8S("cron"), 'use "0 3 1 JAN *"'],
    ["cron(0 3 L * ? *)", EB_FOR_K8S("cron"), GENERIC_K8S],
    ["cron(0 3 ? * 2#1 *)", EB_FOR_K8S("cron"), GENERIC_K8S],
    ["cron(0 3 * * ? 2030)", EB_FOR_K8S("cron"), GENERIC_K8S],
    ["cron(0 3 * * * *)", EB_FOR_K8S("cron"), 'use "0 3 * * *"'],
    ["cron(0 3 1 * MON *)", EB_FOR_K8S("cron"), GENERIC_K8S],
    ["rate(1 hour)", EB_FOR_K8S("rate"), 'use "0 * * * *"'],
    ["rate(6 hours)", EB_FOR_K8S("rate"), 'use "0 */6 * * *"'],
    ["rate(1 day)", EB_FOR_K8S("rate"), 'use "0 0 * * *"'],
    ["rate(7 days)", EB_FOR_K8S("rate"), GENERIC_K8S],
    ["rate(5 hours)", EB_FOR_K8S("rate"), GENERIC_K8S],
    ["0 3 * * ? *", "has 6 fields; a CronJob schedule needs 5: minute hour day-of-month month day-of-week", 'use "0 3 * * *"'],
    [
      "at(2030-01-15T03:00:00)",
      "is an EventBridge one-time at(...) expression; a CronJob runs on a recurring schedule",
      `give a recurring 5-field cron, e.g. ${K8S_EXAMPLE}, or start the rebuild once by hand`,
    ],
  ])("GIVEN %j WHEN validated for kubernetes THEN the hint is %j / %j", (expression, problem, fix) => {
    expect(expressionProblems(expression, "kubernetes")).toEqual([[problem, fix]]);
  });

  it("GIVEN a too-frequent 5-field cron WHEN validated for eventbridge THEN the conversion and the refusal come together", () => {
    expect(expressionProblems("*/10 * * * *", "eventbridge")).toEqual([
      [FIVE_FOR_EB, 'use "cron(*/10 * * * ? *)"'],
      [frequent("10 minutes"), EB_FREQUENT_FIX],
    ]);
  });

  it("GIVEN rate(15 minutes) WHEN validated for kubernetes THEN the conversion and the refusal come together", () => {
    expect(expressionProblems("rate(15 minutes)", "kubernetes")).toEqual([
      [EB_FOR_K8S("rate"), 'use "*/15 * * * *"'],
      [frequent("15 minutes"), K8S_FREQUENT_FIX],
    ]);
  });
});

describe("the hourly floor", () => {
  it.each<[ScheduleConsumer, string, string]>([
    ["eventbridge", "cron(*/10 * * * ? *)", "10 minutes"],
    ["eventbridge", "cron(* * * * ? *)", "minute"],
    ["eventbridge", "cron(0,30 * * * ? *)", "30 minutes"],
    ["eventbridge", "cron(0,59 * * * ? *)", "minute"],
    ["eventbridge", "cron(0-5 3 * * ? *)", "minute"],
    ["eventbridge", "cron(0/20 9 ? * MON *)", "20 minutes"],
    ["eventbridge", "rate(5 minutes)", "5 minutes"],
    ["eventbridge", "rate(1 minute)", "minute"],
    ["eventbridge", "rate(59 minutes)", "59 minutes"],
    ["kubernetes", "* * * * *", "minute"],
    ["kubernetes", "*/15 * * * *", "15 minutes"],
    ["kubernetes", "0,45 9 * * *", "45 minutes"],
    ["kubernetes", "? * * * *", "minute"],
  ])("GIVEN the %s expression %j WHEN validated THEN it is refused as running every %s", (consumer, expression, every) => {
    expect(expressionProblems(expression, consumer)).toEqual([[frequent(every), consumer === "eventbridge" ? EB_FREQUENT_FIX : K8S_FREQUENT_FIX]]);
  });

  it("GIVEN the floor WHEN read THEN it is one hour", () => {
    expect(MIN_REBUILD_INTERVAL_MINUTES).toBe(60);
  });
});

describe("the settings object", () => {
  it("GIVEN every kind of problem WHEN validated THEN one report lists them all", () => {
    // GIVEN
    const value = { expression: "cron(0 25 32 * ? *)", timezone: "Mars/Olympus", flexibleWindowMinutes: 0, enabled: "yes", colour: "red" };
    // WHEN
    const issues = scheduleIssues(value, "eventbridge", "rebuild.schedule");
    // THEN
    expect(issues).toEqual<ValidationIssue[]>([
      { path: "rebuild.schedule.enabled", value: "yes", problem: "must be a boolean", fix: "give a boolean" },
      { path: "rebuild.schedule", value: ["colour"], problem: 'unknown property "colour"', fix: "remove it or correct the spelling (a schedule takes expression, timezone, flexibleWindowMinutes, enabled)" },
      { path: "rebuild.schedule.expression", value: "cron(0 25 32 * ? *)", problem: "hours value 25 must be 0-23", fix: `give hours 0-23 (with , - * /), e.g. ${EB_EXAMPLE}` },
      { path: "rebuild.schedule.expression", value: "cron(0 25 32 * ? *)", problem: "day-of-month value 32 must be 1-31", fix: `give day-of-month 1-31 (with , - * ? / L W), e.g. ${EB_EXAMPLE}` },
      { path: "rebuild.schedule.timezone", value: "Mars/Olympus", problem: "is not an IANA time zone name", fix: 'use an IANA time zone name, e.g. "Europe/Berlin" or "UTC"' },
      { path: "rebuild.schedule.flexibleWindowMinutes", value: 0, problem: "must be a whole number of minutes from 1 to 1440", fix: "e.g. 15, or remove it to start on time (flexible time window off)" },
    ]);
  });

  it("GIVEN every kind of problem WHEN prepared THEN one ValidationError carries the whole report", () => {
    // GIVEN
    const value = { expression: "* * * * *", timezone: "utc", flexibleWindowMinutes: 10 };
    // WHEN
    let error: unknown;
    try {
      prepareRebuildSchedule(value, "kubernetes");
    } catch (e) {
      error = e;
    }
    // THEN
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toBe(
      [
        "Invalid rebuild schedule (3 problems):",
        `  - schedule.expression: ${frequent("minute")} (value: "* * * * *"). Fix: ${K8S_FREQUENT_FIX}`,
        '  - schedule.timezone: is not an IANA time zone name (value: "utc"). Fix: use "UTC" (time zone names are case-sensitive)',
        "  - schedule.flexibleWindowMinutes: applies to eventbridge schedules only (the consumer is kubernetes) (value: 10). Fix: remove flexibleWindowMinutes",
      ].join("\n"),
    );
  });

  it.each<[ScheduleConsumer, string]>([
    ["eventbridge", EB_EXAMPLE],
    ["kubernetes", K8S_EXAMPLE],
  ])("GIVEN no expression WHEN validated for %s THEN the fix shows that consumer's example", (consumer, example) => {
    expect(scheduleIssues({ enabled: true }, consumer, "schedule")).toEqual([
      { path: "schedule.expression", value: undefined, problem: "is required: a rebuild schedule has no default", fix: `set it, e.g. ${example} (every day at 03:00)` },
    ]);
  });

  it.each<[string, unknown, string, string]>([
    ["undefined", undefined, "is required: a rebuild schedule has no default", `set schedule, e.g. { expression: ${K8S_EXAMPLE} }`],
    ["null", null, "is required: a rebuild schedule has no default", `set schedule, e.g. { expression: ${K8S_EXAMPLE} }`],
    ["a bare expression", "0 3 * * *", "must be an object, not a bare expression", `give { expression: ${K8S_EXAMPLE} }`],
    ["a number", 3, "must be an object", `give { expression: ${K8S_EXAMPLE} }`],
    ["a list", ["0 3 * * *"], "must be an object", `give { expression: ${K8S_EXAMPLE} }`],
  ])("GIVEN %s as the schedule WHEN validated THEN the one issue is on the schedule itself", (_label, value, problem, fix) => {
    expect(scheduleIssues(value, "kubernetes", "schedule")).toEqual([{ path: "schedule", value, problem, fix }]);
  });

  it("GIVEN wrongly typed properties WHEN validated THEN each is reported once, by type", () => {
    expect(scheduleIssues({ expression: 3, timezone: 1, flexibleWindowMinutes: "15", enabled: 1 }, "eventbridge", "schedule").map(formatIssue)).toEqual([
      "schedule.expression: must be a string (value: 3). Fix: give a string",
      "schedule.timezone: must be a string (value: 1). Fix: give a string",
      'schedule.flexibleWindowMinutes: must be a number (value: "15"). Fix: give a number',
      "schedule.enabled: must be a boolean (value: 1). Fix: give a boolean",
    ]);
  });

  it.each<[unknown]>([[0], [1441], [2.5], [-5]])("GIVEN flexibleWindowMinutes %p WHEN validated for eventbridge THEN it must be 1-1440", (minutes) => {
    expect(scheduleIssues({ expression: "rate(1 day)", flexibleWindowMinutes: minutes }, "eventbridge", "schedule")).toEqual([
      { path: "schedule.flexibleWindowMinutes", value: minutes, problem: "must be a whole number of minutes from 1 to 1440", fix: "e.g. 15, or remove it to start on time (flexible time window off)" },
    ]);
  });

  it.each<[number]>([[1], [1440]])("GIVEN flexibleWindowMinutes %p WHEN prepared for eventbridge THEN it is kept", (minutes) => {
    expect(prepareRebuildSchedule({ expression: "rate(1 day)", flexibleWindowMinutes: minutes }, "eventbridge").flexibleWindowMinutes).toBe(minutes);
  });

  it("GIVEN a non-finite flexibleWindowMinutes WHEN validated THEN only the type issue is reported", () => {
    expect(scheduleIssues({ expression: "rate(1 day)", flexibleWindowMinutes: Number.POSITIVE_INFINITY }, "eventbridge", "schedule").map((i) => i.path)).toEqual([
      "schedule.flexibleWindowMinutes",
    ]);
  });
});

describe("timezone", () => {
  it.each([["UTC"], ["Etc/UTC"], ["Europe/Berlin"], ["America/New_York"], ["America/Argentina/Buenos_Aires"], ["Asia/Kolkata"], ["Asia/Calcutta"], ["Etc/GMT+5"]])(
    "GIVEN %j WHEN validated for both consumers THEN it is accepted",
    (timezone) => {
      for (const consumer of SCHEDULE_CONSUMERS) {
        expect(scheduleIssues({ expression: SCHEDULE_EXAMPLES[consumer], timezone }, consumer, "schedule")).toEqual([]);
      }
    },
  );

  it.each([
    ["europe/berlin", 'use "Europe/Berlin" (time zone names are case-sensitive)'],
    ["utc", 'use "UTC" (time zone names are case-sensitive)'],
    ["Mars/Olympus", 'use an IANA time zone name, e.g. "Europe/Berlin" or "UTC"'],
    ["Berlin", 'use an IANA time zone name, e.g. "Europe/Berlin" or "UTC"'],
    ["+01:00", 'use an IANA time zone name, e.g. "Europe/Berlin" or "UTC"'],
    ["Local", 'use an IANA time zone name, e.g. "Europe/Berlin" or "UTC"'],
    ["", 'use an IANA time zone name, e.g. "Europe/Berlin" or "UTC"'],
  ])("GIVEN %j WHEN validated THEN it is refused with %j", (timezone, fix) => {
    expect(scheduleIssues({ expression: "0 3 * * *", timezone }, "kubernetes", "schedule")).toEqual([
      { path: "schedule.timezone", value: timezone, problem: "is not an IANA time zone name", fix },
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties: generated crons, each field paired with the set it selects, computed here

interface GenField {
  readonly text: string;
  readonly values: readonly number[];
}

function span(from: number, to: number, step = 1): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) {
    out.push(v);
  }
  return out;
}

interface FieldShape {
  readonly min: number;
  readonly max: number;
  /** Explicit values are drawn up to here (day-of-month stays <= 28 so every month has it). */
  readonly pickMax?: number;
  readonly names?: readonly string[];
  readonly anyCase?: boolean;
  readonly steps?: boolean;
}

function valueText(shape: FieldShape): fc.Arbitrary<{ text: string; value: number }> {
  const value = fc.integer({ min: shape.min, max: shape.pickMax ?? shape.max });
  if (shape.names === undefined) {
    return value.map((v) => ({ text: String(v), value: v }));
  }
  const names = shape.names;
  const cases = shape.anyCase ? fc.constantFrom<(s: string) => string>((s) => s, (s) => s.toLowerCase(), (s) => s[0] + s.slice(1).toLowerCase()) : fc.constant((s: string) => s);
  return fc.tuple(value, fc.boolean(), cases).map(([v, named, c]) => ({ text: named ? c(names[v - shape.min]) : String(v), value: v }));
}

function itemArb(shape: FieldShape): fc.Arbitrary<GenField> {
  const single = valueText(shape).map(({ text, value }) => ({ text, values: [value] }));
  const range = fc.tuple(valueText(shape), valueText(shape)).map(([a, b]) => {
    const [lo, hi] = a.value <= b.value ? [a, b] : [b, a];
    return { text: `${lo.text}-${hi.text}`, values: span(lo.value, hi.value) };
  });
  const stepOf = fc.integer({ min: 1, max: shape.max - shape.min });
  const arbitraries: fc.Arbitrary<GenField>[] = [single, range];
  if (shape.steps !== false) {
    arbitraries.push(
      stepOf.map((s) => ({ text: `*/${s}`, values: span(shape.min, shape.max, s) })),
      fc.tuple(fc.integer({ min: shape.min, max: shape.pickMax ?? shape.max }), stepOf).map(([a, s]) => ({ text: `${a}/${s}`, values: span(a, shape.max, s) })),
      fc.tuple(range, stepOf).map(([r, s]) => {
        const [lo, hi] = [r.values[0], r.values[r.values.length - 1]];
        return { text: `${lo}-${hi}/${s}`, values: span(lo, hi, s) };
      }),
    );
  }
  return fc.oneof(...arbitraries);
}

function fieldArb(shape: FieldShape, starWeight = 1): fc.Arbitrary<GenField> {
  const list = fc.array(itemArb(shape), { minLength: 1, maxLength: 3 }).map((items) => ({
    text: items.map((i) => i.text).join(","),
    values: [...new Set(items.flatMap((i) => i.values))].sort((a, b) => a - b),
  }));
  return fc.oneof(
    { arbitrary: fc.constant({ text: "*", values: span(shape.min, shape.max) }), weight: starWeight },
    { arbitrary: valueText(shape).map(({ text, value }) => ({ text, values: [value] })), weight: 4 },
    { arbitrary: list, weight: 3 },
  );
}

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

interface GenCron {
  readonly expression: string;
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
}

const eventBridgeCron: fc.Arbitrary<GenCron> = fc
  .tuple(
    fieldArb({ min: 0, max: 59 }, 1),
    fieldArb({ min: 0, max: 23 }, 2),
    fc.oneof(
      fc.tuple(fieldArb({ min: 1, max: 31, pickMax: 28 }, 3), fc.constant("?")).map(([dom, dow]) => [dom.text, dow]),
      fc.tuple(fc.constant("?"), fieldArb({ min: 1, max: 7, names: DAYS, steps: false })).map(([dom, dow]) => [dom, dow.text]),
      fc.constantFrom(["L", "?"], ["15W", "?"], ["1W", "?"], ["?", "L"], ["?", "6L"], ["?", "FRIL"], ["?", "2#1"], ["?", "MON#5"]),
    ),
    fieldArb({ min: 1, max: 12, names: MONTHS }, 3),
    fc.oneof(fc.constant("*"), fieldArb({ min: 1970, max: 2199 }).map((f) => f.text)),
  )
  .map(([minutes, hours, [dom, dow], month, year]) => ({
    expression: `cron(${minutes.text} ${hours.text} ${dom} ${month.text} ${dow} ${year})`,
    minutes: minutes.values,
    hours: hours.values,
  }));

const kubernetesCron: fc.Arbitrary<GenCron> = fc
  .tuple(
    fieldArb({ min: 0, max: 59 }, 1),
    fieldArb({ min: 0, max: 23 }, 2),
    fc.oneof(fc.constant("?"), fieldArb({ min: 1, max: 31, pickMax: 28 }, 3).map((f) => f.text)),
    fieldArb({ min: 1, max: 12, names: MONTHS, anyCase: true }, 3).map((f) => f.text),
    fc.oneof(fc.constant("?"), fieldArb({ min: 0, max: 6, names: DAYS, anyCase: true }, 3).map((f) => f.text)),
  )
  .map(([minutes, hours, dom, month, dow]) => ({ expression: `${minutes.text} ${hours.text} ${dom} ${month} ${dow}`, minutes: minutes.values, hours: hours.values }));

/** Brute force: every minute of two consecutive days, the smallest gap between two matches. */
function bruteForceInterval(minutes: readonly number[], hours: readonly number[]): number {
  const matches: number[] = [];
  for (let t = 0; t < 2 * 1440; t++) {
    if (minutes.includes(t % 60) && hours.includes(Math.floor(t / 60) % 24)) {
      matches.push(t);
    }
  }
  let smallest = Number.POSITIVE_INFINITY;
  for (let i = 1; i < matches.length; i++) {
    smallest = Math.min(smallest, matches[i] - matches[i - 1]);
  }
  return smallest;
}

describe.each<[ScheduleConsumer, fc.Arbitrary<GenCron>]>([
  ["eventbridge", eventBridgeCron],
  ["kubernetes", kubernetesCron],
])("generated %s crons", (consumer, crons) => {
  it("GIVEN any valid cron WHEN validated THEN it is accepted with the brute-force interval, or refused only for running more often than hourly", () => {
    fc.assert(
      fc.property(crons, ({ expression, minutes, hours }) => {
        // WHEN
        const issues = scheduleIssues({ expression }, consumer, "schedule");
        // THEN
        const expected = bruteForceInterval(minutes, hours);
        if (expected < MIN_REBUILD_INTERVAL_MINUTES) {
          expect(issues.map((i) => i.problem)).toEqual([frequent(expected === 1 ? "minute" : `${expected} minutes`)]);
        } else {
          expect(issues).toEqual([]);
          expect(prepareRebuildSchedule({ expression }, consumer).minIntervalMinutes).toBe(expected);
        }
      }),
      RUNS,
    );
  });
});

it("GIVEN any valid Kubernetes cron WHEN given to eventbridge THEN a suggested cron(...) is itself accepted with the same interval", () => {
  fc.assert(
    fc.property(kubernetesCron, ({ expression, minutes, hours }) => {
      // WHEN
      const [hint] = scheduleIssues({ expression }, "eventbridge", "schedule");
      const suggested = /^use "(cron\(.*\))"$/.exec(hint.fix)?.[1];
      // THEN
      fc.pre(suggested !== undefined && bruteForceInterval(minutes, hours) >= MIN_REBUILD_INTERVAL_MINUTES);
      expect(prepareRebuildSchedule({ expression: suggested }, "eventbridge").minIntervalMinutes).toBe(bruteForceInterval(minutes, hours));
    }),
    RUNS,
  );
});

it("GIVEN any valid EventBridge cron WHEN given to kubernetes THEN a suggested 5-field cron is itself accepted with the same interval", () => {
  fc.assert(
    fc.property(eventBridgeCron, ({ expression, minutes, hours }) => {
      // WHEN
      const [hint] = scheduleIssues({ expression }, "kubernetes", "schedule");
      const suggested = /^use "(.*)"$/.exec(hint.fix)?.[1];
      // THEN
      fc.pre(suggested !== undefined && bruteForceInterval(minutes, hours) >= MIN_REBUILD_INTERVAL_MINUTES);
      expect(prepareRebuildSchedule({ expression: suggested }, "kubernetes").minIntervalMinutes).toBe(bruteForceInterval(minutes, hours));
    }),
    RUNS,
  );
});

it("GIVEN arbitrary input WHEN validated THEN it never throws and every issue has a well-formed path and a fix", () => {
  const expression = fc.oneof(
    fc.string(),
    fc.array(fc.constantFrom("0", "3", "*", "?", "L", "W", "#", "/", "-", ",", " ", "cron(", "rate(", "at(", ")", "MON", "jan", "@daily", "TZ=UTC ", "1 hour", "2030-01-15T03:00:00"), { maxLength: 12 }).map((parts) => parts.join("")),
  );
  const value = fc.oneof(
    fc.anything(),
    fc.record({ expression, timezone: fc.oneof(fc.string(), fc.constantFrom("UTC", "Europe/Berlin")), flexibleWindowMinutes: fc.oneof(fc.integer(), fc.double()), enabled: fc.anything() }, { requiredKeys: [] }),
  );
  fc.assert(
    fc.property(value, fc.constantFrom(...SCHEDULE_CONSUMERS), (v, consumer) => {
      const issues = scheduleIssues(v, consumer, "schedule");
      for (const issue of issues) {
        expect(issue.path).toMatch(WELL_FORMED_PATH);
        expect(issue.fix.length).toBeGreaterThan(0);
      }
      if (issues.length === 0) {
        expect(prepareRebuildSchedule(v, consumer).minIntervalMinutes).toBeGreaterThanOrEqual(MIN_REBUILD_INTERVAL_MINUTES);
      } else {
        expect(() => prepareRebuildSchedule(v, consumer)).toThrow(ValidationError);
      }
    }),
    RUNS,
  );
});
