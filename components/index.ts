/**
 * pulumi-golden-image: the public API. Curated: components, their argument types, and the
 * validate/render functions a user calls. Internals stay importable by path for tests but are
 * not part of the contract; `api/pulumi-golden-image.api.md` (api-extractor) shows every change.
 */

// Components
export { GoldenImagePipeline, validateGoldenImagePipelineArgs } from "./pipeline";
export type { GoldenImagePipelineArgs, PipelineRegistryArgs } from "./pipeline";
export { HardenedImage, HARDENED_IMAGE_DEFAULTS, registryImageResolver } from "./image/hardened-image";
export type { HardenedImageArgs, BaseResolver } from "./image/hardened-image";
export { gitSourceReader, readGitFacts } from "./image/git-source";
export type { SourceReader } from "./image/git-source";
export type { GitFacts } from "./spec/source";
export { EcrRegistry, validateEcrRegistryArgs } from "./registry/ecr-registry";
export type { EcrRegistryArgs, PullThroughCacheArgs } from "./registry/ecr-registry";
export { ExistingEcrRegistry, validateExistingEcrRegistryArgs } from "./registry/existing-ecr-registry";
export type { ExistingEcrRegistryArgs } from "./registry/existing-ecr-registry";
export { HarborRegistry, validateHarborRegistryArgs, HARBOR_TAG_RULES, HARBOR_REGISTRY_DEFAULTS } from "./registry/harbor-registry";
export type { HarborRegistryArgs } from "./registry/harbor-registry";
export { HARBOR_PROVIDER } from "./registry/harbor-resources";
export { renderHarborValues, harborValuesIssues, HARBOR_CHART } from "./render/harbor-values";
export type { HarborDeployArgs } from "./render/harbor-values";

// The registry interface and the backend table
export { REGISTRY_KINDS, REGISTRY_ACCESS, COSIGN_TAG_PATTERNS } from "./registry/registry";
export type { Registry, RegistryKind, RegistryAuth, Grantee, Grant, RegistryAccess, TagRules } from "./registry/registry";
export { registerRegistryBackend, registryTypes } from "./registry/backends";
export type { RegistryBackend } from "./registry/backends";
export { BUILD_CACHE_TAG, ECR_TAG_RULES } from "./registry/ecr-base";

// Specs and the base catalog
export { ENVIRONMENTS, HARDENING_LEVELS, PLATFORMS } from "./spec/types";
export type { ImageSpec, BuilderStage, CopySpec, HealthcheckSpec, EnvironmentPolicy, EnvironmentName, Hardening, Platform } from "./spec/types";
export { CATALOG, FLAVORS, NONROOT_UID, NONROOT_GID } from "./spec/catalog";
export type { Flavor, FlavorInfo, PackageManager } from "./spec/catalog";

// Validation and rendering
export { ValidationError, formatIssues } from "./render/issues";
export type { ValidationIssue } from "./render/issues";
export { InvalidArgumentsError } from "./errors";
export { validateImageSpec, validateImages, validateEnvironmentPolicy } from "./render/validate";
export { renderDockerfile } from "./render/dockerfile";
export { lintDockerfile } from "./render/lint";
export type { LintOptions } from "./render/lint";
export { renderLifecyclePolicy, defaultLifecycleRules, LIFECYCLE_DEFAULTS } from "./render/lifecycle";
export type { DefaultLifecycleOptions, LifecycleRule } from "./render/lifecycle";
export { renderGrantPolicy, renderRepositoryPolicy, ECR_PULL_ACTIONS, ECR_PUSH_ACTIONS } from "./render/iam";
export type { RepositoryPolicyArgs } from "./render/iam";

// The pipeline plan and its script form (for executors)
export { STEP_KINDS, TOOL_NAMES } from "./plan/types";
export type { Plan, Step, StepKind, StepRun, StepCondition, ToolName } from "./plan/types";
export { planImage, planImages, SUPPLY_CHAIN_KINDS } from "./plan/planner";
export type { ImageTarget, SupplyChainTarget } from "./plan/planner";
export { renderPlanScript } from "./plan/script";
export { TOOLS } from "./plan/tools";
export type { ToolInfo } from "./plan/tools";

