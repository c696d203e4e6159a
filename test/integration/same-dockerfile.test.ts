/**
 * `pulumi up` and `golden build` build the same thing: the stack program (under Pulumi mocks,
 * its registry data source answered by the real local registry) renders byte-identical
 * Dockerfiles to the ones the local executor built, for every image of the dev stack.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { runLocalPipeline } from "../../executors/local";
import { baseReferences } from "../../components/render/pin";
import { parseReference } from "../../components/spec/reference";
import { configValuesFromStackFile, parseStackConfig } from "../../stacks/config";
import { createStack } from "../../stacks/program";
import { REGISTRY_DIGESTS, settle, setupMocks, valueOf } from "../unit/mocks";
import { ROOT, testEnv, TestEnv } from "./helpers/env";

jest.setTimeout(15 * 60 * 1000);

let env: TestEnv;
beforeAll(() => {
  env = testEnv();
});

it("renders the same Dockerfile for every dev stack image on both paths", async () => {
  const values = configValuesFromStackFile(YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8")));
  // Both paths reach the bases through the local mirror.
  const config = parseStackConfig({ ...values, mirror: env.mirror });

  // What the registry serves now, for the mocked data source of the pulumi up path.
  for (const spec of config.images) {
    for (const { ref } of baseReferences(spec, env.mirror)) {
      const parsed = parseReference(ref);
      const digest = await env.client.digestOf(parsed.path, parsed.digest ?? parsed.tag ?? "latest");
      if (digest === undefined) throw new Error(`${ref} is not in the mirror. Fix: run \`bash scripts/setup.sh\``);
      REGISTRY_DIGESTS.set(ref, digest);
    }
  }
  setupMocks("golden-images", "dev");
  const all: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...values, mirror: env.mirror })) {
    all[`golden-images:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
  }
  pulumi.runtime.setAllConfig(all);
  const pipeline = createStack();
  const up = await valueOf(pipeline.dockerfiles);
  await settle();

  const built = await runLocalPipeline({
    images: config.images,
    policy: config.policy,
    registry: env.registry,
    auth: { username: env.username, password: env.password },
    mirror: env.mirror,
    repositoryPrefix: "same/",
    projectDir: ROOT,
  });
  expect(Object.keys(up).sort()).toEqual(config.images.map((i) => i.name).sort());
  for (const r of built) {
    expect(up[r.image]).toBe(r.dockerfile);
    // Every stage is pinned by digest (or is scratch) on both paths.
    const froms = r.dockerfile.split("\n").filter((l) => l.startsWith("FROM "));
    expect(froms.length).toBeGreaterThan(1);
    // A multi-platform image's builders run on the build platform (--platform=$BUILDPLATFORM).
    expect(froms.filter((l) => !/^FROM (--platform=\$BUILDPLATFORM )?(scratch|\S+@sha256:[a-f0-9]{64}) AS \S+$/.test(l))).toEqual([]);
  }
});
