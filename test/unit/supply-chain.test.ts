/**
 * The supply chain as data and as pure functions: the gate policy and its verdict, the plan's
 * steps after the push (by digest, no secrets, fail closed), cosign's command lines, and the
 * predicates. The integration tests run the same steps with the real cosign, Syft and scanners.
 */
import { planImage, planProblems, renderPlanScript, SUPPLY_CHAIN_KINDS, STEP_KINDS } from "../../components/plan";
import { SupplyChainTarget } from "../../components/plan/planner";
import { Step } from "../../components/plan/types";
import { evaluateGate, Finding, findingsOf, gatePolicyIssues, mergeScanReports, parseDay, verdictProblems, verdictSummary } from "../../components/signing/gate";
import { provenancePredicate, sha256Hex, vulnPredicate } from "../../components/signing/predicates";
import { signingSettingsIssues } from "../../components/signing/validate";
import { consumerVerifyCommand } from "../../cli/golden";
import { ImageSpec } from "../../components/spec/types";
import { formatIssue } from "../../components/render/issues";

const spec: ImageSpec = {
  name: "hello",
  flavor: "distroless-static",
  context: "images/hello",
  builders: [{ name: "build", copy: [{ src: "hello.c", dest: "/src/hello.c" }], run: ["gcc -static -o /out/hello hello.c"] }],
  copy: [{ from: "build", src: "/out/hello", dest: "/hello" }],
  entrypoint: ["/hello"],
};
const policy = { environment: "dev" as const, allowTagOnlyBases: true, sourceDateEpoch: 1763856000 };
const chain: SupplyChainTarget = {
  signing: { mode: "keypair", key: "env://GOLDEN_COSIGN_PRIVATE_KEY", publicKey: "env://GOLDEN_COSIGN_PUBLIC_KEY" },
  gate: { scanner: "grype", severity: "HIGH", ignore: [{ id: "CVE-2024-0001", reason: "not reachable from the entrypoint", expires: "2099-01-01" }] },
  promotionStore: ".golden/promoted",
  builderId: "urn:pulumi-golden-image:executor:local",
  revision: "0123456789abcdef0123456789abcdef01234567",
};
const target = { repository: "127.0.0.1:5000/golden/hello", mirror: "127.0.0.1:5000/mirror", insecure: true, supplyChain: chain };

const finding = (over: Partial<Finding>): Finding => ({ id: "CVE-2024-0002", package: "libssl3", sourcePackage: "openssl", installed: "3.0.1-1", fixedIn: ["3.0.2-1"], severity: "HIGH", ...over });
const now = new Date("2026-11-25T12:00:00Z");

