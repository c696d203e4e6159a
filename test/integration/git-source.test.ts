/**
 * The Kubernetes job's clone, run by the real git: the command the init container runs checks out
 * the build contexts by branch and by commit, from a repository served locally (no network).
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { gitCloneCommand } from "../../components/plan/kubernetes-job";

let root = "";
let sha = "";
const git = (cwd: string, ...args: string[]) => execFileSync("git", args, { cwd, encoding: "utf8", env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.test", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.test" } }).trim();

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "git-source-"));
  const src = path.join(root, "src");
  fs.mkdirSync(path.join(src, "images", "hello"), { recursive: true });
  fs.writeFileSync(path.join(src, "images", "hello", "hello.c"), "int main(void) { return 0; }\n");
  git(root, "init", "-q", "-b", "main", src);
  git(src, "add", ".");
  git(src, "commit", "-qm", "contexts");
  sha = git(src, "rev-parse", "HEAD");
  // A second commit on main: the commit checkout must get the first one, not the branch tip.
  fs.writeFileSync(path.join(src, "images", "hello", "hello.c"), "int main(void) { return 1; }\n");
  git(src, "commit", "-qam", "change");
  git(root, "clone", "-q", "--bare", src, path.join(root, "served.git"));
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function clone(revision: string, dir: string): { status: number; stderr: string } {
  const [command, ...args] = gitCloneCommand({ url: `file://${path.join(root, "served.git")}`, revision }, dir);
  const r = spawnSync(command, args, { cwd: root, encoding: "utf8", env: { ...process.env, HOME: root, GIT_TERMINAL_PROMPT: "0" } });
  return { status: r.status ?? 1, stderr: r.stderr };
}

describe("gitCloneCommand with the real git", () => {
  it("GIVEN a branch THEN its tip is checked out, one commit deep", () => {
    const dir = path.join(root, "by-branch");
    expect(clone("main", dir)).toMatchObject({ status: 0 });
    expect(fs.readFileSync(path.join(dir, "images", "hello", "hello.c"), "utf8")).toContain("return 1");
    expect(git(dir, "rev-list", "--count", "HEAD")).toBe("1");
  });

  it("GIVEN a commit THEN exactly that commit is checked out", () => {
    const dir = path.join(root, "by-commit");
    expect(clone(sha, dir)).toMatchObject({ status: 0 });
    expect(git(dir, "rev-parse", "HEAD")).toBe(sha);
    expect(fs.readFileSync(path.join(dir, "images", "hello", "hello.c"), "utf8")).toContain("return 0");
  });

  it("GIVEN a branch that does not exist THEN the clone fails (the job stops before building)", () => {
    expect(clone("no-such-branch", path.join(root, "missing")).status).not.toBe(0);
  });
});
