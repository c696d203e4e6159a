/**
 * `golden diff --against REV` with the real git: a project that is a git repository, two commits
 * (one base digest and one spec field changed), and the exact text a reviewer reads in the PR;
 * a context changed in the working tree; bad input ends with one line and exit code 2.
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { runGolden } from "../../cli/golden";

const D1 = `sha256:${"1".repeat(64)}`;
const D2 = `sha256:${"2".repeat(64)}`;
const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: "t",
  GIT_AUTHOR_EMAIL: "t@example.test",
  GIT_COMMITTER_NAME: "t",
  GIT_COMMITTER_EMAIL: "t@example.test",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
};

let dir = "";
const git = (...args: string[]) => execFileSync("git", args, { cwd: dir, encoding: "utf8", env: GIT_ENV }).trim();

const hello = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  flavor: "distroless-static",
  context: "images/hello",
  builders: [{ name: "build", copy: [{ src: "hello.c", dest: "/src/hello.c" }], run: ["mkdir -p /out && gcc -static -Os -s -o /out/hello hello.c"] }],
  copy: [{ from: "build", src: "/out/hello", dest: "/hello" }],
  entrypoint: ["/hello"],
  ...extra,
});

function writeStack(stack: string, images: unknown[]): void {
  const doc = {
    config: {
      "golden-images:environment": "dev",
      "golden-images:mirror": "mirror.example.internal/hub",
      "golden-images:allowTagOnlyBases": true,
      "golden-images:sourceDateEpoch": 1763856000,
      "golden-images:registry": { type: "ecr" },
      "golden-images:images": images,
    },
  };
  fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), YAML.stringify(doc));
}

async function golden(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await runGolden(["diff", "--project-dir", dir, ...args], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

beforeAll(() => {
  const v = spawnSync("git", ["--version"], { encoding: "utf8" });
  if (v.error !== undefined || v.status !== 0) {
    throw new Error(`git is not installed (${v.error?.message ?? v.stderr}). Fix: install git (apt-get install git); golden diff --against needs it`);
  }
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "golden-diff-git-"));
  git("init", "-q", "-b", "main");
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: golden-images\nruntime: nodejs\n");
  fs.mkdirSync(path.join(dir, "images", "hello"), { recursive: true });
  fs.writeFileSync(path.join(dir, "images", "hello", "hello.c"), "int main(void) { return 0; }\n");
  // GIVEN a first commit with three images
  writeStack("dev", [
    hello("hello-static", { base: `distroless/static-debian12:nonroot@${D1}` }),
    hello("hello-env", { env: { TZ: "UTC" } }),
    hello("hello-same"),
  ]);
  git("add", ".");
  git("commit", "-qm", "three golden images");
  // AND a second commit that moves one base digest and changes one spec field
  writeStack("dev", [
    hello("hello-static", { base: `distroless/static-debian12:nonroot@${D2}` }),
    hello("hello-env", { env: { TZ: "Europe/Berlin" } }),
    hello("hello-same"),
  ]);
  git("commit", "-qam", "new base digest, new TZ");
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** What a reviewer reads; `rev` is the commit that last touched images/hello (its revision label, unchanged). */
const expected = (rev: string) => `golden diff: stack dev, working tree against HEAD~1
2 of 3 image(s) change: hello-env (rebuild), hello-static (rebuild)

=== hello-env: changed, will rebuild
spec: env.TZ
--- a/hello-env/Dockerfile\tHEAD~1
+++ b/hello-env/Dockerfile\tworking tree
@@ -9,7 +9,7 @@
 
 FROM mirror.example.internal/hub/distroless/static-debian12:nonroot AS runtime
 COPY --from=build --chown=65532:65532 ["/out/hello","/hello"]
-ENV TZ="UTC"
+ENV TZ="Europe/Berlin"
 LABEL org.opencontainers.image.base.name="mirror.example.internal/hub/distroless/static-debian12:nonroot" \\
     org.opencontainers.image.created="2025-11-23T00:00:00Z" \\
     org.opencontainers.image.revision="${rev}" \\

=== hello-static: changed, will rebuild
spec: base
base digest (runtime): mirror.example.internal/hub/distroless/static-debian12:nonroot ${D1} -> ${D2}
--- a/hello-static/Dockerfile\tHEAD~1
+++ b/hello-static/Dockerfile\tworking tree
@@ -7,9 +7,9 @@
 RUN ["/bin/sh","-c","mkdir -p /out && gcc -static -Os -s -o /out/hello hello.c"]
 RUN ["/bin/sh","-c","find / -xdev -type f -perm /6000 -exec chmod a-s {} +"]
 
-FROM mirror.example.internal/hub/distroless/static-debian12:nonroot@${D1} AS runtime
+FROM mirror.example.internal/hub/distroless/static-debian12:nonroot@${D2} AS runtime
 COPY --from=build --chown=65532:65532 ["/out/hello","/hello"]
-LABEL org.opencontainers.image.base.digest="${D1}" \\
+LABEL org.opencontainers.image.base.digest="${D2}" \\
     org.opencontainers.image.base.name="mirror.example.internal/hub/distroless/static-debian12:nonroot" \\
     org.opencontainers.image.created="2025-11-23T00:00:00Z" \\
     org.opencontainers.image.revision="${rev}" \\

unchanged: hello-same
`;

