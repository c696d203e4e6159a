/**
 * The cosign key format written in TypeScript (components/signing/cosign-key.ts), judged by the
 * real cosign: it reads the key with the password and derives the same public key, signs an
 * image with it, and refuses the wrong password.
 */
import { spawnSync } from "child_process";
import { generateKeyPairSync } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { encryptCosignPrivateKey } from "../../components/signing/cosign-key";
import { supplyChainEnv, testEnv } from "./helpers/env";

jest.setTimeout(5 * 60 * 1000);

let cosign: string;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "golden-cosign-key-"));
const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
const pkcs8 = privateKey.export({ format: "pem", type: "pkcs8" }) as string;
const spki = publicKey.export({ format: "pem", type: "spki" }) as string;

beforeAll(() => {
  cosign = supplyChainEnv().GOLDEN_COSIGN;
  fs.writeFileSync(path.join(dir, "cosign.key"), encryptCosignPrivateKey(pkcs8, "correct horse"), { mode: 0o600 });
  fs.writeFileSync(path.join(dir, "cosign.pub"), spki);
});

function run(args: string[], env: NodeJS.ProcessEnv) {
  const r = spawnSync(cosign, args, { encoding: "utf8", env: { ...process.env, ...env } });
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

it("is deterministic: the same key and password give the same bytes, another password other bytes", () => {
  expect(encryptCosignPrivateKey(pkcs8, "correct horse")).toBe(fs.readFileSync(path.join(dir, "cosign.key"), "utf8"));
  expect(encryptCosignPrivateKey(pkcs8, "battery staple")).not.toBe(encryptCosignPrivateKey(pkcs8, "correct horse"));
  expect(() => encryptCosignPrivateKey("not a key", "x")).toThrow("not a PEM private key");
  expect(() => encryptCosignPrivateKey(pkcs8, "")).toThrow("the key password is empty");
});

it("cosign reads it with the password and derives the same public key", () => {
  const r = run(["public-key", "--key", path.join(dir, "cosign.key")], { COSIGN_PASSWORD: "correct horse" });
  expect(r.stderr).toBe("");
  expect(r.stdout).toBe(spki);
});

it("cosign refuses the wrong password", () => {
  const r = run(["public-key", "--key", path.join(dir, "cosign.key")], { COSIGN_PASSWORD: "wrong" });
  expect(r.code).not.toBe(0);
  expect(r.stderr).toContain("decryption failed");
});

it("signs an image that cosign then verifies with the public key", () => {
  const env = testEnv();
  const auth = fs.mkdtempSync(path.join(os.tmpdir(), "golden-cosign-key-auth-"));
  fs.writeFileSync(path.join(auth, "config.json"), JSON.stringify({ auths: { [env.registry]: { auth: Buffer.from(`${env.username}:${env.password}`).toString("base64") } } }));
  const base = env.bases["distroless-static"];
  const ref = `${env.registry}/cosign-key-test/${Date.now().toString(36)}@${base.digest}`;
  const copy = spawnSync("skopeo", ["copy", "--src-tls-verify=false", "--dest-tls-verify=false", `docker://${base.repository}@${base.digest}`, `docker://${ref.replace(/@sha256:.*/, ":1")}`], {
    encoding: "utf8",
    env: { ...process.env, REGISTRY_AUTH_FILE: path.join(auth, "config.json") },
  });
  expect(copy.stderr).toBe("");
  const offline = ["--insecure-ignore-tlog=true", "--allow-http-registry"];
  const sign = run(["sign", "--key", path.join(dir, "cosign.key"), "--new-bundle-format=false", "--use-signing-config=false", "--tlog-upload=false", "--allow-http-registry", "--yes", ref], {
    COSIGN_PASSWORD: "correct horse",
    DOCKER_CONFIG: auth,
  });
  expect(sign.code).toBe(0);
  expect(run(["verify", "--key", path.join(dir, "cosign.pub"), ...offline, ref], { DOCKER_CONFIG: auth }).code).toBe(0);
});
