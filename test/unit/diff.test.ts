/**
 * `golden diff`'s comparison (cli/diff.ts), pure: spec fields, base digests old -> new, the
 * unified Dockerfile diff, added / removed / unchanged images and the exit code; and, with a
 * context on disk, the stack pinned to the promoted digests offline and the record the promote
 * step writes for it.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  baseChanges,
  diffExitCode,
  diffImage,
  DiffLabels,
  diffStack,
  dockerfileDiff,
  formatDiff,
  formatDiffJson,
  ImageSide,
  pinnedLikePromoted,
  promotedSides,
  renderedSide,
  Side,
  specChanges,
  stageBases,
} from "../../cli/diff";
import { BuiltInputs, openPromotionStore } from "../../cli/promotion-store";
import { runStepCommand } from "../../cli/steps";
import { renderDockerfile } from "../../components/render/dockerfile";
import { applyPins } from "../../components/render/pin";
import { EnvironmentPolicy, ImageSpec } from "../../components/spec/types";

const POLICY: EnvironmentPolicy = { environment: "dev", mirror: "mirror.example.internal/hub", allowTagOnlyBases: true, sourceDateEpoch: 1763856000 };
const D1 = `sha256:${"1".repeat(64)}`;
const D2 = `sha256:${"2".repeat(64)}`;
const D3 = `sha256:${"3".repeat(64)}`;
const LABELS: DiffLabels = { old: "HEAD~1", new: "working tree" };

const api: ImageSpec = {
  name: "api",
  flavor: "distroless-static",
  base: `distroless/static-debian12:nonroot@${D1}`,
  context: "ctx",
  builders: [{ name: "build", copy: [{ src: "main.c", dest: "/src/main.c" }], run: ["gcc -static -o /out/api main.c"] }],
  copy: [{ from: "build", src: "/out/api", dest: "/api" }],
  entrypoint: ["/api"],
  env: { TZ: "UTC" },
};
const named = (name: string, spec: ImageSpec = api): ImageSpec => ({ ...spec, name });

/** A side as rendered from the spec, with a given content tag and context hash. */
function side(spec: ImageSpec, tag = "v1", contextHash = "c1", policy = POLICY): ImageSide {
  return { spec, policy, dockerfile: renderDockerfile(spec, policy), tag, contextHash };
}

describe("specChanges", () => {
  it("GIVEN one base and one env value changed THEN it names exactly those fields, sorted", () => {
    expect(specChanges(api, { ...api, env: { TZ: "Europe/Berlin" }, base: `distroless/static-debian12:nonroot@${D2}` })).toEqual(["base", "env.TZ"]);
  });

  it("GIVEN a map that gains a key with dots THEN the key is named in brackets; a new map is named as a whole", () => {
    const labelled: ImageSpec = { ...api, labels: { team: "platform" } };
    expect(specChanges(labelled, { ...api, labels: { team: "platform", "com.example.tier": "1" } })).toEqual(['labels["com.example.tier"]']);
    expect(specChanges(api, labelled)).toEqual(["labels"]);
  });

  it.each<[string, ImageSpec, string[]]>([
    ["a builder's command", { ...api, builders: [{ ...api.builders![0], run: ["gcc -O2 -static -o /out/api main.c"] }] }, ["builders[0].run"]],
    ["a second builder", { ...api, builders: [...api.builders!, { name: "extra" }] }, ["builders"]],
    ["a new optional field", { ...api, workdir: "/srv" }, ["workdir"]],
    ["a removed field", { ...api, env: undefined }, ["env"]],
    ["the same spec with a field set to undefined", { ...api, workdir: undefined }, []],
  ])("GIVEN %s THEN it names exactly the changed paths", (_what, changed, paths) => {
    expect(specChanges(api, changed)).toEqual(paths);
  });

  it("GIVEN a policy change THEN the paths carry the prefix", () => {
    expect(specChanges(POLICY, { ...POLICY, sourceDateEpoch: 1 }, "policy")).toEqual(["policy.sourceDateEpoch"]);
  });
});

