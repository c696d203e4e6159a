/**
 * SigningKey under Pulumi mocks, and the KMS key policies as pure functions: who may sign, who
 * may verify, that administrators cannot use the key, that no statement grants `kms:*`, that
 * key pair secrets stay secret, and that bad arguments fail before anything is created.
 */
import * as pulumi from "@pulumi/pulumi";
import { SigningKey, validateSigningKeyArgs } from "../../components/signing/signing-key";
import { KMS_ADMIN_ACTIONS, renderEcrKeyPolicy, renderSigningKeyPolicy } from "../../components/render/kms-policy";
import { formatIssue, ValidationError } from "../../components/render/issues";
import { EcrRegistry } from "../../components/registry";
import { ACCOUNT_ID, MockRecorder, REGION, settle, setupMocks, valueOf } from "./mocks";

let mocks: MockRecorder;
beforeEach(() => {
  mocks = setupMocks();
});

const BUILD_ROLE = `arn:aws:iam::${ACCOUNT_ID}:role/golden-build`;
const CONSUMER = `arn:aws:iam::${ACCOUNT_ID}:role/cluster-verifier`;
const ADMIN = `arn:aws:iam::${ACCOUNT_ID}:role/platform-admin`;

type Statement = { Sid: string; Principal: { AWS: string[] }; Action: string[]; Condition?: unknown };
const statements = (json: string): Statement[] => JSON.parse(json).Statement;
const allows = (json: string, principal: string, action: string) =>
  statements(json).some((s) => s.Principal.AWS.includes(principal) && s.Action.some((a) => new RegExp(`^${a.replace(/\*/g, ".*")}$`).test(action)));

describe("the signing key's policy", () => {
  const policy = renderSigningKeyPolicy({ administrators: [ADMIN], signers: [BUILD_ROLE], verifiers: [CONSUMER] });

  it("lets only the build role sign", () => {
    expect(allows(policy, BUILD_ROLE, "kms:Sign")).toBe(true);
    expect(allows(policy, ADMIN, "kms:Sign")).toBe(false);
    expect(allows(policy, CONSUMER, "kms:Sign")).toBe(false);
  });

  it("lets consumers verify and read the public key, nothing else", () => {
    expect(allows(policy, CONSUMER, "kms:Verify")).toBe(true);
    expect(allows(policy, CONSUMER, "kms:GetPublicKey")).toBe(true);
    expect(allows(policy, CONSUMER, "kms:ScheduleKeyDeletion")).toBe(false);
    expect(allows(policy, CONSUMER, "kms:PutKeyPolicy")).toBe(false);
  });

  it("lets administrators manage the key but not use it, and grants kms:* to nobody", () => {
    expect(allows(policy, ADMIN, "kms:ScheduleKeyDeletion")).toBe(true);
    expect(allows(policy, ADMIN, "kms:PutKeyPolicy")).toBe(true);
    expect(allows(policy, ADMIN, "kms:Verify")).toBe(false);
    expect(statements(policy).flatMap((s) => s.Action)).not.toContain("kms:*");
    expect(KMS_ADMIN_ACTIONS.some((a) => /Sign|Verify|Encrypt|Decrypt|GenerateDataKey/.test(a))).toBe(false);
    expect(statements(policy).flatMap((s) => s.Principal.AWS).some((p) => p.endsWith(":root"))).toBe(false);
  });

  it("has no verifier statement when there are no verifiers", () => {
    expect(statements(renderSigningKeyPolicy({ administrators: [ADMIN], signers: [BUILD_ROLE] })).map((s) => s.Sid)).toEqual(["KeyAdministration", "PipelineSigns"]);
  });
});

describe("the ECR key's policy", () => {
  const policy = renderEcrKeyPolicy({ administrators: [ADMIN], accountId: ACCOUNT_ID, region: REGION, partition: "aws", dnsSuffix: "example.test" });
  it("is used only through ECR, on behalf of the account; administrators cannot decrypt", () => {
    const use = statements(policy).find((s) => s.Sid === "UseThroughEcrOnly") as Statement;
    expect(use.Condition).toEqual({ StringEquals: { "kms:ViaService": `ecr.${REGION}.example.test`, "kms:CallerAccount": ACCOUNT_ID } });
    expect(use.Action).not.toContain("kms:*");
    expect(allows(policy, ADMIN, "kms:Decrypt")).toBe(false);
    expect(statements(policy).flatMap((s) => s.Action)).not.toContain("kms:*");
  });
});

