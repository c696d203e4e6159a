/**
 * The boundary fuzzer: malformed stack configs, pipeline args and image specs, made by applying
 * attacker-style mutations (here-document markers, flags, control characters, huge values,
 * path escapes, secrets, wrong types, unknown keys) to valid ones, run through the entry points
 * users call: `parseStackConfig`, `validateGoldenImagePipelineArgs` and `renderDockerfile`.
 *
 * Counted per entry point:
 * - crashes: anything thrown that is not a ValidationError (must be 0);
 * - unsafe: an accepted input whose rendered Dockerfile BuildKit reads differently from what the
 *   spec means (judged by tools/dockerfile-judge: stages, final stage, user, instructions,
 *   here-documents), or a stack config the pipeline then refuses (must be 0);
 * - bad paths: a reported path that is not well-formed or does not lead into the input (must be 0).
 *
 * Inputs come from fast-check with one seed (printed; FUZZ_SEED replays a run, FUZZ_RUNS sets
 * the number of cases), so every counterexample can be replayed.
 */
import * as fs from "fs";
import * as path from "path";
import * as fc from "fast-check";
import * as YAML from "yaml";
import { validateGoldenImagePipelineArgs, GoldenImagePipelineArgs } from "../../components/pipeline";
import { renderDockerfile } from "../../components/render/dockerfile";
import { ValidationError, ValidationIssue, WELL_FORMED_PATH } from "../../components/render/issues";
import { resolveImage, ResolvedImage } from "../../components/render/resolve";
import { EnvironmentPolicy, ImageSpec } from "../../components/spec/types";
import { CONFIG_NAMESPACE, configValuesFromStackFile, parseStackConfig } from "../../stacks/config";
import { validSpecAndPolicy } from "../unit/arbitraries";
import { judgeDockerfiles, judgeProblems } from "./buildkit-judge";
import { projectRoot } from "./root";

const ROOT = projectRoot();

export type EntryPoint = "parseStackConfig" | "validateGoldenImagePipelineArgs" | "renderDockerfile";
export const ENTRY_POINTS: readonly EntryPoint[] = ["parseStackConfig", "validateGoldenImagePipelineArgs", "renderDockerfile"];

/** Values an attacker or a careless user puts where a string belongs. */
export const ATTACK_STRINGS: readonly string[] = [
  // Here-documents: BuildKit swallows the lines after them.
  "cat <<'ENTRYPOINT [\"/usr/local/bin/hello\"]'",
  "<<EOF",
  "<<-EOF",
  "1<<EOF",
  "/ <<#",
  "x <<'EOF'",
  "a<<b",
  // Flags and options.
  "--mount=type=bind,source=/,target=/host",
  "--network=host",
  "--security=insecure",
  "--output=type=local,dest=/tmp/x",
  "-rf",
  "  --mount=type=cache,target=/x",
  // Control characters and line breaks.
  "a\u0000b",
  "a\nUSER 0",
  "a\rUSER 0",
  "a\r\nb",
  "\tindented",
  "a\u2028b",
  "a\u0085b",
  "\u001b[31mred",
  "a\u007fb",
  // Continuations, quotes and escapes.
  "x \\",
  "x\\",
  "\\",
  "\"",
  "'",
  "[\"/bin/sh\"]",
  "# comment",
  "$HOME",
  "${PATH:-/etc}",
  "$(id)",
  "`id`",
  "a;b",
  "a && b",
  "ca-certificates>pwned",
  "curl|sh",
  "a b",
  " leading",
  "trailing ",
  // Paths (contexts are checked against the project's directory: a file, a missing directory).
  "images/hello/hello.c",
  "images/missing",
  "../../../../../../etc/ssl",
  "..",
  "../x",
  "/etc",
  "a/../../b",
  "images/../../x",
  "C:\\x",
  "\\\\server\\share",
  ".",
  "./",
  "//",
  // Secrets.
  "AKIAIOSFODNN7EXAMPLE",
  "-----BEGIN RSA PRIVATE KEY-----",
  "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
  "github_pat_11ABCDEFG0abcdefghijkl_mnopqrstuvwxyz0123456789",
  "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
  "xoxb-123456789012-abcdefghijkl",
  "npm_abcdefghijklmnopqrstuvwxyz0123456789",
  "https://user:hunter2@git.example.com/repo",
  // Unicode.
  "é",
  "\u202eevil",
  "\ud83d\ude00",
  "\ud800",
  // Sizes.
  "",
  " ",
  "x".repeat(300),
  "x".repeat(20_000),
  "y".repeat(65_536),
  "z".repeat(1_000_000),
  // Almost valid.
  "latest",
  "0",
  "0:0",
  "root",
  "65532:65532",
  "linux/amd64",
  "ecr",
  "dev",
  "prod",
];