describe("baseChanges", () => {
  it("GIVEN the runtime base's digest changed THEN it reports old -> new for that stage only", () => {
    const before = renderDockerfile(api, POLICY);
    const after = renderDockerfile({ ...api, base: `distroless/static-debian12:nonroot@${D2}` }, POLICY);
    expect(baseChanges(before, after)).toEqual([
      {
        stage: "runtime",
        kind: "digest",
        old: `mirror.example.internal/hub/distroless/static-debian12:nonroot@${D1}`,
        new: `mirror.example.internal/hub/distroless/static-debian12:nonroot@${D2}`,
      },
    ]);
  });

  it("GIVEN a builder image with another tag THEN it is a reference change of the builder's stage", () => {
    const after = renderDockerfile({ ...api, builders: [{ ...api.builders![0], image: "library/gcc:13-bookworm" }] }, POLICY);
    expect(baseChanges(renderDockerfile(api, POLICY), after)).toEqual([
      { stage: "build", kind: "reference", old: "mirror.example.internal/hub/library/gcc:12-bookworm", new: "mirror.example.internal/hub/library/gcc:13-bookworm" },
    ]);
  });

  it("GIVEN a rendered Dockerfile THEN its stages are read from the FROM lines in order", () => {
    expect([...stageBases(renderDockerfile(api, POLICY))]).toEqual([
      ["build", "mirror.example.internal/hub/library/gcc:12-bookworm"],
      ["runtime", `mirror.example.internal/hub/distroless/static-debian12:nonroot@${D1}`],
    ]);
  });
});

describe("dockerfileDiff", () => {
  it("GIVEN two texts THEN it is a unified diff with three lines of context and the sides' labels", () => {
    const old = "a\nb\nc\nd\ne\nf\ng\nh\n";
    expect(dockerfileDiff("api", old, old.replace("e\n", "E\n"), LABELS)).toBe(
      ["--- a/api/Dockerfile\tHEAD~1", "+++ b/api/Dockerfile\tworking tree", "@@ -2,7 +2,7 @@", " b", " c", " d", "-e", "+E", " f", " g", " h", ""].join("\n"),
    );
  });

  it("GIVEN equal texts THEN it is empty", () => {
    expect(dockerfileDiff("api", "a\n", "a\n", LABELS)).toBe("");
  });

  it("GIVEN a new image THEN the whole Dockerfile is added from /dev/null", () => {
    expect(dockerfileDiff("api", undefined, "a\nb\n", LABELS)).toBe("--- /dev/null\n+++ b/api/Dockerfile\tworking tree\n@@ -0,0 +1,2 @@\n+a\n+b\n");
  });
});

describe("diffImage", () => {
  it("GIVEN identical sides THEN unchanged, with nothing to report", () => {
    expect(diffImage("api", side(api), side(api), LABELS)).toEqual({ image: "api", status: "unchanged", spec: [], bases: [], dockerfile: "", notes: [] });
  });

  it("GIVEN a base digest and an env value changed THEN it rebuilds, naming the spec fields, the digest and the Dockerfile lines", () => {
    const d = diffImage("api", side(api), side({ ...api, base: `distroless/static-debian12:nonroot@${D2}`, env: { TZ: "Europe/Berlin" } }, "v2"), LABELS);
    expect(d.status).toBe("rebuild");
    expect(d.spec).toEqual(["base", "env.TZ"]);
    expect(d.bases).toEqual([expect.objectContaining({ stage: "runtime", kind: "digest" })]);
    expect(d.context).toBeUndefined();
    expect(d.dockerfile.split("\n").filter((l) => /^[-+][^-+]/.test(l))).toEqual([
      `-FROM mirror.example.internal/hub/distroless/static-debian12:nonroot@${D1} AS runtime`,
      `+FROM mirror.example.internal/hub/distroless/static-debian12:nonroot@${D2} AS runtime`,
      '-ENV TZ="UTC"',
      `-LABEL org.opencontainers.image.base.digest="${D1}" \\`,
      '+ENV TZ="Europe/Berlin"',
      `+LABEL org.opencontainers.image.base.digest="${D2}" \\`,
    ]);
  });

  it("GIVEN only the context's files changed THEN it rebuilds for the context, with an empty Dockerfile diff", () => {
    const d = diffImage("api", side(api, "v1", "c1"), side(api, "v2", "c2"), LABELS);
    expect(d).toMatchObject({ status: "rebuild", spec: [], bases: [], dockerfile: "", context: "the files in ctx changed" });
  });

  it("GIVEN no context hashes (against promoted) THEN a content tag that differs while the Dockerfile is equal is a context change", () => {
    const promoted: ImageSide = { spec: api, policy: POLICY, dockerfile: renderDockerfile(api, POLICY), tag: "v1" };
    const d = diffImage("api", promoted, { ...promoted, tag: "v2" }, { old: "promoted", new: "working tree" });
    expect(d).toMatchObject({ status: "rebuild", context: "the content tag v2 differs from v1 while the Dockerfile is the same: the files in ctx changed" });
  });

  it("GIVEN a spec change that renders the same and hashes the same THEN it changed, without a rebuild", () => {
    expect(diffImage("api", side(api), side({ ...api, context: "./ctx/" }), LABELS)).toMatchObject({ status: "changed", spec: ["context"], dockerfile: "" });
  });

  it("GIVEN a record that cannot be compared THEN unknown, with the reason", () => {
    expect(diffImage("api", { unknown: "no Dockerfile recorded" }, side(api), LABELS)).toMatchObject({ status: "unknown", notes: ["no Dockerfile recorded"] });
  });

  it("GIVEN only a new side THEN added, with its whole Dockerfile; GIVEN only an old side THEN removed", () => {
    expect(diffImage("api", undefined, side(api), LABELS)).toMatchObject({ status: "added", dockerfile: expect.stringMatching(/^--- \/dev\/null\n\+\+\+ b\/api\/Dockerfile\tworking tree\n@@ -0,0 \+1,18 @@\n/) });
    expect(diffImage("api", side(api), undefined, LABELS)).toEqual({ image: "api", status: "removed", spec: [], bases: [], dockerfile: "", notes: [] });
  });
});

