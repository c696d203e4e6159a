/**
 * The Kubernetes executor's documents, rendered by a pure function: a CronJob that runs the
 * plan's POSIX script (script.ts) on a schedule, with a rootless BuildKit daemon beside it, and
 * the least RBAC it needs (patch one promotion pointer ConfigMap). Plain objects, fixed order,
 * fixed key order: the same input gives byte-identical JSON, so a preview shows no change.
 *
 * No secret ever appears here: registry credentials are a Secret mounted as a file, the cosign
 * key pair reaches the script through `secretKeyRef`s. Secret-looking env is rejected.
 *
 * The plan builds from contexts relative to its repository (`images/hello`): an init container
 * clones the source at one revision into the pod's work dir before anything else starts.
 */
import { z } from "zod";
import { joinKey, joinPath, throwIfIssues, ValidationIssue } from "../render/issues";
import { structuralIssues } from "../render/schema";
import { isSecretName, secretValueKind } from "../render/validate";
import { parseReference, referenceProblem } from "../spec/reference";

export interface ContainerResources {
  readonly requests?: { readonly cpu?: string; readonly memory?: string };
  readonly limits?: { readonly cpu?: string; readonly memory?: string };
}

/** The repository holding the image contexts, and the revision the job builds. */
export interface GitSource {
  /** An https URL (`https://git.example.com/platform/golden-images.git`) or an ssh one
   *  (`ssh://git@git.example.com/platform/golden-images.git`, `git@git.example.com:platform/golden-images.git`).
   *  No credentials in it: anyone who can read the CronJob would see them. The pod mounts no
   *  clone credentials, so the repository must be readable anonymously (https), or the builder
   *  image must carry what ssh needs. */
  readonly url: string;
  /** A full commit SHA (40 hex, fetched exactly: the server must allow fetching a commit by id,
   *  as GitHub, GitLab and git's protocol v2 do) or a branch or tag name (`git clone --branch`). */
  readonly revision: string;
}

export interface KubernetesRebuildJobArgs {
  /** Name of the CronJob and its ServiceAccount, prefix of the other objects: a DNS-1123 label of
   *  at most 52 characters (the CronJob controller appends 11 to name each Job), e.g. "golden-rebuild". */
  readonly name: string;
  /** The namespace of every object (a DNS-1123 label). */
  readonly namespace: string;
  /** Kubernetes cron, 5 fields (validated where the schedule is built), put as given. */
  readonly schedule: string;
  /** IANA time zone of the schedule, e.g. "Europe/Berlin" (spec.timeZone). */
  readonly timeZone: string;
  /** Whether runs are suspended (spec.suspend: the schedule stays, nothing starts).
   *  @default false */
  readonly suspend?: boolean;
  /** Cloned by the init container `source` (with the builder image's git) into the work dir; the
   *  plan runs in that checkout, so its relative build contexts resolve. */
  readonly source: GitSource;
  /** The image holding the plan's tools (golden CLI, buildctl, skopeo, cosign, syft, grype,
   *  kubectl) and git (the `source` init container clones with it), by digest: `name@sha256:<64 hex>`. */
  readonly builderImage: string;
  /** A rootless BuildKit image (`moby/buildkit:<version>-rootless`), by digest. */
  readonly buildkitImage: string;
  /** The plan's rendered script (renderPlanScript). Shipped in the ConfigMap `<name>-plan`,
   *  mounted read-only and run as `sh /golden/plan.sh`. */
  readonly script: string;
  /** A `kubernetes.io/dockerconfigjson` Secret: its `.dockerconfigjson` becomes `config.json` in
   *  the read-only directory DOCKER_CONFIG names (buildctl, skopeo, cosign, syft and grype read it). */
  readonly registrySecretName: string;
  /** A Secret with the keys COSIGN_PRIVATE_KEY, COSIGN_PASSWORD and COSIGN_PUBLIC_KEY (the plan
   *  names the key pair as `env://COSIGN_*`); each reaches the script as a `secretKeyRef`.
   *  @default none: the plan signs with KMS or keyless, or does not sign */
  readonly signingSecretName?: string;
  /** The promotion pointer ConfigMap (`configmap:<namespace>/<name>` store): rendered here, empty,
   *  so that the Role can name it; the job only reads and patches it. */
  readonly pointerConfigMapName: string;
  /** Non-secret environment of the script. Names the job sets (BUILDKIT_HOST, DOCKER_CONFIG,
   *  HOME, TMPDIR), the cosign key pair and secret-looking names or values are rejected.
   *  @default {} */
  readonly env?: Readonly<Record<string, string>>;
  /** Retries of a failed run (0: none). @default 1 */
  readonly backoffLimit?: number;
  /** A run (all its retries) is stopped after this many seconds. @default 3600 */
  readonly activeDeadlineSeconds?: number;
  /** Finished runs kept, for their logs. @default 3 */
  readonly successfulJobsHistoryLimit?: number;
  /** @default 3 */
  readonly failedJobsHistoryLimit?: number;
  /** A run that could not start this many seconds after its time is skipped (at least 10: the
   *  controller looks every 10 s). @default 3600 */
  readonly startingDeadlineSeconds?: number;
  /** A finished Job is deleted this many seconds after it ends (a backstop to the history limits).
   *  @default 604800 (7 days) */
  readonly ttlSecondsAfterFinished?: number;
  /** Requests and limits of the plan container, merged field by field with the defaults.
   *  @default KUBERNETES_REBUILD_JOB_DEFAULTS.resources */
  readonly resources?: ContainerResources;
  /** Requests and limits of the BuildKit sidecar, merged field by field with the defaults.
   *  @default KUBERNETES_REBUILD_JOB_DEFAULTS.buildkitResources */
  readonly buildkitResources?: ContainerResources;
  /** Labels added to every object and to the Job's pods (never the `app.kubernetes.io/` keys set here).
   *  @default {} */
  readonly labels?: Readonly<Record<string, string>>;
}

