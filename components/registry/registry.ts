import * as pulumi from "@pulumi/pulumi";

/** Credentials a builder uses to push; `password` is always a secret Output. */
export interface RegistryCredentials {
  readonly address: pulumi.Output<string>;
  readonly username: pulumi.Output<string>;
  readonly password: pulumi.Output<string>;
}

/**
 * What every registry backend offers the images and the pipeline: ECR now, Harbor later,
 * and an existing registry the stack does not own. Grants go through the backend because
 * each has its own principal model (IAM roles for ECR, robot accounts for Harbor).
 */
export interface Registry {
  /** Backend name, e.g. "ecr". */
  readonly kind: string;
  /** The images this registry holds repositories for. */
  readonly imageNames: readonly string[];
  /** `host/path` of the repository for an image (no tag, no digest). Throws for an unknown image. */
  repositoryUrl(image: string): pulumi.Output<string>;
  /** Push credentials for the builder; the password is a secret. */
  pushCredentials(): RegistryCredentials;
  /** Lets the principal pull every image of this registry. Returns the resource that grants it. */
  grantPull(name: string, principal: pulumi.Input<string>, opts?: pulumi.CustomResourceOptions): pulumi.Resource;
  /** Lets the principal pull and push every image of this registry. */
  grantPush(name: string, principal: pulumi.Input<string>, opts?: pulumi.CustomResourceOptions): pulumi.Resource;
}

/** The error an unknown image name gets, shared by every backend. */
export function unknownImageError(kind: string, image: string, known: readonly string[]): Error {
  return new Error(
    `${kind} registry has no repository for image "${image}". Fix: add "${image}" to the registry's images (known: ${known.map((k) => `"${k}"`).join(", ") || "none"}).`,
  );
}
