/**
 * The build context on disk: where it is (inside the program's directory, symlinks resolved, a
 * directory), what it holds (a content hash of exactly what `docker build` sends: paths, modes,
 * bytes, symlink targets, `.dockerignore` honoured), and the immutable content tag of a build.
 *
 * Hashing is bounded (file count and bytes, with a clear error) and cached per directory: a
 * second image on the same context, or a second preview in one process, re-reads no file
 * unless a file's size, time or inode changed.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { ValidationError, ValidationIssue } from "../render/issues";

export interface ContextLimits {
  /** Most entries (files, directories, symlinks) a context may hold. @default 20000 */
  readonly maxFiles: number;
  /** Most bytes of file content a context may hold. @default 536870912 (512 MiB) */
  readonly maxBytes: number;
}

export const CONTEXT_LIMITS: ContextLimits = { maxFiles: 20_000, maxBytes: 512 * 1024 * 1024 };

/** Left out of the hash when the context has no `.dockerignore` (a program directory's own state, never image content). */
const DEFAULT_IGNORED = [".git", "node_modules", ".pulumi"];
/** The tag grammar of the distribution spec, leaving room for the 16 hex characters of the hash. */
const TAG_PREFIX = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,111}$|^$/;

/**
 * Problems of a context directory on disk: it must exist, be a directory, and stay inside
 * `baseDirectory` once every symlink is resolved (realpath). Empty when it is fine.
 */
export function contextDirectoryIssues(baseDirectory: string, context: string, propertyPath = "context"): ValidationIssue[] {
  try {
    resolveContextDirectory(baseDirectory, context, propertyPath);
    return [];
  } catch (e) {
    if (e instanceof ValidationError) {
      return [...e.issues];
    }
    throw e;
  }
}

/** The real path of a context directory; throws a ValidationError naming `propertyPath` when it is not a usable one. */
export function resolveContextDirectory(baseDirectory: string, context: string, propertyPath = "context"): string {
  const fail = (problem: string, fix: string): never => {
    throw new ValidationError("Invalid build context", [{ path: propertyPath, value: context, problem, fix }]);
  };
  if (typeof context !== "string" || context.includes("\0")) {
    fail("is not a path", 'give a directory relative to the program\'s directory, e.g. "images/hello"');
  }
  let base: string;
  try {
    base = fs.realpathSync(baseDirectory);
  } catch (e) {
    return fail(`cannot be resolved: the directory it is relative to (${baseDirectory}) ${errorText(e)}`, "run from the program's directory, or fix the base directory");
  }
  let real = "";
  try {
    real = fs.realpathSync(path.resolve(base, context));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    fail(
      code === "ENOTDIR" ? "is not a directory (a part of it is a file)" : `does not exist or cannot be read (${errorText(e)})`,
      'give an existing directory relative to the program\'s directory, e.g. "images/hello"',
    );
  }
  if (real !== base && !real.startsWith(base.endsWith(path.sep) ? base : `${base}${path.sep}`)) {
    fail("leaves the program's directory once symlinks are resolved", "give a directory inside the program's directory (no symlink out of it)");
  }
  if (!fs.statSync(real).isDirectory()) {
    fail("is a file, not a directory", "give the directory that holds the files the image needs");
  }
  return real;
}

function errorText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code === "ENOENT" ? "does not exist" : code ?? (e as Error).message;
}

interface Entry {
  readonly rel: string;
  readonly kind: "dir" | "file" | "link" | "other";
  readonly stat: fs.Stats;
}

interface CachedHash {
  readonly fingerprint: string;
  readonly hash: string;
}

const cache = new Map<string, CachedHash>();

/** Forgets every cached context hash (tests that rewrite files within one millisecond). */
export function clearContextHashCache(): void {
  cache.clear();
}

/**
 * A content hash of a build context: what `docker build` sends (`.dockerignore` honoured), by
 * relative path, file mode, bytes and symlink target, sorted, so the same files give the same
 * hash on any machine and in any directory (no times, owners or absolute paths).
 */
