/**
 * Hardening validation: every rule of the golden-image policy, all problems reported at once,
 * each naming the property path, the bad value and the fix. Pure; runs before anything is created.
 */
import { CATALOG } from "../spec/catalog";
import { DIGEST, parseReference, referenceProblem } from "../spec/reference";
import { CopySpec, EnvironmentPolicy, ImageSpec } from "../spec/types";
import { joinPath, throwIfIssues, ValidationIssue } from "./issues";
import { defaultBase, defaultBuilderImage } from "./resolve";
import { environmentPolicySchema, imageSpecSchema, structuralIssues } from "./schema";

/** ENV/ARG names that look like they carry a secret. */
export const SECRET_NAME = /(^|_)(PASSWORD|PASSWD|PASS|TOKEN|SECRET|KEY|APIKEY|PRIVATE_KEY|CREDENTIALS?)$/i;
const SECRET_FIX = "never bake secrets into an image: use a BuildKit secret mount (RUN --mount=type=secret) at build time or a secret store at run time";
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const STAGE_NAME = /^[a-z][a-z0-9_.-]{0,62}$/;
const REPOSITORY_NAME = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const USER = /^(\d+)(?::(\d+))?$/;
const PORT = /^(\d+)(?:\/(tcp|udp|sctp))?$/;
const DURATION = /^\d+(?:ms|s|m|h)$/;
const URL_LIKE = /^[a-z][a-z0-9+.-]*:\/\//i;
/** Docker reads a trailing backslash (then blanks) as a line continuation: the next instruction would join this one. */
const CONTINUATION = /\\[ \t]*$/;
const CONTINUATION_PROBLEM = "ends with a backslash, which Docker reads as a line continuation into the next instruction";
const PACKAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9+.~:_=<>-]*$/;
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
  if (p.mirror !== undefined && !/^[A-Za-z0-9.-]+(?::\d+)?(?:\/[a-z0-9._-]+)*\/?$/.test(p.mirror)) {
    issues.push({
      path: joinPath(path, "mirror"),
      value: p.mirror,
      problem: "is not a registry prefix",
      fix: "give host[:port][/path] of your pull-through cache, without scheme or tag",
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
    issues.push(...referenceIssues(s.base ?? defaultBase(s.flavor), s.base === undefined, at("base"), digestRequired, "base"));
  }

  // Builder stages.
  const stageNames = new Map<string, number>();
  (s.builders ?? []).forEach((b, i) => {
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
    issues.push(...referenceIssues(b.image ?? defaultBuilderImage(s.flavor), b.image === undefined, joinPath(bp, "image"), digestRequired, "builder"));
    if (b.workdir !== undefined) {
      issues.push(...workdirIssues(b.workdir, joinPath(bp, "workdir")));
    }
    issues.push(...packageIssues(b.packages, b.packageManager === "none" ? "none" : "apt", joinPath(bp, "packages"), `builder "${b.name}"`));
    issues.push(...copyIssues(b.copy ?? [], earlier, joinPath(bp, "copy")));
    (b.run ?? []).forEach((cmd, j) => {
      if (cmd.trim() === "" || /[\r\n]/.test(cmd) || CONTINUATION.test(cmd)) {
        issues.push({
          path: joinPath(joinPath(bp, "run"), j),
          value: cmd,
          problem: cmd.trim() === "" ? "is an empty build step" : CONTINUATION.test(cmd) ? CONTINUATION_PROBLEM : "contains a line break",
          fix: "give one single-line command per step (chain with && inside one step)",
        });
      }
    });
    issues.push(...envIssues(b.env, joinPath(bp, "env")));
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
          fix: `use exec form, e.g. ${JSON.stringify(value.trim().split(/\s+/))}`,
        });
      } else if (value.trim() === "") {
        issues.push({ path: at(key), value, problem: "is empty", fix: "give the command to run, or remove it" });
      } else if (/[\r\n]/.test(value)) {
        // Rendered verbatim: a line break would start a new instruction (e.g. USER 0).
        issues.push({ path: at(key), value, problem: "contains a line break", fix: "give a single-line command, or use exec form" });
      } else if (CONTINUATION.test(value)) {
        issues.push({ path: at(key), value, problem: CONTINUATION_PROBLEM, fix: "remove the trailing backslash, or use exec form" });
      }
    } else if (value !== undefined && (value.length === 0 || value[0] === "")) {
      issues.push({ path: at(key), value, problem: "is an empty command", fix: "give the program as the first element, e.g. [\"/app\"]" });
    }
  }
  if (s.entrypoint === undefined && s.cmd === undefined) {
    issues.push({ path: at("entrypoint"), value: undefined, problem: "the image has nothing to run", fix: "set entrypoint (exec form), e.g. [\"/app\"]" });
  }
  if (s.user !== undefined) {
    const text = String(s.user).trim();
    const m = USER.exec(text);
    if (text === "") {
      issues.push({ path: at("user"), value: s.user, problem: "is missing", fix: "remove it to get the catalog's nonroot 65532:65532, or give a numeric non-root UID" });
    } else if (m === null) {
      issues.push({
        path: at("user"),
        value: s.user,
        problem: "is not a numeric UID[:GID]",
        fix: "use numbers (e.g. \"65532:65532\") so Kubernetes runAsNonRoot can verify the user",
      });
    } else if (Number(m[1]) === 0) {
      issues.push({ path: at("user"), value: s.user, problem: "runs as root", fix: "use a non-root UID such as 65532 (the catalog's nonroot)" });
    } else if (m[2] !== undefined && Number(m[2]) === 0) {
      issues.push({ path: at("user"), value: s.user, problem: "runs with the root group", fix: "use a non-root GID such as 65532" });
    } else if (Number(m[1]) > 2147483647 || (m[2] !== undefined && Number(m[2]) > 2147483647)) {
      issues.push({ path: at("user"), value: s.user, problem: "is out of range", fix: "use an ID below 2147483648, e.g. 65532" });
    }
  }
  if (s.workdir !== undefined) {
    issues.push(...workdirIssues(s.workdir, at("workdir")));
  }
  issues.push(...envIssues(s.env, at("env")));
  issues.push(...envIssues(s.args, at("args")));
  (s.expose ?? []).forEach((p, i) => {
    const m = PORT.exec(String(p));
    const n = m === null ? NaN : Number(m[1]);
    if (m === null || !Number.isInteger(n) || n < 1 || n > 65535) {
      issues.push({ path: at(i, at("expose")), value: p, problem: "is not a port", fix: "use a number 1-65535, optionally with /tcp or /udp" });
    }
  });
  if (s.healthcheck !== undefined) {
    const hp = at("healthcheck");
    if (s.healthcheck.test.length === 0 || s.healthcheck.test[0] === "") {
      issues.push({ path: joinPath(hp, "test"), value: s.healthcheck.test, problem: "is an empty command", fix: "give the exec-form check, e.g. [\"/app\", \"--health\"]" });
    }
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
  for (const key of Object.keys(s.labels ?? {}).sort()) {
    if ((RENDERER_LABELS as readonly string[]).includes(key)) {
      issues.push({
        path: joinPath(at("labels"), key),
        value: (s.labels ?? {})[key],
        problem: "is set by the renderer from the real base, source and commit time",
        fix: key.endsWith("source") || key.endsWith("revision") ? "set source.url / source.revision instead" : "remove it",
      });
    } else if (!/^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$/.test(key)) {
      issues.push({ path: joinPath(at("labels"), key), value: key, problem: "is not a label key", fix: "use a lowercase reverse-DNS key, e.g. com.example.team" });
    }
    // Label values are rendered inside quotes, but a line break still ends the LABEL instruction.
    if (/[\r\n]/.test((s.labels ?? {})[key])) {
      issues.push({ path: joinPath(at("labels"), key), value: (s.labels ?? {})[key], problem: "contains a line break", fix: "use a single-line value" });
    }
  }
  // No white space: the URL is rendered into a LABEL, where a line break would start a new instruction.
  if (s.source?.url !== undefined && (!URL_LIKE.test(s.source.url) || /\s/.test(s.source.url))) {
    issues.push({ path: joinPath(at("source"), "url"), value: s.source.url, problem: "is not a URL", fix: "give the repository URL, e.g. https://git.example.com/team/images" });
  }
  if (s.source?.revision !== undefined && !/^[A-Za-z0-9._/-]{1,200}$/.test(s.source.revision)) {
    issues.push({ path: joinPath(at("source"), "revision"), value: s.source.revision, problem: "is not a revision", fix: "give the commit SHA" });
  }
  if (s.context !== undefined) {
    if (s.context.startsWith("/") || /^[A-Za-z]:[\\/]/.test(s.context)) {
      issues.push({
        path: at("context"),
        value: s.context,
        problem: "is an absolute path, which differs between machines and makes previews noisy",
        fix: "use a path relative to the program's directory, e.g. \"images/hello\"",
      });
    }
  }
  const platforms = s.platforms ?? [];
  if (platforms.length === 0 && s.platforms !== undefined) {
    issues.push({ path: at("platforms"), value: s.platforms, problem: "is empty", fix: "list at least one platform, e.g. [\"linux/amd64\"]" });
  }
  if (new Set(platforms).size !== platforms.length) {
    issues.push({ path: at("platforms"), value: s.platforms, problem: "lists a platform twice", fix: "list each platform once" });
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
  const seen = new Map<string, number>();
  specs.forEach((spec, i) => {
    const path = joinPath(imagesPath, i);
    issues.push(...validateImageSpec(spec, policy as EnvironmentPolicy, path));
    const name = (spec as { name?: unknown } | undefined)?.name;
    if (typeof name === "string") {
      if (seen.has(name)) {
        issues.push({ path: joinPath(path, "name"), value: name, problem: `duplicate image name (also ${imagesPath}[${seen.get(name)}])`, fix: "give every image a unique name" });
      } else {
        seen.set(name, i);
      }
    }
  });
  return issues;
}

function referenceIssues(ref: string | undefined, defaulted: boolean, path: string, digestRequired: boolean, what: "base" | "builder"): ValidationIssue[] {
  if (ref === undefined) {
    return [];
  }
  const problem = referenceProblem(ref);
  if (problem !== undefined) {
    return [{ path, value: ref, problem: `is not an image reference: ${problem}`, fix: "use repository[:tag]@sha256:<digest>" }];
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
      fix: `pin it: "${parsed.tag === undefined ? ref : ref}@sha256:<digest>" (the digest your mirror serves)${defaulted ? `; set ${path} explicitly` : ""}`,
    });
  }
  return issues;
}

