/**
 * Typed image specs: what a platform team writes. Plain data, no Pulumi imports, so the
 * stack, the `golden` CLI and the cloud executors all read the same specs.
 */
import type { Flavor, PackageManager } from "./catalog";

export const HARDENING_LEVELS = ["strict", "standard"] as const;
/** `strict` strips setuid and setgid bits (every flavor) and removes the shell and package
 *  manager from runtimes that have them; `standard` keeps them (and only then allows shell-form
 *  entrypoints there). */
export type Hardening = (typeof HARDENING_LEVELS)[number];

export const PLATFORMS = ["linux/amd64", "linux/arm64", "linux/arm/v7", "linux/ppc64le", "linux/s390x"] as const;
export type Platform = (typeof PLATFORMS)[number];

export const ENVIRONMENTS = ["dev", "staging", "prod"] as const;
export type EnvironmentName = (typeof ENVIRONMENTS)[number];

/** Copy from the build context (no `from`) or from a builder stage into a stage. */
export interface CopySpec {
  /** Builder stage to copy from; omit to copy from the build context. */
  readonly from?: string;
  readonly src: string;
  /** Absolute destination path. */
  readonly dest: string;
}

export interface BuilderStage {
  /** Stage name, referenced by `copy[].from`. Lowercase, unique. */
  readonly name: string;
  /** Builder image reference (`repo[:tag]@sha256:...`); a host-less reference resolves through the mirror.
   *  @default the flavor's recommended builder from the catalog */
  readonly image?: string;
  /** The builder image's package manager, used for `packages`.
   *  @default the catalog's builder package manager; for a custom image "apk" when its name or tag says alpine, else "apt" */
  readonly packageManager?: PackageManager;
  /** Packages installed before `run` (apt with --no-install-recommends, apk with --no-cache).
   *  @default [] */
  readonly packages?: readonly string[];
  /** Absolute working directory. @default "/src" */
  readonly workdir?: string;
  /** Files from the build context copied in before `run`. @default [] */
  readonly copy?: readonly CopySpec[];
  /** Extra build steps, one `RUN` each, in order. @default [] */
  readonly run?: readonly string[];
  /** Build-time environment (never secrets). @default {} */
  readonly env?: Readonly<Record<string, string>>;
}

export interface HealthcheckSpec {
  /** Exec-form test command, e.g. ["/app", "--health"]. */
  readonly test: readonly string[];
  /** @default "30s" */
  readonly interval?: string;
  /** @default "5s" */
  readonly timeout?: string;
  /** @default 3 */
  readonly retries?: number;
  /** Grace period after start; at least 1ms when set (Docker refuses 0).
   *  @default none (no grace period) */
  readonly startPeriod?: string;
}

export interface ImageSpec {
  /** Repository name of the image (ECR/OCI grammar: lowercase, `a-z0-9._-/`). */
  readonly name: string;
  readonly flavor: Flavor;
  /** Runtime base reference. A host-less reference resolves through the mirror. Must carry a
   *  digest unless the environment allows tag-only bases (never in prod). Not allowed for scratch.
   *  @default the catalog's runtime for the flavor, through the mirror */
  readonly base?: string;
  /** Builder stages, built in order. @default [] */
  readonly builders?: readonly BuilderStage[];
  /** What the runtime stage receives, typically `{ from: "build", src: "/out/app", dest: "/app" }`.
   *  Owned by the runtime user. @default [] */
  readonly copy?: readonly CopySpec[];
  /** Packages installed in the runtime (only flavors with a package manager). @default [] */
  readonly packages?: readonly string[];
  /** Exec form (array) or, only on runtimes with a shell under standard hardening, shell form (string). */
  readonly entrypoint?: readonly string[] | string;
  /** Default arguments; exec form or shell form with the same rule as `entrypoint`. */
  readonly cmd?: readonly string[] | string;
  /** Numeric non-root `UID[:GID]`. @default "65532:65532" (the catalog's nonroot) */
  readonly user?: string | number;
  /** Absolute working directory of the runtime. @default none (the base's) */
  readonly workdir?: string;
  /** Runtime environment (never secrets). @default {} */
  readonly env?: Readonly<Record<string, string>>;
  /** Build arguments declared in every stage (never secrets). @default {} */
  readonly args?: Readonly<Record<string, string>>;
  /** Ports, e.g. 8080 or "8080/udp". @default [] */
  readonly expose?: readonly (number | string)[];
  readonly healthcheck?: HealthcheckSpec;
  /** Extra labels; `org.opencontainers.image.*` ones are set by the renderer. @default {} */
  readonly labels?: Readonly<Record<string, string>>;
  /** @default "strict" */
  readonly hardening?: Hardening;
  /** Source repository URL and revision for the OCI labels. What it leaves out is read from the
   *  git checkout (components/spec/source.ts): origin's web URL, and the last commit that touched
   *  `context` unless the context has uncommitted changes.
   *  @default from git; without git or a repository, no source labels */
  readonly source?: { readonly url?: string; readonly revision?: string };
  /** Build context directory, relative to the program's directory. @default "." */
  readonly context?: string;
  /** @default ["linux/amd64"] */
  readonly platforms?: readonly Platform[];
}

/** What an environment allows and how it reaches bases. */
export interface EnvironmentPolicy {
  readonly environment: EnvironmentName;
  /** Registry prefix through which host-less base references are pulled (pull-through cache
   *  or private registry), e.g. "<your pull-through cache host>/hub". @default none */
  readonly mirror?: string;
  /** Allow base and builder references without a digest. Refused in prod. @default false */
  readonly allowTagOnlyBases?: boolean;
  /** Seconds since the epoch for `org.opencontainers.image.created` (use the commit time). @default 0 */
  readonly sourceDateEpoch?: number;
}

export const DEFAULT_HARDENING: Hardening = "strict";
export const DEFAULT_PLATFORMS: readonly Platform[] = ["linux/amd64"];
export const DEFAULT_BUILDER_WORKDIR = "/src";
export const DEFAULT_SOURCE_DATE_EPOCH = 0;
