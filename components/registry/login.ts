/**
 * The `pulumi up` path's resolution of a RegistryAuth descriptor: the login docker-build needs
 * at deploy time. Other executors resolve the same descriptor their own way, when they run.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { RegistryAuth } from "./registry";

/** A docker login; the password is always a secret. */
export interface RegistryLogin {
  readonly address: pulumi.Output<string>;
  readonly username: pulumi.Output<string>;
  readonly password: pulumi.Output<string>;
}

export function resolveLogin(auth: RegistryAuth, parent: pulumi.Resource): RegistryLogin {
  if (auth.kind === "basic") {
    return { address: auth.address, username: auth.username, password: pulumi.secret(auth.password) };
  }
  const token = aws.ecr.getAuthorizationTokenOutput({ registryId: auth.registryId, region: auth.region }, { parent });
  return { address: auth.address, username: token.userName, password: pulumi.secret(token.password) };
}
