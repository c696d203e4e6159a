/**
 * The local pipeline's signing key: a cosign key pair generated on first use with the real
 * cosign, kept in the cache directory (directory 700, private key and password 600) and handed
 * to the steps through the environment only (`env://` key references and COSIGN_PASSWORD), so
 * the plan, the rendered script and the logs never hold key material.
 */
import { createHash, randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { SignatureFormat, SigningPlan } from "../components/signing/types";
import { run, toolCommand } from "./plan-runner";
import { SetupError } from "./local";

/** Environment variables the signing steps read the key pair from. */
export const LOCAL_KEY_ENV = { privateKey: "GOLDEN_COSIGN_PRIVATE_KEY", publicKey: "GOLDEN_COSIGN_PUBLIC_KEY", password: "COSIGN_PASSWORD" } as const;

export interface LocalKeyPair {
  readonly dir: string;
  readonly privateKeyFile: string;
  readonly publicKeyFile: string;
  readonly passwordFile: string;
}

/** The key pair under `<stateDir>/signing`, generated with `cosign generate-key-pair` when missing. */
export async function ensureLocalKeyPair(stateDir: string, env: NodeJS.ProcessEnv = process.env): Promise<LocalKeyPair> {
  const dir = path.join(stateDir, "signing");
  const keys: LocalKeyPair = {
    dir,
    privateKeyFile: path.join(dir, "cosign.key"),
    publicKeyFile: path.join(dir, "cosign.pub"),
    passwordFile: path.join(dir, "cosign.password"),
  };
  if ([keys.privateKeyFile, keys.publicKeyFile, keys.passwordFile].every((f) => fs.existsSync(f))) {
    return keys;
  }
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
  for (const f of [keys.privateKeyFile, keys.publicKeyFile, keys.passwordFile]) {
    fs.rmSync(f, { force: true });
  }
  const password = randomBytes(24).toString("base64url");
  const [cmd, ...pre] = toolCommand("cosign", env);
  const r = await run(cmd, [...pre, "generate-key-pair", "--output-key-prefix", path.join(dir, "cosign")], {
    cwd: dir,
    env: { ...env, COSIGN_PASSWORD: password },
    timeoutMs: 60000,
  });
  if (r.code !== 0 || !fs.existsSync(keys.privateKeyFile) || !fs.existsSync(keys.publicKeyFile)) {
    const why = r.output.trim().split("\n").pop() ?? "no output";
    throw new SetupError(`could not generate the local signing key with ${cmd} (${why}). Fix: install cosign v3 (bash scripts/install-release-tool.sh cosign) and set GOLDEN_COSIGN to its path`);
  }
  fs.writeFileSync(keys.passwordFile, `${password}\n`, { mode: 0o600 });
  fs.chmodSync(keys.privateKeyFile, 0o600);
  return keys;
}

/** The plan's signing (key references only) and the environment that carries the secrets. */
export function localSigning(keys: LocalKeyPair, format: SignatureFormat): { signing: SigningPlan; secretEnv: Record<string, string> } {
  return {
    signing: localSigningPlan(format),
    secretEnv: {
      [LOCAL_KEY_ENV.privateKey]: fs.readFileSync(keys.privateKeyFile, "utf8"),
      [LOCAL_KEY_ENV.publicKey]: fs.readFileSync(keys.publicKeyFile, "utf8"),
      [LOCAL_KEY_ENV.password]: fs.readFileSync(keys.passwordFile, "utf8").trim(),
    },
  };
}

/** The plan's signing for the local key pair, without reading it (for printing a plan). */
export function localSigningPlan(format: SignatureFormat): SigningPlan {
  return { mode: "keypair", key: `env://${LOCAL_KEY_ENV.privateKey}`, publicKey: `env://${LOCAL_KEY_ENV.publicKey}`, format };
}

/** The cache directory the scripts use (scripts/lib.sh): $GOLDEN_STATE_DIR, else ~/.cache/pulumi-golden-image. */
export function goldenStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.GOLDEN_STATE_DIR ?? path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "pulumi-golden-image");
}

/** sha256 of the public key file: what skip-when-unchanged compares, so a new key signs everything again. */
export function keyFingerprint(keys: LocalKeyPair): string {
  return `sha256:${createHash("sha256").update(fs.readFileSync(keys.publicKeyFile)).digest("hex")}`;
}