describe("diffStack, formatDiff and the exit code", () => {
  const old = new Map<string, Side>([
    ["zeta", side(named("zeta"))],
    ["api", side(api)],
    ["gone", side(named("gone"))],
  ]);
  const cur = new Map<string, ImageSide>([
    ["zeta", side(named("zeta"))],
    ["api", side({ ...api, base: `distroless/static-debian12:nonroot@${D2}`, env: { TZ: "Europe/Berlin" } }, "v2")],
    ["fresh", side(named("fresh"))],
  ]);

  it("GIVEN nothing changed THEN one line per fact, every image unchanged on one line, exit code 0", () => {
    const d = diffStack("dev", "HEAD~1", new Map([["zeta", side(named("zeta"))], ["api", side(api)]]), new Map([["api", side(api)], ["zeta", side(named("zeta"))]]), LABELS);
    expect(diffExitCode(d)).toBe(0);
    expect(formatDiff(d)).toBe("golden diff: stack dev, working tree against HEAD~1\nnothing changes (2 image(s))\n\nunchanged: api, zeta\n");
  });

  it("GIVEN a changed, an added, a removed and an unchanged image THEN a header per change sorted by name, exit code 1", () => {
    const d = diffStack("dev", "HEAD~1", old, cur, LABELS);
    expect(diffExitCode(d)).toBe(1);
    expect(d.images.map((i) => [i.image, i.status])).toEqual([
      ["api", "rebuild"],
      ["fresh", "added"],
      ["gone", "removed"],
      ["zeta", "unchanged"],
    ]);
    const text = formatDiff(d);
    expect(text.split("\n").filter((l) => !/^[-+ @]/.test(l))).toEqual([
      "golden diff: stack dev, working tree against HEAD~1",
      "3 of 4 image(s) change: api (rebuild), fresh (added), gone (removed)",
      "",
      "=== api: changed, will rebuild",
      "spec: base, env.TZ",
      `base digest (runtime): mirror.example.internal/hub/distroless/static-debian12:nonroot ${D1} -> ${D2}`,
      "",
      "=== fresh: added, will build",
      "",
      "=== gone: removed from the stack",
      "",
      "unchanged: zeta",
      "",
    ]);
    expect(text).toContain(`--- a/api/Dockerfile\tHEAD~1\n+++ b/api/Dockerfile\tworking tree\n@@ -7,10 +7,10 @@\n RUN ["/bin/sh","-c","gcc -static -o /out/api main.c"]\n`);
    expect(text).toContain('\n-ENV TZ="UTC"\n');
    expect(text).toContain('\n+ENV TZ="Europe/Berlin"\n');
  });

  it("GIVEN --image THEN only those images are compared and counted", () => {
    const d = diffStack("dev", "HEAD~1", old, cur, LABELS, ["zeta"]);
    expect(diffExitCode(d)).toBe(0);
    expect(d.images.map((i) => i.image)).toEqual(["zeta"]);
  });

  it("GIVEN --json THEN the same facts as one JSON document", () => {
    const doc = JSON.parse(formatDiffJson(diffStack("dev", "HEAD~1", old, cur, LABELS)));
    expect(doc).toMatchObject({ stack: "dev", against: "HEAD~1", changed: true });
    expect(doc.images.map((i: { image: string; status: string }) => `${i.image}:${i.status}`)).toEqual(["api:rebuild", "fresh:added", "gone:removed", "zeta:unchanged"]);
    expect(doc.images[0]).toMatchObject({ spec: ["base", "env.TZ"], bases: [{ stage: "runtime", kind: "digest" }], context: null, notes: [] });
    expect(doc.images[3]).toEqual({ image: "zeta", status: "unchanged", spec: [], bases: [], dockerfile: "", notes: [], context: null });
  });
});

