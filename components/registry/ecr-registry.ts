/**
 * EcrRegistry: one immutable, KMS-encrypted, scanned ECR repository per golden image, with
 * lifecycle rules, optional cross-account pull, pull-through caches, replication and IAM grants.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { renderRepositoryPolicy, validateRepositoryPolicyArgs } from "../render/iam";
import { renderEcrKeyPolicy } from "../render/kms-policy";
import { joinKey, joinPath, throwIfIssues, ValidationIssue } from "../render/issues";
import { DefaultLifecycleOptions, defaultLifecycleRules, renderLifecyclePolicy, validateDefaultLifecycleOptions } from "../render/lifecycle";
import { BUILD_CACHE_TAG, byImage, EcrRegistryBase, ECR_TAG_RULES } from "./ecr-base";
import { unknownImageError } from "./registry";


export const ECR_REGISTRY_TYPE = "golden-image:registry:EcrRegistry";

export { BUILD_CACHE_TAG };

/** Days KMS waits before deleting the created key (the maximum: a mistaken destroy can be undone). */
export const KMS_DELETION_WINDOW_DAYS = 30;

export interface PullThroughCacheArgs {
  /** Repository prefix that routes pulls to the upstream, e.g. "hub" makes `<registry>/hub/library/alpine`. */
  readonly prefix: string;
  /** Upstream registry host, without scheme. */
  readonly upstreamRegistryUrl: string;
  /** Secrets Manager secret (name starting with `ecr-pullthroughcache/`) with upstream credentials.
   *  @default none (anonymous upstream) */
  readonly credentialArn?: pulumi.Input<string>;
}

export interface EcrRegistryArgs {
  /** Repository names, one per golden image (OCI/ECR name grammar, unique). */
  readonly images: readonly string[];
  /** Prepended to every repository name; ends with "/", e.g. "golden/". Also scopes enhanced scanning and replication.
   *  @default none (repository name = image name) */
  readonly repositoryPrefix?: string;
  /** Customer-managed KMS key ARN the repositories are encrypted with.
   *  @default none (a key with rotation and a 30-day deletion window is created) */
  readonly kmsKeyArn?: pulumi.Input<string>;
  /** Principals that administer the created KMS key (they manage it and cannot use it; only ECR uses it,
   *  on behalf of the account's principals). Ignored with kmsKeyArn.
   *  @default the role running `pulumi up` */
  readonly keyAdministrators?: readonly pulumi.Input<string>[];
  /** Continuous enhanced (Inspector) scanning of the repositories. Registry-wide setting: only one
   *  EcrRegistry per account and region may turn it on.
   *  @default false */
  readonly enhancedScanning?: boolean;
  /** Lifecycle rules: expire untagged images after N days, keep the last N releases.
   *  @default {} (each field's own default) */
  readonly lifecycle?: DefaultLifecycleOptions;
  /** Accounts (12-digit IDs) or IAM principal ARNs allowed to pull. Can be combined with `pullOrganizationId`.
   *  @default none (no repository policy) */
  readonly pullPrincipals?: readonly string[];
  /** Every principal of this AWS Organization may pull. Can be combined with `pullPrincipals`.
   *  @default none (no repository policy) */
  readonly pullOrganizationId?: string;
  /** Pull-through cache rules, one per upstream.
   *  @default [] */
  readonly pullThroughCache?: readonly PullThroughCacheArgs[];
  /** Regions (same account) the repositories are replicated to. Registry-wide setting; the replicas are
   *  created by ECR with its defaults (the KMS key is regional).
   *  @default [] (no replication) */
  readonly replicationRegions?: readonly string[];
  /** Lets `pulumi destroy` delete the repositories (with their images) and the KMS key. When false they are
   *  left in the account (retainOnDelete), so a destroy succeeds and nothing is lost.
   *  @default false */
  readonly allowDelete?: boolean;
}

const ARG_KEYS = [
  "images",
  "repositoryPrefix",
  "kmsKeyArn",
  "keyAdministrators",
  "enhancedScanning",
  "lifecycle",
  "pullPrincipals",
  "pullOrganizationId",
  "pullThroughCache",
  "replicationRegions",
  "allowDelete",
] as const;

