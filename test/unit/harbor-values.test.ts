/**
 * The values for the official `harbor` Helm chart: a golden file (UPDATE_GOLDEN=1 rewrites it;
 * review the diff like a preview), the documented defaults, internal and external database and
 * Redis, image overrides, no secret value anywhere (only Secret names), determinism, and every
 * input problem reported at once. test/integration/harbor-chart.test.ts judges the same values
 * with the real chart.
 */
import * as fs from "fs";
import * as path from "path";
import fc from "fast-check";
import YAML from "yaml";
import {
  HARBOR_CHART,
  HARBOR_CONTAINER_SECURITY_CONTEXT,
  HARBOR_DEFAULTS,
  HARBOR_IMAGES,
  HarborDeployArgs,
  harborValuesIssues,
  renderHarborValues,
  renderHarborValuesYaml,
  withInternalDatabasePassword,
} from "../../components/render/harbor-values";
import { formatIssue, ValidationError, WELL_FORMED_PATH } from "../../components/render/issues";

const MINIMAL: HarborDeployArgs = {
  externalURL: "https://harbor.example.internal",
  tls: { secretName: "harbor-tls" },
  adminPasswordSecret: { name: "harbor-admin" },
};

/** The golden example: a mirror for Harbor's images and a StorageClass, internal database and Redis. */
const GOLDEN_ARGS: HarborDeployArgs = {
  ...MINIMAL,
  encryptionKeySecret: "harbor-secret-key",
  registryCredentialsSecret: "harbor-registry-credentials",
  persistence: { storageClass: "fast-ssd", registrySize: "200Gi" },
  imageRegistry: "registry.example.internal/mirror",
};

const EXTERNAL: HarborDeployArgs = {
  ...MINIMAL,
  hostname: "registry.example.internal",
  adminPasswordSecret: { name: "harbor-admin", key: "password" },
  database: { external: { host: "postgres.example.internal", port: 6432, username: "harbor", passwordSecret: "harbor-db", coreDatabase: "harbor_core", sslmode: "verify-full" } },
  redis: { external: { addr: "redis.example.internal:6380", passwordSecret: "harbor-redis" } },
  trivy: { skipUpdate: true, offlineScan: true },
};

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected an error, none was thrown");
}

/** Every key path of a values object, `a.b.c`, leaves only. */
function leafPaths(value: unknown, at = ""): string[] {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    return Object.entries(value).flatMap(([k, v]) => leafPaths(v, at === "" ? k : `${at}.${k}`));
  }
  return [at];
}

describe("HARBOR_CHART", () => {
  it("THEN pins one chart release and its chart repository (not a container registry)", () => {
    expect(HARBOR_CHART).toEqual({ name: "harbor", version: "1.19.1", appVersion: "2.15.1", repository: "https://helm.goharbor.io" });
  });
});

