/**
 * HarborRegistry: an existing Harbor (on Kubernetes or anywhere) configured for golden images,
 * behind the same Registry interface as ECR, so the pipeline, the stack config and the executors
 * work with it unchanged:
 * - one private project for the golden images (scan on push; optionally Harbor's deployment
 *   security: refuse pulls of images with findings at a severity, and cosign-only pulls);
 * - an immutable-tag rule: every tag but the build cache and cosign's `sha256-*` tags;
 * - a retention policy rendered from the SAME lifecycle args as ECR's (keep the last N releases,
 *   expire untagged images);
 * - a pipeline robot with push on that project only (the `basic` login every executor uses), and
 *   `grant()` robots with exactly the asked access (a pull robot has no push);
 * - optionally a proxy-cache project for upstream bases (Harbor's pull-through cache, which the
 *   `mirror` setting then names).
 * Harbor objects are declared by the Pulumiverse provider's tokens (harbor-resources.ts): a real
 * `pulumi up` installs the pinned provider plugin. Projects are kept on destroy unless
 * `allowDelete` says otherwise, as ECR's repositories are.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { z } from "zod";
import { HARBOR_CHART, HARBOR_INTERNAL_REGISTRY_USER, HarborDeployArgs, harborValuesIssues, renderHarborValues, withInternalDatabasePassword } from "../render/harbor-values";
import { DefaultLifecycleOptions, validateDefaultLifecycleOptions, LIFECYCLE_DEFAULTS } from "../render/lifecycle";
import { joinPath, throwIfIssues, ValidationIssue } from "../render/issues";
import { structuralIssues } from "../render/schema";
import {
  HARBOR_SEVERITIES,
  HarborSeverity,
  harborImmutableTagRules,
  harborRetentionPolicy,
  harborRobotPermissions,
  validateHarborProjectName,
  validateHarborSchedule,
  validateHarborSeverity,
  validateHarborUrl,
} from "../render/harbor";
import { BUILD_CACHE_TAG } from "./ecr-base";
import { HarborImmutableTagRule, HarborProject, HarborProvider, HarborRegistryEndpoint, HarborRetentionPolicy, HarborRobotAccount } from "./harbor-resources";
import { COSIGN_TAG_PATTERNS, Grant, Grantee, Registry, RegistryAccess, RegistryAuth, TagRules, unknownImageError } from "./registry";

export const HARBOR_REGISTRY_TYPE = "golden-image:registry:HarborRegistry";
export const HARBOR_TAG_RULES: TagRules = { immutable: true, mutableTags: [BUILD_CACHE_TAG, ...COSIGN_TAG_PATTERNS] };
export const HARBOR_REGISTRY_DEFAULTS = { retentionSchedule: "Daily", adminUsername: "admin", scanOnPush: true } as const;

export interface HarborRegistryArgs {
  /** The images this registry holds repositories for (created by Harbor on first push). */
  readonly images: readonly string[];
  /** Harbor's URL, e.g. `https://harbor.example.internal`. */
  readonly url: string;
  /** The project of the golden images, e.g. `golden-prod`. */
  readonly project: string;
  /** Who the provider signs in as (an administrator, or a system robot that may manage projects and robots).
   *  The password is a secret. */
  readonly admin: { readonly username?: string; readonly password: pulumi.Input<string> };
  /** The same lifecycle args as ECR's. @default keep 30 releases, expire untagged after 14 days */
  readonly lifecycle?: DefaultLifecycleOptions;
  /** When Harbor runs the retention policy: Hourly, Daily, Weekly or a 6-field cron. @default "Daily" */
  readonly retentionSchedule?: string;
  readonly security?: {
    /** @default true */
    readonly scanOnPush?: boolean;
    /** Refuse pulls of images with a finding at this severity or worse (Harbor's deployment security).
     *  The pipeline pulls an image to scan and sign it before it is signed, so enable this for
     *  consumers' pulls only when the pipeline's robot is exempt in your Harbor version.
     *  @default none */
    readonly preventVulnerable?: HarborSeverity;
    /** Refuse pulls of images without a cosign signature. Harbor checks that *a* signature exists,
     *  not who signed (goharbor/harbor#18808): GoldenAdmission checks who. @default false */
    readonly cosignOnly?: boolean;
  };
  /** A proxy-cache project for upstream bases; `mirror` then is `<host>/<project>`. @default none */
  readonly proxyCache?: {
    readonly project: string;
    readonly upstreamUrl: string;
    /** Harbor's adapter, e.g. `docker-registry`, `harbor`. @default "docker-registry" */
    readonly providerName?: string;
    readonly accessId?: string;
    readonly accessSecret?: pulumi.Input<string>;
  };
  /** Deploy Harbor itself with the official Helm chart (pinned), at `url`; the admin password goes
   *  into a Secret the chart reads, never into the values. @default none: `url` is an existing Harbor */
  readonly deploy?: {
    /** The namespace (it must exist). */
    readonly namespace: string;
    /** The chart repository (an internal mirror of it). @default the chart's official repository */
    readonly chartRepository?: string;
    /** The chart's settings (TLS Secret, persistence, database, Redis, Trivy, image mirror); the
     *  external URL is `url`. */
    readonly values: Omit<HarborDeployArgs, "externalURL" | "adminPasswordSecret" | "encryptionKeySecret" | "registryCredentialsSecret">;
  };
  /** Lets `pulumi destroy` delete the projects with their images. @default false */
  readonly allowDelete?: boolean;
  /** Skip TLS verification of Harbor's API (a test Harbor). @default false */
  readonly insecure?: boolean;
}

