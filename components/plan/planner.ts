/**
 * Builds the plan of one image: pin -> render -> build -> push -> verify. Every step carries
 * its full command; the same plan runs locally (executors/local.ts) and as a POSIX script
 * (script.ts) that the CodeBuild and Kubernetes executors wrap.
 */
import { createHash } from "crypto";
import { throwIfIssues } from "../render/issues";
import { cosignAttestArgs, cosignSignArgs, cosignVerifyArgs, cosignVerifyAttestationArgs } from "../signing/cosign";
import { GATE_DEFAULTS, GatePolicy } from "../signing/gate";
import { AttestationKind, SIGNING_DEFAULTS, SigningPlan } from "../signing/types";
import { EnvironmentPolicy, ImageSpec, Platform } from "../spec/types";
import { promotionStoreIssues } from "./promotion-store";
import { Plan, resultRef, Step, STEP_KINDS, StepKind } from "./types";

/** Where one image goes and where its files live. */
export interface ImageTarget {
  /** `host[:port]/path` of the image's repository (no tag, no digest). */
  readonly repository: string;
  /** Registry prefix that serves host-less base and builder references (the pull-through cache). */
  readonly mirror: string;
  /** Plain HTTP to the registry and mirror: only ever true for a loopback registry. */
  readonly insecure: boolean;
  /** Release prefix of the content tag. @default "v" */
  readonly tagPrefix?: string;
  /** Directory for this image's files and results, relative to the working directory.
   *  @default `.golden/run/<image name with / as ->` */
  readonly workDir?: string;
  /** Sign, attest, gate, verify and promote after the push. @default none: the plan ends at verify */
  readonly supplyChain?: SupplyChainTarget;
}

/** What the steps after the push need. Plain data: no secret (keys are cosign key references). */
export interface SupplyChainTarget {
  readonly signing: SigningPlan;
  readonly gate: GatePolicy;
  /** Where the promotion records live (see PROMOTION_STORE_KINDS): a directory relative to the
   *  working directory (`<image>.json`), `ssm:/path` (SSM parameters `<path>/<image>` holding the
   *  approved reference, and `<path>/<image>/record`), or `configmap:<namespace>/<name>`. A record
   *  is replaced only by a run whose every check passed. */
  readonly promotionStore: string;
  /** URI naming the executor in the provenance, e.g. `urn:pulumi-golden-image:executor:local`. */
  readonly builderId: string;
  /** Source revision for the provenance when the spec gives none (the checkout's commit). */
  readonly revision?: string;
  /** Fingerprint of the verification key (e.g. sha256 of the public key), so a new key makes every
   *  image build and sign again instead of being skipped as unchanged. @default none */
  readonly keyFingerprint?: string;
  /** Build even when the inputs equal the promoted ones (e.g. after a new CVE, to scan again).
   *  @default false: an unchanged image is skipped after render */
  readonly rebuild?: boolean;
}

/** What a promotion is judged by besides the content tag: the gate and the signing settings. */
export function supplyChainSettingsDigest(chain: SupplyChainTarget): string {
  const settings = { gate: chain.gate, signing: chain.signing, ...(chain.keyFingerprint !== undefined ? { key: chain.keyFingerprint } : {}) };
  return `sha256:${createHash("sha256").update(JSON.stringify(settings)).digest("hex")}`;
}

export const PLAN_DEFAULTS = { tagPrefix: "v", workRoot: ".golden/run" } as const;

/** The file the pin step reads: the spec as written and the environment's rules. */
export interface PinInput {
  readonly spec: ImageSpec;
  readonly policy: EnvironmentPolicy;
}

export function imageWorkDir(image: string): string {
  return `${PLAN_DEFAULTS.workRoot}/${image.replace(/\//g, "-")}`;
}

/** The five steps of one image. The spec must have passed validation. */
export function planImage(spec: ImageSpec, policy: EnvironmentPolicy, target: ImageTarget): Step[] {
  return imageSteps(spec, policy, target).map((s) => ({ ...s, repository: target.repository }));
}