describe("SigningKey", () => {
  it("kms: an ECC_NIST_P256 SIGN_VERIFY key with its policy, an alias, and the awskms:// reference", async () => {
    const key = new SigningKey("golden", { mode: "kms", signers: [BUILD_ROLE], verifiers: [CONSUMER] });
    const signing = await valueOf(key.signing);
    await settle();
    const kms = mocks.one("aws:kms/key:Key");
    expect(kms.inputs).toMatchObject({ customerMasterKeySpec: "ECC_NIST_P256", keyUsage: "SIGN_VERIFY", deletionWindowInDays: 30 });
    // The deploying role (the assumed role's issuer) administers it by default.
    expect(allows(kms.inputs.policy, `arn:aws:iam::${ACCOUNT_ID}:role/deployer`, "kms:ScheduleKeyDeletion")).toBe(true);
    expect(allows(kms.inputs.policy, BUILD_ROLE, "kms:Sign")).toBe(true);
    expect(mocks.one("aws:kms/alias:Alias").inputs.name).toBe("alias/golden-signing-golden");
    expect(signing).toEqual({ mode: "kms", key: "awskms:///alias/golden-signing-golden", publicKey: "awskms:///alias/golden-signing-golden", format: "classic" });
    expect(await valueOf(key.publicKeyPem)).toContain("BEGIN PUBLIC KEY");
  });

  it("keypair: generates a key cosign can read; the private key and password are secrets, the plan names them by env:// only", async () => {
    const key = new SigningKey("pair", { mode: "keypair", format: "bundle" });
    await settle();
    expect(mocks.one("tls:index/privateKey:PrivateKey").inputs).toMatchObject({ algorithm: "ECDSA", ecdsaCurve: "P256" });
    expect(await pulumi.isSecret(key.privateKey!)).toBe(true);
    expect(await pulumi.isSecret(key.password!)).toBe(true);
    expect(await valueOf(key.privateKey!)).toMatch(/^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n/);
    const signing = await valueOf(key.signing);
    expect(signing).toEqual({ mode: "keypair", key: "env://COSIGN_PRIVATE_KEY", publicKey: "env://COSIGN_PUBLIC_KEY", format: "bundle" });
    expect(JSON.stringify(signing)).not.toContain("PRIVATE KEY-----");
  });

  it("keypair: brings an existing key in as secrets", async () => {
    const key = new SigningKey("byo", { mode: "keypair", privateKey: "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nx\n", password: "pw", publicKey: "-----BEGIN PUBLIC KEY-----\ny\n" });
    await settle();
    expect(mocks.ofType("tls:index/privateKey:PrivateKey")).toHaveLength(0);
    expect(await pulumi.isSecret(key.privateKey!)).toBe(true);
    expect(await valueOf(key.publicKeyPem)).toContain("BEGIN PUBLIC KEY");
  });

  it("keyless: no key; the identity and issuer verification requires", async () => {
    const key = new SigningKey("ci", { mode: "keyless", identity: "https://ci.example/wf@refs/heads/main", issuer: "https://token.example" });
    expect(await valueOf(key.signing)).toEqual({ mode: "keyless", identity: "https://ci.example/wf@refs/heads/main", issuer: "https://token.example", format: "classic" });
    await settle();
    expect(mocks.resources.filter((r) => r.custom)).toHaveLength(0);
  });

  it("reports every problem at once and creates nothing", async () => {
    let error: unknown;
    try {
      new SigningKey("bad", { mode: "kms", signers: [], verifiers: ["someone"], alias: "aws/x", deletionWindowInDays: 3, format: "v2" as never });
    } catch (e) {
      error = e;
    }
    await settle();
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.path)).toEqual(["format", "signers", "verifiers[0]", "alias", "deletionWindowInDays"]);
    expect((error as ValidationError).issues.map(formatIssue).join("\n")).toContain("Fix: give the pipeline build role's ARN");
    expect(mocks.resources).toHaveLength(0);
  });

  it("refuses half a brought key pair, arguments of another mode, and an incomplete keyless identity", () => {
    expect(validateSigningKeyArgs({ mode: "keypair", privateKey: "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----" }).map((i) => i.path)).toEqual(["privateKey"]);
    expect(validateSigningKeyArgs({ mode: "keypair", signers: [] } as never).map((i) => i.problem)).toEqual(["is not an argument of keypair mode"]);
    expect(validateSigningKeyArgs({ mode: "keyless", identity: "", issuer: "http://x" }).map((i) => i.path)).toEqual(["identity", "issuer"]);
    expect(validateSigningKeyArgs({ mode: "hsm" } as never).map((i) => i.path)).toEqual(["mode"]);
  });
});

describe("EcrRegistry's created key", () => {
  it("has a key policy: the deploying role administers it, ECR alone uses it", async () => {
    new EcrRegistry("reg", { images: ["app"] });
    await settle();
    const key = mocks.one("aws:kms/key:Key");
    expect(typeof key.inputs.policy).toBe("string");
    expect(allows(key.inputs.policy, `arn:aws:iam::${ACCOUNT_ID}:role/deployer`, "kms:ScheduleKeyDeletion")).toBe(true);
    expect(statements(key.inputs.policy).map((s) => s.Sid)).toEqual(["KeyAdministration", "UseThroughEcrOnly"]);
    // The service name comes from the partition's DNS suffix (the mocks answer example.test).
    expect(JSON.parse(key.inputs.policy).Statement[1].Condition.StringEquals["kms:ViaService"]).toBe(`ecr.${REGION}.example.test`);
  });

  it("takes the administrators it is given", async () => {
    new EcrRegistry("reg2", { images: ["app"], keyAdministrators: [ADMIN] });
    await settle();
    const key = mocks.one("aws:kms/key:Key");
    expect(statements(key.inputs.policy)[0].Principal.AWS).toEqual([ADMIN]);
  });
});