function absolutePathIssues(value: string, path: string): ValidationIssue[] {
  if (!value.startsWith("/") || /[\r\n]/.test(value)) {
    return [{ path, value, problem: "is not an absolute path", fix: `use an absolute path, e.g. "/${value.replace(/^\.?\/*/, "")}"` }];
  }
  return [];
}

/** WORKDIR is rendered verbatim (COPY paths are JSON), so it also must not end in a line continuation. */
function workdirIssues(value: string, path: string): ValidationIssue[] {
  const issues = absolutePathIssues(value, path);
  if (issues.length === 0 && CONTINUATION.test(value)) {
    issues.push({ path, value, problem: CONTINUATION_PROBLEM, fix: "remove the trailing backslash" });
  }
  return issues;
}

function envIssues(env: Readonly<Record<string, string>> | undefined, path: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const name of Object.keys(env ?? {}).sort()) {
    const p = joinPath(path, name);
    if (!ENV_NAME.test(name)) {
      issues.push({ path: p, value: name, problem: "is not a variable name", fix: "use letters, digits and _, not starting with a digit" });
    } else if (SECRET_NAME.test(name)) {
      issues.push({ path: p, value: name, problem: "looks like a secret, which would be readable by anyone who pulls the image", fix: SECRET_FIX });
    }
    if (/[\r\n]/.test((env ?? {})[name])) {
      issues.push({ path: p, value: (env ?? {})[name], problem: "contains a line break", fix: "use a single-line value" });
    }
  }
  return issues;
}

