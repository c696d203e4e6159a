/**
 * Same inputs, same digest: BuildKit with SOURCE_DATE_EPOCH and rewritten timestamps, across a
 * full cache prune, new file times, and a second project directory; a re-push of an unchanged
 * image is a no-op. And the control that shows the check can fail: one changed byte, new digest.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { ImageResult, runLocalPipeline } from "../../executors/local";
import { toolCommand } from "../../executors/plan-runner";
import { ImageSpec } from "../../components/spec/types";
import { configValuesFromStackFile, parseStackConfig } from "../../stacks/config";
import { ROOT, testEnv, TestEnv } from "./helpers/env";

jest.setTimeout(15 * 60 * 1000);

let env: TestEnv;
const config = parseStackConfig(configValuesFromStackFile(YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8"))));
const spec = config.images.find((i) => i.name === "hello-static") as ImageSpec;

/** A fresh project directory holding a copy of the build context. */
function projectCopy(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "golden-repro-"));
  fs.cpSync(path.join(ROOT, "images"), path.join(dir, "images"), { recursive: true });
  return dir;
}

function build(projectDir: string, prefix = "repro/"): Promise<ImageResult[]> {
  return runLocalPipeline({
    images: [spec],
    policy: config.policy,
    registry: env.registry,
    auth: { username: env.username, password: env.password },
    mirror: env.mirror,
    repositoryPrefix: prefix,
    projectDir,
  });
}

function pruneBuildKit(): void {
  const [cmd, ...pre] = toolCommand("buildctl", process.env);
  const r = spawnSync(cmd, [...pre, "prune", "--all"], { encoding: "utf8" });
  if (r.status !== 0) {
    throw new Error(`buildctl prune --all failed: ${r.stderr}. Fix: run \`bash scripts/setup.sh\` and \`eval "$(bash scripts/services.sh env)"\``);
  }
}

function touchAll(dir: string, when: Date): void {
  for (const entry of fs.readdirSync(dir, { recursive: true }) as string[]) {
    fs.utimesSync(path.join(dir, entry), when, when);
  }
}

beforeAll(() => {
  env = testEnv();
  if (process.env.BUILDKIT_HOST === undefined) {
    throw new Error('BUILDKIT_HOST is not set. Fix: eval "$(bash scripts/services.sh env)" (scripts/test.sh does)');
  }
});

it("builds the same digest after a cache prune, with new file times, from another directory", async () => {
  const a = projectCopy();
  const [first] = await build(a);
  pruneBuildKit();
  const b = projectCopy();
  touchAll(path.join(b, "images"), new Date(2031, 0, 1));
  const [second] = await build(b);
  expect(second.digest).toBe(first.digest);
  expect(second.taggedRef).toBe(first.taggedRef);
  // The plan's own result files agree with what the registry serves.
  expect(fs.readFileSync(path.join(b, ".golden/run/hello-static/push.digest"), "utf8").trim()).toBe(first.digest);
  expect(JSON.parse(fs.readFileSync(path.join(b, ".golden/run/hello-static/build.json"), "utf8"))["containerimage.digest"]).toBe(first.digest);
});

it("re-pushes an unchanged image as a no-op: same tag, same digest, no error", async () => {
  const dir = projectCopy();
  const [first] = await build(dir, "repro-again/");
  const tagsBefore = await env.client.tags("repro-again/hello-static");
  const [again] = await build(dir, "repro-again/");
  expect(again.digest).toBe(first.digest);
  expect(await env.client.tags("repro-again/hello-static")).toEqual(tagsBefore);
});

it("gives a new digest and a new tag when one byte of the program changes (the check can fail)", async () => {
  const a = projectCopy();
  const [before] = await build(a, "repro-diff/");
  const source = path.join(a, "images", "hello", "hello.c");
  fs.writeFileSync(source, fs.readFileSync(source, "utf8").replace("hello from a golden image", "hello from a golden imagE"));
  const [after] = await build(a, "repro-diff/");
  expect(after.digest).not.toBe(before.digest);
  expect(after.taggedRef).not.toBe(before.taggedRef);
});