/** Requests and limits with every field set. */
interface FullResources {
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu: string; readonly memory: string };
}

/** A rendered Kubernetes object. */
export interface KubernetesManifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace: string; readonly labels: Record<string, string> };
  readonly [field: string]: unknown;
}

export const KUBERNETES_REBUILD_JOB_DEFAULTS = {
  backoffLimit: 1,
  activeDeadlineSeconds: 3600,
  successfulJobsHistoryLimit: 3,
  failedJobsHistoryLimit: 3,
  startingDeadlineSeconds: 3600,
  ttlSecondsAfterFinished: 604800,
  resources: { requests: { cpu: "250m", memory: "1Gi" }, limits: { cpu: "1", memory: "4Gi" } },
  buildkitResources: { requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "2", memory: "4Gi" } },
} as const;

/** Where things are in the pod. */
export const KUBERNETES_JOB_PATHS = {
  /** The plan ConfigMap's mount; the script is `plan.sh` in it. */
  planDir: "/golden",
  script: "/golden/plan.sh",
  /** The work dir (an emptyDir, empty at start): the `source` init container clones into it. */
  workDir: "/workspace",
  /** The checkout, the script's working directory: the plan's relative build contexts are looked
   *  up here, and `.golden/run/...` is written here. */
  checkoutDir: "/workspace/source",
  /** DOCKER_CONFIG: the registry Secret's `config.json`. */
  dockerConfigDir: "/run/secrets/golden/registry",
  /** The emptyDir both containers share, holding BuildKit's socket. */
  buildkitSocketDir: "/run/buildkit",
  buildkitHost: "unix:///run/buildkit/buildkitd.sock",
} as const;

/** The script's UID and GID (the golden images' non-root user). */
export const PLAN_UID = 65532;
/** The rootless BuildKit image's user: 1000:1000 is baked into it (its /etc/subuid, /etc/subgid
 *  and home); BuildKit's docs/rootless.md: "To change UID/GID, you need to rebuild the image". */
export const BUILDKIT_UID = 1000;
/** The cosign key pair, as the plan names it (`env://COSIGN_PRIVATE_KEY`, see SigningKey's KEYPAIR_ENV). */
export const SIGNING_SECRET_KEYS = ["COSIGN_PASSWORD", "COSIGN_PRIVATE_KEY", "COSIGN_PUBLIC_KEY"] as const;
/** What the plan container may do with the pointer ConfigMap: read the last record, write the new one. */
export const POINTER_VERBS = ["get", "patch", "update"] as const;
/** Environment the job sets itself. */
export const JOB_ENV_NAMES = ["BUILDKIT_HOST", "DOCKER_CONFIG", "HOME", "TMPDIR"] as const;
/** Where the pod's service account token is mounted: containers that need no API access shadow it. */
const API_TOKEN_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";
/** Labels set on every object; user labels may not set them. */
export const JOB_LABEL_KEYS = ["app.kubernetes.io/component", "app.kubernetes.io/instance", "app.kubernetes.io/managed-by", "app.kubernetes.io/name"] as const;

