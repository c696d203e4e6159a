/**
 * The CodeBuild executor's buildspec, rendered from the plan's script: install the pinned
 * toolchain (module checksums checked), start BuildKit, log in to the registries, run the plan.
 * Pure and deterministic: the same plan renders the same bytes, so `pulumi preview` shows a
 * buildspec diff only when the plan changed, and the diff reads as the plan's own lines.
 */
import { stringify } from "yaml";
import { joinPath, throwIfIssues, ValidationIssue } from "../render/issues";
import { planEnvironmentNames, renderPlanScript } from "./script";
import { GO_TOOL_OF, GO_TOOLCHAIN, GoToolName, renderToolInstallScript } from "./toolchain";
import { TOOLS } from "./tools";
import { Plan } from "./types";

/** The CodeBuild runtimes the toolchain builds with (Amazon Linux 2023 standard image 5.0). */
export const CODEBUILD_RUNTIMES = { golang: "1.26", nodejs: "22" } as const;
/** Where the executor keeps what survives between builds (the project's cache paths). */
export const CODEBUILD_CACHE_ROOT = "/root/.cache/pulumi-golden-image";
export const BUILDKIT_SOCKET = "unix:///run/buildkit/buildkitd.sock";
/** Where the build writes the scripts it runs and BuildKit's log (outside the source checkout). */
export const CODEBUILD_WORK_DIR = "/var/golden";

export interface BuildspecArgs {
  readonly plan: Plan;
  /** Registry hosts the plan pushes to and pulls from (ECR: `<account>.dkr.ecr.<region>.<suffix>`), logged in with the build role. */
  readonly registryHosts: readonly string[];
  /** Version of this library's CLI the build installs from npm (the same release as the program). */
  readonly goldenVersion: string;
  /** Keypair signing: the Secrets Manager secret (its ARN) holding, as JSON keys, every variable the
   *  plan's key references name (`COSIGN_PRIVATE_KEY`, `COSIGN_PUBLIC_KEY`) and `COSIGN_PASSWORD`. @default none */
  readonly signingSecretArn?: string;
}

const HOST = /^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(?::\d{1,5})?$/;
const SECRET_ARN = /^arn:aws(?:-[a-z]+)*:secretsmanager:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;
const SEMVER = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/;

export function buildspecIssues(args: BuildspecArgs, path = ""): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (args.registryHosts.length === 0) {
    issues.push({ path: joinPath(path, "registryHosts"), value: args.registryHosts, problem: "must not be empty", fix: "give the registry host of the golden repositories" });
  }
  args.registryHosts.forEach((h, i) => {
    if (!HOST.test(h)) {
      issues.push({ path: joinPath(joinPath(path, "registryHosts"), i), value: h, problem: "is not a registry host", fix: "give HOST[:PORT] without scheme or path" });
    }
  });
  if (!SEMVER.test(args.goldenVersion)) {
    issues.push({ path: joinPath(path, "goldenVersion"), value: args.goldenVersion, problem: "is not a release version", fix: 'give the package version, e.g. "0.1.0"' });
  }
  if (args.signingSecretArn !== undefined && !SECRET_ARN.test(args.signingSecretArn)) {
    issues.push({ path: joinPath(path, "signingSecretArn"), value: args.signingSecretArn, problem: "is not a Secrets Manager secret ARN", fix: "give the secret's arn output" });
  }
  const names = planEnvironmentNames(args.plan);
  if (names.length > 0 && args.signingSecretArn === undefined) {
    issues.push({ path: joinPath(path, "signingSecretArn"), value: undefined, problem: `is required: the plan reads ${names.join(", ")} from the environment`, fix: "give the Secrets Manager secret holding them as JSON keys, or sign with a KMS key" });
  }
  return issues;
}

/** The Go tools a plan's steps use. */
export function goToolsOf(plan: Plan): GoToolName[] {
  const tools = new Set<GoToolName>();
  for (const step of plan.steps) {
    const go = GO_TOOL_OF[step.run.tool];
    if (go !== undefined) {
      tools.add(go);
    }
  }
  return [...tools].sort();
}