/** ECR repository name grammar (the OCI distribution path grammar, lowercase). */
const REPOSITORY_NAME = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const REPOSITORY_PREFIX = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)+$/;
const MAX_REPOSITORY_NAME = 256;
const MIN_REPOSITORY_NAME = 2;
const CACHE_PREFIX_LENGTH = { min: 2, max: 30 } as const;
const KMS_KEY_ARN = /^arn:aws(?:-[a-z]+)*:kms:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:key\/[A-Za-z0-9-]+$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d$/;
const HOST = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+(?::\d{1,5})?$/;
const CACHE_CREDENTIAL_ARN = /^arn:aws(?:-[a-z]+)*:secretsmanager:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:secret:ecr-pullthroughcache\/.+$/;
/** ECR allows 25 destinations in a replication rule. */
const MAX_REPLICATION_DESTINATIONS = 25;

/** The Pulumi name part for an image: `/` is not allowed in readable names, so it becomes `-`. */
export function imageResourceName(image: string): string {
  return image.replace(/\//g, "-");
}

/** Resource options that decide what a destroy does to the data-holding children (repositories, KMS key). */
export function retentionOptions(allowDelete: boolean): Pick<pulumi.CustomResourceOptions, "retainOnDelete"> {
  return { retainOnDelete: !allowDelete };
}

/** KMS alias for the created key, deterministic and within the alias grammar. */
export function kmsAliasName(name: string, repositoryPrefix = ""): string {
  return `alias/golden-image/${repositoryPrefix}${name}`.replace(/[^A-Za-z0-9/_-]/g, "-");
}

/** Checks image names and the prefix they are created under; shared with ExistingEcrRegistry. */
export function validateRepositoryNames(images: unknown, repositoryPrefix: unknown, path = ""): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const prefixPath = joinPath(path, "repositoryPrefix");
  const prefixOk =
    repositoryPrefix === undefined || (typeof repositoryPrefix === "string" && repositoryPrefix.length < MAX_REPOSITORY_NAME && REPOSITORY_PREFIX.test(repositoryPrefix));
  if (!prefixOk) {
    issues.push({
      path: prefixPath,
      value: repositoryPrefix,
      problem: 'is not a repository prefix (lowercase path components, each followed by "/")',
      fix: 'give e.g. "golden/" or "platform/golden/"',
    });
  }
  const prefix = prefixOk && typeof repositoryPrefix === "string" ? repositoryPrefix : "";
  const imagesPath = joinPath(path, "images");
  if (!Array.isArray(images)) {
    issues.push({ path: imagesPath, value: images, problem: "must be a list of image names", fix: 'give e.g. ["base", "python"]' });
    return issues;
  }
  if (images.length === 0) {
    issues.push({ path: imagesPath, value: images, problem: "must not be empty", fix: "list at least one golden image" });
  }
  const seenNames = new Map<string, number>();
  const seenResources = new Map<string, number>();
  images.forEach((image: unknown, i: number) => {
    const at = joinPath(imagesPath, i);
    if (typeof image !== "string" || !REPOSITORY_NAME.test(image)) {
      issues.push({
        path: at,
        value: image,
        problem: "is not a valid ECR repository name",
        fix: 'use lowercase letters and digits separated by ".", "_", "-" or "/", e.g. "python-3.12"',
      });
      return;
    }
    const full = `${prefix}${image}`;
    if (full.length < MIN_REPOSITORY_NAME || full.length > MAX_REPOSITORY_NAME) {
      issues.push({
        path: at,
        value: image,
        problem: `makes repository name "${full}" of ${full.length} characters`,
        fix: `keep the repository name (prefix + image) between ${MIN_REPOSITORY_NAME} and ${MAX_REPOSITORY_NAME} characters`,
      });
    }
    const resourceName = imageResourceName(image);
    if (seenNames.has(image)) {
      issues.push({ path: at, value: image, problem: `repeats ${joinPath(imagesPath, seenNames.get(image) as number)}`, fix: "list each image once" });
    } else if (seenResources.has(resourceName)) {
      const other = joinPath(imagesPath, seenResources.get(resourceName) as number);
      issues.push({ path: at, value: image, problem: `gets the same resource name "${resourceName}" as ${other}`, fix: 'rename one of them: "/" and "-" map to the same resource name' });
    }
    seenNames.set(image, seenNames.get(image) ?? i);
    seenResources.set(resourceName, seenResources.get(resourceName) ?? i);
  });
  return issues;
}