const MAX_NAME = 52;
const DNS_LABEL = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const TIME_ZONE = /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/;
const LABEL_NAME = /^[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
/** A positive Kubernetes quantity: decimal number, then a binary or decimal SI suffix or an exponent. */
const QUANTITY = /^(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;
const QUANTITY_FACTORS: Readonly<Record<string, number>> = {
  "": 1, n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};
/** ConfigMap data must fit in 1 MiB (keys included). */
const CONFIGMAP_MAX_BYTES = 1024 * 1024;
const INT32_MAX = 2147483647;
/** A full commit id: fetched exactly. */
const COMMIT_SHA = /^[0-9a-f]{40}$/;
/** `user@host:path`, git's scp-like ssh syntax (the user is required here, so it cannot be misread). */
const SCP_LIKE = /^([A-Za-z0-9._-]+)@([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):([^\s]+)$/;

const quantities = z.strictObject({ cpu: z.string().optional(), memory: z.string().optional() });
const resourcesSchema = z.strictObject({ requests: quantities.optional(), limits: quantities.optional() });
const stringMap = z.record(z.string(), z.string());
export const kubernetesRebuildJobSchema = z.strictObject({
  name: z.string(),
  namespace: z.string(),
  schedule: z.string(),
  timeZone: z.string(),
  suspend: z.boolean().optional(),
  source: z.strictObject({ url: z.string(), revision: z.string() }),
  builderImage: z.string(),
  buildkitImage: z.string(),
  script: z.string(),
  registrySecretName: z.string(),
  signingSecretName: z.string().optional(),
  pointerConfigMapName: z.string(),
  env: stringMap.optional(),
  backoffLimit: z.number().optional(),
  activeDeadlineSeconds: z.number().optional(),
  successfulJobsHistoryLimit: z.number().optional(),
  failedJobsHistoryLimit: z.number().optional(),
  startingDeadlineSeconds: z.number().optional(),
  ttlSecondsAfterFinished: z.number().optional(),
  resources: resourcesSchema.optional(),
  buildkitResources: resourcesSchema.optional(),
  labels: stringMap.optional(),
});
type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never] ? true : false;
export const KUBERNETES_JOB_SCHEMA_MATCHES_TYPE: true = true satisfies SameKeys<KubernetesRebuildJobArgs, z.infer<typeof kubernetesRebuildJobSchema>>;
void (kubernetesRebuildJobSchema satisfies z.ZodType<KubernetesRebuildJobArgs>);

/** The integer fields: least value, and why. */
const INTEGER_FIELDS: readonly (readonly [keyof typeof KUBERNETES_REBUILD_JOB_DEFAULTS & keyof KubernetesRebuildJobArgs, number, string])[] = [
  ["backoffLimit", 0, "0 for no retry"],
  ["activeDeadlineSeconds", 1, "a run needs time"],
  ["successfulJobsHistoryLimit", 0, "0 keeps none"],
  ["failedJobsHistoryLimit", 0, "0 keeps none"],
  ["startingDeadlineSeconds", 10, "the CronJob controller looks every 10 s; less may never start a run"],
  ["ttlSecondsAfterFinished", 0, "0 deletes a Job as soon as it ends"],
];

/** Every problem of the arguments at once, each with its property path (under `path`), value and fix. */
export function kubernetesRebuildJobIssues(args: unknown, path = ""): ValidationIssue[] {
  // One issue per unknown property, at its own path.
  const structural = structuralIssues(kubernetesRebuildJobSchema, args, path).flatMap((i) =>
    i.problem.startsWith("unknown propert") && Array.isArray(i.value)
      ? i.value.map((key: string) => ({ path: joinKey(i.path, key), value: key, problem: "is not a property of KubernetesRebuildJobArgs", fix: "remove it or correct the spelling" }))
      : [i],
  );
  if (args === null || typeof args !== "object" || Array.isArray(args)) {
    return structural;
  }
  const a = args as Record<string, unknown>;
  const at = (key: string) => joinPath(path, key);
  // Type errors come from the schema; the checks below only look at values of the right type.
  const str = (key: string): string | undefined => (typeof a[key] === "string" ? (a[key] as string) : undefined);
  const issues: ValidationIssue[] = [...structural];

  const name = str("name");
  if (name !== undefined && (name.length > MAX_NAME || !DNS_LABEL.test(name))) {
    issues.push({
      path: at("name"),
      value: name,
      problem: `is not a DNS-1123 label of at most ${MAX_NAME} characters (the CronJob controller appends 11 to name its Jobs)`,
      fix: 'use lowercase letters, digits and "-", starting and ending with a letter or digit, e.g. "golden-rebuild"',
    });
  }
  const namespace = str("namespace");
  if (namespace !== undefined && !DNS_LABEL.test(namespace)) {
    issues.push({ path: at("namespace"), value: namespace, problem: "is not a namespace name (a DNS-1123 label)", fix: 'use at most 63 lowercase letters, digits and "-", e.g. "golden-images"' });
  }
  const schedule = str("schedule");
  if (schedule !== undefined) {
    if (schedule.trim() === "" || /[\r\n]/.test(schedule)) {
      issues.push({ path: at("schedule"), value: schedule, problem: "is not a one-line cron schedule", fix: 'give 5 fields, e.g. "0 3 * * 1"' });
    } else if (/^\s*(?:CRON_)?TZ=/.test(schedule)) {
      issues.push({ path: at("schedule"), value: schedule, problem: "sets a time zone, which Kubernetes rejects in a CronJob schedule", fix: "remove the TZ= prefix and set timeZone instead" });
    }
  }
  const timeZone = str("timeZone");
  if (timeZone !== undefined && !isTimeZone(timeZone)) {
    issues.push({ path: at("timeZone"), value: timeZone, problem: "is not an IANA time zone name", fix: 'give a name of the tz database, e.g. "Etc/UTC" or "Europe/Berlin"' });
  }
  for (const key of ["builderImage", "buildkitImage"]) {
    const ref = str(key);
    if (ref !== undefined) {
      issues.push(...digestReferenceIssues(ref, at(key), key === "buildkitImage" ? "moby/buildkit:v0.25.2-rootless" : "registry.example.com/golden/builder"));
    }
  }
  const script = str("script");
  if (script !== undefined) {
    issues.push(...scriptIssues(script, at("script")));
  }
  if (isRecord(a.source)) {
    issues.push(...gitSourceIssues(a.source, at("source")));
  }
  for (const [key, what, example] of [
    ["registrySecretName", "Secret", "golden-registry"],
    ["signingSecretName", "Secret", "golden-cosign"],
    ["pointerConfigMapName", "ConfigMap", "golden-promoted"],
  ]) {
    const value = str(key);
    if (value !== undefined && !DNS_SUBDOMAIN.test(value)) {
      issues.push({ path: at(key), value, problem: `is not a ${what} name (a DNS-1123 subdomain)`, fix: `use at most 253 lowercase letters, digits, "-" and ".", e.g. "${example}"` });
    }
  }
  const pointer = str("pointerConfigMapName");
  if (name !== undefined && pointer !== undefined && pointer === planConfigMapName(name)) {
    issues.push({ path: at("pointerConfigMapName"), value: pointer, problem: "is the name of the ConfigMap holding the script", fix: `choose another name than "${planConfigMapName(name)}", e.g. "${name}-promoted"` });
  }
  if (isRecord(a.env)) {
    issues.push(...envIssues(a.env, at("env"), str("signingSecretName") !== undefined));
  }
  for (const [key, least, why] of INTEGER_FIELDS) {
    const value = a[key];
    if (typeof value === "number" && (!Number.isInteger(value) || value < least || value > INT32_MAX)) {
      issues.push({ path: at(key), value, problem: `must be a whole number from ${least} to ${INT32_MAX}`, fix: `give a whole number of at least ${least} (${why})` });
    }
  }
  for (const key of ["resources", "buildkitResources"] as const) {
    if (isRecord(a[key])) {
      issues.push(...resourceIssues(a[key] as ContainerResources, KUBERNETES_REBUILD_JOB_DEFAULTS[key], at(key)));
    }
  }
  if (isRecord(a.labels)) {
    issues.push(...labelIssues(a.labels, at("labels")));
  }
  return issues;
}

/**
 * The manifests, in apply order: ServiceAccount, Role, RoleBinding, the plan ConfigMap, the
 * promotion pointer ConfigMap, the CronJob. Throws a ValidationError listing every problem.
 */
export function renderKubernetesRebuildJob(args: KubernetesRebuildJobArgs): KubernetesManifest[] {
  throwIfIssues("Invalid Kubernetes rebuild job", kubernetesRebuildJobIssues(args));
  const d = KUBERNETES_REBUILD_JOB_DEFAULTS;
  // A fresh object each time: no two manifests share a mutable part.
  const labels = () => jobLabels(args, "rebuild");
  const meta = (name: string, l: Record<string, string> = labels()) => ({ name, namespace: args.namespace, labels: l });
  const roleName = `${args.name}-pointer`;

  const serviceAccount: KubernetesManifest = {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: meta(args.name),
    // Only the plan container gets a token, through the pod's own setting below.
    automountServiceAccountToken: false,
  };
  const role: KubernetesManifest = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "Role",
    metadata: meta(roleName),
    // The promote step reads the pointer's last record and patches in the new one: that
    // ConfigMap only (resourceNames), no create, no list, nothing else in the namespace.
    rules: [{ apiGroups: [""], resources: ["configmaps"], resourceNames: [args.pointerConfigMapName], verbs: [...POINTER_VERBS] }],
  };
  const roleBinding: KubernetesManifest = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: meta(roleName),
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: roleName },
    subjects: [{ kind: "ServiceAccount", name: args.name, namespace: args.namespace }],
  };
  const planConfigMap: KubernetesManifest = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: meta(planConfigMapName(args.name)),
    data: { "plan.sh": args.script },
  };
  // Created empty by the stack so that the Role can name it (resourceNames cannot scope a
  // create); the job patches its keys. With server-side apply the stack owns no key of data,
  // so updating the stack leaves the promotion records alone.
  const pointerConfigMap: KubernetesManifest = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: meta(args.pointerConfigMapName, jobLabels(args, "promotion-pointer")),
    data: {},
  };
  const cronJob: KubernetesManifest = {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: meta(args.name),
    spec: {
      schedule: args.schedule,
      timeZone: args.timeZone,
      suspend: args.suspend ?? false,
      // Two runs at once would race for the same tags and the same pointer.
      concurrencyPolicy: "Forbid",
      startingDeadlineSeconds: args.startingDeadlineSeconds ?? d.startingDeadlineSeconds,
      successfulJobsHistoryLimit: args.successfulJobsHistoryLimit ?? d.successfulJobsHistoryLimit,
      failedJobsHistoryLimit: args.failedJobsHistoryLimit ?? d.failedJobsHistoryLimit,
      jobTemplate: {
        metadata: { labels: labels() },
        spec: {
          backoffLimit: args.backoffLimit ?? d.backoffLimit,
          activeDeadlineSeconds: args.activeDeadlineSeconds ?? d.activeDeadlineSeconds,
          ttlSecondsAfterFinished: args.ttlSecondsAfterFinished ?? d.ttlSecondsAfterFinished,
          template: {
            metadata: { labels: labels(), annotations: { "kubectl.kubernetes.io/default-container": "plan" } },
            spec: podSpec(args),
          },
        },
      },
    },
  };
  return [serviceAccount, role, roleBinding, planConfigMap, pointerConfigMap, cronJob];
}

