/**
 * Base pinning, shared by both paths: the local executor resolves tags through the OCI API,
 * `pulumi up` through a registry data source at preview. Both list the same references here and
 * apply the digests they found the same way, so they render byte-identical Dockerfiles.
 */
import { CATALOG } from "../spec/catalog";
import { formatReference, parseReference, resolveThroughMirror } from "../spec/reference";
import { EnvironmentPolicy, ImageSpec } from "../spec/types";
import { defaultBase, defaultBuilderImage, ResolvedImage } from "./resolve";

export interface BaseReference {
  /** Spec property that names it: `base` or `builders[0].image`. */
  readonly property: string;
  /** The reference after the mirror: `host/path[:tag][@digest]`. */
  readonly ref: string;
}

/** Every base and builder reference of a spec, after the mirror (defaults from the catalog included). */
export function baseReferences(spec: ImageSpec, mirror: string | undefined): BaseReference[] {
  const refs: BaseReference[] = [];
  if (CATALOG[spec.flavor].runtime !== undefined) {
    refs.push({ property: "base", ref: resolveThroughMirror(spec.base ?? (defaultBase(spec.flavor) as string), mirror) });
  }
  (spec.builders ?? []).forEach((b, i) => {
    refs.push({ property: `builders[${i}].image`, ref: resolveThroughMirror(b.image ?? defaultBuilderImage(spec.flavor), mirror) });
  });
  return refs;
}

/**
 * The spec with every reference pinned to `digests[property]` (a reference that already has a
 * digest keeps it; the resolver is expected to have checked it), and the policy under which
 * the pinned spec renders: digests required from here on.
 */
export function applyPins(spec: ImageSpec, policy: EnvironmentPolicy, digests: Readonly<Record<string, string>>): { spec: ImageSpec; policy: EnvironmentPolicy } {
  const pinned = (property: string, ref: string): string => pinReference(property, ref, digests);
  const refs = new Map(baseReferences(spec, policy.mirror).map((r) => [r.property, r.ref]));
  const base = refs.get("base");
  const out: ImageSpec = {
    ...spec,
    ...(base === undefined ? {} : { base: pinned("base", base) }),
    ...(spec.builders === undefined ? {} : { builders: spec.builders.map((b, i) => ({ ...b, image: pinned(`builders[${i}].image`, refs.get(`builders[${i}].image`) as string) })) }),
  };
  return { spec: out, policy: { ...policy, allowTagOnlyBases: false } };
}

/**
 * A prepared image with its tag-only references pinned to `digests[property]`: the same result
 * as preparing `applyPins(spec, policy, digests)`, without validating the spec again.
 */
export function pinResolved(image: ResolvedImage, digests: Readonly<Record<string, string>>): ResolvedImage {
  const pinned = (property: string, ref: string): string => pinReference(property, ref, digests);
  const base = image.base === undefined ? undefined : pinned("base", image.base);
  return {
    ...image,
    base,
    baseRef: base === undefined ? undefined : parseReference(base),
    builders: image.builders.map((b, i) => ({ ...b, image: pinned(`builders[${i}].image`, b.image) })),
  };
}

/** `ref` with the digest found for `property` (a reference that has a digest keeps it). */
function pinReference(property: string, ref: string, digests: Readonly<Record<string, string>>): string {
  const parsed = parseReference(ref);
  const digest = parsed.digest ?? digests[property];
  if (digest === undefined) {
    throw new Error(`no digest for ${property} "${ref}"`);
  }
  return formatReference({ ...parsed, digest });
}
