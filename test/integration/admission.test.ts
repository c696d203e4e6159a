/**
 * The admission policies judged by the real policy engine, offline: the Kyverno CLI (v1.19.1,
 * `kubectl-kyverno apply POLICY --resource POD`) verifies against the local registry. Images are
 * signed and attested with the pipeline's own cosign commands (components/signing/cosign.ts):
 * an image the pipeline signed and attested passes; an unsigned one, one signed with another key,
 * one lacking an attestation, and one whose attested scan report says the gate failed are refused;
 * and the workload policy refuses a pod that may run as root.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { AdmissionPolicyArgs, renderClusterPolicy, renderImageValidatingPolicy, renderWorkloadPolicy } from "../../components/render/admission";
import { cosignAttestArgs, cosignSignArgs } from "../../components/signing/cosign";
import { vulnPredicate } from "../../components/signing/predicates";
import { AttestationKind, SignatureFormat, SigningPlan } from "../../components/signing/types";
import { ROOT, supplyChainEnv, testEnv } from "./helpers/env";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "golden-admission-"));
let kyverno = "";
let cosign = "";
let registry = "";
let base = "";
let env: NodeJS.ProcessEnv = {};
const run = Date.now().toString(36);

function must(r: ReturnType<typeof spawnSync>, what: string): string {
  if (r.status !== 0) {
    throw new Error(`${what} failed: ${String(r.stderr)}${String(r.stdout)}`);
  }
  return String(r.stdout);
}

function keyPair(name: string): { key: string; pub: string } {
  const d = path.join(dir, name);
  fs.mkdirSync(d);
  must(spawnSync(cosign, ["generate-key-pair"], { cwd: d, env: { ...env, COSIGN_PASSWORD: "admission" }, encoding: "utf8" }), "cosign generate-key-pair");
  return { key: path.join(d, "cosign.key"), pub: fs.readFileSync(path.join(d, "cosign.pub"), "utf8") };
}

let pipelineKey: { key: string; pub: string };
let otherKey: { key: string; pub: string };

/** A fresh copy of a base image in its own repository, by digest (an index stays the index). */
function image(name: string): string {
  const repo = `${registry}/golden-admission-${run}/${name}`;
  must(spawnSync("skopeo", ["copy", "--all", "--preserve-digests", "--src-tls-verify=false", "--dest-tls-verify=false", `docker://${base}`, `docker://${repo}:v1`], { env, encoding: "utf8" }), "skopeo copy");
  return `${repo}@${base.slice(base.indexOf("@") + 1)}`;
}

function predicates(gatePassed: boolean): Record<AttestationKind, string> {
  const files = {
    sbom: path.join(dir, "sbom.cdx.json"),
    scan: path.join(dir, `vuln-${gatePassed}.json`),
    provenance: path.join(dir, "provenance.json"),
  };
  fs.writeFileSync(files.sbom, JSON.stringify({ bomFormat: "CycloneDX", specVersion: "1.5", version: 1, components: [] }));
  const verdict = { passed: gatePassed, scanner: "grype", threshold: "HIGH", ignoreUnfixed: false, blocking: [], ignored: [], unfixed: [], expired: [] };
  fs.writeFileSync(files.scan, JSON.stringify(vulnPredicate("grype", { matches: [], descriptor: { version: "0.121.2", timestamp: "2026-11-25T00:00:00Z" } }, {}, verdict as any)));
  fs.writeFileSync(
    files.provenance,
    JSON.stringify({ buildDefinition: { buildType: "https://mobyproject.org/buildkit@v1", externalParameters: {}, resolvedDependencies: [] }, runDetails: { builder: { id: "urn:pulumi-golden-image:executor:test" } } }),
  );
  return files;
}