export function planConfigMapName(name: string): string {
  return `${name}-plan`;
}

function podSpec(args: KubernetesRebuildJobArgs): Record<string, unknown> {
  const p = KUBERNETES_JOB_PATHS;
  return {
    serviceAccountName: args.name,
    // The token is mounted ONLY because the promote step must patch the pointer ConfigMap (the
    // Role allows nothing else). The BuildKit sidecar shadows the token's path with an empty
    // volume, so the daemon that runs the builds never holds it.
    automountServiceAccountToken: true,
    enableServiceLinks: false,
    restartPolicy: "Never",
    securityContext: {
      runAsNonRoot: true,
      runAsUser: PLAN_UID,
      runAsGroup: PLAN_UID,
      // Volumes (the Secret's and ConfigMap's files, mode 0440) are readable by the script's group.
      fsGroup: PLAN_UID,
      // buildkitd creates its socket 0660 for its own (mapped root) group, 1000 on the node:
      // the script joins that group to reach it, and gains nothing else by it.
      supplementalGroups: [BUILDKIT_UID],
      seccompProfile: { type: "RuntimeDefault" },
    },
    // Init containers run in order: the clone completes before BuildKit (a sidecar) starts.
    initContainers: [sourceContainer(args), buildkitSidecar(args)],
    containers: [
      {
        name: "plan",
        image: args.builderImage,
        imagePullPolicy: "IfNotPresent",
        command: ["sh", p.script],
        workingDir: p.checkoutDir,
        env: planEnv(args),
        resources: mergedResources(args.resources, KUBERNETES_REBUILD_JOB_DEFAULTS.resources),
        securityContext: hardenedSecurityContext(),
        terminationMessagePolicy: "FallbackToLogsOnError",
        volumeMounts: [
          { name: "plan", mountPath: p.planDir, readOnly: true },
          { name: "buildkit-socket", mountPath: p.buildkitSocketDir },
          { name: "registry-auth", mountPath: p.dockerConfigDir, readOnly: true },
          { name: "tmp", mountPath: "/tmp" },
          { name: "workspace", mountPath: p.workDir },
        ],
      },
    ],
    volumes: [
      { name: "buildkit-runtime", emptyDir: {} },
      { name: "buildkit-socket", emptyDir: {} },
      { name: "buildkit-state", emptyDir: {} },
      { name: "buildkit-tmp", emptyDir: {} },
      { name: "no-api-token", emptyDir: {} },
      { name: "plan", configMap: { name: planConfigMapName(args.name), items: [{ key: "plan.sh", path: "plan.sh" }], defaultMode: 0o440 } },
      { name: "registry-auth", secret: { secretName: args.registrySecretName, items: [{ key: ".dockerconfigjson", path: "config.json" }], defaultMode: 0o440 } },
      { name: "tmp", emptyDir: {} },
      { name: "workspace", emptyDir: {} },
    ],
  };
}