describe("renderHarborValues", () => {
  describe("GIVEN only the required properties", () => {
    const values = renderHarborValues(MINIMAL);

    it("THEN the documented defaults are the applied ones", () => {
      expect(HARBOR_DEFAULTS).toEqual({
        adminPasswordKey: "HARBOR_ADMIN_PASSWORD",
        registrySize: "50Gi",
        databaseSize: "5Gi",
        databasePort: 5432,
        coreDatabase: "registry",
        sslmode: "require",
        trivyEnabled: true,
        trivySkipUpdate: false,
        trivyOfflineScan: false,
      });
      expect(values).toEqual({
        containerSecurityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, privileged: false, runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
        database: { type: "internal" },
        existingSecretAdminPassword: "harbor-admin",
        existingSecretAdminPasswordKey: "HARBOR_ADMIN_PASSWORD",
        expose: {
          ingress: { hosts: { core: "harbor.example.internal" } },
          tls: { certSource: "secret", enabled: true, secret: { secretName: "harbor-tls" } },
          type: "ingress",
        },
        externalURL: "https://harbor.example.internal",
        persistence: { enabled: true, persistentVolumeClaim: { database: { size: "5Gi" }, registry: { size: "50Gi" } }, resourcePolicy: "keep" },
        redis: { type: "internal" },
        trivy: { enabled: true, offlineScan: false, skipJavaDBUpdate: false, skipUpdate: false },
        updateStrategy: { type: "Recreate" },
      });
    });

    it("THEN the ingress host is the host of externalURL, without its port", () => {
      const withPort = renderHarborValues({ ...MINIMAL, externalURL: "https://harbor.example.internal:8443" }) as any;
      expect(withPort.expose.ingress.hosts.core).toBe("harbor.example.internal");
      expect(withPort.externalURL).toBe("https://harbor.example.internal:8443");
    });

    it("THEN no image is overridden: the chart's own images and tags stay", () => {
      expect(leafPaths(values).filter((p) => p.includes("image"))).toEqual([]);
    });
  });

  describe("GIVEN an external database and Redis, a hostname, a key and an air-gapped Trivy", () => {
    const values = renderHarborValues(EXTERNAL) as any;

    it("THEN the database is the chart's external one, its password read from the Secret", () => {
      expect(values.database).toEqual({
        type: "external",
        external: { host: "postgres.example.internal", port: "6432", username: "harbor", existingSecret: "harbor-db", coreDatabase: "harbor_core", sslmode: "verify-full" },
      });
    });

    it("THEN Redis is the chart's external one, its password read from the Secret", () => {
      expect(values.redis).toEqual({ type: "external", external: { addr: "redis.example.internal:6380", existingSecret: "harbor-redis" } });
    });

    it("THEN no volume is claimed for the database, and the hostname and key are used", () => {
      expect(values.persistence.persistentVolumeClaim).toEqual({ registry: { size: "50Gi" } });
      expect(values.expose.ingress.hosts.core).toBe("registry.example.internal");
      expect(values.existingSecretAdminPasswordKey).toBe("password");
    });

    it("THEN Trivy downloads neither database and scans offline", () => {
      expect(values.trivy).toEqual({ enabled: true, skipUpdate: true, skipJavaDBUpdate: true, offlineScan: true });
    });

    it("THEN an external database without port, database or sslmode gets 5432, registry and require", () => {
      const v = renderHarborValues({ ...MINIMAL, database: { external: { host: "10.0.0.5", username: "harbor", passwordSecret: "harbor-db" } } }) as any;
      expect(v.database.external).toEqual({ host: "10.0.0.5", port: "5432", username: "harbor", existingSecret: "harbor-db", coreDatabase: "registry", sslmode: "require" });
    });

    it("THEN external Redis without a password Secret names none", () => {
      const v = renderHarborValues({ ...MINIMAL, redis: { external: { addr: "redis.example.internal:6379" } } }) as any;
      expect(v.redis).toEqual({ type: "external", external: { addr: "redis.example.internal:6379" } });
    });
  });

  describe("GIVEN a StorageClass", () => {
    it("THEN every volume the deployment claims uses it", () => {
      const v = renderHarborValues({ ...MINIMAL, persistence: { storageClass: "fast-ssd", databaseSize: "20Gi" } }) as any;
      expect(v.persistence.persistentVolumeClaim).toEqual({
        database: { size: "20Gi", storageClass: "fast-ssd" },
        jobservice: { jobLog: { storageClass: "fast-ssd" } },
        redis: { storageClass: "fast-ssd" },
        registry: { size: "50Gi", storageClass: "fast-ssd" },
        trivy: { storageClass: "fast-ssd" },
      });
    });

    it("THEN volumes of external or disabled parts are not claimed", () => {
      const v = renderHarborValues({ ...EXTERNAL, persistence: { storageClass: "fast-ssd" }, trivy: { enabled: false } }) as any;
      expect(Object.keys(v.persistence.persistentVolumeClaim)).toEqual(["jobservice", "registry"]);
      expect(v.trivy).toEqual({ enabled: false });
    });
  });

  describe("GIVEN an image registry", () => {
    const values = renderHarborValues({ ...MINIMAL, imageRegistry: "registry.example.internal:5000/mirror/harbor" }) as any;

    it("THEN every Harbor image comes from it, keeping its goharbor/ path, and the chart's tags stay", () => {
      expect(leafPaths(values).filter((p) => p.includes("image"))).toEqual([
        "core.image.repository",
        "database.internal.image.repository",
        "exporter.image.repository",
        "jobservice.image.repository",
        "nginx.image.repository",
        "portal.image.repository",
        "redis.internal.image.repository",
        "registry.controller.image.repository",
        "registry.registry.image.repository",
        "trivy.image.repository",
      ]);
      expect(values.core.image).toEqual({ repository: "registry.example.internal:5000/mirror/harbor/goharbor/harbor-core" });
      expect(values.registry.registry.image.repository).toBe("registry.example.internal:5000/mirror/harbor/goharbor/registry-photon");
      expect(HARBOR_IMAGES.map(([, image]) => image).every((i) => i.startsWith("goharbor/"))).toBe(true);
    });

    it("THEN the database and Redis keep their type beside the image", () => {
      expect(values.database).toEqual({ type: "internal", internal: { image: { repository: "registry.example.internal:5000/mirror/harbor/goharbor/harbor-db" } } });
      expect(values.redis.type).toBe("internal");
    });
  });

  describe("GIVEN the security context", () => {
    it("THEN every container runs non-root, without privileges or escalation, all capabilities dropped, RuntimeDefault seccomp", () => {
      expect((renderHarborValues(MINIMAL) as any).containerSecurityContext).toEqual(HARBOR_CONTAINER_SECURITY_CONTEXT);
    });

    it("THEN the exported constant cannot be changed through a rendered object", () => {
      const v = renderHarborValues(MINIMAL) as any;
      v.containerSecurityContext.capabilities.drop.push("NONE");
      expect(HARBOR_CONTAINER_SECURITY_CONTEXT.capabilities.drop).toEqual(["ALL"]);
    });
  });

  describe("GIVEN secrets", () => {
    const rendered = [MINIMAL, GOLDEN_ARGS, EXTERNAL].map((a) => renderHarborValues(a));
    /** The chart keys that would carry a secret value; the renderer must never set one. */
    const CHART_SECRET_VALUE_KEYS = [
      "harborAdminPassword",
      "secretKey",
      "database.internal.password",
      "database.external.password",
      "redis.external.password",
      "registry.credentials.password",
      "registry.credentials.htpasswdString",
      "core.secret",
      "core.xsrfKey",
      "core.tokenKey",
      "jobservice.secret",
      "registry.secret",
      "trivy.gitHubToken",
    ];

    it("THEN no key that carries a secret value in the chart is set", () => {
      for (const values of rendered) {
        expect(leafPaths(values).filter((p) => CHART_SECRET_VALUE_KEYS.includes(p))).toEqual([]);
      }
    });

    it("THEN every key naming a password or secret holds a Secret name, a Secret key or a flag, never a value", () => {
      const allowed = new Set(["harbor-admin", "harbor-tls", "harbor-db", "harbor-redis", "harbor-secret-key", "harbor-registry-credentials", "HARBOR_ADMIN_PASSWORD", "password", "secret", true]);
      for (const values of rendered) {
        const secretish = leafPaths(values).filter((p) => /password|secret/i.test(p));
        expect(secretish.length).toBeGreaterThan(0);
        for (const p of secretish) {
          const value = p.split(".").reduce<any>((o, k) => o[k], values);
          expect([p, allowed.has(value)]).toEqual([p, true]);
        }
      }
    });
  });

  describe("GIVEN determinism", () => {
    it("THEN the same input written in another key order renders the same bytes", () => {
      const reordered: HarborDeployArgs = {
        imageRegistry: "registry.example.internal/mirror",
        registryCredentialsSecret: "harbor-registry-credentials",
        persistence: { registrySize: "200Gi", storageClass: "fast-ssd" },
        encryptionKeySecret: "harbor-secret-key",
        adminPasswordSecret: { name: "harbor-admin" },
        tls: { secretName: "harbor-tls" },
        externalURL: "https://harbor.example.internal",
      };
      expect(renderHarborValuesYaml(reordered)).toBe(renderHarborValuesYaml(GOLDEN_ARGS));
      expect(JSON.stringify(renderHarborValues(reordered))).toBe(JSON.stringify(renderHarborValues(GOLDEN_ARGS)));
    });

    it("THEN rendering does not change its input", () => {
      const args = JSON.parse(JSON.stringify(EXTERNAL));
      renderHarborValues(args);
      expect(args).toEqual(EXTERNAL);
    });

    it("THEN every object of the values has its keys sorted", () => {
      const sortedEverywhere = (v: unknown): boolean =>
        v === null || typeof v !== "object" ? true : Array.isArray(v) ? v.every(sortedEverywhere) : Object.keys(v).join() === Object.keys(v).sort().join() && Object.values(v).every(sortedEverywhere);
      expect([MINIMAL, GOLDEN_ARGS, EXTERNAL].every((a) => sortedEverywhere(renderHarborValues(a)))).toBe(true);
    });
  });
});