export function hashBuildContext(
  dir: string,
  options: { readonly limits?: ContextLimits; readonly path?: string; readonly value?: string } = {},
): string {
  const limits = options.limits ?? CONTEXT_LIMITS;
  const propertyPath = options.path ?? "context";
  const real = fs.realpathSync(dir);
  const entries = walk(real, limits, propertyPath, options.value ?? dir);
  const fingerprint = crypto
    .createHash("sha256")
    .update(JSON.stringify([limits.maxFiles, limits.maxBytes]))
    .update(entries.map((e) => `${e.rel}\0${e.kind}\0${e.stat.mode}\0${e.stat.size}\0${e.stat.mtimeMs}\0${e.stat.ctimeMs}\0${e.stat.ino}`).join("\n"))
    .digest("hex");
  const cached = cache.get(real);
  if (cached !== undefined && cached.fingerprint === fingerprint) {
    return cached.hash;
  }
  const hash = crypto.createHash("sha256");
  hash.update("golden-context-v2\0");
  for (const e of entries) {
    // Permission bits (and the sticky bit; setuid/setgid files are refused) reach the image through COPY; owners and times do not.
    const mode = (e.stat.mode & 0o7777).toString(8);
    if (e.kind === "dir") {
      hash.update(`\0dir\0${e.rel}\0${mode}\0`);
    } else if (e.kind === "file") {
      hash.update(`\0file\0${e.rel}\0${mode}\0${e.stat.size}\0`);
      hash.update(fs.readFileSync(path.join(real, e.rel)));
    } else if (e.kind === "link") {
      hash.update(`\0link\0${e.rel}\0${fs.readlinkSync(path.join(real, e.rel))}\0`);
    } else {
      hash.update(`\0other\0${e.rel}\0${mode}\0`);
    }
  }
  const digest = hash.digest("hex");
  cache.set(real, { fingerprint, hash: digest });
  return digest;
}

/** Every entry of the context below `root`, sorted by path, within the limits; symlinks are not followed (docker sends them as links). */
function walk(root: string, limits: ContextLimits, propertyPath: string, shown: string): Entry[] {
  const ignore = readDockerignore(root);
  const entries: Entry[] = [];
  let bytes = 0;
  const tooBig = (problem: string): never => {
    throw new ValidationError("Invalid build context", [{
      path: propertyPath,
      value: shown,
      problem,
      fix: "narrow the context to the directory the image needs, or leave the rest out with a .dockerignore",
    }]);
  };
  const visit = (rel: string) => {
    const names = fs.readdirSync(rel === "" ? root : path.join(root, rel)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const name of names) {
      const childRel = rel === "" ? name : `${rel}/${name}`;
      if (ignore(childRel)) {
        continue;
      }
      const stat = fs.lstatSync(path.join(root, childRel));
      const kind = stat.isDirectory() ? "dir" : stat.isFile() ? "file" : stat.isSymbolicLink() ? "link" : "other";
      entries.push({ rel: childRel, kind, stat });
      if (entries.length > limits.maxFiles) {
        tooBig(`holds more than ${limits.maxFiles} files and directories`);
      }
      if (kind === "file" && (stat.mode & 0o6000) !== 0) {
        // Setuid/setgid files: git cannot record the bits (a checkout elsewhere would build another
        // image), and COPY keeps them where strict hardening cannot strip them (a shell-less runtime).
        throw new ValidationError("Invalid build context", [{
          path: propertyPath,
          value: shown,
          problem: `holds ${childRel} with the setuid or setgid bit (mode ${(stat.mode & 0o7777).toString(8)}), which git cannot record and a hardened image must not carry`,
          fix: `clear the bits (chmod u-s,g-s ${childRel} in the context), or leave the file out with a .dockerignore`,
        }]);
      }
      if (kind === "file") {
        bytes += stat.size;
        if (bytes > limits.maxBytes) {
          tooBig(`holds more than ${limits.maxBytes} bytes`);
        }
      }
      if (kind === "dir") {
        visit(childRel);
      }
    }
  };
  visit("");
  return entries;
}

/**
 * The `.dockerignore` of a context as a predicate on relative paths, with docker's rules: patterns
 * in order, the last match wins, `!` re-includes, `*` and `?` stay within a path segment, `**`
 * spans segments, and a pattern that matches a directory also leaves out what is below it.
 * Without a `.dockerignore`, the program directory's own state (.git, node_modules, .pulumi).
 */
