/**
 * Applies every documented default once, so the renderer, the components and the executors
 * all see the same fully specified image.
 */
import { CATALOG, Flavor, PackageManager } from "../spec/catalog";
import { parseReference, resolveThroughMirror, ImageReference } from "../spec/reference";
import {
  CopySpec,
  DEFAULT_BUILDER_WORKDIR,
  DEFAULT_HARDENING,
  DEFAULT_PLATFORMS,
  DEFAULT_SOURCE_DATE_EPOCH,
  EnvironmentPolicy,
  Hardening,
  HealthcheckSpec,
  ImageSpec,
  Platform,
} from "../spec/types";

export interface ResolvedBuilder {
  readonly name: string;
  readonly image: string;
  readonly packageManager: PackageManager;
  readonly packages: readonly string[];
  readonly workdir: string;
  readonly copy: readonly CopySpec[];
  readonly run: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

export interface ResolvedImage {
  readonly name: string;
  readonly flavor: Flavor;
  /** Runtime base reference after the mirror; undefined for scratch. */
  readonly base?: string;
  readonly baseRef?: ImageReference;
  readonly builders: readonly ResolvedBuilder[];
  readonly copy: readonly CopySpec[];
  readonly packages: readonly string[];
  readonly entrypoint?: readonly string[] | string;
  readonly cmd?: readonly string[] | string;
  readonly user: string;
  readonly workdir?: string;
  readonly env: Readonly<Record<string, string>>;
  readonly args: Readonly<Record<string, string>>;
  readonly expose: readonly string[];
  readonly healthcheck?: Required<Omit<HealthcheckSpec, "startPeriod">> & Pick<HealthcheckSpec, "startPeriod">;
  readonly labels: Readonly<Record<string, string>>;
  readonly hardening: Hardening;
  /** Whether the finished runtime has a shell: the flavor has one and hardening keeps it. */
  readonly runtimeHasShell: boolean;
  readonly runtimePackageManager: PackageManager;
  readonly source: { readonly url?: string; readonly revision?: string };
  readonly context: string;
  readonly platforms: readonly Platform[];
  readonly sourceDateEpoch: number;
}

export const HEALTHCHECK_DEFAULTS = { interval: "30s", timeout: "5s", retries: 3 } as const;

/** The base a flavor uses when the spec names none (tag only: the environment decides if that is allowed). */
export function defaultBase(flavor: Flavor): string | undefined {
  const runtime = CATALOG[flavor].runtime;
  return runtime === undefined ? undefined : `${runtime.repository}:${runtime.tag}`;
}

export function defaultBuilderImage(flavor: Flavor): string {
  const b = CATALOG[flavor].builder;
  return `${b.repository}:${b.tag}`;
}

/** Defaults applied; assumes the spec passed validation. */
export function resolveImage(spec: ImageSpec, policy: EnvironmentPolicy): ResolvedImage {
  const info = CATALOG[spec.flavor];
  const hardening = spec.hardening ?? DEFAULT_HARDENING;
  const baseGiven = spec.base ?? defaultBase(spec.flavor);
  const base = baseGiven === undefined ? undefined : resolveThroughMirror(baseGiven, policy.mirror);
  const user = spec.user === undefined ? `${info.defaultUid}:${info.defaultGid}` : normalizeUser(spec.user, info.defaultGid);
  const strips = hardening === "strict" && (info.hasShell || info.packageManager !== "none");
  const hc = spec.healthcheck;
  return {
    name: spec.name,
    flavor: spec.flavor,
    base,
    baseRef: base === undefined ? undefined : parseReference(base),
    builders: (spec.builders ?? []).map((b) => {
      const custom = b.image !== undefined;
      return {
        name: b.name,
        image: resolveThroughMirror(b.image ?? defaultBuilderImage(spec.flavor), policy.mirror),
        packageManager: b.packageManager ?? (custom ? guessPackageManager(b.image as string) : info.builder.packageManager),
        packages: b.packages ?? [],
        workdir: b.workdir ?? DEFAULT_BUILDER_WORKDIR,
        copy: b.copy ?? [],
        run: b.run ?? [],
        env: b.env ?? {},
      };
    }),
    copy: spec.copy ?? [],
    packages: spec.packages ?? [],
    entrypoint: spec.entrypoint,
    cmd: spec.cmd,
    user,
    workdir: spec.workdir,
    env: spec.env ?? {},
    args: spec.args ?? {},
    expose: (spec.expose ?? []).map((p) => (typeof p === "number" || !p.includes("/") ? `${p}/tcp` : p)),
    healthcheck:
      hc === undefined
        ? undefined
        : {
            test: hc.test,
            interval: hc.interval ?? HEALTHCHECK_DEFAULTS.interval,
            timeout: hc.timeout ?? HEALTHCHECK_DEFAULTS.timeout,
            retries: hc.retries ?? HEALTHCHECK_DEFAULTS.retries,
            startPeriod: hc.startPeriod,
          },
    labels: spec.labels ?? {},
    hardening,
    runtimeHasShell: info.hasShell && !strips,
    runtimePackageManager: strips ? "none" : info.packageManager,
    source: spec.source ?? {},
    context: spec.context ?? ".",
    platforms: spec.platforms ?? DEFAULT_PLATFORMS,
    sourceDateEpoch: policy.sourceDateEpoch ?? DEFAULT_SOURCE_DATE_EPOCH,
  };
}

/** A custom builder image's package manager: apk for Alpine-based images (by name or tag), else apt. */
export function guessPackageManager(image: string): PackageManager {
  return /(^|[/:@._-])alpine([/:@._-]|$)/.test(image.split("@")[0]) ? "apk" : "apt";
}

/** `65532` -> `65532:<default gid>`; `"1000:1000"` stays. */
export function normalizeUser(user: string | number, defaultGid: number): string {
  const text = String(user).trim();
  return text.includes(":") ? text : `${text}:${defaultGid}`;
}