describe("the plan with a supply chain", () => {
  const steps = planImage(spec, policy, target);
  const byKind = (k: string) => steps.find((s) => s.kind === k) as Step;

  it("adds the supply chain steps after verify, in order, and the plan checks out", () => {
    expect(steps.map((s) => s.kind)).toEqual([...STEP_KINDS]);
    expect(steps.slice(6).map((s) => s.kind)).toEqual([...SUPPLY_CHAIN_KINDS]);
    expect(planProblems({ version: 1, steps })).toEqual([]);
  });

  it("signs, attests, scans and verifies the digest the verify step proved, never a tag", () => {
    const digestSteps = steps.filter((s) => ["sbom", "scan", "sign", "attest-sbom", "attest-scan", "attest-provenance", "verify-signature", "verify-sbom", "verify-scan", "verify-provenance", "promote"].includes(s.kind));
    expect(digestSteps).toHaveLength(11);
    for (const s of digestSteps) {
      // promote records the tag beside the digest (--tag), but acts on the digest only.
      const args = s.run.args.filter((a, i, all) => a !== "--tag" && all[i - 1] !== "--tag");
      expect(args.join(" ")).toContain("$(results.hello:verify.ref)");
      expect(args.join(" ")).not.toContain("$(results.hello:render.tag)");
    }
  });

  it("fails closed: signing needs the gate, promotion needs every verification", () => {
    expect(byKind("sign").needs).toEqual(["hello:gate"]);
    expect(byKind("build").needs).toEqual(["hello:decide"]);
    expect(byKind("gate").needs).toEqual(["hello:assess"]);
    expect(byKind("promote").needs).toEqual(["hello:verify-signature", "hello:verify-sbom", "hello:verify-scan", "hello:verify-provenance"]);
    expect(byKind("attest-sbom").needs).toContain("hello:sign");
    expect(byKind("attest-provenance").needs).toContain("hello:sign");
  });

  it("classic format: attests the scan report whether the gate passes or not; bundle format: only after it passed", () => {
    expect(byKind("attest-scan").needs).toEqual(["hello:assess"]);
    expect(byKind("sign").run.args).toContain("--new-bundle-format=false");
    const bundle = planImage(spec, policy, { ...target, supplyChain: { ...chain, signing: { ...chain.signing, format: "bundle" } } });
    const attest = bundle.find((s) => s.kind === "attest-scan") as Step;
    expect(attest.needs).toEqual(["hello:assess", "hello:gate"]);
    expect(attest.run.args).not.toContain("--new-bundle-format=false");
    expect(planProblems({ version: 1, steps: bundle })).toEqual([]);
  });

  it("names keys by reference only, and no secret is in the plan or its script", () => {
    const sign = byKind("sign").run.args;
    expect(sign.slice(0, 3)).toEqual(["sign", "--key", "env://GOLDEN_COSIGN_PRIVATE_KEY"]);
    expect(byKind("verify-signature").run.args).toEqual(expect.arrayContaining(["--key", "env://GOLDEN_COSIGN_PUBLIC_KEY", "--insecure-ignore-tlog=true", "--allow-http-registry"]));
    const script = renderPlanScript({ version: 1, steps });
    expect(script).not.toMatch(/PRIVATE KEY|COSIGN_PASSWORD=/);
    expect(script).toContain("SYFT_CHECK_FOR_APP_UPDATE=false SYFT_REGISTRY_INSECURE_USE_HTTP=true $GOLDEN_SYFT scan");
    expect(script).toContain(': "${GOLDEN_COSIGN:=cosign}"');
    // A missing key or password stops the script before anything runs, naming the variable.
    expect(script).toContain(': "${GOLDEN_COSIGN_PRIVATE_KEY:?GOLDEN_COSIGN_PRIVATE_KEY is not set');
    expect(script).toContain(': "${COSIGN_PASSWORD:?COSIGN_PASSWORD is not set');
  });

  it("plain HTTP only for a loopback registry: no insecure flags for a TLS one", () => {
    const tls = planImage(spec, policy, { ...target, repository: "registry.internal/golden/hello", insecure: false });
    const words = tls.flatMap((s) => [...s.run.args, ...Object.keys(s.run.env ?? {})]);
    expect(words).not.toContain("--allow-http-registry");
    expect(words).not.toContain("SYFT_REGISTRY_INSECURE_USE_HTTP");
    expect(words).not.toContain("GRYPE_REGISTRY_INSECURE_USE_HTTP");
  });

  it("scans with the gate's scanner: grype by default, trivy when chosen", () => {
    expect(byKind("scan").run.tool).toBe("grype");
    expect(byKind("scan").run.args).toEqual(["registry:$(results.hello:verify.ref)", "--output", "json", "--file", ".golden/run/hello/scan/report.json"]);
    const trivy = planImage(spec, policy, { ...target, supplyChain: { ...chain, gate: { scanner: "trivy" } } }).find((s) => s.kind === "scan") as Step;
    expect(trivy.run.tool).toBe("trivy");
    expect(trivy.run.args).toEqual(expect.arrayContaining(["image", "--scanners", "vuln", "--format", "json", "--insecure", "$(results.hello:verify.ref)"]));
  });

  it("keyless: no key, the expected identity and issuer at verification, the transparency log kept", () => {
    const keyless = planImage(spec, policy, { ...target, supplyChain: { ...chain, signing: { mode: "keyless", identity: "https://ci.example/wf@refs/heads/main", issuer: "https://token.example" } } });
    const sign = (keyless.find((s) => s.kind === "sign") as Step).run.args;
    expect(sign).not.toContain("--key");
    expect(sign).not.toContain("--tlog-upload=false");
    const verify = (keyless.find((s) => s.kind === "verify-signature") as Step).run.args;
    expect(verify).toEqual(expect.arrayContaining(["--certificate-identity", "https://ci.example/wf@refs/heads/main", "--certificate-oidc-issuer", "https://token.example"]));
    expect(verify).not.toContain("--insecure-ignore-tlog=true");
  });

  it("writes the gate policy for the assess step, and the provenance names the revision and builder", () => {
    expect(JSON.parse(byKind("assess").files[".golden/run/hello/scan/gate-policy.json"])).toEqual(chain.gate);
    expect(byKind("provenance").run.args).toEqual(expect.arrayContaining(["--revision", chain.revision, "--builder-id", chain.builderId]));
  });

  it("prints the consumer's cosign command with the public key file", () => {
    expect(consumerVerifyCommand(chain.signing, "127.0.0.1:5000/golden/hello@sha256:" + "a".repeat(64))).toBe(
      `cosign verify --key cosign.pub --new-bundle-format=false --insecure-ignore-tlog=true --allow-http-registry 127.0.0.1:5000/golden/hello@sha256:${"a".repeat(64)}`,
    );
  });
});

