/**
 * The Harbor values judged by their real consumer: the pinned official chart (HARBOR_CHART,
 * fetched from the Go module proxy with its checksum checked by scripts/install-helm.sh) rendered
 * by `helm template` (Helm v3, what `k8s.helm.v3.Release` runs) with exactly the values the
 * release gets: the rendered values, plus the generated internal database password where the
 * chart reads it from its values. The manifests it renders are then checked for what the values
 * promise and validated by the Kubernetes schemas (kubernetes-models).
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import YAML from "yaml";
import { HARBOR_CHART, HARBOR_CONTAINER_SECURITY_CONTEXT, HarborDeployArgs, renderHarborValues, withInternalDatabasePassword } from "../../components/render/harbor-values";
import { ROOT } from "./helpers/env";

jest.setTimeout(20 * 60 * 1000);

type Manifest = { kind: string; apiVersion: string; metadata: { name: string; annotations?: Record<string, string> }; [k: string]: any };

// kubernetes-models ships ES modules only; Node's own require loads them by file path (see
// test/unit/kubernetes-job.test.ts).
type ModelClass = new (data: object) => { validate(): void };
const nodeRequire = process.getBuiltinModule("module").createRequire(__filename);
const MODELS_DIR = path.dirname(nodeRequire.resolve("kubernetes-models/package.json"));
const models = (group: string): Record<string, ModelClass> => nodeRequire(path.join(MODELS_DIR, group, "index.js"));
const MODEL_OF: Readonly<Record<string, ModelClass>> = {
  ...pick(models("v1"), ["ConfigMap", "Secret", "Service", "PersistentVolumeClaim"]),
  ...pick(models("apps/v1"), ["Deployment", "StatefulSet"]),
  ...pick(models("networking.k8s.io/v1"), ["Ingress"]),
};

function pick(o: Record<string, ModelClass>, keys: string[]): Record<string, ModelClass> {
  return Object.fromEntries(keys.map((k) => [k, o[k]]));
}

/** Passwords and keys the chart ships as defaults: well known, so never acceptable in a release. */
const CHART_DEFAULT_SECRETS = ["Harbor12345", "changeit", "harbor_registry_password", "not-a-secure-key", "root123"];

const MIRROR = "registry.example.internal/mirror";
const BASE: HarborDeployArgs = {
  externalURL: "https://harbor.example.internal",
  tls: { secretName: "harbor-tls" },
  adminPasswordSecret: { name: "golden-harbor-admin" },
  encryptionKeySecret: "golden-harbor-secret-key",
  registryCredentialsSecret: "golden-harbor-registry-credentials",
  persistence: { storageClass: "fast-ssd", registrySize: "200Gi" },
  imageRegistry: MIRROR,
};
const EXTERNAL: HarborDeployArgs = {
  ...BASE,
  persistence: { storageClass: "fast-ssd" },
  database: { external: { host: "postgres.example.internal", username: "harbor", passwordSecret: "harbor-db", sslmode: "verify-full" } },
  redis: { external: { addr: "redis.example.internal:6379", passwordSecret: "harbor-redis" } },
  trivy: { skipUpdate: true, offlineScan: true },
};

let helm: string;
let chart: string;
let work: string;

beforeAll(() => {
  const out = spawnSync("bash", [path.join(ROOT, "scripts", "install-helm.sh"), "--chart"], { encoding: "utf8" });
  if (out.status !== 0) {
    throw new Error(`Helm or the Harbor chart could not be installed: ${out.stderr.trim().split("\n").pop()}. Fix: bash scripts/install-helm.sh --chart`);
  }
  [helm, chart] = out.stdout.trim().split("\n");
  work = fs.mkdtempSync(path.join(os.tmpdir(), "golden-harbor-chart-"));
});

afterAll(() => {
  if (work !== undefined) {
    fs.rmSync(work, { recursive: true, force: true });
  }
});

