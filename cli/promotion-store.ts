/**
 * The promotion store behind `golden step decide` and `golden step promote`: a directory, SSM
 * parameters (through the AWS CLI) or a ConfigMap (through kubectl). The CLIs come from
 * GOLDEN_AWS / GOLDEN_KUBECTL (default: on PATH) and take their credentials from their own
 * environment (the CodeBuild role, the pod's service account); nothing secret passes through here.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { configMapKeys, describePromotionStore, parsePromotionStore, PromotionStoreRef, ssmPointerName, ssmRecordName } from "../components/plan/promotion-store";
import { oneLine } from "../components/render/issues";
import type { EnvironmentPolicy, ImageSpec } from "../components/spec/types";

/** What `golden step promote` records: the approved digest of one image. */
export interface PromotionRecord {
  readonly image: string;
  /** `host/repository@sha256:...` */
  readonly ref: string;
  readonly digest: string;
  /** The gate's verdict summary at promotion. */
  readonly gate: string;
  /** The content tag built (it hashes the rendered Dockerfile with its base digests, the context, platforms, build args). */
  readonly tag: string;
  /** Digest of the gate and signing settings it was promoted under. */
  readonly settings: string;
  /** What was built, for `golden diff`. Directory stores only (an SSM parameter holds 4 KB);
   *  absent in records written before `golden diff` existed. */
  readonly built?: BuiltInputs;
}

/** The inputs of a promoted build, so `golden diff` can compare a stack with it offline. */
export interface BuiltInputs {
  /** The image spec as the stack wrote it. */
  readonly spec: ImageSpec;
  /** The stack's environment policy as written. */
  readonly policy: EnvironmentPolicy;
  /** The mirror the bases were pinned through. */
  readonly mirror: string;
  /** Every base and builder reference as pinned (`host/path:tag@sha256:...`), by spec property: `base`, `builders[0].image`. */
  readonly pins: Readonly<Record<string, string>>;
  /** The rendered, digest-pinned Dockerfile that was built. */
  readonly dockerfile: string;
}

/** A store could not be read or written: the message names the store, the command's words and the fix. */
export class PromotionStoreError extends Error {}

export interface PromotionStore {
  readonly description: string;
  /** The record of an image, or undefined when it has none. Throws PromotionStoreError when the store cannot be read. */
  read(image: string): PromotionRecord | undefined;
  /** Replaces the image's record and pointer at once (or pointer first, record second, so a torn write rebuilds). */
  write(record: PromotionRecord): void;
}

export function openPromotionStore(store: string, env: NodeJS.ProcessEnv = process.env): PromotionStore {
  const ref = parsePromotionStore(store);
  switch (ref.kind) {
    case "directory":
      return directoryStore(ref.path);
    case "ssm":
      return ssmStore(ref, env);
    case "configmap":
      return configMapStore(ref, env);
  }
}

function parseRecord(text: string | undefined): PromotionRecord | undefined {
  if (text === undefined) {
    return undefined;
  }
  try {
    const r = JSON.parse(text) as PromotionRecord;
    return typeof r.ref === "string" && typeof r.digest === "string" ? r : undefined;
  } catch {
    return undefined;
  }
}

export function recordText(record: PromotionRecord): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}

function directoryFile(dir: string, image: string): string {
  return path.join(dir, `${image.replace(/\//g, "-")}.json`);
}

function directoryStore(dir: string): PromotionStore {
  return {
    description: `directory ${dir}`,
    read: (image) => {
      try {
        return parseRecord(fs.readFileSync(directoryFile(dir, image), "utf8"));
      } catch {
        return undefined;
      }
    },
    write: (record) => {
      // A write then a rename: a reader sees the old record or the new one, never a torn one.
      const file = directoryFile(dir, record.image);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, recordText(record));
      fs.renameSync(tmp, file);
    },
  };
}

