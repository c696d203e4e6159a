/**
 * What every ECR-backed Registry shares, whether the stack created the repositories or only
 * refers to them: grants, push credentials, outputs keyed by image.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ECR_AUTH_ACTION, ECR_PULL_ACTIONS, ECR_PUSH_ACTIONS, renderGrantPolicy } from "../render/iam";
import { COSIGN_TAG_PATTERNS, Grant, Grantee, Registry, RegistryAccess, RegistryAuth, TagRules } from "./registry";

/** The one tag that is rewritten on every build: the registry build cache (see HardenedImage `cache`). */
export const BUILD_CACHE_TAG = "buildcache";

/** ECR's tag rule: immutable, except the build cache and cosign's signature and attestation tags. */
export const ECR_TAG_RULES: TagRules = { immutable: true, mutableTags: [BUILD_CACHE_TAG, ...COSIGN_TAG_PATTERNS] };

/** The actions of each access level. */
const ECR_ACTIONS: Readonly<Record<RegistryAccess, readonly string[]>> = { pull: ECR_PULL_ACTIONS, push: ECR_PUSH_ACTIONS };

/** The IAM role policy behind every ECR grant: exactly `actions` on exactly `repositoryArns`, plus login. */
export function newEcrGrant(
  name: string,
  roleName: pulumi.Input<string>,
  actions: readonly string[],
  repositoryArns: pulumi.Output<string[]>,
  parent: pulumi.Resource,
  opts?: pulumi.CustomResourceOptions,
): aws.iam.RolePolicy {
  return new aws.iam.RolePolicy(
    name,
    { role: roleName, policy: repositoryArns.apply((arns) => renderGrantPolicy([...actions, ECR_AUTH_ACTION], arns)) },
    { ...opts, parent },
  );
}

/** Outputs keyed by image name, in image order. */
export function byImage(images: readonly string[], pick: (image: string) => pulumi.Output<string>): pulumi.Output<Record<string, string>> {
  return pulumi.all(images.map(pick)).apply((values) => Object.fromEntries(images.map((image, i) => [image, values[i]])));
}

/** Grants, login and tag rules once, for EcrRegistry and ExistingEcrRegistry alike. */
export abstract class EcrRegistryBase extends pulumi.ComponentResource implements Registry {
  public readonly kind = "ecr" as const;
  public readonly tagRules: TagRules = ECR_TAG_RULES;
  public abstract readonly imageNames: readonly string[];
  /** Repository ARN by image name. */
  public abstract readonly repositoryArns: pulumi.Output<Record<string, string>>;

  public abstract repositoryUrl(image: string): pulumi.Output<string>;

  /** The registry (account) id and region whose login token a builder needs. */
  protected abstract registryIdentity(): { registryId: pulumi.Output<string>; region?: pulumi.Output<string> };

  /** Resolved by each executor when it runs (`aws ecr get-login-password`, or a token data source at deploy). */
  public auth(): RegistryAuth {
    const id = this.registryIdentity();
    const first = this.imageNames[0];
    return { kind: "aws-ecr", address: this.repositoryUrl(first).apply((u) => u.split("/")[0]), registryId: id.registryId, region: id.region };
  }

  public cacheRef(image: string): pulumi.Output<string> {
    return this.repositoryUrl(image).apply((u) => `${u}:${BUILD_CACHE_TAG}`);
  }

  public grant(id: string, grantee: Grantee, access: RegistryAccess, opts?: pulumi.CustomResourceOptions): Grant {
    if (grantee.kind !== "iam-role") {
      throw new Error(`ECR grants go to IAM roles, not to a ${grantee.kind} ("${grantee.name}"). Fix: pass { kind: "iam-role", roleName }`);
    }
    const arns = this.repositoryArns.apply((byName) => this.imageNames.map((image) => byName[image]));
    return { resources: [newEcrGrant(id, grantee.roleName, ECR_ACTIONS[access], arns, this, opts)] };
  }

  /** `grant(name, { kind: "iam-role", roleName }, "pull")`, returning the role policy. */
  public grantPull(name: string, roleName: pulumi.Input<string>, opts?: pulumi.CustomResourceOptions): aws.iam.RolePolicy {
    return this.grant(name, { kind: "iam-role", roleName }, "pull", opts).resources[0] as aws.iam.RolePolicy;
  }

  /** `grant(name, { kind: "iam-role", roleName }, "push")`, returning the role policy. */
  public grantPush(name: string, roleName: pulumi.Input<string>, opts?: pulumi.CustomResourceOptions): aws.iam.RolePolicy {
    return this.grant(name, { kind: "iam-role", roleName }, "push", opts).resources[0] as aws.iam.RolePolicy;
  }
}