/** `helm template` of the pinned chart with these values; the manifests it renders. */
function template(values: Record<string, unknown>, name: string): Manifest[] {
  const file = path.join(work, `${name}.yaml`);
  fs.writeFileSync(file, YAML.stringify(values));
  const text = execFileSync(helm, ["template", "golden", chart, "--namespace", "harbor", "--values", file], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  return YAML.parseAllDocuments(text)
    .map((d) => d.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
}

function leafPaths(value: unknown, at: string[] = []): string[][] {
  if (value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length > 0) {
    return Object.entries(value).flatMap(([k, v]) => leafPaths(v, [...at, k]));
  }
  return [at];
}

function containers(m: Manifest): { name: string; image: string; securityContext?: object; env?: { name: string; value?: string; valueFrom?: any }[] }[] {
  const spec = m.spec?.template?.spec ?? {};
  return [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
}

function secretRef(ms: Manifest[], workload: string, env: string): unknown {
  const w = ms.find((m) => m.metadata.name === `golden-harbor-${workload}` && ["Deployment", "StatefulSet"].includes(m.kind));
  return w === undefined ? undefined : containers(w).flatMap((c) => c.env ?? []).find((e) => e.name === env)?.valueFrom?.secretKeyRef;
}

it("GIVEN the chart fetched THEN it is the version HARBOR_CHART pins", () => {
  const meta = YAML.parse(fs.readFileSync(path.join(chart, "Chart.yaml"), "utf8"));
  expect({ name: meta.name, version: meta.version, appVersion: meta.appVersion }).toEqual({ name: HARBOR_CHART.name, version: HARBOR_CHART.version, appVersion: HARBOR_CHART.appVersion });
});

describe.each([
  ["internal PostgreSQL and Redis", BASE],
  ["external PostgreSQL and Redis", EXTERNAL],
])("the chart rendered with %s", (label, args) => {
  const rendered = () => renderHarborValues(args);
  const internalDb = args.database?.external === undefined;
  // What the release gets (components/registry/harbor-registry.ts): the generated password merged in.
  const releaseValues = () => (internalDb ? withInternalDatabasePassword(rendered(), "generated-db-password-0123456789") : rendered());
  let ms: Manifest[];
  beforeAll(() => {
    ms = template(releaseValues(), label.replace(/\W+/g, "-"));
  });

  it("THEN every key the values set is a key of the chart (nothing misspelt and silently ignored)", () => {
    const defaults = YAML.parse(fs.readFileSync(path.join(chart, "values.yaml"), "utf8"));
    const unknown = leafPaths(rendered()).filter((p) => {
      let node: any = defaults;
      for (const k of p) {
        if (node === null || typeof node !== "object" || !(k in node)) {
          return true;
        }
        node = node[k];
      }
      return false;
    });
    expect(unknown.map((p) => p.join("."))).toEqual([]);
  });

  it("THEN every manifest passes the Kubernetes schemas", () => {
    expect(ms.length).toBeGreaterThan(10);
    for (const m of ms) {
      const model = MODEL_OF[m.kind];
      expect([m.kind, model !== undefined]).toEqual([m.kind, true]);
      expect(() => new model(m).validate()).not.toThrow();
    }
  });

  it("THEN no Secret the chart renders holds one of its well-known default passwords or keys", () => {
    const values = ms.filter((m) => m.kind === "Secret").flatMap((m) => Object.entries({ ...(m.data ?? {}) }).map(([k, v]) => [`${m.metadata.name}.${k}`, Buffer.from(String(v), "base64").toString("utf8")]));
    expect(values.length).toBeGreaterThan(3);
    expect(values.filter(([, v]) => CHART_DEFAULT_SECRETS.includes(v))).toEqual([]);
    // The admin password is in none of them: the chart reads it from the component's Secret.
    expect(ms.filter((m) => m.kind === "Secret" && "HARBOR_ADMIN_PASSWORD" in (m.data ?? {}))).toEqual([]);
  });

  it("THEN the admin password, the encryption key and Harbor's registry login come from the component's Secrets", () => {
    expect(secretRef(ms, "core", "HARBOR_ADMIN_PASSWORD")).toEqual({ name: "golden-harbor-admin", key: "HARBOR_ADMIN_PASSWORD" });
    expect(secretRef(ms, "core", "REGISTRY_CREDENTIAL_PASSWORD")).toEqual({ name: "golden-harbor-registry-credentials", key: "REGISTRY_PASSWD" });
    expect(secretRef(ms, "jobservice", "REGISTRY_CREDENTIAL_PASSWORD")).toEqual({ name: "golden-harbor-registry-credentials", key: "REGISTRY_PASSWD" });
    const volumes = ms.flatMap((m) => (m.spec?.template?.spec?.volumes ?? []) as { name: string; secret?: { secretName: string; items?: { key: string }[] } }[]);
    expect(volumes.filter((v) => v.secret?.secretName === "golden-harbor-registry-credentials").map((v) => v.secret?.items?.map((i) => i.key))).toEqual([["REGISTRY_HTPASSWD"]]);
    expect(volumes.filter((v) => v.secret?.secretName === "golden-harbor-secret-key").length).toBeGreaterThan(0);
  });

  it("THEN every container runs with the hardened security context and an image from the mirror", () => {
    const all = ms.filter((m) => ["Deployment", "StatefulSet"].includes(m.kind)).flatMap((m) => containers(m).map((c) => ({ workload: m.metadata.name, ...c })));
    expect(all.length).toBeGreaterThan(4);
    for (const c of all) {
      expect([c.workload, c.name, c.image.startsWith(`${MIRROR}/goharbor/`)]).toEqual([c.workload, c.name, true]);
      expect([c.workload, c.name, c.securityContext]).toEqual([c.workload, c.name, expect.objectContaining(HARBOR_CONTAINER_SECURITY_CONTEXT)]);
    }
  });

  it("THEN the ingress serves the external URL's host with the given TLS Secret, and the volumes are kept on delete", () => {
    const ingress = ms.find((m) => m.kind === "Ingress") as Manifest;
    expect(ingress.spec.tls).toEqual([{ secretName: "harbor-tls", hosts: ["harbor.example.internal"] }]);
    expect(ingress.spec.rules.map((r: { host: string }) => r.host)).toEqual(["harbor.example.internal"]);
    const registryPvc = ms.find((m) => m.kind === "PersistentVolumeClaim" && m.metadata.name === "golden-harbor-registry") as Manifest;
    expect(registryPvc.spec).toMatchObject({ storageClassName: "fast-ssd", resources: { requests: { storage: args.persistence?.registrySize ?? "50Gi" } } });
    expect(ms.filter((m) => m.kind === "PersistentVolumeClaim").map((m) => m.metadata.annotations?.["helm.sh/resource-policy"])).toEqual(
      ms.filter((m) => m.kind === "PersistentVolumeClaim").map(() => "keep"),
    );
  });

  it(internalDb ? "THEN the internal PostgreSQL gets the generated password" : "THEN no database or Redis runs in the release, and the core reads their passwords from the given Secrets", () => {
    const statefulSets = ms.filter((m) => m.kind === "StatefulSet").map((m) => m.metadata.name);
    if (internalDb) {
      expect(statefulSets).toEqual(expect.arrayContaining(["golden-harbor-database", "golden-harbor-redis"]));
      const db = ms.find((m) => m.kind === "Secret" && m.metadata.name === "golden-harbor-database") as Manifest;
      expect(Buffer.from(db.data.POSTGRES_PASSWORD, "base64").toString("utf8")).toBe("generated-db-password-0123456789");
    } else {
      expect(statefulSets).not.toContain("golden-harbor-database");
      expect(statefulSets).not.toContain("golden-harbor-redis");
      expect(secretRef(ms, "core", "POSTGRESQL_PASSWORD")).toEqual({ name: "harbor-db", key: "password" });
    }
  });
});

it("GIVEN the rendered values alone (no database password merged) THEN the chart would fall back to its default: the release must merge it", () => {
  // The control case: proves the default-secret check above can fail.
  const ms = template(renderHarborValues(BASE), "no-db-password");
  const db = ms.find((m) => m.kind === "Secret" && m.metadata.name === "golden-harbor-database") as Manifest;
  expect(Buffer.from(db.data.POSTGRES_PASSWORD, "base64").toString("utf8")).toBe("changeit");
});