export function readDockerignore(root: string): (rel: string) => boolean {
  let text: string;
  try {
    text = fs.readFileSync(path.join(root, ".dockerignore"), "utf8");
  } catch {
    return (rel) => DEFAULT_IGNORED.includes(rel.split("/")[0]);
  }
  const rules = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const exclude = !line.startsWith("!");
      const pattern = path.posix.normalize((exclude ? line : line.slice(1).trim()).replace(/^\/+/, "")).replace(/\/+$/, "");
      return { exclude, re: patternRegExp(pattern) };
    });
  return (rel) => {
    let ignored = false;
    for (const rule of rules) {
      if (rule.re.test(rel)) {
        ignored = rule.exclude;
      }
    }
    return ignored;
  };
}

/** A docker ignore pattern as a regex over a path or any of its parents. */
function patternRegExp(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "*" && pattern[i + 1] === "*") {
      i++;
      if (pattern[i + 1] === "/") {
        i++;
        re += "(?:.*/)?";
      } else {
        re += ".*";
      }
    } else if (c === "*") {
      re += "[^/]*";
    } else if (c === "?") {
      re += "[^/]";
    } else if (c === "[") {
      const end = pattern.indexOf("]", i + 1);
      if (end < 0) {
        re += "\\[";
      } else {
        re += `[${pattern.slice(i + 1, end).replace(/^!/, "^").replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else if (c === "\\" && i + 1 < pattern.length) {
      i++;
      re += pattern[i].replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    } else {
      re += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    }
  }
  return new RegExp(`^${re}(?:/.*)?$`, "s");
}

/** Everything besides the Dockerfile and the context that changes the built image. */
export interface ContentTagInputs {
  /** The platforms built, in order (one image each, under one tag). */
  readonly platforms: readonly string[];
  /** Build arguments passed to the build (for example SOURCE_DATE_EPOCH). */
  readonly buildArgs: Readonly<Record<string, string>>;
  /** The directory the context must stay inside (the program's or project directory). */
  readonly baseDirectory: string;
  /** Property path named in errors about the context. @default "context" */
  readonly path?: string;
  /** Title of the error report, e.g. naming the image. @default "Invalid build context" */
  readonly title?: string;
  /** @default CONTEXT_LIMITS */
  readonly limits?: ContextLimits;
}

/**
 * The immutable tag of a build: prefix + 16 hex of everything that changes the image (the
 * Dockerfile, the context's content and file modes, the platforms and the build arguments).
 * Throws a ValidationError naming the context property when the context is not a directory
 * inside `baseDirectory`, or is over the limits.
 */
export function contentTag(dockerfileText: string, contextDir: string, prefix: string, inputs: ContentTagInputs): string {
  if (typeof prefix !== "string" || !TAG_PREFIX.test(prefix)) {
    throw new ValidationError("Invalid build", [{
      path: "tagPrefix",
      value: prefix,
      problem: "is not the start of an image tag",
      fix: "use letters, digits, _ . and -, starting with a letter, digit or _, at most 112 characters (e.g. \"v\")",
    }]);
  }
  const propertyPath = inputs.path ?? "context";
  const context = path.relative(inputs.baseDirectory, contextDir) || ".";
  try {
    return tagOf(dockerfileText, context, prefix, inputs, propertyPath);
  } catch (e) {
    if (e instanceof ValidationError && inputs.title !== undefined) {
      throw new ValidationError(inputs.title, e.issues);
    }
    throw e;
  }
}

function tagOf(dockerfileText: string, context: string, prefix: string, inputs: ContentTagInputs, propertyPath: string): string {
  const real = resolveContextDirectory(inputs.baseDirectory, context, propertyPath);
  const args = Object.keys(inputs.buildArgs)
    .sort()
    .map((k) => [k, inputs.buildArgs[k]]);
  const hash = crypto
    .createHash("sha256")
    .update("golden-content-tag-v2\0")
    .update(dockerfileText)
    .update("\0context\0")
    .update(hashBuildContext(real, { limits: inputs.limits, path: propertyPath, value: context }))
    .update("\0platforms\0")
    .update(JSON.stringify(inputs.platforms))
    .update("\0args\0")
    .update(JSON.stringify(args))
    .digest("hex");
  return `${prefix}${hash.slice(0, 16)}`;
}
