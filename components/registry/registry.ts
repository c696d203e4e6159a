import * as pulumi from "@pulumi/pulumi";

/** Registry backends this library knows. Closed: a new backend adds its kind here. */
export const REGISTRY_KINDS = ["ecr", "harbor", "oci"] as const;
export type RegistryKind = (typeof REGISTRY_KINDS)[number];

/**
 * How to log in, not a login: each executor resolves it when it runs (a `pulumi up` today, a
 * CodeBuild job tomorrow, a CronJob next week), so no short-lived token is baked in anywhere.
 */
export type RegistryAuth =
  | {
      /** Exchange the runner's AWS identity for an ECR token (`ecr:GetAuthorizationToken`) when the step runs. */
      readonly kind: "aws-ecr";
      /** `host` of the registry, e.g. `<account>.dkr.ecr.<region>.<partition DNS suffix>`. */
      readonly address: pulumi.Output<string>;
      readonly registryId: pulumi.Output<string>;
      readonly region?: pulumi.Output<string>;
    }
  | {
      /** A username and a password (a Harbor robot, an htpasswd user). The password is a secret. */
      readonly kind: "basic";
      readonly address: pulumi.Output<string>;
      readonly username: pulumi.Output<string>;
      readonly password: pulumi.Output<string>;
    };

/** Who gets access: an IAM role (ECR) or a robot account the registry creates (Harbor, OCI). */
export type Grantee = { readonly kind: "iam-role"; readonly roleName: pulumi.Input<string> } | { readonly kind: "robot"; readonly name: string };

export const REGISTRY_ACCESS = ["pull", "push"] as const;
/** `pull` reads every image; `push` also writes them (and their signatures and attestations). */
export type RegistryAccess = (typeof REGISTRY_ACCESS)[number];

export interface Grant {
  /** What was created to grant it (a role policy, a robot account). */
  readonly resources: readonly pulumi.Resource[];
  /** Credentials the grant made (a robot's name and secret), as secrets; none for an IAM role. */
  readonly credentials?: { readonly username: pulumi.Output<string>; readonly password: pulumi.Output<string> };
}

/**
 * Which tags may be rewritten. Release tags stay immutable; cosign's signature, attestation and
 * bundle tags (`sha256-<digest>`, `.sig`, `.att`) must stay writable, or a re-sign or a second
 * attestation is refused (registries with the OCI 1.1 referrers API need no tags at all).
 */
export interface TagRules {
  readonly immutable: boolean;
  /** Wildcard patterns of tags that may be rewritten even so. */
  readonly mutableTags: readonly string[];
}

/** Patterns of the tags cosign writes next to an image (classic and bundle formats). */
export const COSIGN_TAG_PATTERNS = ["sha256-*"] as const;

/**
 * What every registry backend offers the images, the pipeline and the executors. Grants go
 * through the backend because each has its own principal model (IAM roles for ECR, robot
 * accounts for Harbor).
 */
export interface Registry {
  readonly kind: RegistryKind;
  /** The images this registry holds repositories for. */
  readonly imageNames: readonly string[];
  /** `host/path` of the repository for an image (no tag, no digest). Throws for an unknown image. */
  repositoryUrl(image: string): pulumi.Output<string>;
  /** How a builder logs in to push (resolved by the executor when it runs). */
  auth(): RegistryAuth;
  /** Gives the grantee exactly this access to every image of the registry. `id` names the created resources. */
  grant(id: string, grantee: Grantee, access: RegistryAccess, opts?: pulumi.CustomResourceOptions): Grant;
  /** The build cache reference of an image (a tag the tag rules let move), or undefined for no registry cache. */
  cacheRef(image: string): pulumi.Output<string> | undefined;
  readonly tagRules: TagRules;
}

/** The error an unknown image name gets, shared by every backend. */
export function unknownImageError(kind: string, image: string, known: readonly string[]): Error {
  return new Error(
    `${kind} registry has no repository for image "${image}". Fix: add "${image}" to the registry's images (known: ${known.map((k) => `"${k}"`).join(", ") || "none"}).`,
  );
}
