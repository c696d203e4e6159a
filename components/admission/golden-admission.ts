/**
 * GoldenAdmission: enforces the pipeline where images run. It applies, with @pulumi/kubernetes,
 * the admission policies components/render/admission.ts renders for the golden registry's images:
 * - `engine: "kyverno"` (default): Kyverno's ImageValidatingPolicy for bundle-format signatures, or
 *   its ClusterPolicy `verifyImages` for classic ones (Kyverno 1.19.1's ImageValidatingPolicy checks
 *   attestations without a transparency log only in the bundle format); `kyvernoApi` overrides it;
 * - `engine: "policy-controller"`: Sigstore policy-controller's ClusterImagePolicy;
 * - with Kyverno, the workload policy for pods that run golden images (non-root, read-only root,
 *   no capabilities, RuntimeDefault seccomp, no privilege escalation, images by digest).
 * Every policy is proven with the Kyverno CLI or validated against its CRD in the tests.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  AdmissionAction,
  AdmissionPolicyArgs,
  admissionPolicyIssues,
  AdmissionVerifier,
  renderClusterImagePolicy,
  renderClusterPolicy,
  renderImageValidatingPolicy,
  renderWorkloadPolicy,
} from "../render/admission";
import { joinPath, throwIfIssues, ValidationIssue } from "../render/issues";
import { SigningPlan, SignatureFormat } from "../signing/types";

export const GOLDEN_ADMISSION_TYPE = "golden-image:admission:GoldenAdmission";
export const ADMISSION_ENGINES = ["kyverno", "policy-controller"] as const;
export type AdmissionEngine = (typeof ADMISSION_ENGINES)[number];
export const KYVERNO_APIS = ["ImageValidatingPolicy", "ClusterPolicy"] as const;
export type KyvernoApi = (typeof KYVERNO_APIS)[number];

export interface GoldenAdmissionArgs {
  /** The golden images, as globs `<registry host>/<prefix>*`. */
  readonly imageReferences: readonly string[];
  /** Who signed: the pipeline's public key, KMS key, or keyless identity (see verifierFromSigning). */
  readonly verifier: pulumi.Input<AdmissionVerifier>;
  /** The pipeline's signature format. @default "classic" */
  readonly format?: SignatureFormat;
  /** Signatures in a transparency log. @default false (keyless: true) */
  readonly transparencyLog?: boolean;
  /** @default "kyverno" */
  readonly engine?: AdmissionEngine;
  /** Kyverno's API. @default ImageValidatingPolicy for bundle signatures, ClusterPolicy for classic */
  readonly kyvernoApi?: KyvernoApi;
  /** Attestations required. @default all three */
  readonly attestations?: AdmissionPolicyArgs["attestations"];
  /** Also apply the workload policy (Kyverno only). @default true */
  readonly workloadPolicy?: boolean;
  /** @default "Enforce" */
  readonly action?: AdmissionAction;
  /** Name of the policies. @default "golden-images" (the workload policy: "<name>-workloads") */
  readonly policyName?: string;
}

/** The verifier of a SigningKey's plan: the public key (keypair), the KMS reference, or the keyless identity. */
export function verifierFromSigning(signing: pulumi.Input<SigningPlan>, publicKeyPem: pulumi.Input<string>): pulumi.Output<AdmissionVerifier> {
  return pulumi.all([signing, publicKeyPem]).apply(([s, pem]): AdmissionVerifier => {
    switch (s.mode) {
      case "kms":
        return { kind: "kms", key: s.publicKey ?? (s.key as string) };
      case "keyless":
        return { kind: "keyless", identity: s.identity as string, issuer: s.issuer as string };
      default:
        return { kind: "key", publicKeyPem: pem };
    }
  });
}

