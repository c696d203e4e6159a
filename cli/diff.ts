/**
 * `golden diff`: what a change to a stack rebuilds, for the reviewer of a pull request. Per
 * image: the unified Dockerfile diff, base changes (old -> new, from the rendered FROM lines),
 * the spec fields that changed, a context change (the content tag differs while the Dockerfile
 * is equal), an image added or removed. Compares the stack with the promoted images or with a
 * git revision, and contacts no registry: it runs in a PR job without registry credentials.
 *
 * The comparison itself is pure (sides in, a StackDiff out, then text or JSON); reading the
 * promotion records and a revision's tree are the two functions at the end.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { createTwoFilesPatch, FILE_HEADERS_ONLY } from "diff";
import { contentTag, hashBuildContext, resolveContextDirectory } from "../components/image/context-hash";
import { readGitFacts, SourceReader, specWithGitSource } from "../components/image/git-source";
import { normalizeContext } from "../components/plan/planner";
import { renderDockerfile } from "../components/render/dockerfile";
import { joinKey } from "../components/render/issues";
import { applyPins, baseReferences } from "../components/render/pin";
import { prepareOrThrow } from "../components/render/prepare";
import { formatReference, parseReference, repositoryOf } from "../components/spec/reference";
import { EnvironmentPolicy, ImageSpec } from "../components/spec/types";
import { BuiltInputs, PromotionRecord } from "./promotion-store";

/** One image on one side of the comparison. */
export interface ImageSide {
  /** The image spec as the stack writes it. */
  readonly spec: ImageSpec;
  readonly policy: EnvironmentPolicy;
  /** The Dockerfile compared: rendered from the spec (against promoted: pinned as it was built). */
  readonly dockerfile: string;
  /** The content tag, when it can be known offline. */
  readonly tag?: string;
  /** Hash of the build context, when it is on disk. */
  readonly contextHash?: string;
  /** What the reader should know about this side, e.g. a base whose digest only a build resolves. */
  readonly notes?: readonly string[];
}

/** An image whose old side exists but cannot be compared (a promotion record older than `golden diff`). */
export interface UnknownSide {
  readonly unknown: string;
}

export type Side = ImageSide | UnknownSide;

export const IMAGE_STATUSES = ["added", "removed", "rebuild", "changed", "unknown", "unchanged"] as const;
export type ImageStatus = (typeof IMAGE_STATUSES)[number];

/** A base or builder reference of one stage that changed. */
export interface BaseChange {
  /** The stage its FROM line names (`runtime`, or a builder's name). */
  readonly stage: string;
  /** `digest` when only the digest changed (same repository and tag), else `reference`. */
  readonly kind: "digest" | "reference";
  readonly old: string;
  readonly new: string;
}

export interface ImageDiff {
  readonly image: string;
  readonly status: ImageStatus;
  /** Paths of the spec (and `policy.*`) fields that changed, sorted. */
  readonly spec: readonly string[];
  readonly bases: readonly BaseChange[];
  /** How the build context changed, when it did. */
  readonly context?: string;
  /** Unified diff of the Dockerfiles; "" when they are equal (or the image was removed). */
  readonly dockerfile: string;
  readonly notes: readonly string[];
}

export interface DiffLabels {
  /** e.g. `origin/main`, or `promoted`. */
  readonly old: string;
  /** e.g. `working tree`. */
  readonly new: string;
}

export interface StackDiff {
  readonly stack: string;
  /** What the stack was compared with: `promoted` or the revision as given. */
  readonly against: string;
  readonly labels: DiffLabels;
  /** Sorted by image name. */
  readonly images: readonly ImageDiff[];
}

/** Lines of context around each Dockerfile change (git's default). */
const CONTEXT_LINES = 3;

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Structural equality of plain data; a property set to undefined equals a missing one (JSON drops both). */
export function sameData(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => sameData(v, b[i]));
  }
  if (isObject(a) || isObject(b)) {
    if (!isObject(a) || !isObject(b)) {
      return false;
    }
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((k) => sameData(a[k], b[k]));
  }
  return a === b;
}

/**
 * The paths of the fields that differ, sorted: `env.TZ`, `labels["com.example.team"]`,
 * `builders[0].run`. Lists of plain values (commands, packages) are named as a whole; lists of
 * objects of the same length are compared element by element.
 */
