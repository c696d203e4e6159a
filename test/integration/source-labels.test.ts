/**
 * The source and revision labels from a real git checkout (git is a tool: this test fails, with
 * the fix, when git is missing): the revision is the last commit that touched the build context,
 * not HEAD, so an unrelated commit leaves every Dockerfile as it was; a dirty or untracked
 * context claims no revision; origin's URL is used only as a web address without credentials;
 * and both paths (`pulumi up` under mocks and the plan's pin step) render the same labels.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { pinSpec } from "../../cli/steps";
import { RegistryClient } from "../../cli/registry-client";
import { readGitFacts } from "../../components/image/git-source";
import { HardenedImage } from "../../components/image/hardened-image";
import { Registry } from "../../components/registry/registry";
import { renderDockerfile } from "../../components/render/dockerfile";
import { ImageSpec } from "../../components/spec/types";
import { settle, setupMocks, valueOf } from "../unit/mocks";

const GIT_ENV = { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.test", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.test", GIT_CONFIG_NOSYSTEM: "1" };

function git(cwd: string, ...args: string[]): string {
  const r = spawnSync("git", args, { cwd, encoding: "utf8", env: GIT_ENV });
  if (r.error !== undefined) {
    throw new Error(`git is needed for this test (${r.error.message}). Fix: install git (apt-get install git)`);
  }
  if (r.status !== 0) {
    throw new Error(`git ${args.join(" ")} failed: ${r.stderr}`);
  }
  return r.stdout.trim();
}

let root = "";
/** The repository; the project (Pulumi.yaml's directory) is its subdirectory `infra`. */
let repo = "";
let project = "";
let helloCommit = "";
let unrelatedCommit = "";

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "source-labels-"));
  repo = path.join(root, "repo");
  project = path.join(repo, "infra");
  fs.mkdirSync(path.join(project, "images", "hello"), { recursive: true });
  fs.mkdirSync(path.join(project, "images", "other"), { recursive: true });
  fs.writeFileSync(path.join(project, "images", "hello", "hello.c"), "int main(void) { return 0; }\n");
  fs.writeFileSync(path.join(project, "images", "other", "other.c"), "int main(void) { return 1; }\n");
  git(root, "init", "-q", "-b", "main", repo);
  git(repo, "add", ".");
  git(repo, "commit", "-qm", "both contexts");
  fs.writeFileSync(path.join(project, "images", "hello", "hello.c"), "int main(void) { return 2; }\n");
  git(repo, "commit", "-qam", "hello changes");
  helloCommit = git(repo, "rev-parse", "HEAD");
  // A later commit elsewhere: it must not move hello's revision.
  fs.writeFileSync(path.join(project, "images", "other", "other.c"), "int main(void) { return 3; }\n");
  fs.writeFileSync(path.join(repo, "README"), "unrelated\n");
  git(repo, "add", ".");
  git(repo, "commit", "-qm", "unrelated");
  unrelatedCommit = git(repo, "rev-parse", "HEAD");
  git(repo, "remote", "add", "origin", "https://ci-bot:s3cr3t@git.example.com/platform/golden-images.git");
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe("readGitFacts on a real repository", () => {
  it("GIVEN a later unrelated commit THEN the revision is the last commit that touched the context, not HEAD", () => {
    const facts = readGitFacts(project, "images/hello");
    expect(facts).toEqual({ remoteUrl: "https://ci-bot:s3cr3t@git.example.com/platform/golden-images.git", revision: helloCommit, dirty: false });
    expect(facts?.revision).not.toBe(unrelatedCommit);
    expect(readGitFacts(project, "images/other")?.revision).toBe(unrelatedCommit);
    // The same context named another way, and the whole project.
    expect(readGitFacts(project, "./images/hello/")?.revision).toBe(helloCommit);
    expect(readGitFacts(project, ".")?.revision).toBe(unrelatedCommit);
  });

  it("GIVEN a modified or an untracked file in the context THEN it is dirty; a change elsewhere is not", () => {
    const file = path.join(project, "images", "hello", "hello.c");
    const before = fs.readFileSync(file, "utf8");
    try {
      fs.writeFileSync(file, "int main(void) { return 9; }\n");
      expect(readGitFacts(project, "images/hello")).toMatchObject({ revision: helloCommit, dirty: true });
    } finally {
      fs.writeFileSync(file, before);
    }
    const extra = path.join(project, "images", "hello", "new.h");
    try {
      fs.writeFileSync(extra, "#define X 1\n");
      expect(readGitFacts(project, "images/hello")).toMatchObject({ dirty: true });
      expect(readGitFacts(project, "images/other")).toMatchObject({ dirty: false });
    } finally {
      fs.rmSync(extra);
    }
    expect(readGitFacts(project, "images/hello")).toMatchObject({ dirty: false });
  });

  it("GIVEN a commit (as golden diff --against reads the old side) THEN the facts as of that commit", () => {
    const first = git(repo, "rev-list", "--max-parents=0", "HEAD");
    expect(readGitFacts(project, "images/hello", { at: first })).toMatchObject({ revision: first, dirty: false });
    expect(readGitFacts(project, "images/hello", { at: unrelatedCommit })).toMatchObject({ revision: helloCommit });
  });

  it("GIVEN a directory outside any repository THEN no facts", () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), "source-labels-norepo-"));
    try {
      expect(readGitFacts(outside, ".")).toBeUndefined();
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it("GIVEN a new repository without commits or remote THEN facts without revision or URL", () => {
    const fresh = path.join(root, "fresh");
    git(root, "init", "-q", "-b", "main", fresh);
    fs.writeFileSync(path.join(fresh, "a.c"), "x\n");
    expect(readGitFacts(fresh, ".")).toEqual({ dirty: true });
  });

  it("GIVEN a shallow clone whose history stops at HEAD THEN no revision (a full clone would name another commit)", () => {
    const shallow = path.join(root, "shallow");
    git(root, "clone", "-q", "--depth", "1", `file://${repo}`, shallow);
    expect(readGitFacts(path.join(shallow, "infra"), "images/hello")).toEqual({ remoteUrl: `file://${repo}`, dirty: false });
    // Deep enough to reach hello's last change: then it is known.
    git(shallow, "fetch", "-q", "--deepen", "2", "origin");
    expect(readGitFacts(path.join(shallow, "infra"), "images/hello")?.revision).toBe(helloCommit);
  });

  it("GIVEN a damaged repository THEN an error naming git's complaint and the fix, not a silent missing label", () => {
    const broken = path.join(root, "broken");
    git(root, "clone", "-q", repo, broken);
    const head = git(broken, "rev-parse", "HEAD");
    fs.rmSync(path.join(broken, ".git", "objects", head.slice(0, 2), head.slice(2)));
    expect(() => readGitFacts(broken, ".")).toThrow(/^git log -1 --format=%H \S+ -- \. failed in .*broken \(exit 128: fatal: bad object \S+\), reading the image's source labels\. Fix: /);
  });
});

