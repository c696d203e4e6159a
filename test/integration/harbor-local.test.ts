/**
 * The onprem (Harbor) stack through the `golden` command, against the local registry, logged in
 * exactly as every executor logs in to Harbor: with the `basic` descriptor `HarborRegistry.auth()`
 * gives (the pipeline robot `robot$<project>+pipeline` and its secret), into the repository path
 * `repositoryUrl()` names (`<project>/<image>`). The local registry is given that robot's login
 * (htpasswd, which distribution re-reads when it changes); the stack's bases, pinned to what the
 * real mirror served, are repinned to what the local mirror serves. Nothing else of the stack
 * file changes: its registry stays `type: harbor`.
 *
 * What this cannot show: the local registry gives every user every right, so a pull robot's
 * refused push is proven by the robot's permissions (test/unit/harbor-registry.test.ts), not here.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { HarborRegistry, HarborRegistryArgs } from "../../components/registry/harbor-registry";
import { configValuesFromStackFile, parseStackConfig } from "../../stacks/config";
import { setupMocks, valueOf } from "../unit/mocks";
import { assertEngine, ROOT, supplyChainEnv, testEnv, TestEnv } from "./helpers/env";

jest.setTimeout(10 * 60 * 1000);

const BIN = path.join(ROOT, "dist", "cli", "golden.js");
/** The onprem images the local mirror has bases for (alpine cannot be had offline). */
const BUILT = "hello-static";

let env: TestEnv;
let work: string;
let htpasswdFile: string;
let htpasswdBefore: string;
let robot: { address: string; username: string; password: string; repository: string };

function onpremDoc(): any {
  return YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.onprem.yaml"), "utf8"));
}

/** `repo:tag@sha256:...` repinned to the digest the local mirror serves for `repo:tag`. */
function repin(ref: string): string {
  const [name] = ref.split("@");
  const base = Object.values(env.bases).find((b) => b.ref.startsWith(`${env.mirror}/${name}@`));
  if (base === undefined) {
    throw new Error(`the local mirror has no ${name}; bases: ${Object.values(env.bases).map((b) => b.ref).join(", ")}. Fix: bash scripts/bases.sh`);
  }
  return `${name}@${base.digest}`;
}

function golden(args: string[]): { code: number; stdout: string; stderr: string } {
  const passwordFile = path.join(work, "robot-secret");
  const r = spawnSync(process.execPath, [BIN, ...args, "--project-dir", work, "--stack", "onprem"], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, GOLDEN_REGISTRY: env.registry, GOLDEN_MIRROR: env.mirror, GOLDEN_REGISTRY_USER: robot.username, GOLDEN_REGISTRY_PASSWORD_FILE: passwordFile },
  });
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  if (!fs.existsSync(BIN)) {
    throw new Error(`${BIN} is missing. Fix: run \`npm run build\` first (scripts/test.sh does)`);
  }
  assertEngine();
  env = testEnv();
  supplyChainEnv();

  // The robot login, as the component gives it to executors.
  setupMocks("golden-images", "onprem");
  const config = parseStackConfig(configValuesFromStackFile(onpremDoc()));
  const { type, ...settings } = config.registry;
  expect(type).toBe("harbor");
  const harbor = new HarborRegistry("onprem", { ...(settings as unknown as HarborRegistryArgs), admin: { password: "admin-secret" }, images: config.images.map((i) => i.name) });
  const auth = harbor.auth();
  if (auth.kind !== "basic") {
    throw new Error(`HarborRegistry.auth() is ${auth.kind}, not basic`);
  }
  const repositoryUrl = await valueOf(harbor.repositoryUrl(BUILT));
  robot = {
    address: await valueOf(auth.address),
    username: await valueOf(auth.username),
    password: await valueOf(auth.password),
    repository: repositoryUrl.slice(repositoryUrl.indexOf("/") + 1),
  };

  // The local registry accepts that login (bcrypt; the secret through stdin, never argv).
  htpasswdFile = path.join(path.dirname(env.passwordFile), "registry", "htpasswd");
  htpasswdBefore = fs.readFileSync(htpasswdFile, "utf8");
  const line = spawnSync("htpasswd", ["-niB", robot.username], { input: `${robot.password}\n`, encoding: "utf8" });
  if (line.status !== 0) {
    throw new Error(`htpasswd failed: ${line.stderr}. Fix: bash scripts/install-tools.sh`);
  }
  fs.writeFileSync(htpasswdFile, `${htpasswdBefore.trimEnd()}\n${line.stdout.trim()}\n`);

  // The onprem stack file as it is, its bases repinned to the local mirror's digests.
  work = fs.mkdtempSync(path.join(os.tmpdir(), "golden-onprem-"));
  fs.cpSync(path.join(ROOT, "images"), path.join(work, "images"), { recursive: true });
  fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(work, "Pulumi.yaml"));
  const doc = onpremDoc();
  doc.config["golden-images:images"] = doc.config["golden-images:images"]
    .filter((i: any) => i.name === BUILT)
    .map((i: any) => ({ ...i, base: repin(i.base), builders: i.builders.map((b: any) => ({ ...b, image: repin(b.image) })) }));
  fs.writeFileSync(path.join(work, "Pulumi.onprem.yaml"), YAML.stringify(doc));
  fs.writeFileSync(path.join(work, "robot-secret"), `${robot.password}\n`, { mode: 0o600 });
});

afterAll(() => {
  if (htpasswdFile !== undefined && htpasswdBefore !== undefined) {
    fs.writeFileSync(htpasswdFile, htpasswdBefore);
  }
  if (work !== undefined) {
    fs.rmSync(work, { recursive: true, force: true });
  }
});

it("GIVEN the onprem stack THEN the executors' login is the pipeline robot's, into <project>/<image>", () => {
  expect(robot.username).toBe("robot$golden-prod+pipeline");
  expect(robot.address).toBe("harbor.example.internal");
  expect(robot.repository).toBe(`golden-prod/${BUILT}`);
  expect(robot.password.length).toBeGreaterThanOrEqual(16);
});

it("GIVEN that robot's login THEN golden builds, pushes, scans, signs, attests, verifies and promotes the onprem image", () => {
  const prefix = robot.repository.slice(0, -BUILT.length);
  const r = golden(["build", "--image", BUILT, "--prefix", prefix, "--rebuild"]);
  expect({ code: r.code, stderr: r.code === 0 ? "" : r.stderr }).toEqual({ code: 0, stderr: "" });
  expect(r.stdout).toContain("1 image(s) pushed, scanned, signed, attested, verified and promoted");
  expect(r.stdout).toMatch(new RegExp(`${env.registry.replace(/\./g, "\\.")}/golden-prod/hello-static@sha256:[0-9a-f]{64}`));

  // A consumer with the same login verifies the signature and every attestation.
  const v = golden(["verify", BUILT, "--prefix", prefix]);
  expect({ code: v.code, stderr: v.code === 0 ? "" : v.stderr }).toEqual({ code: 0, stderr: "" });
});

it("GIVEN a wrong robot secret THEN golden stops at the registry login and names the fix", () => {
  fs.writeFileSync(path.join(work, "robot-secret"), "not-the-secret\n");
  try {
    const r = golden(["build", "--image", BUILT, "--prefix", robot.repository.slice(0, -BUILT.length), "--rebuild", "--unsigned"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/401|unauthorized|authentication/i);
  } finally {
    fs.writeFileSync(path.join(work, "robot-secret"), `${robot.password}\n`, { mode: 0o600 });
  }
});