export function specChanges(old: unknown, cur: unknown, at = ""): string[] {
  if (sameData(old, cur)) {
    return [];
  }
  if (isObject(old) && isObject(cur)) {
    const keys = [...new Set([...Object.keys(old), ...Object.keys(cur)])].sort();
    return keys.flatMap((k) => specChanges(old[k], cur[k], joinKey(at, k)));
  }
  if (Array.isArray(old) && Array.isArray(cur) && old.length === cur.length && old.every(isObject) && cur.every(isObject)) {
    return old.flatMap((o, i) => specChanges(o, cur[i], `${at}[${i}]`));
  }
  return [at === "" ? "(whole spec)" : at];
}

/** The reference each stage starts from, in the order of the Dockerfile: `FROM <ref> AS <stage>`. */
export function stageBases(dockerfile: string): Map<string, string> {
  const stages = new Map<string, string>();
  for (const line of dockerfile.split("\n")) {
    const m = /^FROM\s+(\S+)\s+AS\s+(\S+)\s*$/i.exec(line);
    if (m !== null) {
      stages.set(m[2], m[1]);
    }
  }
  return stages;
}

/** The stages present on both sides whose base reference differs, in the new Dockerfile's order. */
export function baseChanges(oldDockerfile: string, newDockerfile: string): BaseChange[] {
  const old = stageBases(oldDockerfile);
  const changes: BaseChange[] = [];
  for (const [stage, ref] of stageBases(newDockerfile)) {
    const before = old.get(stage);
    if (before === undefined || before === ref) {
      continue;
    }
    changes.push({ stage, kind: sameRepositoryAndTag(before, ref) ? "digest" : "reference", old: before, new: ref });
  }
  return changes;
}

function sameRepositoryAndTag(a: string, b: string): boolean {
  try {
    const x = parseReference(a);
    const y = parseReference(b);
    return repositoryOf(x) === repositoryOf(y) && x.tag === y.tag;
  } catch {
    return false;
  }
}

/** `repository[:tag]` of a reference, without its digest. */
function withoutDigest(ref: string): string {
  const at = ref.indexOf("@");
  return at < 0 ? ref : ref.slice(0, at);
}

function digestOf(ref: string): string | undefined {
  const at = ref.indexOf("@");
  return at < 0 ? undefined : ref.slice(at + 1);
}

/** A unified diff of two Dockerfiles (the `diff` package), "" when they are equal. */
export function dockerfileDiff(image: string, old: string | undefined, cur: string | undefined, labels: DiffLabels): string {
  if (old === cur) {
    return "";
  }
  return createTwoFilesPatch(
    old === undefined ? "/dev/null" : `a/${image}/Dockerfile`,
    cur === undefined ? "/dev/null" : `b/${image}/Dockerfile`,
    old ?? "",
    cur ?? "",
    old === undefined ? undefined : labels.old,
    cur === undefined ? undefined : labels.new,
    { context: CONTEXT_LINES, headerOptions: FILE_HEADERS_ONLY },
  );
}

/** Compares one image's two sides (either may be missing: added or removed). */
export function diffImage(image: string, old: Side | undefined, cur: ImageSide | undefined, labels: DiffLabels): ImageDiff {
  const none = { spec: [], bases: [], dockerfile: "", notes: [] };
  if (old === undefined && cur === undefined) {
    throw new Error(`image ${image} is on neither side`);
  }
  if (cur === undefined) {
    return { image, status: "removed", ...none };
  }
  if (old === undefined) {
    return { image, status: "added", ...none, dockerfile: dockerfileDiff(image, undefined, cur.dockerfile, labels), notes: [...(cur.notes ?? [])] };
  }
  if ("unknown" in old) {
    return { image, status: "unknown", ...none, notes: [old.unknown, ...(cur.notes ?? [])] };
  }
  const spec = [...specChanges(old.spec, cur.spec), ...specChanges(old.policy, cur.policy, "policy")];
  const dockerfile = dockerfileDiff(image, old.dockerfile, cur.dockerfile, labels);
  const tagsDiffer = old.tag !== undefined && cur.tag !== undefined && old.tag !== cur.tag;
  // With both context hashes the context is compared directly; otherwise (against promoted) by
  // the content tag, which hashes the Dockerfile, the context, the platforms and the build args.
  let context: string | undefined;
  if (old.contextHash !== undefined && cur.contextHash !== undefined) {
    context = old.contextHash !== cur.contextHash ? `the files in ${normalizeContext(cur.spec.context ?? ".")} changed` : undefined;
  } else if (dockerfile === "" && tagsDiffer && !spec.includes("platforms")) {
    context = `the content tag ${cur.tag} differs from ${old.tag} while the Dockerfile is the same: the files in ${normalizeContext(cur.spec.context ?? ".")} changed`;
  }
  const rebuild = dockerfile !== "" || tagsDiffer || context !== undefined;
  return {
    image,
    status: rebuild ? "rebuild" : spec.length > 0 ? "changed" : "unchanged",
    spec,
    bases: baseChanges(old.dockerfile, cur.dockerfile),
    ...(context !== undefined ? { context } : {}),
    dockerfile,
    notes: [...(cur.notes ?? [])],
  };
}

