/**
 * KubernetesRebuilder: the Kubernetes executor. A CronJob runs the plan's script on a schedule
 * (rendered by components/plan/kubernetes-job.ts: the source cloned by an init container, rootless
 * BuildKit beside the hardened plan container), with the least RBAC it needs: get and patch the
 * one promotion pointer ConfigMap. Every run pins the bases again, so a new digest behind a pinned
 * base tag rebuilds exactly the images that use it.
 *
 * The pointer ConfigMap outlives the stack's view of it: the job writes its keys (so a later
 * `pulumi up` ignores them) and a destroy leaves it (nothing promoted is lost). A later stack
 * that creates it again must adopt the retained one (`pulumi import`, or the provider's
 * `upsertExistingObjects`): the Kubernetes provider refuses to create over an existing object.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { planProblems } from "../plan/check";
import { ContainerResources, GitSource, KubernetesManifest, kubernetesRebuildJobIssues, KubernetesRebuildJobArgs, renderKubernetesRebuildJob, SIGNING_SECRET_KEYS } from "../plan/kubernetes-job";
import { parsePromotionStore, planPromotionStores, promotionStoreIssues } from "../plan/promotion-store";
import { planEnvironmentNames, renderPlanScript } from "../plan/script";
import { Plan } from "../plan/types";
import { throwIfIssues, ValidationIssue } from "../render/issues";
import { prepareRebuildSchedule, RebuildSchedule, RebuildScheduleArgs, SCHEDULE_EXAMPLES, scheduleIssues } from "./schedule";

export const KUBERNETES_REBUILDER_TYPE = "golden-image:rebuild:KubernetesRebuilder";

export interface KubernetesRebuilderArgs {
  /** The plan the job runs: its promotion store must be `configmap:<namespace>/<pointerConfigMapName>`. */
  readonly plan: pulumi.Input<Plan>;
  /** The namespace of every object (it must exist, and allow the "privileged" Pod Security level:
   *  rootless BuildKit runs unconfined). */
  readonly namespace: string;
  /** When rebuilds run, in Kubernetes' cron grammar (`0 3 * * 1`, `@daily`): its time zone becomes
   *  the CronJob's `spec.timeZone`, `enabled: false` its `spec.suspend: true`. Required. */
  readonly schedule: RebuildScheduleArgs;
  /** The repository holding the image specs' build contexts, and the revision to build. */
  readonly source: GitSource;
  /** The image with the plan's tools and git, by digest. */
  readonly builderImage: string;
  /** A rootless BuildKit image (`moby/buildkit:<version>-rootless`), by digest. */
  readonly buildkitImage: string;
  /** An existing `kubernetes.io/dockerconfigjson` Secret in the namespace: the registries' credentials. */
  readonly registrySecretName: string;
  /** Keypair signing: the key material, kept in the Secret `<name>-cosign` the job reads. Secrets.
   *  Required when the plan signs with a key pair, refused when it does not.
   *  @default none: the plan signs with KMS or keyless, or does not sign */
  readonly keyPair?: { readonly privateKey: pulumi.Input<string>; readonly publicKey: pulumi.Input<string>; readonly password: pulumi.Input<string> };
  /** The promotion pointer ConfigMap (created empty, written by the job, kept on destroy).
   *  @default `${name}-promoted` */
  readonly pointerConfigMapName?: string;
  /** Requests and limits of the plan container (and the clone).
   *  @default KUBERNETES_REBUILD_JOB_DEFAULTS.resources */
  readonly resources?: ContainerResources;
  /** Requests and limits of the BuildKit sidecar.
   *  @default KUBERNETES_REBUILD_JOB_DEFAULTS.buildkitResources */
  readonly buildkitResources?: ContainerResources;
  /** Non-secret environment of the script. @default {} */
  readonly env?: Readonly<Record<string, string>>;
  /** Labels on every object and the job's pods. @default {} */
  readonly labels?: Readonly<Record<string, string>>;
}