export function goldenAdmissionIssues(args: GoldenAdmissionArgs): ValidationIssue[] {
  const probe: AdmissionPolicyArgs = {
    name: args.policyName ?? "golden-images",
    imageReferences: args.imageReferences,
    // The verifier may be an output; its shape is checked when it resolves.
    verifier: { kind: "kms", key: "awskms:///alias/probe" },
    ...(args.action !== undefined ? { action: args.action } : {}),
  };
  const issues = admissionPolicyIssues(probe);
  if (args.engine !== undefined && !(ADMISSION_ENGINES as readonly string[]).includes(args.engine)) {
    issues.push({ path: "engine", value: args.engine, problem: "is not an admission engine", fix: 'use "kyverno" or "policy-controller"' });
  }
  if (args.kyvernoApi !== undefined && !(KYVERNO_APIS as readonly string[]).includes(args.kyvernoApi)) {
    issues.push({ path: "kyvernoApi", value: args.kyvernoApi, problem: "is not a Kyverno policy API", fix: 'use "ImageValidatingPolicy" or "ClusterPolicy"' });
  }
  if (args.kyvernoApi === "ImageValidatingPolicy" && (args.format ?? "classic") === "classic" && args.transparencyLog !== true) {
    issues.push({
      path: "kyvernoApi",
      value: args.kyvernoApi,
      problem: "cannot check attestations of classic signatures without a transparency log (Kyverno 1.19.1 requires a verified bundle for them)",
      fix: 'sign in the bundle format (signing.format: "bundle"), or use kyvernoApi "ClusterPolicy"',
    });
  }
  return issues.map((i) => ({ ...i, path: joinPath("", i.path) }));
}

export class GoldenAdmission extends pulumi.ComponentResource {
  /** The kinds of the policies applied, e.g. ["ClusterPolicy", "ValidatingPolicy"]. */
  public readonly kinds: readonly string[];

  constructor(name: string, args: GoldenAdmissionArgs, opts?: pulumi.ComponentResourceOptions) {
    throwIfIssues(`Invalid GoldenAdmission "${name}"`, goldenAdmissionIssues(args));
    super(GOLDEN_ADMISSION_TYPE, name, {}, opts);
    const engine = args.engine ?? "kyverno";
    const format = args.format ?? "classic";
    const policyName = args.policyName ?? "golden-images";
    const kyvernoApi = args.kyvernoApi ?? (format === "bundle" ? "ImageValidatingPolicy" : "ClusterPolicy");
    const render = engine === "policy-controller" ? renderClusterImagePolicy : kyvernoApi === "ImageValidatingPolicy" ? renderImageValidatingPolicy : renderClusterPolicy;
    const [apiVersion, kind] =
      engine === "policy-controller" ? ["policy.sigstore.dev/v1beta1", "ClusterImagePolicy"] : kyvernoApi === "ImageValidatingPolicy" ? ["policies.kyverno.io/v1", "ImageValidatingPolicy"] : ["kyverno.io/v1", "ClusterPolicy"];
    const doc = pulumi.output(args.verifier).apply((verifier) =>
      render({
        name: policyName,
        imageReferences: args.imageReferences,
        verifier,
        format,
        ...(args.transparencyLog !== undefined ? { transparencyLog: args.transparencyLog } : {}),
        ...(args.attestations !== undefined ? { attestations: args.attestations } : {}),
        ...(args.action !== undefined ? { action: args.action } : {}),
      }),
    );
    const kinds = [kind];
    new k8s.apiextensions.CustomResource(`${name}-images`, { apiVersion, kind, metadata: doc.apply((d) => d.metadata as any), spec: doc.apply((d) => d.spec as any) }, { parent: this });
    if (engine === "kyverno" && args.workloadPolicy !== false) {
      const workloads = renderWorkloadPolicy({ name: `${policyName}-workloads`, imageReferences: args.imageReferences, ...(args.action !== undefined ? { action: args.action } : {}) });
      new k8s.apiextensions.CustomResource(`${name}-workloads`, { apiVersion: "policies.kyverno.io/v1", kind: "ValidatingPolicy", metadata: workloads.metadata as any, spec: workloads.spec as any }, { parent: this });
      kinds.push("ValidatingPolicy");
    }
    this.kinds = kinds;
    this.registerOutputs({});
  }
}
