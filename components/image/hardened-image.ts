import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import * as dockerBuild from "@pulumi/docker-build";
import { resolveLogin } from "../registry/login";
import { Registry } from "../registry/registry";
import { renderResolved } from "../render/dockerfile";
import { throwIfIssues, ValidationIssue } from "../render/issues";
import { prepareOrThrow } from "../render/prepare";
import { baseReferences, pinResolved } from "../render/pin";
import { parseReference } from "../spec/reference";
import { EnvironmentPolicy, ImageSpec } from "../spec/types";
import { sourceFromGit } from "../spec/source";
import { contentTag, ContentTagInputs } from "./context-hash";
import { gitSourceReader, SourceReader } from "./git-source";

export interface HardenedImageArgs {
  /** The image, as typed data. Validated before anything is created. */
  readonly spec: ImageSpec;
  /** The environment's rules (digests required, mirror, commit time). */
  readonly policy: EnvironmentPolicy;
  /** Where the image is pushed. */
  readonly registry: Registry;
  /** Release prefix of the immutable tag `<prefix><content hash>`; lifecycle rules keep tags with it.
   *  @default "v" */
  readonly tagPrefix?: string;
  /** Registry build cache (the registry's `cacheRef`, a tag its tag rules let move) read and written
   *  with mode=max; false disables it.
   *  @default true */
  readonly cache?: boolean;
  /** Directory that the spec's relative `context` is resolved against. Must be relative for quiet previews.
   *  @default "." (the program's directory) */
  readonly baseDirectory?: string;
  /** Build during `pulumi preview` too (slower previews, but a broken build shows before `up`).
   *  @default false */
  readonly buildOnPreview?: boolean;
  /** Resolves a tag-only base or builder reference to the digest its registry serves, at preview, so
   *  a moved base shows as a digest diff and a new content tag. The same references and pins as the
   *  local executor (render/pin.ts), so both build the same Dockerfile.
   *  @default the registry data source of @pulumi/docker (`docker.getRegistryImage`) */
  readonly baseResolver?: BaseResolver;
  /** Reads the git facts of the context (a path relative to the program's directory) for the
   *  `source` and `revision` labels the spec leaves out: origin's web URL, and the last commit that
   *  touched the context unless it has uncommitted changes. The plan's pin step reads the same.
   *  @default git in the program's directory (`gitSourceReader`); no git or no repository: no labels */
  readonly sourceReader?: SourceReader;
}

/** Resolves `host/path:tag` to `sha256:<digest>` (an Output: a lookup at preview). */
export type BaseResolver = (ref: string, parent: pulumi.Resource) => pulumi.Output<string>;

/** The default resolver: what the registry serves now, read with @pulumi/docker's registry data source. */
export const registryImageResolver: BaseResolver = (ref, parent) => docker.getRegistryImageOutput({ name: ref }, { parent }).sha256Digest;

export const HARDENED_IMAGE_DEFAULTS = { tagPrefix: "v", cache: true, baseDirectory: ".", buildOnPreview: false } as const;

/**
 * Renders, validates, builds and pushes one hardened image. Its `ref` is digest first
 * (`repository@sha256:...`); the rendered Dockerfile is an output so previews show hardening
 * changes as a readable diff.
 */
export class HardenedImage extends pulumi.ComponentResource {
  /** `repository@sha256:<digest>`: what to deploy, sign and verify. */
  public readonly ref: pulumi.Output<string>;
  public readonly digest: pulumi.Output<string>;
  /** `repository:<tag>`: the immutable, human-readable name of this build. */
  public readonly taggedRef: pulumi.Output<string>;
  public readonly dockerfile: pulumi.Output<string>;
  public readonly repositoryUrl: pulumi.Output<string>;

