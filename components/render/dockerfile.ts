/**
 * The Dockerfile renderer: builder stage(s), then a minimal runtime stage. Pure and
 * byte-identical for the same spec and policy (sorted maps, no timestamps, no paths).
 */
import { DEFAULT_PLATFORMS, EnvironmentPolicy, ImageSpec } from "../spec/types";
import { NONROOT_GID, NONROOT_UID } from "../spec/catalog";
import { repositoryOf } from "../spec/reference";
import { joinKey } from "./issues";
import { prepareOrThrow } from "./prepare";
import { ResolvedBuilder, ResolvedImage } from "./resolve";
import { RUNTIME_STAGE } from "./validate";

export const RENDERER_HEADER = "# Rendered by pulumi-golden-image. Do not edit: change the image spec instead.";

/**
 * Strict hardening's setuid/setgid strip (CIS Docker Benchmark 4.8), run by the stage's own
 * `find` and `chmod` (GNU and BusyBox both read `-perm /6000`). Fixed text, no spec value.
 */
export const STRIP_SETID = "find / -xdev -type f -perm /6000 -exec chmod a-s {} +";

/**
 * The accounts of a scratch image (it has none, so user lookups fail): root, nobody and the
 * catalog's nonroot (65532), named and numbered as in distroless, with no home directory (scratch
 * has none to point at).
 */
export const SCRATCH_ACCOUNTS: readonly { readonly path: string; readonly lines: readonly string[] }[] = [
  {
    path: "/etc/passwd",
    lines: [
      "root:x:0:0:root:/root:/sbin/nologin",
      "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin",
      `nonroot:x:${NONROOT_UID}:${NONROOT_GID}:nonroot:/nonexistent:/sbin/nologin`,
    ],
  },
  { path: "/etc/group", lines: ["root:x:0:", "nobody:x:65534:", `nonroot:x:${NONROOT_GID}:`] },
];

/**
 * The here-document COPY of each scratch account file (BuildKit's Dockerfile frontend 1.4 and
 * later; no file in the build context needed). The only here-documents the renderer writes:
 * fixed text, which the lint and the BuildKit judge accept only verbatim.
 */
export const SCRATCH_ACCOUNT_COPIES: readonly string[] = SCRATCH_ACCOUNTS.map((f) => [`COPY <<EOF ${f.path}`, ...f.lines, "EOF"].join("\n"));

/** Where a builder stage writes the scratch account files the runtime copies. */
export const SCRATCH_ACCOUNTS_DIR = "/golden-accounts";

/**
 * The builder step that writes the scratch account files: fixed text (no spec value), printf of
 * single-quoted lines. Preferred to here-documents: an image's history then reads `COPY
 * /golden-accounts/passwd /etc/passwd`, which tools that rebuild a Dockerfile from the history
 * (Trivy's image configuration checks) can parse; a here-document's body is not in the history.
 */
export const SCRATCH_ACCOUNTS_RUN = `RUN ${jsonArray([
  "/bin/sh",
  "-c",
  [`mkdir -p ${SCRATCH_ACCOUNTS_DIR}`, ...SCRATCH_ACCOUNTS.map((f) => `printf '%s\\n' ${f.lines.map((l) => `'${l}'`).join(" ")} > ${SCRATCH_ACCOUNTS_DIR}/${f.path.split("/").pop()}`)].join(" && "),
])}`;

/** The stage scratch's accounts come from: the first builder the runtime copies from, if any. */
function scratchAccountsStage(image: ResolvedImage): string | undefined {
  if (image.flavor !== "scratch") {
    return undefined;
  }
  const names = new Set(image.builders.map((b) => b.name));
  return image.copy.find((c) => c.from !== undefined && names.has(c.from))?.from;
}

/** Prepares (validates and resolves), then renders. Throws a ValidationError listing every problem. */
export function renderDockerfile(spec: ImageSpec, policy: EnvironmentPolicy): string {
  return renderResolved(prepareOrThrow(spec, policy).image);
}

/** The OCI labels the runtime stage carries, sorted by key. */
export function imageLabels(image: ResolvedImage): Record<string, string> {
  const labels: Record<string, string> = { ...image.labels };
  labels["org.opencontainers.image.title"] = image.name;
  labels["org.opencontainers.image.created"] = rfc3339(image.sourceDateEpoch);
  if (image.baseRef !== undefined) {
    labels["org.opencontainers.image.base.name"] = `${repositoryOf(image.baseRef)}${image.baseRef.tag !== undefined ? `:${image.baseRef.tag}` : ""}`;
    if (image.baseRef.digest !== undefined) {
      labels["org.opencontainers.image.base.digest"] = image.baseRef.digest;
    }
  }
  if (image.source.url !== undefined) {
    labels["org.opencontainers.image.source"] = image.source.url;
  }
  if (image.source.revision !== undefined) {
    labels["org.opencontainers.image.revision"] = image.source.revision;
  }
  return sortKeys(labels);
}

