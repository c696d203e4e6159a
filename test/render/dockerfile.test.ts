/**
 * Golden files: the rendered Dockerfile of every flavor, byte for byte. Set UPDATE_GOLDEN=1
 * to rewrite them after an intended change, and review the diff like a preview.
 */
import * as fs from "fs";
import * as path from "path";
import { DockerfileParser } from "dockerfile-ast";
import { lintDockerfile, renderDockerfile, resolveImage } from "../../components/render";
import { FLAVOR_FIXTURES, PROD } from "./fixtures";

const GOLDEN_DIR = path.join(__dirname, "..", "golden");

describe.each(FLAVOR_FIXTURES)("the %s flavor", (flavor, spec) => {
  const text = renderDockerfile(spec, PROD);
  const file = path.join(GOLDEN_DIR, `${flavor}.Dockerfile`);

  it("renders exactly its golden file", () => {
    // GIVEN the flavor's representative spec WHEN rendered THEN it equals the reviewed file
    if (process.env.UPDATE_GOLDEN === "1") {
      fs.writeFileSync(file, text);
    }
    expect(text).toBe(fs.readFileSync(file, "utf8"));
  });

  it("passes the hardening lint of a real Dockerfile parser", () => {
    const resolved = resolveImage(spec, PROD);
    expect(lintDockerfile(text, { requireDigest: true, shellless: !resolved.runtimeHasShell })).toEqual([]);
  });

  it("ends in a non-root, exec-form runtime stage", () => {
    const parsed = DockerfileParser.parse(text);
    const froms = parsed.getFROMs();
    expect(froms[froms.length - 1].getBuildStage()).toBe("runtime");
    const keywords = parsed.getInstructions().map((i) => i.getKeyword());
    expect(keywords).not.toContain("ADD");
    const users = parsed.getInstructions().filter((i) => i.getKeyword() === "USER");
    expect(users[users.length - 1].getArgumentsContent()).toBe("65532:65532");
    const entry = parsed.getInstructions().find((i) => i.getKeyword() === "ENTRYPOINT");
    expect(entry?.getArgumentsContent()?.startsWith("[")).toBe(true);
  });
});

describe("rendering details", () => {
  const [, staticSpec] = FLAVOR_FIXTURES[0];

  it("is byte-identical for the same spec, whatever the key order of maps", () => {
    const reordered = { ...staticSpec, env: { APP_MODE: "production", TZ: "UTC" }, labels: { "com.example.team": "platform" } };
    expect(renderDockerfile(reordered, PROD)).toBe(renderDockerfile(staticSpec, PROD));
  });

  it("takes the created label from sourceDateEpoch, not from the clock", () => {
    expect(renderDockerfile(staticSpec, { ...PROD, sourceDateEpoch: 0 })).toContain('org.opencontainers.image.created="1970-01-01T00:00:00Z"');
    expect(renderDockerfile(staticSpec, PROD)).toContain('org.opencontainers.image.created="2025-11-23T00:00:00Z"');
  });

  it("resolves host-less bases through the mirror and labels the real base", () => {
    const text = renderDockerfile(staticSpec, PROD);
    expect(text).toMatch(/^FROM mirror\.example\.internal\/hub\/distroless-static-base:1@sha256:[a-f0-9]{64} AS runtime$/m);
    expect(text).toContain('org.opencontainers.image.base.name="mirror.example.internal/hub/distroless-static-base:1"');
  });

  it("escapes quotes, backslashes and $ in ENV values so nothing expands", () => {
    const text = renderDockerfile({ ...staticSpec, env: { GREETING: 'say "hi" \\ $HOME' } }, PROD);
    expect(text).toContain('ENV GREETING="say \\"hi\\" \\\\ \\$HOME"');
    // The real engine's reading of it is checked in test/integration (docker inspect).
  });

  it("keeps the shell and package manager under standard hardening", () => {
    const [, debian] = FLAVOR_FIXTURES.find(([f]) => f === "debian-slim")!;
    const strict = renderDockerfile(debian, PROD);
    const standard = renderDockerfile({ ...debian, hardening: "standard", entrypoint: "/app/app --serve" }, PROD);
    expect(strict).toContain("rm -f /bin/bash");
    expect(standard).not.toContain("rm -f /bin/bash");
    // Shell form becomes what Docker itself makes of it: exec form through /bin/sh -c.
    expect(standard).toContain('ENTRYPOINT ["/bin/sh","-c","/app/app --serve"]');
  });

  it("installs apt packages without recommends and cleans the lists; apk without a cache", () => {
    const [, debian] = FLAVOR_FIXTURES.find(([f]) => f === "debian-slim")!;
    const [, alpine] = FLAVOR_FIXTURES.find(([f]) => f === "alpine")!;
    // Exec form, names as arguments after "--" (apt's through the script's "$@"), one a line.
    expect(renderDockerfile(debian, PROD)).toContain(
      [
        'RUN ["/bin/sh","-c","apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends -- \\"$@\\" && apt-get clean && rm -rf /var/lib/apt/lists/*","apt-get", \\',
        '    "ca-certificates", \\',
        '    "tzdata"]',
      ].join("\n"),
    );
    expect(renderDockerfile(alpine, PROD)).toContain('RUN ["apk","add","--no-cache","--", \\\n    "ca-certificates", \\\n    "tzdata"]');
  });
});

describe("custom builder images", () => {
  it.each([
    ["library/alpine:3.20", "apk"],
    ["mirror.example.internal/hub/library/golang:1.23-alpine", "apk"],
    ["library/gcc:12-bookworm", "apt"],
    ["library/alpinist:1", "apt"],
  ])("%s installs packages with %s unless packageManager says otherwise", (image, manager) => {
    const [, spec] = FLAVOR_FIXTURES[0];
    const text = renderDockerfile({ ...spec, builders: [{ ...spec.builders![0], image: `${image}@${"sha256:" + "3".repeat(64)}`, packages: ["make"] }] }, PROD);
    expect(text).toContain(manager === "apk" ? 'RUN ["apk","add","--no-cache","--", \\\n    "make"]' : '"apt-get", \\\n    "make"]');
    const forced = renderDockerfile({ ...spec, builders: [{ ...spec.builders![0], image: `${image}@${"sha256:" + "3".repeat(64)}`, packages: ["make"], packageManager: "apt" }] }, PROD);
    expect(forced).toContain('"apt-get", \\\n    "make"]');
  });
});
