/**
 * A build context with a setuid or setgid file is refused where it is hashed (both paths, before
 * any build): git cannot record the bits, and COPY would carry them into a shell-less runtime
 * where strict hardening cannot strip them. Directories keep theirs (setgid is inherited from a
 * shared parent and grants nothing).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { clearContextHashCache, contentTag, hashBuildContext } from "../../components/image/context-hash";
import { ValidationError } from "../../components/render/issues";

let base = "";
beforeEach(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), "context-setid-"));
  fs.mkdirSync(path.join(base, "ctx", "bin"), { recursive: true });
  fs.writeFileSync(path.join(base, "ctx", "bin", "tool"), "#!/bin/true\n");
  fs.chmodSync(path.join(base, "ctx", "bin", "tool"), 0o755);
  clearContextHashCache();
});
afterEach(() => fs.rmSync(base, { recursive: true, force: true }));

const inputs = () => ({ platforms: ["linux/amd64"], buildArgs: {}, baseDirectory: base, path: "images[0].context", title: 'Invalid HardenedImage "x"' });

it.each([
  [0o4755, "4755", "setuid"],
  [0o2755, "2755", "setgid"],
  [0o6755, "6755", "both"],
])("GIVEN a file with mode %s (%s) THEN the context is refused, naming the file and the fix", (mode, shown) => {
  fs.chmodSync(path.join(base, "ctx", "bin", "tool"), mode);
  let error: unknown;
  try {
    contentTag("FROM scratch\n", path.join(base, "ctx"), "v", inputs());
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ValidationError);
  expect((error as ValidationError).message).toBe(
    `Invalid HardenedImage "x" (1 problem):\n  - images[0].context: holds bin/tool with the setuid or setgid bit (mode ${shown}), which git cannot record and a hardened image must not carry (value: "ctx"). Fix: clear the bits (chmod u-s,g-s bin/tool in the context), or leave the file out with a .dockerignore`,
  );
});

it("GIVEN the file left out by .dockerignore, or a setgid directory THEN the context is hashed as usual", () => {
  const before = hashBuildContext(path.join(base, "ctx"));
  fs.chmodSync(path.join(base, "ctx", "bin"), 0o2755);
  expect(() => hashBuildContext(path.join(base, "ctx"))).not.toThrow();
  fs.chmodSync(path.join(base, "ctx", "bin"), 0o755);
  fs.chmodSync(path.join(base, "ctx", "bin", "tool"), 0o4755);
  fs.writeFileSync(path.join(base, "ctx", ".dockerignore"), "bin/tool\n");
  expect(hashBuildContext(path.join(base, "ctx"))).not.toBe(before);
  expect(() => contentTag("FROM scratch\n", path.join(base, "ctx"), "v", inputs())).not.toThrow();
});
