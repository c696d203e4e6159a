/**
 * The one table from `registry.type` to a backend. The pipeline, the stack config and the
 * executors look backends up here; a new backend registers itself and touches nothing else.
 */
import * as pulumi from "@pulumi/pulumi";
import { ValidationIssue } from "../render/issues";
import { EcrRegistry, validateEcrRegistryArgs } from "./ecr-registry";
import { HarborRegistry, validateHarborRegistryArgs } from "./harbor-registry";
import { Registry } from "./registry";

export interface RegistryBackend {
  /** Every problem of the backend's arguments (`type` removed); paths relative to them. */
  validate(args: Readonly<Record<string, unknown>>, images: readonly string[]): ValidationIssue[];
  /** Creates (or wraps) the registry; called only after `validate` found nothing. */
  create(name: string, args: Readonly<Record<string, unknown>>, images: readonly string[], opts: pulumi.ComponentResourceOptions): Registry;
  /** Whether the stack config (YAML) can select it; `existing` takes an object made in code. @default true */
  readonly fromConfig?: boolean;
}

const BACKENDS = new Map<string, RegistryBackend>();

/** Adds a backend under `type`. Throws when the type is taken (one table, no silent override). */
export function registerRegistryBackend(type: string, backend: RegistryBackend): void {
  if (!/^[a-z][a-z0-9-]*$/.test(type)) {
    throw new Error(`registry type "${type}" is not a lowercase name. Fix: use e.g. "harbor"`);
  }
  if (BACKENDS.has(type)) {
    throw new Error(`registry type "${type}" is already registered. Fix: pick another type name`);
  }
  BACKENDS.set(type, backend);
}

export function registryBackend(type: unknown): RegistryBackend | undefined {
  return typeof type === "string" ? BACKENDS.get(type) : undefined;
}

/** Registered types, sorted; `configOnly` leaves out those the stack config cannot select. */
export function registryTypes(configOnly = false): string[] {
  return [...BACKENDS.entries()]
    .filter(([, b]) => !configOnly || b.fromConfig !== false)
    .map(([t]) => t)
    .sort();
}

registerRegistryBackend("ecr", {
  validate: (args, images) => validateEcrRegistryArgs({ ...(args as object), images } as Parameters<typeof validateEcrRegistryArgs>[0]),
  create: (name, args, images, opts) => new EcrRegistry(name, { ...(args as object), images } as ConstructorParameters<typeof EcrRegistry>[1], opts),
});

registerRegistryBackend("harbor", {
  validate: (args, images) => validateHarborRegistryArgs({ ...(args as object), images }),
  create: (name, args, images, opts) => new HarborRegistry(name, { ...(args as object), images } as ConstructorParameters<typeof HarborRegistry>[1], opts),
});

registerRegistryBackend("existing", {
  fromConfig: false,
  validate: (args) => {
    const r = args.registry as Partial<Registry> | undefined;
    return r !== null && typeof r === "object" && typeof r.repositoryUrl === "function" && typeof r.auth === "function"
      ? []
      : [{ path: "registry", value: r, problem: "is not a Registry", fix: "pass a registry object, e.g. new ExistingEcrRegistry(...)" }];
  },
  create: (_name, args) => args.registry as Registry,
});