// Signing, the vulnerability gate and attestations
export { SIGNING_MODES, SIGNATURE_FORMATS, SIGNING_DEFAULTS, ATTESTATION_TYPES, PREDICATE_TYPE_URIS } from "./signing/types";
export type { SigningMode, SignatureFormat, SigningPlan, SigningSettings, AttestationKind } from "./signing/types";
export { SCANNERS, SEVERITIES, THRESHOLDS, GATE_DEFAULTS, gatePolicyIssues, evaluateGate, findingsOf, verdictSummary } from "./signing/gate";
export type { GatePolicy, IgnoreEntry, Scanner, Severity, Threshold, Finding, GateVerdict, IgnoredFinding } from "./signing/gate";
export { signingSettingsIssues } from "./signing/validate";
export { cosignSignArgs, cosignAttestArgs, cosignVerifyArgs, cosignVerifyAttestationArgs } from "./signing/cosign";
export { provenancePredicate, vulnPredicate, PROVENANCE_BUILD_TYPE } from "./signing/predicates";
export type { ProvenanceInput } from "./signing/predicates";
export { SigningKey, validateSigningKeyArgs, KEYPAIR_ENV } from "./signing/signing-key";
export type { SigningKeyArgs, KmsSigningKeyArgs, KeypairSigningKeyArgs, KeylessSigningKeyArgs } from "./signing/signing-key";
export { encryptCosignPrivateKey } from "./signing/cosign-key";
export { renderSigningKeyPolicy, renderEcrKeyPolicy } from "./render/kms-policy";
export type { SigningKeyPolicyArgs, EcrKeyPolicyArgs } from "./render/kms-policy";
export { signingKeyArgsFromSettings } from "./signing/signing-key";

// Rebuilds: schedules, the CodeBuild and Kubernetes executors, the promotion pointer
export { SCHEDULE_CONSUMERS, REBUILD_SCHEDULE_DEFAULTS, scheduleIssues, prepareRebuildSchedule } from "./rebuild/schedule";
export type { ScheduleConsumer, RebuildScheduleArgs, RebuildSchedule } from "./rebuild/schedule";
export { CodeBuildRebuilder, FINDING_SEVERITIES, findingsEventPattern, CODEBUILD_DEFAULTS } from "./rebuild/codebuild-rebuilder";
export type { CodeBuildRebuilderArgs, FindingSeverity } from "./rebuild/codebuild-rebuilder";
export { GoldenImageRef, getApprovedDigest } from "./rebuild/golden-image-ref";
export type { GoldenImageRefArgs } from "./rebuild/golden-image-ref";
export { renderBuildspec } from "./plan/buildspec";
export type { BuildspecArgs } from "./plan/buildspec";
export { GO_TOOLCHAIN, renderToolInstallScript } from "./plan/toolchain";
export type { GoTool, GoToolName } from "./plan/toolchain";
export { renderKubernetesRebuildJob, kubernetesRebuildJobIssues } from "./plan/kubernetes-job";
export type { KubernetesRebuildJobArgs, KubernetesManifest, ContainerResources } from "./plan/kubernetes-job";
export { PROMOTION_STORE_KINDS, promotionStoreIssues } from "./plan/promotion-store";
export type { PromotionStoreKind } from "./plan/promotion-store";
export { renderBuilderPolicy, renderStarterPolicy, renderTrustPolicy } from "./render/rebuild-iam";
export type { BuilderPolicyArgs, StarterPolicyArgs, AccountScope, ExecutorService } from "./render/rebuild-iam";
export { KubernetesRebuilder, kubernetesRebuilderIssues } from "./rebuild/kubernetes-rebuilder";
export type { KubernetesRebuilderArgs } from "./rebuild/kubernetes-rebuilder";
export type { GitSource } from "./plan/kubernetes-job";

// Admission: enforce the pipeline where images run
export { GoldenAdmission, verifierFromSigning, ADMISSION_ENGINES, KYVERNO_APIS } from "./admission/golden-admission";
export type { GoldenAdmissionArgs, AdmissionEngine, KyvernoApi } from "./admission/golden-admission";
export { renderImageValidatingPolicy, renderClusterPolicy, renderClusterImagePolicy, renderWorkloadPolicy, admissionPolicyIssues, ADMISSION_ACTIONS } from "./render/admission";
export type { AdmissionPolicyArgs, AdmissionVerifier, AdmissionAction, WorkloadPolicyArgs } from "./render/admission";
