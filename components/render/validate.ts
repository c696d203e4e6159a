/**
 * Hardening validation: every rule of the golden-image policy, all problems reported at once,
 * each naming the property path, the bad value and the fix. Pure; runs before anything is created.
 *
 * It is also the input boundary of the Dockerfile: every string that reaches BuildKit passes
 * one text rule (length, control characters, here-document markers, leading dashes, variable
 * expansion, secret-looking values), and every rendered line is measured against BuildKit's
 * limit, so no spec value can change which stages BuildKit builds or who runs the image.
 */
import { CATALOG, PackageManager } from "../spec/catalog";
import { DIGEST, parseReference, referenceProblem, resolveThroughMirror } from "../spec/reference";
import { CopySpec, EnvironmentPolicy, ImageSpec } from "../spec/types";
import { renderLines } from "./dockerfile";
import { joinKey, joinPath, throwIfIssues, ValidationIssue } from "./issues";
import { defaultBase, defaultBuilderImage, guessPackageManager, resolveImage } from "./resolve";
import { environmentPolicySchema, imageSpecSchema, structuralIssues } from "./schema";
import { prepareImage } from "./prepare";

const SECRET_FIX = "never bake secrets into an image: use a BuildKit secret mount (RUN --mount=type=secret) at build time or a secret store at run time";
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const STAGE_NAME = /^[a-z][a-z0-9_.-]{0,62}$/;
const REPOSITORY_NAME = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const USER = /^(\d+)(?::(\d+))?$/;
const PORT = /^(\d+)(?:\/(tcp|udp|sctp))?$/;
const DURATION = /^\d+(?:ms|s|m|h)$/;
const URL_LIKE = /^[a-z][a-z0-9+.-]*:\/\//i;
/** BuildKit's scp-style git remote (`user@host:path`), which it reads as a git source, not a path. */
const GIT_SCP = /^[A-Za-z0-9_-]+@[A-Za-z0-9.-]+:/;
const LABEL_KEY = /^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$/;
const REVISION = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$/;

/**
 * Debian's package name grammar (Debian Policy 5.6.1: lowercase, digits, `+ - .`, at least two
 * characters, starting with a letter or digit), an optional `:arch`, and an optional `=version`
 * in Debian's version grammar (`[epoch:]upstream[-revision]`, upstream starting with a digit).
 */
export const DEBIAN_PACKAGE =
  /^[a-z0-9][a-z0-9+.-]+(?::[a-z0-9][a-z0-9-]*)?(?:=(?:\d+:[0-9][A-Za-z0-9.+~:]*|[0-9][A-Za-z0-9.+~]*)(?:-[A-Za-z0-9.+~]+)*)?$/;
/** Alpine's package name grammar (abuild: lowercase, digits, `. _ + -`) and an optional `=version` in apk's version grammar. */
export const APK_PACKAGE =
  /^[a-z0-9][a-z0-9._+-]*(?:=\d+(?:\.\d+)*[a-z]?(?:_(?:alpha|beta|pre|rc|cvs|svn|git|hg|p)\d*)*(?:-r\d+)?)?$/;

/**
 * Upper bounds of what a spec may hold: long enough for any real image, short enough that no
 * value or list can make BuildKit refuse the Dockerfile or make a preview slow.
 */
export const LIMITS = {
  /** BuildKit refuses a Dockerfile with a physical line longer than this (bufio.MaxScanTokenSize - 1), in bytes. */
  renderedLineBytes: 65_535,
  runStep: 16_384,
  path: 4_096,
  value: 8_192,
  argument: 4_096,
  variableName: 256,
  labelKey: 256,
  packageName: 200,
  url: 2_048,
  context: 1_024,
  mirror: 255,
  builders: 32,
  /** Entries of any list or map (run steps, copies, packages, env, labels, arguments, ports). */
  entries: 256,
} as const;

/** Labels the renderer owns, so a spec cannot contradict the real base or source. */
export const RENDERER_LABELS = [
  "org.opencontainers.image.base.digest",
  "org.opencontainers.image.base.name",
  "org.opencontainers.image.created",
  "org.opencontainers.image.revision",
  "org.opencontainers.image.source",
  "org.opencontainers.image.title",
] as const;
/** Stage names BuildKit reserves (`FROM scratch`, the named `context`); its ReservedStageName check. */
export const BUILDKIT_RESERVED_STAGES = ["context", "scratch"] as const;
/** 9999-12-31T23:59:59Z: the last time RFC 3339 can write. */
export const MAX_SOURCE_DATE_EPOCH = 253402300799;
/** Stage name of the final image. */
export const RUNTIME_STAGE = "runtime";

// ---------------------------------------------------------------------------------------------
// Secrets: names and values.

