/**
 * The base image catalog: what each runtime flavor is made of. Pure data, no Pulumi.
 *
 * Repository paths are relative (no registry host): they resolve through the pipeline's
 * `mirror` (a pull-through cache or the private registry), so builds never depend on a
 * public registry being reachable.
 */

export const FLAVORS = [
  "distroless-static",
  "distroless-base",
  "distroless-cc",
  "distroless-java",
  "distroless-python",
  "distroless-nodejs",
  "alpine",
  "debian-slim",
  "scratch",
] as const;
export type Flavor = (typeof FLAVORS)[number];

export const PACKAGE_MANAGERS = ["apt", "apk", "none"] as const;
export type PackageManager = (typeof PACKAGE_MANAGERS)[number];

/** The non-root UID and GID every distroless image calls `nonroot`. */
export const NONROOT_UID = 65532;
export const NONROOT_GID = 65532;

export interface FlavorInfo {
  /** Runtime base repository, relative to the mirror; undefined for scratch (no base). */
  readonly runtime?: { readonly repository: string; readonly tag: string };
  /** The recommended builder image for compiling the payload. */
  readonly builder: { readonly repository: string; readonly tag: string; readonly packageManager: PackageManager };
  /** Whether the runtime ships a shell (`/bin/sh`). */
  readonly hasShell: boolean;
  /** The runtime's package manager, "none" when it has none. */
  readonly packageManager: PackageManager;
  readonly defaultUid: number;
  readonly defaultGid: number;
  /** What the runtime offers, for documentation and `golden --help`. */
  readonly description: string;
}

export const CATALOG: Readonly<Record<Flavor, FlavorInfo>> = {
  "distroless-static": {
    runtime: { repository: "distroless/static-debian12", tag: "nonroot" },
    builder: { repository: "library/gcc", tag: "12-bookworm", packageManager: "apt" },
    hasShell: false,
    packageManager: "none",
    defaultUid: NONROOT_UID,
    defaultGid: NONROOT_GID,
    description: "ca-certificates, tzdata, /etc/passwd; for statically linked programs",
  },
  "distroless-base": {
    runtime: { repository: "distroless/base-debian12", tag: "nonroot" },
    builder: { repository: "library/gcc", tag: "12-bookworm", packageManager: "apt" },
    hasShell: false,
    packageManager: "none",
    defaultUid: NONROOT_UID,
    defaultGid: NONROOT_GID,
    description: "static plus glibc and libssl",
  },
  "distroless-cc": {
    runtime: { repository: "distroless/cc-debian12", tag: "nonroot" },
    builder: { repository: "library/gcc", tag: "12-bookworm", packageManager: "apt" },
    hasShell: false,
    packageManager: "none",
    defaultUid: NONROOT_UID,
    defaultGid: NONROOT_GID,
    description: "base plus libgcc and libstdc++; for dynamically linked C and C++ programs",
  },
  "distroless-java": {
    runtime: { repository: "distroless/java17-debian12", tag: "nonroot" },
    builder: { repository: "library/maven", tag: "3-eclipse-temurin-17", packageManager: "apt" },
    hasShell: false,
    packageManager: "none",
    defaultUid: NONROOT_UID,
    defaultGid: NONROOT_GID,
    description: "a Java 17 runtime",
  },
  "distroless-python": {
    runtime: { repository: "distroless/python3-debian12", tag: "nonroot" },
    builder: { repository: "library/python", tag: "3.11-slim-bookworm", packageManager: "apt" },
    hasShell: false,
    packageManager: "none",
    defaultUid: NONROOT_UID,
    defaultGid: NONROOT_GID,
    description: "a Python 3 interpreter",
  },
  "distroless-nodejs": {
    runtime: { repository: "distroless/nodejs20-debian12", tag: "nonroot" },
    builder: { repository: "library/node", tag: "20-bookworm-slim", packageManager: "apt" },
    hasShell: false,
    packageManager: "none",
    defaultUid: NONROOT_UID,
    defaultGid: NONROOT_GID,
    description: "a Node.js 20 runtime",
  },
  alpine: {
    runtime: { repository: "library/alpine", tag: "3.20" },
    builder: { repository: "library/alpine", tag: "3.20", packageManager: "apk" },
    hasShell: true,
    packageManager: "apk",
    defaultUid: NONROOT_UID,
    defaultGid: NONROOT_GID,
    description: "musl and busybox; shell and apk removed under strict hardening",
  },
  "debian-slim": {
    runtime: { repository: "library/debian", tag: "bookworm-slim" },
    builder: { repository: "library/debian", tag: "bookworm-slim", packageManager: "apt" },
    hasShell: true,
    packageManager: "apt",
    defaultUid: NONROOT_UID,
    defaultGid: NONROOT_GID,
    description: "glibc, dash and apt; shell and apt removed under strict hardening",
  },
  scratch: {
    runtime: undefined,
    builder: { repository: "library/gcc", tag: "12-bookworm", packageManager: "apt" },
    hasShell: false,
    packageManager: "none",
    defaultUid: NONROOT_UID,
    defaultGid: NONROOT_GID,
    description: "an empty filesystem; only what the builder copies in",
  },
};

export function isFlavor(value: unknown): value is Flavor {
  return typeof value === "string" && (FLAVORS as readonly string[]).includes(value);
}
