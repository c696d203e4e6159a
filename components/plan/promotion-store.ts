/**
 * Where the plan keeps its promotion records, and where consumers read the approved digest:
 * the promotion pointer. Three kinds, named by one string in the plan:
 *
 * - a directory (the local executor): `<dir>/<image>.json`;
 * - `ssm:/golden-images/dev` (the CodeBuild executor): the SSM parameter `<path>/<image>` holds
 *   the approved reference (`repository@sha256:...`) consumers read, `<path>/<image>/record` the
 *   full record the next run's decide step compares with;
 * - `configmap:<namespace>/<name>` (the Kubernetes executor): key `<image>` holds the reference,
 *   `<image>.record.json` the record; both written by one merge patch.
 *
 * Only the promote step writes, and it runs only after every verification passed.
 */
import { ValidationIssue } from "../render/issues";
import { POINTER_PATH } from "../render/rebuild-iam";

export const PROMOTION_STORE_KINDS = ["directory", "ssm", "configmap"] as const;
export type PromotionStoreKind = (typeof PROMOTION_STORE_KINDS)[number];

export type PromotionStoreRef =
  | { readonly kind: "directory"; readonly path: string }
  | { readonly kind: "ssm"; readonly path: string }
  | { readonly kind: "configmap"; readonly namespace: string; readonly name: string };

const DNS_LABEL = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;

/** Problems of a store string; none means parsePromotionStore accepts it. */
export function promotionStoreIssues(store: unknown, path = "promotionStore"): ValidationIssue[] {
  if (typeof store !== "string" || store.trim() === "") {
    return [{ path, value: store, problem: "must be a directory, ssm:/path or configmap:namespace/name", fix: 'e.g. ".golden/promoted", "ssm:/golden-images/dev" or "configmap:golden-images/promoted"' }];
  }
  if (store.startsWith("ssm:")) {
    const p = store.slice(4);
    return POINTER_PATH.test(p)
      ? []
      : [{ path, value: store, problem: "is not an SSM parameter path the pipeline may own", fix: 'write ssm: and a path that starts with "/", has 1-14 levels, no trailing "/", not under /aws or /ssm, e.g. "ssm:/golden-images/dev"' }];
  }
  if (store.startsWith("configmap:")) {
    const [namespace, name, ...rest] = store.slice(10).split("/");
    const issues: ValidationIssue[] = [];
    if (rest.length > 0 || name === undefined || !DNS_LABEL.test(namespace) || !DNS_SUBDOMAIN.test(name)) {
      issues.push({ path, value: store, problem: "is not configmap:<namespace>/<name> with a namespace (DNS label) and a ConfigMap name (DNS subdomain)", fix: 'e.g. "configmap:golden-images/promoted"' });
    }
    return issues;
  }
  if (/^[a-z][a-z0-9+.-]*:/.test(store) && !/^[A-Za-z]:[\\/]/.test(store)) {
    return [{ path, value: store, problem: `names an unknown store kind "${store.slice(0, store.indexOf(":"))}"`, fix: 'use a directory, "ssm:/path" or "configmap:namespace/name"' }];
  }
  if (store.split(/[\\/]/).includes("..")) {
    return [{ path, value: store, problem: "must not leave the working directory", fix: 'give a directory inside it, e.g. ".golden/promoted"' }];
  }
  return [];
}

export function parsePromotionStore(store: string): PromotionStoreRef {
  const issues = promotionStoreIssues(store);
  if (issues.length > 0) {
    throw new Error(`${issues[0].path} ${JSON.stringify(store)} ${issues[0].problem}. Fix: ${issues[0].fix}`);
  }
  if (store.startsWith("ssm:")) {
    return { kind: "ssm", path: store.slice(4) };
  }
  if (store.startsWith("configmap:")) {
    const [namespace, name] = store.slice(10).split("/");
    return { kind: "configmap", namespace, name };
  }
  return { kind: "directory", path: store };
}

/** The promotion stores a plan's promote steps write to (deduplicated, in plan order). */
export function planPromotionStores(plan: { readonly steps: readonly { readonly kind: string; readonly run: { readonly args: readonly string[] } }[] }): string[] {
  return [...new Set(plan.steps.flatMap((s) => (s.kind === "promote" ? [s.run.args[s.run.args.indexOf("--store") + 1]] : [])))];
}

/** The SSM parameter consumers read: the approved `repository@sha256:...` of the image. */
export function ssmPointerName(path: string, image: string): string {
  return `${path}/${image}`;
}

/** The SSM parameter holding the full promotion record (what the decide step compares with). */
export function ssmRecordName(path: string, image: string): string {
  return `${path}/${image}/record`;
}

/** ConfigMap keys of an image: `[-._a-zA-Z0-9]+`, so a `/` in an image name becomes `.`. */
export function configMapKeys(image: string): { readonly pointer: string; readonly record: string } {
  const key = image.replace(/\//g, ".");
  return { pointer: key, record: `${key}.record.json` };
}

/** The store in words, for messages. */
export function describePromotionStore(ref: PromotionStoreRef): string {
  switch (ref.kind) {
    case "directory":
      return `directory ${ref.path}`;
    case "ssm":
      return `SSM parameters under ${ref.path}`;
    case "configmap":
      return `ConfigMap ${ref.namespace}/${ref.name}`;
  }
}