describe("against the promoted images (offline pins)", () => {
  let dir = "";
  const MIRROR = "127.0.0.1:5000/mirror";
  const tagOnly: ImageSpec = { ...api, base: undefined };
  /** What the promote step records for a build of `spec` pinned through MIRROR with these digests. */
  const built = (spec: ImageSpec, digests: Record<string, string>): BuiltInputs => {
    const pinned = applyPins(spec, { ...POLICY, mirror: MIRROR }, digests);
    const pins: Record<string, string> = { base: pinned.spec.base as string, "builders[0].image": pinned.spec.builders![0].image as string };
    return { spec, policy: POLICY, mirror: MIRROR, pins, dockerfile: renderDockerfile(pinned.spec, pinned.policy) };
  };

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "golden-diff-unit-"));
    fs.mkdirSync(path.join(dir, "ctx"));
    fs.writeFileSync(path.join(dir, "ctx", "main.c"), "int main(void) { return 0; }\n");
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("GIVEN the spec that was promoted THEN it renders byte for byte as built, with the promoted content tag's inputs", () => {
    const b = built(tagOnly, { base: D1, "builders[0].image": D2 });
    const cur = pinnedLikePromoted(tagOnly, POLICY, b, dir);
    expect(cur.dockerfile).toBe(b.dockerfile);
    expect(cur.notes).toBeUndefined();
    expect(cur.tag).toMatch(/^v[0-9a-f]{16}$/);
    expect(diffImage("api", { spec: b.spec, policy: b.policy, dockerfile: b.dockerfile, tag: cur.tag }, cur, LABELS).status).toBe("unchanged");
    expect(diffImage("api", { spec: b.spec, policy: b.policy, dockerfile: b.dockerfile, tag: "v0000000000000000" }, cur, LABELS).status).toBe("rebuild");
  });

  it("GIVEN a builder image whose tag changed THEN that reference stays a tag, named in a note; the runtime keeps its promoted digest", () => {
    const b = built(tagOnly, { base: D1, "builders[0].image": D2 });
    const changed: ImageSpec = { ...tagOnly, builders: [{ ...tagOnly.builders![0], image: "library/gcc:13-bookworm" }] };
    const cur = pinnedLikePromoted(changed, POLICY, b, dir);
    expect(cur.tag).toBeUndefined();
    expect(cur.notes).toEqual([
      `builders[0].image ${MIRROR}/library/gcc:13-bookworm is not the promoted reference; its digest is resolved when golden build runs (golden diff contacts no registry)`,
    ]);
    const d = diffImage("api", { spec: b.spec, policy: b.policy, dockerfile: b.dockerfile, tag: "v1" }, cur, LABELS);
    expect(d.status).toBe("rebuild");
    expect(d.spec).toEqual(["builders[0].image"]);
    expect(d.bases).toEqual([{ stage: "build", kind: "reference", old: `${MIRROR}/library/gcc:12-bookworm@${D2}`, new: `${MIRROR}/library/gcc:13-bookworm` }]);
  });

  it("GIVEN a spec that pins its own base THEN that digest is kept, not the promoted one", () => {
    const b = built(tagOnly, { base: D1, "builders[0].image": D2 });
    const own: ImageSpec = { ...tagOnly, base: `distroless/static-debian12:nonroot@${D3}` };
    const d = diffImage("api", { spec: b.spec, policy: b.policy, dockerfile: b.dockerfile, tag: "v1" }, pinnedLikePromoted(own, POLICY, b, dir), LABELS);
    expect(d.bases).toEqual([{ stage: "runtime", kind: "digest", old: `${MIRROR}/distroless/static-debian12:nonroot@${D1}`, new: `${MIRROR}/distroless/static-debian12:nonroot@${D3}` }]);
  });

  it("GIVEN the promote step's files THEN the directory record holds what was built, and the diff finds it unchanged", async () => {
    // GIVEN the files the plan leaves in an image's work directory after render
    const work = path.join(dir, ".golden", "run", "api");
    const b = built(tagOnly, { base: D1, "builders[0].image": D2 });
    const pinned = applyPins(tagOnly, { ...POLICY, mirror: MIRROR }, { base: D1, "builders[0].image": D2 });
    fs.mkdirSync(path.join(work, "render"), { recursive: true });
    fs.mkdirSync(path.join(work, "scan"), { recursive: true });
    fs.writeFileSync(path.join(work, "spec.json"), JSON.stringify({ spec: tagOnly, policy: POLICY }));
    fs.writeFileSync(path.join(work, "pinned.json"), JSON.stringify(pinned));
    fs.writeFileSync(path.join(work, "render", "Dockerfile"), b.dockerfile);
    const verdict = { passed: true, scanner: "grype", threshold: "HIGH", ignoreUnfixed: false, blocking: [], ignored: [], unfixed: [], expired: [], belowThreshold: 0, date: "2026-01-01" };
    fs.writeFileSync(path.join(work, "scan", "verdict.json"), JSON.stringify(verdict));
    const tag = (pinnedLikePromoted(tagOnly, POLICY, b, dir).tag as string);
    const ref = `127.0.0.1:5000/golden/api@${D3}`;
    const store = path.join(dir, ".golden", "promoted");

    // WHEN the promote step records the image in a directory store
    const write = process.stdout.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      await runStepCommand(["promote", "--image", "api", "--ref", ref, "--tag", tag, "--settings", "sha256:s", "--verdict", path.join(work, "scan", "verdict.json"), "--store", store, "--output", path.join(work, "promoted.json")]);
    } finally {
      process.stdout.write = write;
    }

    // THEN the record keeps what was built, and the stack as it is compares unchanged
    const record = openPromotionStore(store).read("api");
    expect(record?.built).toEqual(b);
    const sides = promotedSides(store, [tagOnly], POLICY, dir, (image) => openPromotionStore(store).read(image));
    const d = diffStack("dev", "promoted", sides.old, sides.cur, { old: "promoted", new: "working tree" });
    expect(formatDiff(d)).toBe("golden diff: stack dev, against the promoted images\nnothing changes (1 image(s))\n\nunchanged: api\n");

    // AND a changed file of the context is a context change; a record of the environment without its image is removed
    fs.writeFileSync(path.join(dir, "ctx", "main.c"), "int main(void) { return 1; }\n");
    const later = promotedSides(store, [named("other", tagOnly)], POLICY, dir, (image) => openPromotionStore(store).read(image));
    expect(diffStack("dev", "promoted", later.old, later.cur, { old: "promoted", new: "working tree" }).images.map((i) => `${i.image}:${i.status}`)).toEqual(["api:removed", "other:added"]);
    const again = promotedSides(store, [tagOnly], POLICY, dir, (image) => openPromotionStore(store).read(image));
    expect(diffImage("api", again.old.get("api"), again.cur.get("api"), LABELS)).toMatchObject({ status: "rebuild", dockerfile: "", context: expect.stringMatching(/^the content tag v[0-9a-f]{16} differs from v[0-9a-f]{16} while the Dockerfile is the same/) });
  });

  it("GIVEN a record written before golden diff THEN the image cannot be compared, and says how to record it", () => {
    const sides = promotedSides(path.join(dir, "none"), [tagOnly], POLICY, dir, () => ({ image: "api", ref: "r", digest: D1, gate: "passed", tag: "v1", settings: "s" }));
    expect(diffImage("api", sides.old.get("api"), sides.cur.get("api"), LABELS)).toMatchObject({
      status: "unknown",
      notes: ["its promotion record (v1) holds no Dockerfile (it predates golden diff); golden build --rebuild --image api records one"],
    });
  });

  it("GIVEN a rendered side THEN its tag and context hash come from the files on disk", () => {
    const s = renderedSide(tagOnly, POLICY, dir);
    expect(s.dockerfile).toBe(renderDockerfile(tagOnly, POLICY));
    expect(s.tag).toMatch(/^v[0-9a-f]{16}$/);
    expect(s.contextHash).toMatch(/^[0-9a-f]{64}$/);
  });
});