/** The plan's containers: non-root 65532, read-only root, no escalation, no capabilities, RuntimeDefault. */
function hardenedSecurityContext(): Record<string, unknown> {
  return {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    runAsUser: PLAN_UID,
    runAsGroup: PLAN_UID,
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/**
 * The clone, an ordinary init container from the builder image: `git clone --depth 1 --branch`
 * for a branch or tag; for a commit, `git init` and `git fetch --depth 1 origin <sha>` (clone
 * cannot check out a commit by id). No shell for a branch; for a commit the URL and the SHA reach
 * `sh -c` as positional parameters, never as script text. It needs no API token, so the pod's is
 * shadowed like in the BuildKit sidecar.
 */
function sourceContainer(args: KubernetesRebuildJobArgs): Record<string, unknown> {
  const p = KUBERNETES_JOB_PATHS;
  return {
    name: "source",
    image: args.builderImage,
    imagePullPolicy: "IfNotPresent",
    command: gitCloneCommand(args.source, p.checkoutDir),
    // HOME: git reads ~/.gitconfig; GIT_TERMINAL_PROMPT=0: a repository that wants credentials fails at once.
    env: [
      { name: "GIT_TERMINAL_PROMPT", value: "0" },
      { name: "HOME", value: "/tmp" },
    ],
    resources: mergedResources(args.resources, KUBERNETES_REBUILD_JOB_DEFAULTS.resources),
    securityContext: hardenedSecurityContext(),
    terminationMessagePolicy: "FallbackToLogsOnError",
    volumeMounts: [
      { name: "tmp", mountPath: "/tmp" },
      { name: "workspace", mountPath: p.workDir },
      { name: "no-api-token", mountPath: API_TOKEN_DIR, readOnly: true },
    ],
  };
}

/** The clone's argv: into `dir`, one commit deep. */
export function gitCloneCommand(source: GitSource, dir: string): string[] {
  if (COMMIT_SHA.test(source.revision)) {
    const script = ["set -eu", `git init --quiet ${dir}`, `cd ${dir}`, 'git remote add origin "$1"', 'git fetch --depth 1 origin "$2"', "git checkout --quiet FETCH_HEAD"].join("\n");
    return ["sh", "-c", script, "source", source.url, source.revision];
  }
  return ["git", "clone", "--depth", "1", "--branch", source.revision, "--", source.url, dir];
}

/**
 * Rootless BuildKit as a native sidecar: an init container with `restartPolicy: Always` starts
 * before the plan container (which waits for the startup probe, so the socket answers), and is
 * stopped when the plan container ends, so the Job completes.
 *
 * Its security context is what moby/buildkit's docs/rootless.md and
 * examples/kubernetes/job.rootless.yaml require, and no more:
 * - `--oci-worker-no-process-sandbox`: Kubernetes has no `systempaths=unconfined` (rootless.md,
 *   "Containerized deployment"), so buildkitd cannot mount a /proc for each build step.
 * - seccomp and AppArmor `Unconfined`: rootless.md: "seccomp=unconfined: For allowing several
 *   syscalls such as unshare (used by runc) and mount (used by snapshotters)"; "apparmor=unconfined:
 *   For allowing mounting filesystems". No flag makes RuntimeDefault work, so this container alone
 *   is unconfined (the pod and the plan container keep RuntimeDefault). Pod Security "baseline"
 *   forbids both: the namespace needs the "privileged" level.
 * - UID/GID 1000: baked into the image ("To change UID/GID, you need to rebuild the image").
 * - `allowPrivilegeEscalation: true` and the capabilities SETUID and SETGID only: RootlessKit maps
 *   the image's /etc/subuid range with the setuid helpers newuidmap/newgidmap, which need exactly
 *   CAP_SETUID/CAP_SETGID (shadow's lib/idmapping.c drops every other capability) and fail with
 *   no_new_privs ("newuidmap: Could not set caps", moby/buildkit#1671). Inside its user namespace
 *   RootlessKit gets a full capability set of that namespace; dropping ALL here only limits the node.
 * - A read-only root: buildkitd writes only to its state (~/.local/share/buildkit, an emptyDir as
 *   the examples mount it), TMPDIR (~/.local/tmp: RootlessKit's state directory), XDG_RUNTIME_DIR
 *   and the socket directory, all emptyDirs.
 * Registry credentials are not mounted: buildctl lends the plan container's DOCKER_CONFIG to the
 * daemon through its session.
 */
function buildkitSidecar(args: KubernetesRebuildJobArgs): Record<string, unknown> {
  const p = KUBERNETES_JOB_PATHS;
  return {
    name: "buildkitd",
    image: args.buildkitImage,
    imagePullPolicy: "IfNotPresent",
    restartPolicy: "Always",
    // The image's entrypoint, spelled out: the daemon listens on the shared socket only.
    command: ["rootlesskit", "buildkitd"],
    args: ["--addr", p.buildkitHost, "--oci-worker-no-process-sandbox"],
    startupProbe: {
      exec: { command: ["buildctl", "--addr", p.buildkitHost, "debug", "workers"] },
      periodSeconds: 2,
      timeoutSeconds: 5,
      failureThreshold: 60,
    },
    resources: mergedResources(args.buildkitResources, KUBERNETES_REBUILD_JOB_DEFAULTS.buildkitResources),
    securityContext: {
      allowPrivilegeEscalation: true,
      appArmorProfile: { type: "Unconfined" },
      capabilities: { add: ["SETGID", "SETUID"], drop: ["ALL"] },
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      runAsUser: BUILDKIT_UID,
      runAsGroup: BUILDKIT_UID,
      seccompProfile: { type: "Unconfined" },
    },
    volumeMounts: [
      { name: "buildkit-state", mountPath: "/home/user/.local/share/buildkit" },
      { name: "buildkit-tmp", mountPath: "/home/user/.local/tmp" },
      { name: "buildkit-socket", mountPath: p.buildkitSocketDir },
      { name: "buildkit-runtime", mountPath: `/run/user/${BUILDKIT_UID}` },
      // An existing mount at the token's path keeps the API token out of this container.
      { name: "no-api-token", mountPath: API_TOKEN_DIR, readOnly: true },
    ],
  };
}

/** Sorted by name: the job's own variables, the user's, and the key pair by reference. */
function planEnv(args: KubernetesRebuildJobArgs): Record<string, unknown>[] {
  const p = KUBERNETES_JOB_PATHS;
  const own: Record<string, string> = { BUILDKIT_HOST: p.buildkitHost, DOCKER_CONFIG: p.dockerConfigDir, HOME: "/tmp", TMPDIR: "/tmp" };
  const entries: [string, Record<string, unknown>][] = Object.entries({ ...(args.env ?? {}), ...own }).map(([name, value]) => [name, { name, value }]);
  if (args.signingSecretName !== undefined) {
    for (const key of SIGNING_SECRET_KEYS) {
      entries.push([key, { name: key, valueFrom: { secretKeyRef: { name: args.signingSecretName, key } } }]);
    }
  }
  return entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, e]) => e);
}