function packageIssues(packages: readonly string[] | undefined, manager: string, path: string, owner: string): ValidationIssue[] {
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
  const issues: ValidationIssue[] = [];
  packages.forEach((p, i) => {
    if (!PACKAGE_NAME.test(p)) {
      issues.push({ path: joinPath(path, i), value: p, problem: "is not a package name", fix: "give a package name, optionally with =version" });
    }
  });
  return issues;
}

function copyIssues(copies: readonly CopySpec[], stages: ReadonlySet<string>, path: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  copies.forEach((c, i) => {
    const p = joinPath(path, i);
    if (URL_LIKE.test(c.src)) {
      issues.push({
        path: joinPath(p, "src"),
        value: c.src,
        problem: "fetches a remote URL (ADD of a URL is unverified and not reproducible)",
        fix: "download it in a builder stage with a checksum check (e.g. curl then sha256sum -c) and copy the result",
      });
    } else if (c.src.trim() === "" || /[\r\n]/.test(c.src)) {
      issues.push({ path: joinPath(p, "src"), value: c.src, problem: "is not a path", fix: "give a path" });
    } else if (c.from === undefined && (c.src.startsWith("/") || c.src.split("/").includes(".."))) {
      issues.push({ path: joinPath(p, "src"), value: c.src, problem: "leaves the build context", fix: "give a path relative to the build context" });
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