/** A here-document delimiter that no line of `text` equals. */
function delimiter(text: string, base: string): string {
  const lines = new Set(text.split("\n"));
  let d = base;
  for (let i = 2; lines.has(d); i++) {
    d = `${base}_${i}`;
  }
  return d;
}

function heredoc(file: string, text: string, base: string): string {
  const d = delimiter(text, base);
  return `cat > ${file} <<'${d}'\n${text.endsWith("\n") ? text : `${text}\n`}${d}\n`;
}

export function renderBuildspec(args: BuildspecArgs): string {
  throwIfIssues("Invalid CodeBuild buildspec", buildspecIssues(args));
  const tools = goToolsOf(args.plan);
  const script = renderPlanScript(args.plan);
  const secrets = args.signingSecretArn !== undefined ? planEnvironmentNames(args.plan) : [];
  const variables: Record<string, string> = {
    GOLDEN_STATE_DIR: CODEBUILD_CACHE_ROOT,
    GOLDEN_TOOLS: `${CODEBUILD_CACHE_ROOT}/tools`,
    BUILDKIT_HOST: BUILDKIT_SOCKET,
    GOTOOLCHAIN: "auto",
    GRYPE_DB_CACHE_DIR: `${CODEBUILD_CACHE_ROOT}/grype-db`,
    TRIVY_CACHE_DIR: `${CODEBUILD_CACHE_ROOT}/trivy`,
    DOCKER_CONFIG: "/root/.docker",
  };
  const spec: Record<string, unknown> = {
    version: 0.2,
    env: {
      shell: "bash",
      variables,
      ...(secrets.length > 0 ? { "secrets-manager": Object.fromEntries(secrets.map((n) => [n, `${args.signingSecretArn}:${n}`])) } : {}),
    },
    phases: {
      install: {
        "runtime-versions": { ...CODEBUILD_RUNTIMES },
        commands: [
          `mkdir -p ${CODEBUILD_WORK_DIR}`,
          `npm install --global --no-fund --no-audit pulumi-golden-image@${args.goldenVersion}`,
          "dnf install -y -q skopeo",
          heredoc(`${CODEBUILD_WORK_DIR}/install-tools.sh`, renderToolInstallScript(tools), "GOLDEN_TOOLS_SCRIPT"),
          `sh ${CODEBUILD_WORK_DIR}/install-tools.sh`,
          'export PATH="$GOLDEN_TOOLS/bin:$PATH"',
          ...tools.map((t) => `echo "${t} ${GO_TOOLCHAIN[t].version} (${GO_TOOLCHAIN[t].sum})"`),
        ],
      },
      pre_build: {
        commands: [
          ...(tools.includes("buildkit")
            ? [
                "mkdir -p /run/buildkit",
                `(buildkitd --addr ${BUILDKIT_SOCKET} --oci-worker=true --containerd-worker=false > ${CODEBUILD_WORK_DIR}/buildkitd.log 2>&1 &)`,
                'for i in $(seq 1 60); do buildctl debug workers > /dev/null 2>&1 && break; sleep 1; done; buildctl debug workers',
              ]
            : []),
          ...args.registryHosts.map((h) => `aws ecr get-login-password --region "$AWS_REGION" | docker login --username AWS --password-stdin ${h}`),
        ],
      },
      build: {
        commands: [
          heredoc(`${CODEBUILD_WORK_DIR}/plan.sh`, script, "GOLDEN_PLAN"),
          `${TOOLS.golden.env}=golden sh ${CODEBUILD_WORK_DIR}/plan.sh`,
        ],
      },
    },
    cache: { paths: [`${CODEBUILD_CACHE_ROOT}/**/*`, "/root/go/pkg/mod/**/*", "/root/.cache/go-build/**/*"] },
  };
  return `# Rendered by pulumi-golden-image from the pipeline plan (${args.plan.steps.length} steps). Do not edit: change the specs instead.\n${stringify(spec, { lineWidth: 0, blockQuote: "literal" })}`;
}
