/**
 * The `golden` command as a user runs it (the compiled bin): the main job's summary, and
 * one clear line with the fix and a non-zero exit for every kind of bad input.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { assertEngine, ROOT, supplyChainEnv, testEnv, TestEnv } from "./helpers/env";
import { ensureLocalKeyPair, goldenStateDir, localSigning } from "../../executors/local-signing";

jest.setTimeout(10 * 60 * 1000);

const BIN = path.join(ROOT, "dist", "cli", "golden.js");
let env: TestEnv;

beforeAll(() => {
  if (!fs.existsSync(BIN)) {
    throw new Error(`${BIN} is missing. Fix: run \`npm run build\` first (scripts/test.sh does)`);
  }
  assertEngine();
  env = testEnv();
  supplyChainEnv();
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
  // --rebuild: an earlier run's promotion would otherwise make these images unchanged (skipped).
  const r = golden(["build", "--stack", "dev", "--image", "hello-static", "--image", "hello-scratch", "--prefix", "cli/", "--rebuild"]);
  expect(r.stderr).toContain("[1/2] hello-static: build");
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^IMAGE\s+FLAVOR\s+DIGEST\s+SIZE\s+USER\s+GATE\s+SIGNATURE\s+TIME$/m);
  expect(r.stdout).toMatch(/^hello-static\s+distroless-static\s+sha256:[a-f0-9]{12}\s+[\d.]+ KiB\s+65532:65532\s+passed \(0 below HIGH\)\s+verified\s+[\d.]+s$/m);
  expect(r.stdout).toMatch(new RegExp(`^  ${env.registry.replace(/\./g, "\\.")}/cli/hello-scratch@sha256:[a-f0-9]{64}$`, "m"));
});

it("documents every option in --help", () => {
  const r = golden(["--help"]);
  expect(r.code).toBe(0);
  for (const option of ["--stack", "--project-dir", "--image", "--registry", "--username", "--password-file", "--mirror", "--prefix", "--json", "--script", "--verbose", ".golden/logs"]) {
    expect(r.stdout).toContain(option);
  }
});

describe.each([
  ["an unknown image", ["build", "--image", "nope"], {}, /^golden: unknown image "nope"\. Fix: use one of: hello-static, hello-cc, hello-scratch, hello-debian, hello-base, hello-java, hello-python, hello-nodejs$/],
  ["an unknown stack", ["build", "--stack", "qa"], {}, /^golden: no stack file Pulumi\.qa\.yaml\. Fix: pass --stack with one of: dev, onprem, prod, staging/],
  ["an unreachable registry", ["build", "--registry", "127.0.0.1:59999"], { GOLDEN_MIRROR: "127.0.0.1:59999/mirror" }, /^golden: registry 127\.0\.0\.1:59999 is not reachable \(ECONNREFUSED\)\. Fix: start it/],
  ["a stopped BuildKit daemon", ["build"], { BUILDKIT_HOST: "unix:///nonexistent/buildkitd.sock" }, /^golden: the BuildKit daemon does not answer at unix:\/\/\/nonexistent\/buildkitd\.sock \(.*\)\. Fix: start it with `bash scripts\/services\.sh start`/],
  ["an unknown option", ["build", "--colour"], {}, /^golden: Unknown option '--colour'.*Fix: see `golden --help`$/],
  ["a prefix with a capital letter (docker used to answer with its help text)", ["build", "--prefix", "probeA/"], {}, /^golden: --prefix "probeA\/" is not a repository prefix\. Fix: give lowercase path components ending in \/, e\.g\. golden\/ or team\/golden\/, or "" for none$/],
  ["a prefix with a slash in front", ["build", "--prefix", "/probe/"], {}, /^golden: --prefix "\/probe\/" is not a repository prefix\. Fix: /],
  ["a prefix without a trailing slash", ["build", "--prefix", "noslash"], {}, /^golden: --prefix "noslash" is not a repository prefix\. Fix: /],
  ["a registry with a scheme", ["build", "--registry", "http://127.0.0.1:5000"], {}, /^golden: --registry "http:\/\/127\.0\.0\.1:5000" is not HOST\[:PORT\]\. Fix: give the registry address without scheme or path/],
  ["a missing project directory", ["build", "--project-dir", "/nonexistent/project"], {}, /^golden: --project-dir \/nonexistent\/project is not a directory\. Fix: give the directory that holds Pulumi\.yaml/],
  ["a stray argument", ["build", "extra"], {}, /^golden: unexpected argument "extra"\. Fix: options start with --/],
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
  expect(last).toMatch(/^golden: fails-to-compile: step build failed: build failed \(exit 1\): .*missing\.c.*; the image was not reported as pushed \(full output: \.golden\/logs\/fails-to-compile_build\.log, or rerun with --verbose\)$/);
  expect(fs.readFileSync(path.join(dir, ".golden/logs/fails-to-compile_build.log"), "utf8")).toContain("missing.c");
  expect(r.stdout).toBe("");
});

it("reports what it did push and verify when another image fails, and prints the failed step's output with --verbose", () => {
  const good = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8")).config["golden-images:images"].find((i: { name: string }) => i.name === "hello-scratch");
  const bad = { ...good, name: "a-broken-one", builders: [{ ...good.builders[0], run: ["gcc -static -o /out/hello missing.c"] }] };
  const dir = project([bad, good]);
  const r = golden(["build", "--stack", "t", "--project-dir", dir, "--prefix", "cli/", "--verbose"]);
  expect(r.code).toBe(1);
  const lines = r.stderr.trim().split("\n");
  expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^golden: hello-scratch: gate passed \\(0 below HIGH\\); signed, attested, verified and promoted ${env.registry.replace(/\./g, "\\.")}/cli/hello-scratch@sha256:[a-f0-9]{64}$`)));
  expect(lines[lines.length - 1]).toMatch(/^golden: a-broken-one: step build failed: /);
  // --verbose: the build's own output, the failing compiler line included.
  expect(r.stderr).toMatch(/\$ buildctl build --frontend dockerfile\.v0/);
  expect(r.stderr).toContain("missing.c: No such file or directory");
});

it("names the image, the step and the fix when the registry stops answering mid-run", () => {
  // The mirror points at a port where nothing listens: the pin step of the first image fails.
  const r = golden(["build", "--image", "hello-scratch", "--prefix", "cli/"], { GOLDEN_MIRROR: "127.0.0.1:59998/mirror" });
  expect(r.code).toBe(1);
  expect(r.stderr.trim().split("\n").pop()).toMatch(
    /^golden: hello-scratch: step pin failed: pin failed \(exit 2\): registry 127\.0\.0\.1:59998 is not reachable \(ECONNREFUSED\) while resolving mirror\/\S+\. Fix: check the registry is running/,
  );
});

it("names the image, the step and the fix when the registry freezes (accepts, never answers)", async () => {
  const frozen = net.createServer(() => undefined);
  await new Promise<void>((resolve) => frozen.listen(0, "127.0.0.1", resolve));
  try {
    const port = (frozen.address() as net.AddressInfo).port;
    const r = golden(["build", "--image", "hello-scratch", "--prefix", "cli/"], { GOLDEN_MIRROR: `127.0.0.1:${port}/mirror` });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n").pop()).toMatch(
      new RegExp(`^golden: hello-scratch: step pin failed: pin failed \\(exit 2\\): registry 127\\.0\\.0\\.1:${port} is not reachable \\(no answer within 10 s\\) while resolving mirror/\\S+\\. Fix: check the registry is running`),
    );
  } finally {
    frozen.close();
  }
});

it("renders the plan as a script that gives the same digest as `golden build`, signed and promoted, from another directory", async () => {
  const built = golden(["build", "--image", "hello-static", "--prefix", "cli/", "--json"]);
  expect(built.code).toBe(0);
  const [result] = JSON.parse(built.stdout) as { digest: string; taggedRef: string }[];
  const script = golden(["plan", "--script", "--image", "hello-static", "--prefix", "cli/"]);
  expect(script.code).toBe(0);
  expect(script.stdout).toMatch(/^#!\/bin\/sh\n/);
  // A second checkout: the script runs in a clone of the project (the revision label comes from
  // git) with the working tree's contexts over it, and the CLI from this build.
  const copy = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "golden-script-")), "checkout");
  const clone = spawnSync("git", ["clone", "--quiet", "--no-checkout", ROOT, copy], { encoding: "utf8" });
  expect(clone.stderr).toBe("");
  expect(spawnSync("git", ["-C", copy, "checkout", "--quiet", "HEAD", "--", "images"], { encoding: "utf8" }).status).toBe(0);
  fs.cpSync(path.join(ROOT, "images"), path.join(copy, "images"), { recursive: true });
  fs.writeFileSync(path.join(copy, "plan.sh"), script.stdout);
  const cfg = fs.mkdtempSync(path.join(os.tmpdir(), "golden-cfg-"));
  fs.writeFileSync(path.join(cfg, "config.json"), JSON.stringify({ auths: { [env.registry]: { auth: Buffer.from(`${env.username}:${env.password}`).toString("base64") } } }));
  // The key pair reaches the script the way a CI job's secrets do: through the environment only.
  const { secretEnv } = localSigning(await ensureLocalKeyPair(goldenStateDir()), "classic");
  expect(script.stdout).not.toContain(secretEnv.COSIGN_PASSWORD);
  const bare = { ...process.env };
  for (const k of Object.keys(secretEnv)) {
    delete bare[k];
  }
  const refused = spawnSync("sh", ["plan.sh"], { cwd: copy, encoding: "utf8", env: { ...bare, GOLDEN_CLI: `${process.execPath} ${BIN}` } });
  expect(refused.status).not.toBe(0);
  expect(refused.stderr).toMatch(/COSIGN_PASSWORD is not set|GOLDEN_COSIGN_PRIVATE_KEY is not set/);
  expect(refused.stderr).not.toContain("== hello-static:pin");
  const r = spawnSync("sh", ["plan.sh"], {
    cwd: copy,
    encoding: "utf8",
    env: { ...process.env, ...secretEnv, GOLDEN_CLI: `${process.execPath} ${BIN}`, DOCKER_CONFIG: cfg, REGISTRY_AUTH_FILE: path.join(cfg, "config.json") },
  });
  expect(r.stderr).toContain("== hello-static:verify");
  expect(r.stderr).toContain("== hello-static:promote");
  expect(r.status).toBe(0);
  const verified = fs.readFileSync(path.join(copy, ".golden/run/hello-static/verified.ref"), "utf8").trim();
  expect(verified).toBe(`${result.taggedRef.split(/:(?=[^:/]+$)/)[0]}@${result.digest}`);
  expect(JSON.parse(fs.readFileSync(path.join(copy, ".golden/promoted/hello-static.json"), "utf8")).ref).toBe(verified);
});

it("starts a `golden step` without loading the Pulumi SDKs (every plan step pays the start-up)", () => {
  const r = spawnSync(process.execPath, ["-e", `require(${JSON.stringify(BIN)}); console.log(Object.keys(require.cache).filter((k) => k.includes("node_modules/@pulumi/")).length)`], { encoding: "utf8" });
  expect(r.stderr).toBe("");
  expect(r.stdout.trim()).toBe("0");
});