const PROPERTIES = [
  "plan",
  "namespace",
  "schedule",
  "source",
  "builderImage",
  "buildkitImage",
  "registrySecretName",
  "keyPair",
  "pointerConfigMapName",
  "resources",
  "buildkitResources",
  "env",
  "labels",
] as const satisfies readonly (keyof KubernetesRebuilderArgs)[];
type SameKeys<A, B> = [Exclude<A, B>, Exclude<B, A>] extends [never, never] ? true : false;
void (true satisfies SameKeys<(typeof PROPERTIES)[number], keyof KubernetesRebuilderArgs>);

/** Stands for the plan's script while the plan is not known yet; never reaches the cluster
 *  (the plan ConfigMap takes the real script), only lets the other manifests be validated. */
const PENDING_SCRIPT = "#!/bin/sh\n# the plan's script, rendered once the plan is known\n";

/** Where a renderer issue is in these arguments (the schedule and the script are derived). */
const RENDERER_PATHS: Readonly<Record<string, string>> = { schedule: "schedule.expression", timeZone: "schedule.timezone", script: "plan" };

export function pointerConfigMapNameOf(name: string, args: Pick<KubernetesRebuilderArgs, "pointerConfigMapName">): string {
  return args.pointerConfigMapName ?? `${name}-promoted`;
}

export function signingSecretNameOf(name: string): string {
  return `${name}-cosign`;
}

/**
 * Every problem at once, each at its property path: the schedule (for the kubernetes consumer),
 * the rendered job's (names, images, source, env, resources, labels), and, when the plan is a
 * plain value, the plan's (promotes elsewhere, needs a key pair that is not given). An Output
 * plan is checked when it resolves.
 */
export function kubernetesRebuilderIssues(name: string, args: KubernetesRebuilderArgs): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const key of Object.keys(args).sort()) {
    if (!(PROPERTIES as readonly string[]).includes(key)) {
      issues.push({ path: key, value: key, problem: "is not a property of KubernetesRebuilderArgs", fix: "remove it or correct the spelling" });
    }
  }
  const scheduleProblems = scheduleIssues(args.schedule, "kubernetes", "schedule");
  issues.push(...scheduleProblems);
  const schedule = scheduleProblems.length === 0 ? prepareRebuildSchedule(args.schedule, "kubernetes") : undefined;

  const plan = plainPlan(args.plan);
  let script = PENDING_SCRIPT;
  if (args.plan === undefined || args.plan === null) {
    issues.push({ path: "plan", value: args.plan, problem: "is required", fix: "give the plan the job runs (planImages)" });
  } else if (plan !== undefined) {
    const problems = planIssues(plan, name, args);
    issues.push(...problems);
    if (problems.length === 0) {
      script = renderPlanScript(plan);
    }
  }
  const pointerGiven = args.pointerConfigMapName !== undefined;
  for (const issue of kubernetesRebuildJobIssues(jobArgs(name, args, schedule, script))) {
    // Derived names are only wrong when the component's name is, which "name" reports.
    if (issue.path === "signingSecretName" || (issue.path === "pointerConfigMapName" && !pointerGiven)) {
      continue;
    }
    issues.push({ ...issue, path: RENDERER_PATHS[issue.path] ?? issue.path });
  }
  if (args.keyPair !== undefined && args.registrySecretName === signingSecretNameOf(name)) {
    issues.push({
      path: "registrySecretName",
      value: args.registrySecretName,
      problem: "is the name of the Secret this component creates for the key pair",
      fix: `give the registry credentials' own Secret, not "${signingSecretNameOf(name)}"`,
    });
  }
  return issues;
}