export function renderResolved(image: ResolvedImage): string {
  return `${renderLines(image)
    .map((l) => l.text)
    .join("\n")}\n`;
}

/** One physical line of the Dockerfile and the spec property it renders ("" for fixed text). */
export interface RenderedLine {
  readonly text: string;
  readonly source: string;
}

/** The Dockerfile as lines, each naming its source property, so a line BuildKit would refuse names what to fix. */
export function renderLines(image: ResolvedImage): RenderedLine[] {
  const lines: RenderedLine[] = [fixed(RENDERER_HEADER), fixed(`# image: ${image.name}, flavor: ${image.flavor}, hardening: ${image.hardening}`)];
  // Under strict hardening, what the runtime copies from a builder leaves it without setuid or
  // setgid bits: the whole stage is stripped, so globs and relative sources need no shell quoting.
  const copiedFrom = new Set(image.hardening === "strict" ? image.copy.map((c) => c.from) : []);
  const accounts = scratchAccountsStage(image);
  image.builders.forEach((builder, i) => {
    lines.push(fixed(""), ...renderBuilder(builder, image, `builders[${i}]`));
    if (copiedFrom.has(builder.name)) {
      lines.push(fixed(`RUN ${jsonArray(["/bin/sh", "-c", STRIP_SETID])}`));
    }
    if (builder.name === accounts) {
      lines.push(fixed(SCRATCH_ACCOUNTS_RUN));
    }
  });
  lines.push(fixed(""), ...renderRuntime(image));
  return lines;
}

function fixed(text: string): RenderedLine {
  return { text, source: "" };
}

/** An instruction that continues over several physical lines (joined with ` \`), all from one source. */
function multiline(text: string, source: string): RenderedLine[] {
  return text.split("\n").map((line) => ({ text: line, source }));
}

/**
 * An image for other platforms than the default (several, or another one) is built without
 * emulation: its builders run on the build platform and cross-compile for the target, which
 * they read from TARGETOS and TARGETARCH (BuildKit sets them per platform).
 */
function crossBuild(image: ResolvedImage): boolean {
  return image.platforms.length > 1 || image.platforms[0] !== DEFAULT_PLATFORMS[0];
}

function renderBuilder(b: ResolvedBuilder, image: ResolvedImage, at: string): RenderedLine[] {
  const cross = crossBuild(image);
  const out: RenderedLine[] = [{ text: `FROM ${cross ? "--platform=$BUILDPLATFORM " : ""}${b.image} AS ${b.name}`, source: `${at}.image` }];
  if (cross) {
    out.push({ text: "ARG TARGETOS", source: "platforms" }, { text: "ARG TARGETARCH", source: "platforms" });
  }
  out.push(...renderArgs(image.args));
  if (Object.keys(b.env).length > 0) {
    out.push(...renderKeyValues("ENV", b.env, (k) => joinKey(`${at}.env`, k)));
  }
  out.push({ text: `WORKDIR ${b.workdir}`, source: `${at}.workdir` });
  if (b.packages.length > 0) {
    out.push(...multiline(installPackages(b.packageManager, b.packages), `${at}.packages`));
  }
  b.copy.forEach((c, i) => {
    out.push({ text: `COPY ${c.from !== undefined ? `--from=${c.from} ` : ""}${jsonArray([c.src, c.dest])}`, source: `${at}.copy[${i}]` });
  });
  b.run.forEach((cmd, i) => {
    // Exec form: BuildKit reads no flag, here-document or line continuation in a JSON array.
    out.push({ text: `RUN ${jsonArray(["/bin/sh", "-c", cmd])}`, source: `${at}.run[${i}]` });
  });
  return out;
}

