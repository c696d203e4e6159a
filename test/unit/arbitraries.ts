/**
 * fast-check arbitraries for image specs and policies: valid ones built from the grammars the
 * validator enforces, and invalid ones made by applying one known-bad mutation to a valid one.
 */
import * as fc from "fast-check";
import { CATALOG, FLAVORS, Flavor } from "../../components/spec/catalog";
import { BuilderStage, CopySpec, ENVIRONMENTS, EnvironmentPolicy, HARDENING_LEVELS, HealthcheckSpec, ImageSpec, PLATFORMS } from "../../components/spec/types";
import { isSecretName, MAX_SOURCE_DATE_EPOCH, RENDERER_LABELS } from "../../components/render/validate";

const LOWER = "abcdefghijklmnopqrstuvwxyz";
const DIGITS = "0123456789";
const HEX = "0123456789abcdef";

function chars(alphabet: string, minLength: number, maxLength: number): fc.Arbitrary<string> {
  return fc.string({ unit: fc.constantFrom(...alphabet), minLength, maxLength });
}

export const digest: fc.Arbitrary<string> = chars(HEX, 64, 64).map((hex) => `sha256:${hex}`);

/** One repository path component: `[a-z0-9]+` words joined by single `.`, `_` or `-` (ECR's grammar). */
const repositoryComponent: fc.Arbitrary<string> = fc
  .tuple(chars(LOWER + DIGITS, 1, 6), fc.array(fc.tuple(fc.constantFrom(".", "_", "-"), chars(LOWER + DIGITS, 1, 6)), { maxLength: 2 }))
  .map(([first, rest]) => first + rest.map(([sep, word]) => sep + word).join(""));

/** Image repository names: components joined by `/`, 2-256 characters. */
export const repositoryName: fc.Arbitrary<string> = fc
  .array(repositoryComponent, { minLength: 1, maxLength: 3 })
  .map((parts) => parts.join("/"))
  .filter((name) => name.length >= 2 && name.length <= 256);

const tag: fc.Arbitrary<string> = fc
  .tuple(chars(LOWER + LOWER.toUpperCase() + DIGITS + "_", 1, 1), chars(LOWER + DIGITS + "._-", 0, 12))
  .map(([a, b]) => a + b)
  .filter((t) => t !== "latest");

const host: fc.Arbitrary<string> = fc.constantFrom("registry.example.test", "registry.example.test:5000", "localhost:5000", "registry.example.org");

/** A digest-pinned reference, host-less (resolved through the mirror) or with a host. */
export const pinnedReference: fc.Arbitrary<string> = fc
  .tuple(fc.option(host, { nil: undefined }), repositoryName, fc.option(tag, { nil: undefined }), digest)
  // Without a host, a first component with a `.` would read as one: put such paths under library/.
  .map(([h, path, t, d]) => {
    const repository = h !== undefined ? `${h}/${path}` : path.split("/")[0].includes(".") || !path.includes("/") ? `library/${path}` : path;
    return `${repository}${t === undefined ? "" : `:${t}`}@${d}`;
  });

/** Builder stage names, never the reserved ones. */
export const stageName: fc.Arbitrary<string> = fc
  .tuple(chars(LOWER, 1, 1), chars(LOWER + DIGITS + "_.-", 0, 10))
  .map(([a, b]) => a + b)
  .filter((n) => !["runtime", "scratch", "context"].includes(n));

/** ENV/ARG names that do not look like secrets. */
export const safeVariableName: fc.Arbitrary<string> = fc
  .tuple(chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ_", 1, 1), chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_", 0, 12))
  .map(([a, b]) => a + b)
  .filter((n) => !isSecretName(n));