function jobLabels(args: KubernetesRebuildJobArgs, component: string): Record<string, string> {
  const all: Record<string, string> = {
    ...(args.labels ?? {}),
    "app.kubernetes.io/component": component,
    "app.kubernetes.io/instance": args.name,
    "app.kubernetes.io/managed-by": "pulumi",
    "app.kubernetes.io/name": "golden-image-rebuild",
  };
  return Object.fromEntries(Object.keys(all).sort().map((k) => [k, all[k]]));
}

function mergedResources(given: ContainerResources | undefined, defaults: FullResources): FullResources {
  return {
    limits: { cpu: given?.limits?.cpu ?? defaults.limits.cpu, memory: given?.limits?.memory ?? defaults.limits.memory },
    requests: { cpu: given?.requests?.cpu ?? defaults.requests.cpu, memory: given?.requests?.memory ?? defaults.requests.memory },
  };
}

// ---------------------------------------------------------------------------------------------
// Checks

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function isTimeZone(name: string): boolean {
  if (!TIME_ZONE.test(name) || name.toLowerCase() === "local") {
    return false;
  }
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

function digestReferenceIssues(ref: string, path: string, example: string): ValidationIssue[] {
  const problem = referenceProblem(ref);
  if (problem !== undefined) {
    return [{ path, value: ref, problem: `is not an image reference: ${problem}`, fix: `give name@sha256:<64 hex>, e.g. "${example}@sha256:<digest>"` }];
  }
  if (parseReference(ref).digest === undefined) {
    return [{ path, value: ref, problem: "is not pinned by digest, so a moved tag would change what the job runs", fix: `append the digest: "${ref}@sha256:<64 hex>" (docker buildx imagetools inspect ${ref})` }];
  }
  return [];
}

function scriptIssues(script: string, path: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const bytes = Buffer.byteLength(script, "utf8") + "plan.sh".length;
  if (script.trim() === "") {
    issues.push({ path, value: script, problem: "is empty", fix: "give the plan's script (renderPlanScript)" });
  } else if (bytes > CONFIGMAP_MAX_BYTES) {
    issues.push({ path, value: `${script.slice(0, 40)}...`, problem: `is ${bytes} bytes, over the ${CONFIGMAP_MAX_BYTES} a ConfigMap holds`, fix: "split the images over several rebuild jobs" });
  }
  const secret = secretValueKind(script);
  if (secret !== undefined) {
    issues.push({ path, value: redacted(script), problem: `holds ${secret}, which the ConfigMap would show to anyone who can read it`, fix: "name secrets in the plan as env://NAME and give them through signingSecretName" });
  }
  return issues;
}

/** Problems of the git source: an https or ssh URL without credentials, a full SHA or a ref name. */
export function gitSourceIssues(source: Record<string, unknown>, path: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (typeof source.url === "string") {
    issues.push(...gitUrlIssues(source.url, joinPath(path, "url")));
  }
  if (typeof source.revision === "string") {
    issues.push(...revisionIssues(source.revision, joinPath(path, "revision")));
  }
  return issues;
}

function gitUrlIssues(url: string, path: string): ValidationIssue[] {
  const example = "https://git.example.com/platform/golden-images.git";
  const notUrl = (problem: string): ValidationIssue[] => [{ path, value: url, problem, fix: `give an https or ssh URL, e.g. "${example}" or "git@git.example.com:platform/golden-images.git"` }];
  if (/[\s\u0000-\u001f\u007f]/.test(url) || url === "") {
    return notUrl("is not a git URL (empty, or it holds blanks or control characters)");
  }
  const secret = secretValueKind(url);
  if (secret !== undefined) {
    return [{ path, value: redacted(url), problem: `holds ${secret}, which anyone who can read the CronJob would see`, fix: "remove the credentials from the URL: the repository must be readable without them" }];
  }
  const scp = SCP_LIKE.exec(url);
  if (scp !== null && !url.includes("://")) {
    return scp[3].startsWith("-") ? notUrl("has a path starting with \"-\", which git would read as an option") : [];
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return notUrl("is not a git URL");
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "ssh:") {
    return notUrl(`uses ${parsed.protocol.slice(0, -1)}, not https or ssh (plain http and git:// are not authenticated, file:// is not in the pod)`);
  }
  if (parsed.hostname === "") {
    return notUrl("names no host");
  }
  if (parsed.protocol === "https:" && parsed.username !== "") {
    return [{ path, value: redacted(url), problem: "holds credentials (a user or token before the host), which anyone who can read the CronJob would see", fix: `remove them: "${parsed.protocol}//${parsed.host}${parsed.pathname}"` }];
  }
  if (parsed.search !== "" || parsed.hash !== "") {
    return notUrl("has a query or a fragment, which git does not take");
  }
  if (parsed.pathname === "" || parsed.pathname === "/") {
    return notUrl("names no repository (the path is empty)");
  }
  return [];
}

function revisionIssues(revision: string, path: string): ValidationIssue[] {
  const fix = 'give a full 40-hex commit SHA (git rev-parse HEAD) or a branch or tag name, e.g. "main" or "v1.2.0"';
  if (COMMIT_SHA.test(revision)) {
    return [];
  }
  if (/^[0-9a-fA-F]{40}$/.test(revision)) {
    return [{ path, value: revision, problem: "is a commit SHA with capitals, which git would look up as a branch", fix: `write it in lowercase: "${revision.toLowerCase()}"` }];
  }
  // An abbreviated SHA (hex with both letters and digits): a server only fetches a full one.
  if (/^[0-9a-f]{7,39}$/.test(revision) && /[a-f]/.test(revision) && /[0-9]/.test(revision)) {
    return [{ path, value: revision, problem: "looks like an abbreviated commit SHA, which git cannot fetch", fix: `give all 40 hex digits (git rev-parse ${revision})` }];
  }
  if (!isRefName(revision)) {
    return [{ path, value: revision, problem: "is neither a commit SHA nor a branch or tag name (git check-ref-format)", fix }];
  }
  return [];
}

/** git check-ref-format's rules for a branch or tag name, and no leading "-" (an option) or "refs/". */
function isRefName(name: string): boolean {
  if (name === "" || name === "@" || name.length > 255 || name.startsWith("-") || name.startsWith("/") || name.endsWith("/") || name.endsWith(".") || name.startsWith("refs/")) {
    return false;
  }
  if (/[\u0000-\u0020\u007f~^:?*[\\]/.test(name) || name.includes("..") || name.includes("@{") || name.includes("//")) {
    return false;
  }
  return name.split("/").every((part) => part !== "" && !part.startsWith(".") && !part.endsWith(".lock"));
}

function envIssues(env: Record<string, unknown>, path: string, signing: boolean): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const name of Object.keys(env).sort()) {
    const p = joinKey(path, name);
    const value = env[name];
    if (!ENV_NAME.test(name)) {
      issues.push({ path: p, value: name, problem: "is not an environment variable name", fix: "use letters, digits and _, not starting with a digit" });
    } else if ((SIGNING_SECRET_KEYS as readonly string[]).includes(name)) {
      issues.push({
        path: p,
        value: name === "COSIGN_PUBLIC_KEY" ? value : redacted(String(value)),
        problem: "is part of the cosign key pair, which must not be a plain value in the manifest",
        fix: signing ? "remove it: signingSecretName already provides it" : "remove it and set signingSecretName to a Secret holding COSIGN_PRIVATE_KEY, COSIGN_PASSWORD and COSIGN_PUBLIC_KEY",
      });
    } else if ((JOB_ENV_NAMES as readonly string[]).includes(name)) {
      issues.push({ path: p, value, problem: "is set by the job (the pod's paths and the BuildKit socket)", fix: "remove it" });
    } else if (isSecretName(name)) {
      issues.push({ path: p, value: typeof value === "string" ? redacted(value) : value, problem: "looks like a secret, which would be readable by anyone who can read the CronJob", fix: "keep secrets in a Secret (signingSecretName for the key pair, registrySecretName for registries), never in env" });
    }
    if (typeof value === "string") {
      const secret = secretValueKind(value);
      if (secret !== undefined) {
        issues.push({ path: p, value: redacted(value), problem: `looks like ${secret}, which would be readable by anyone who can read the CronJob`, fix: "keep secrets in a Secret, never in env" });
      }
    }
  }
  return issues;
}

