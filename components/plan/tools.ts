/**
 * The tool map: what each tool name in a plan stands for. An executor resolves a name to a
 * command through the environment variable, or the default command on PATH.
 */
import { ToolName } from "./types";

export interface ToolInfo {
  /** Environment variable that overrides the command (it may hold words, e.g. `node /x/golden.js`). */
  readonly env: string;
  /** Command on PATH when the variable is not set. */
  readonly command: string;
  readonly description: string;
}

export const TOOLS: Readonly<Record<ToolName, ToolInfo>> = {
  golden: { env: "GOLDEN_CLI", command: "golden", description: "this library's CLI: pin bases, render and lint, verify pushes" },
  buildctl: { env: "GOLDEN_BUILDCTL", command: "buildctl", description: "BuildKit client (v0.25); BUILDKIT_HOST names the daemon" },
  skopeo: { env: "GOLDEN_SKOPEO", command: "skopeo", description: "copies the built OCI archive to the registry with digests preserved" },
  cosign: { env: "GOLDEN_COSIGN", command: "cosign", description: "Sigstore cosign (v3): signs, attests and verifies by digest; COSIGN_PASSWORD unlocks a key pair" },
  syft: { env: "GOLDEN_SYFT", command: "syft", description: "Anchore Syft: CycloneDX and SPDX SBOMs of the pushed image" },
  grype: { env: "GOLDEN_GRYPE", command: "grype", description: "Anchore Grype: vulnerability scan of the pushed image (its database through GRYPE_DB_*)" },
  trivy: { env: "GOLDEN_TRIVY", command: "trivy", description: "Aqua Trivy: vulnerability scan of the pushed image (its database through TRIVY_*)" },
};
