/**
 * The rendered admission policies against the CRDs of the engines that read them: Kyverno
 * v1.19.1's ImageValidatingPolicy, ValidatingPolicy and ClusterPolicy, and policy-controller
 * v0.13.1's ClusterImagePolicy, taken from their Go modules (the module proxy serves them; nothing
 * is copied into this repository). Each document must satisfy the CRD's OpenAPI schema (ajv) and
 * use no field the schema does not know (CRDs do not forbid unknown fields themselves; the API
 * server prunes them silently).
 */
import Ajv from "ajv";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { AdmissionPolicyArgs, renderClusterImagePolicy, renderClusterPolicy, renderImageValidatingPolicy, renderWorkloadPolicy } from "../../components/render/admission";

type Schema = Record<string, any>;

function moduleDir(module: string): string {
  const r = spawnSync("go", ["mod", "download", "-json", module], { encoding: "utf8", cwd: os.tmpdir(), maxBuffer: 1 << 24 });
  if (r.error !== undefined || r.status !== 0) {
    throw new Error(`go mod download ${module} failed (${r.error?.message ?? r.stderr}). Fix: install Go and check the Go module proxy`);
  }
  return JSON.parse(r.stdout).Dir as string;
}

function crdSchema(file: string, version: string): Schema {
  const crd = parse(fs.readFileSync(file, "utf8"));
  const v = crd.spec.versions.find((x: { name: string }) => x.name === version);
  if (v === undefined) {
    throw new Error(`${file} has no version ${version}`);
  }
  return v.schema.openAPIV3Schema;
}

/** Every key of `doc` the schema does not declare (where the schema lists its properties). */
function unknownFields(doc: unknown, schema: Schema, at = ""): string[] {
  if (doc === null || typeof doc !== "object" || schema === undefined) {
    return [];
  }
  if (Array.isArray(doc)) {
    return doc.flatMap((item, i) => unknownFields(item, schema.items, `${at}[${i}]`));
  }
  if (schema["x-kubernetes-preserve-unknown-fields"] === true || schema.properties === undefined) {
    return schema.additionalProperties !== undefined && typeof schema.additionalProperties === "object"
      ? Object.entries(doc).flatMap(([k, v]) => unknownFields(v, schema.additionalProperties, `${at}.${k}`))
      : [];
  }
  // Every object has apiVersion, kind and metadata, whether its CRD's schema lists them or not.
  const always = at === "" ? ["apiVersion", "kind", "metadata"] : [];
  return Object.entries(doc).flatMap(([k, v]) =>
    k in schema.properties ? unknownFields(v, schema.properties[k], `${at}.${k}`) : always.includes(k) ? [] : [`${at}.${k}`],
  );
}

const ajv = new Ajv({ strict: false, allErrors: true });
// The OpenAPI formats Kubernetes CRDs use: integers checked for their range, the rest accepted.
ajv.addFormat("int32", { type: "number", validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
ajv.addFormat("int64", { type: "number", validate: (n: number) => Number.isInteger(n) });
for (const format of ["int-or-string", "date-time", "byte", "duration", "uri", "quantity"]) {
  ajv.addFormat(format, true);
}

function judge(doc: Record<string, unknown>, schema: Schema): { errors: string[]; unknown: string[] } {
  const validate = ajv.compile(schema);
  validate(doc);
  return { errors: (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`), unknown: unknownFields(doc, schema) };
}

let kyverno = "";
let policyController = "";
beforeAll(() => {
  kyverno = moduleDir("github.com/kyverno/kyverno@v1.19.1");
  policyController = moduleDir("github.com/sigstore/policy-controller@v0.13.1");
}, 600_000);

const PEM = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEx6pLBj7JJOEkbqdVggr8RhNgrEn1\n2GzjJs2hefVrjFaC/cQBCUH4VDfFd1MxmiQXgaWTwqgA3VpjNjD1ggGncQ==\n-----END PUBLIC KEY-----\n";
const verifiers: [string, AdmissionPolicyArgs["verifier"]][] = [
  ["a public key", { kind: "key", publicKeyPem: PEM }],
  ["a KMS key", { kind: "kms", key: "awskms:///alias/golden-signing" }],
  ["a keyless identity", { kind: "keyless", identity: "https://git.example.com/platform/golden-images/.github/workflows/build.yml@refs/heads/main", issuer: "https://token.actions.githubusercontent.com" }],
];
const args = (verifier: AdmissionPolicyArgs["verifier"], format: "classic" | "bundle"): AdmissionPolicyArgs => ({
  name: "golden-images",
  imageReferences: ["registry.example.internal/golden/*"],
  verifier,
  format,
});

describe.each(verifiers)("policies verifying with %s", (_label, verifier) => {
  it.each(["classic", "bundle"] as const)("GIVEN %s signatures THEN the ImageValidatingPolicy satisfies Kyverno's v1 CRD", (format) => {
    const schema = crdSchema(path.join(kyverno, "config/crds/policies.kyverno.io/policies.kyverno.io_imagevalidatingpolicies.yaml"), "v1");
    expect(judge(renderImageValidatingPolicy(args(verifier, format)), schema)).toEqual({ errors: [], unknown: [] });
  });

  it.each(["classic", "bundle"] as const)("GIVEN %s signatures THEN the ClusterPolicy satisfies Kyverno's kyverno.io/v1 CRD", (format) => {
    const schema = crdSchema(path.join(kyverno, "config/crds/kyverno/kyverno.io_clusterpolicies.yaml"), "v1");
    expect(judge(renderClusterPolicy(args(verifier, format)), schema)).toEqual({ errors: [], unknown: [] });
  });

  it.each(["classic", "bundle"] as const)("GIVEN %s signatures THEN the ClusterImagePolicy satisfies policy-controller's v1beta1 CRD", (format) => {
    const schema = crdSchema(path.join(policyController, "config/300-clusterimagepolicy.yaml"), "v1beta1");
    expect(judge(renderClusterImagePolicy(args(verifier, format)), schema)).toEqual({ errors: [], unknown: [] });
  });
});

it("the workload policy satisfies Kyverno's ValidatingPolicy v1 CRD", () => {
  const schema = crdSchema(path.join(kyverno, "config/crds/policies.kyverno.io/policies.kyverno.io_validatingpolicies.yaml"), "v1");
  expect(judge(renderWorkloadPolicy({ name: "golden-workloads", imageReferences: ["registry.example.internal/golden/*"] }), schema)).toEqual({ errors: [], unknown: [] });
});

it("the judge can fail: a misspelt field and a wrong type are reported", () => {
  const schema = crdSchema(path.join(kyverno, "config/crds/policies.kyverno.io/policies.kyverno.io_imagevalidatingpolicies.yaml"), "v1");
  const doc = renderImageValidatingPolicy(args(verifiers[0][1], "bundle")) as any;
  doc.spec.validationConfiguration = doc.spec.validationConfigurations;
  doc.spec.validationActions = "Deny";
  const r = judge(doc, schema);
  expect(r.unknown).toEqual([".spec.validationConfiguration"]);
  expect(r.errors).toContain("/spec/validationActions must be array");
});
