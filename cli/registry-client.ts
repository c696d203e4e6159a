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

/** Exactly a loopback address, with an optional port: 127.0.0.0/8, localhost, [::1]. */
export function isLoopbackHost(host: string): boolean {
  const m = /^(\[::1\]|localhost|(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3}))(?::(\d{1,5}))?$/.exec(host);
  if (m === null) {
    return false;
  }
  if (m[2] !== undefined && (Number(m[2]) !== 127 || [m[3], m[4], m[5]].some((o) => Number(o) > 255))) {
    return false;
  }
  return m[6] === undefined || (Number(m[6]) >= 1 && Number(m[6]) <= 65535);
}

export interface RegistryClientOptions {
  /** Plain HTTP. Only ever for a loopback registry: credentials never cross a network in clear.
   *  @default true for a loopback address, else false */
  readonly plainHttp?: boolean;
}

export class RegistryClient {
  private readonly plainHttp: boolean;
  constructor(
    /** host:port of the registry. */
    public readonly address: string,
    private readonly auth?: RegistryAuth,
    options: RegistryClientOptions = {},
  ) {
    const loopback = isLoopbackHost(address);
    if (options.plainHttp === true && !loopback) {
      throw new RegistryError(`plain HTTP to ${address} would send credentials in clear. Fix: use TLS; plain HTTP is only for a loopback registry`);
    }
    this.plainHttp = options.plainHttp ?? loopback;
  }

  private url(path: string): string {
    return `${this.plainHttp ? "http" : "https"}://${this.address}${path}`;
  }

  /** fetch with a deadline; a network failure or time-out becomes a RegistryError naming what was asked and the fix. */
  private async request(path: string, what: string, init: { method?: string; accept?: string; timeoutMs?: number } = {}): Promise<Response> {
    try {
      return await fetch(this.url(path), { method: init.method ?? "GET", headers: this.headers(init.accept), signal: AbortSignal.timeout(init.timeoutMs ?? 10000) });
    } catch (e) {
      const c = (e as { cause?: { code?: string; message?: string; errors?: { code?: string }[] } }).cause;
      const name = (e as Error).name === "TimeoutError" ? `no answer within ${(init.timeoutMs ?? 10000) / 1000} s` : undefined;
      const cause = name ?? c?.code ?? c?.errors?.find((x) => x.code !== undefined)?.code ?? c?.message ?? (e as Error).message;
      throw new RegistryError(`registry ${this.address} is not reachable (${cause}) while ${what}. Fix: check the registry is running (\`bash scripts/services.sh status\`) or pass --registry HOST:PORT`);
    }
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
      const cause = (e as Error).name === "TimeoutError" ? "no answer within 5 s" : c?.code ?? c?.errors?.find((x) => x.code !== undefined)?.code ?? c?.message ?? (e as Error).message;
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
    const res = await this.request(`/v2/${path}/manifests/${reference}`, `resolving ${path}:${reference}`, { method: "HEAD", accept: MANIFEST_TYPES });
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

  /** The image configuration (user, labels, env, ...) of a single-platform image, or of the first platform of an index. */
  async imageConfig(path: string, reference: string): Promise<{ User?: string; Labels?: Record<string, string>; Env?: string[] }> {
    const res = await this.request(`/v2/${path}/manifests/${reference}`, `reading the manifest of ${path}:${reference}`, { accept: MANIFEST_TYPES });
    if (!res.ok) {
      throw new RegistryError(`registry ${this.address} answered HTTP ${res.status} for ${path}:${reference}`);
    }
    const manifest = (await res.json()) as { config?: { digest: string }; manifests?: { digest: string }[] };
    if (manifest.manifests !== undefined && manifest.manifests.length > 0) {
      return this.imageConfig(path, manifest.manifests[0].digest);
    }
    if (manifest.config === undefined) {
      throw new RegistryError(`registry ${this.address} sent a manifest without config for ${path}:${reference}`);
    }
    const blob = await this.request(`/v2/${path}/blobs/${manifest.config.digest}`, `reading the config of ${path}:${reference}`);
    if (!blob.ok) {
      throw new RegistryError(`registry ${this.address} answered HTTP ${blob.status} for the config of ${path}:${reference}`);
    }
    return ((await blob.json()) as { config?: { User?: string; Labels?: Record<string, string>; Env?: string[] } }).config ?? {};
  }

  /**
   * The platforms (`os/architecture`) an image serves: an index's manifests (attestation entries
   * of `unknown/unknown` left out), or a single manifest's configuration.
   */
  async platformsOf(path: string, reference: string): Promise<string[]> {
    const res = await this.request(`/v2/${path}/manifests/${reference}`, `reading the manifest of ${path}:${reference}`, { accept: MANIFEST_TYPES });
    if (!res.ok) {
      throw new RegistryError(`registry ${this.address} answered HTTP ${res.status} for ${path}:${reference}`);
    }
    const manifest = (await res.json()) as { config?: { digest: string }; manifests?: { platform?: { os?: string; architecture?: string; variant?: string } }[] };
    if (manifest.manifests !== undefined) {
      return manifest.manifests
        .map((m) => `${m.platform?.os ?? "unknown"}/${m.platform?.architecture ?? "unknown"}${m.platform?.variant !== undefined ? `/${m.platform.variant}` : ""}`)
        .filter((p) => !p.startsWith("unknown/"));
    }
    if (manifest.config === undefined) {
      throw new RegistryError(`registry ${this.address} sent a manifest without config for ${path}:${reference}`);
    }
    const blob = await this.request(`/v2/${path}/blobs/${manifest.config.digest}`, `reading the config of ${path}:${reference}`);
    if (!blob.ok) {
      throw new RegistryError(`registry ${this.address} answered HTTP ${blob.status} for the config of ${path}:${reference}`);
    }
    const config = (await blob.json()) as { os?: string; architecture?: string; variant?: string };
    return [`${config.os ?? "unknown"}/${config.architecture ?? "unknown"}${config.variant !== undefined ? `/${config.variant}` : ""}`];
  }

  /** Tags of a repository; [] when the repository does not exist. */
  async tags(path: string): Promise<string[]> {
    const res = await this.request(`/v2/${path}/tags/list`, `listing the tags of ${path}`);
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
    const res = await this.request(`/v2/${path}/manifests/${reference}`, `reading the manifest of ${path}:${reference}`, { accept: MANIFEST_TYPES });
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
