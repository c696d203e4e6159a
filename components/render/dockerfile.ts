/**
 * The Dockerfile renderer: builder stage(s), then a minimal runtime stage. Pure and
 * byte-identical for the same spec and policy (sorted maps, no timestamps, no paths).
 */
import { EnvironmentPolicy, ImageSpec } from "../spec/types";
import { repositoryOf } from "../spec/reference";
import { throwIfIssues } from "./issues";
import { ResolvedBuilder, ResolvedImage, resolveImage } from "./resolve";
import { RUNTIME_STAGE, validateEnvironmentPolicy, validateImageSpec } from "./validate";

export const RENDERER_HEADER = "# Rendered by pulumi-golden-image. Do not edit: change the image spec instead.";

/** Validates, then renders. Throws a ValidationError listing every problem. */
export function renderDockerfile(spec: ImageSpec, policy: EnvironmentPolicy): string {
  // `?.` and no String(object): the title must not crash on the very input it reports (null, undefined, ...).
  const name: unknown = (spec as { name?: unknown } | null | undefined)?.name;
  throwIfIssues(`Invalid golden image spec "${typeof name === "object" && name !== null ? "?" : String(name)}"`, [
    ...validateEnvironmentPolicy(policy),
    ...validateImageSpec(spec, policy),
  ]);
  return renderResolved(resolveImage(spec, policy));
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
  const lines: string[] = [RENDERER_HEADER, `# image: ${image.name}, flavor: ${image.flavor}, hardening: ${image.hardening}`];
  for (const builder of image.builders) {
    lines.push("", ...renderBuilder(builder, image));
  }
  lines.push("", ...renderRuntime(image));
  return `${lines.join("\n")}\n`;
}

function renderBuilder(b: ResolvedBuilder, image: ResolvedImage): string[] {
  const out = [`FROM ${b.image} AS ${b.name}`];
  out.push(...renderArgs(image.args));
  if (Object.keys(b.env).length > 0) {
    out.push(renderKeyValues("ENV", b.env));
  }
  out.push(`WORKDIR ${b.workdir}`);
  if (b.packages.length > 0) {
    out.push(installPackages(b.packageManager, b.packages));
  }
  for (const c of b.copy) {
    out.push(`COPY ${c.from !== undefined ? `--from=${c.from} ` : ""}${jsonArray([c.src, c.dest])}`);
  }
  for (const cmd of b.run) {
    out.push(`RUN ${cmd}`);
  }
  return out;
}

function renderRuntime(image: ResolvedImage): string[] {
  const out = [`FROM ${image.base ?? "scratch"} AS ${RUNTIME_STAGE}`];
  out.push(...renderArgs(image.args));
  if (image.packages.length > 0) {
    // Runtime flavors with a package manager install as root, before USER drops privileges.
    out.push("USER 0:0", installPackages(image.runtimePackageManager === "none" ? flavorManager(image) : image.runtimePackageManager, image.packages));
  }
  if (image.hardening === "strict") {
    const strip = stripCommand(image);
    if (strip !== undefined) {
      if (image.packages.length === 0) {
        out.push("USER 0:0");
      }
      out.push(strip);
    }
  }
  for (const c of image.copy) {
    out.push(`COPY ${c.from !== undefined ? `--from=${c.from} ` : ""}--chown=${image.user} ${jsonArray([c.src, c.dest])}`);
  }
  if (Object.keys(image.env).length > 0) {
    out.push(renderKeyValues("ENV", image.env));
  }
  if (image.workdir !== undefined) {
    out.push(`WORKDIR ${image.workdir}`);
  }
  out.push(renderKeyValues("LABEL", imageLabels(image)));
  if (image.expose.length > 0) {
    out.push(`EXPOSE ${Array.from(new Set(image.expose)).sort().join(" ")}`);
  }
  out.push(`USER ${image.user}`);
  if (image.healthcheck !== undefined) {
    const h = image.healthcheck;
    out.push(
      `HEALTHCHECK --interval=${h.interval} --timeout=${h.timeout}${h.startPeriod !== undefined ? ` --start-period=${h.startPeriod}` : ""} --retries=${h.retries} CMD ${jsonArray(h.test)}`,
    );
  }
  if (image.entrypoint !== undefined) {
    out.push(`ENTRYPOINT ${typeof image.entrypoint === "string" ? image.entrypoint : jsonArray(image.entrypoint)}`);
  }
  if (image.cmd !== undefined) {
    out.push(`CMD ${typeof image.cmd === "string" ? image.cmd : jsonArray(image.cmd)}`);
  }
  return out;
}

function flavorManager(image: ResolvedImage): "apt" | "apk" {
  return image.flavor === "alpine" ? "apk" : "apt";
}

/** The strict-hardening step: remove the package manager, then the shell, last (it runs the step). */
function stripCommand(image: ResolvedImage): string | undefined {
  if (image.flavor === "debian-slim") {
    return [
      // /var/lib/dpkg/status stays: scanners read it to know what is installed.
      "RUN rm -rf /var/lib/apt /var/cache/apt /var/cache/debconf /var/log/apt /etc/apt /etc/dpkg /usr/lib/apt /usr/share/doc /usr/share/man /var/lib/dpkg/info",
      "rm -f /usr/bin/apt /usr/bin/apt-* /usr/bin/dpkg /usr/bin/dpkg-* /usr/sbin/dpkg-* /usr/bin/debconf* /usr/sbin/update-*",
      "rm -f /bin/bash /usr/bin/bash /bin/rbash /usr/bin/rbash /bin/dash /usr/bin/dash /bin/sh /usr/bin/sh",
    ].join(" \\\n && ");
  }
  if (image.flavor === "alpine") {
    return [
      // /lib/apk/db stays: scanners read it to know what is installed.
      "RUN rm -rf /sbin/apk /etc/apk /usr/share/apk /var/cache/apk",
      "/bin/busybox find / -xdev -type l -lname '*busybox*' -exec /bin/busybox rm -f {} +",
      "/bin/busybox rm -f /bin/busybox",
    ].join(" \\\n && ");
  }
  return undefined;
}

function installPackages(manager: string, packages: readonly string[]): string {
  const list = Array.from(new Set(packages)).sort().join(" ");
  if (manager === "apk") {
    return `RUN apk add --no-cache ${list}`;
  }
  return [
    "RUN apt-get update",
    `DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${list}`,
    "apt-get clean",
    "rm -rf /var/lib/apt/lists/*",
  ].join(" \\\n && ");
}

function renderArgs(args: Readonly<Record<string, string>>): string[] {
  return Object.keys(args)
    .sort()
    .map((k) => `ARG ${k}=${quote(args[k])}`);
}

function renderKeyValues(instruction: string, map: Readonly<Record<string, string>>): string {
  const keys = Object.keys(map).sort();
  const pairs = keys.map((k) => `${/^[A-Za-z0-9_.-]+$/.test(k) ? k : quote(k)}=${quote(map[k])}`);
  return pairs.length === 1 ? `${instruction} ${pairs[0]}` : `${instruction} ${pairs.join(" \\\n    ")}`;
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