function renderRuntime(image: ResolvedImage): RenderedLine[] {
  const out: RenderedLine[] = [{ text: `FROM ${image.base ?? "scratch"} AS ${RUNTIME_STAGE}`, source: image.base === undefined ? "" : "base" }];
  out.push(...renderArgs(image.args));
  if (image.flavor === "scratch") {
    const from = scratchAccountsStage(image);
    // From the builder that wrote them; here-documents only when no builder is copied from.
    out.push(
      ...(from !== undefined
        ? SCRATCH_ACCOUNTS.map((f) => fixed(`COPY --from=${from} ${jsonArray([`${SCRATCH_ACCOUNTS_DIR}/${f.path.split("/").pop()}`, f.path])}`))
        : SCRATCH_ACCOUNT_COPIES.flatMap((copy) => multiline(copy, ""))),
    );
  }
  if (image.packages.length > 0) {
    // Runtime flavors with a package manager install as root, before USER drops privileges.
    out.push(fixed("USER 0:0"), ...multiline(installPackages(image.runtimePackageManager === "none" ? flavorManager(image) : image.runtimePackageManager, image.packages), "packages"));
  }
  // As root, before USER drops privileges: the runtime user's account, then strict hardening's strip.
  const account = accountCommand(image);
  const strip = image.hardening === "strict" ? stripCommand(image) : undefined;
  if (image.packages.length === 0 && (account !== undefined || strip !== undefined)) {
    out.push(fixed("USER 0:0"));
  }
  if (account !== undefined) {
    out.push({ text: account, source: "user" });
  }
  if (strip !== undefined) {
    out.push(...multiline(strip, ""));
  }
  image.copy.forEach((c, i) => {
    out.push({ text: `COPY ${c.from !== undefined ? `--from=${c.from} ` : ""}--chown=${image.user} ${jsonArray([c.src, c.dest])}`, source: `copy[${i}]` });
  });
  if (Object.keys(image.env).length > 0) {
    out.push(...renderKeyValues("ENV", image.env, (k) => joinKey("env", k)));
  }
  if (image.workdir !== undefined) {
    out.push({ text: `WORKDIR ${image.workdir}`, source: "workdir" });
  }
  out.push(...renderKeyValues("LABEL", imageLabels(image), labelSource(image)));
  if (image.expose.length > 0) {
    out.push({ text: `EXPOSE ${Array.from(new Set(image.expose)).sort().join(" ")}`, source: "expose" });
  }
  out.push({ text: `USER ${image.user}`, source: "user" });
  if (image.healthcheck !== undefined) {
    const h = image.healthcheck;
    out.push({
      text: `HEALTHCHECK --interval=${h.interval} --timeout=${h.timeout}${h.startPeriod !== undefined ? ` --start-period=${h.startPeriod}` : ""} --retries=${h.retries} CMD ${jsonArray(h.test)}`,
      source: "healthcheck.test",
    });
  }
  if (image.entrypoint !== undefined) {
    out.push({ text: `ENTRYPOINT ${execForm(image.entrypoint)}`, source: "entrypoint" });
  }
  if (image.cmd !== undefined) {
    out.push({ text: `CMD ${execForm(image.cmd)}`, source: "cmd" });
  }
  return out;
}

/** The property a rendered label comes from: a spec label, or what the renderer derived it from. */
function labelSource(image: ResolvedImage): (key: string) => string {
  const derived: Record<string, string> = {
    "org.opencontainers.image.title": "name",
    "org.opencontainers.image.created": "",
    "org.opencontainers.image.base.name": "base",
    "org.opencontainers.image.base.digest": "base",
    "org.opencontainers.image.source": "source.url",
    "org.opencontainers.image.revision": "source.revision",
  };
  return (key) => (key in derived && !(key in image.labels) ? derived[key] : joinKey("labels", key));
}

/** Exec form always: a shell-form string becomes what Docker itself makes of it, `["/bin/sh", "-c", "..."]`. */
function execForm(command: readonly string[] | string): string {
  return jsonArray(typeof command === "string" ? ["/bin/sh", "-c", command] : command);
}

function flavorManager(image: ResolvedImage): "apt" | "apk" {
  return image.flavor === "alpine" ? "apk" : "apt";
}

/**
 * Runtimes with a shell (debian-slim, alpine) know no user 65532: without an account, user
 * lookups fail (`id`, `getpwuid`, home directories). A numeric runtime user gets one (and its
 * group) unless the base has that id already. The ids reach the shell as positional parameters.
 */
function accountCommand(image: ResolvedImage): string | undefined {
  const ids = /^(\d+)(?::(\d+))?$/.exec(image.user);
  if ((image.flavor !== "debian-slim" && image.flavor !== "alpine") || ids === null) {
    return undefined;
  }
  const script =
    'grep -q "^[^:]*:[^:]*:$1:" /etc/passwd || echo "nonroot:x:$1:$2:nonroot:/nonexistent:/sbin/nologin" >> /etc/passwd; ' +
    'grep -q "^[^:]*:[^:]*:$2:" /etc/group || echo "nonroot:x:$2:" >> /etc/group';
  return `RUN ${jsonArray(["/bin/sh", "-c", script, "account", ids[1], ids[2] ?? ids[1]])}`;
}