describe("the gate policy", () => {
  it("accepts the defaults and a complete ignore entry", () => {
    expect(gatePolicyIssues({}, "gate")).toEqual([]);
    expect(gatePolicyIssues(chain.gate, "gate")).toEqual([]);
  });

  it("reports every problem at once, naming the property and the fix", () => {
    const issues = gatePolicyIssues(
      {
        scanner: "clair",
        severity: "SEVERE",
        ignore: [{ id: "CVE-1" }, { id: "not an id", reason: "short", expires: "2026-02-30" }],
      },
      "golden-images:gate",
    );
    const text = issues.map(formatIssue).join("\n");
    expect(text).toContain('golden-images:gate.scanner: is not one of the allowed values (value: "clair"). Fix: use one of: "grype", "trivy"');
    expect(text).toContain("golden-images:gate.severity");
    expect(text).toContain("golden-images:gate.ignore[0].reason: is required");
    expect(text).toContain("golden-images:gate.ignore[0].expires: is required");
  });

  it("checks ids, reasons, dates and duplicates once the structure is right", () => {
    const issues = gatePolicyIssues(
      {
        ignore: [
          { id: "not an id", reason: "short", expires: "2026-02-30" },
          { id: "CVE-2024-1", reason: "vendor says not exploitable here", expires: "2026-13-01" },
          { id: "CVE-2024-1", reason: "vendor says not exploitable here", expires: "2027-01-01" },
        ],
      },
      "gate",
    ).map((i) => `${i.path}: ${i.problem}`);
    expect(issues).toEqual([
      "gate.ignore[0].id: is not a vulnerability id",
      "gate.ignore[0].reason: does not say why the finding is acceptable",
      "gate.ignore[0].expires: is not a date YYYY-MM-DD",
      "gate.ignore[1].expires: is not a date YYYY-MM-DD",
      "gate.ignore[2].id: repeats ignore[1]",
    ]);
  });

  it("parses only real calendar days", () => {
    expect(parseDay("2024-02-29")).toBe(Date.UTC(2024, 1, 29));
    expect(parseDay("2023-02-29")).toBeUndefined();
    expect(parseDay("2023-2-1")).toBeUndefined();
  });
});

describe("the gate's verdict", () => {
  it("fails on a finding at or above the threshold and says which, with the fix", () => {
    const v = evaluateGate([finding({})], {}, now);
    expect(v.passed).toBe(false);
    expect(verdictProblems(v)).toEqual(["CVE-2024-0002 (HIGH) in libssl3 3.0.1-1, fixed in 3.0.2-1"]);
    expect(verdictSummary(v)).toMatch(/^FAILED: 1 problem\(s\): CVE-2024-0002 .* Fix: rebuild on a base with the fixed package versions/);
  });

  it("passes findings below the threshold (default HIGH) and counts them", () => {
    const v = evaluateGate([finding({ severity: "MEDIUM" }), finding({ id: "CVE-2024-9", severity: "LOW" })], {}, now);
    expect(v.passed).toBe(true);
    expect(verdictSummary(v)).toBe("passed (2 below HIGH)");
    expect(evaluateGate([finding({ severity: "MEDIUM" })], { severity: "MEDIUM" }, now).passed).toBe(false);
    expect(evaluateGate([finding({ severity: "HIGH" })], { severity: "CRITICAL" }, now).passed).toBe(true);
  });

  it("an unexpired ignore entry lets a finding through and the verdict keeps its reason", () => {
    const v = evaluateGate([finding({ id: "CVE-2024-0001" })], chain.gate, now);
    expect(v.passed).toBe(true);
    expect(v.ignored).toEqual([{ finding: finding({ id: "CVE-2024-0001" }), reason: "not reachable from the entrypoint", expires: "2099-01-01" }]);
    expect(verdictSummary(v)).toContain("1 ignored (CVE-2024-0001: not reachable from the entrypoint, until 2099-01-01)");
  });

  it("an expired entry fails the gate and says which, even with nothing to ignore", () => {
    const gate = { ignore: [{ id: "CVE-2024-0001", reason: "not reachable from the entrypoint", expires: "2026-11-25" }] };
    const v = evaluateGate([], gate, now);
    expect(v.passed).toBe(false);
    expect(verdictProblems(v)).toEqual(["ignore entry CVE-2024-0001 expired on 2026-11-25"]);
    expect(verdictSummary(v)).toContain("Fix: remove or renew the expired ignore entries");
    // The day before, it still applies.
    expect(evaluateGate([finding({ id: "CVE-2024-0001" })], gate, new Date("2026-11-24T23:59:59Z")).passed).toBe(true);
  });

  it("an entry for one package does not excuse another; a source package name matches", () => {
    const gate = { ignore: [{ id: "CVE-2024-0002", package: "openssl", reason: "TLS is terminated by the proxy", expires: "2099-01-01" }] };
    expect(evaluateGate([finding({})], gate, now).passed).toBe(true);
    expect(evaluateGate([finding({ package: "curl", sourcePackage: "curl" })], gate, now).passed).toBe(false);
  });

  it("ignoreUnfixed lets findings without a fix through, never ones with a fix", () => {
    expect(evaluateGate([finding({ fixedIn: [] })], { ignoreUnfixed: true }, now).passed).toBe(true);
    expect(evaluateGate([finding({ fixedIn: [] })], {}, now).passed).toBe(false);
    expect(evaluateGate([finding({})], { ignoreUnfixed: true }, now).passed).toBe(false);
  });

  it("counts a finding a scanner lists twice once", () => {
    expect(evaluateGate([finding({}), finding({})], {}, now).blocking).toHaveLength(1);
  });
});