function resourceIssues(given: ContainerResources, defaults: FullResources, path: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const merged = mergedResources(given, defaults);
  for (const kind of ["requests", "limits"] as const) {
    for (const resource of ["cpu", "memory"] as const) {
      const value = given[kind]?.[resource];
      if (typeof value === "string" && quantityValue(value) === undefined) {
        issues.push({
          path: joinPath(joinPath(path, kind), resource),
          value,
          problem: "is not a positive Kubernetes quantity",
          fix: resource === "cpu" ? 'give cores or millicores, e.g. "500m" or "2"' : 'give bytes with a suffix, e.g. "512Mi" or "4Gi"',
        });
      }
    }
  }
  for (const resource of ["cpu", "memory"] as const) {
    const request = quantityValue(merged.requests[resource]);
    const limit = quantityValue(merged.limits[resource]);
    if (request !== undefined && limit !== undefined && request > limit) {
      const givenRequest = given.requests?.[resource] !== undefined;
      issues.push({
        path: joinPath(joinPath(path, givenRequest ? "requests" : "limits"), resource),
        value: givenRequest ? merged.requests[resource] : merged.limits[resource],
        problem: `puts the ${resource} request (${merged.requests[resource]}) above the limit (${merged.limits[resource]})`,
        fix: givenRequest ? `lower it, or raise limits.${resource}` : `raise it to at least ${merged.requests[resource]}, or lower requests.${resource}`,
      });
    }
  }
  return issues;
}