const harborArgsSchema = z.strictObject({
  images: z.array(z.string()),
  url: z.string(),
  project: z.string(),
  admin: z.strictObject({ username: z.string().optional(), password: z.any() }),
  lifecycle: z.looseObject({}).optional(),
  retentionSchedule: z.string().optional(),
  security: z.strictObject({ scanOnPush: z.boolean().optional(), preventVulnerable: z.string().optional(), cosignOnly: z.boolean().optional() }).optional(),
  proxyCache: z
    .strictObject({ project: z.string(), upstreamUrl: z.string(), providerName: z.string().optional(), accessId: z.string().optional(), accessSecret: z.any().optional() })
    .optional(),
  deploy: z.strictObject({ namespace: z.string(), chartRepository: z.string().optional(), values: z.looseObject({}) }).optional(),
  allowDelete: z.boolean().optional(),
  insecure: z.boolean().optional(),
});

const PROXY_PROVIDERS = ["docker-registry", "harbor", "docker-hub", "quay", "github-ghcr", "aws-ecr", "google-gcr", "azure-acr", "jfrog-artifactory", "gitlab"] as const;

/** Every problem of the arguments at once, paths relative to them. */
export function validateHarborRegistryArgs(args: unknown): ValidationIssue[] {
  const structural = structuralIssues(harborArgsSchema, args, "");
  if (structural.length > 0) {
    return structural;
  }
  const a = args as HarborRegistryArgs;
  const issues: ValidationIssue[] = [...validateHarborUrl(a.url, "url"), ...validateHarborProjectName(a.project, "project")];
  if (a.images.length === 0) {
    issues.push({ path: "images", value: a.images, problem: "must not be empty", fix: "list the golden images" });
  }
  a.images.forEach((image, i) => {
    if (!/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/.test(image)) {
      issues.push({ path: joinPath("images", i), value: image, problem: "is not a Harbor repository name", fix: 'use lowercase path components, e.g. "api-base" or "team/api-base"' });
    }
  });
  if (a.admin.password === undefined || a.admin.password === "") {
    issues.push({ path: "admin.password", value: "(not set)", problem: "is required", fix: "give the administrator's password as a Pulumi secret (pulumi config set --secret ...)" });
  }
  if (a.lifecycle !== undefined) {
    issues.push(...validateDefaultLifecycleOptions(a.lifecycle, "lifecycle"));
  }
  if (a.retentionSchedule !== undefined) {
    issues.push(...validateHarborSchedule(a.retentionSchedule, "retentionSchedule"));
  }
  if (a.security?.preventVulnerable !== undefined) {
    issues.push(...validateHarborSeverity(a.security.preventVulnerable, "security.preventVulnerable"));
  }
  if (a.proxyCache !== undefined) {
    issues.push(...validateHarborProjectName(a.proxyCache.project, "proxyCache.project"), ...validateHarborUrl(a.proxyCache.upstreamUrl, "proxyCache.upstreamUrl"));
    if (a.proxyCache.project === a.project) {
      issues.push({ path: "proxyCache.project", value: a.proxyCache.project, problem: "is the golden images' project", fix: 'give the proxy cache its own project, e.g. "hub"' });
    }
    if (a.proxyCache.providerName !== undefined && !(PROXY_PROVIDERS as readonly string[]).includes(a.proxyCache.providerName)) {
      issues.push({ path: "proxyCache.providerName", value: a.proxyCache.providerName, problem: "is not a Harbor registry adapter", fix: `use one of ${PROXY_PROVIDERS.join(", ")}` });
    }
    if ((a.proxyCache.accessId === undefined) !== (a.proxyCache.accessSecret === undefined)) {
      issues.push({ path: "proxyCache.accessId", value: a.proxyCache.accessId, problem: "and accessSecret go together", fix: "give both (an upstream login) or neither (anonymous)" });
    }
  }
  if (a.deploy !== undefined) {
    if (!/^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/.test(a.deploy.namespace)) {
      issues.push({ path: "deploy.namespace", value: a.deploy.namespace, problem: "is not a Kubernetes namespace name", fix: 'use a DNS label, e.g. "harbor"' });
    }
    if (a.deploy.chartRepository !== undefined) {
      issues.push(...validateHarborUrl(a.deploy.chartRepository, "deploy.chartRepository"));
    }
    issues.push(...harborValuesIssues({ ...a.deploy.values, externalURL: a.url, adminPasswordSecret: { name: "harbor-admin" }, encryptionKeySecret: "harbor-secret-key", registryCredentialsSecret: "harbor-registry-credentials" }, "deploy.values").filter((i) => !i.path.startsWith("deploy.values.externalURL")));
  }
  return issues;
}