describe("scanner reports", () => {
  const grype = {
    matches: [
      {
        vulnerability: { id: "CVE-2099-0001", severity: "High", fix: { versions: ["1.0-2"], state: "fixed" } },
        artifact: { name: "golden-fixture", version: "1.0-1", type: "deb", upstreams: [] },
      },
      {
        vulnerability: { id: "CVE-2099-0002", severity: "Critical", fix: { versions: [], state: "not-fixed" } },
        artifact: { name: "libfoo1", version: "2.0", upstreams: [{ name: "foo" }] },
      },
    ],
    descriptor: { name: "grype", version: "0.121.2", timestamp: "2026-11-25T02:00:00.000000000Z" },
  };
  const trivy = {
    SchemaVersion: 2,
    CreatedAt: "2026-11-25T02:00:00Z",
    Trivy: { Version: "0.74.0" },
    Results: [
      { Target: "x (debian 12)", Vulnerabilities: [{ VulnerabilityID: "CVE-2099-0001", PkgName: "golden-fixture", SrcName: "golden-fixture", InstalledVersion: "1.0-1", FixedVersion: "1.0-2", Severity: "HIGH" }] },
      { Target: "app" },
    ],
  };

  it("reads Grype's matches and Trivy's results into the same findings", () => {
    expect(findingsOf("grype", grype)).toEqual([
      { id: "CVE-2099-0001", package: "golden-fixture", sourcePackage: "golden-fixture", installed: "1.0-1", fixedIn: ["1.0-2"], severity: "HIGH" },
      { id: "CVE-2099-0002", package: "libfoo1", sourcePackage: "foo", installed: "2.0", fixedIn: [], severity: "CRITICAL" },
    ]);
    expect(findingsOf("trivy", trivy)).toEqual([{ id: "CVE-2099-0001", package: "golden-fixture", sourcePackage: "golden-fixture", installed: "1.0-1", fixedIn: ["1.0-2"], severity: "HIGH" }]);
  });

  it("refuses what is not a report of that scanner", () => {
    expect(() => findingsOf("grype", trivy)).toThrow("not a Grype JSON report");
    expect(() => findingsOf("trivy", grype)).toThrow("not a Trivy JSON report");
    expect(() => findingsOf("trivy", null)).toThrow("not a Trivy JSON report");
  });

  it("wraps the report in cosign's vuln predicate with the verdict", () => {
    const verdict = evaluateGate(findingsOf("grype", grype), {}, now);
    const p = vulnPredicate("grype", grype, {}, verdict) as any;
    expect(p.scanner).toMatchObject({ uri: "pkg:github/anchore/grype@v0.121.2", version: "v0.121.2", result: grype });
    expect(p.invocation.parameters.gate.verdict.passed).toBe(false);
    expect(p.metadata.scanStartedOn).toBe("2026-11-25T02:00:00.000Z");
    expect((vulnPredicate("trivy", trivy, {}, verdict) as any).scanner.uri).toBe("pkg:github/aquasecurity/trivy@v0.74.0");
  });
});