/**
 * The strict-hardening step: remove the package manager, strip setuid and setgid bits (what was
 * installed included), then remove the shell, last (it runs the step). Fixed text, no spec value.
 */
function stripCommand(image: ResolvedImage): string | undefined {
  if (image.flavor === "debian-slim") {
    return [
      // /var/lib/dpkg/status stays: scanners read it to know what is installed.
      "RUN rm -rf /var/lib/apt /var/cache/apt /var/cache/debconf /var/log/apt /etc/apt /etc/dpkg /usr/lib/apt /usr/share/doc /usr/share/man /var/lib/dpkg/info",
      "rm -f /usr/bin/apt /usr/bin/apt-* /usr/bin/dpkg /usr/bin/dpkg-* /usr/sbin/dpkg-* /usr/bin/debconf* /usr/sbin/update-*",
      STRIP_SETID,
      "rm -f /bin/bash /usr/bin/bash /bin/rbash /usr/bin/rbash /bin/dash /usr/bin/dash /bin/sh /usr/bin/sh",
    ].join(" \\\n && ");
  }
  if (image.flavor === "alpine") {
    return [
      // /lib/apk/db stays: scanners read it to know what is installed.
      "RUN rm -rf /sbin/apk /etc/apk /usr/share/apk /var/cache/apk",
      // STRIP_SETID through BusyBox, whose applet links go next.
      "/bin/busybox find / -xdev -type f -perm /6000 -exec /bin/busybox chmod a-s {} +",
      "/bin/busybox find / -xdev -type l -lname '*busybox*' -exec /bin/busybox rm -f {} +",
      "/bin/busybox rm -f /bin/busybox",
    ].join(" \\\n && ");
  }
  return undefined;
}

/**
 * Exec form, package names as separate arguments after `--`: no shell ever parses a name, and
 * none can be read as an option. apt needs a shell to update, install and clean in one layer,
 * so the names reach it as the script's positional parameters ("$@"). One name a line, so a
 * package change is a one-line diff in a preview.
 */
function installPackages(manager: string, packages: readonly string[]): string {
  const list = Array.from(new Set(packages)).sort();
  if (manager === "apk") {
    return jsonArrayLines("RUN ", ["apk", "add", "--no-cache", "--"], list);
  }
  const script = 'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends -- "$@" && apt-get clean && rm -rf /var/lib/apt/lists/*';
  return jsonArrayLines("RUN ", ["/bin/sh", "-c", script, "apt-get"], list);
}

/** A JSON array over several lines (BuildKit joins line continuations before it reads the JSON): `head` on the first, one `tail` element a line. */
function jsonArrayLines(prefix: string, head: readonly string[], tail: readonly string[]): string {
  const first = `${prefix}[${head.map((v) => JSON.stringify(v)).join(",")}`;
  return [first, ...tail.map((v) => `    ${JSON.stringify(v)}`)].join(", \\\n") + "]";
}

function renderArgs(args: Readonly<Record<string, string>>): RenderedLine[] {
  return Object.keys(args)
    .sort()
    .map((k) => ({ text: `ARG ${k}=${quote(args[k])}`, source: joinKey("args", k) }));
}

/** `ENV k="v"`, or one pair a line joined by line continuations; each line names its key's property. */
function renderKeyValues(instruction: string, map: Readonly<Record<string, string>>, sourceOf: (key: string) => string): RenderedLine[] {
  const keys = Object.keys(map).sort();
  return keys.map((k, i) => {
    const pair = `${/^[A-Za-z0-9_.-]+$/.test(k) ? k : quote(k)}=${quote(map[k])}`;
    const text = `${i === 0 ? `${instruction} ` : "    "}${pair}${i < keys.length - 1 ? " \\" : ""}`;
    return { text, source: sourceOf(k) };
  });
}

/** Double-quoted Dockerfile word: escapes backslash, quote and `$` (no variable expansion). */
function quote(value: string): string {
  return `"${value.replace(/[\\"$]/g, (c) => `\\${c}`)}"`;
}

function jsonArray(values: readonly string[]): string {
  return JSON.stringify(values);
}

function sortKeys(map: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(map).sort()) {
    out[k] = map[k];
  }
  return out;
}

export function rfc3339(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}
