/**
 * A small client for the OCI distribution API (what `docker push` talks to), used to pin
 * bases to digests and to check that the registry serves what was pushed.
 */

export interface RegistryAuth {
  readonly username: string;
  readonly password: string;
}

const MANIFEST_TYPES = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

export class RegistryError extends Error {}

const OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const PORT = "(?::(?:6553[0-5]|655[0-2]\\d|65[0-4]\\d\\d|6[0-4]\\d{3}|[1-5]\\d{4}|[1-9]\\d{0,3}))?";
/** `127.0.0.0/8` as an IPv4 literal, `localhost` or `[::1]`, each with an optional port; nothing else. */
const LOOPBACK = new RegExp(`^(?:127(?:\\.${OCTET}){3}|localhost|\\[::1\\])${PORT}$`, "i");

/**
 * Whether a registry address (`host[:port]`) is this machine, exactly: plain HTTP (and Basic
 * auth over it) is used only then. `127.0.0.1.example.net` or `localhost.example.net` are not.
 */
export function isLoopbackAddress(address: string): boolean {
  return LOOPBACK.test(address);
}

export class RegistryClient {
  constructor(
    /** host:port, plain HTTP for loopback registries. */
    public readonly address: string,
    private readonly auth?: RegistryAuth,
  ) {}

  private url(path: string): string {
    return `${isLoopbackAddress(this.address) ? "http" : "https"}://${this.address}${path}`;
  }

  private headers(accept?: string): Record<string, string> {
    const h: Record<string, string> = {};
    if (this.auth !== undefined) {
      h.Authorization = `Basic ${Buffer.from(`${this.auth.username}:${this.auth.password}`).toString("base64")}`;
    }
    if (accept !== undefined) {
      h.Accept = accept;
    }
    return h;
  }

  /** Throws a RegistryError naming the problem and the fix when the registry cannot be used. */
  async ping(): Promise<void> {
    let res: Response;
    try {
      res = await fetch(this.url("/v2/"), { headers: this.headers(), signal: AbortSignal.timeout(5000) });
    } catch (e) {
      const c = (e as { cause?: { code?: string; message?: string; errors?: { code?: string }[] } }).cause;
      const cause = c?.code ?? c?.errors?.find((x) => x.code !== undefined)?.code ?? c?.message ?? (e as Error).message;
      throw new RegistryError(`registry ${this.address} is not reachable (${cause}). Fix: start it with \`bash scripts/services.sh start\` or pass --registry HOST:PORT`);
    }
    if (res.status === 401) {
      throw new RegistryError(`registry ${this.address} refused the credentials (HTTP 401). Fix: pass --username and --password-file of the registry's htpasswd user`);
    }
    if (!res.ok) {
      throw new RegistryError(`registry ${this.address} answered HTTP ${res.status} on /v2/. Fix: check that it is an OCI registry`);
    }
  }

  /** The digest the registry serves for `path:reference`, or undefined when it has none. */
  async digestOf(path: string, reference: string): Promise<string | undefined> {
    const res = await fetch(this.url(`/v2/${path}/manifests/${reference}`), { method: "HEAD", headers: this.headers(MANIFEST_TYPES), signal: AbortSignal.timeout(10000) });
    if (res.status === 404) {
      return undefined;
    }
    if (!res.ok) {
      throw new RegistryError(`registry ${this.address} answered HTTP ${res.status} for ${path}:${reference}`);
    }
    const digest = res.headers.get("docker-content-digest");
    if (digest === null) {
      throw new RegistryError(`registry ${this.address} sent no digest for ${path}:${reference}`);
    }
    return digest;
  }

  /** Tags of a repository; [] when the repository does not exist. */
  async tags(path: string): Promise<string[]> {
    const res = await fetch(this.url(`/v2/${path}/tags/list`), { headers: this.headers(), signal: AbortSignal.timeout(10000) });
    if (res.status === 404) {
      return [];
    }
    if (!res.ok) {
      throw new RegistryError(`registry ${this.address} answered HTTP ${res.status} listing tags of ${path}`);
    }
    return ((await res.json()) as { tags?: string[] | null }).tags ?? [];
  }

  /** Compressed size of an image: manifest layers plus config, as stored in the registry. */
  async imageSize(path: string, reference: string): Promise<number> {
    const res = await fetch(this.url(`/v2/${path}/manifests/${reference}`), { headers: this.headers(MANIFEST_TYPES), signal: AbortSignal.timeout(10000) });
    if (!res.ok) {
      throw new RegistryError(`registry ${this.address} answered HTTP ${res.status} for ${path}:${reference}`);
    }
    const manifest = (await res.json()) as { config?: { size: number }; layers?: { size: number }[]; manifests?: { digest: string }[] };
    if (manifest.manifests !== undefined && manifest.manifests.length > 0) {
      return this.imageSize(path, manifest.manifests[0].digest);
    }
    return (manifest.config?.size ?? 0) + (manifest.layers ?? []).reduce((n, l) => n + l.size, 0);
  }
}