describe("the provenance", () => {
  const pinned: ImageSpec = {
    ...spec,
    base: "127.0.0.1:5000/mirror/distroless/static-debian12:nonroot@sha256:" + "1".repeat(64),
    builders: [{ ...spec.builders![0], image: "127.0.0.1:5000/mirror/library/gcc:12-bookworm@sha256:" + "2".repeat(64) }],
  };
  const p = provenancePredicate({ spec: pinned, policy, dockerfile: "FROM scratch\n", tag: "v1-abc", revision: "f".repeat(40), builderId: "urn:x" }) as any;

  it("names the rendered Dockerfile's digest, every base digest and the source revision", () => {
    expect(p.buildDefinition.externalParameters.dockerfile).toEqual({ digest: { sha256: sha256Hex("FROM scratch\n") } });
    expect(p.buildDefinition.externalParameters.source.revision).toBe("f".repeat(40));
    expect(p.buildDefinition.resolvedDependencies).toEqual([
      { name: "base", uri: "docker://127.0.0.1:5000/mirror/distroless/static-debian12:nonroot", digest: { sha256: "1".repeat(64) } },
      { name: "builders[0].image", uri: "docker://127.0.0.1:5000/mirror/library/gcc:12-bookworm", digest: { sha256: "2".repeat(64) } },
    ]);
    expect(p.runDetails.builder.id).toBe("urn:x");
  });

  it("prefers the spec's revision and is deterministic", () => {
    const again = provenancePredicate({ spec: { ...pinned, source: { revision: "abc123" } }, policy, dockerfile: "FROM scratch\n", tag: "v1-abc", revision: "f".repeat(40), builderId: "urn:x" }) as any;
    expect(again.buildDefinition.externalParameters.source.revision).toBe("abc123");
    expect(JSON.stringify(provenancePredicate({ spec: pinned, policy, dockerfile: "FROM scratch\n", tag: "v1-abc", revision: "f".repeat(40), builderId: "urn:x" }))).toBe(JSON.stringify(p));
  });
});

describe("signing settings", () => {
  it("keyless needs the identity and an https issuer, and the transparency log", () => {
    expect(signingSettingsIssues({ mode: "keyless", transparencyLog: false, issuer: "http://x" }, "golden-images:signing").map((i) => i.path)).toEqual([
      "golden-images:signing.identity",
      "golden-images:signing.issuer",
      "golden-images:signing.transparencyLog",
    ]);
    expect(signingSettingsIssues({ mode: "keyless", identity: "https://ci/wf", issuer: "https://token.example" }, "s")).toEqual([]);
  });

  it("refuses identity and issuer outside keyless, and unknown modes or formats", () => {
    expect(signingSettingsIssues({ identity: "x" }, "s").map((i) => i.problem)).toEqual(["applies to keyless signing only (mode is keypair)"]);
    expect(signingSettingsIssues({ mode: "gpg", format: "v9" }, "s").map((i) => i.path)).toEqual(["s.mode", "s.format"]);
  });
});