function imageSteps(spec: ImageSpec, policy: EnvironmentPolicy, target: ImageTarget): Step[] {
  const w = target.workDir ?? imageWorkDir(spec.name);
  const id = (kind: string) => `${spec.name}:${kind}`;
  const insecure = target.insecure ? ["--insecure"] : [];
  const context = normalizeContext(spec.context ?? ".");
  const platforms: readonly Platform[] = spec.platforms ?? ["linux/amd64"];
  const tag = resultRef(id("render"), "tag");
  const taggedRef = `${target.repository}:${tag}`;
  const input: PinInput = { spec, policy };

  const pin: Step = {
    id: id("pin"),
    kind: "pin",
    image: spec.name,
    description: `pin every base and builder of ${spec.name} to the digest ${target.mirror} serves`,
    needs: [],
    run: { tool: "golden", args: ["step", "pin", "--spec", `${w}/spec.json`, "--mirror", target.mirror, ...insecure, "--output", `${w}/pinned.json`] },
    files: { [`${w}/spec.json`]: `${JSON.stringify(input, null, 2)}\n` },
    outputs: { pinned: `${w}/pinned.json` },
    gate: true,
  };
  const render: Step = {
    id: id("render"),
    kind: "render",
    image: spec.name,
    description: `render, validate and lint the Dockerfile of ${spec.name}; compute its content tag`,
    needs: [pin.id],
    run: {
      tool: "golden",
      args: ["step", "render", "--spec", `${w}/pinned.json`, "--context", context, "--tag-prefix", target.tagPrefix ?? PLAN_DEFAULTS.tagPrefix, "--output-dir", `${w}/render`],
    },
    files: {},
    outputs: { dockerfile: `${w}/render/Dockerfile`, tag: `${w}/render/tag` },
    gate: true,
  };
  const build: Step = {
    id: id("build"),
    kind: "build",
    image: spec.name,
    description: `build ${spec.name} with BuildKit, timestamps rewritten to SOURCE_DATE_EPOCH (reproducible)`,
    needs: [render.id],
    run: {
      tool: "buildctl",
      args: [
        "build",
        "--frontend",
        "dockerfile.v0",
        "--local",
        `context=${context}`,
        "--local",
        `dockerfile=${w}/render`,
        "--opt",
        "filename=Dockerfile",
        "--opt",
        `platform=${platforms.join(",")}`,
        "--opt",
        `build-arg:SOURCE_DATE_EPOCH=${policy.sourceDateEpoch ?? 0}`,
        "--output",
        `type=oci,dest=${w}/image.oci.tar,rewrite-timestamp=true`,
        "--metadata-file",
        `${w}/build.json`,
      ],
    },
    files: {},
    outputs: { image: `${w}/image.oci.tar`, metadata: `${w}/build.json` },
    gate: true,
  };
  const push: Step = {
    id: id("push"),
    kind: "push",
    image: spec.name,
    description: `push ${spec.name} to ${target.repository} under its content tag, digests preserved`,
    needs: [build.id],
    run: {
      tool: "skopeo",
      args: [
        "copy",
        "--all",
        "--preserve-digests",
        ...(target.insecure ? ["--dest-tls-verify=false"] : []),
        "--digestfile",
        `${w}/push.digest`,
        "--",
        `oci-archive:${w}/image.oci.tar`,
        `docker://${taggedRef}`,
      ],
    },
    files: {},
    outputs: { digest: `${w}/push.digest` },
    gate: true,
  };
  const verify: Step = {
    id: id("verify"),
    kind: "verify",
    image: spec.name,
    description: `check the registry serves ${spec.name} at the digest that was built and pushed`,
    needs: [build.id, push.id],
    run: {
      tool: "golden",
      args: ["step", "verify", "--ref", taggedRef, "--digest-file", `${w}/push.digest`, "--metadata", `${w}/build.json`, ...insecure, "--output", `${w}/verified.ref`],
    },
    files: {},
    outputs: { ref: `${w}/verified.ref` },
    gate: true,
  };
  if (target.supplyChain === undefined) {
    return [pin, render, build, push, verify];
  }
  const chain = target.supplyChain;
  throwIfIssues("Invalid supply-chain target", promotionStoreIssues(chain.promotionStore, "supplyChain.promotionStore"));
  const later = [build, push, verify, ...supplyChainSteps(spec, target, chain, w)];
  if (chain.rebuild === true) {
    return [pin, render, ...later];
  }
  // Skip when unchanged: the content tag (the rendered Dockerfile with its pinned base digests,
  // the context, platforms, build args) and the supply-chain settings equal the promoted ones,
  // and the registry still serves the promoted digest.
  const decide: Step = {
    id: id("decide"),
    kind: "decide",
    image: spec.name,
    description: `skip ${spec.name} when its inputs equal the promoted ones`,
    needs: [render.id],
    run: {
      tool: "golden",
      args: [
        "step",
        "decide",
        "--image",
        spec.name,
        "--repository",
        target.repository,
        "--tag",
        tag,
        "--settings",
        supplyChainSettingsDigest(chain),
        "--store",
        chain.promotionStore,
        ...insecure,
        "--output",
        `${w}/decision`,
      ],
    },
    files: {},
    outputs: { decision: `${w}/decision` },
    gate: true,
  };
  const runIf = { step: decide.id, output: "decision", equals: "build" };
  return [pin, render, decide, ...later.map((s) => ({ ...s, needs: s.id === build.id ? [decide.id] : s.needs, runIf }))];
}