/** Values of the wrong type, anywhere. */
const WRONG_VALUES: readonly unknown[] = [null, undefined, 0, -1, 1.5, NaN, Infinity, 1e21, true, false, [], {}, [null], [[]], { a: 1 }, "[]", "{}"];

/** One change to one place of a valid input. */
type Mutation =
  | { readonly kind: "string"; readonly at: number; readonly value: string }
  | { readonly kind: "value"; readonly at: number; readonly value: unknown }
  | { readonly kind: "delete"; readonly at: number }
  | { readonly kind: "key"; readonly at: number; readonly key: string; readonly value: unknown }
  | { readonly kind: "grow"; readonly at: number; readonly times: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("string" as const), at: fc.nat(), value: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...ATTACK_STRINGS) }, { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 12 }) }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("value" as const), at: fc.nat(), value: fc.oneof(fc.constantFrom(...WRONG_VALUES), fc.anything({ maxDepth: 2 })) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("delete" as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("key" as const), at: fc.nat(), key: fc.oneof(fc.constantFrom(...ATTACK_STRINGS.filter((s) => s.length < 100)), fc.string()), value: fc.constantFrom<unknown>("x", 1, null, {}) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("grow" as const), at: fc.nat(), times: fc.constantFrom(2, 40, 300) }) },
);

/** Every place of a JSON-like value: [parent, key] pairs, the root as [undefined, undefined]. */
function places(root: unknown): [Record<string, unknown> | unknown[] | undefined, string | number | undefined, unknown][] {
  const out: [Record<string, unknown> | unknown[] | undefined, string | number | undefined, unknown][] = [[undefined, undefined, root]];
  const visit = (node: unknown) => {
    if (Array.isArray(node)) {
      node.forEach((v, i) => {
        out.push([node, i, v]);
        visit(v);
      });
    } else if (node !== null && typeof node === "object") {
      for (const [k, v] of Object.entries(node)) {
        out.push([node as Record<string, unknown>, k, v]);
        visit(v);
      }
    }
  };
  visit(root);
  return out;
}

/** Applies mutations to a deep copy; a root replacement replaces the whole input. */
export function mutate(input: unknown, mutations: readonly Mutation[]): unknown {
  let root: unknown = structuredClone(input);
  for (const m of mutations) {
    const all = places(root);
    const candidates =
      m.kind === "string" ? all.filter(([, , v]) => typeof v === "string") : m.kind === "key" ? all.filter(([, , v]) => v !== null && typeof v === "object" && !Array.isArray(v)) : m.kind === "grow" ? all.filter(([, , v]) => Array.isArray(v) && v.length > 0) : all;
    if (candidates.length === 0) {
      continue;
    }
    const [parent, key, value] = candidates[m.at % candidates.length];
    const set = (v: unknown) => {
      if (parent === undefined) {
        root = v;
      } else if (Array.isArray(parent)) {
        parent[key as number] = v;
      } else {
        (parent as Record<string, unknown>)[key as string] = v;
      }
    };
    switch (m.kind) {
      case "string":
        // Replace, or splice the attack into the middle of the valid string.
        set(m.at % 3 === 0 ? `${String(value).slice(0, 3)}${m.value}${String(value).slice(3)}` : m.value);
        break;
      case "value":
        // A fresh copy: fast-check hands out the same constant objects to every case.
        set(structuredClone(m.value));
        break;
      case "delete":
        if (parent === undefined) {
          root = undefined;
        } else if (Array.isArray(parent)) {
          parent.splice(key as number, 1);
        } else {
          delete (parent as Record<string, unknown>)[key as string];
        }
        break;
      case "key":
        Object.defineProperty(value as object, m.key, { value: structuredClone(m.value), enumerable: true, configurable: true, writable: true });
        break;
      case "grow": {
        const list = value as unknown[];
        set(Array.from({ length: list.length * m.times }, (_, i) => structuredClone(list[i % list.length])));
        break;
      }
    }
  }
  return root;
}

function stackFile(env: string): Record<string, unknown> {
  return configValuesFromStackFile(YAML.parse(fs.readFileSync(path.join(ROOT, `Pulumi.${env}.yaml`), "utf8")));
}

