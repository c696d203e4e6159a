/**
 * GoldenAdmission under Pulumi mocks: which policies it applies for each engine and signature
 * format, that their specs are the rendered ones (which the Kyverno CLI and the CRD schemas judge
 * in test/integration/admission*.test.ts), and that bad arguments fail before anything is created.
 */
import { GoldenAdmission, verifierFromSigning } from "../../components/admission/golden-admission";
import { renderClusterImagePolicy, renderClusterPolicy, renderImageValidatingPolicy, renderWorkloadPolicy } from "../../components/render/admission";
import { MockRecorder, settle, setupMocks, valueOf } from "./mocks";

let mocks: MockRecorder;
beforeEach(() => {
  mocks = setupMocks();
});

const PEM = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n";
const IMAGES = ["registry.example.internal/golden/*"];
const verifier = { kind: "key" as const, publicKeyPem: PEM };
const customResources = () =>
  mocks.resources
    .filter((r) => r.custom)
    .map((r) => ({ name: r.name, apiVersion: r.inputs.apiVersion, kind: r.inputs.kind }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));

describe("GoldenAdmission", () => {
  it("GIVEN classic signatures (the default) THEN a Kyverno ClusterPolicy and the workload ValidatingPolicy, as rendered", async () => {
    const a = new GoldenAdmission("golden", { imageReferences: IMAGES, verifier });
    await settle();
    expect(a.kinds).toEqual(["ClusterPolicy", "ValidatingPolicy"]);
    expect(customResources()).toEqual([
      { name: "golden-images", apiVersion: "kyverno.io/v1", kind: "ClusterPolicy" },
      { name: "golden-workloads", apiVersion: "policies.kyverno.io/v1", kind: "ValidatingPolicy" },
    ]);
    expect(mocks.byName("golden-images").inputs.spec).toEqual(renderClusterPolicy({ name: "golden-images", imageReferences: IMAGES, verifier, format: "classic" }).spec);
    expect(mocks.byName("golden-workloads").inputs.spec).toEqual(renderWorkloadPolicy({ name: "golden-images-workloads", imageReferences: IMAGES }).spec);
  });

  it("GIVEN bundle signatures THEN Kyverno's ImageValidatingPolicy", async () => {
    new GoldenAdmission("golden", { imageReferences: IMAGES, verifier, format: "bundle", workloadPolicy: false });
    await settle();
    expect(customResources()).toEqual([{ name: "golden-images", apiVersion: "policies.kyverno.io/v1", kind: "ImageValidatingPolicy" }]);
    expect(mocks.byName("golden-images").inputs.spec).toEqual(renderImageValidatingPolicy({ name: "golden-images", imageReferences: IMAGES, verifier, format: "bundle" }).spec);
  });

  it("GIVEN policy-controller THEN one ClusterImagePolicy and no Kyverno policy", async () => {
    new GoldenAdmission("golden", { imageReferences: IMAGES, verifier, engine: "policy-controller", action: "Audit" });
    await settle();
    expect(customResources()).toEqual([{ name: "golden-images", apiVersion: "policy.sigstore.dev/v1beta1", kind: "ClusterImagePolicy" }]);
    expect(mocks.byName("golden-images").inputs.spec).toEqual(renderClusterImagePolicy({ name: "golden-images", imageReferences: IMAGES, verifier, action: "Audit" }).spec);
    expect(mocks.byName("golden-images").inputs.spec.mode).toBe("warn");
  });

  it("GIVEN every argument wrong THEN one report, and nothing is created", async () => {
    expect(
      () => new GoldenAdmission("bad", { imageReferences: ["*"], verifier, engine: "gatekeeper" as any, kyvernoApi: "ImageValidatingPolicy", action: "Block" as any }),
    ).toThrow(/Invalid GoldenAdmission "bad" \(4 problems\)/);
    try {
      new GoldenAdmission("bad", { imageReferences: ["*"], verifier, engine: "gatekeeper" as any, kyvernoApi: "ImageValidatingPolicy", action: "Block" as any });
    } catch (e) {
      const text = (e as Error).message;
      expect(text).toContain("imageReferences[0]: is not a glob of a registry host and a repository prefix ending in *");
      expect(text).toContain("kyvernoApi: cannot check attestations of classic signatures without a transparency log");
    }
    await settle();
    expect(mocks.resources).toHaveLength(0);
  });
});

describe("verifierFromSigning", () => {
  it.each([
    [{ mode: "keypair" as const, key: "env://COSIGN_PRIVATE_KEY", publicKey: "env://COSIGN_PUBLIC_KEY" }, { kind: "key", publicKeyPem: PEM }],
    [{ mode: "kms" as const, key: "awskms:///alias/golden", publicKey: "awskms:///alias/golden" }, { kind: "kms", key: "awskms:///alias/golden" }],
    [{ mode: "keyless" as const, identity: "https://git.example.com/w.yml@refs/heads/main", issuer: "https://issuer.example.com" }, { kind: "keyless", identity: "https://git.example.com/w.yml@refs/heads/main", issuer: "https://issuer.example.com" }],
  ])("GIVEN the plan %j THEN the verifier %j", async (signing, expected) => {
    expect(await valueOf(verifierFromSigning(signing, PEM))).toEqual(expected);
  });
});
