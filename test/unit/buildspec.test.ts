/**
 * The CodeBuild buildspec rendered from the plan: a golden file, the plan's script carried
 * unchanged (bash itself writes it back from the here-document), every command valid bash, the
 * toolchain pinned by module checksum, secrets only as Secrets Manager references.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { planImages, renderPlanScript } from "../../components/plan";
import { BuildspecArgs, buildspecIssues, goToolsOf, renderBuildspec } from "../../components/plan/buildspec";
import { SupplyChainTarget } from "../../components/plan/planner";
import { GO_TOOLCHAIN } from "../../components/plan/toolchain";
import { ValidationError } from "../../components/render/issues";
import { helloSpec } from "./specs";

const spec = helloSpec;
const policy = { environment: "dev" as const, allowTagOnlyBases: true, sourceDateEpoch: 1763856000 };
const SECRET = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:golden-images/dev/cosign-AbCdEf";
const HOST = "golden.registry.example.internal";
const chain = (signing: SupplyChainTarget["signing"]): SupplyChainTarget => ({
  signing,
  gate: { scanner: "grype", severity: "HIGH" },
  promotionStore: "ssm:/golden-images/dev",
  builderId: "arn:aws:codebuild:eu-central-1:123456789012:project/golden-images-dev-rebuild",
});
const planWith = (signing: SupplyChainTarget["signing"]) =>
  planImages([spec("api-base"), spec("worker-base")], policy, (s) => ({ repository: `${HOST}/golden/${s.name}`, mirror: `${HOST}/mirror`, insecure: false, supplyChain: chain(signing) }));
const keypair = planWith({ mode: "keypair", key: "env://COSIGN_PRIVATE_KEY", publicKey: "env://COSIGN_PUBLIC_KEY" });
const args: BuildspecArgs = { plan: keypair, registryHosts: [HOST], goldenVersion: "0.1.0", signingSecretArn: SECRET };
const GOLDEN = path.join(__dirname, "..", "golden", "codebuild-buildspec.yaml");

function bash(script: string, cwd: string): { status: number; stderr: string } {
  const r = spawnSync("bash", ["-c", script], { cwd, encoding: "utf8" });
  return { status: r.status ?? 1, stderr: r.stderr };
}

describe("renderBuildspec", () => {
  const text = renderBuildspec(args);
  const doc = parse(text);

  it("GIVEN a two-image keypair plan THEN the buildspec equals the golden file", () => {
    if (process.env.UPDATE_GOLDEN === "1") {
      fs.writeFileSync(GOLDEN, text);
    }
    expect(text).toBe(fs.readFileSync(GOLDEN, "utf8"));
  });

  it("THEN it is a version 0.2 buildspec with the four parts CodeBuild reads, and the runtimes pinned", () => {
    expect(doc.version).toBe(0.2);
    expect(Object.keys(doc.phases)).toEqual(["install", "pre_build", "build"]);
    expect(doc.phases.install["runtime-versions"]).toEqual({ golang: "1.26", nodejs: "22" });
    expect(doc.cache.paths).toContain("/root/.cache/pulumi-golden-image/**/*");
  });

  it("THEN bash writes back the plan's script byte for byte from the build phase, and runs it", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "buildspec-"));
    try {
      const [write, run] = doc.phases.build.commands as string[];
      expect(bash(write.replace("/var/golden/plan.sh", path.join(dir, "plan.sh")), dir).status).toBe(0);
      expect(fs.readFileSync(path.join(dir, "plan.sh"), "utf8")).toBe(renderPlanScript(keypair));
      expect(run).toBe("GOLDEN_CLI=golden sh /var/golden/plan.sh");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("THEN every command of every phase is valid bash (bash -n)", () => {
    const commands = Object.values(doc.phases).flatMap((p: any) => p.commands as string[]);
    expect(commands.length).toBeGreaterThan(8);
    for (const c of commands) {
      const r = spawnSync("bash", ["-n", "-c", c], { encoding: "utf8" });
      expect({ c, status: r.status, stderr: r.stderr }).toEqual({ c, status: 0, stderr: "" });
    }
  });

  it("THEN the key pair comes from Secrets Manager by reference and no secret value is in the document", () => {
    expect(doc.env["secrets-manager"]).toEqual({
      COSIGN_PASSWORD: `${SECRET}:COSIGN_PASSWORD`,
      COSIGN_PRIVATE_KEY: `${SECRET}:COSIGN_PRIVATE_KEY`,
      COSIGN_PUBLIC_KEY: `${SECRET}:COSIGN_PUBLIC_KEY`,
    });
    expect(text).not.toMatch(/BEGIN .*PRIVATE KEY/);
  });

  it("THEN the tools the plan uses are installed at their pinned versions, checked by module checksum", () => {
    expect(goToolsOf(keypair)).toEqual(["buildkit", "cosign", "grype", "syft"]);
    for (const t of ["buildkit", "cosign", "grype", "syft"] as const) {
      expect(text).toContain(`${GO_TOOLCHAIN[t].module} ${GO_TOOLCHAIN[t].version} ${GO_TOOLCHAIN[t].sum}`);
    }
    expect(text).not.toContain("github.com/aquasecurity/trivy");
  });

  it("GIVEN the same plan twice THEN the same bytes (a quiet preview)", () => {
    expect(renderBuildspec({ ...args, plan: planWith({ mode: "keypair", key: "env://COSIGN_PRIVATE_KEY", publicKey: "env://COSIGN_PUBLIC_KEY" }) })).toBe(text);
  });

  it("GIVEN a KMS-signed plan THEN no secret is referenced and none is needed", () => {
    const kms = planWith({ mode: "kms", key: "awskms:///alias/golden-images-dev", publicKey: "awskms:///alias/golden-images-dev" });
    const d = parse(renderBuildspec({ plan: kms, registryHosts: [HOST], goldenVersion: "0.1.0" }));
    expect(d.env["secrets-manager"]).toBeUndefined();
  });

  it("GIVEN a plan script holding the here-document's delimiter THEN another delimiter is chosen", () => {
    const plan = { ...keypair, steps: keypair.steps.map((s, i) => (i === 0 ? { ...s, files: { ...s.files, "x.txt": "before\nGOLDEN_PLAN\nafter" } } : s)) };
    const d = parse(renderBuildspec({ ...args, plan }));
    expect(d.phases.build.commands[0]).toMatch(/<<'GOLDEN_PLAN_2'\n/);
  });

  it("GIVEN bad inputs THEN every problem at once", () => {
    const bad = { plan: keypair, registryHosts: ["https://x/y"], goldenVersion: "latest" };
    expect(buildspecIssues(bad).map((i) => [i.path, i.problem])).toEqual([
      ["registryHosts[0]", "is not a registry host"],
      ["goldenVersion", "is not a release version"],
      ["signingSecretArn", "is required: the plan reads COSIGN_PASSWORD, COSIGN_PRIVATE_KEY, COSIGN_PUBLIC_KEY from the environment"],
    ]);
    expect(() => renderBuildspec(bad)).toThrow(ValidationError);
  });
});
