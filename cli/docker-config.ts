/**
 * Registry credentials from a Docker config file (`$DOCKER_CONFIG/config.json`, or
 * `$REGISTRY_AUTH_FILE`, the containers' auth.json of the same format): the one place
 * `buildctl`, `skopeo` and the `golden step` commands all read, so a plan's steps need no
 * password on their command line.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { RegistryAuth } from "./registry-client";

export function dockerConfigFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.DOCKER_CONFIG ?? path.join(os.homedir(), ".docker"), "config.json");
}

/** The login for `host` (host[:port]), or undefined when the config has none. */
export function registryAuthFor(host: string, env: NodeJS.ProcessEnv = process.env): RegistryAuth | undefined {
  for (const file of [dockerConfigFile(env), env.REGISTRY_AUTH_FILE].filter((f): f is string => f !== undefined)) {
    let doc: { auths?: Record<string, { auth?: string; username?: string; password?: string }> };
    try {
      doc = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch {
      continue;
    }
    for (const key of [host, `http://${host}`, `https://${host}`]) {
      const entry = doc.auths?.[key];
      if (entry?.auth !== undefined) {
        const text = Buffer.from(entry.auth, "base64").toString("utf8");
        const colon = text.indexOf(":");
        if (colon > 0) {
          return { username: text.slice(0, colon), password: text.slice(colon + 1) };
        }
      }
      if (entry?.username !== undefined && entry.password !== undefined) {
        return { username: entry.username, password: entry.password };
      }
    }
  }
  return undefined;
}

/** Writes a private Docker config (mode 700 directory, 600 file) holding one login; returns its directory. */
export function writeDockerConfig(dir: string, host: string, auth: RegistryAuth): string {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
  const file = path.join(dir, "config.json");
  const doc = { auths: { [host]: { auth: Buffer.from(`${auth.username}:${auth.password}`).toString("base64") } } };
  fs.writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  return dir;
}