describe("a step's environment", () => {
  const os = require("os") as typeof import("os");
  const fs = require("fs") as typeof import("fs");
  const path = require("path") as typeof import("path");
  const { spawnSync } = require("child_process") as typeof import("child_process");
  const { runPlan } = require("../../executors/plan-runner") as typeof import("../../executors/plan-runner");
  // A stand-in tool that records the variable it was given.
  const step: Step = {
    id: "x:sbom",
    kind: "sbom",
    image: "x",
    description: "records SYFT_REGISTRY_INSECURE_USE_HTTP",
    needs: [],
    run: { tool: "syft", args: ["out.txt"], env: { SYFT_REGISTRY_INSECURE_USE_HTTP: "true", ODD: "it's $HOME" } },
    files: {},
    outputs: { out: "out.txt" },
    gate: true,
  };
  const tool = ["sh", "-c", 'printf "%s|%s" "$SYFT_REGISTRY_INSECURE_USE_HTTP" "$ODD" > "$1"', "stand-in"];

  it("reaches the tool from the local runner and from the rendered script, literally", async () => {
    const a = fs.mkdtempSync(path.join(os.tmpdir(), "golden-env-a-"));
    const [outcome] = await runPlan({ version: 1, steps: [step] }, { cwd: a, env: { ...process.env }, tools: { syft: tool } });
    expect(outcome.state).toBe("done");
    expect(fs.readFileSync(path.join(a, "out.txt"), "utf8")).toBe("true|it's $HOME");
    const b = fs.mkdtempSync(path.join(os.tmpdir(), "golden-env-b-"));
    fs.writeFileSync(path.join(b, "plan.sh"), renderPlanScript({ version: 1, steps: [step] }));
    // The script splits a tool variable on blanks (like the runner): the stand-in is a script file.
    fs.writeFileSync(path.join(b, "tool.sh"), 'printf "%s|%s" "$SYFT_REGISTRY_INSECURE_USE_HTTP" "$ODD" > "$1"\n');
    const r = spawnSync("sh", ["plan.sh"], { cwd: b, env: { ...process.env, GOLDEN_SYFT: `sh ${path.join(b, "tool.sh")}` }, encoding: "utf8" });
    expect(r.stderr).toContain("== x:sbom");
    expect(fs.readFileSync(path.join(b, "out.txt"), "utf8")).toBe("true|it's $HOME");
  });

  it("a variable name that is not NAME is a plan problem", () => {
    expect(planProblems({ version: 1, steps: [{ ...step, run: { ...step.run, env: { "bad name": "x" } } }] })).toEqual(['step x:sbom: environment variable name "bad name" is not NAME (A-Z, 0-9, _)']);
  });
});

describe("skip when unchanged, in the plan", () => {
  const steps = planImage(spec, policy, target);
  const byKind = (k: string) => steps.find((s) => s.kind === k) as Step;

  it("decides after render, from the content tag and the supply-chain settings; every later step runs only on build", () => {
    const decide = byKind("decide");
    expect(decide.needs).toEqual(["hello:render"]);
    expect(decide.run.args).toEqual(expect.arrayContaining(["step", "decide", "--tag", "$(results.hello:render.tag)", "--store", ".golden/promoted", "--insecure"]));
    const later = steps.slice(steps.indexOf(decide) + 1);
    expect(later.map((s) => s.kind)).toEqual(STEP_KINDS.slice(STEP_KINDS.indexOf("build")));
    expect(later.every((s) => s.runIf?.step === "hello:decide" && s.runIf.output === "decision" && s.runIf.equals === "build")).toBe(true);
    expect(steps.slice(0, 3).every((s) => s.runIf === undefined)).toBe(true);
    // The promotion records what the decision compares.
    expect(byKind("promote").run.args).toEqual(expect.arrayContaining(["--tag", "$(results.hello:render.tag)", "--settings", decide.run.args[decide.run.args.indexOf("--settings") + 1]]));
  });

  it("the settings digest changes with the gate or the signing, and is stable otherwise", () => {
    const settings = (t: typeof target) => {
      const d = planImage(spec, policy, t).find((s) => s.kind === "decide") as Step;
      return d.run.args[d.run.args.indexOf("--settings") + 1];
    };
    expect(settings(target)).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(settings(target)).toBe(settings({ ...target }));
    expect(settings({ ...target, supplyChain: { ...chain, gate: { severity: "CRITICAL" } } })).not.toBe(settings(target));
    expect(settings({ ...target, supplyChain: { ...chain, signing: { ...chain.signing, format: "bundle" } } })).not.toBe(settings(target));
    // A new key (same env:// reference, another public key) signs everything again.
    expect(settings({ ...target, supplyChain: { ...chain, keyFingerprint: "sha256:new" } })).not.toBe(settings({ ...target, supplyChain: { ...chain, keyFingerprint: "sha256:old" } }));
  });

  it("rebuild: no decision, everything runs", () => {
    const rebuild = planImage(spec, policy, { ...target, supplyChain: { ...chain, rebuild: true } });
    expect(rebuild.map((s) => s.kind)).not.toContain("decide");
    expect(rebuild.every((s) => s.runIf === undefined)).toBe(true);
    expect(planProblems({ version: 1, steps: rebuild })).toEqual([]);
  });

  it("a condition on a step that is not needed, or on an output it lacks, is a plan problem", () => {
    const early = steps.map((s) => (s.kind === "pin" ? { ...s, runIf: { step: "hello:render", output: "tag", equals: "x" } } : s));
    expect(planProblems({ version: 1, steps: early })).toContain('step hello:pin: runs on a result of "hello:render", which it does not need (directly or through its needs)');
    const bad = steps.map((s) => (s.kind === "build" ? { ...s, runIf: { step: "hello:decide", output: "nope", equals: "build" } } : s));
    expect(planProblems({ version: 1, steps: bad })).toContain('step hello:build: "hello:decide" has no output "nope" to run on');
  });

  it("the script runs a conditional step only when the decision's first line says build", () => {
    const script = renderPlanScript({ version: 1, steps });
    expect(script).toContain(`if [ "$(head -n 1 .golden/run/hello/decision)" = build ]; then\n  $GOLDEN_BUILDCTL build`);
  });

  it("the runner ends the later steps as unchanged (not failed, not run) when the decision says so", async () => {
    const os = require("os") as typeof import("os");
    const fs = require("fs") as typeof import("fs");
    const path = require("path") as typeof import("path");
    const { runPlan } = require("../../executors/plan-runner") as typeof import("../../executors/plan-runner");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "golden-decide-"));
    const decide: Step = { id: "x:decide", kind: "decide", image: "x", description: "", needs: [], run: { tool: "golden", args: ["decision"] }, files: {}, outputs: { decision: "decision" }, gate: true };
    const build: Step = { id: "x:build", kind: "build", image: "x", description: "", needs: ["x:decide"], run: { tool: "buildctl", args: ["built"] }, files: {}, outputs: { out: "built" }, gate: true, runIf: { step: "x:decide", output: "decision", equals: "build" } };
    const write = (text: string) => ["sh", "-c", `printf '${text}' > "$1"`, "stand-in"];
    const unchanged = await runPlan({ version: 1, steps: [decide, build] }, { cwd: dir, env: { ...process.env }, tools: { golden: write("unchanged\\ninputs equal v1\\n"), buildctl: write("x") } });
    expect(unchanged.map((o) => o.state)).toEqual(["done", "unchanged"]);
    expect(unchanged[1].message).toBe("not run: x:decide says unchanged (inputs equal v1)");
    expect(fs.existsSync(path.join(dir, "built"))).toBe(false);
    const changed = await runPlan({ version: 1, steps: [decide, build] }, { cwd: dir, env: { ...process.env }, tools: { golden: write("build\\nno approved digest yet\\n"), buildctl: write("x") } });
    expect(changed.map((o) => o.state)).toEqual(["done", "done"]);
  });
});