const registrySettings: fc.Arbitrary<Record<string, unknown>> = fc.record(
  {
    type: fc.constant("ecr"),
    repositoryPrefix: fc.constantFrom("golden/", "team/golden/"),
    lifecycle: fc.record({ untaggedRetentionDays: fc.integer({ min: 1, max: 30 }), keepReleases: fc.integer({ min: 1, max: 50 }) }, { requiredKeys: [] }),
    pullThroughCache: fc.constantFrom(
      [{ prefix: "hub", upstreamRegistryUrl: "registry.example.test" }],
      [{ prefix: "ab/cd", upstreamRegistryUrl: "registry.example.test" }, { prefix: "quay", upstreamRegistryUrl: "quay.example.test" }],
    ),
    enhancedScanning: fc.boolean(),
  },
  { requiredKeys: ["type"] },
);

/** Valid image lists with unique names. */
const imageList: fc.Arbitrary<{ images: ImageSpec[]; policy: EnvironmentPolicy }> = fc
  .array(validSpecAndPolicy, { minLength: 1, maxLength: 3 })
  .map((list) => ({
    images: list.map((s, i) => ({ ...s.spec, name: `${s.spec.name.slice(0, 200)}-${i}` })),
    policy: list[0].policy,
  }));

/** A valid stack config (one of the project's or a generated one), then 0-3 mutations. */
export const stackConfigInput: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(
        fc.oneof(
          fc.constantFrom(...["dev", "staging", "prod"].map(stackFile)),
          // Contexts are checked on disk against the project: the generated images use the project's.
          fc
            .tuple(imageList, registrySettings)
            .map(([{ images, policy }, registry]) => ({ ...policy, registry, images: images.map((i) => ({ ...i, context: "images/hello" })) }) as Record<string, unknown>),
        ),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
      )
      .map(([base, ms]) => mutate(base, ms)),
  },
  { weight: 1, arbitrary: fc.anything() },
);

export const pipelineArgsInput: fc.Arbitrary<unknown> = fc
  .tuple(imageList, registrySettings, fc.array(mutation, { minLength: 1, maxLength: 3 }))
  .map(([{ images, policy }, { type, ...registry }, ms]) => {
    const args = mutate({ registry: { type, ...registry }, images, policy }, ms) as Record<string, unknown> | null;
    // The TypeScript signature: an args object with a list of images and the stack program's build
    // settings (untyped input reaches the pipeline through the stack config, fuzzed above).
    const build = { baseDirectory: "." };
    if (args === null || typeof args !== "object" || Array.isArray(args)) {
      return { registry: { type: "ecr" }, images: [args], policy, build };
    }
    return { ...args, images: Array.isArray(args.images) ? args.images : [args.images], build };
  });

export const renderInput: fc.Arbitrary<{ spec: unknown; policy: unknown }> = fc
  .tuple(validSpecAndPolicy, fc.array(mutation, { minLength: 1, maxLength: 3 }))
  .map(([{ spec, policy }, ms]) => {
    const both = mutate({ spec, policy }, ms) as { spec?: unknown; policy?: unknown } | null;
    return both !== null && typeof both === "object" && !Array.isArray(both) ? { spec: both.spec, policy: both.policy } : { spec: both, policy };
  });

/** Where a reported path must lead: its segments (but the last) exist in the input. */
export function pathProblem(issue: ValidationIssue, root: Record<string, unknown>, namespace?: string): string | undefined {
  if (!WELL_FORMED_PATH.test(issue.path)) {
    return `malformed path ${JSON.stringify(issue.path)}`;
  }
  let p = issue.path;
  if (namespace !== undefined) {
    if (p === "config") {
      return undefined;
    }
    if (!p.startsWith(`${namespace}:`)) {
      return `path ${JSON.stringify(p)} is not under ${namespace}:`;
    }
    p = p.slice(namespace.length + 1);
  }
  const segments: (string | number)[] = [];
  const token = /^(?:\.?([A-Za-z_$][A-Za-z0-9_$]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\])/;
  while (p !== "") {
    const m = token.exec(p);
    if (m === null) {
      return `malformed path ${JSON.stringify(issue.path)}`;
    }
    segments.push(m[1] ?? (m[2] !== undefined ? Number(m[2]) : (JSON.parse(m[3]) as string)));
    p = p.slice(m[0].length);
  }
  let node: unknown = root;
  for (const segment of segments.slice(0, -1)) {
    if (node === null || typeof node !== "object" || !Object.prototype.hasOwnProperty.call(node, segment)) {
      if (issue.value === undefined) {
        // Something that is not set, named where to set it (`registry.type` with no registry).
        return undefined;
      }
      // A map key shortened in the path (its value is in the report) cannot be followed further.
      if (typeof segment === "string" && segment.endsWith("...")) {
        return undefined;
      }
      return `path ${JSON.stringify(issue.path)} does not lead into the input (no ${JSON.stringify(segment)})`;
    }
    node = (node as Record<string | number, unknown>)[segment];
  }
  return undefined;
}