/** The plan must promote to the pointer ConfigMap the Role allows, and get its key pair from the Secret. */
function planIssues(plan: Plan, name: string, args: KubernetesRebuilderArgs): ValidationIssue[] {
  const problems = planProblems(plan);
  if (problems.length > 0) {
    return problems.map((p) => ({ path: "plan", value: p, problem: "is not a valid plan", fix: "build it with planImages (or planImage)" }));
  }
  const issues: ValidationIssue[] = [];
  const pointerName = pointerConfigMapNameOf(name, args);
  const expected = `configmap:${args.namespace}/${pointerName}`;
  const stores = planPromotionStores(plan);
  for (const store of stores) {
    const ref = promotionStoreIssues(store).length === 0 ? parsePromotionStore(store) : undefined;
    if (ref?.kind !== "configmap" || ref.namespace !== args.namespace || ref.name !== pointerName) {
      issues.push({ path: "plan", value: store, problem: `promotes to ${store}, not ${expected}`, fix: `plan with promotionStore "${expected}"` });
    }
  }
  const names = planEnvironmentNames(plan);
  const foreign = names.filter((n) => !(SIGNING_SECRET_KEYS as readonly string[]).includes(n));
  for (const n of foreign) {
    issues.push({
      path: "plan",
      value: `env://${n}`,
      problem: `reads ${n} from the environment, which the job cannot provide (its Secret holds the cosign key pair only)`,
      fix: "sign with env://COSIGN_PRIVATE_KEY and env://COSIGN_PUBLIC_KEY (SigningKey's KEYPAIR_ENV)",
    });
  }
  if (names.length > 0 && args.keyPair === undefined) {
    issues.push({ path: "keyPair", value: undefined, problem: `is required: the plan signs with a key pair (it reads ${names.join(", ")})`, fix: "give keyPair { privateKey, publicKey, password } (e.g. a keypair SigningKey's secrets)" });
  }
  if (names.length === 0 && args.keyPair !== undefined) {
    issues.push({ path: "keyPair", value: "(secret)", problem: "is given, but the plan signs without a key pair, so nothing would read it", fix: "remove keyPair, or plan with keypair signing" });
  }
  return issues;
}

function plainPlan(plan: pulumi.Input<Plan> | undefined): Plan | undefined {
  return plan === undefined || plan === null || pulumi.Output.isInstance(plan) || plan instanceof Promise ? undefined : (plan as Plan);
}

/** The renderer's arguments; an invalid schedule is stood in for (its issues come from scheduleIssues). */
function jobArgs(name: string, args: KubernetesRebuilderArgs, schedule: RebuildSchedule | undefined, script: string): KubernetesRebuildJobArgs {
  return {
    name,
    namespace: args.namespace,
    schedule: schedule?.expression ?? SCHEDULE_EXAMPLES.kubernetes,
    timeZone: schedule?.timezone ?? "UTC",
    suspend: schedule !== undefined && !schedule.enabled,
    source: args.source,
    builderImage: args.builderImage,
    buildkitImage: args.buildkitImage,
    script,
    registrySecretName: args.registrySecretName,
    ...(args.keyPair !== undefined ? { signingSecretName: signingSecretNameOf(name) } : {}),
    pointerConfigMapName: pointerConfigMapNameOf(name, args),
    ...(args.env !== undefined ? { env: args.env } : {}),
    ...(args.resources !== undefined ? { resources: args.resources } : {}),
    ...(args.buildkitResources !== undefined ? { buildkitResources: args.buildkitResources } : {}),
    ...(args.labels !== undefined ? { labels: args.labels } : {}),
  };
}

export class KubernetesRebuilder extends pulumi.ComponentResource {
  /** The CronJob's name (also its ServiceAccount's). */
  public readonly cronJobName: pulumi.Output<string>;
  /** The namespace of every object. */
  public readonly namespace: string;
  /** `configmap:<namespace>/<name>`: what consumers give GoldenImageRef as its store. */
  public readonly pointerStore: string;
  /** The plan's script, as the plan ConfigMap holds it. */
  public readonly script: pulumi.Output<string>;