describe("golden step decide", () => {
  const fs = require("fs") as typeof import("fs");
  const os = require("os") as typeof import("os");
  const path = require("path") as typeof import("path");
  const { runStepCommand } = require("../../cli/steps") as typeof import("../../cli/steps");
  const digest = `sha256:${"c".repeat(64)}`;
  const decide = async (record: object | undefined, over: Record<string, string> = {}) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "golden-decide-step-"));
    if (record !== undefined) {
      fs.mkdirSync(path.join(dir, "store"));
      fs.writeFileSync(path.join(dir, "store", "hello.json"), JSON.stringify(record));
    }
    const args = { image: "hello", repository: "127.0.0.1:5000/golden/hello", tag: "v1-aaaa", settings: "sha256:s1", store: path.join(dir, "store"), output: path.join(dir, "decision"), ...over };
    const write = process.stdout.write;
    process.stdout.write = (() => true) as never;
    try {
      await runStepCommand(["decide", ...Object.entries(args).flatMap(([k, v]) => [`--${k}`, v])]);
    } finally {
      process.stdout.write = write;
    }
    return fs.readFileSync(args.output, "utf8");
  };
  const record = { image: "hello", ref: `127.0.0.1:5000/golden/hello@${digest}`, digest, gate: "passed", tag: "v1-aaaa", settings: "sha256:s1" };

  it("builds without a record, with another tag, other settings, or a record of another repository, and says why", async () => {
    expect(await decide(undefined)).toBe("build\nno approved digest yet\n");
    expect(await decide(record, { tag: "v1-bbbb" })).toBe("build\ninputs changed: v1-aaaa -> v1-bbbb\n");
    expect(await decide(record, { settings: "sha256:s2" })).toBe("build\nthe gate or signing settings changed\n");
    expect(await decide({ ...record, ref: `127.0.0.1:5000/other/hello@${digest}` })).toBe(`build\nthe approved 127.0.0.1:5000/other/hello@${digest} is not in 127.0.0.1:5000/golden/hello\n`);
    // A record of an older format (no tag) is rebuilt, not trusted.
    expect(await decide({ ...record, tag: undefined })).toBe("build\ninputs changed: no recorded tag -> v1-aaaa\n");
  });
});