  constructor(name: string, args: HardenedImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("golden-image:image:HardenedImage", name, {}, opts);
    // Validates (once: a pipeline's images come prepared) and throws one report before any child exists.
    const prepared = prepareOrThrow(args.spec, args.policy, `Invalid HardenedImage "${name}"`).image;
    const baseDirectory = args.baseDirectory ?? HARDENED_IMAGE_DEFAULTS.baseDirectory;
    throwIfIssues(`Invalid HardenedImage "${name}"`, baseDirectoryIssues(baseDirectory, "baseDirectory"));
    const contextDir = path.posix.join(baseDirectory.split(path.sep).join("/"), prepared.context);
    const buildArgs = { SOURCE_DATE_EPOCH: String(prepared.sourceDateEpoch) };
    const tagPrefix = args.tagPrefix ?? HARDENED_IMAGE_DEFAULTS.tagPrefix;
    const tagInputs: ContentTagInputs = { platforms: prepared.platforms, buildArgs, baseDirectory, path: "spec.context", title: `Invalid HardenedImage "${name}"` };
    // Checked now, before any child exists: the context is a directory inside baseDirectory and
    // within the limits (hashing it also fills the cache the tag below reads).
    contentTag("", contextDir, tagPrefix, tagInputs);
    // Labels the spec leaves out come from the checkout, read once, now (a sync read: no Output).
    const given = prepared.source;
    const resolved =
      given.url !== undefined && given.revision !== undefined ? prepared : { ...prepared, source: sourceFromGit(given, (args.sourceReader ?? gitSourceReader)(contextDir)) };
    // Tag-only bases are pinned to what their registry serves now; pinned ones stay as written.
    const resolver = args.baseResolver ?? registryImageResolver;
    const lookups = baseReferences(args.spec, args.policy.mirror).filter((r) => parseReference(r.ref).digest === undefined);
    const digests = pulumi.all(Object.fromEntries(lookups.map((r) => [r.property, resolver(r.ref, this)]))) as pulumi.Output<Record<string, string>>;
    const dockerfileOutput = digests.apply((d) => renderResolved(pinResolved(resolved, d)));
    const tag = dockerfileOutput.apply((text) => contentTag(text, contextDir, tagPrefix, tagInputs));
    this.repositoryUrl = args.registry.repositoryUrl(args.spec.name);
    const creds = resolveLogin(args.registry.auth(), this);
    const cacheRef = (args.cache ?? HARDENED_IMAGE_DEFAULTS.cache) ? args.registry.cacheRef(args.spec.name) : undefined;

    const image = new dockerBuild.Image(
      `${name}-build`,
      {
        dockerfile: { inline: dockerfileOutput },
        context: { location: contextDir },
        platforms: resolved.platforms as dockerBuild.Platform[],
        buildArgs,
        tags: [pulumi.interpolate`${this.repositoryUrl}:${tag}`],
        // The same reproducible output as the plan's build step: timestamps rewritten to
        // SOURCE_DATE_EPOCH, OCI media types, pushed to the registry (buildx --output syntax).
        // `push` would add a second, plain registry export: this one pushes.
        push: false,
        exports: [{ raw: pulumi.interpolate`type=registry,name=${this.repositoryUrl}:${tag},oci-mediatypes=true,rewrite-timestamp=true` }],
        buildOnPreview: args.buildOnPreview ?? HARDENED_IMAGE_DEFAULTS.buildOnPreview,
        registries: [{ address: creds.address, username: creds.username, password: creds.password }],
        cacheFrom: cacheRef === undefined ? undefined : [{ registry: { ref: cacheRef } }],
        // ECR needs an image manifest with OCI media types for registry caches.
        cacheTo: cacheRef === undefined ? undefined : [{ registry: { ref: cacheRef, mode: "max", imageManifest: true, ociMediaTypes: true, ignoreError: true } }],
      },
      // Pushed images outlive a replace or destroy of the build that made them.
      { parent: this, retainOnDelete: true },
    );
    this.digest = image.digest;
    this.ref = pulumi.interpolate`${this.repositoryUrl}@${image.digest}`;
    this.taggedRef = pulumi.interpolate`${this.repositoryUrl}:${tag}`;
    this.dockerfile = dockerfileOutput;
    this.registerOutputs({ ref: this.ref, digest: this.digest, taggedRef: this.taggedRef, dockerfile: this.dockerfile, repositoryUrl: this.repositoryUrl });
  }
}

/** `baseDirectory` must be a relative path: an absolute one differs between machines and makes previews noisy. */
export function baseDirectoryIssues(value: unknown, path: string): ValidationIssue[] {
  if (value === undefined) {
    return [];
  }
  if (typeof value !== "string" || value === "") {
    return [{ path, value, problem: "must be a relative directory path", fix: 'give a path relative to the program\'s directory, e.g. "."' }];
  }
  if (value.startsWith("/") || /^[A-Za-z]:[\\/]/.test(value)) {
    return [{ path, value, problem: "is absolute, which differs between machines and makes previews noisy", fix: 'give a path relative to the program\'s directory, e.g. "."' }];
  }
  return [];
}