/** The amount a quantity stands for, or undefined when it is not a positive quantity. */
function quantityValue(text: string): number | undefined {
  const m = QUANTITY.exec(text);
  if (m === null) {
    return undefined;
  }
  const suffix = m[2] ?? "";
  const factor = /^[eE]/.test(suffix) ? 10 ** Number(suffix.slice(1)) : QUANTITY_FACTORS[suffix];
  const value = Number(m[1]) * factor;
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

function labelIssues(labels: Record<string, unknown>, path: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const key of Object.keys(labels).sort()) {
    const p = joinKey(path, key);
    const value = labels[key];
    const slash = key.lastIndexOf("/");
    const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
    const name = slash >= 0 ? key.slice(slash + 1) : key;
    if ((JOB_LABEL_KEYS as readonly string[]).includes(key)) {
      issues.push({ path: p, value, problem: "is a label the job sets", fix: "remove it (the job sets the app.kubernetes.io/ labels)" });
    } else if (!LABEL_NAME.test(name) || (prefix !== undefined && !DNS_SUBDOMAIN.test(prefix))) {
      issues.push({ path: p, value: key, problem: "is not a label key", fix: 'give [prefix/]name: a DNS subdomain prefix and a name of at most 63 letters, digits, "-", "_", ".", e.g. "example.com/team"' });
    }
    if (typeof value === "string" && !LABEL_VALUE.test(value)) {
      issues.push({ path: p, value, problem: "is not a label value", fix: 'give at most 63 letters, digits, "-", "_", ".", starting and ending with a letter or digit (or nothing)' });
    }
  }
  return issues;
}

function redacted(value: string): string {
  return `${value.slice(0, 4)}... (redacted, ${value.length} characters)`;
}