/** Compares every image of either side (or only `only`), sorted by name. */
export function diffStack(
  stack: string,
  against: string,
  old: ReadonlyMap<string, Side>,
  cur: ReadonlyMap<string, ImageSide>,
  labels: DiffLabels,
  only?: readonly string[],
): StackDiff {
  const names = [...new Set([...old.keys(), ...cur.keys()])].filter((n) => only === undefined || only.length === 0 || only.includes(n)).sort();
  return { stack, against, labels, images: names.map((n) => diffImage(n, old.get(n), cur.get(n), labels)) };
}

/** Exit code of `golden diff`: 0 when nothing changes, 1 when something does (`git diff --exit-code`). */
export function diffExitCode(d: StackDiff): number {
  return d.images.some((i) => i.status !== "unchanged") ? 1 : 0;
}

const HEADLINE: Readonly<Record<ImageStatus, string>> = {
  added: "added, will build",
  removed: "removed from the stack",
  rebuild: "changed, will rebuild",
  changed: "spec changed, same build inputs: no rebuild",
  unknown: "cannot be compared offline",
  unchanged: "unchanged",
};

/** Plain text for a terminal or a PR comment: a header per image, sorted; unchanged images on one line. */
export function formatDiff(d: StackDiff): string {
  const changed = d.images.filter((i) => i.status !== "unchanged");
  const unchanged = d.images.filter((i) => i.status === "unchanged");
  const against = d.against === "promoted" ? "against the promoted images" : `${d.labels.new} against ${d.against}`;
  const out = [`golden diff: stack ${d.stack}, ${against}`];
  out.push(
    changed.length === 0
      ? `nothing changes (${d.images.length} image(s))`
      : `${changed.length} of ${d.images.length} image(s) change: ${changed.map((i) => `${i.image} (${i.status})`).join(", ")}`,
  );
  for (const i of changed) {
    out.push("", `=== ${i.image}: ${HEADLINE[i.status]}`);
    if (i.spec.length > 0) {
      out.push(`spec: ${i.spec.join(", ")}`);
    }
    for (const b of i.bases) {
      out.push(
        b.kind === "digest"
          ? `base digest (${b.stage}): ${withoutDigest(b.new)} ${digestOf(b.old) ?? "(no digest)"} -> ${digestOf(b.new) ?? "(no digest)"}`
          : `base (${b.stage}): ${b.old} -> ${b.new}`,
      );
    }
    if (i.context !== undefined) {
      out.push(`context: ${i.context}`);
    }
    for (const n of i.notes) {
      out.push(`note: ${n}`);
    }
    if (i.dockerfile !== "") {
      out.push(i.dockerfile.replace(/\n$/, ""));
    }
  }
  if (unchanged.length > 0) {
    out.push("", `unchanged: ${unchanged.map((i) => i.image).join(", ")}`);
  }
  return `${out.join("\n")}\n`;
}

