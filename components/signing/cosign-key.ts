/**
 * cosign's encrypted private key format ("ENCRYPTED SIGSTORE PRIVATE KEY"), written in TypeScript
 * so a Pulumi program can turn a generated ECDSA P-256 key into a key cosign reads, without cosign
 * on the machine that runs `pulumi up`. The layout is go-securesystemslib's `encrypted` package,
 * which cosign uses: scrypt (N=65536, r=8, p=1, 32-byte salt) derives a NaCl secretbox key
 * (XSalsa20-Poly1305, 24-byte nonce) that seals the PKCS#8 DER of the key; the JSON envelope is
 * PEM-wrapped. Proven with the real cosign in test/integration/cosign-key.test.ts.
 *
 * Deterministic: the salt and nonce are derived from the key and the password (HMAC-SHA256), so
 * the same key and password always give the same bytes and a repeated preview shows no diff.
 * Both are still unique per key and password, which is what scrypt and secretbox need.
 */
import { createHmac, createPrivateKey, scryptSync } from "crypto";
import * as nacl from "tweetnacl";

export const COSIGN_PRIVATE_KEY_PEM_TYPE = "ENCRYPTED SIGSTORE PRIVATE KEY";
const SCRYPT = { N: 65536, r: 8, p: 1 } as const;

/** Encrypts a PKCS#8 PEM private key (ECDSA P-256) into cosign's format under `password`. */
export function encryptCosignPrivateKey(pkcs8Pem: string, password: string): string {
  let der: Buffer;
  try {
    der = createPrivateKey({ key: pkcs8Pem, format: "pem" }).export({ format: "der", type: "pkcs8" }) as Buffer;
  } catch (e) {
    throw new Error(`not a PEM private key (${(e as Error).message})`);
  }
  if (password.length === 0) {
    throw new Error("the key password is empty");
  }
  const derive = (label: string, size: number) => createHmac("sha256", password).update(label).update(der).digest().subarray(0, size);
  const salt = derive("pulumi-golden-image cosign salt", 32);
  const nonce = derive("pulumi-golden-image cosign nonce", 24);
  const key = scryptSync(Buffer.from(password, "utf8"), salt, 32, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, maxmem: 256 * 1024 * 1024 });
  const sealed = nacl.secretbox(new Uint8Array(der), new Uint8Array(nonce), new Uint8Array(key));
  const envelope = {
    kdf: { name: "scrypt", params: { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p }, salt: salt.toString("base64") },
    cipher: { name: "nacl/secretbox", nonce: nonce.toString("base64") },
    ciphertext: Buffer.from(sealed).toString("base64"),
  };
  const body = Buffer.from(JSON.stringify(envelope), "utf8").toString("base64").replace(/.{1,64}/g, "$&\n");
  return `-----BEGIN ${COSIGN_PRIVATE_KEY_PEM_TYPE}-----\n${body}-----END ${COSIGN_PRIVATE_KEY_PEM_TYPE}-----\n`;
}