describe("the plan of a multi-platform image", () => {
  const multi: ImageSpec = { ...spec, platforms: ["linux/amd64", "linux/arm64"] };
  const steps = planImage(multi, policy, target);
  const byId = (i: string) => steps.find((s) => s.id === i) as Step;

  it("makes an SBOM and a scan for every platform, each with --platform, and the plan checks out", () => {
    expect(planProblems({ version: 1, steps })).toEqual([]);
    expect(steps.filter((s) => s.kind === "sbom").map((s) => [s.id, s.run.args[s.run.args.indexOf("--platform") + 1]])).toEqual([
      ["hello:sbom", "linux/amd64"],
      ["hello:sbom-linux-arm64", "linux/arm64"],
    ]);
    expect(steps.filter((s) => s.kind === "scan").map((s) => [s.id, s.run.args[s.run.args.indexOf("--platform") + 1]])).toEqual([
      ["hello:scan", "linux/amd64"],
      ["hello:scan-linux-arm64", "linux/arm64"],
    ]);
    expect(byId("hello:sbom-linux-arm64").outputs).toEqual({ cyclonedx: expect.stringContaining("/sbom/linux-arm64/sbom.cdx.json"), spdx: expect.stringContaining("/sbom/linux-arm64/sbom.spdx.json") });
  });

  it("fails closed: the gate judges every platform's report, and every platform's SBOM is attested before promotion", () => {
    const assess = byId("hello:assess");
    expect(assess.needs).toEqual(["hello:scan", "hello:scan-linux-arm64"]);
    expect(assess.run.args[assess.run.args.indexOf("--platform-report") + 1]).toBe(byId("hello:scan-linux-arm64").outputs.report);
    expect(byId("hello:attest-sbom-linux-arm64").needs).toEqual(["hello:sbom-linux-arm64", "hello:sign"]);
    expect(byId("hello:attest-sbom-linux-arm64").run.args).toContain(byId("hello:sbom-linux-arm64").outputs.cyclonedx);
    expect(byId("hello:verify-sbom").needs).toEqual(["hello:attest-sbom", "hello:attest-sbom-linux-arm64"]);
  });

  it("GIVEN Trivy THEN each platform's scan passes --platform to it too", () => {
    const trivy = planImage(multi, policy, { ...target, supplyChain: { ...chain, gate: { scanner: "trivy" } } });
    expect(trivy.filter((s) => s.kind === "scan").map((s) => s.run.args.slice(s.run.args.indexOf("--platform"), s.run.args.indexOf("--platform") + 2))).toEqual([
      ["--platform", "linux/amd64"],
      ["--platform", "linux/arm64"],
    ]);
  });

  it("GIVEN one platform THEN no --platform and no per-platform steps (its plan is unchanged)", () => {
    const one = planImage({ ...spec, platforms: ["linux/arm64"] }, policy, target);
    expect(one.map((s) => s.id)).toEqual(planImage(spec, policy, target).map((s) => s.id));
    expect(one.filter((s) => s.run.args.includes("--platform"))).toEqual([]);
  });
});

describe("mergeScanReports", () => {
  const grype = (ids: string[]) => ({ descriptor: { version: "0.121.2" }, matches: ids.map((id) => ({ vulnerability: { id, severity: "High", fix: { state: "fixed", versions: ["2"] } }, artifact: { name: "p", version: "1" } })) });
  it("GIVEN a clean amd64 report and an arm64 report with a HIGH finding THEN the merged report blocks the gate", () => {
    const merged = mergeScanReports("grype", [grype([]), grype(["CVE-2026-0001"])]);
    expect(findingsOf("grype", merged).map((f) => f.id)).toEqual(["CVE-2026-0001"]);
    expect(evaluateGate(findingsOf("grype", merged), { severity: "HIGH" }, now).passed).toBe(false);
  });
  it("GIVEN Trivy reports THEN their Results are concatenated", () => {
    const trivy = (id: string) => ({ SchemaVersion: 2, Results: [{ Target: id, Vulnerabilities: [{ VulnerabilityID: id, PkgName: "p", InstalledVersion: "1", Severity: "LOW" }] }] });
    expect(findingsOf("trivy", mergeScanReports("trivy", [trivy("CVE-A"), trivy("CVE-B")])).map((f) => f.id)).toEqual(["CVE-A", "CVE-B"]);
  });
  it("GIVEN a report that is not the scanner's THEN it is refused, never read as no findings", () => {
    expect(() => mergeScanReports("grype", [grype([]), { nothing: true }])).toThrow(/not a Grype JSON report/);
  });
});