export class HarborRegistry extends pulumi.ComponentResource implements Registry {
  public readonly kind = "harbor" as const;
  public readonly tagRules: TagRules = HARBOR_TAG_RULES;
  public readonly imageNames: readonly string[];
  /** `host[:port]` of Harbor's registry. */
  public readonly host: string;
  public readonly project: HarborProject;
  /** The pipeline's robot (push on the golden project only); its secret is a secret output. */
  public readonly pipelineRobot: HarborRobotAccount;
  /** `<host>/<proxy project>` when a proxy cache is configured: the stack's `mirror`. */
  public readonly mirror?: string;
  /** The Helm values, when `deploy` was given (no secret in them: the admin password is a Secret). */
  public readonly values?: Record<string, unknown>;
  private readonly projectName: string;
  private readonly provider: HarborProvider;

  constructor(name: string, args: HarborRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    throwIfIssues(`Invalid HarborRegistry "${name}"`, validateHarborRegistryArgs(args));
    super(HARBOR_REGISTRY_TYPE, name, {}, opts);
    this.imageNames = [...new Set(args.images)];
    this.host = new URL(args.url).host;
    this.projectName = args.project;
    const keep = { retainOnDelete: args.allowDelete !== true };
    const deployed: pulumi.Resource[] = [];
    if (args.deploy !== undefined) {
      const d = args.deploy;
      const secretName = `${name}-harbor-admin`.replace(/[^a-z0-9-]/g, "-").slice(0, 63);
      const adminSecret = new k8s.core.v1.Secret(
        `${name}-admin`,
        { metadata: { name: secretName, namespace: d.namespace }, type: "Opaque", stringData: { HARBOR_ADMIN_PASSWORD: pulumi.secret(args.admin.password) } },
        { parent: this },
      );
      // Harbor's encryption key (16 characters), generated once and kept in the state as a secret.
      const keyName = `${name}-harbor-secret-key`.replace(/[^a-z0-9-]/g, "-").slice(0, 63);
      const key = new random.RandomPassword(`${name}-secret-key`, { length: 16, special: false }, { parent: this });
      const keySecret = new k8s.core.v1.Secret(
        `${name}-secret-key`,
        { metadata: { name: keyName, namespace: d.namespace }, type: "Opaque", stringData: { secretKey: key.result } },
        { parent: this },
      );
      // The login the core and the job service use with Harbor's own registry: generated, its
      // bcrypt line made by the provider, never the chart's well-known default.
      const registryName = `${name}-harbor-registry-credentials`.replace(/[^a-z0-9-]/g, "-").slice(0, 63);
      const registryPassword = new random.RandomPassword(`${name}-registry-password`, { length: 32, special: false }, { parent: this });
      const registrySecret = new k8s.core.v1.Secret(
        `${name}-registry-credentials`,
        {
          metadata: { name: registryName, namespace: d.namespace },
          type: "Opaque",
          stringData: {
            REGISTRY_PASSWD: registryPassword.result,
            REGISTRY_HTPASSWD: pulumi.secret(pulumi.interpolate`${HARBOR_INTERNAL_REGISTRY_USER}:${registryPassword.bcryptHash}`),
          },
        },
        { parent: this },
      );
      this.values = renderHarborValues({ ...d.values, externalURL: args.url, adminPasswordSecret: { name: secretName }, encryptionKeySecret: keyName, registryCredentialsSecret: registryName });
      // The chart takes the internal PostgreSQL password from its values only (it has no
      // existing-Secret option for it): generated here and merged into the release's values as a
      // secret, so the rendered values stay free of it and the chart's default is never used.
      const releaseValues =
        d.values.database?.external === undefined
          ? pulumi.secret(
              new random.RandomPassword(`${name}-database-password`, { length: 32, special: false }, { parent: this }).result.apply((password) =>
                withInternalDatabasePassword(this.values as Record<string, unknown>, password),
              ),
            )
          : this.values;
      deployed.push(
        new k8s.helm.v3.Release(
          `${name}-harbor`,
          {
            chart: HARBOR_CHART.name,
            version: HARBOR_CHART.version,
            repositoryOpts: { repo: d.chartRepository ?? HARBOR_CHART.repository },
            namespace: d.namespace,
            values: releaseValues,
            // Harbor's migrations and first start take minutes; the projects wait for it.
            timeout: 900,
            atomic: false,
          },
          { parent: this, dependsOn: [adminSecret, keySecret, registrySecret], ...keep },
        ),
      );
    }
    this.provider = new HarborProvider(
      `${name}-provider`,
      { url: args.url, username: args.admin.username ?? HARBOR_REGISTRY_DEFAULTS.adminUsername, password: args.admin.password, insecure: args.insecure ?? false },
      { parent: this, dependsOn: deployed },
    );
    const child = { parent: this, provider: this.provider };
    const security = args.security ?? {};
    this.project = new HarborProject(
      `${name}-project`,
      {
        name: args.project,
        public: false,
        vulnerabilityScanning: security.scanOnPush ?? HARBOR_REGISTRY_DEFAULTS.scanOnPush,
        enableContentTrustCosign: security.cosignOnly ?? false,
        ...(security.preventVulnerable !== undefined ? { deploymentSecurity: security.preventVulnerable } : {}),
        forceDestroy: args.allowDelete === true,
      },
      { ...child, ...keep },
    );
    const releases = args.lifecycle?.releaseTagPrefixes ?? LIFECYCLE_DEFAULTS.releaseTagPrefixes;
    for (const [i, rule] of harborImmutableTagRules(releases, HARBOR_TAG_RULES.mutableTags).entries()) {
      new HarborImmutableTagRule(`${name}-immutable-${i}`, { projectId: this.project.id, ...rule }, child);
    }
    const retention = harborRetentionPolicy(args.lifecycle ?? {}, args.retentionSchedule ?? HARBOR_REGISTRY_DEFAULTS.retentionSchedule);
    new HarborRetentionPolicy(`${name}-retention`, { scope: this.project.id, schedule: retention.schedule, rules: retention.rules }, child);
    this.pipelineRobot = this.robot(`${name}-pipeline`, "pipeline", "push", "the golden image pipeline: push, sign and attest");
    if (args.proxyCache !== undefined) {
      const p = args.proxyCache;
      const endpoint = new HarborRegistryEndpoint(
        `${name}-upstream`,
        {
          name: `${p.project}-upstream`,
          providerName: p.providerName ?? "docker-registry",
          endpointUrl: p.upstreamUrl,
          description: "upstream of the golden images' base proxy cache",
          ...(p.accessId !== undefined ? { accessId: p.accessId, accessSecret: p.accessSecret } : {}),
        },
        child,
      );
      new HarborProject(`${name}-proxy-cache`, { name: p.project, public: false, registryId: endpoint.registryId, vulnerabilityScanning: true, forceDestroy: args.allowDelete === true }, { ...child, ...keep });
      this.mirror = `${this.host}/${p.project}`;
    }
    this.registerOutputs({ host: this.host, project: args.project });
  }