describe("golden diff --against a git revision (real git)", () => {
  it("GIVEN a commit that moved one base digest and changed one spec field THEN the reviewer reads both, sorted by image, exit code 1", async () => {
    const r = await golden("--against", "HEAD~1");
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(expected(git("log", "-1", "--format=%H", "--", "images/hello")));
    expect(r.code).toBe(1);
  });

  it("GIVEN the same with --json THEN the same facts as JSON, exit code 1", async () => {
    const r = await golden("--against", "HEAD~1", "--json");
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ stack: "dev", against: "HEAD~1", changed: true });
    expect(doc.images.map((i: { image: string; status: string; spec: string[] }) => [i.image, i.status, i.spec])).toEqual([
      ["hello-env", "rebuild", ["env.TZ"]],
      ["hello-same", "unchanged", []],
      ["hello-static", "rebuild", ["base"]],
    ]);
    expect(doc.images[2].bases).toEqual([
      { stage: "runtime", kind: "digest", old: `mirror.example.internal/hub/distroless/static-debian12:nonroot@${D1}`, new: `mirror.example.internal/hub/distroless/static-debian12:nonroot@${D2}` },
    ]);
  });

  it("GIVEN --image THEN only that image is compared; an unchanged one exits 0", async () => {
    const r = await golden("--against", "HEAD~1", "--image", "hello-same");
    expect(r).toEqual({ code: 0, stderr: "", stdout: "golden diff: stack dev, working tree against HEAD~1\nnothing changes (1 image(s))\n\nunchanged: hello-same\n" });
  });

  it("GIVEN the checked-out commit itself THEN nothing changes, exit code 0 (the contexts hash the same from git archive and the working tree)", async () => {
    const r = await golden("--against", "HEAD");
    expect(r).toEqual({ code: 0, stderr: "", stdout: "golden diff: stack dev, working tree against HEAD\nnothing changes (3 image(s))\n\nunchanged: hello-env, hello-same, hello-static\n" });
  });

  it("GIVEN a source file changed in the working tree THEN every image on that context rebuilds for its context, and its Dockerfile loses the revision label (a dirty context claims no commit)", async () => {
    const file = path.join(dir, "images", "hello", "hello.c");
    const rev = git("log", "-1", "--format=%H", "--", "images/hello");
    fs.writeFileSync(file, "int main(void) { return 2; }\n");
    try {
      const r = await golden("--against", "HEAD", "--image", "hello-same");
      expect(r).toEqual({
        code: 1,
        stderr: "",
        stdout: [
          "golden diff: stack dev, working tree against HEAD",
          "1 of 1 image(s) change: hello-same (rebuild)",
          "",
          "=== hello-same: changed, will rebuild",
          "context: the files in images/hello changed",
          "--- a/hello-same/Dockerfile\tHEAD",
          "+++ b/hello-same/Dockerfile\tworking tree",
          "@@ -11,7 +11,6 @@",
          ' COPY --from=build --chown=65532:65532 ["/out/hello","/hello"]',
          ' LABEL org.opencontainers.image.base.name="mirror.example.internal/hub/distroless/static-debian12:nonroot" \\',
          '     org.opencontainers.image.created="2025-11-23T00:00:00Z" \\',
          `-    org.opencontainers.image.revision="${rev}" \\`,
          '     org.opencontainers.image.title="hello-same"',
          " USER 65532:65532",
          ' ENTRYPOINT ["/hello"]',
          "",
        ].join("\n"),
      });
    } finally {
      git("checkout", "--", "images/hello/hello.c");
    }
  });

  it("GIVEN no --against and nothing promoted yet THEN every image is added (against the promoted images, the default)", async () => {
    const r = await golden();
    expect(r.code).toBe(1);
    expect(r.stdout.split("\n").slice(0, 2)).toEqual(["golden diff: stack dev, against the promoted images", "3 of 3 image(s) change: hello-env (added), hello-same (added), hello-static (added)"]);
  });

  it("GIVEN a stack that did not exist at the revision THEN every image is added", async () => {
    writeStack("staging", [hello("hello-new")]);
    try {
      const r = await golden("--stack", "staging", "--against", "HEAD");
      expect(r.code).toBe(1);
      expect(r.stdout.split("\n").slice(0, 5)).toEqual([
        "golden diff: stack staging, working tree against HEAD",
        "1 of 1 image(s) change: hello-new (added)",
        "",
        "=== hello-new: added, will build",
        "--- /dev/null",
      ]);
    } finally {
      fs.rmSync(path.join(dir, "Pulumi.staging.yaml"));
    }
  });

  it("GIVEN --help THEN golden diff, --against, the offline rendering and the exit codes are documented", async () => {
    let stdout = "";
    expect(await runGolden(["--help"], { stdout: (t) => (stdout += t), stderr: () => undefined })).toBe(0);
    expect(stdout).toContain("golden diff     [options]");
    expect(stdout).toContain("--against WHAT");
    expect(stdout).toContain("golden diff contacts no registry");
    expect(stdout).toContain("a tag-only base\nrenders as a tag");
    expect(stdout).toContain("golden diff exits 0 when nothing changes, 1 when something does (like git diff --exit-code), 2 on\nbad input");
  });

  describe.each([
    ["a revision that does not exist", ["--against", "no-such-branch"], /^golden: --against no-such-branch is not a commit of the repository at .*\. Fix: give a commit, branch or tag that exists here \(in CI: check out with fetch-depth: 0 and use origin\/<base branch>\)$/],
    ["a revision that looks like an option", ["--against=--output=x"], /^golden: --against --output=x is not a commit of the repository/],
    ["an unknown stack", ["--stack", "qa", "--against", "HEAD"], /^golden: no stack file .*Pulumi\.qa\.yaml\. Fix: pass --stack with one of: dev, or --project-dir$/],
    ["an unknown image", ["--image", "nope", "--against", "HEAD"], /^golden: unknown image "nope"\. Fix: use one of: hello-env, hello-same, hello-static$/],
    ["--against on another command", ["--against", "HEAD"], /^golden: --against is an option of golden diff\. Fix: golden diff --against promoted\|REVISION$/, "render"],
  ])("GIVEN %s", (_what, args, line, command = "diff") => {
    it("THEN one line names the problem and the fix, exit code 2", async () => {
      let stdout = "";
      let stderr = "";
      const code = await runGolden([command as string, "--project-dir", dir, ...(args as string[])], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
      expect({ code, stdout }).toEqual({ code: 2, stdout: "" });
      expect(stderr.split("\n").filter((l) => l !== "")).toEqual([expect.stringMatching(line as RegExp)]);
    });
  });

  it("GIVEN a project in a subdirectory of the repository THEN the revision's project directory is read, and one that did not exist adds every image", async () => {
    const repo = fs.mkdtempSync(path.join(os.tmpdir(), "golden-diff-sub-"));
    const sub = path.join(repo, "platform", "images-project");
    const inRepo = (...args: string[]) => execFileSync("git", args, { cwd: repo, encoding: "utf8", env: GIT_ENV });
    try {
      inRepo("init", "-q", "-b", "main");
      fs.writeFileSync(path.join(repo, "README"), "another project lives here\n");
      inRepo("add", ".");
      inRepo("commit", "-qm", "before the golden images");
      fs.mkdirSync(sub, { recursive: true });
      fs.cpSync(path.join(dir, "images"), path.join(sub, "images"), { recursive: true });
      fs.copyFileSync(path.join(dir, "Pulumi.dev.yaml"), path.join(sub, "Pulumi.dev.yaml"));
      inRepo("add", ".");
      inRepo("commit", "-qm", "golden images");
      const run = async (against: string) => {
        let stdout = "";
        const code = await runGolden(["diff", "--project-dir", sub, "--against", against], { stdout: (t) => (stdout += t), stderr: (t) => (stdout += t) });
        return { code, lines: stdout.split("\n").slice(0, 2) };
      };
      expect(await run("HEAD")).toEqual({ code: 0, lines: ["golden diff: stack dev, working tree against HEAD", "nothing changes (3 image(s))"] });
      expect(await run("HEAD~1")).toEqual({ code: 1, lines: ["golden diff: stack dev, working tree against HEAD~1", "3 of 3 image(s) change: hello-env (added), hello-same (added), hello-static (added)"] });
    } finally {
      fs.rmSync(repo, { recursive: true, force: true });
    }
  });

  it("GIVEN a directory that is no git repository THEN --against a revision is bad input, exit code 2", async () => {
    const bare = fs.mkdtempSync(path.join(os.tmpdir(), "golden-diff-nogit-"));
    try {
      fs.copyFileSync(path.join(dir, "Pulumi.dev.yaml"), path.join(bare, "Pulumi.dev.yaml"));
      fs.cpSync(path.join(dir, "images"), path.join(bare, "images"), { recursive: true });
      let stderr = "";
      const code = await runGolden(["diff", "--project-dir", bare, "--against", "HEAD"], { stdout: () => undefined, stderr: (t) => (stderr += t) });
      expect(code).toBe(2);
      expect(stderr).toBe(`golden: --against HEAD needs a git repository, and ${bare} is not in one. Fix: run golden diff in a git checkout, or use --against promoted\n`);
    } finally {
      fs.rmSync(bare, { recursive: true, force: true });
    }
  });
});