/** Every problem of the arguments at once; plain values only (unresolved Outputs are left alone). */
export function validateEcrRegistryArgs(args: EcrRegistryArgs): ValidationIssue[] {
  if (args === null || typeof args !== "object") {
    return [{ path: "args", value: args, problem: "must be an object", fix: "give { images: [...] }" }];
  }
  const issues: ValidationIssue[] = [];
  const raw = args as unknown as Record<string, unknown>;
  for (const key of Object.keys(raw).sort()) {
    if (!(ARG_KEYS as readonly string[]).includes(key)) {
      issues.push({ path: joinKey("", key), value: raw[key], problem: "is not an EcrRegistry argument", fix: `remove it or correct the spelling (allowed: ${ARG_KEYS.join(", ")})` });
    }
  }
  issues.push(...validateRepositoryNames(args.images, args.repositoryPrefix));
  if (typeof args.kmsKeyArn === "string" && !KMS_KEY_ARN.test(args.kmsKeyArn)) {
    issues.push({
      path: "kmsKeyArn",
      value: args.kmsKeyArn,
      problem: "is not a KMS key ARN",
      fix: "give arn:<partition>:kms:<region>:<account>:key/<key-id>, or omit it to create a key",
    });
  }
  if (args.keyAdministrators !== undefined) {
    if (!Array.isArray(args.keyAdministrators) || args.keyAdministrators.length === 0) {
      issues.push({ path: "keyAdministrators", value: args.keyAdministrators, problem: "must be a non-empty list of IAM principal ARNs", fix: "give the roles that administer the key (include the one running pulumi up), or omit it for that role alone" });
    } else {
      args.keyAdministrators.forEach((a, i) => {
        if (typeof a === "string" && !/^arn:aws(?:-[a-z]+)*:iam::\d{12}:(?:role|user)\/\S+$/.test(a)) {
          issues.push({ path: `keyAdministrators[${i}]`, value: a, problem: "is not an IAM role or user ARN", fix: 'give e.g. "arn:aws:iam::123456789012:role/platform-admin"' });
        }
      });
    }
  }
  for (const key of ["enhancedScanning", "allowDelete"] as const) {
    if (args[key] !== undefined && typeof args[key] !== "boolean") {
      issues.push({ path: key, value: args[key], problem: "must be true or false", fix: `set ${key} to true or false, or omit it` });
    }
  }
  if (args.lifecycle !== undefined) {
    issues.push(...validateDefaultLifecycleOptions(args.lifecycle, "lifecycle"));
  }
  if (args.pullPrincipals !== undefined || args.pullOrganizationId !== undefined) {
    issues.push(...validateRepositoryPolicyArgs({ pullPrincipals: args.pullPrincipals, pullOrganizationId: args.pullOrganizationId }));
  }
  issues.push(...pullThroughCacheIssues(args));
  issues.push(...replicationIssues(args.replicationRegions));
  return issues;
}

function pullThroughCacheIssues(args: EcrRegistryArgs): ValidationIssue[] {
  const rules = args.pullThroughCache;
  if (rules === undefined) {
    return [];
  }
  if (!Array.isArray(rules)) {
    return [{ path: "pullThroughCache", value: rules, problem: "must be a list of rules", fix: 'give e.g. [{ prefix: "hub", upstreamRegistryUrl: "<upstream host>" }]' }];
  }
  const issues: ValidationIssue[] = [];
  const seen = new Map<string, number>();
  const seenResources = new Map<string, number>();
  const images = Array.isArray(args.images) ? args.images.filter((i): i is string => typeof i === "string") : [];
  rules.forEach((rule: PullThroughCacheArgs, i: number) => {
    const at = joinPath("pullThroughCache", i);
    if (rule === null || typeof rule !== "object") {
      issues.push({ path: at, value: rule, problem: "must be an object", fix: "give { prefix, upstreamRegistryUrl, credentialArn? }" });
      return;
    }
    const prefix = rule.prefix;
    const prefixPath = joinPath(at, "prefix");
    if (typeof prefix !== "string" || !REPOSITORY_NAME.test(prefix) || prefix.length < CACHE_PREFIX_LENGTH.min || prefix.length > CACHE_PREFIX_LENGTH.max) {
      issues.push({
        path: prefixPath,
        value: prefix,
        problem: `is not a pull-through cache prefix (${CACHE_PREFIX_LENGTH.min}-${CACHE_PREFIX_LENGTH.max} characters of the repository name grammar)`,
        fix: 'give e.g. "hub" or "mirror/quay", without a trailing "/"',
      });
    } else {
      // The rule's resource name maps "/" to "-", so "ab/cd" and "ab-cd" would be one resource.
      const resourceName = imageResourceName(prefix);
      if (seen.has(prefix)) {
        issues.push({ path: prefixPath, value: prefix, problem: `repeats ${joinPath(joinPath("pullThroughCache", seen.get(prefix) as number), "prefix")}`, fix: "give each upstream its own prefix" });
      } else if (seenResources.has(resourceName)) {
        const other = joinPath(joinPath("pullThroughCache", seenResources.get(resourceName) as number), "prefix");
        issues.push({ path: prefixPath, value: prefix, problem: `gets the same resource name "${resourceName}" as ${other}`, fix: 'rename one of them: "/" and "-" map to the same resource name' });
      } else {
        seen.set(prefix, i);
        seenResources.set(resourceName, i);
      }
      const full = images.map((image) => `${args.repositoryPrefix ?? ""}${image}`).find((n) => n.startsWith(`${prefix}/`));
      if (full !== undefined) {
        issues.push({
          path: prefixPath,
          value: prefix,
          problem: `would route pulls of the golden repository "${full}" to the upstream`,
          fix: "choose a prefix no golden repository name starts with",
        });
      }
    }
    if (typeof rule.upstreamRegistryUrl !== "string" || !HOST.test(rule.upstreamRegistryUrl)) {
      issues.push({
        path: joinPath(at, "upstreamRegistryUrl"),
        value: rule.upstreamRegistryUrl,
        problem: "is not a registry host",
        fix: "give the upstream host name only, lowercase, without scheme or path",
      });
    }
    if (typeof rule.credentialArn === "string" && !CACHE_CREDENTIAL_ARN.test(rule.credentialArn)) {
      issues.push({
        path: joinPath(at, "credentialArn"),
        value: rule.credentialArn,
        problem: "is not a Secrets Manager ARN of a secret named ecr-pullthroughcache/...",
        fix: "store the upstream credentials in a secret whose name starts with ecr-pullthroughcache/ and give its ARN",
      });
    }
  });
  return issues;
}

