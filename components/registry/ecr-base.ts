/**
 * What every ECR-backed Registry shares, whether the stack created the repositories or only
 * refers to them: grants, push credentials, outputs keyed by image.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ECR_AUTH_ACTION, ECR_PULL_ACTIONS, ECR_PUSH_ACTIONS, renderGrantPolicy } from "../render/iam";
import { Registry, RegistryCredentials } from "./registry";

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

/** Docker login for ECR from an authorization token; the password is always a secret. */
export function ecrCredentials(token: pulumi.Output<aws.ecr.GetAuthorizationTokenResult>): RegistryCredentials {
  return {
    address: token.proxyEndpoint.apply((endpoint) => endpoint.replace(/^https?:\/\//, "")),
    username: token.userName,
    password: pulumi.secret(token.password),
  };
}

/** Grants and credentials once, for EcrRegistry and ExistingEcrRegistry alike. */
export abstract class EcrRegistryBase extends pulumi.ComponentResource implements Registry {
  public readonly kind = "ecr";
  public abstract readonly imageNames: readonly string[];
  /** Repository ARN by image name. */
  public abstract readonly repositoryArns: pulumi.Output<Record<string, string>>;
  private credentials?: RegistryCredentials;

  public abstract repositoryUrl(image: string): pulumi.Output<string>;

  /** The registry (account) and region whose login token the builder needs. */
  protected abstract tokenArgs(): aws.ecr.GetAuthorizationTokenOutputArgs;

  public pushCredentials(): RegistryCredentials {
    if (this.credentials === undefined) {
      this.credentials = ecrCredentials(aws.ecr.getAuthorizationTokenOutput(this.tokenArgs(), { parent: this }));
    }
    return this.credentials;
  }

  public grantPull(name: string, roleName: pulumi.Input<string>, opts?: pulumi.CustomResourceOptions): aws.iam.RolePolicy {
    return this.grant(name, roleName, ECR_PULL_ACTIONS, opts);
  }

  public grantPush(name: string, roleName: pulumi.Input<string>, opts?: pulumi.CustomResourceOptions): aws.iam.RolePolicy {
    return this.grant(name, roleName, ECR_PUSH_ACTIONS, opts);
  }

  private grant(name: string, roleName: pulumi.Input<string>, actions: readonly string[], opts?: pulumi.CustomResourceOptions): aws.iam.RolePolicy {
    const arns = this.repositoryArns.apply((byName) => this.imageNames.map((image) => byName[image]));
    return newEcrGrant(name, roleName, actions, arns, this, opts);
  }
}
