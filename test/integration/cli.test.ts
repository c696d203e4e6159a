/**
 * The `golden` command as a user runs it (the compiled bin): the main job's summary, and
 * one clear line with the fix and a non-zero exit for every kind of bad input.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { assertEngine, ROOT, testEnv, TestEnv } from "./helpers/env";

jest.setTimeout(10 * 60 * 1000);

const BIN = path.join(ROOT, "dist", "cli", "golden.js");
let env: TestEnv;

beforeAll(() => {
  if (!fs.existsSync(BIN)) {
    throw new Error(`${BIN} is missing. Fix: run \`npm run build\` first (scripts/test.sh does)`);
  }
  assertEngine();
  env = testEnv();
});

function golden(args: string[], extraEnv: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    encoding: "utf8",
    env: {
      ...process.env,
      GOLDEN_REGISTRY: env.registry,
      GOLDEN_REGISTRY_USER: env.username,
      GOLDEN_REGISTRY_PASSWORD_FILE: env.passwordFile,
      GOLDEN_MIRROR: env.mirror,
      ...extraEnv,
    },
  });
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

/** A project dir with one stack file, for bad-input cases. */
function project(images: unknown[], environment = "dev"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "golden-cli-"));
  fs.cpSync(path.join(ROOT, "images"), path.join(dir, "images"), { recursive: true });
  const doc = {
    config: {
      "golden-images:environment": environment,
      "golden-images:allowTagOnlyBases": environment !== "prod",
      "golden-images:registry": { type: "ecr" },
      "golden-images:images": images,
    },
  };
  fs.writeFileSync(path.join(dir, "Pulumi.t.yaml"), YAML.stringify(doc));
  return dir;
}

it("builds the dev stack and prints the summary table with digest-pinned refs", () => {
  const r = golden(["build", "--stack", "dev", "--image", "hello-static", "--image", "hello-scratch", "--prefix", "cli/"]);
  expect(r.stderr).toContain("[1/2] hello-static: build");
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^IMAGE\s+FLAVOR\s+DIGEST\s+SIZE\s+USER\s+BUILD$/m);
  expect(r.stdout).toMatch(/^hello-static\s+distroless-static\s+sha256:[a-f0-9]{12}\s+[\d.]+ KiB\s+65532:65532\s+[\d.]+s$/m);
  expect(r.stdout).toMatch(new RegExp(`^  ${env.registry.replace(/\./g, "\\.")}/cli/hello-scratch@sha256:[a-f0-9]{64}$`, "m"));
});

it("documents every option in --help", () => {
  const r = golden(["--help"]);
  expect(r.code).toBe(0);
  for (const option of ["--stack", "--project-dir", "--image", "--registry", "--username", "--password-file", "--mirror", "--prefix", "--json"]) {
    expect(r.stdout).toContain(option);
  }
});

describe.each([
  ["an unknown image", ["build", "--image", "nope"], {}, /^golden: unknown image "nope"\. Fix: use one of: hello-static, hello-cc, hello-scratch, hello-debian$/],
  ["an unknown stack", ["build", "--stack", "qa"], {}, /^golden: no stack file Pulumi\.qa\.yaml\. Fix: pass --stack with one of: dev, prod, staging/],
  ["an unreachable registry", ["build", "--registry", "127.0.0.1:59999"], { GOLDEN_MIRROR: "127.0.0.1:59999/mirror" }, /^golden: registry 127\.0\.0\.1:59999 is not reachable \(ECONNREFUSED\)\. Fix: start it/],
  ["a stopped engine", ["build"], { GOLDEN_DOCKER: "/usr/bin/docker", DOCKER_HOST: "unix:///nonexistent/docker.sock" }, /^golden: the Docker engine is not running \(.*\)\. Fix: start it with `bash scripts\/services\.sh start`$/],
  ["an unknown option", ["build", "--colour"], {}, /^golden: Unknown option '--colour'.*Fix: see `golden --help`$/],
])("with %s", (_what, args, extra, line) => {
  it("ends with one line naming the problem and the fix, exit code 2", () => {
    const r = golden(args as string[], extra as Record<string, string>);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split("\n");
    expect(lines[lines.length - 1]).toMatch(line as RegExp);
    expect(r.stdout).not.toMatch(/pushed and verified/);
  });
});

it("lists every spec problem and builds nothing when a spec breaks hardening", () => {
  const dir = project([{ name: "bad-one", flavor: "distroless-static", user: 0, entrypoint: "run me", env: { API_TOKEN: "x" } }]);
  const r = golden(["build", "--stack", "t", "--project-dir", dir]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain("golden-images:images[0].user: runs as root (value: 0)");
  expect(r.stderr).toContain("golden-images:images[0].entrypoint: shell form needs /bin/sh");
  expect(r.stderr).toContain("golden-images:images[0].env.API_TOKEN: looks like a secret");
  expect(r.stderr.trim().split("\n").pop()).toBe("golden: 3 problem(s) in the image specs; nothing was built. Fix: correct the listed properties");
  expect(r.stderr).not.toContain(": build");
});

it("names the failing step when the builder stage fails, and reports nothing as pushed", () => {
  const dir = project([
    {
      name: "fails-to-compile",
      flavor: "scratch",
      context: "images/hello",
      builders: [{ name: "build", copy: [{ src: "hello.c", dest: "/src/hello.c" }], run: ["gcc -static -o /out/hello missing.c"] }],
      copy: [{ from: "build", src: "/out/hello", dest: "/hello" }],
      entrypoint: ["/hello"],
    },
  ]);
  const r = golden(["build", "--stack", "t", "--project-dir", dir, "--prefix", "cli/"]);
  expect(r.code).toBe(1);
  const last = r.stderr.trim().split("\n").pop() ?? "";
  expect(last).toMatch(/^golden: fails-to-compile: step build failed: build failed \(exit 1\): .*missing\.c.*; the image was not reported as pushed$/);
  expect(r.stdout).toBe("");
});