/** Signs and attests `ref` with the pipeline's commands; `omit` leaves an attestation out. */
function pipelineSigns(ref: string, key: { key: string }, format: SignatureFormat, opts: { omit?: AttestationKind; gatePassed?: boolean; sign?: boolean } = {}): void {
  const signing: SigningPlan = { mode: "keypair", key: "env://COSIGN_PRIVATE_KEY", publicKey: "env://COSIGN_PUBLIC_KEY", format };
  const e = { ...env, COSIGN_PASSWORD: "admission", COSIGN_PRIVATE_KEY: fs.readFileSync(key.key, "utf8") };
  if (opts.sign !== false) {
    must(spawnSync(cosign, cosignSignArgs(signing, ref, true), { env: e, encoding: "utf8" }), "cosign sign");
  }
  const files = predicates(opts.gatePassed ?? true);
  for (const kind of ["sbom", "scan", "provenance"] as const) {
    if (kind !== opts.omit) {
      must(spawnSync(cosign, cosignAttestArgs(signing, kind, files[kind], ref, true), { env: e, encoding: "utf8" }), `cosign attest ${kind}`);
    }
  }
}

function pod(name: string, ref: string, securityContext: Record<string, unknown> = {}): string {
  const file = path.join(dir, `pod-${name}.yaml`);
  fs.writeFileSync(file, stringify({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "default" }, spec: { containers: [{ name: "app", image: ref, ...securityContext }] } }));
  return file;
}

function apply(policy: Record<string, unknown>, podFile: string, extra: string[] = []): { pass: boolean; output: string } {
  const file = path.join(dir, `policy-${String((policy.metadata as { name: string }).name)}-${String(policy.kind)}.yaml`);
  fs.writeFileSync(file, stringify(policy));
  const r = spawnSync(kyverno, ["apply", file, "--resource", podFile, ...extra], { env, encoding: "utf8", timeout: 120_000 });
  const output = `${r.stdout}${r.stderr}`;
  const m = /pass: (\d+), fail: (\d+), warn: (\d+), error: (\d+)/.exec(output);
  if (m === null) {
    throw new Error(`kyverno apply printed no summary (exit ${r.status}): ${output}`);
  }
  return { pass: Number(m[1]) > 0 && m[2] === "0" && m[4] === "0", output };
}

beforeAll(() => {
  const k = spawnSync("bash", [path.join(ROOT, "scripts", "install-kyverno.sh")], { encoding: "utf8" });
  if (k.status !== 0) {
    throw new Error(`the Kyverno CLI is not installed: ${k.stderr.trim().split("\n").pop()}. Fix: run bash scripts/install-kyverno.sh`);
  }
  kyverno = k.stdout.trim().split("\n").pop() as string;
  cosign = supplyChainEnv().GOLDEN_COSIGN;
  const t = testEnv();
  registry = t.registry;
  const b = t.bases["distroless-static"];
  base = `${b.repository}@${b.digest}`;
  const auth = path.join(dir, "docker");
  fs.mkdirSync(auth);
  fs.writeFileSync(path.join(auth, "config.json"), JSON.stringify({ auths: { [registry]: { auth: Buffer.from(`${t.username}:${t.password}`).toString("base64") } } }));
  env = { PATH: process.env.PATH, HOME: dir, DOCKER_CONFIG: auth, REGISTRY_AUTH_FILE: path.join(auth, "config.json") };
  pipelineKey = keyPair("pipeline");
  otherKey = keyPair("other");
}, 600_000);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const policyArgs = (format: SignatureFormat): AdmissionPolicyArgs => ({
  name: "golden-images",
  imageReferences: [`${registry}/golden-admission-${run}/*`],
  verifier: { kind: "key", publicKeyPem: pipelineKey.pub },
  format,
});