  constructor(name: string, args: KubernetesRebuilderArgs, opts?: pulumi.ComponentResourceOptions) {
    const title = `Invalid KubernetesRebuilder "${name}"`;
    throwIfIssues(title, kubernetesRebuilderIssues(name, args));
    super(KUBERNETES_REBUILDER_TYPE, name, {}, opts);
    const schedule = prepareRebuildSchedule(args.schedule, "kubernetes");
    const plan = plainPlan(args.plan);
    const [saDoc, roleDoc, bindingDoc, planDoc, pointerDoc, cronJobDoc] = inOrder(renderKubernetesRebuildJob(jobArgs(name, args, schedule, plan !== undefined ? renderPlanScript(plan) : PENDING_SCRIPT)));
    const pointerName = pointerConfigMapNameOf(name, args);
    this.namespace = args.namespace;
    this.pointerStore = `configmap:${args.namespace}/${pointerName}`;
    // Checked again once an Output plan resolves (a plain plan passes, as it did above).
    this.script = pulumi.output(args.plan).apply((p) => {
      throwIfIssues(title, kubernetesRebuilderIssues(name, { ...args, plan: p }));
      return renderPlanScript(p);
    });

    const parent = { parent: this };
    const serviceAccount = new k8s.core.v1.ServiceAccount(`${name}-service-account`, argsOf<k8s.core.v1.ServiceAccountArgs>(saDoc), parent);
    const role = new k8s.rbac.v1.Role(`${name}-pointer-role`, argsOf<k8s.rbac.v1.RoleArgs>(roleDoc), parent);
    const binding = new k8s.rbac.v1.RoleBinding(`${name}-pointer-binding`, argsOf<k8s.rbac.v1.RoleBindingArgs>(bindingDoc), { parent: this, dependsOn: [serviceAccount, role] });
    const planConfigMap = new k8s.core.v1.ConfigMap(`${name}-plan`, { ...argsOf<k8s.core.v1.ConfigMapArgs>(planDoc), data: { "plan.sh": this.script } }, parent);
    // The job writes the data: a later update must not wipe it, nor a destroy the promotions.
    const pointer = new k8s.core.v1.ConfigMap(`${name}-pointer`, argsOf<k8s.core.v1.ConfigMapArgs>(pointerDoc), { parent: this, ignoreChanges: ["data"], retainOnDelete: true });

    const dependencies: pulumi.Resource[] = [serviceAccount, binding, planConfigMap, pointer];
    if (args.keyPair !== undefined) {
      const keyPair = args.keyPair;
      const secret = new k8s.core.v1.Secret(
        `${name}-cosign`,
        {
          metadata: { name: signingSecretNameOf(name), namespace: args.namespace, labels: { ...saDoc.metadata.labels, "app.kubernetes.io/component": "signing-key" } },
          type: "Opaque",
          stringData: pulumi.secret(
            pulumi.all([keyPair.password, keyPair.privateKey, keyPair.publicKey]).apply(([password, privateKey, publicKey]) => {
              const values: Record<(typeof SIGNING_SECRET_KEYS)[number], string> = { COSIGN_PASSWORD: password, COSIGN_PRIVATE_KEY: privateKey, COSIGN_PUBLIC_KEY: publicKey };
              return Object.fromEntries(SIGNING_SECRET_KEYS.map((k) => [k, values[k]]));
            }),
          ),
        },
        parent,
      );
      dependencies.push(secret);
    }
    const cronJob = new k8s.batch.v1.CronJob(`${name}-cronjob`, argsOf<k8s.batch.v1.CronJobArgs>(cronJobDoc), { parent: this, dependsOn: dependencies });
    this.cronJobName = cronJob.metadata.name;

    this.registerOutputs({ cronJobName: this.cronJobName, namespace: this.namespace, pointerStore: this.pointerStore, script: this.script });
  }
}

/** A rendered document as the typed class's arguments: the same Kubernetes object (its schema is
 *  checked with kubernetes-models in test/unit/kubernetes-job.test.ts). */
function argsOf<T>(manifest: KubernetesManifest): T {
  return manifest as unknown as T;
}

/** The renderer's six documents, checked to be in the order this component creates them. */
function inOrder(manifests: KubernetesManifest[]): KubernetesManifest[] {
  const kinds = manifests.map((m) => m.kind).join(",");
  if (kinds !== "ServiceAccount,Role,RoleBinding,ConfigMap,ConfigMap,CronJob") {
    throw new Error(`renderKubernetesRebuildJob returned ${kinds}; KubernetesRebuilder creates ServiceAccount, Role, RoleBinding, ConfigMap, ConfigMap, CronJob`);
  }
  return manifests;
}