/** Words of a variable name that mean it carries a secret (BuildKit's SecretsUsedInArgOrEnv words and more). */
const SECRET_WORDS = new Set(["APIKEY", "AUTH", "CREDENTIAL", "CREDENTIALS", "KEY", "PASS", "PASSPHRASE", "PASSWD", "PASSWORD", "PAT", "PWORD", "SECRET", "SECRETS", "TOKEN"]);
/** Words after the secret word that make the name about the secret, not the secret itself (`DB_PASSWORD_FILE`). */
const SECRET_QUALIFIERS = new Set(["DIR", "FILE", "FILES", "FORMAT", "LEN", "LENGTH", "MAX", "MIN", "NAME", "NAMES", "PATH", "POLICY", "SIZE", "TYPE"]);

/**
 * Whether an ENV/ARG name looks like it carries a secret: a secret word (`TOKEN`, `KEY`, `PAT`,
 * `AUTH`, ...) as a whole `_`- or camelCase-separated word, unless only qualifiers such as
 * `FILE` or `NAME` follow the last one. `AWS_SECRET_ACCESS_KEY_ID`, `GITHUB_PAT`, `NPM_AUTH` and
 * `apiKey` are secrets; `DB_PASSWORD_FILE`, `KEYBOARD_LAYOUT` and `TOKENIZER_PATH` are not.
 */
export function isSecretName(name: string): boolean {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toUpperCase()
    .split(/_+/)
    .filter((w) => w !== "");
  let last = -1;
  words.forEach((w, i) => {
    if (SECRET_WORDS.has(w)) {
      last = i;
    }
  });
  return last >= 0 && !(last < words.length - 1 && words.slice(last + 1).every((w) => SECRET_QUALIFIERS.has(w)));
}