describe.each([
  ["ImageValidatingPolicy (policies.kyverno.io/v1), bundle signatures", "bundle" as const, renderImageValidatingPolicy, false],
  ["ClusterPolicy verifyImages (kyverno.io/v1), classic signatures", "classic" as const, renderClusterPolicy, true],
  ["ClusterPolicy verifyImages (kyverno.io/v1), bundle signatures", "bundle" as const, renderClusterPolicy, true],
])("%s with the Kyverno CLI", (_label, format, render, readsVerdict) => {
  const policy = () => render(policyArgs(format));

  it("GIVEN an image the pipeline signed and attested THEN it is admitted", () => {
    const ref = image(`ok-${format}`);
    pipelineSigns(ref, pipelineKey, format);
    const r = apply(policy(), pod("ok", ref));
    expect({ pass: r.pass, output: r.pass ? "" : r.output }).toEqual({ pass: true, output: "" });
  }, 300_000);

  it("GIVEN an unsigned image THEN it is refused", () => {
    const r = apply(policy(), pod("unsigned", image(`unsigned-${format}`)));
    expect(r.pass).toBe(false);
  }, 300_000);

  it("GIVEN an image signed and attested with another key THEN it is refused", () => {
    const ref = image(`other-${format}`);
    pipelineSigns(ref, otherKey, format);
    expect(apply(policy(), pod("other", ref)).pass).toBe(false);
  }, 300_000);

  it("GIVEN a signed image without its SBOM attestation THEN it is refused", () => {
    const ref = image(`no-sbom-${format}`);
    pipelineSigns(ref, pipelineKey, format, { omit: "sbom" });
    expect(apply(policy(), pod("no-sbom", ref)).pass).toBe(false);
  }, 300_000);

  // The pipeline never attests a failed scan in the bundle format; the ImageValidatingPolicy relies
  // on that (see renderImageValidatingPolicy), the ClusterPolicy reads the verdict itself.
  if (readsVerdict) {
    it("GIVEN a signed image whose attested scan report says the gate failed THEN it is refused", () => {
      const ref = image(`gate-failed-${format}`);
      pipelineSigns(ref, pipelineKey, format, { gatePassed: false });
      expect(apply(policy(), pod("gate-failed", ref)).pass).toBe(false);
    }, 300_000);

    it("GIVEN a pod naming a signed image by tag THEN Kyverno resolves the tag and verifies the digest behind it", () => {
      const ref = image(`by-tag-${format}`);
      pipelineSigns(ref, pipelineKey, format);
      const r = apply(policy(), pod("by-tag", ref.replace(/@sha256:.*/, ":v1")));
      expect({ pass: r.pass, output: r.pass ? "" : r.output }).toEqual({ pass: true, output: "" });
      // The same tag moved to an unsigned image is refused.
      const unsigned = image(`by-tag-unsigned-${format}`);
      expect(apply(policy(), pod("by-tag-unsigned", unsigned.replace(/@sha256:.*/, ":v1"))).pass).toBe(false);
    }, 300_000);
  }
});

