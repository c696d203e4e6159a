/**
 * The promotion pointer on AWS, with the real AWS CLI (what the CodeBuild executor runs) against
 * moto's SSM server on 127.0.0.1: the first read finds nothing, a promotion writes the pointer
 * consumers read and the record the next run compares with, a second promotion replaces both,
 * and an unreachable store is an error naming the store and the fix, never "no record".
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as net from "net";
import * as path from "path";
import { openPromotionStore, PromotionRecord, PromotionStoreError } from "../../cli/promotion-store";

const ROOT = path.join(__dirname, "..", "..");
let bin = "";
let server: ChildProcess | undefined;
let env: NodeJS.ProcessEnv = {};

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

beforeAll(async () => {
  const r = spawnSync("bash", [path.join(ROOT, "scripts", "install-aws-tools.sh")], { encoding: "utf8" });
  if (r.status !== 0) {
    throw new Error(`scripts/install-aws-tools.sh failed: ${r.stderr}`);
  }
  bin = r.stdout.trim().split("\n").pop() as string;
  const port = await freePort();
  server = spawn(path.join(bin, "moto_server"), ["-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
  env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GOLDEN_AWS: path.join(bin, "aws"),
    AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_DEFAULT_REGION: "eu-central-1",
  };
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, "127.0.0.1", () => (c.end(), resolve(true)));
      c.on("error", () => resolve(false));
    });
    if (ok) {
      return;
    }
    await new Promise((res) => setTimeout(res, 200));
  }
  throw new Error("moto_server did not start on 127.0.0.1");
}, 600_000);

afterAll(() => {
  server?.kill();
});

const record = (digestByte: string): PromotionRecord => ({
  image: "api-base",
  ref: `golden.registry.example.internal/golden/api-base@sha256:${digestByte.repeat(64)}`,
  digest: `sha256:${digestByte.repeat(64)}`,
  gate: "passed: 0 findings at or above HIGH",
  tag: "v-0123456789ab",
  settings: `sha256:${"c".repeat(64)}`,
});

function getParameter(name: string): string {
  const r = spawnSync(path.join(bin, "aws"), ["ssm", "get-parameter", "--name", name, "--query", "Parameter.Value", "--output", "text"], { env, encoding: "utf8" });
  expect(r.stderr).toBe("");
  return r.stdout.trim();
}

describe("the SSM promotion store with the real AWS CLI", () => {
  it("GIVEN no promotion yet THEN reading finds no record (ParameterNotFound), not an error", () => {
    expect(openPromotionStore("ssm:/golden-images/dev", env).read("api-base")).toBeUndefined();
  });

  it("GIVEN a promotion THEN the pointer holds the reference by digest and the record reads back equal", () => {
    const store = openPromotionStore("ssm:/golden-images/dev", env);
    store.write(record("a"));
    expect(getParameter("/golden-images/dev/api-base")).toBe(record("a").ref);
    expect(store.read("api-base")).toEqual(record("a"));
  });

  it("GIVEN a second promotion THEN both parameters are replaced", () => {
    const store = openPromotionStore("ssm:/golden-images/dev", env);
    store.write(record("b"));
    expect(getParameter("/golden-images/dev/api-base")).toBe(record("b").ref);
    expect(store.read("api-base")?.digest).toBe(record("b").digest);
    expect(openPromotionStore("ssm:/golden-images/prod", env).read("api-base")).toBeUndefined();
  });

  it("GIVEN an unreachable endpoint THEN an error naming the store and the fix, not 'no record'", () => {
    const store = openPromotionStore("ssm:/golden-images/dev", { ...env, AWS_ENDPOINT_URL: "http://127.0.0.1:9", AWS_MAX_ATTEMPTS: "1" });
    expect(() => store.read("api-base")).toThrow(PromotionStoreError);
    expect(() => store.read("api-base")).toThrow(/reading \/golden-images\/dev\/api-base\/record in the SSM parameters under \/golden-images\/dev failed: .*Fix: check the role may ssm:GetParameter/);
  });

  it("GIVEN no AWS CLI THEN the error says to install it", () => {
    const store = openPromotionStore("ssm:/golden-images/dev", { ...env, GOLDEN_AWS: "/nonexistent/aws" });
    expect(() => store.read("api-base")).toThrow(/cannot run \/nonexistent\/aws .*Fix: install the AWS CLI \(aws\) or set GOLDEN_AWS/);
  });
});