function replicationIssues(regions: unknown): ValidationIssue[] {
  if (regions === undefined) {
    return [];
  }
  if (!Array.isArray(regions)) {
    return [{ path: "replicationRegions", value: regions, problem: "must be a list of region names", fix: 'give e.g. ["eu-central-1"]' }];
  }
  const issues: ValidationIssue[] = [];
  if (regions.length > MAX_REPLICATION_DESTINATIONS) {
    issues.push({ path: "replicationRegions", value: regions, problem: `has ${regions.length} regions`, fix: `replicate to at most ${MAX_REPLICATION_DESTINATIONS} regions` });
  }
  regions.forEach((region: unknown, i: number) => {
    const at = joinPath("replicationRegions", i);
    if (typeof region !== "string" || !REGION.test(region)) {
      issues.push({ path: at, value: region, problem: "is not an AWS region name", fix: 'give e.g. "eu-central-1"' });
    } else if (regions.indexOf(region) !== i) {
      issues.push({ path: at, value: region, problem: `repeats ${joinPath("replicationRegions", regions.indexOf(region))}`, fix: "list each region once" });
    }
  });
  return issues;
}

export class EcrRegistry extends EcrRegistryBase {
  public readonly imageNames: readonly string[];
  /** Repository URL (`host/name`) by image name. */
  public readonly repositoryUrls: pulumi.Output<Record<string, string>>;
  /** Repository ARN by image name. */
  public readonly repositoryArns: pulumi.Output<Record<string, string>>;
  /** The key the repositories are encrypted with (given or created). */
  public readonly kmsKeyArn: pulumi.Output<string>;
  private readonly repositories: ReadonlyMap<string, aws.ecr.Repository>;

