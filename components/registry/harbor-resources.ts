/**
 * The few Harbor resources a HarborRegistry creates, declared by their provider tokens because the
 * Pulumiverse Harbor npm SDK is not available here. A real `pulumi up` installs the bridged provider
 * plugin from `HARBOR_PROVIDER` (version and download URL go in every resource's options). Tokens,
 * input and output names follow the provider's published schema at that version; the integration
 * test test/integration/harbor-schema.test.ts checks them against the provider's published SDK.
 */
import * as pulumi from "@pulumi/pulumi";
import { HarborRetentionRuleDocument } from "../render/harbor";

/** The pinned Pulumiverse Harbor provider: its schema's `pluginDownloadURL`, and the release whose schema our inputs were checked against. */
export const HARBOR_PROVIDER = {
  version: "3.10.21",
  pluginDownloadURL: "github://api.github.com/pulumiverse/pulumi-harbor",
} as const;

export const HARBOR_TOKENS = {
  provider: "pulumi:providers:harbor",
  project: "harbor:index/project:Project",
  robotAccount: "harbor:index/robotAccount:RobotAccount",
  retentionPolicy: "harbor:index/retentionPolicy:RetentionPolicy",
  immutableTagRule: "harbor:index/immutableTagRule:ImmutableTagRule",
  registry: "harbor:index/registry:Registry",
} as const;

/** The plugin version and download URL on top of the caller's options (these two are not the caller's to choose). */
function pinned(opts: pulumi.CustomResourceOptions | undefined, secretOutputs: readonly string[] = []): pulumi.CustomResourceOptions {
  const merged: pulumi.CustomResourceOptions = { ...opts, version: HARBOR_PROVIDER.version, pluginDownloadURL: HARBOR_PROVIDER.pluginDownloadURL };
  if (secretOutputs.length > 0) {
    merged.additionalSecretOutputs = [...new Set([...(opts?.additionalSecretOutputs ?? []), ...secretOutputs])];
  }
  return merged;
}

/** Like the generated SDKs: a secret input stays secret on the wire, whatever the caller passed. */
function secretInput(value: pulumi.Input<string> | undefined): pulumi.Output<string> | undefined {
  return value === undefined ? undefined : pulumi.secret(value);
}

export interface HarborProviderArgs {
  /** Harbor's base URL, e.g. `https://registry.example.internal`. */
  readonly url: pulumi.Input<string>;
  readonly username: pulumi.Input<string>;
  /** Sent as a secret. */
  readonly password: pulumi.Input<string>;
  /** Skip TLS verification. The provider's own default is `true`, so it is always sent.
   *  @default false */
  readonly insecure?: pulumi.Input<boolean>;
}

/** `pulumi:providers:harbor`. */
export class HarborProvider extends pulumi.ProviderResource {
  /** Like the generated SDK, the password is also declared a secret output. */
  constructor(name: string, args: HarborProviderArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      "harbor",
      name,
      {
        url: args.url,
        username: args.username,
        password: secretInput(args.password),
        // A provider's non-string config travels as JSON text, as the generated SDKs send it.
        insecure: pulumi.output(args.insecure ?? false).apply((v) => JSON.stringify(v)),
      },
      pinned(opts, ["password"]),
    );
  }
}

export interface HarborProjectArgs {
  /** Project name (lowercase; replaced on change). */
  readonly name: pulumi.Input<string>;
  /** @default false */
  readonly public?: pulumi.Input<boolean>;
  /** Scan images on push (the provider's default is true). */
  readonly vulnerabilityScanning?: pulumi.Input<boolean>;
  /** Refuse pulls of images not signed with cosign. */
  readonly enableContentTrustCosign?: pulumi.Input<boolean>;
  /** Refuse pulls of images with a finding of this severity or worse: `none|low|medium|high|critical`. */
  readonly deploymentSecurity?: pulumi.Input<string>;
  /** Lets a destroy delete the project's repositories (not recoverable). */
  readonly forceDestroy?: pulumi.Input<boolean>;
  /** A registry endpoint's `registryId`: makes this a proxy-cache project (replaced on change). */
  readonly registryId?: pulumi.Input<number>;
  /** Storage quota in GB. */
  readonly storageQuota?: pulumi.Input<number>;
}

/** `harbor:index/project:Project`. Its `id` is the provider's `/projects/<n>` (what retention and immutability rules take). */
export class HarborProject extends pulumi.CustomResource {
  declare public readonly name: pulumi.Output<string>;
  declare public readonly projectId: pulumi.Output<number>;
  constructor(name: string, args: HarborProjectArgs, opts?: pulumi.CustomResourceOptions) {
    super(HARBOR_TOKENS.project, name, { ...args, projectId: undefined }, pinned(opts));
  }
}

