/**
 * Values for the official `harbor` Helm chart (goharbor/harbor-helm), rendered from a small typed
 * deployment description. Pure: no Pulumi imports, same input -> same object -> same YAML bytes.
 * Every key written here exists in the pinned chart's values.yaml (test/integration/harbor-chart
 * .test.ts checks that, and renders the chart with `helm template`).
 *
 * Secrets stay secret: the values name existing Secrets only (admin password, database and Redis
 * passwords, TLS certificate); no password or key material is ever rendered.
 */
import YAML from "yaml";
import { joinKey, joinPath, throwIfIssues, ValidationIssue } from "./issues";

/** The chart these values are written for. `repository` is the Helm chart repository a real
 *  `pulumi up` fetches it from (a chart repository, not a container registry); point it at an
 *  internal chart mirror where the cluster cannot reach the public one. */
export const HARBOR_CHART = {
  name: "harbor",
  version: "1.19.1",
  appVersion: "2.15.1",
  repository: "https://helm.goharbor.io",
} as const;

/** The user the core and the job service log in to Harbor's own registry as (the chart's default
 *  name; its password comes from registryCredentialsSecret). */
export const HARBOR_INTERNAL_REGISTRY_USER = "harbor_registry_user";

export const POSTGRES_SSL_MODES = ["disable", "require", "verify-ca", "verify-full"] as const;
export type PostgresSslMode = (typeof POSTGRES_SSL_MODES)[number];

export interface HarborExternalDatabase {
  /** PostgreSQL host: a DNS name or an IPv4 address. */
  readonly host: string;
  /** @default 5432 */
  readonly port?: number;
  readonly username: string;
  /** Name of an existing Secret in the release namespace holding the password under the key
   *  `password` (the chart reads that key and no other). */
  readonly passwordSecret: string;
  /** The database Harbor's core uses.
   *  @default "registry" */
  readonly coreDatabase?: string;
  /** @default "require" (TLS without certificate verification; the chart's own default is "disable") */
  readonly sslmode?: PostgresSslMode;
}

export interface HarborExternalRedis {
  /** `host:port` of one Redis server. */
  readonly addr: string;
  /** Name of an existing Secret holding the password under the key `REDIS_PASSWORD` (the chart's key).
   *  @default none (no password) */
  readonly passwordSecret?: string;
}

export interface HarborDeployArgs {
  /** The URL clients use, `https://host[:port]` (no path): Harbor puts it in the token service
   *  URL and in the pull commands it shows. */
  readonly externalURL: string;
  /** The ingress host. Differs from externalURL's host only when a proxy in front of the ingress
   *  serves externalURL.
   *  @default the host of externalURL */
  readonly hostname?: string;
  /** An existing `kubernetes.io/tls` Secret for the ingress (never key material here). */
  readonly tls: { readonly secretName: string };
  /** An existing Secret holding the initial admin password (the component creates it from a Pulumi secret). */
  readonly adminPasswordSecret: {
    readonly name: string;
    /** @default "HARBOR_ADMIN_PASSWORD" (the chart's default key) */
    readonly key?: string;
  };
  /** An existing Secret holding Harbor's 16-character encryption key under `secretKey` (the
   *  chart's key), so the chart's well-known default key is never used.
   *  @default none: the chart's default key (HarborRegistry's deploy always gives one) */
  readonly encryptionKeySecret?: string;
  /** An existing Secret holding the password the core and the job service use with Harbor's own
   *  registry, under `REGISTRY_PASSWD`, and its bcrypt htpasswd line under `REGISTRY_HTPASSWD`
   *  (the chart's keys), so the chart's well-known default login is never used.
   *  @default none: the chart's default login (HarborRegistry's deploy always gives one) */
  readonly registryCredentialsSecret?: string;
  readonly persistence?: {
    /** StorageClass of every volume Harbor claims.
     *  @default the cluster's default StorageClass */
    readonly storageClass?: string;
    /** Size of the image store (Kubernetes quantity).
     *  @default "50Gi" */
    readonly registrySize?: string;
    /** Size of the internal PostgreSQL volume; only with the internal database.
     *  @default "5Gi" */
    readonly databaseSize?: string;
  };
  /** @default the chart's internal PostgreSQL */
  readonly database?: { readonly external?: HarborExternalDatabase };
  /** @default the chart's internal Redis */
  readonly redis?: { readonly external?: HarborExternalRedis };
  readonly trivy?: {
    /** @default true */
    readonly enabled?: boolean;
    /** Never download the vulnerability databases (Trivy's and Trivy's Java DB); mount them
     *  yourself. Only with Trivy enabled.
     *  @default false */
    readonly skipUpdate?: boolean;
    /** No API requests while scanning (air-gapped). Only with Trivy enabled.
     *  @default false */
    readonly offlineScan?: boolean;
  };
  /** Registry (and optional path) Harbor's own images are pulled from, e.g. an internal mirror
   *  `registry.example.internal/mirror`; each image keeps its `goharbor/<name>` path below it.
   *  @default the chart's images */
  readonly imageRegistry?: string;
}

