/**
 * Where an image's `org.opencontainers.image.source` and `.revision` labels come from when the
 * spec names none: facts read from the git checkout (components/image/git-source.ts), turned
 * into label values here. Pure: facts in, values out, so both paths (`pulumi up` and the plan's
 * pin step) and the tests derive the same labels from the same facts.
 */

/** What the checkout says about one image's build context. */
export interface GitFacts {
  /** `origin`'s URL as git reports it (may hold credentials or be a local path: never rendered as is). */
  readonly remoteUrl?: string;
  /** The last commit that touched the context, full hex; undefined when none is known (no commit
   *  yet, the context is not tracked, or a shallow clone's history stops before its last change). */
  readonly revision?: string;
  /** The context holds changes git has not committed (modified, staged, deleted or untracked files). */
  readonly dirty: boolean;
}

/** The label values of an image source. */
export interface SourceLabels {
  readonly url?: string;
  readonly revision?: string;
}

const COMMIT = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
/** A DNS name or an IPv4 address (no userinfo, no port: the caller splits those off). */
const HOST = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
/** Path characters a hosting service's repository path uses; anything else (blanks, quotes, `?`, `#`) gives no label. */
const PATH = /^[A-Za-z0-9._~%+-]+(?:\/[A-Za-z0-9._~%+-]+)*$/;
/** Longest URL derived (the spec's own source.url limit is 2,048). */
const MAX_URL = 2_048;

/**
 * The spec's source, with what it leaves out taken from git: the URL from `origin` (only a web
 * address, see `webUrlOfRemote`), and the revision only when the context is committed as it is
 * (a dirty context does not claim a commit it differs from). A value the spec gives always wins.
 */
export function sourceFromGit(given: SourceLabels, facts: GitFacts | undefined): SourceLabels {
  const url = given.url ?? (facts?.remoteUrl !== undefined ? webUrlOfRemote(facts.remoteUrl) : undefined);
  const revision = given.revision ?? (facts !== undefined && !facts.dirty && facts.revision !== undefined && COMMIT.test(facts.revision) ? facts.revision : undefined);
  return { ...(url !== undefined ? { url } : {}), ...(revision !== undefined ? { revision } : {}) };
}

/**
 * The web address of a git remote, or undefined when it has none:
 * - `http(s)://[user[:password]@]host[:port]/path[.git]` -> the same URL without credentials and `.git`;
 * - `[user@]host:path[.git]` (scp-like) and `ssh://[user@]host[:port]/path[.git]` -> `https://host/path`;
 * - a local path, `file://`, `git://` and anything unusual (a query, blanks, `..`) -> undefined.
 */
export function webUrlOfRemote(remote: string): string | undefined {
  const text = remote.trim();
  const web = /^(https?):\/\/(?:[^@/?#]*@)?([^/?#@]+)(\/[^?#]*)?$/i.exec(text);
  if (web !== null) {
    const [host, port] = splitPort(web[2]);
    return host !== undefined && (port === undefined || validPort(port)) ? webUrl(web[1].toLowerCase(), port === undefined ? host : `${host}:${port}`, web[3]) : undefined;
  }
  const ssh = /^ssh:\/\/(?:[^@/?#]*@)?([^/?#@]+)(\/[^?#]*)?$/i.exec(text);
  if (ssh !== null) {
    // The ssh port is not the web server's.
    const [host, port] = splitPort(ssh[1]);
    return host !== undefined && (port === undefined || validPort(port)) ? webUrl("https", host, ssh[2]) : undefined;
  }
  // scp-like syntax: git reads `host:path` this way only when no slash comes before the colon.
  const scp = /^(?:[A-Za-z0-9._-]+@)?([^@/:]+):([^/].*)$/.exec(text);
  if (scp !== null && HOST.test(scp[1]) && !scp[2].startsWith("~")) {
    return webUrl("https", scp[1].toLowerCase(), `/${scp[2]}`);
  }
  return undefined;
}

function splitPort(hostPort: string): [string | undefined, string | undefined] {
  const m = /^([^:]+)(?::(\d{1,5}))?$/.exec(hostPort);
  if (m === null || !HOST.test(m[1])) {
    return [undefined, undefined];
  }
  return [m[1].toLowerCase(), m[2]];
}

function validPort(port: string): boolean {
  const n = Number(port);
  return n >= 1 && n <= 65535;
}

function webUrl(scheme: string, host: string, rawPath: string | undefined): string | undefined {
  const repoPath = (rawPath ?? "").replace(/^\/+/, "").replace(/\/+$/, "").replace(/\.git$/, "");
  if (repoPath === "" || !PATH.test(repoPath) || repoPath.split("/").some((s) => s === "." || s === "..")) {
    return undefined;
  }
  const url = `${scheme}://${host}/${repoPath}`;
  return url.length <= MAX_URL ? url : undefined;
}