export interface Finding {
  readonly entry: EntryPoint;
  readonly kind: "crash" | "unsafe" | "path";
  readonly detail: string;
  readonly input: string;
}

export interface FuzzReport {
  readonly seed: number;
  readonly cases: Record<EntryPoint, number>;
  readonly accepted: Record<EntryPoint, number>;
  readonly refused: Record<EntryPoint, number>;
  readonly judged: number;
  readonly findings: readonly Finding[];
  readonly seconds: number;
}

function show(input: unknown): string {
  try {
    const text = JSON.stringify(input, (_k, v) => (typeof v === "string" && v.length > 80 ? `${v.slice(0, 40)}...(${v.length} chars)` : v === undefined ? "<undefined>" : v));
    return text === undefined ? String(input) : text.length > 600 ? `${text.slice(0, 600)}...` : text;
  } catch {
    return String(input);
  }
}

/** The number of cases per entry point for a total (FUZZ_RUNS), in a fixed ratio. */
export function split(total: number): Record<EntryPoint, number> {
  const stack = Math.round(total * 0.4);
  const pipeline = Math.round(total * 0.25);
  return { parseStackConfig: stack, validateGoldenImagePipelineArgs: pipeline, renderDockerfile: total - stack - pipeline };
}

/** Runs `total` cases from `seed` through the three entry points and judges every accepted Dockerfile with BuildKit. */
export function runFuzz(seed: number, total: number): FuzzReport {
  const started = Date.now();
  const counts = split(total);
  const findings: Finding[] = [];
  const accepted: Record<EntryPoint, number> = { parseStackConfig: 0, validateGoldenImagePipelineArgs: 0, renderDockerfile: 0 };
  const refused: Record<EntryPoint, number> = { parseStackConfig: 0, validateGoldenImagePipelineArgs: 0, renderDockerfile: 0 };
  const toJudge: { entry: EntryPoint; text: string; image: ResolvedImage; input: string }[] = [];
  const crash = (entry: EntryPoint, e: unknown, input: unknown) =>
    findings.push({ entry, kind: "crash", detail: `${(e as Error)?.name ?? typeof e}: ${String((e as Error)?.message ?? e).slice(0, 300)}`, input: show(input) });
  const checkPaths = (entry: EntryPoint, issues: readonly ValidationIssue[], root: Record<string, unknown>, input: unknown, namespace?: string) => {
    for (const issue of issues) {
      const problem = pathProblem(issue, root, namespace);
      if (problem !== undefined) {
        findings.push({ entry, kind: "path", detail: problem, input: show(input) });
        return;
      }
    }
  };
  /** Renders accepted images for the judge; a render that throws after acceptance is unsafe. */
  const renderAccepted = (entry: EntryPoint, images: readonly ImageSpec[], policy: EnvironmentPolicy, input: unknown) => {
    for (const image of images) {
      try {
        toJudge.push({ entry, text: renderDockerfile(image, policy), image: resolveImage(image, policy), input: show(input) });
      } catch (e) {
        findings.push({ entry, kind: "unsafe", detail: `accepted, then rendering threw ${(e as Error).message?.slice(0, 300)}`, input: show(input) });
      }
    }
  };

  const sample = <T>(arb: fc.Arbitrary<T>, n: number, offset: number): T[] => (n <= 0 ? [] : fc.sample(arb, { seed: (seed + offset) | 0, numRuns: n }));

  for (const values of sample(stackConfigInput, counts.parseStackConfig, 0)) {
    try {
      const config = parseStackConfig(values, { projectDir: ROOT });
      accepted.parseStackConfig++;
      // What the stack program then does: the pipeline must accept what the stack accepted.
      const args = { registry: config.registry, images: config.images, policy: config.policy, build: { baseDirectory: "." } } as unknown as GoldenImagePipelineArgs;
      const pipelineIssues = validateGoldenImagePipelineArgs(args);
      if (pipelineIssues.length > 0) {
        findings.push({ entry: "parseStackConfig", kind: "unsafe", detail: `the stack accepted it, the pipeline refuses: ${pipelineIssues[0].path}: ${pipelineIssues[0].problem}`, input: show(values) });
      }
      renderAccepted("parseStackConfig", config.images, config.policy, values);
    } catch (e) {
      if (e instanceof ValidationError) {
        refused.parseStackConfig++;
        checkPaths("parseStackConfig", e.issues, values as Record<string, unknown>, values, CONFIG_NAMESPACE);
      } else {
        crash("parseStackConfig", e, values);
      }
    }
  }

  for (const args of sample(pipelineArgsInput, counts.validateGoldenImagePipelineArgs, 1)) {
    try {
      const issues = validateGoldenImagePipelineArgs(args as GoldenImagePipelineArgs);
      if (issues.length === 0) {
        accepted.validateGoldenImagePipelineArgs++;
        const a = args as GoldenImagePipelineArgs;
        renderAccepted("validateGoldenImagePipelineArgs", a.images, a.policy, args);
      } else {
        refused.validateGoldenImagePipelineArgs++;
        checkPaths("validateGoldenImagePipelineArgs", issues, args as Record<string, unknown>, args);
      }
    } catch (e) {
      crash("validateGoldenImagePipelineArgs", e, args);
    }
  }

  for (const { spec, policy } of sample(renderInput, counts.renderDockerfile, 2)) {
    try {
      const text = renderDockerfile(spec as ImageSpec, policy as EnvironmentPolicy);
      accepted.renderDockerfile++;
      toJudge.push({ entry: "renderDockerfile", text, image: resolveImage(spec as ImageSpec, policy as EnvironmentPolicy), input: show({ spec, policy }) });
    } catch (e) {
      if (e instanceof ValidationError) {
        refused.renderDockerfile++;
        checkPaths("renderDockerfile", e.issues, { image: spec, policy }, { spec, policy });
      } else {
        crash("renderDockerfile", e, { spec, policy });
      }
    }
  }

  const judgements = judgeDockerfiles(toJudge.map((j) => j.text));
  judgements.forEach((judgement, i) => {
    const problems = judgeProblems(judgement, toJudge[i].image);
    if (problems.length > 0) {
      findings.push({ entry: toJudge[i].entry, kind: "unsafe", detail: `accepted, but BuildKit reads it otherwise: ${problems.slice(0, 3).join("; ")}`, input: toJudge[i].input });
    }
  });
  return { seed, cases: counts, accepted, refused, judged: toJudge.length, findings, seconds: (Date.now() - started) / 1000 };
}