/** The documented defaults of {@link HarborDeployArgs}, applied once in {@link renderHarborValues}. */
export const HARBOR_DEFAULTS = {
  adminPasswordKey: "HARBOR_ADMIN_PASSWORD",
  registrySize: "50Gi",
  databaseSize: "5Gi",
  databasePort: 5432,
  coreDatabase: "registry",
  sslmode: "require" as PostgresSslMode,
  trivyEnabled: true,
  trivySkipUpdate: false,
  trivyOfflineScan: false,
} as const;

/**
 * Where each Harbor image lives in the chart's values (`<path>.image.repository`) and its path
 * below a registry (the chart's defaults are `<public registry>/goharbor/<name>`). The whole set,
 * so whatever the chart deploys (nginx and the exporter only in other modes) comes from the mirror.
 */
export const HARBOR_IMAGES: readonly (readonly [valuesPath: readonly string[], image: string])[] = [
  [["core"], "goharbor/harbor-core"],
  [["database", "internal"], "goharbor/harbor-db"],
  [["exporter"], "goharbor/harbor-exporter"],
  [["jobservice"], "goharbor/harbor-jobservice"],
  [["nginx"], "goharbor/nginx-photon"],
  [["portal"], "goharbor/harbor-portal"],
  [["redis", "internal"], "goharbor/redis-photon"],
  [["registry", "controller"], "goharbor/harbor-registryctl"],
  [["registry", "registry"], "goharbor/registry-photon"],
  [["trivy"], "goharbor/trivy-adapter-photon"],
];

/**
 * The security context the chart puts on every container (it has one, `containerSecurityContext`;
 * the pod contexts are fixed in its templates: runAsUser 10000, or 999 for PostgreSQL and Redis).
 * Not `readOnlyRootFilesystem`: the chart mounts no writable /tmp, and its images write at start
 * (core installs CA certificates under /etc/pki, the portal's nginx writes its pid and temp files
 * under /tmp), so a read-only root would keep Harbor from starting.
 */
export const HARBOR_CONTAINER_SECURITY_CONTEXT = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
  privileged: false,
  runAsNonRoot: true,
  seccompProfile: { type: "RuntimeDefault" },
} as const;

