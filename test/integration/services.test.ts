/**
 * scripts/services.sh trusts only the registry it started: something else on the registry
 * port is refused (and never sent the credentials), whether it asks for a login or not.
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { ROOT } from "./helpers/env";

jest.setTimeout(120 * 1000);

/** A stand-in on a loopback port that answers /v2/ with `status`; records Authorization headers. */
async function impostor(status: number): Promise<{ port: number; authHeaders: string[]; close: () => Promise<void> }> {
  const authHeaders: string[] = [];
  const server = http.createServer((req, res) => {
    if (req.headers.authorization !== undefined) authHeaders.push(req.headers.authorization);
    res.writeHead(status, status === 401 ? { "WWW-Authenticate": 'Basic realm="x"' } : {});
    res.end("{}");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return { port, authHeaders, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** services.sh start against a private state dir (the real engine is reused, never stopped). */
function startServices(port: number): Promise<{ code: number; stderr: string }> {
  const state = fs.mkdtempSync(path.join(os.tmpdir(), "golden-svc-"));
  return new Promise((resolve) => {
    const child = spawn("bash", [path.join(ROOT, "scripts", "services.sh"), "start"], {
      env: { ...process.env, GOLDEN_STATE_DIR: state, GOLDEN_REGISTRY_PORT: String(port) },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code: code ?? 1, stderr }));
  });
}

beforeAll(() => {
  const r = spawnSync("bash", [path.join(ROOT, "scripts", "services.sh"), "status"], { encoding: "utf8" });
  if (!/dockerd:\s+running/.test(r.stdout)) {
    throw new Error("the Docker engine is not running. Fix: run `bash scripts/setup.sh`");
  }
});

it.each([
  [401, /something already listens on 127\.0\.0\.1:\d+ \(HTTP 401 on \/v2\/\) that this script did not start - it is not sent our credentials; stop it, or set GOLDEN_REGISTRY_PORT to a free port/],
  [200, /a registry on 127\.0\.0\.1:\d+ answers without authentication \(HTTP 200 on \/v2\/\) - refusing to push golden images there/],
])("refuses a registry it did not start that answers %i, and sends it no credentials", async (status, message) => {
  const fake = await impostor(status);
  try {
    const r = await startServices(fake.port);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(fake.authHeaders).toEqual([]);
  } finally {
    await fake.close();
  }
});