/** Seed and size of a run: FUZZ_SEED and FUZZ_RUNS when set, else a fresh seed and the default size. */
export function fuzzSettings(defaultRuns: number): { seed: number; runs: number } {
  const seed = process.env.FUZZ_SEED !== undefined && process.env.FUZZ_SEED !== "" ? Number(process.env.FUZZ_SEED) | 0 : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
  const runs = process.env.FUZZ_RUNS !== undefined && process.env.FUZZ_RUNS !== "" ? Number(process.env.FUZZ_RUNS) : defaultRuns;
  if (!Number.isInteger(runs) || runs < 3) {
    throw new Error(`FUZZ_RUNS=${process.env.FUZZ_RUNS} is not a whole number of at least 3`);
  }
  return { seed, runs };
}

/** One line per entry point and per kind of finding, and the first findings in full. */
export function formatReport(report: FuzzReport): string {
  const lines = [`fuzz seed ${report.seed} (replay: FUZZ_SEED=${report.seed} FUZZ_RUNS=${Object.values(report.cases).reduce((a, b) => a + b, 0)}), ${report.seconds.toFixed(1)} s`];
  for (const entry of ENTRY_POINTS) {
    const mine = report.findings.filter((f) => f.entry === entry);
    lines.push(
      `  ${entry}: ${report.cases[entry]} cases, ${report.accepted[entry]} accepted, ${report.refused[entry]} refused; ` +
        `crashes ${mine.filter((f) => f.kind === "crash").length}, accepted-but-unsafe ${mine.filter((f) => f.kind === "unsafe").length}, malformed paths ${mine.filter((f) => f.kind === "path").length}`,
    );
  }
  lines.push(`  BuildKit judged ${report.judged} accepted Dockerfiles`);
  for (const f of report.findings.slice(0, 10)) {
    lines.push(`  ${f.kind} in ${f.entry}: ${f.detail}\n    input: ${f.input}`);
  }
  return lines.join("\n");
}