  private robot(id: string, robotName: string, access: RegistryAccess, description: string, opts?: pulumi.CustomResourceOptions): HarborRobotAccount {
    return new HarborRobotAccount(
      id,
      { name: robotName, description, level: "project", permissions: harborRobotPermissions(this.projectName, access), duration: -1 },
      { parent: this, provider: this.provider, dependsOn: [this.project], ...(opts ?? {}) },
    );
  }

  public repositoryUrl(image: string): pulumi.Output<string> {
    if (!this.imageNames.includes(image)) {
      throw unknownImageError("harbor", image, this.imageNames);
    }
    return pulumi.output(`${this.host}/${this.projectName}/${image}`);
  }

  /** The pipeline robot's login (`robot$<project>+pipeline` and its secret), resolved by each executor. */
  public auth(): RegistryAuth {
    return { kind: "basic", address: pulumi.output(this.host), username: this.pipelineRobot.fullName, password: pulumi.secret(this.pipelineRobot.secret) };
  }

  /** A robot with exactly `access` on the golden project; its name and secret come back as credentials. */
  public grant(id: string, grantee: Grantee, access: RegistryAccess, opts?: pulumi.CustomResourceOptions): Grant {
    if (grantee.kind !== "robot") {
      throw new Error(`Harbor grants go to robot accounts, not to an ${grantee.kind} ("${String(grantee.roleName)}"). Fix: pass { kind: "robot", name }`);
    }
    const robot = this.robot(id, grantee.name, access, `${access} on the golden images (${id})`, opts);
    return { resources: [robot], credentials: { username: robot.fullName, password: pulumi.secret(robot.secret) } };
  }

  public cacheRef(image: string): pulumi.Output<string> {
    return this.repositoryUrl(image).apply((u) => `${u}:${BUILD_CACHE_TAG}`);
  }
}

export { HARBOR_SEVERITIES };
