/**
 * The step server runs each request as a spawned `golden step` would see it: its own working
 * directory and environment (and nothing of the previous request's), its output captured, its
 * exit code returned; the server's own directory and environment are restored afterwards.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { serveStep } from "../../cli/step-server";

describe("serveStep", () => {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "step-server-")));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("GIVEN a request THEN the step runs in its directory with exactly its environment, and its output and code come back", async () => {
    const before = { cwd: process.cwd(), home: process.env.HOME };
    const seen: Record<string, unknown> = {};
    const r = await serveStep({ args: ["pin", "--x"], cwd: dir, env: { ONLY: "this", PATH: "/bin" } }, async (argv, io) => {
      seen.argv = argv;
      seen.cwd = process.cwd();
      seen.only = process.env.ONLY;
      seen.home = process.env.HOME;
      process.stdout.write("written to stdout\n");
      io.stderr("golden: failed. Fix: x\n");
      return 3;
    });
    expect(seen).toEqual({ argv: ["step", "pin", "--x"], cwd: dir, only: "this", home: undefined });
    expect(r).toEqual({ code: 3, output: "written to stdout\ngolden: failed. Fix: x\n" });
    expect(process.cwd()).toBe(before.cwd);
    expect(process.env.HOME).toBe(before.home);
    expect(process.env.ONLY).toBeUndefined();
  });

  it("GIVEN a step that throws THEN code 1 and the message, and the server's state is restored", async () => {
    const cwd = process.cwd();
    const r = await serveStep({ args: ["gate"], cwd: dir, env: {} }, async () => {
      throw new Error("boom");
    });
    expect(r).toEqual({ code: 1, output: "golden: boom\n" });
    expect(process.cwd()).toBe(cwd);
    expect(process.env.PATH).toBeDefined();
  });
});