describe("harborValuesIssues", () => {
  it("GIVEN the examples THEN they are valid", () => {
    expect([MINIMAL, GOLDEN_ARGS, EXTERNAL].map((a) => harborValuesIssues(a))).toEqual([[], [], []]);
  });

  describe.each<[string, unknown, string[]]>([
    ["not an object", "harbor", ['args: must be an object (value: "harbor"). Fix: give { externalURL, tls: { secretName }, adminPasswordSecret: { name }, ... }']],
    [
      "nothing",
      {},
      [
        'externalURL: is required (value: not set). Fix: give "https://<host>[:<port>]" without a path, e.g. "https://harbor.example.internal"',
        'tls: is required (value: not set). Fix: give { secretName: "<existing kubernetes.io/tls Secret>" }',
        'adminPasswordSecret: is required (value: not set). Fix: give { name: "<existing Secret holding the admin password>", key? }',
      ],
    ],
    [
      "a plain-HTTP URL",
      { ...MINIMAL, externalURL: "http://harbor.example.internal" },
      ['externalURL: uses http, not https (value: "http://harbor.example.internal"). Fix: give "https://<host>[:<port>]" without a path, e.g. "https://harbor.example.internal"; Docker clients refuse a plain-HTTP registry unless every node marks it insecure'],
    ],
    [
      "a URL with a trailing slash",
      { ...MINIMAL, externalURL: "https://harbor.example.internal/" },
      ['externalURL: has a path, query, fragment or user info (value: "https://harbor.example.internal/"). Fix: give "https://<host>[:<port>]" without a path, e.g. "https://harbor.example.internal"; Harbor appends its own paths to it'],
    ],
    [
      "a URL with user info",
      { ...MINIMAL, externalURL: "https://admin:x@harbor.example.internal" },
      ['externalURL: has a path, query, fragment or user info (value: "https://admin:x@harbor.example.internal"). Fix: give "https://<host>[:<port>]" without a path, e.g. "https://harbor.example.internal"; Harbor appends its own paths to it'],
    ],
    [
      "not a URL",
      { ...MINIMAL, externalURL: "harbor.example.internal" },
      ['externalURL: is not an absolute URL (value: "harbor.example.internal"). Fix: give "https://<host>[:<port>]" without a path, e.g. "https://harbor.example.internal"'],
    ],
    [
      "a URL with an upper-case host",
      { ...MINIMAL, externalURL: "https://Harbor.example.internal" },
      ['externalURL: does not have a lowercase DNS host (and optional port 1-65535) (value: "https://Harbor.example.internal"). Fix: give "https://<host>[:<port>]" without a path, e.g. "https://harbor.example.internal"'],
    ],
    [
      "a URL with port 0",
      { ...MINIMAL, externalURL: "https://harbor.example.internal:0" },
      ['externalURL: does not have a lowercase DNS host (and optional port 1-65535) (value: "https://harbor.example.internal:0"). Fix: give "https://<host>[:<port>]" without a path, e.g. "https://harbor.example.internal"'],
    ],
    [
      "a hostname with a scheme",
      { ...MINIMAL, hostname: "https://harbor.example.internal" },
      ['hostname: is not a lowercase DNS name (value: "https://harbor.example.internal"). Fix: give the ingress host without scheme or port, e.g. "harbor.example.internal", or remove it to use the host of externalURL'],
    ],
    [
      "a TLS Secret name with an underscore",
      { ...MINIMAL, tls: { secretName: "harbor_tls" } },
      ['tls.secretName: is not a Secret name (a DNS-1123 subdomain) (value: "harbor_tls"). Fix: use at most 253 lowercase letters, digits, "-" and ".", e.g. "harbor-tls"'],
    ],
    [
      "TLS key material instead of a Secret name",
      { ...MINIMAL, tls: { secretName: "harbor-tls", key: "-----BEGIN PRIVATE KEY-----" } },
      ['tls.key: is not a TLS option (value: "-----BEGIN PRIVATE KEY-----"). Fix: remove it or correct the spelling (allowed: secretName)'],
    ],
    [
      "an admin password instead of a Secret",
      { ...MINIMAL, adminPasswordSecret: { name: "harbor-admin", password: "Harbor12345" } },
      ['adminPasswordSecret.password: is not an admin password Secret option (value: "Harbor12345"). Fix: remove it or correct the spelling (allowed: name, key)'],
    ],
    [
      "an admin Secret without a name and a bad key",
      { ...MINIMAL, adminPasswordSecret: { key: "admin password" } },
      [
        'adminPasswordSecret.name: is required (Secret) (value: not set). Fix: use at most 253 lowercase letters, digits, "-" and ".", e.g. "harbor-admin"',
        'adminPasswordSecret.key: is not a Secret data key (value: "admin password"). Fix: use letters, digits, "-", "_" and ".", e.g. "HARBOR_ADMIN_PASSWORD"',
      ],
    ],
    [
      "a misspelt top-level option",
      { ...MINIMAL, externalUrl: "https://harbor.example.internal" },
      ['externalUrl: is not a Harbor deployment option (value: "https://harbor.example.internal"). Fix: remove it or correct the spelling (allowed: externalURL, hostname, tls, adminPasswordSecret, encryptionKeySecret, registryCredentialsSecret, persistence, database, redis, trivy, imageRegistry)'],
    ],
    [
      "sizes that are not storage quantities",
      { ...MINIMAL, persistence: { registrySize: "100GB", databaseSize: "0Gi", storageClass: "Fast" } },
      [
        'persistence.storageClass: is not a StorageClass name (a DNS-1123 subdomain) (value: "Fast"). Fix: use at most 253 lowercase letters, digits, "-" and ".", e.g. "gp3"',
        'persistence.registrySize: is not a positive Kubernetes storage quantity (value: "100GB"). Fix: give a number with a byte suffix (Ki, Mi, Gi, Ti, k, M, G, T), e.g. "50Gi"',
        'persistence.databaseSize: is not a positive Kubernetes storage quantity (value: "0Gi"). Fix: give a number with a byte suffix (Ki, Mi, Gi, Ti, k, M, G, T), e.g. "5Gi"',
      ],
    ],
    [
      "a size in milli-bytes or as a number",
      { ...MINIMAL, persistence: { registrySize: "500m", databaseSize: 5 } },
      [
        'persistence.registrySize: is not a positive Kubernetes storage quantity (value: "500m"). Fix: give a number with a byte suffix (Ki, Mi, Gi, Ti, k, M, G, T), e.g. "50Gi"',
        'persistence.databaseSize: is not a positive Kubernetes storage quantity (value: 5). Fix: give a number with a byte suffix (Ki, Mi, Gi, Ti, k, M, G, T), e.g. "5Gi"',
      ],
    ],
    [
      "a database size with an external database",
      { ...MINIMAL, persistence: { databaseSize: "10Gi" }, database: { external: { host: "postgres.example.internal", username: "harbor", passwordSecret: "harbor-db" } } },
      ['persistence.databaseSize: is only for the internal database (database.external is set) (value: "10Gi"). Fix: remove persistence.databaseSize, or remove database.external'],
    ],
    [
      "a broken external database",
      { ...MINIMAL, database: { external: { host: "postgres://db", port: 70000, username: "", coreDatabase: "my db", sslmode: "prefer", password: "hunter2" } } },
      [
        'database.external.password: is not an external database option (value: "hunter2"). Fix: remove it or correct the spelling (allowed: host, port, username, passwordSecret, coreDatabase, sslmode)',
        'database.external.host: is not a lowercase DNS name or IPv4 address (value: "postgres://db"). Fix: give the server\'s host name without scheme or port, e.g. "postgres.example.internal"',
        "database.external.port: is not a TCP port (value: 70000). Fix: give a whole number from 1 to 65535",
        'database.external.username: is not a PostgreSQL user name (value: ""). Fix: give 1-63 letters, digits, "_", ".", "@", "-", starting with a letter or "_", e.g. "harbor"',
        'database.external.passwordSecret: is required (Secret) (value: not set). Fix: use at most 253 lowercase letters, digits, "-" and ".", e.g. "harbor-database"',
        'database.external.coreDatabase: is not a PostgreSQL database name (value: "my db"). Fix: give 1-63 letters, digits, "_", ".", "@", "-", starting with a letter or "_", e.g. "registry"',
        'database.external.sslmode: is not a PostgreSQL sslmode Harbor supports (value: "prefer"). Fix: use one of: "disable", "require", "verify-ca", "verify-full"',
      ],
    ],
    [
      "a database given as a string",
      { ...MINIMAL, database: "external" },
      ['database: must be an object (value: "external"). Fix: give { external? }'],
    ],
    [
      "a broken external Redis",
      { ...MINIMAL, redis: { external: { addr: "redis.example.internal", passwordSecret: "Redis Secret" } } },
      [
        'redis.external.addr: is not host:port (value: "redis.example.internal"). Fix: give one Redis server as "<host>:<port>", e.g. "redis.example.internal:6379"',
        'redis.external.passwordSecret: is not a Secret name (a DNS-1123 subdomain) (value: "Redis Secret"). Fix: use at most 253 lowercase letters, digits, "-" and ".", e.g. "harbor-redis"',
      ],
    ],
    [
      "a Redis Sentinel list (the chart needs a master set name this API does not take)",
      { ...MINIMAL, redis: { external: { addr: "s1.example.internal:26379,s2.example.internal:26379" } } },
      ['redis.external.addr: is not host:port (value: "s1.example.internal:26379,s2.example.internal:26379"). Fix: give one Redis server as "<host>:<port>", e.g. "redis.example.internal:6379"'],
    ],
    [
      "Trivy options for a disabled Trivy, and a flag as a string",
      { ...MINIMAL, trivy: { enabled: false, skipUpdate: "yes", offlineScan: true } },
      [
        'trivy.skipUpdate: must be true or false (value: "yes"). Fix: give a boolean, or remove it for the default',
        'trivy.skipUpdate: is only for an enabled Trivy (trivy.enabled is false) (value: "yes"). Fix: remove trivy.skipUpdate, or enable Trivy',
        "trivy.offlineScan: is only for an enabled Trivy (trivy.enabled is false) (value: true). Fix: remove trivy.offlineScan, or enable Trivy",
      ],
    ],
    [
      "an image registry with a scheme",
      { ...MINIMAL, imageRegistry: "https://registry.example.internal" },
      ['imageRegistry: is not a registry host with an optional path (value: "https://registry.example.internal"). Fix: give "<host>[:<port>][/<path>]" without scheme, tag or trailing "/", e.g. "registry.example.internal/mirror"'],
    ],
    [
      "an image registry with a trailing slash",
      { ...MINIMAL, imageRegistry: "registry.example.internal/mirror/" },
      ['imageRegistry: is not a registry host with an optional path (value: "registry.example.internal/mirror/"). Fix: give "<host>[:<port>][/<path>]" without scheme, tag or trailing "/", e.g. "registry.example.internal/mirror"'],
    ],
    [
      "an image registry with port 99999",
      { ...MINIMAL, imageRegistry: "registry.example.internal:99999" },
      ['imageRegistry: has a port outside 1-65535 (value: "registry.example.internal:99999"). Fix: give "<host>[:<port>][/<path>]", e.g. "registry.example.internal:5000/mirror"'],
    ],
  ])("GIVEN %s", (_label, args, expected) => {
    it("THEN exactly these issues are reported", () => {
      expect(harborValuesIssues(args).map(formatIssue)).toEqual(expected);
    });
  });

  it("GIVEN a path prefix THEN every issue is named under it", () => {
    expect(harborValuesIssues({ ...MINIMAL, tls: { secretName: "X" } }, "harbor").map((i) => i.path)).toEqual(["harbor.tls.secretName"]);
  });

  it("GIVEN any input THEN it never throws and every path is well formed; a valid input renders, an invalid one throws", () => {
    const arb = fc.record(
      {
        externalURL: fc.oneof(fc.constant("https://harbor.example.internal"), fc.string({ maxLength: 30 })),
        hostname: fc.oneof(fc.constant("harbor.example.internal"), fc.string({ maxLength: 10 })),
        tls: fc.oneof(fc.constant({ secretName: "harbor-tls" }), fc.anything()),
        adminPasswordSecret: fc.oneof(fc.constant({ name: "harbor-admin" }), fc.record({ name: fc.string({ maxLength: 8 }), key: fc.string({ maxLength: 8 }) }, { requiredKeys: [] })),
        persistence: fc.record({ storageClass: fc.string({ maxLength: 6 }), registrySize: fc.oneof(fc.constant("10Gi"), fc.string({ maxLength: 6 })) }, { requiredKeys: [] }),
        database: fc.oneof(fc.constant({}), fc.anything()),
        redis: fc.oneof(fc.constant({ external: { addr: "redis.example.internal:6379" } }), fc.anything()),
        trivy: fc.record({ enabled: fc.boolean(), skipUpdate: fc.anything() }, { requiredKeys: [] }),
        imageRegistry: fc.string({ maxLength: 20 }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(arb, (args) => {
        const issues = harborValuesIssues(args);
        issues.forEach((i) => expect(i.path).toMatch(WELL_FORMED_PATH));
        if (issues.length === 0) {
          expect(renderHarborValuesYaml(args as HarborDeployArgs)).toBe(renderHarborValuesYaml(JSON.parse(JSON.stringify(args))));
        } else {
          expect(() => renderHarborValues(args as HarborDeployArgs)).toThrow(ValidationError);
        }
      }),
      { numRuns: 300 },
    );
    expect(harborValuesIssues(null)).toHaveLength(1);
  });

  it("GIVEN many problems WHEN rendered THEN one ValidationError lists every one of them", () => {
    const error = errorOf(() =>
      renderHarborValues({
        externalURL: "http://harbor.example.internal",
        tls: { secretName: "" },
        adminPasswordSecret: { name: "Admin" },
        persistence: { registrySize: "lots" },
        trivy: { enabled: "no" },
      } as unknown as HarborDeployArgs),
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toBe(
      [
        "Invalid Harbor deployment (5 problems):",
        '  - externalURL: uses http, not https (value: "http://harbor.example.internal"). Fix: give "https://<host>[:<port>]" without a path, e.g. "https://harbor.example.internal"; Docker clients refuse a plain-HTTP registry unless every node marks it insecure',
        '  - tls.secretName: is not a Secret name (a DNS-1123 subdomain) (value: ""). Fix: use at most 253 lowercase letters, digits, "-" and ".", e.g. "harbor-tls"',
        '  - adminPasswordSecret.name: is not a Secret name (a DNS-1123 subdomain) (value: "Admin"). Fix: use at most 253 lowercase letters, digits, "-" and ".", e.g. "harbor-admin"',
        '  - persistence.registrySize: is not a positive Kubernetes storage quantity (value: "lots"). Fix: give a number with a byte suffix (Ki, Mi, Gi, Ti, k, M, G, T), e.g. "50Gi"',
        '  - trivy.enabled: must be true or false (value: "no"). Fix: give a boolean, or remove it for the default',
      ].join("\n"),
    );
  });
});

describe("the golden file", () => {
  const file = path.join(__dirname, "..", "golden", "harbor-values.yaml");
  const text = `# Rendered by test/unit/harbor-values.test.ts from its GOLDEN_ARGS for the harbor chart ${HARBOR_CHART.version}. Do not edit: run with UPDATE_GOLDEN=1 and review the diff.\n${renderHarborValuesYaml(GOLDEN_ARGS)}`;

  it("GIVEN the example WHEN rendered as YAML THEN it equals the reviewed file", () => {
    if (process.env.UPDATE_GOLDEN === "1") {
      fs.writeFileSync(file, text);
    }
    expect(text).toBe(fs.readFileSync(file, "utf8"));
  });

  it("GIVEN the golden file WHEN parsed THEN it is exactly the rendered values (the YAML is faithful)", () => {
    expect(YAML.parse(fs.readFileSync(file, "utf8"))).toEqual(renderHarborValues(GOLDEN_ARGS));
  });
});

describe("the encryption key Secret", () => {
  const base = { externalURL: "https://harbor.example.internal", tls: { secretName: "harbor-tls" }, adminPasswordSecret: { name: "harbor-admin" } };
  it("GIVEN encryptionKeySecret THEN the chart reads its key from that Secret (existingSecretSecretKey), not its well-known default", () => {
    expect(renderHarborValues({ ...base, encryptionKeySecret: "harbor-secret-key" }).existingSecretSecretKey).toBe("harbor-secret-key");
    expect(renderHarborValues(base).existingSecretSecretKey).toBeUndefined();
  });
  it("GIVEN a bad Secret name THEN it is reported", () => {
    expect(harborValuesIssues({ ...base, encryptionKeySecret: "Bad Name" }).map((i) => i.path)).toEqual(["encryptionKeySecret"]);
  });
});

describe("Harbor's own registry login", () => {
  const base = { externalURL: "https://harbor.example.internal", tls: { secretName: "harbor-tls" }, adminPasswordSecret: { name: "harbor-admin" } };
  it("GIVEN registryCredentialsSecret THEN the chart reads the login from that Secret, not its well-known default password", () => {
    expect(renderHarborValues({ ...base, registryCredentialsSecret: "harbor-registry-credentials" }).registry).toEqual({
      credentials: { existingSecret: "harbor-registry-credentials", username: "harbor_registry_user" },
    });
    expect(renderHarborValues(base).registry).toBeUndefined();
  });
  it("GIVEN a bad Secret name THEN it is reported with the rest", () => {
    expect(harborValuesIssues({ ...base, registryCredentialsSecret: "Bad Name", encryptionKeySecret: "" }).map((i) => i.path)).toEqual(["encryptionKeySecret", "registryCredentialsSecret"]);
  });
  it("GIVEN the internal database's password THEN it is set for the release only, the rendered values untouched", () => {
    const values = renderHarborValues(base);
    const release = withInternalDatabasePassword(values, "generated-password");
    expect((release.database as any).internal.password).toBe("generated-password");
    expect(values.database).toEqual({ type: "internal" });
  });
});