describe("both paths render the labels from the checkout", () => {
  const DIGEST_BASE = `sha256:${"1".repeat(64)}`;
  const DIGEST_GCC = `sha256:${"2".repeat(64)}`;
  const spec: ImageSpec = {
    name: "hello-labels",
    flavor: "distroless-static",
    base: `distroless/static-debian12:nonroot@${DIGEST_BASE}`,
    context: "images/hello",
    builders: [{ name: "build", image: `library/gcc:12-bookworm@${DIGEST_GCC}`, copy: [{ src: "hello.c", dest: "/src/hello.c" }], run: ["gcc -static -o /out/hello hello.c"] }],
    copy: [{ from: "build", src: "/out/hello", dest: "/hello" }],
    entrypoint: ["/hello"],
  };
  const policy = { environment: "prod" as const, mirror: "mirror.example.internal/hub", sourceDateEpoch: 1763856000 };
  const registry: Registry = {
    kind: "oci",
    imageNames: [spec.name],
    repositoryUrl: () => pulumi.output("127.0.0.1:5000/golden/hello-labels"),
    auth: () => ({ kind: "basic", address: pulumi.output("127.0.0.1:5000"), username: pulumi.output("u"), password: pulumi.secret("p") }),
    grant: () => {
      throw new Error("not used");
    },
    cacheRef: () => undefined,
    tagRules: { immutable: true, mutableTags: [] },
  };
  // The pin step checks that pinned digests are still served; this registry serves them.
  const served = { digestOf: async (repository: string) => (repository.endsWith("gcc") ? DIGEST_GCC : DIGEST_BASE) } as unknown as RegistryClient;

  let cwd = "";
  beforeEach(() => {
    cwd = process.cwd();
    // Both paths read git where they run: the program's directory, the project directory of a plan step.
    process.chdir(project);
  });
  afterEach(() => process.chdir(cwd));

  async function bothPaths(): Promise<{ up: string; local: string }> {
    setupMocks();
    const image = new HardenedImage(`labels-${Math.random().toString(16).slice(2, 8)}`, { spec, policy, registry });
    const up = await valueOf(image.dockerfile);
    await settle();
    const pinned = await pinSpec(spec, policy, () => served);
    return { up, local: renderDockerfile(pinned.spec, pinned.policy) };
  }

  it("GIVEN a clean context THEN the same Dockerfile, with origin's web URL and the context's commit", async () => {
    const { up, local } = await bothPaths();
    expect(up).toBe(local);
    expect(up).toContain('org.opencontainers.image.source="https://git.example.com/platform/golden-images"');
    expect(up).toContain(`org.opencontainers.image.revision="${helloCommit}"`);
    expect(up).not.toContain("s3cr3t");
  });

  it("GIVEN a dirty context THEN the same Dockerfile on both paths, without a revision", async () => {
    const file = path.join(project, "images", "hello", "hello.c");
    const before = fs.readFileSync(file, "utf8");
    try {
      fs.writeFileSync(file, "int main(void) { return 7; }\n");
      const { up, local } = await bothPaths();
      expect(up).toBe(local);
      expect(up).toContain("org.opencontainers.image.source=");
      expect(up).not.toContain("org.opencontainers.image.revision");
    } finally {
      fs.writeFileSync(file, before);
    }
  });
});
