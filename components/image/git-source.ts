/**
 * The git facts behind an image's source and revision labels (components/spec/source.ts turns
 * them into label values). Read-only: git runs with optional locks off and never prompts.
 *
 * The revision is the last commit that touched the build context, not HEAD, so a commit
 * elsewhere in the repository changes no image's Dockerfile and the preview stays quiet.
 * No git, or no repository: no facts (and no labels). Git failing any other way is an error
 * with the fix: a silently missing label would hide it.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { GitFacts, sourceFromGit } from "../spec/source";
import { ImageSpec } from "../spec/types";

/** The git facts of a build context given relative to the program's (or project) directory. */
export type SourceReader = (context: string) => GitFacts | undefined;

interface GitRun {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Git could not be asked (not installed), as opposed to git answering with an error. */
const NO_GIT = Symbol("no git");

function git(dir: string, args: readonly string[]): GitRun | typeof NO_GIT {
  const r = spawnSync("git", ["-C", dir, "--literal-pathspecs", ...args], {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
    // C messages (matched below); no lock taken by `git status`; no credential prompt.
    env: { ...process.env, LC_ALL: "C", GIT_OPTIONAL_LOCKS: "0", GIT_TERMINAL_PROMPT: "0" },
  });
  if (r.error !== undefined) {
    if ((r.error as NodeJS.ErrnoException).code === "ENOENT") {
      return NO_GIT;
    }
    throw new Error(`git ${args.join(" ")} could not run in ${dir} (${r.error.message}). Fix: check that git works here (git status), or set source.url and source.revision in the image spec`);
  }
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

function unexpected(dir: string, args: readonly string[], r: GitRun): Error {
  const why = r.stderr.trim().split("\n").pop() ?? "";
  const fix = /dubious ownership/.test(r.stderr)
    ? `let git read it (git config --global --add safe.directory ${dir})`
    : "check that git works here (git status), or set source.url and source.revision in the image spec";
  return new Error(`git ${args.join(" ")} failed in ${dir} (exit ${r.status}: ${why}), reading the image's source labels. Fix: ${fix}`);
}

/**
 * What the checkout at `projectDir` says about `context` (relative to it): origin's URL, the
 * last commit that touched the context, and whether the context has uncommitted changes. With
 * `at` (a commit), the facts as of that commit (clean by definition). Undefined when git is not
 * installed or `projectDir` is not in a work tree.
 */
export function readGitFacts(projectDir: string, context: string, options: { readonly at?: string } = {}): GitFacts | undefined {
  const run = (args: readonly string[], expected: (r: GitRun) => boolean = (r) => r.status === 0): GitRun | undefined => {
    const r = git(projectDir, args);
    if (r === NO_GIT) {
      return undefined;
    }
    if (!expected(r)) {
      throw unexpected(projectDir, args, r);
    }
    return r;
  };
  const inside = run(["rev-parse", "--is-inside-work-tree"], (r) => r.status === 0 || /not a git repository/.test(r.stderr));
  if (inside === undefined || inside.status !== 0 || inside.stdout.trim() !== "true") {
    return undefined;
  }
  // `get-url` applies url.<base>.insteadOf, as a fetch would; exit 2: no remote of that name.
  const remote = run(["remote", "get-url", "origin"], (r) => r.status === 0 || r.status === 2);
  const remoteUrl = remote?.status === 0 && remote.stdout.trim() !== "" ? remote.stdout.trim() : undefined;
  const pathspec = contextPathspec(context);
  // Exit 1: HEAD names no commit yet (a new repository). A damaged one fails in `git log` below.
  const head = run(["rev-parse", "--verify", "--quiet", "--end-of-options", options.at ?? "HEAD"], (r) => r.status === 0 || r.status === 1);
  let revision: string | undefined;
  if (head?.status === 0) {
    const log = run(["log", "-1", "--format=%H", head.stdout.trim(), "--", pathspec]);
    revision = log?.stdout.trim() || undefined;
  }
  if (revision !== undefined && shallowBoundary(projectDir, revision, run)) {
    // History stops at this commit: git cannot tell whether it changed the context or only
    // carries it, and a full clone would name another commit. No claim beats a wrong one.
    revision = undefined;
  }
  let dirty = false;
  if (options.at === undefined) {
    const status = run(["status", "--porcelain=v1", "--untracked-files=all", "--", pathspec]);
    dirty = (status?.stdout.trim() ?? "") !== "";
  }
  return { ...(remoteUrl !== undefined ? { remoteUrl } : {}), ...(revision !== undefined ? { revision } : {}), dirty };
}

function shallowBoundary(projectDir: string, commit: string, run: (args: readonly string[]) => GitRun | undefined): boolean {
  if (run(["rev-parse", "--is-shallow-repository"])?.stdout.trim() !== "true") {
    return false;
  }
  const file = run(["rev-parse", "--git-path", "shallow"])?.stdout.trim();
  if (file === undefined || file === "") {
    return false;
  }
  try {
    return fs.readFileSync(path.resolve(projectDir, file), "utf8").split("\n").includes(commit);
  } catch {
    return false;
  }
}

/** The context as a pathspec relative to the project directory: `images/hello`, `.` for the whole. */
function contextPathspec(context: string): string {
  const normalized = path.posix.normalize(context.split(path.sep).join("/")).replace(/\/+$/, "");
  return normalized === "" ? "." : normalized;
}

/** The default reader: git in the current directory (the program's directory under Pulumi, the project directory in a plan step). */
export const gitSourceReader: SourceReader = (context) => readGitFacts(process.cwd(), context);

/**
 * The spec with the source labels it leaves out taken from git (see sourceFromGit); the same
 * spec object when it names both or git adds nothing. Git is not asked when the spec names both.
 */
export function specWithGitSource(spec: ImageSpec, read: SourceReader): ImageSpec {
  if (spec.source?.url !== undefined && spec.source?.revision !== undefined) {
    return spec;
  }
  const source = sourceFromGit(spec.source ?? {}, read(spec.context ?? "."));
  if (source.url === spec.source?.url && source.revision === spec.source?.revision) {
    return spec;
  }
  return { ...spec, source };
}