/** Formats of credentials that must never be a value in an image (they would be readable by anyone who pulls it). */
const SECRET_VALUES: readonly (readonly [RegExp, string])[] = [
  [/(?:^|[^A-Z0-9])(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z0-9]{16}(?![A-Z0-9])/, "an AWS access key id"],
  [/-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----/, "a private key"],
  [/(?:^|[^A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{30,}/, "a GitHub token"],
  [/(?:^|[^A-Za-z0-9_])github_pat_[A-Za-z0-9_]{20,}/, "a GitHub token"],
  [/(?:^|[^A-Za-z0-9_])glpat-[A-Za-z0-9_-]{20,}/, "a GitLab token"],
  [/(?:^|[^A-Za-z0-9_])xox[abposr]-[A-Za-z0-9-]{10,}/, "a Slack token"],
  [/(?:^|[^A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])/, "an npm token"],
  [/_authToken\s*=\s*\S/, "an npm token"],
  [/(?:^|[^A-Za-z0-9_])AIza[0-9A-Za-z_-]{35}/, "a Google API key"],
  [/(?:^|[^A-Za-z0-9_])[sr]k_live_[0-9A-Za-z]{16,}/, "a Stripe key"],
  [/(?:^|[^A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/, "a JSON Web Token"],
  [/[a-z][a-z0-9+.-]*:\/\/[^\s/:@]+:[^\s/@]+@/i, "a URL with a password"],
];

/** What kind of credential a value looks like, or undefined. */
export function secretValueKind(value: string): string | undefined {
  return SECRET_VALUES.find(([re]) => re.test(value))?.[1];
}

/** A secret never goes into a report: its first characters and its length only. */
function redacted(value: string): string {
  return `${value.slice(0, 4)}... (redacted, ${value.length} characters)`;
}

// ---------------------------------------------------------------------------------------------
// The text rule every rendered string passes.

interface TextRule {
  /** Longest value accepted, in characters. */
  readonly max: number;
  /** Fix for a value that is too long. @default "shorten it" */
  readonly longFix?: string;
  /** Fix for a line break. @default "use a single-line value" */
  readonly singleLineFix?: string;
  /** Who would read a leading `-` as an option; undefined when a leading `-` is harmless. */
  readonly dashReader?: string;
  /** BuildKit trims white space around it (WORKDIR and, for one rule for all paths, COPY paths). */
  readonly trimmed?: boolean;
  /** BuildKit runs it through its shell lexer (WORKDIR, COPY paths): `$` variables, `\` escapes and quotes would change it. */
  readonly expanded?: boolean;
}

const LINE_BREAK = /[\n\r\u0085\u2028\u2029]/;
/** Half of a surrogate pair: JSON writes it as \ud800, which BuildKit (Go) reads as U+FFFD. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Length, control characters, here-documents, leading dashes, expansion and secrets: every problem of one string. */
function textIssues(value: string, path: string, rule: TextRule): ValidationIssue[] {
  if (value.length > rule.max) {
    // The other rules are moot until it is short enough (and a megabyte value is not scanned for them).
    return [{ path, value, problem: `is ${value.length} characters long, over the limit of ${rule.max}`, fix: rule.longFix ?? `shorten it to at most ${rule.max} characters` }];
  }
  const issues: ValidationIssue[] = [];
  const control = CONTROL.exec(value) ?? LINE_BREAK.exec(value);
  if (control !== null) {
    const code = `U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`;
    issues.push(
      LINE_BREAK.test(value)
        ? { path, value, problem: "contains a line break", fix: rule.singleLineFix ?? "use a single-line value" }
        : { path, value, problem: `contains the control character ${code}`, fix: "remove control characters (use spaces instead of tabs)" },
    );
  }
  if (LONE_SURROGATE.test(value)) {
    issues.push({ path, value, problem: "is not valid Unicode text (it holds half of a surrogate pair)", fix: "give the text as valid UTF-16 (whole characters only)" });
  }
  if (rule.trimmed === true && value.trim() !== value) {
    issues.push({ path, value, problem: "starts or ends with white space, which BuildKit drops", fix: "remove the white space around it" });
  }
  if (value.includes("<<")) {
    issues.push({
      path,
      value,
      problem: 'contains "<<", which BuildKit reads as the start of a here-document that swallows the Dockerfile lines after it',
      fix: 'remove "<<" (put here-document content in a file in the build context and COPY it)',
    });
  }
  if (rule.dashReader !== undefined && value.trimStart().startsWith("-")) {
    issues.push({ path, value, problem: `starts with "-", which ${rule.dashReader} reads as an option`, fix: 'remove the leading "-" (name a program or path first)' });
  }
  if (rule.expanded === true && /[$\\'"]/.test(value)) {
    issues.push({
      path,
      value,
      problem: "contains $, \\ or a quote, which BuildKit expands (variables, escapes, quoting), so the path built would differ from the spec",
      fix: "give the literal path, without $, \\, ' and \"",
    });
  }
  const secret = secretValueKind(value);
  if (secret !== undefined) {
    issues.push({ path, value: redacted(value), problem: `looks like ${secret}, which would be readable by anyone who pulls the image`, fix: SECRET_FIX });
  }
  return issues;
}

const RUN_RULE: TextRule = {
  max: LIMITS.runStep,
  longFix: `keep a step under ${LIMITS.runStep} characters: split it into several steps, or put it in a script in the build context`,
  singleLineFix: "give one single-line command per step (chain with && inside one step)",
  dashReader: "BuildKit (a RUN flag such as --mount or --network) or the shell",
};
const PATH_RULE: TextRule = { max: LIMITS.path, singleLineFix: "use a single-line path", expanded: true, trimmed: true };
const VALUE_RULE: TextRule = { max: LIMITS.value };
const ARGUMENT_RULE: TextRule = { max: LIMITS.argument, singleLineFix: "give single-line arguments" };

/** Too many entries in a list or map. */
function countIssues(count: number, max: number, path: string, value: unknown, what: string): ValidationIssue[] {
  return count > max ? [{ path, value: `${count} ${what}`, problem: `has ${count} ${what}, over the limit of ${max}`, fix: `keep at most ${max} ${what}` }] : [];
}

// ---------------------------------------------------------------------------------------------
// Policy.

export function validateEnvironmentPolicy(policy: unknown, path = "policy"): ValidationIssue[] {
  const structural = structuralIssues(environmentPolicySchema, policy, path);
  if (structural.length > 0) {
    return structural;
  }
  const p = policy as EnvironmentPolicy;
  const issues: ValidationIssue[] = [];
  if (p.environment === "prod" && p.allowTagOnlyBases === true) {
    issues.push({
      path: joinPath(path, "allowTagOnlyBases"),
      value: true,
      problem: "prod never allows tag-only bases",
      fix: "remove allowTagOnlyBases for prod and pin every base by digest (repo:tag@sha256:...)",
    });
  }
  if (p.mirror !== undefined && mirrorProblem(p.mirror) !== undefined) {
    issues.push({
      path: joinPath(path, "mirror"),
      value: p.mirror,
      problem: `is not a registry prefix: ${mirrorProblem(p.mirror)}`,
      fix: "give host[:port][/path] of your pull-through cache, without scheme or tag, e.g. mirror.example.internal/hub",
    });
  }
  // The upper bound keeps the created label a 4-digit-year RFC 3339 time (Date throws beyond 8.64e12 s).
  if (p.sourceDateEpoch !== undefined && (!Number.isInteger(p.sourceDateEpoch) || p.sourceDateEpoch < 0 || p.sourceDateEpoch > MAX_SOURCE_DATE_EPOCH)) {
    issues.push({
      path: joinPath(path, "sourceDateEpoch"),
      value: p.sourceDateEpoch,
      problem: `must be a whole number of seconds since 1970, at most ${MAX_SOURCE_DATE_EPOCH} (9999-12-31T23:59:59Z)`,
      fix: "use the commit time, e.g. `git log -1 --format=%ct`",
    });
  }
  return issues;
}

/** A mirror is the host (and path) every host-less reference is put under: it must make a reference with a host. */
function mirrorProblem(mirror: string): string | undefined {
  if (mirror.length > LIMITS.mirror) {
    return `it is longer than ${LIMITS.mirror} characters`;
  }
  const trimmed = mirror.replace(/\/$/, "");
  const probe = `${trimmed}/library/probe`;
  const problem = referenceProblem(probe);
  if (problem !== undefined) {
    return problem.replace("/library/probe", "");
  }
  const host = parseReference(probe).host;
  return host === undefined || host !== trimmed.split("/")[0] ? "its first component is not a registry host (a name with a dot or a port, or localhost)" : undefined;
}

// ---------------------------------------------------------------------------------------------
// Image specs.

/** All problems of one image spec under a policy (the policy itself is checked separately). */
export function validateImageSpec(spec: unknown, policy: EnvironmentPolicy, path = "image"): ValidationIssue[] {
  const structural = structuralIssues(imageSpecSchema, spec, path);
  if (structural.length > 0) {
    return structural;
  }
  const s = spec as ImageSpec;
  const issues: ValidationIssue[] = [];
  const at = (key: string | number, base = path) => joinPath(base, key);
  const info = CATALOG[s.flavor];
  const hardening = s.hardening ?? "strict";
  const runtimeHasShell = info.hasShell && hardening !== "strict";
  // `?.`: renderDockerfile validates spec and policy together, so a missing policy must not crash here.
  const digestRequired = policy?.environment === "prod" || policy?.allowTagOnlyBases !== true;
  const mirror = typeof policy?.mirror === "string" && mirrorProblem(policy.mirror) === undefined ? policy.mirror : undefined;

  if (s.name.length < 2 || s.name.length > 256 || !REPOSITORY_NAME.test(s.name)) {
    issues.push({
      path: at("name"),
      value: s.name,
      problem: "is not a valid repository name",
      fix: "use 2-256 lowercase characters a-z0-9 separated by . _ - or /, starting and ending with a letter or digit",
    });
  }

  // Bases.
  if (s.flavor === "scratch") {
    if (s.base !== undefined) {
      issues.push({ path: at("base"), value: s.base, problem: "scratch has no base image", fix: "remove base, or pick a flavor with a base" });
    }
  } else {
    issues.push(...referenceIssues(s.base ?? defaultBase(s.flavor), s.base === undefined, at("base"), digestRequired, "base", mirror));
  }

  // Builder stages.
  const builders = s.builders ?? [];
  issues.push(...countIssues(builders.length, LIMITS.builders, at("builders"), builders, "builder stages"));
  const stageNames = new Map<string, number>();
  builders.forEach((b, i) => {
    const bp = at(i, at("builders"));
    if (!STAGE_NAME.test(b.name)) {
      issues.push({ path: joinPath(bp, "name"), value: b.name, problem: "is not a valid stage name", fix: "use a lowercase name such as \"build\" (a-z0-9 . _ -, at most 63)" });
    } else if (b.name === RUNTIME_STAGE) {
      issues.push({ path: joinPath(bp, "name"), value: b.name, problem: `"${RUNTIME_STAGE}" is the final stage's name`, fix: "pick another name, e.g. \"build\"" });
    } else if ((BUILDKIT_RESERVED_STAGES as readonly string[]).includes(b.name)) {
      issues.push({ path: joinPath(bp, "name"), value: b.name, problem: "is a stage name BuildKit reserves", fix: "pick another name, e.g. \"build\"" });
    } else if (stageNames.has(b.name)) {
      issues.push({
        path: joinPath(bp, "name"),
        value: b.name,
        problem: `duplicate stage name (also builders[${stageNames.get(b.name)}])`,
        fix: "give every builder stage a unique name",
      });
    }
    const earlier = new Set(stageNames.keys());
    if (!stageNames.has(b.name)) {
      stageNames.set(b.name, i);
    }
    issues.push(...referenceIssues(b.image ?? defaultBuilderImage(s.flavor), b.image === undefined, joinPath(bp, "image"), digestRequired, "builder", mirror));
    if (b.workdir !== undefined) {
      issues.push(...absolutePathIssues(b.workdir, joinPath(bp, "workdir")));
    }
    const manager: PackageManager = b.packageManager ?? (b.image !== undefined ? guessPackageManager(b.image) : info.builder.packageManager);
    issues.push(...packageIssues(b.packages, manager, joinPath(bp, "packages"), `builder "${b.name}"`));
    issues.push(...copyIssues(b.copy ?? [], earlier, joinPath(bp, "copy")));
    const run = b.run ?? [];
    issues.push(...countIssues(run.length, LIMITS.entries, joinPath(bp, "run"), run, "steps"));
    run.forEach((cmd, j) => {
      const rp = joinPath(joinPath(bp, "run"), j);
      if (cmd.trim() === "") {
        issues.push({ path: rp, value: cmd, problem: "is an empty build step", fix: RUN_RULE.singleLineFix as string });
      } else {
        issues.push(...textIssues(cmd, rp, RUN_RULE));
      }
    });
    issues.push(...variableIssues(b.env, joinPath(bp, "env")));
  });

  // Runtime stage.
  issues.push(...copyIssues(s.copy ?? [], new Set(stageNames.keys()), at("copy")));
  issues.push(...packageIssues(s.packages, info.packageManager, at("packages"), `flavor ${s.flavor}`));
  for (const key of ["entrypoint", "cmd"] as const) {
    const value = s[key];
    if (typeof value === "string") {
      if (!runtimeHasShell) {
        issues.push({
          path: at(key),
          value,
          problem: `shell form needs /bin/sh, which the ${s.flavor} runtime ${info.hasShell ? "loses under strict hardening" : "does not have"}`,
          fix: `use exec form, e.g. ${JSON.stringify(value.trim().split(/\s+/).slice(0, 8))}`,
        });
      } else if (value.trim() === "") {
        issues.push({ path: at(key), value, problem: "is empty", fix: "give the command to run, or remove it" });
      } else {
        issues.push(...textIssues(value, at(key), { max: LIMITS.runStep, singleLineFix: "give a single-line command, or use exec form", dashReader: "the shell (/bin/sh -c)" }));
      }
    } else if (value !== undefined) {
      issues.push(...commandIssues(value, at(key), 'give the program as the first element, e.g. ["/app"]'));
    }
  }
  if (s.entrypoint === undefined && s.cmd === undefined) {
    issues.push({ path: at("entrypoint"), value: undefined, problem: "the image has nothing to run", fix: "set entrypoint (exec form), e.g. [\"/app\"]" });
  }
  if (s.user !== undefined) {
    issues.push(...userIssues(s.user, at("user")));
  }
  if (s.workdir !== undefined) {
    issues.push(...absolutePathIssues(s.workdir, at("workdir")));
  }
  issues.push(...variableIssues(s.env, at("env")));
  issues.push(...variableIssues(s.args, at("args")));
  const expose = s.expose ?? [];
  issues.push(...countIssues(expose.length, LIMITS.entries, at("expose"), expose, "ports"));
  expose.forEach((p, i) => {
    const m = PORT.exec(String(p));
    const n = m === null ? NaN : Number(m[1]);
    if (m === null || !Number.isInteger(n) || n < 1 || n > 65535) {
      issues.push({ path: at(i, at("expose")), value: p, problem: "is not a port", fix: "use a number 1-65535, optionally with /tcp or /udp" });
    }
  });
  if (s.healthcheck !== undefined) {
    const hp = at("healthcheck");
    issues.push(...commandIssues(s.healthcheck.test, joinPath(hp, "test"), 'give the exec-form check, e.g. ["/app", "--health"]'));
    for (const key of ["interval", "timeout", "startPeriod"] as const) {
      const v = s.healthcheck[key];
      if (v !== undefined && !DURATION.test(v)) {
        issues.push({ path: joinPath(hp, key), value: v, problem: "is not a duration", fix: "use a number with ms, s, m or h, e.g. \"30s\"" });
      } else if (v !== undefined && /^0+(?:ms|s|m|h)$/.test(v)) {
        issues.push({ path: joinPath(hp, key), value: v, problem: "is zero, which Docker refuses", fix: key === "startPeriod" ? "remove it for no grace period, or give at least 1ms" : "use at least 1ms, e.g. \"30s\"" });
      }
    }
    const r = s.healthcheck.retries;
    if (r !== undefined && (!Number.isInteger(r) || r < 1 || r > 100)) {
      issues.push({ path: joinPath(hp, "retries"), value: r, problem: "must be a whole number from 1 to 100", fix: "use e.g. 3" });
    }
  }
  issues.push(...labelIssues(s.labels, at("labels")));
  if (s.source?.url !== undefined) {
    const up = joinPath(at("source"), "url");
    // No white space: the URL is rendered into a LABEL.
    if (!URL_LIKE.test(s.source.url) || /\s/.test(s.source.url)) {
      issues.push({ path: up, value: s.source.url, problem: "is not a URL", fix: "give the repository URL, e.g. https://git.example.com/team/images" });
    } else {
      issues.push(...textIssues(s.source.url, up, { max: LIMITS.url }));
    }
  }
  if (s.source?.revision !== undefined && !REVISION.test(s.source.revision)) {
    issues.push({ path: joinPath(at("source"), "revision"), value: s.source.revision, problem: "is not a revision", fix: "give the commit SHA" });
  }
  if (s.context !== undefined) {
    issues.push(...contextIssues(s.context, at("context")));
  }
  const platforms = s.platforms ?? [];
  if (platforms.length === 0 && s.platforms !== undefined) {
    issues.push({ path: at("platforms"), value: s.platforms, problem: "is empty", fix: "list at least one platform, e.g. [\"linux/amd64\"]" });
  }
  if (new Set(platforms).size !== platforms.length) {
    issues.push({ path: at("platforms"), value: s.platforms, problem: "lists a platform twice", fix: "list each platform once" });
  }
  // Each value is within its limit; what is left is a combination that makes a line too long.
  if (issues.length === 0 && policy !== null && typeof policy === "object" && validateEnvironmentPolicy(policy).length === 0) {
    issues.push(...renderedLineIssues(s, policy, path));
  }
  return issues;
}

/**
 * The context directory, as a path: relative, inside the program's directory, a plain path that
 * `docker build` cannot read as an option. Whether it exists and stays inside once symlinks are
 * resolved is checked on disk by `resolveContextDirectory` (components/image/context-hash.ts).
 */
export function contextIssues(context: string, path: string): ValidationIssue[] {
  const text = textIssues(context, path, { max: LIMITS.context, singleLineFix: "use a single-line path", dashReader: "docker build" });
  if (text.length > 0) {
    return text;
  }
  if (context.trim() === "") {
    return [{ path, value: context, problem: "is empty", fix: 'give a directory relative to the program\'s directory, e.g. "images/hello", or remove it for "."' }];
  }
  if (context.startsWith("/") || /^[A-Za-z]:[\\/]/.test(context) || context.startsWith("\\")) {
    return [{
      path,
      value: context,
      problem: "is an absolute path, which differs between machines and makes previews noisy",
      fix: "use a path relative to the program's directory, e.g. \"images/hello\"",
    }];
  }
  const segments = context.split(/[\\/]+/);
  let depth = 0;
  for (const segment of segments) {
    depth += segment === ".." ? -1 : segment === "." || segment === "" ? 0 : 1;
    if (depth < 0) {
      return [{ path, value: context, problem: "leaves the program's directory", fix: "give a directory inside the program's directory, e.g. \"images/hello\"" }];
    }
  }
  return [];
}

/** Every rendered line within BuildKit's limit; a line too long names the property it came from. */
function renderedLineIssues(spec: ImageSpec, policy: EnvironmentPolicy, path: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const reported = new Set<string>();
  for (const line of renderLines(resolveImage(spec, policy))) {
    const bytes = Buffer.byteLength(line.text, "utf8");
    const source = line.source === "" ? path : joinPath(path, line.source);
    if (bytes > LIMITS.renderedLineBytes && !reported.has(source)) {
      reported.add(source);
      issues.push({
        path: source,
        value: `${line.text.slice(0, 60)}... (${bytes} bytes)`,
        problem: `renders a Dockerfile line of ${bytes} bytes, and BuildKit refuses lines over ${LIMITS.renderedLineBytes} bytes`,
        fix: "shorten the values or give fewer of them",
      });
    }
  }
  return issues;
}

/** Validates every image and the policy; throws one report with every problem. */
export function assertValidImages(specs: readonly unknown[], policy: unknown, title = "Invalid golden image spec"): void {
  const issues = validateImages(specs, policy);
  throwIfIssues(title, issues);
}

export function validateImages(specs: readonly unknown[], policy: unknown, imagesPath = "images", policyPath = "policy"): ValidationIssue[] {
  const issues = validateEnvironmentPolicy(policy, policyPath);
  if (issues.length > 0) {
    return issues;
  }
  if (!Array.isArray(specs)) {
    return [{ path: imagesPath, value: specs, problem: "must be a list of image specs", fix: "give a list, e.g. [{ name: \"hello\", flavor: \"distroless-static\", ... }]" }];
  }
  const seen = new Map<string, number>();
  specs.forEach((spec, i) => {
    const path = joinPath(imagesPath, i);
    issues.push(...prepareImage(spec, policy, path, policyPath).issues);
    const name = (spec as { name?: unknown } | null | undefined)?.name;
    if (typeof name === "string") {
      if (seen.has(name)) {
        issues.push({ path: joinPath(path, "name"), value: name, problem: `duplicate image name (also ${joinPath(imagesPath, seen.get(name) as number)})`, fix: "give every image a unique name" });
      } else {
        seen.set(name, i);
      }
    }
  });
  return issues;
}

function referenceIssues(
  ref: string | undefined,
  defaulted: boolean,
  path: string,
  digestRequired: boolean,
  what: "base" | "builder",
  mirror: string | undefined,
): ValidationIssue[] {
  if (ref === undefined) {
    return [];
  }
  const problem = referenceProblem(ref);
  if (problem !== undefined) {
    return [{ path, value: ref, problem: `is not an image reference: ${problem}`, fix: "use repository[:tag]@sha256:<digest>" }];
  }
  const resolvedProblem = referenceProblem(resolveThroughMirror(ref, mirror));
  if (resolvedProblem !== undefined) {
    return [{ path, value: ref, problem: `is not an image reference under the mirror: ${resolvedProblem}`, fix: "shorten the reference or the mirror" }];
  }
  const parsed = parseReference(ref);
  const issues: ValidationIssue[] = [];
  if (parsed.tag === "latest") {
    issues.push({ path, value: ref, problem: "uses the mutable tag \"latest\"", fix: "pin a version tag and its digest, e.g. repo:1.2.3@sha256:<digest>" });
  }
  if (digestRequired && (parsed.digest === undefined || !DIGEST.test(parsed.digest))) {
    issues.push({
      path,
      value: defaulted ? undefined : ref,
      problem: defaulted
        ? `the catalog ${what} "${ref}" is not pinned and this environment requires digests`
        : "has no digest and this environment requires digests",
      fix: `pin it: "${ref}@sha256:<digest>" (the digest your mirror serves)${defaulted ? `; set ${path} explicitly` : ""}`,
    });
  }
  return issues;
}

/** WORKDIR and COPY destinations: absolute, literal (no expansion), within the text rule. */
function absolutePathIssues(value: string, path: string): ValidationIssue[] {
  const text = textIssues(value, path, PATH_RULE);
  if (text.length > 0) {
    return text;
  }
  if (!value.startsWith("/")) {
    return [{ path, value, problem: "is not an absolute path", fix: `use an absolute path, e.g. "/${value.replace(/^\.?\/*/, "")}"` }];
  }
  return [];
}

function userIssues(user: string | number, path: string): ValidationIssue[] {
  const text = String(user).trim();
  const m = USER.exec(text);
  if (text === "") {
    return [{ path, value: user, problem: "is missing", fix: "remove it to get the catalog's nonroot 65532:65532, or give a numeric non-root UID" }];
  }
  if (m === null) {
    return [{ path, value: user, problem: "is not a numeric UID[:GID]", fix: "use numbers (e.g. \"65532:65532\") so Kubernetes runAsNonRoot can verify the user" }];
  }
  if (Number(m[1]) === 0) {
    return [{ path, value: user, problem: "runs as root", fix: "use a non-root UID such as 65532 (the catalog's nonroot)" }];
  }
  if (m[2] !== undefined && Number(m[2]) === 0) {
    return [{ path, value: user, problem: "runs with the root group", fix: "use a non-root GID such as 65532" }];
  }
  if (Number(m[1]) > 2147483647 || (m[2] !== undefined && Number(m[2]) > 2147483647)) {
    return [{ path, value: user, problem: "is out of range", fix: "use an ID below 2147483648, e.g. 65532" }];
  }
  return [];
}

/** Exec-form commands (entrypoint, cmd, healthcheck test): a program first, each argument within the text rule. */
function commandIssues(command: readonly string[], path: string, emptyFix: string): ValidationIssue[] {
  if (command.length === 0 || command[0] === "") {
    return [{ path, value: command, problem: "is an empty command", fix: emptyFix }];
  }
  const issues = countIssues(command.length, LIMITS.entries, path, command, "arguments");
  if (issues.length > 0) {
    return issues;
  }
  command.forEach((arg, i) => issues.push(...textIssues(arg, joinPath(path, i), ARGUMENT_RULE)));
  return issues;
}

/** ENV and ARG maps: names, secret-looking names and values, the text rule on values. */
function variableIssues(env: Readonly<Record<string, string>> | undefined, path: string): ValidationIssue[] {
  const names = Object.keys(env ?? {});
  const issues = countIssues(names.length, LIMITS.entries, path, env, "variables");
  if (issues.length > 0) {
    return issues;
  }
  for (const name of names.sort()) {
    const p = joinKey(path, name);
    if (name.length > LIMITS.variableName || !ENV_NAME.test(name)) {
      issues.push({ path: p, value: name, problem: "is not a variable name", fix: `use letters, digits and _, not starting with a digit, at most ${LIMITS.variableName}` });
    } else if (isSecretName(name)) {
      issues.push({ path: p, value: name, problem: "looks like a secret, which would be readable by anyone who pulls the image", fix: SECRET_FIX });
    }
    issues.push(...textIssues((env ?? {})[name], p, VALUE_RULE));
  }
  return issues;
}

function labelIssues(labels: Readonly<Record<string, string>> | undefined, path: string): ValidationIssue[] {
  const keys = Object.keys(labels ?? {});
  const issues = countIssues(keys.length, LIMITS.entries, path, labels, "labels");
  if (issues.length > 0) {
    return issues;
  }
  for (const key of keys.sort()) {
    const p = joinKey(path, key);
    const value = (labels ?? {})[key];
    if ((RENDERER_LABELS as readonly string[]).includes(key)) {
      issues.push({
        path: p,
        value,
        problem: "is set by the renderer from the real base, source and commit time",
        fix: key.endsWith("source") || key.endsWith("revision") ? "set source.url / source.revision instead" : "remove it",
      });
    } else if (key.length > LIMITS.labelKey || !LABEL_KEY.test(key)) {
      issues.push({ path: p, value: key, problem: "is not a label key", fix: `use a lowercase reverse-DNS key, e.g. com.example.team, at most ${LIMITS.labelKey}` });
    }
    issues.push(...textIssues(value, p, VALUE_RULE));
  }
  return issues;
}

function packageIssues(packages: readonly string[] | undefined, manager: PackageManager, path: string, owner: string): ValidationIssue[] {
  if (packages === undefined || packages.length === 0) {
    return [];
  }
  if (manager === "none") {
    return [{
      path,
      value: packages,
      problem: `${owner} has no package manager`,
      fix: "install packages in a builder stage and copy what the program needs, or use a flavor with a package manager (debian-slim, alpine)",
    }];
  }
  const issues = countIssues(packages.length, LIMITS.entries, path, packages, "packages");
  if (issues.length > 0) {
    return issues;
  }
  const grammar = manager === "apk" ? APK_PACKAGE : DEBIAN_PACKAGE;
  packages.forEach((p, i) => {
    if (p.length > LIMITS.packageName || !grammar.test(p)) {
      issues.push({
        path: joinPath(path, i),
        value: p,
        problem: manager === "apk" ? "is not an Alpine package name" : "is not a Debian package name",
        fix:
          manager === "apk"
            ? "give a package name (a-z0-9 . _ + -, starting with a letter or digit), optionally with =version, e.g. ca-certificates=20240705-r0"
            : "give a package name (a-z0-9 + - ., at least 2 characters, starting with a letter or digit), optionally with =version, e.g. tzdata=2024a-0+deb12u1",
      });
    }
  });
  return issues;
}

function copyIssues(copies: readonly CopySpec[], stages: ReadonlySet<string>, path: string): ValidationIssue[] {
  const issues = countIssues(copies.length, LIMITS.entries, path, copies, "copies");
  if (issues.length > 0) {
    return issues;
  }
  copies.forEach((c, i) => {
    const p = joinPath(path, i);
    const sp = joinPath(p, "src");
    if (URL_LIKE.test(c.src)) {
      issues.push({
        path: sp,
        value: c.src,
        problem: "fetches a remote URL (ADD of a URL is unverified and not reproducible)",
        fix: "download it in a builder stage with a checksum check (e.g. curl then sha256sum -c) and copy the result",
      });
    } else if (GIT_SCP.test(c.src)) {
      issues.push({
        path: sp,
        value: c.src,
        problem: "is a git remote (user@host:path), which BuildKit refuses to COPY",
        fix: "clone it in a builder stage at a pinned commit and copy the result, or give a path relative to the build context",
      });
    } else if (c.src.trim() === "") {
      issues.push({ path: sp, value: c.src, problem: "is not a path", fix: "give a path" });
    } else {
      const text = textIssues(c.src, sp, PATH_RULE);
      issues.push(...text);
      if (text.length === 0 && c.from === undefined && (c.src.startsWith("/") || c.src.split("/").includes(".."))) {
        issues.push({ path: sp, value: c.src, problem: "leaves the build context", fix: "give a path relative to the build context" });
      }
    }
    if (c.from !== undefined && !stages.has(c.from)) {
      issues.push({
        path: joinPath(p, "from"),
        value: c.from,
        problem: "is not an earlier builder stage",
        fix: stages.size === 0 ? "add a builder stage with that name first" : `use one of: ${[...stages].sort().map((n) => `"${n}"`).join(", ")}`,
      });
    }
    issues.push(...absolutePathIssues(c.dest, joinPath(p, "dest")));
  });
  return issues;
}