/** The same as a JSON document. */
export function formatDiffJson(d: StackDiff): string {
  const doc = {
    stack: d.stack,
    against: d.against,
    changed: diffExitCode(d) === 1,
    images: d.images.map((i) => ({ ...i, context: i.context ?? null })),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

// ---- the sides: read from disk, git and the promotion records ----

/** Bad input to `golden diff` (a revision, a repository): one line with the fix, exit code 2. */
export class DiffInputError extends Error {}

/** Release prefix of the content tag, as the local executor builds (executors/local.ts LOCAL_DEFAULTS). */
const TAG_PREFIX = "v";

function contextDir(projectDir: string, spec: ImageSpec): string {
  return path.join(projectDir, normalizeContext(spec.context ?? "."));
}

function tagOf(dockerfile: string, spec: ImageSpec, policy: EnvironmentPolicy, projectDir: string): string {
  const image = prepareOrThrow(spec, policy).image;
  return contentTag(dockerfile, contextDir(projectDir, spec), TAG_PREFIX, {
    platforms: image.platforms,
    buildArgs: { SOURCE_DATE_EPOCH: String(image.sourceDateEpoch) },
    baseDirectory: projectDir,
  });
}

/**
 * One image as the renderer produces it from its spec, with its context in `projectDir`: bases
 * as the spec gives them (a tag-only base renders as a tag, through the stack's mirror), and the
 * source labels the spec leaves out read from git as the pin step reads them (`source`).
 */
export function renderedSide(spec: ImageSpec, policy: EnvironmentPolicy, projectDir: string, source: SourceReader = (c) => readGitFacts(projectDir, c)): ImageSide {
  const dockerfile = renderDockerfile(specWithGitSource(spec, source), policy);
  return {
    spec,
    policy,
    dockerfile,
    tag: tagOf(dockerfile, spec, policy, projectDir),
    contextHash: hashBuildContext(resolveContextDirectory(projectDir, normalizeContext(spec.context ?? "."))),
  };
}

/** A record's `built` when it has the expected shape (records are files anyone may edit). */
function builtOf(record: PromotionRecord): BuiltInputs | undefined {
  const b = (record as { built?: unknown }).built;
  if (!isObject(b) || !isObject(b.spec) || !isObject(b.policy) || typeof b.mirror !== "string" || !isObject(b.pins) || typeof b.dockerfile !== "string") {
    return undefined;
  }
  return b as unknown as BuiltInputs;
}

/**
 * The current spec pinned the way its promoted build was, offline: each base or builder
 * reference that is still the one promoted gets the promoted digest; one that changed keeps its
 * tag (its digest is resolved when `golden build` runs) and is named in a note.
 */
export function pinnedLikePromoted(
  spec: ImageSpec,
  policy: EnvironmentPolicy,
  built: BuiltInputs,
  projectDir: string,
  source: SourceReader = (c) => readGitFacts(projectDir, c),
): ImageSide {
  // Rendered with the source labels the pin step adds; compared (spec) as written.
  const labelled = specWithGitSource(spec, source);
  const digests: Record<string, string> = {};
  const notes: string[] = [];
  const refs = baseReferences(spec, built.mirror);
  for (const { property, ref } of refs) {
    if (digestOf(ref) !== undefined) {
      continue;
    }
    const promoted = built.pins[property];
    if (promoted !== undefined && withoutDigest(promoted) === ref && digestOf(promoted) !== undefined) {
      digests[property] = digestOf(promoted) as string;
    } else {
      notes.push(`${property} ${ref} is not the promoted reference; its digest is resolved when golden build runs (golden diff contacts no registry)`);
    }
  }
  if (notes.length === 0) {
    // The same pinning as the pin step, so an unchanged image renders byte for byte as it was built.
    const pinned = applyPins(labelled, { ...policy, mirror: built.mirror }, digests);
    const dockerfile = renderDockerfile(pinned.spec, pinned.policy);
    return { spec, policy, dockerfile, tag: tagOf(dockerfile, pinned.spec, pinned.policy, projectDir) };
  }
  const byProperty = new Map(refs.map((r) => [r.property, r.ref]));
  const pin = (property: string): string => {
    const ref = byProperty.get(property) as string;
    return digests[property] !== undefined ? formatReference({ ...parseReference(ref), digest: digests[property] }) : ref;
  };
  const partial: ImageSpec = {
    ...labelled,
    ...(byProperty.has("base") ? { base: pin("base") } : {}),
    ...(spec.builders === undefined ? {} : { builders: spec.builders.map((b, i) => ({ ...b, image: pin(`builders[${i}].image`) })) }),
  };
  return { spec, policy, dockerfile: renderDockerfile(partial, { ...policy, mirror: built.mirror }), notes };
}

/**
 * Both sides against the promoted images: the records in `promotedDir` (old) and the stack's
 * images pinned to the promoted digests (new). A record of the stack's environment whose image
 * is no longer in the stack is a removed image.
 */
export function promotedSides(
  promotedDir: string,
  images: readonly ImageSpec[],
  policy: EnvironmentPolicy,
  projectDir: string,
  read: (image: string) => PromotionRecord | undefined,
): { old: Map<string, Side>; cur: Map<string, ImageSide> } {
  const old = new Map<string, Side>();
  const cur = new Map<string, ImageSide>();
  for (const spec of images) {
    const record = read(spec.name);
    const built = record === undefined ? undefined : builtOf(record);
    if (record === undefined) {
      cur.set(spec.name, renderedSide(spec, policy, projectDir));
    } else if (built === undefined) {
      old.set(spec.name, { unknown: `its promotion record (${record.tag}) holds no Dockerfile (it predates golden diff); golden build --rebuild --image ${spec.name} records one` });
      cur.set(spec.name, renderedSide(spec, policy, projectDir));
    } else {
      old.set(spec.name, { spec: built.spec, policy: built.policy, dockerfile: built.dockerfile, tag: record.tag });
      cur.set(spec.name, pinnedLikePromoted(spec, policy, built, projectDir));
    }
  }
  const files = fs.existsSync(promotedDir) ? fs.readdirSync(promotedDir).filter((f) => f.endsWith(".json")).sort() : [];
  for (const file of files) {
    let record: PromotionRecord;
    try {
      record = JSON.parse(fs.readFileSync(path.join(promotedDir, file), "utf8")) as PromotionRecord;
    } catch {
      continue;
    }
    const built = typeof record?.image === "string" ? builtOf(record) : undefined;
    if (built !== undefined && !cur.has(record.image) && built.policy.environment === policy.environment) {
      old.set(record.image, { spec: built.spec, policy: built.policy, dockerfile: built.dockerfile, tag: record.tag });
    }
  }
  return { old, cur };
}

interface Run {
  readonly status: number;
  readonly stdout: Buffer;
  readonly stderr: string;
}

function git(cwd: string, args: readonly string[], input?: Buffer): Run {
  const r = spawnSync("git", [...args], { cwd, input, maxBuffer: 1024 * 1024 * 1024, env: { ...process.env, GIT_TERMINAL_PROMPT: "0" } });
  if (r.error !== undefined) {
    throw new DiffInputError(`cannot run git (${(r.error as NodeJS.ErrnoException).code ?? r.error.message}). Fix: install git, or compare with the promoted images (--against promoted)`);
  }
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr.toString("utf8") };
}

/** A revision's project directory, extracted to a temporary directory (`remove` deletes it). */
export interface RevisionTree {
  /** The full commit the revision names. */
  readonly commit: string;
  readonly dir: string;
  /** The revision's Pulumi.<stack>.yaml, undefined when the stack did not exist there. */
  readonly stackFile?: string;
  readonly remove: () => void;
}

/**
 * Extracts the project directory as it is at `revision` (`git archive <commit>:<project path>`)
 * into a temporary directory, with the permissions a checkout gets (the process's umask), so its
 * contexts hash as a checkout of that revision would.
 */
export function revisionTree(projectDir: string, revision: string, stack: string): RevisionTree {
  const top = git(projectDir, ["rev-parse", "--show-prefix"]);
  if (top.status !== 0) {
    throw new DiffInputError(`--against ${revision} needs a git repository, and ${projectDir} is not in one. Fix: run golden diff in a git checkout, or use --against promoted`);
  }
  const prefix = top.stdout.toString("utf8").trim();
  // git archive runs from the top of the work tree: from a subdirectory it reads `<commit>:<path>` relative to it.
  const root = git(projectDir, ["rev-parse", "--show-toplevel"]).stdout.toString("utf8").trim();
  const resolved = revision.startsWith("-") ? undefined : git(projectDir, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${revision}^{commit}`]);
  if (resolved === undefined || resolved.status !== 0) {
    throw new DiffInputError(
      `--against ${revision} is not a commit of the repository at ${projectDir}. Fix: give a commit, branch or tag that exists here (in CI: check out with fetch-depth: 0 and use origin/<base branch>)`,
    );
  }
  const commit = resolved.stdout.toString("utf8").trim();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "golden-diff-"));
  const remove = () => fs.rmSync(dir, { recursive: true, force: true });
  try {
    const tree = `${commit}:${prefix.replace(/\/$/, "")}`;
    if (git(root, ["cat-file", "-t", tree]).stdout.toString("utf8").trim() !== "tree") {
      // The project directory is new since that revision: nothing of the stack existed there.
      return { commit, dir, remove };
    }
    const archive = git(root, ["-c", "tar.umask=user", "archive", "--format=tar", tree]);
    if (archive.status !== 0) {
      throw new DiffInputError(`git archive ${tree} failed (${archive.stderr.trim().split("\n").pop() ?? ""}). Fix: check that ${revision} holds this project directory`);
    }
    const untar = spawnSync("tar", ["-x", "--no-same-owner", "--no-same-permissions", "-C", dir], { input: archive.stdout, maxBuffer: 64 * 1024 * 1024 });
    if (untar.error !== undefined || untar.status !== 0) {
      throw new DiffInputError(`cannot extract ${revision} (${untar.error?.message ?? untar.stderr.toString("utf8").trim()}). Fix: install GNU tar, or use --against promoted`);
    }
    const file = path.join(dir, `Pulumi.${stack}.yaml`);
    const stackFile = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
    return { commit, dir, ...(stackFile !== undefined ? { stackFile } : {}), remove };
  } catch (e) {
    remove();
    throw e;
  }
}