interface Run {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv, store: PromotionStoreRef): Run {
  const words = command.split(/\s+/).filter((w) => w !== "");
  const r = spawnSync(words[0], [...words.slice(1), ...args], { encoding: "utf8", env, maxBuffer: 16 * 1024 * 1024 });
  if (r.error !== undefined) {
    const tool = store.kind === "ssm" ? "the AWS CLI (aws)" : "kubectl";
    const variable = store.kind === "ssm" ? "GOLDEN_AWS" : "GOLDEN_KUBECTL";
    throw new PromotionStoreError(`cannot run ${words[0]} for the ${describePromotionStore(store)}: ${r.error.message}. Fix: install ${tool} or set ${variable} to its path`);
  }
  return { status: r.status ?? 1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

function failure(store: PromotionStoreRef, what: string, r: Run, fix: string): PromotionStoreError {
  const detail = oneLine(r.stderr.trim().split("\n").filter((l) => l.trim() !== "").slice(-2).join(" ")) || `exit code ${r.status}`;
  return new PromotionStoreError(`${what} in the ${describePromotionStore(store)} failed: ${detail}. Fix: ${fix}`);
}

function ssmStore(ref: Extract<PromotionStoreRef, { kind: "ssm" }>, env: NodeJS.ProcessEnv): PromotionStore {
  const aws = env.GOLDEN_AWS ?? "aws";
  const fix = "check the role may ssm:GetParameter and ssm:PutParameter on this path, and AWS_REGION";
  const put = (name: string, value: string, description: string) => {
    const input = JSON.stringify({ Name: name, Value: value, Type: "String", Overwrite: true, Tier: "Standard", Description: description });
    const r = run(aws, ["ssm", "put-parameter", "--cli-input-json", input, "--output", "json"], env, ref);
    if (r.status !== 0) {
      throw failure(ref, `writing ${name}`, r, fix);
    }
  };
  return {
    description: describePromotionStore(ref),
    read: (image) => {
      const name = ssmRecordName(ref.path, image);
      const r = run(aws, ["ssm", "get-parameter", "--name", name, "--query", "Parameter.Value", "--output", "text"], env, ref);
      if (r.status !== 0) {
        if (/ParameterNotFound/.test(r.stderr)) {
          return undefined;
        }
        throw failure(ref, `reading ${name}`, r, fix);
      }
      return parseRecord(r.stdout);
    },
    write: (record) => {
      // The pointer first, the record second: when the second write fails, the next run finds no
      // matching record and builds again (safe); never a record claiming a pointer not written.
      put(ssmPointerName(ref.path, record.image), record.ref, `approved digest of ${record.image} (pulumi-golden-image)`);
      put(ssmRecordName(ref.path, record.image), recordText(record), `promotion record of ${record.image} (pulumi-golden-image)`);
    },
  };
}

function configMapStore(ref: Extract<PromotionStoreRef, { kind: "configmap" }>, env: NodeJS.ProcessEnv): PromotionStore {
  const kubectl = env.GOLDEN_KUBECTL ?? "kubectl";
  const fix = `check that the ConfigMap ${ref.name} exists in ${ref.namespace} and the service account may get and patch it`;
  return {
    description: describePromotionStore(ref),
    read: (image) => {
      const r = run(kubectl, ["get", "configmap", ref.name, "--namespace", ref.namespace, "--output", "json"], env, ref);
      if (r.status !== 0) {
        throw failure(ref, "reading", r, fix);
      }
      let data: Record<string, string> = {};
      try {
        data = (JSON.parse(r.stdout) as { data?: Record<string, string> }).data ?? {};
      } catch {
        throw new PromotionStoreError(`reading the ${describePromotionStore(ref)} returned no JSON. Fix: ${fix}`);
      }
      return parseRecord(data[configMapKeys(image).record]);
    },
    write: (record) => {
      // One merge patch sets the pointer and the record together.
      const keys = configMapKeys(record.image);
      const patch = JSON.stringify({ data: { [keys.pointer]: record.ref, [keys.record]: recordText(record) } });
      const r = run(kubectl, ["patch", "configmap", ref.name, "--namespace", ref.namespace, "--type", "merge", "--patch", patch], env, ref);
      if (r.status !== 0) {
        throw failure(ref, "writing", r, fix);
      }
    },
  };
}