/** Any printable single-line text (quotes, `$` and backslashes included), never a here-document marker `<<`. */
const text: fc.Arbitrary<string> = fc.string({ maxLength: 20 }).filter((t) => !t.includes("<<"));
const nonBlankText: fc.Arbitrary<string> = text.filter((t) => t.trim() !== "");
/** A command the shell runs: it cannot start with "-" (BuildKit and sh would read an option). */
const verbatimLine: fc.Arbitrary<string> = nonBlankText.filter((t) => !t.trimStart().startsWith("-"));
/** BuildKit expands `$`, `\` and quotes in WORKDIR and COPY paths, so literal paths have none. */
const literalPath: fc.Arbitrary<string> = text.filter((t) => !/[$\\'"]/.test(t));

const variables: fc.Arbitrary<Record<string, string>> = fc.dictionary(safeVariableName, text, { maxKeys: 4 });

export const labelKey: fc.Arbitrary<string> = fc
  .oneof(chars(LOWER + DIGITS, 1, 1), fc.tuple(chars(LOWER + DIGITS, 1, 1), chars(LOWER + DIGITS + "._-", 0, 20), chars(LOWER + DIGITS, 1, 1)).map((p) => p.join("")))
  .filter((k) => !(RENDERER_LABELS as readonly string[]).includes(k));

export const absolutePath: fc.Arbitrary<string> = literalPath.map((t) => `/${t}`).filter((p) => !p.includes("<<") && p.trim() === p);
const workdir: fc.Arbitrary<string> = absolutePath;
/** A build-context path: relative, not escaping the context, not a URL. */
const isUrl = (p: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(p) || /^[A-Za-z0-9_-]+@[A-Za-z0-9.-]+:/.test(p);
const contextPath: fc.Arbitrary<string> = literalPath.filter((p) => p.trim() !== "" && p.trim() === p && !p.startsWith("/") && !p.split("/").includes("..") && !isUrl(p));
/** The context directory: relative, inside the program's directory, not an option, not a Windows drive path. */
const contextDirectory: fc.Arbitrary<string> = nonBlankText.filter(
  (p) => !p.startsWith("/") && !p.startsWith("\\") && !p.split(/[\\/]+/).includes("..") && !p.trimStart().startsWith("-") && !/^[A-Za-z]:[\\/]/.test(p),
);
/** Names both grammars accept: Debian's (at least 2 characters) and Alpine's. */
const packageName: fc.Arbitrary<string> = fc.tuple(chars(LOWER + DIGITS, 1, 1), chars(LOWER + DIGITS + "+.-", 1, 12)).map(([a, b]) => a + b);

export const port: fc.Arbitrary<number | string> = fc.oneof(
  fc.integer({ min: 1, max: 65535 }),
  fc.integer({ min: 1, max: 65535 }).map(String),
  fc.tuple(fc.integer({ min: 1, max: 65535 }), fc.constantFrom("tcp", "udp", "sctp")).map(([p, proto]) => `${p}/${proto}`),
);

// Docker refuses zero durations, so from 1.
const duration: fc.Arbitrary<string> = fc.tuple(fc.integer({ min: 1, max: 600 }), fc.constantFrom("ms", "s", "m", "h")).map(([n, u]) => `${n}${u}`);

/** Exec form: a non-empty program, then any arguments. */
export const execForm: fc.Arbitrary<string[]> = fc.tuple(nonBlankText.filter((t) => t !== ""), fc.array(text, { maxLength: 3 })).map(([p, args]) => [`/${p}`, ...args]);

const healthcheck: fc.Arbitrary<HealthcheckSpec> = fc.record(
  { test: execForm, interval: duration, timeout: duration, retries: fc.integer({ min: 1, max: 100 }), startPeriod: duration },
  { requiredKeys: ["test"] },
);

export const user: fc.Arbitrary<string | number> = fc.oneof(
  fc.integer({ min: 1, max: 2147483647 }),
  fc.integer({ min: 1, max: 2147483647 }).map(String),
  fc.tuple(fc.integer({ min: 1, max: 2147483647 }), fc.integer({ min: 1, max: 2147483647 })).map(([u, g]) => `${u}:${g}`),
);

function copies(stages: readonly string[]): fc.Arbitrary<CopySpec[]> {
  const fromContext = fc.record({ src: contextPath, dest: absolutePath });
  const fromStage =
    stages.length === 0 ? fromContext : fc.record({ from: fc.constantFrom(...stages), src: literalPath.filter((p) => p.trim() !== "" && p.trim() === p && !isUrl(p)), dest: absolutePath });
  return fc.array(fc.oneof(fromContext, fromStage), { maxLength: 3 });
}

/** 0-3 builder stages with unique names; each copies only from earlier ones. */
const builders: fc.Arbitrary<BuilderStage[]> = fc.uniqueArray(stageName, { maxLength: 3 }).chain((names) =>
  fc.tuple(
    ...names.map((name, i) =>
      fc.record(
        {
          name: fc.constant(name),
          image: pinnedReference,
          packageManager: fc.constantFrom("apt" as const, "apk" as const),
          packages: fc.array(packageName, { maxLength: 3 }),
          workdir,
          copy: copies(names.slice(0, i)),
          run: fc.array(verbatimLine, { maxLength: 3 }),
          env: variables,
        },
        { requiredKeys: ["name", "image"] },
      ),
    ),
  ),
);

export interface SpecAndPolicy {
  readonly spec: ImageSpec;
  readonly policy: EnvironmentPolicy;
}

export const policy: fc.Arbitrary<EnvironmentPolicy> = fc.constantFrom(...ENVIRONMENTS).chain((environment) =>
  fc.record(
    {
      environment: fc.constant(environment),
      mirror: fc.constantFrom("mirror.example.test/hub", "mirror.example.test:5000/", "123456789012.dkr.registry.example.test/docker-hub"),
      // Prod never allows tag-only bases; explicit false is fine everywhere.
      allowTagOnlyBases: environment === "prod" ? fc.constant(false) : fc.boolean(),
      sourceDateEpoch: fc.integer({ min: 0, max: MAX_SOURCE_DATE_EPOCH }),
    },
    { requiredKeys: ["environment"] },
  ),
);

/** Whether the finished runtime keeps /bin/sh. */
export function runtimeHasShell(spec: ImageSpec): boolean {
  return CATALOG[spec.flavor].hasShell && (spec.hardening ?? "strict") === "standard";
}

function specFor(flavor: Flavor): fc.Arbitrary<ImageSpec> {
  const info = CATALOG[flavor];
  return fc
    .tuple(builders, fc.constantFrom(...HARDENING_LEVELS))
    .chain(([stages, hardening]) => {
      const names = stages.map((b) => b.name);
      const withShell = info.hasShell && hardening === "standard";
      // Every base is digest-pinned (the catalog's defaults are tag-only); scratch has none.
      const base = flavor === "scratch" ? {} : { base: pinnedReference };
      return fc.record(
        {
          name: repositoryName,
          flavor: fc.constant(flavor),
          ...base,
          builders: fc.constant(stages),
          copy: copies(names),
          packages: info.packageManager === "none" ? fc.constant([]) : fc.array(packageName, { maxLength: 3 }),
          entrypoint: execForm,
          // Shell form only where the runtime keeps a shell.
          cmd: withShell ? fc.oneof(execForm, verbatimLine) : execForm,
          user,
          workdir,
          env: variables,
          args: variables,
          expose: fc.array(port, { maxLength: 4 }),
          healthcheck,
          labels: fc.dictionary(labelKey, text, { maxKeys: 4 }),
          hardening: fc.constant(hardening),
          source: fc.record({ url: fc.webUrl(), revision: chars(HEX, 7, 40) }, { requiredKeys: [] }),
          context: contextDirectory,
          platforms: fc.uniqueArray(fc.constantFrom(...PLATFORMS), { minLength: 1, maxLength: 3 }),
        },
        // Copies may name the builders, so builders stay whenever there are some.
        {
          requiredKeys: [
            "name",
            "flavor",
            "entrypoint",
            ...(flavor === "scratch" ? [] : ["base" as const]),
            ...(stages.length > 0 ? ["builders" as const] : []),
            // Omitted means strict; standard must stay, the cmd may be shell form because of it.
            ...(hardening === "standard" ? ["hardening" as const] : []),
          ],
        },
      ) as fc.Arbitrary<ImageSpec>;
    });
}

/** A valid spec of any flavor with a policy it passes under. */
export const validSpecAndPolicy: fc.Arbitrary<SpecAndPolicy> = fc
  .tuple(fc.constantFrom(...FLAVORS).chain(specFor), policy)
  .map(([spec, p]) => ({ spec, policy: p }));

type Mutation = (s: SpecAndPolicy) => fc.Arbitrary<{ spec: unknown; policy: EnvironmentPolicy }>;
const set = (s: SpecAndPolicy, patch: Record<string, unknown>, p: EnvironmentPolicy = s.policy) => ({ spec: { ...s.spec, ...patch }, policy: p });
const firstBuilder = (s: SpecAndPolicy, patch: Record<string, unknown>) => set(s, { builders: [{ ...(s.spec.builders?.[0] ?? { name: "build", image: `library/gcc:12@sha256:${"a".repeat(64)}` }), ...patch }, ...(s.spec.builders ?? []).slice(1)] });
const SPEC_KEYS = ["name", "flavor", "base", "builders", "copy", "packages", "entrypoint", "cmd", "workdir", "env", "args", "expose", "healthcheck", "labels", "hardening", "source", "context", "platforms"];
const secretName: fc.Arbitrary<string> = fc.tuple(safeVariableName, fc.constantFrom("PASSWORD", "TOKEN", "SECRET", "KEY", "APIKEY")).map(([a, b]) => `${a}_${b}`);
const notAFlavor: fc.Arbitrary<string> = fc.string().filter((f) => !(FLAVORS as readonly string[]).includes(f));

/** One known-bad change each; every one of them must be reported. */
const MUTATIONS: Mutation[] = [
  (s) => fc.constantFrom(0, "0", "0:0", "1000:0", "root", "", " ", "-1", "1.5", "2147483648").map((u) => set(s, { user: u })),
  (s) => fc.constantFrom<unknown>(42, null, ["a"], {}, true).map((v) => set(s, { name: v })),
  (s) => notAFlavor.map((f) => set(s, { flavor: f })),
  (s) => fc.constantFrom<unknown>(7, null, {}, true, [1]).map((v) => set(s, { entrypoint: v })),
  (s) => fc.constantFrom<unknown>({ A: 1 }, { A: null }, ["A=1"], "A=1").map((v) => set(s, { env: v })),
  (s) => fc.constantFrom<unknown>("build", [null], [{}], [{ name: 1 }]).map((v) => set(s, { builders: v })),
  (s) => fc.constantFrom<unknown>({ test: "/app" }, { test: [] }, { test: ["/a"], retries: 0 }, { test: ["/a"], interval: "5" }).map((v) => set(s, { healthcheck: v })),
  // Unknown keys, with any value.
  (s) => fc.tuple(fc.string({ minLength: 1 }).filter((k) => !SPEC_KEYS.includes(k) && k !== "user" && k !== "__proto__"), fc.anything()).map(([k, v]) => set(s, { [k]: v })),
  // null or a number where neither belongs.
  (s) => fc.tuple(fc.constantFrom(...SPEC_KEYS), fc.constantFrom<unknown>(null, 1, NaN, -0.5)).map(([k, v]) => set(s, { [k]: v })),
  // Required keys removed.
  (s) => fc.constantFrom("name", "flavor").map((k) => set(s, { [k]: undefined })),
  (s) => fc.constant(set(s, { entrypoint: undefined, cmd: undefined })),
  (s) => fc.constant(set(s, { copy: [{ dest: "/app" }] })),
  (s) => fc.constant(set(s, { copy: [{ src: "app" }] })),
  // Bad references (a scratch base is refused whatever it is).
  (s) => fc.constantFrom("Library/Alpine@sha256:" + "a".repeat(64), "alpine@sha256:abc", "alpine:latest@sha256:" + "a".repeat(64), "", "alpine 3").map((b) => set(s, { base: b })),
  (s) => fc.constantFrom("alpine:3.20", "library/debian").map((b) => set(s, { base: b }, { ...s.policy, environment: "prod", allowTagOnlyBases: false })),
  (s) => fc.constantFrom("Library/Gcc@sha256:" + "a".repeat(64), "gcc:latest", "gcc@sha256:", "gcc 12").map((i) => firstBuilder(s, { image: i })),
  (s) => fc.constantFrom("library/gcc:12", "gcc").map((i) => ({ ...firstBuilder(s, { image: i }), policy: { ...s.policy, environment: "prod" as const, allowTagOnlyBases: false } })),
  // Remote URLs, relative paths, context escapes.
  (s) => fc.constantFrom("https://example.com/app", "http://x/y", "git://example.com/r.git", "s3://bucket/key").map((src) => set(s, { copy: [{ src, dest: "/app" }] })),
  (s) => fc.constantFrom("app", "./app", "", "bin/app").map((dest) => set(s, { copy: [{ src: "app", dest }] })),
  (s) => fc.constantFrom("../x", "/etc/passwd", "a/../../b").map((src) => set(s, { copy: [{ src, dest: "/x" }] })),
  (s) => fc.constantFrom("srv", "./srv", "", "/srv\nUSER 0").map((w) => set(s, { workdir: w })),
  (s) => fc.constantFrom("src", "").map((w) => firstBuilder(s, { workdir: w })),
  (s) => fc.constantFrom("/abs", "C:\\x").map((c) => set(s, { context: c })),
  // Secrets, invalid variable names, line breaks.
  (s) => fc.tuple(fc.constantFrom("env", "args"), secretName).map(([k, n]) => set(s, { [k]: { ...(s.spec[k as "env"] ?? {}), [n]: "x" } })),
  (s) => secretName.map((n) => firstBuilder(s, { env: { [n]: "x" } })),
  (s) => fc.constantFrom("1A", "MY-VAR", "", "A B").map((n) => set(s, { env: { [n]: "x" } })),
  (s) => fc.constantFrom("a\nb", "\r").map((v) => set(s, { env: { SAFE: v } })),
  (s) => fc.constantFrom("a\nUSER 0", "\r").map((v) => set(s, { labels: { "com.example.x": v } })),
  // Stage names: duplicates, reserved, invalid, unknown copy source.
  (s) => stageName.map((n) => set(s, { builders: [{ name: n, image: `gcc:12@sha256:${"a".repeat(64)}` }, { name: n, image: `gcc:12@sha256:${"b".repeat(64)}` }] })),
  (s) => fc.constantFrom("runtime", "scratch", "context", "Build", "1st", "").map((n) => firstBuilder(s, { name: n })),
  (s) => stageName.filter((n) => !(s.spec.builders ?? []).some((b) => b.name === n)).map((from) => set(s, { copy: [{ from, src: "/out", dest: "/out" }] })),
  // Shell form where there is no shell; empty commands.
  (s) => fc.constant(set(s, { flavor: "distroless-static", base: undefined, packages: [], entrypoint: "/app --serve" })),
  (s) => fc.constant(set(s, { hardening: "strict", cmd: "serve" })),
  (s) => fc.constantFrom<unknown>([], [""]).map((e) => set(s, { entrypoint: e })),
  // Names, packages, ports, healthcheck, labels.
  (s) => fc.constantFrom("A", "a", "-hello", "Hello", "a//b", "a/", "x".repeat(257)).map((n) => set(s, { name: n })),
  (s) => fc.constant(set(s, { flavor: "distroless-base", base: undefined, packages: ["curl"] })),
  (s) => fc.constantFrom<unknown>(0, 65536, "http", "80/http", 1.5, -1).map((p) => set(s, { expose: [p] })),
  (s) => fc.constantFrom(...RENDERER_LABELS).map((k) => set(s, { labels: { [k]: "x" } })),
  (s) => fc.constantFrom("Team", "a b", "-x").map((k) => set(s, { labels: { [k]: "x" } })),
  (s) => fc.constantFrom<unknown>([], ["linux/amd64", "linux/amd64"], ["windows/amd64"]).map((p) => set(s, { platforms: p })),
  (s) => fc.constantFrom("paranoid", "").map((h) => set(s, { hardening: h })),
  // The input boundary (issue 8): here-documents, flags, options, control characters, secrets, escapes.
  (s) => fc.constantFrom("cat <<'ENTRYPOINT [\"/app\"]'", "--mount=type=bind,target=/x cat /x", " --network=host curl x", "a\u0000b", "x".repeat(16_385)).map((r) => firstBuilder(s, { run: [r] })),
  (s) => fc.constantFrom("/ <<#", "/$HOME", "/a\"b", "/x ", "/\ud800").map((dest) => set(s, { copy: [{ src: "app", dest }] })),
  (s) => fc.constantFrom("../../../../etc/ssl", "--output=type=local,dest=/tmp/x", "images/\u0000x", "a\nb", "x".repeat(1_025)).map((c) => set(s, { context: c })),
  (s) => fc.constantFrom("ca-certificates>pwned", "1<<EOF", "--force-yes", "x").map((p) => firstBuilder(s, { packageManager: "apt", packages: [p] })),
  (s) => fc.constantFrom("AKIAIOSFODNN7EXAMPLE", "-----BEGIN PRIVATE KEY-----", "ghp_abcdefghijklmnopqrstuvwxyz0123456789", "a\tb").map((v) => set(s, { labels: { "com.example.x": v } })),
  (s) => fc.constantFrom("AWS_SECRET_ACCESS_KEY_ID", "GITHUB_PAT", "NPM_AUTH").map((n) => set(s, { env: { [n]: "x" } })),
];

/** A valid spec with one mutation that some rule must report. */
export const invalidSpecAndPolicy: fc.Arbitrary<{ spec: unknown; policy: EnvironmentPolicy }> = fc.oneof(
  { weight: MUTATIONS.length, arbitrary: fc.tuple(validSpecAndPolicy, fc.integer({ min: 0, max: MUTATIONS.length - 1 })).chain(([s, i]) => MUTATIONS[i](s)) },
  // Anything at all; a random value is never a whole valid spec.
  { weight: 4, arbitrary: fc.tuple(fc.anything(), policy).map(([spec, p]) => ({ spec, policy: p })) },
);

/** The same record with its keys in another order (seeded, so failures shrink and replay). */
export function permuteKeys<T>(record: Readonly<Record<string, T>> | undefined, seed: number): Record<string, T> | undefined {
  if (record === undefined) {
    return undefined;
  }
  const keys = Object.keys(record);
  let state = seed >>> 0 || 1;
  for (let i = keys.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    const j = state % (i + 1);
    [keys[i], keys[j]] = [keys[j], keys[i]];
  }
  const out: Record<string, T> = {};
  for (const k of keys) {
    out[k] = record[k];
  }
  return out;
}