const TOP_KEYS = ["externalURL", "hostname", "tls", "adminPasswordSecret", "encryptionKeySecret", "registryCredentialsSecret", "persistence", "database", "redis", "trivy", "imageRegistry"] as const;
const DNS_LABEL = String.raw`[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?`;
const DNS_SUBDOMAIN = new RegExp(String.raw`^(?=.{1,253}$)${DNS_LABEL}(?:\.${DNS_LABEL})*$`);
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
/** A key of a Secret's data. */
const SECRET_KEY = /^[-._a-zA-Z0-9]{1,253}$/;
/** A storage size: a whole or decimal number with a binary or decimal byte suffix (no milli-bytes). */
const STORAGE_QUANTITY = /^(?:\d+(?:\.\d+)?)(?:Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/;
/** A lowercase registry host with optional port, then optional lowercase path components (no tag or digest). */
const IMAGE_REGISTRY = new RegExp(String.raw`^${DNS_LABEL}(?:\.${DNS_LABEL})*(?::\d{1,5})?(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$`);
/** PostgreSQL identifiers and user names as Harbor passes them on: letters, digits, `_`, `-`, `.`, `@`. */
const PG_NAME = /^[A-Za-z_][A-Za-z0-9_.@-]{0,62}$/;

const secretNameFix = (example: string) => `use at most 253 lowercase letters, digits, "-" and ".", e.g. "${example}"`;

type Issues = ValidationIssue[];

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function unknownKeys(o: Record<string, unknown>, allowed: readonly string[], at: string, what: string): Issues {
  return Object.keys(o)
    .sort()
    .filter((k) => !allowed.includes(k))
    .map((k) => ({ path: joinKey(at, k), value: o[k], problem: `is not ${what}`, fix: `remove it or correct the spelling (allowed: ${allowed.join(", ")})` }));
}

/** The object at `key`, or undefined when absent; an issue when it is there but not an object. */
function section(o: Record<string, unknown>, key: string, at: string, shape: string, issues: Issues): Record<string, unknown> | undefined {
  const v = o[key];
  if (v === undefined) {
    return undefined;
  }
  if (!isObject(v)) {
    issues.push({ path: joinPath(at, key), value: v, problem: "must be an object", fix: `give ${shape}` });
    return undefined;
  }
  return v;
}

function secretNameIssue(value: unknown, at: string, what: string, example: string, required: boolean): Issues {
  if (value === undefined && !required) {
    return [];
  }
  if (typeof value !== "string" || !DNS_SUBDOMAIN.test(value)) {
    return [{ path: at, value, problem: value === undefined ? `is required (${what})` : `is not a ${what} name (a DNS-1123 subdomain)`, fix: secretNameFix(example) }];
  }
  return [];
}

function booleanIssue(value: unknown, at: string): Issues {
  return value === undefined || typeof value === "boolean" ? [] : [{ path: at, value, problem: "must be true or false", fix: "give a boolean, or remove it for the default" }];
}

/** `https://host[:port]` and nothing else. */
function externalUrlIssues(value: unknown, at: string): Issues {
  const fix = 'give "https://<host>[:<port>]" without a path, e.g. "https://harbor.example.internal"';
  if (typeof value !== "string") {
    return [{ path: at, value, problem: value === undefined ? "is required" : "must be a string", fix }];
  }
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#@]*)(.*)$/.exec(value);
  if (m === null) {
    return [{ path: at, value, problem: "is not an absolute URL", fix }];
  }
  const [, scheme, authority, rest] = m;
  if (scheme !== "https") {
    return [{ path: at, value, problem: `uses ${scheme}, not https`, fix: `${fix}; Docker clients refuse a plain-HTTP registry unless every node marks it insecure` }];
  }
  if (rest !== "") {
    return [{ path: at, value, problem: "has a path, query, fragment or user info", fix: `${fix}; Harbor appends its own paths to it` }];
  }
  const hp = /^([^:]*)(?::(\d{1,5}))?$/.exec(authority);
  if (hp === null || !DNS_SUBDOMAIN.test(hp[1]) || (hp[2] !== undefined && (Number(hp[2]) < 1 || Number(hp[2]) > 65535))) {
    return [{ path: at, value, problem: "does not have a lowercase DNS host (and optional port 1-65535)", fix }];
  }
  return [];
}

/** The host of an externalURL that passed {@link externalUrlIssues}. */
function hostOf(url: string): string {
  return url.slice("https://".length).split(":")[0];
}

function storageSizeIssue(value: unknown, at: string, example: string): Issues {
  if (value === undefined) {
    return [];
  }
  if (typeof value !== "string" || !STORAGE_QUANTITY.test(value) || !(Number(/^[\d.]+/.exec(value)![0]) > 0)) {
    return [{ path: at, value, problem: "is not a positive Kubernetes storage quantity", fix: `give a number with a byte suffix (Ki, Mi, Gi, Ti, k, M, G, T), e.g. "${example}"` }];
  }
  return [];
}

function portIssue(value: unknown, at: string): Issues {
  return value === undefined || (Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 65535)
    ? []
    : [{ path: at, value, problem: "is not a TCP port", fix: "give a whole number from 1 to 65535" }];
}

function hostIssue(value: unknown, at: string, example: string): Issues {
  if (typeof value === "string" && (IPV4.test(value) || DNS_SUBDOMAIN.test(value))) {
    return [];
  }
  return [{ path: at, value, problem: value === undefined ? "is required" : "is not a lowercase DNS name or IPv4 address", fix: `give the server's host name without scheme or port, e.g. "${example}"` }];
}

function databaseIssues(o: Record<string, unknown>, at: string): Issues {
  const issues: Issues = [];
  const KEYS = ["external"] as const;
  issues.push(...unknownKeys(o, KEYS, at, "a database option"));
  const ext = section(o, "external", at, "{ host, port?, username, passwordSecret, coreDatabase?, sslmode? }", issues);
  if (ext === undefined) {
    return issues;
  }
  const e = joinPath(at, "external");
  const EXT_KEYS = ["host", "port", "username", "passwordSecret", "coreDatabase", "sslmode"];
  issues.push(...unknownKeys(ext, EXT_KEYS, e, "an external database option"));
  issues.push(...hostIssue(ext.host, joinPath(e, "host"), "postgres.example.internal"));
  issues.push(...portIssue(ext.port, joinPath(e, "port")));
  if (typeof ext.username !== "string" || !PG_NAME.test(ext.username)) {
    issues.push({ path: joinPath(e, "username"), value: ext.username, problem: ext.username === undefined ? "is required" : "is not a PostgreSQL user name", fix: 'give 1-63 letters, digits, "_", ".", "@", "-", starting with a letter or "_", e.g. "harbor"' });
  }
  issues.push(...secretNameIssue(ext.passwordSecret, joinPath(e, "passwordSecret"), "Secret", "harbor-database", true));
  if (ext.coreDatabase !== undefined && (typeof ext.coreDatabase !== "string" || !PG_NAME.test(ext.coreDatabase))) {
    issues.push({ path: joinPath(e, "coreDatabase"), value: ext.coreDatabase, problem: "is not a PostgreSQL database name", fix: 'give 1-63 letters, digits, "_", ".", "@", "-", starting with a letter or "_", e.g. "registry"' });
  }
  if (ext.sslmode !== undefined && !(POSTGRES_SSL_MODES as readonly unknown[]).includes(ext.sslmode)) {
    issues.push({ path: joinPath(e, "sslmode"), value: ext.sslmode, problem: "is not a PostgreSQL sslmode Harbor supports", fix: `use one of: ${POSTGRES_SSL_MODES.map((m) => `"${m}"`).join(", ")}` });
  }
  return issues;
}

function redisIssues(o: Record<string, unknown>, at: string): Issues {
  const issues: Issues = [];
  issues.push(...unknownKeys(o, ["external"], at, "a Redis option"));
  const ext = section(o, "external", at, "{ addr, passwordSecret? }", issues);
  if (ext === undefined) {
    return issues;
  }
  const e = joinPath(at, "external");
  issues.push(...unknownKeys(ext, ["addr", "passwordSecret"], e, "an external Redis option"));
  const addr = typeof ext.addr === "string" ? /^([^:]+):(\d{1,5})$/.exec(ext.addr) : null;
  if (addr === null || hostIssue(addr[1], "", "").length > 0 || portIssue(Number(addr[2]), "").length > 0) {
    issues.push({ path: joinPath(e, "addr"), value: ext.addr, problem: ext.addr === undefined ? "is required" : "is not host:port", fix: 'give one Redis server as "<host>:<port>", e.g. "redis.example.internal:6379"' });
  }
  issues.push(...secretNameIssue(ext.passwordSecret, joinPath(e, "passwordSecret"), "Secret", "harbor-redis", false));
  return issues;
}

/**
 * Every problem of a Harbor deployment description at once. Accepts any value and never throws;
 * each issue names the property path under `path`.
 */
export function harborValuesIssues(args: unknown, path = ""): ValidationIssue[] {
  const root = path === "" ? "args" : path;
  if (!isObject(args)) {
    return [{ path: root, value: args, problem: "must be an object", fix: "give { externalURL, tls: { secretName }, adminPasswordSecret: { name }, ... }" }];
  }
  const at = (key: string) => joinPath(path, key);
  const issues: Issues = [];
  issues.push(...unknownKeys(args, TOP_KEYS, path, "a Harbor deployment option"));
  issues.push(...externalUrlIssues(args.externalURL, at("externalURL")));
  if (args.hostname !== undefined && (typeof args.hostname !== "string" || !DNS_SUBDOMAIN.test(args.hostname))) {
    issues.push({ path: at("hostname"), value: args.hostname, problem: "is not a lowercase DNS name", fix: 'give the ingress host without scheme or port, e.g. "harbor.example.internal", or remove it to use the host of externalURL' });
  }

  if (args.tls === undefined) {
    issues.push({ path: at("tls"), value: undefined, problem: "is required", fix: 'give { secretName: "<existing kubernetes.io/tls Secret>" }' });
  } else {
    const tls = section(args, "tls", path, '{ secretName: "<existing kubernetes.io/tls Secret>" }', issues);
    if (tls !== undefined) {
      issues.push(...unknownKeys(tls, ["secretName"], at("tls"), "a TLS option"));
      issues.push(...secretNameIssue(tls.secretName, joinPath(at("tls"), "secretName"), "Secret", "harbor-tls", true));
    }
  }

  if (args.adminPasswordSecret === undefined) {
    issues.push({ path: at("adminPasswordSecret"), value: undefined, problem: "is required", fix: 'give { name: "<existing Secret holding the admin password>", key? }' });
  } else {
    const admin = section(args, "adminPasswordSecret", path, "{ name, key? }", issues);
    if (admin !== undefined) {
      const a = at("adminPasswordSecret");
      issues.push(...unknownKeys(admin, ["name", "key"], a, "an admin password Secret option"));
      issues.push(...secretNameIssue(admin.name, joinPath(a, "name"), "Secret", "harbor-admin", true));
      if (admin.key !== undefined && (typeof admin.key !== "string" || !SECRET_KEY.test(admin.key))) {
        issues.push({ path: joinPath(a, "key"), value: admin.key, problem: "is not a Secret data key", fix: `use letters, digits, "-", "_" and ".", e.g. "${HARBOR_DEFAULTS.adminPasswordKey}"` });
      }
    }
  }

  if (args.encryptionKeySecret !== undefined) {
    issues.push(...secretNameIssue(args.encryptionKeySecret, at("encryptionKeySecret"), "Secret", "harbor-secret-key", true));
  }
  if (args.registryCredentialsSecret !== undefined) {
    issues.push(...secretNameIssue(args.registryCredentialsSecret, at("registryCredentialsSecret"), "Secret", "harbor-registry-credentials", true));
  }

  const externalDb = isObject(args.database) && args.database.external !== undefined;
  const persistence = section(args, "persistence", path, "{ storageClass?, registrySize?, databaseSize? }", issues);
  if (persistence !== undefined) {
    const p = at("persistence");
    issues.push(...unknownKeys(persistence, ["storageClass", "registrySize", "databaseSize"], p, "a persistence option"));
    issues.push(...secretNameIssue(persistence.storageClass, joinPath(p, "storageClass"), "StorageClass", "gp3", false));
    issues.push(...storageSizeIssue(persistence.registrySize, joinPath(p, "registrySize"), HARBOR_DEFAULTS.registrySize));
    issues.push(...storageSizeIssue(persistence.databaseSize, joinPath(p, "databaseSize"), HARBOR_DEFAULTS.databaseSize));
    if (externalDb && persistence.databaseSize !== undefined) {
      issues.push({ path: joinPath(p, "databaseSize"), value: persistence.databaseSize, problem: "is only for the internal database (database.external is set)", fix: "remove persistence.databaseSize, or remove database.external" });
    }
  }

  const database = section(args, "database", path, "{ external? }", issues);
  if (database !== undefined) {
    issues.push(...databaseIssues(database, at("database")));
  }
  const redis = section(args, "redis", path, "{ external? }", issues);
  if (redis !== undefined) {
    issues.push(...redisIssues(redis, at("redis")));
  }

  const trivy = section(args, "trivy", path, "{ enabled?, skipUpdate?, offlineScan? }", issues);
  if (trivy !== undefined) {
    const t = at("trivy");
    issues.push(...unknownKeys(trivy, ["enabled", "skipUpdate", "offlineScan"], t, "a Trivy option"));
    for (const key of ["enabled", "skipUpdate", "offlineScan"] as const) {
      issues.push(...booleanIssue(trivy[key], joinPath(t, key)));
    }
    if (trivy.enabled === false) {
      for (const key of ["skipUpdate", "offlineScan"] as const) {
        if (trivy[key] !== undefined) {
          issues.push({ path: joinPath(t, key), value: trivy[key], problem: "is only for an enabled Trivy (trivy.enabled is false)", fix: `remove trivy.${key}, or enable Trivy` });
        }
      }
    }
  }

  if (args.imageRegistry !== undefined) {
    const v = args.imageRegistry;
    if (typeof v !== "string" || !IMAGE_REGISTRY.test(v)) {
      issues.push({ path: at("imageRegistry"), value: v, problem: "is not a registry host with an optional path", fix: 'give "<host>[:<port>][/<path>]" without scheme, tag or trailing "/", e.g. "registry.example.internal/mirror"' });
    } else {
      const port = /:(\d+)/.exec(v);
      if (port !== null && (Number(port[1]) < 1 || Number(port[1]) > 65535)) {
        issues.push({ path: at("imageRegistry"), value: v, problem: "has a port outside 1-65535", fix: 'give "<host>[:<port>][/<path>]", e.g. "registry.example.internal:5000/mirror"' });
      }
    }
  }
  return issues;
}

/**
 * The chart values for a Harbor deployment. Throws one ValidationError listing every problem.
 * Keys are sorted at every level, so the object (and its JSON or YAML) is byte-stable.
 */
export function renderHarborValues(args: HarborDeployArgs): Record<string, unknown> {
  throwIfIssues("Invalid Harbor deployment", harborValuesIssues(args));
  const d = HARBOR_DEFAULTS;
  const externalDb = args.database?.external;
  const externalRedis = args.redis?.external;
  const storageClass = args.persistence?.storageClass;
  /** A PVC of the chart, with the StorageClass when one is given. */
  const claim = (size?: string) => ({ ...(storageClass !== undefined ? { storageClass } : {}), ...(size !== undefined ? { size } : {}) });
  const trivyEnabled = args.trivy?.enabled ?? d.trivyEnabled;
  const skipUpdate = args.trivy?.skipUpdate ?? d.trivySkipUpdate;

  const values: Record<string, unknown> = {
    // Ingress: TLS ends at the ingress with the given Secret, and the chart then deploys no
    // nginx of its own. clusterIP with TLS would run Harbor's nginx with the certificate and
    // still need something in front to reach it from outside the cluster.
    expose: {
      type: "ingress",
      tls: { enabled: true, certSource: "secret", secret: { secretName: args.tls.secretName } },
      ingress: { hosts: { core: args.hostname ?? hostOf(args.externalURL) } },
    },
    externalURL: args.externalURL,
    existingSecretAdminPassword: args.adminPasswordSecret.name,
    existingSecretAdminPasswordKey: args.adminPasswordSecret.key ?? d.adminPasswordKey,
    // The chart reads the key `secretKey` of this Secret instead of its well-known default.
    ...(args.encryptionKeySecret !== undefined ? { existingSecretSecretKey: args.encryptionKeySecret } : {}),
    // The chart's volumes are ReadWriteOnce: a rolling update would start the new registry or
    // jobservice pod before the old one lets go of its volume, and hang on another node.
    updateStrategy: { type: "Recreate" },
    containerSecurityContext: HARBOR_CONTAINER_SECURITY_CONTEXT,
    persistence: {
      enabled: true,
      // Nothing lost on destroy: the chart keeps the PVCs when the release is deleted.
      resourcePolicy: "keep",
      persistentVolumeClaim: {
        registry: claim(args.persistence?.registrySize ?? d.registrySize),
        ...(storageClass !== undefined ? { jobservice: { jobLog: claim() } } : {}),
        ...(externalDb === undefined ? { database: claim(args.persistence?.databaseSize ?? d.databaseSize) } : {}),
        ...(externalRedis === undefined && storageClass !== undefined ? { redis: claim() } : {}),
        ...(trivyEnabled && storageClass !== undefined ? { trivy: claim() } : {}),
      },
    },
    ...(args.registryCredentialsSecret !== undefined ? { registry: { credentials: { existingSecret: args.registryCredentialsSecret, username: HARBOR_INTERNAL_REGISTRY_USER } } } : {}),
    database:
      externalDb === undefined
        ? { type: "internal" }
        : {
            type: "external",
            external: {
              host: externalDb.host,
              // The chart's values hold the port as a string.
              port: String(externalDb.port ?? d.databasePort),
              username: externalDb.username,
              existingSecret: externalDb.passwordSecret,
              coreDatabase: externalDb.coreDatabase ?? d.coreDatabase,
              sslmode: externalDb.sslmode ?? d.sslmode,
            },
          },
    redis:
      externalRedis === undefined
        ? { type: "internal" }
        : {
            type: "external",
            external: { addr: externalRedis.addr, ...(externalRedis.passwordSecret !== undefined ? { existingSecret: externalRedis.passwordSecret } : {}) },
          },
    trivy: trivyEnabled
      ? {
          enabled: true,
          skipUpdate,
          // Without its Java DB download too, or an air-gapped Trivy still reaches out for it.
          skipJavaDBUpdate: skipUpdate,
          offlineScan: args.trivy?.offlineScan ?? d.trivyOfflineScan,
        }
      : { enabled: false },
  };

  if (args.imageRegistry !== undefined) {
    for (const [valuesPath, image] of HARBOR_IMAGES) {
      setIn(values, [...valuesPath, "image", "repository"], `${args.imageRegistry}/${image}`);
    }
  }
  return sortKeys(values) as Record<string, unknown>;
}

/** The values with the internal PostgreSQL's password set (the chart reads it from its values
 *  only); for the release, never for a rendered document. */
export function withInternalDatabasePassword(values: Record<string, unknown>, password: string): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(values)) as Record<string, unknown>;
  setIn(copy, ["database", "internal", "password"], password);
  return copy;
}

/** {@link renderHarborValues} as YAML (what `helm template -f` and a review read). */
export function renderHarborValuesYaml(args: HarborDeployArgs): string {
  return YAML.stringify(renderHarborValues(args), { lineWidth: 0, aliasDuplicateObjects: false });
}

function setIn(target: Record<string, unknown>, keys: readonly string[], value: unknown): void {
  let node = target;
  for (const key of keys.slice(0, -1)) {
    if (!isObject(node[key])) {
      node[key] = {};
    }
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]] = value;
}

/** A deep copy with the keys of every object sorted (arrays keep their order). */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(sortKeys);
  }
  if (isObject(value)) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys(value[k])]),
    );
  }
  return value;
}
