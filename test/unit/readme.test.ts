/**
 * A new user's first stack: the README's quick start, taken literally from README.md, runs
 * under Pulumi mocks with only the import path pointed at this checkout.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { settle, setupMocks, valueOf } from "./mocks";

const ROOT = path.join(__dirname, "..", "..");

function quickStart(): string {
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  const m = /<!-- quickstart[^>]*-->\s*```ts\n([\s\S]*?)```/.exec(readme);
  if (m === null) {
    throw new Error("README.md has no quick start block marked <!-- quickstart -->");
  }
  return m[1];
}

it("composes GoldenImagePipeline with two images of different flavors and renders", async () => {
  // GIVEN the quick start, with its package import pointed at this checkout
  const source = quickStart()
    .replace(/from "pulumi-golden-image"/g, `from ${JSON.stringify(path.join(ROOT, "components"))}`)
    .replace(/from "@pulumi\/pulumi"/g, `from ${JSON.stringify(require.resolve("@pulumi/pulumi"))}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "golden-readme-"));
  const file = path.join(dir, "index.ts");
  fs.writeFileSync(file, source);
  // The user's project: the build contexts the quick start names exist in the program's directory.
  for (const context of source.matchAll(/context: "([^"]+)"/g)) {
    fs.mkdirSync(path.join(dir, context[1]), { recursive: true });
    fs.writeFileSync(path.join(dir, context[1], "main.c"), "int main(void) { return 0; }\n");
  }
  const mocks = setupMocks("my-platform", "dev");

  // WHEN the program runs from its directory, as `pulumi up` runs it
  const cwd = process.cwd();
  process.chdir(dir);
  let refs: Record<string, string>;
  let dockerfiles: Record<string, string>;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const program = require(file) as { refs: import("@pulumi/pulumi").Output<Record<string, string>>; dockerfiles: import("@pulumi/pulumi").Output<Record<string, string>> };
    refs = await valueOf(program.refs);
    dockerfiles = await valueOf(program.dockerfiles);
    await settle();
  } finally {
    process.chdir(cwd);
  }

  // THEN two hardened images of two flavors are built into ECR repositories
  expect(Object.keys(refs)).toEqual(["api-base", "worker-base"]);
  expect(refs["api-base"]).toMatch(/\/golden\/api-base@sha256:[a-f0-9]{64}$/);
  expect(dockerfiles["api-base"]).toContain("flavor: distroless-static");
  expect(dockerfiles["worker-base"]).toContain("flavor: debian-slim");
  expect(dockerfiles["worker-base"]).toContain("rm -f /bin/bash");
  expect(mocks.ofType("aws:ecr/repository:Repository").map((r) => r.inputs.name).sort()).toEqual(["golden/api-base", "golden/worker-base"]);
  expect(mocks.ofType("docker-build:index:Image")).toHaveLength(2);
});
