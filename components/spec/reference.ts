/**
 * OCI image references: `[host[:port]/]path[:tag][@sha256:<64 hex>]`, following the
 * distribution reference grammar (a first component with `.` or `:`, or `localhost`, is a host).
 */

export interface ImageReference {
  /** Registry host (and port), undefined when the reference has none. */
  readonly host?: string;
  /** Repository path below the host, e.g. "distroless/static-debian12". */
  readonly path: string;
  readonly tag?: string;
  /** `sha256:<64 lowercase hex>`. */
  readonly digest?: string;
}

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
export const DIGEST = /^sha256:[a-f0-9]{64}$/;
/** Longest repository name (host and path) a reference may have. */
export const MAX_NAME_LENGTH = 255;
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]+)?$/;

/** Why a reference does not parse, or undefined when it does. */
export function referenceProblem(ref: string): string | undefined {
  return parse(ref).problem;
}

/** Parses a reference; throws on a malformed one (validate first for a friendly report). */
export function parseReference(ref: string): ImageReference {
  const { value, problem } = parse(ref);
  if (problem !== undefined || value === undefined) {
    throw new Error(`Invalid image reference "${ref}": ${problem}`);
  }
  return value;
}

export function formatReference(ref: ImageReference): string {
  const name = ref.host === undefined ? ref.path : `${ref.host}/${ref.path}`;
  return `${name}${ref.tag !== undefined ? `:${ref.tag}` : ""}${ref.digest !== undefined ? `@${ref.digest}` : ""}`;
}

/** `host/path` without tag or digest. */
export function repositoryOf(ref: ImageReference): string {
  return ref.host === undefined ? ref.path : `${ref.host}/${ref.path}`;
}

/** Prefixes a host-less reference with the mirror; a reference with a host is left as given. */
export function resolveThroughMirror(ref: string, mirror: string | undefined): string {
  const parsed = parseReference(ref);
  if (parsed.host !== undefined || mirror === undefined || mirror === "") {
    return ref;
  }
  return `${mirror.replace(/\/+$/, "")}/${ref}`;
}

function parse(ref: string): { value?: ImageReference; problem?: string } {
  if (typeof ref !== "string" || ref.length === 0) {
    return { problem: "it is empty" };
  }
  if (ref.length > 512) {
    return { problem: "it is longer than 512 characters" };
  }
  if (/\s/.test(ref)) {
    return { problem: "it contains white space" };
  }
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) {
      return { problem: `digest "${digest}" is not sha256:<64 lowercase hex>` };
    }
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) {
      return { problem: `tag "${tag}" is not a valid tag (letters, digits, ._-; at most 128)` };
    }
  }
  const parts = rest.split("/");
  let host: string | undefined;
  if (parts.length > 1 && (parts[0].includes(".") || parts[0].includes(":") || parts[0] === "localhost")) {
    host = parts.shift();
    if (host === undefined || !HOST.test(host)) {
      return { problem: `registry host "${host}" is not a valid host[:port]` };
    }
  }
  if (parts.length === 0 || parts.some((p) => !PATH_COMPONENT.test(p))) {
    return { problem: `repository path "${parts.join("/")}" must be lowercase components of a-z0-9 separated by . _ - and /` };
  }
  // The distribution reference grammar's NameTotalLengthMax, which BuildKit enforces on FROM.
  if (rest.length > MAX_NAME_LENGTH) {
    return { problem: `its repository name (host and path) is longer than ${MAX_NAME_LENGTH} characters` };
  }
  return { value: { host, path: parts.join("/"), tag, digest } };
}
