/**
 * ExistingEcrRegistry: the Registry interface over ECR repositories this stack does not own
 * (CDK `Repository.fromRepositoryArn`), so images, pipelines and grants work against them too.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { throwIfIssues, ValidationIssue } from "../render/issues";
import { byImage, EcrRegistryBase } from "./ecr-base";
import { validateRepositoryNames } from "./ecr-registry";
import { unknownImageError } from "./registry";

export const EXISTING_ECR_REGISTRY_TYPE = "golden-image:registry:ExistingEcrRegistry";

export interface ExistingEcrRegistryArgs {
  /** The 12-digit account ID that owns the registry. */
  readonly registryId: string;
  /** Region of the registry.
   *  @default the provider's region */
  readonly region?: string;
  /** The images whose repositories already exist (named `repositoryPrefix + image`). */
  readonly images: readonly string[];
  /** Prepended to every repository name; ends with "/".
   *  @default none (repository name = image name) */
  readonly repositoryPrefix?: string;
}

const REGISTRY_ID = /^\d{12}$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d$/;

export function validateExistingEcrRegistryArgs(args: ExistingEcrRegistryArgs): ValidationIssue[] {
  if (args === null || typeof args !== "object") {
    return [{ path: "args", value: args, problem: "must be an object", fix: "give { registryId, images: [...] }" }];
  }
  const issues: ValidationIssue[] = [];
  if (typeof args.registryId !== "string" || !REGISTRY_ID.test(args.registryId)) {
    issues.push({ path: "registryId", value: args.registryId, problem: "is not an AWS account ID", fix: "give the 12-digit account ID that owns the repositories" });
  }
  if (args.region !== undefined && (typeof args.region !== "string" || !REGION.test(args.region))) {
    issues.push({ path: "region", value: args.region, problem: "is not an AWS region name", fix: 'give e.g. "eu-central-1", or omit it for the provider\'s region' });
  }
  issues.push(...validateRepositoryNames(args.images, args.repositoryPrefix));
  return issues;
}

export class ExistingEcrRegistry extends EcrRegistryBase {
  public readonly imageNames: readonly string[];
  public readonly repositoryUrls: pulumi.Output<Record<string, string>>;
  public readonly repositoryArns: pulumi.Output<Record<string, string>>;
  private readonly repositories: ReadonlyMap<string, pulumi.Output<aws.ecr.GetRepositoryResult>>;
  private readonly registryId: string;
  private readonly region?: string;

  constructor(name: string, args: ExistingEcrRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    super(EXISTING_ECR_REGISTRY_TYPE, name, {}, validated(name, args, opts));
    const prefix = args.repositoryPrefix ?? "";
    this.imageNames = [...args.images];
    this.registryId = args.registryId;
    this.region = args.region;
    // A lookup (not a built URL) so a misspelled or missing repository fails the preview, not the push.
    this.repositories = new Map(
      this.imageNames.map((image) => [
        image,
        aws.ecr.getRepositoryOutput({ name: `${prefix}${image}`, registryId: args.registryId, region: args.region }, { parent: this }),
      ]),
    );
    this.repositoryUrls = byImage(this.imageNames, (image) => this.repositories.get(image)!.repositoryUrl);
    this.repositoryArns = byImage(this.imageNames, (image) => this.repositories.get(image)!.arn);
    this.registerOutputs({ repositoryUrls: this.repositoryUrls, repositoryArns: this.repositoryArns });
  }

  public repositoryUrl(image: string): pulumi.Output<string> {
    const repository = this.repositories.get(image);
    if (repository === undefined) {
      throw unknownImageError(this.kind, image, this.imageNames);
    }
    return repository.repositoryUrl;
  }

  protected registryIdentity(): { registryId: pulumi.Output<string>; region?: pulumi.Output<string> } {
    return { registryId: pulumi.output(this.registryId), region: this.region === undefined ? undefined : pulumi.output(this.region) };
  }
}

function validated(name: string, args: ExistingEcrRegistryArgs, opts?: pulumi.ComponentResourceOptions): pulumi.ComponentResourceOptions | undefined {
  throwIfIssues(`Invalid ExistingEcrRegistry "${name}" arguments`, validateExistingEcrRegistryArgs(args));
  return opts;
}