export interface HarborRobotAccess {
  /** e.g. `repository`. */
  readonly resource: string;
  /** e.g. `pull`, `push`. */
  readonly action: string;
  /** @default "allow" */
  readonly effect?: "allow" | "deny";
}

export interface HarborRobotPermission {
  readonly kind: "project" | "system";
  /** The project name (`/` for system permissions). */
  readonly namespace: pulumi.Input<string>;
  readonly accesses: readonly HarborRobotAccess[];
}

export interface HarborRobotAccountArgs {
  /** Robot name; Harbor prefixes it (`robot$<project>+<name>` for project robots), see `fullName`. */
  readonly name: pulumi.Input<string>;
  readonly description?: pulumi.Input<string>;
  /** `project` robots may hold permissions on one project only. */
  readonly level: "project" | "system";
  readonly permissions: readonly HarborRobotPermission[];
  /** Days until the robot expires (-1: never).
   *  @default the provider's: never */
  readonly duration?: pulumi.Input<number>;
}

/** `harbor:index/robotAccount:RobotAccount`. Harbor generates the secret; it comes back as a secret output. */
export class HarborRobotAccount extends pulumi.CustomResource {
  declare public readonly fullName: pulumi.Output<string>;
  declare public readonly robotId: pulumi.Output<string>;
  declare public readonly secret: pulumi.Output<string>;
  constructor(name: string, args: HarborRobotAccountArgs, opts?: pulumi.CustomResourceOptions) {
    super(HARBOR_TOKENS.robotAccount, name, { ...args, fullName: undefined, robotId: undefined, secret: undefined }, pinned(opts, ["secret"]));
  }
}

/** One retention rule: exactly one of the count/age/always templates, and one tag selector
 *  (matching or excluding); the document components/render/harbor.ts renders. */
export type HarborRetentionRule = HarborRetentionRuleDocument;

export interface HarborRetentionPolicyArgs {
  /** The project's `id` (`/projects/<n>`); replaced on change. */
  readonly scope: pulumi.Input<string>;
  /** `Hourly`, `Daily`, `Weekly` or Harbor's 6-field cron (seconds first). */
  readonly schedule: pulumi.Input<string>;
  readonly rules: readonly HarborRetentionRule[];
}

/** `harbor:index/retentionPolicy:RetentionPolicy`: Harbor keeps what a rule retains and deletes the rest. */
export class HarborRetentionPolicy extends pulumi.CustomResource {
  constructor(name: string, args: HarborRetentionPolicyArgs, opts?: pulumi.CustomResourceOptions) {
    super(HARBOR_TOKENS.retentionPolicy, name, { ...args }, pinned(opts));
  }
}

export interface HarborImmutableTagRuleArgs {
  /** The project's `id` (`/projects/<n>`); replaced on change. */
  readonly projectId: pulumi.Input<string>;
  readonly repoMatching: string;
  /** Tags made immutable. Mutually exclusive with tagExcluding. */
  readonly tagMatching?: string;
  /** Every tag but these is immutable. Mutually exclusive with tagMatching. */
  readonly tagExcluding?: string;
}

/** `harbor:index/immutableTagRule:ImmutableTagRule`. */
export class HarborImmutableTagRule extends pulumi.CustomResource {
  constructor(name: string, args: HarborImmutableTagRuleArgs, opts?: pulumi.CustomResourceOptions) {
    super(HARBOR_TOKENS.immutableTagRule, name, { ...args }, pinned(opts));
  }
}

export interface HarborRegistryEndpointArgs {
  /** Shown in Harbor's registry list. */
  readonly name: pulumi.Input<string>;
  /** Harbor's adapter name, e.g. `docker-registry`, `harbor` (replaced on change). */
  readonly providerName: pulumi.Input<string>;
  /** The upstream's URL, e.g. `https://mirror.example.internal`. */
  readonly endpointUrl: pulumi.Input<string>;
  readonly description?: pulumi.Input<string>;
  /** Upstream credentials (both or neither); the secret is sent as a secret.
   *  @default none (anonymous upstream) */
  readonly accessId?: pulumi.Input<string>;
  readonly accessSecret?: pulumi.Input<string>;
  /** @default false */
  readonly insecure?: pulumi.Input<boolean>;
}

/** `harbor:index/registry:Registry`: an upstream endpoint, e.g. for a proxy-cache project. */
export class HarborRegistryEndpoint extends pulumi.CustomResource {
  declare public readonly registryId: pulumi.Output<number>;
  constructor(name: string, args: HarborRegistryEndpointArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      HARBOR_TOKENS.registry,
      name,
      { ...args, accessSecret: secretInput(args.accessSecret), registryId: undefined },
      pinned(opts, ["accessSecret"]),
    );
  }
}