describe("mutateDigest with the Kyverno CLI (kubectl-kyverno test, ClusterPolicy, classic signatures)", () => {
  /** Runs `kubectl-kyverno test` expecting the pod patched to `image`; returns each response's result. */
  function patchedTo(policy: Record<string, unknown>, podFile: string, repo: string, digest: string, image: string): string[] {
    const t = fs.mkdtempSync(path.join(dir, "kyverno-test-"));
    fs.writeFileSync(path.join(t, "policy.yaml"), stringify(policy));
    fs.copyFileSync(podFile, path.join(t, "resource.yaml"));
    const verified = `${repo}@${digest}`;
    fs.writeFileSync(
      path.join(t, "patched.yaml"),
      stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
          name: "by-tag",
          namespace: "default",
          labels: { "app.kubernetes.io/managed-by": "kyverno" },
          // Kyverno records what it verified, by digest.
          annotations: {
            "kyverno.io/verify-images": JSON.stringify({ [verified]: "pass" }),
            "kyverno.io/verify-images-scoped": JSON.stringify({ version: 1, policies: { "/golden-images": { "verify-golden-images": { [verified]: "pass" } } } }),
          },
        },
        spec: { containers: [{ name: "app", image }] },
      }),
    );
    fs.writeFileSync(
      path.join(t, "kyverno-test.yaml"),
      stringify({
        apiVersion: "cli.kyverno.io/v1alpha1",
        kind: "Test",
        metadata: { name: "mutate-digest" },
        policies: ["policy.yaml"],
        resources: ["resource.yaml"],
        results: [{ policy: "golden-images", rule: "verify-golden-images", resources: ["by-tag"], kind: "Pod", result: "pass", patchedResources: "patched.yaml" }],
      }),
    );
    const r = spawnSync(kyverno, ["test", t, "--remove-color"], { env: { ...env, COLUMNS: "3000" }, encoding: "utf8", timeout: 120_000 });
    return [...`${r.stdout}${r.stderr}`.matchAll(/│ \d+\s+│ golden-images\s+│ verify-golden-images\s+│ [^│]+│ (\w+)\s+│ ([^│]+?)\s+│/g)].map((m) => `${m[1]}: ${m[2]}`);
  }

  it("GIVEN a pod naming a signed image by tag THEN Kyverno patches it to tag@digest (and nothing else passes as the patch)", () => {
    const ref = image("mutate-digest");
    pipelineSigns(ref, pipelineKey, "classic");
    const [repo, digest] = ref.split("@");
    const podFile = pod("by-tag", `${repo}:v1`);
    const policy = renderClusterPolicy(policyArgs("classic"));
    // The engine answers twice for the rule: the verification (the pod as given) and the patch.
    expect(patchedTo(policy, podFile, repo, digest, `${repo}:v1@${digest}`)).toEqual(["Fail: Resource diff", "Pass: Ok"]);
    // The judge can fail: another digest is not what Kyverno patches in.
    expect(patchedTo(policy, podFile, repo, digest, `${repo}:v1@sha256:${"0".repeat(64)}`)).toEqual(["Fail: Resource diff", "Fail: Resource diff"]);
  }, 300_000);
});

describe("the workload policy (ValidatingPolicy, policies.kyverno.io/v1) with the Kyverno CLI", () => {
  const hardened = {
    securityContext: { runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" } },
  };
  const policy = () => renderWorkloadPolicy({ name: "golden-workloads", imageReferences: [`${registry}/golden-admission-${run}/*`] });
  const ref = () => `${registry}/golden-admission-${run}/app@sha256:${"a".repeat(64)}`;

  it("GIVEN a hardened pod running a golden image by digest THEN it is admitted", () => {
    const r = apply(policy(), pod("hardened", ref(), hardened));
    expect({ pass: r.pass, output: r.pass ? "" : r.output }).toEqual({ pass: true, output: "" });
  });

  it.each([
    ["without runAsNonRoot", { ...hardened.securityContext, runAsNonRoot: undefined }, "every container must run as non-root"],
    ["with a writable root filesystem", { ...hardened.securityContext, readOnlyRootFilesystem: false }, "read-only root filesystem"],
    ["keeping its capabilities", { ...hardened.securityContext, capabilities: undefined }, "drop ALL capabilities"],
    ["without a seccomp profile", { ...hardened.securityContext, seccompProfile: undefined }, "RuntimeDefault seccomp profile"],
    ["allowed to escalate", { ...hardened.securityContext, allowPrivilegeEscalation: true }, "escalate privileges"],
  ])("GIVEN a pod %s THEN it is refused, naming the rule", (name, securityContext, message) => {
    const clean = JSON.parse(JSON.stringify({ securityContext }));
    const r = apply(policy(), pod(name.replace(/\W+/g, "-"), ref(), clean));
    expect(r.pass).toBe(false);
    expect(r.output).toContain(message);
  });

  it("GIVEN a pod running a golden image by tag THEN it is refused", () => {
    const r = apply(policy(), pod("by-tag", `${registry}/golden-admission-${run}/app:v1`, hardened));
    expect(r.pass).toBe(false);
    expect(r.output).toContain("referenced by digest");
  });

  it("GIVEN a pod running no golden image THEN the policy does not apply to it", () => {
    const r = apply(policy(), pod("other-image", "registry.example.internal/other/app:v1"));
    expect(r.output).toMatch(/pass: 0, fail: 0/);
  });
});
