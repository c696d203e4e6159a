/**
 * The remote executors' toolchain against the real Go module proxy and the real go command:
 * every pinned checksum is the one the proxy (and the Go checksum database) serves, the versions
 * equal the ones the local scripts build, and the install script refuses a module whose checksum
 * is not the pin.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { GO_TOOLCHAIN, GoToolName, renderToolInstallScript } from "../../components/plan/toolchain";

const ROOT = path.join(__dirname, "..", "..");
const names = Object.keys(GO_TOOLCHAIN) as GoToolName[];

function goModDownload(module: string, version: string): { Sum?: string; Error?: string } {
  const r = spawnSync("go", ["mod", "download", "-json", `${module}@${version}`], { encoding: "utf8", cwd: os.tmpdir(), maxBuffer: 1 << 24 });
  if (r.error !== undefined) {
    throw new Error(`go is not installed (${r.error.message}). Fix: run scripts/setup.sh or install Go 1.24+`);
  }
  return JSON.parse(r.stdout);
}

describe("the pinned Go toolchain", () => {
  it.each(names)("GIVEN %s THEN its pinned checksum is the module proxy's", (name) => {
    const t = GO_TOOLCHAIN[name];
    const got = goModDownload(t.module, t.version);
    expect({ name, sum: got.Sum, error: got.Error }).toEqual({ name, sum: t.sum, error: undefined });
  });

  it("THEN the versions equal the ones scripts/install-release-tool.sh and install-buildkit.sh build locally", () => {
    const release = fs.readFileSync(path.join(ROOT, "scripts", "install-release-tool.sh"), "utf8");
    for (const name of ["cosign", "syft", "grype", "trivy"] as const) {
      const line = release.split("\n").find((l) => l.trim().startsWith(`${name})`));
      expect(line).toContain(`version=${GO_TOOLCHAIN[name].version}`);
      expect(line).toContain(GO_TOOLCHAIN[name].ldflags.replace(/^-X /, ""));
    }
    expect(fs.readFileSync(path.join(ROOT, "scripts", "install-buildkit.sh"), "utf8")).toContain(`BUILDKIT_VERSION=${GO_TOOLCHAIN.buildkit.version}`);
  });

  it("GIVEN a module whose checksum is not the pin THEN the install script refuses to build it", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "toolchain-"));
    try {
      const script = renderToolInstallScript(["grype"]).replace(GO_TOOLCHAIN.grype.sum, "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
      const r = spawnSync("sh", ["-c", script], { env: { ...process.env, GOLDEN_TOOLS: dir }, encoding: "utf8" });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`golden: ${GO_TOOLCHAIN.grype.module}@${GO_TOOLCHAIN.grype.version} has checksum ${GO_TOOLCHAIN.grype.sum}, the pin is h1:AAAA`);
      expect(fs.readdirSync(dir)).toEqual(["bin"]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("GIVEN the pinned grype THEN the install script builds it and the binary reports the pinned version", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "toolchain-"));
    try {
      const r = spawnSync("sh", ["-c", renderToolInstallScript(["grype"])], { env: { ...process.env, GOLDEN_TOOLS: dir }, encoding: "utf8" });
      expect({ status: r.status, stderr: r.status === 0 ? "" : r.stderr }).toEqual({ status: 0, stderr: "" });
      const v = spawnSync(path.join(dir, "bin", "grype"), ["version", "-o", "json"], { encoding: "utf8" });
      expect(JSON.parse(v.stdout).version).toBe(GO_TOOLCHAIN.grype.version.slice(1));
      // A second run finds the build and does nothing more.
      const again = spawnSync("sh", ["-c", renderToolInstallScript(["grype"])], { env: { ...process.env, GOLDEN_TOOLS: dir }, encoding: "utf8" });
      expect(again.status).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
