/**
 * The consumer's side of the promotion pointer: the approved digest of a golden image, read where
 * the pipeline promoted it (SSM parameters or a ConfigMap). A consumer stack that builds
 * `FROM ${getApprovedDigest("api-base", ...)}` or runs it in a task definition then shows a base
 * update in its own preview as a digest diff, and never runs an image that was not verified.
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { configMapKeys, parsePromotionStore, promotionStoreIssues, ssmPointerName } from "../plan/promotion-store";
import { throwIfIssues } from "../render/issues";

/** `repository@sha256:<64 hex>`: what a pointer must hold. */
const DIGEST_REF = /^[^\s@]+@sha256:[a-f0-9]{64}$/;

export interface GoldenImageRefArgs {
  /** Where the pipeline promotes: `ssm:/golden-images/prod` or `configmap:<namespace>/<name>`. */
  readonly store: string;
}

/** Checks what a pointer holds: a reference by digest, or a clear error naming the image and the store. */
export function checkApprovedReference(image: string, store: string, value: string | undefined): string {
  const v = (value ?? "").trim();
  if (!DIGEST_REF.test(v)) {
    throw new Error(
      `golden image ${image}: the pointer in ${store} holds ${JSON.stringify(value ?? null)}, not a reference by digest. Fix: run the rebuild so the image is verified and promoted, or check the image name`,
    );
  }
  return v;
}

/**
 * The approved `repository@sha256:...` of `image`. Reading an SSM parameter needs
 * `ssm:GetParameter` on it; a ConfigMap, `get` on it.
 */
export function getApprovedDigest(image: string, args: GoldenImageRefArgs, opts?: pulumi.InvokeOptions): pulumi.Output<string> {
  throwIfIssues(`Invalid GoldenImageRef for ${JSON.stringify(image)}`, promotionStoreIssues(args.store, "store"));
  const store = parsePromotionStore(args.store);
  switch (store.kind) {
    case "ssm":
      return aws.ssm.getParameterOutput({ name: ssmPointerName(store.path, image) }, opts).value.apply((v) => checkApprovedReference(image, args.store, v));
    case "configmap": {
      const cm = k8s.core.v1.ConfigMap.get(`golden-pointer-${store.namespace}-${store.name}-${image.replace(/[^a-z0-9-]/g, "-")}`, `${store.namespace}/${store.name}`, opts as pulumi.CustomResourceOptions);
      return cm.data.apply((data) => checkApprovedReference(image, args.store, data?.[configMapKeys(image).pointer]));
    }
    case "directory":
      throw new Error(`GoldenImageRef for ${image}: ${args.store} is a local directory, which a stack cannot read. Fix: use "ssm:/path" or "configmap:namespace/name"`);
  }
}

/** A golden image's approved reference, as a small object a consumer passes around. */
export class GoldenImageRef {
  public readonly image: string;
  /** `repository@sha256:...` */
  public readonly ref: pulumi.Output<string>;
  /** `sha256:...` */
  public readonly digest: pulumi.Output<string>;
  public readonly repository: pulumi.Output<string>;

  constructor(image: string, args: GoldenImageRefArgs, opts?: pulumi.InvokeOptions) {
    this.image = image;
    this.ref = getApprovedDigest(image, args, opts);
    this.digest = this.ref.apply((r) => r.slice(r.lastIndexOf("@") + 1));
    this.repository = this.ref.apply((r) => r.slice(0, r.lastIndexOf("@")));
  }
}