  constructor(name: string, args: EcrRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    // Validation runs inside the super call so that not even the component is registered on bad input.
    super(ECR_REGISTRY_TYPE, name, {}, validated(name, args, opts));
    const prefix = args.repositoryPrefix ?? "";
    const allowDelete = args.allowDelete ?? false;
    const retain = retentionOptions(allowDelete);
    this.imageNames = [...args.images];

    if (args.kmsKeyArn !== undefined) {
      this.kmsKeyArn = pulumi.output(args.kmsKeyArn);
    } else {
      // A key policy of its own: administrators manage the key, ECR alone uses it (no account-wide kms:*).
      const caller = aws.getCallerIdentityOutput({}, { parent: this });
      const administrators = args.keyAdministrators ?? [aws.iam.getSessionContextOutput({ arn: caller.arn }, { parent: this }).issuerArn];
      const partition = aws.getPartitionOutput({}, { parent: this });
      const policy = pulumi
        .all([pulumi.output(administrators), caller.accountId, aws.getRegionOutput({}, { parent: this }).region, partition.partition, partition.dnsSuffix])
        .apply(([admins, accountId, region, name, dnsSuffix]) => renderEcrKeyPolicy({ administrators: admins, accountId, region, partition: name, dnsSuffix }));
      const key = new aws.kms.Key(
        `${name}-key`,
        { description: `Encrypts the golden image repositories of ${name}`, enableKeyRotation: true, deletionWindowInDays: KMS_DELETION_WINDOW_DAYS, policy },
        { parent: this, ...retain },
      );
      new aws.kms.Alias(`${name}-key-alias`, { name: kmsAliasName(name, prefix), targetKeyId: key.keyId }, { parent: this });
      this.kmsKeyArn = key.arn;
    }

    const lifecyclePolicy = renderLifecyclePolicy(defaultLifecycleRules(args.lifecycle ?? {}), "lifecycle");
    const pullPolicy =
      args.pullPrincipals !== undefined || args.pullOrganizationId !== undefined
        ? renderRepositoryPolicy({ pullPrincipals: args.pullPrincipals, pullOrganizationId: args.pullOrganizationId })
        : undefined;

    const repositories = new Map<string, aws.ecr.Repository>();
    for (const image of this.imageNames) {
      const child = `${name}-${imageResourceName(image)}`;
      const repository = new aws.ecr.Repository(
        child,
        {
          name: `${prefix}${image}`,
          // Release tags are immutable; only the build cache tag may move (it is rewritten on every build).
          imageTagMutability: "IMMUTABLE_WITH_EXCLUSION",
          // ...and cosign's signature, attestation and bundle tags (sha256-<digest>...), which a re-sign rewrites.
          imageTagMutabilityExclusionFilters: ECR_TAG_RULES.mutableTags.map((filter) => ({ filter, filterType: "WILDCARD" })),
          imageScanningConfiguration: { scanOnPush: true },
          encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: this.kmsKeyArn }],
          forceDelete: allowDelete,
        },
        { parent: this, ...retain },
      );
      repositories.set(image, repository);
      new aws.ecr.LifecyclePolicy(`${child}-lifecycle`, { repository: repository.name, policy: lifecyclePolicy }, { parent: this });
      if (pullPolicy !== undefined) {
        new aws.ecr.RepositoryPolicy(`${child}-policy`, { repository: repository.name, policy: pullPolicy }, { parent: this });
      }
    }
    this.repositories = repositories;

    for (const rule of args.pullThroughCache ?? []) {
      new aws.ecr.PullThroughCacheRule(
        `${name}-cache-${imageResourceName(rule.prefix)}`,
        { ecrRepositoryPrefix: rule.prefix, upstreamRegistryUrl: rule.upstreamRegistryUrl, credentialArn: rule.credentialArn },
        { parent: this },
      );
    }

    if (args.enhancedScanning ?? false) {
      new aws.ecr.RegistryScanningConfiguration(
        `${name}-scanning`,
        {
          scanType: "ENHANCED",
          rules: [{ scanFrequency: "CONTINUOUS_SCAN", repositoryFilters: [{ filter: prefix === "" ? "*" : `${prefix}*`, filterType: "WILDCARD" }] }],
        },
        { parent: this },
      );
    }

    const regions = [...(args.replicationRegions ?? [])].sort();
    if (regions.length > 0) {
      const accountId = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
      new aws.ecr.ReplicationConfiguration(
        `${name}-replication`,
        {
          replicationConfiguration: {
            rules: [
              {
                destinations: regions.map((region) => ({ region, registryId: accountId })),
                ...(prefix === "" ? {} : { repositoryFilters: [{ filter: prefix, filterType: "PREFIX_MATCH" }] }),
              },
            ],
          },
        },
        { parent: this },
      );
    }

    this.repositoryUrls = byImage(this.imageNames, (image) => repositories.get(image)!.repositoryUrl);
    this.repositoryArns = byImage(this.imageNames, (image) => repositories.get(image)!.arn);
    this.registerOutputs({ repositoryUrls: this.repositoryUrls, repositoryArns: this.repositoryArns, kmsKeyArn: this.kmsKeyArn });
  }

  public repositoryUrl(image: string): pulumi.Output<string> {
    const repository = this.repositories.get(image);
    if (repository === undefined) {
      throw unknownImageError(this.kind, image, this.imageNames);
    }
    return repository.repositoryUrl;
  }

  protected registryIdentity(): { registryId: pulumi.Output<string> } {
    return { registryId: this.repositories.get(this.imageNames[0])!.registryId };
  }
}

function validated(name: string, args: EcrRegistryArgs, opts?: pulumi.ComponentResourceOptions): pulumi.ComponentResourceOptions | undefined {
  throwIfIssues(`Invalid EcrRegistry "${name}" arguments`, validateEcrRegistryArgs(args));
  return opts;
}