/**
 * After the push: SBOM, scan, assess (the gate's verdict and the scan report predicate), the scan
 * report attestation (kept whether the gate passes or not), the gate, the signature, provenance,
 * the other attestations, their verification, and promotion. Everything works on the digest the
 * verify step proved the registry serves, never on a tag.
 */
function supplyChainSteps(spec: ImageSpec, target: ImageTarget, chain: SupplyChainTarget, w: string): Step[] {
  const id = (kind: StepKind) => `${spec.name}:${kind}`;
  const ref = resultRef(id("verify"), "ref");
  const insecure = target.insecure;
  const scanner = chain.gate.scanner ?? GATE_DEFAULTS.scanner;
  const classic = (chain.signing.format ?? SIGNING_DEFAULTS.format) === "classic";
  const step = (kind: StepKind, description: string, needs: StepKind[], run: Step["run"], outputs: Record<string, string> = {}, files: Record<string, string> = {}): Step => ({
    id: id(kind),
    kind,
    image: spec.name,
    description,
    needs: needs.map(id),
    run,
    files,
    outputs,
    gate: true,
  });
  const plainHttp = (prefix: string): Record<string, string> => (insecure ? { [`${prefix}_REGISTRY_INSECURE_USE_HTTP`]: "true" } : {});
  const attest = (kind: AttestationKind, predicate: string) => ({ tool: "cosign" as const, args: cosignAttestArgs(chain.signing, kind, predicate, ref, insecure) });
  const verifyAttestation = (kind: AttestationKind) => ({ tool: "cosign" as const, args: cosignVerifyAttestationArgs(chain.signing, kind, ref, insecure) });
  // A multi-platform image is an index: the SBOM and the scan are made for every platform (the
  // tools would otherwise read only the one matching this machine), the gate judges them all,
  // and every platform's SBOM is attested on the index. One platform: no --platform, the plan of
  // a single-platform image stays what it was.
  const platforms: readonly Platform[] = spec.platforms ?? ["linux/amd64"];
  const multi = platforms.length > 1;
  const slug = (p: Platform) => p.replace(/\//g, "-");
  const extra = platforms.slice(1).map((p) => ({ platform: p, slug: slug(p) }));
  const platformArgs = (p: Platform): string[] => (multi ? ["--platform", p] : []);
  const sbomRun = (p: Platform, dir: string): Step["run"] => ({
    tool: "syft",
    args: ["scan", `registry:${ref}`, ...platformArgs(p), "--output", `cyclonedx-json=${dir}/sbom.cdx.json`, "--output", `spdx-json=${dir}/sbom.spdx.json`],
    env: { SYFT_CHECK_FOR_APP_UPDATE: "false", ...plainHttp("SYFT") },
  });
  const scanRun = (p: Platform, report: string): Step["run"] =>
    scanner === "grype"
      ? { tool: "grype", args: [`registry:${ref}`, ...platformArgs(p), "--output", "json", "--file", report], env: { GRYPE_CHECK_FOR_APP_UPDATE: "false", ...plainHttp("GRYPE") } }
      : { tool: "trivy", args: ["image", "--scanners", "vuln", "--image-src", "remote", ...platformArgs(p), "--format", "json", "--output", report, ...(insecure ? ["--insecure"] : []), ref] };
  const withId = (s: Step, suffix: string, needs: string[]): Step => ({ ...s, id: suffix === "" ? s.id : `${s.id}-${suffix}`, needs });
  const sbomOf = (e: { platform: Platform; slug: string }) =>
    withId(step("sbom", `SBOMs of ${spec.name} for ${e.platform} (CycloneDX and SPDX)`, ["verify"], sbomRun(e.platform, `${w}/sbom/${e.slug}`), { cyclonedx: `${w}/sbom/${e.slug}/sbom.cdx.json`, spdx: `${w}/sbom/${e.slug}/sbom.spdx.json` }), e.slug, [id("verify")]);
  const scanOf = (e: { platform: Platform; slug: string }) =>
    withId(step("scan", `scan ${spec.name} for ${e.platform} with ${scanner}`, ["verify"], scanRun(e.platform, `${w}/scan/report-${e.slug}.json`), { report: `${w}/scan/report-${e.slug}.json` }), e.slug, [id("verify")]);
  const attestSbomOf = (e: { platform: Platform; slug: string }) =>
    withId(step("attest-sbom", `attest the CycloneDX SBOM of ${spec.name} for ${e.platform}`, ["sign"], attest("sbom", `${w}/sbom/${e.slug}/sbom.cdx.json`)), e.slug, [`${id("sbom")}-${e.slug}`, id("sign")]);
  const platformSboms = extra.map(sbomOf);
  const platformScans = extra.map(scanOf);
  const platformSbomAttestations = extra.map(attestSbomOf);
  return [
    step(
      "sbom",
      `SBOMs of ${spec.name}${multi ? ` for ${platforms[0]}` : ""} (CycloneDX and SPDX) from the pushed digest`,
      ["verify"],
      sbomRun(platforms[0], `${w}/sbom`),
      { cyclonedx: `${w}/sbom/sbom.cdx.json`, spdx: `${w}/sbom/sbom.spdx.json` },
    ),
    ...platformSboms,
    step("scan", `scan ${spec.name}${multi ? ` for ${platforms[0]}` : ""} for vulnerabilities with ${scanner}`, ["verify"], scanRun(platforms[0], `${w}/scan/report.json`), { report: `${w}/scan/report.json` }),
    ...platformScans,
    withId(
      step(
        "assess",
        `apply the gate policy to the scan${multi ? "s of every platform" : ""} of ${spec.name}; write the verdict and the scan report predicate`,
        ["scan"],
        {
          tool: "golden",
          args: [
            "step",
            "assess",
            "--scanner",
            scanner,
            "--report",
            `${w}/scan/report.json`,
            ...extra.flatMap((e) => ["--platform-report", `${w}/scan/report-${e.slug}.json`]),
            "--policy",
            `${w}/scan/gate-policy.json`,
            "--output-dir",
            `${w}/scan`,
          ],
        },
        { verdict: `${w}/scan/verdict.json`, predicate: `${w}/scan/vuln.json` },
        { [`${w}/scan/gate-policy.json`]: `${JSON.stringify(chain.gate, null, 2)}\n` },
      ),
      "",
      [id("scan"), ...platformScans.map((x) => x.id)],
    ),
    step("gate", `the vulnerability gate of ${spec.name}: nothing at or above ${chain.gate.severity ?? GATE_DEFAULTS.severity} unexcused, no expired ignore entry`, ["assess"], {
      tool: "golden",
      args: ["step", "gate", "--verdict", `${w}/scan/verdict.json`],
    }),
    // Classic format: the scan report is attested whether the gate passes or not (an `.att` is
    // not a signature). Bundle format: cosign verify accepts ANY bundle of the key as the image's
    // signature, so a failed image's report is not attested (it stays in the run's files).
    classic
      ? step("attest-scan", `attest the scan report of ${spec.name} (kept whether the gate passes or not)`, ["assess"], attest("scan", `${w}/scan/vuln.json`))
      : step("attest-scan", `attest the scan report of ${spec.name} (bundle format: only after the gate passed)`, ["assess", "gate"], attest("scan", `${w}/scan/vuln.json`)),
    step("sign", `sign ${spec.name} by digest (${chain.signing.mode})`, ["gate"], { tool: "cosign", args: cosignSignArgs(chain.signing, ref, insecure) }),
    step(
      "provenance",
      `SLSA provenance of ${spec.name}: the rendered Dockerfile's digest, the base digests, the source revision`,
      ["pin", "render", "verify"],
      {
        tool: "golden",
        args: [
          "step",
          "provenance",
          "--pinned",
          `${w}/pinned.json`,
          "--dockerfile",
          `${w}/render/Dockerfile`,
          "--tag",
          resultRef(id("render"), "tag"),
          ...(chain.revision !== undefined ? ["--revision", chain.revision] : []),
          "--builder-id",
          chain.builderId,
          "--output",
          `${w}/provenance.json`,
        ],
      },
      { predicate: `${w}/provenance.json` },
    ),
    step("attest-sbom", `attest the CycloneDX SBOM of ${spec.name}${multi ? ` for ${platforms[0]}` : ""}`, ["sbom", "sign"], attest("sbom", `${w}/sbom/sbom.cdx.json`)),
    ...platformSbomAttestations,
    step("attest-provenance", `attest the SLSA provenance of ${spec.name}`, ["provenance", "sign"], attest("provenance", `${w}/provenance.json`)),
    step("verify-signature", `verify the signature of ${spec.name} with the ${chain.signing.mode === "keyless" ? "expected identity" : "public key"}`, ["sign"], {
      tool: "cosign",
      args: cosignVerifyArgs(chain.signing, ref, insecure),
    }),
    { ...step("verify-sbom", `verify the SBOM attestation of ${spec.name}`, ["attest-sbom"], verifyAttestation("sbom")), needs: [id("attest-sbom"), ...platformSbomAttestations.map((x) => x.id)] },
    step("verify-scan", `verify the scan report attestation of ${spec.name}`, ["attest-scan", "gate"], verifyAttestation("scan")),
    step("verify-provenance", `verify the provenance attestation of ${spec.name}`, ["attest-provenance"], verifyAttestation("provenance")),
    step(
      "promote",
      `record ${spec.name}'s digest as approved (only after every check passed)`,
      ["verify-signature", "verify-sbom", "verify-scan", "verify-provenance"],
      {
        tool: "golden",
        args: [
          "step",
          "promote",
          "--image",
          spec.name,
          "--ref",
          ref,
          "--tag",
          resultRef(id("render"), "tag"),
          "--settings",
          supplyChainSettingsDigest(chain),
          "--verdict",
          `${w}/scan/verdict.json`,
          "--store",
          chain.promotionStore,
          "--output",
          `${w}/promoted.json`,
        ],
      },
      { record: `${w}/promoted.json` },
    ),
  ];
}

/** Kinds of the steps a plan with a supply chain adds after verify, in order (for docs and tests). */
export const SUPPLY_CHAIN_KINDS: readonly StepKind[] = STEP_KINDS.slice(STEP_KINDS.indexOf("sbom"));

/** The plan of every image, in the order given. */
export function planImages(specs: readonly ImageSpec[], policy: EnvironmentPolicy, target: (spec: ImageSpec) => ImageTarget): Plan {
  return { version: 1, steps: specs.flatMap((s) => planImage(s, policy, target(s))) };
}

/** `./images/hello/` -> `images/hello`: one spelling per directory, so plans and tags compare. */
export function normalizeContext(context: string): string {
  const parts = context.split("/").filter((p) => p !== "" && p !== ".");
  return parts.length === 0 ? "." : parts.join("/");
}
