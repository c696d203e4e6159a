/**
 * The per-environment program: GoldenImagePipeline composed from the stack's config
 * (Pulumi.<env>.yaml). A config mistake stops the preview with one report naming the keys.
 */
import * as pulumi from "@pulumi/pulumi";
import { GoldenImagePipeline } from "../components/pipeline";
import { signingKeyArgsFromSettings } from "../components/signing/signing-key";
import { CONFIG_NAMESPACE, parseStackConfig, StackConfig } from "./config";

/** Reads every `golden-images:*` key; values set as YAML objects arrive as JSON text. */
export function readStackConfig(): StackConfig {
  const values: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(pulumi.runtime.allConfig())) {
    const [ns, short] = key.split(":", 2);
    if (ns !== CONFIG_NAMESPACE || short === undefined) {
      continue;
    }
    values[short] = decode(raw);
  }
  // A ValidationError is a Pulumi RunError: the CLI prints the report, not a stack trace.
  return parseStackConfig(values);
}

function decode(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

export function createStack(): GoldenImagePipeline {
  const config = readStackConfig();
  const { type, ...registry } = config.registry;
  return new GoldenImagePipeline(`golden-${config.policy.environment}`, {
    registry: { type, ...(registry as object) },
    images: config.images,
    policy: config.policy,
    // Pulumi runs the program from the project directory, where the contexts live.
    build: { baseDirectory: "." },
    signing: signingKeyArgsFromSettings(config.signing),
    gate: config.gate,
    ...(config.rebuild !== undefined ? { rebuild: config.rebuild } : {}),
  });
}
