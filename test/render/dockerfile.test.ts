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

describe("strict hardening strips setuid and setgid bits (CIS Docker Benchmark 4.8) on every flavor", () => {
  const STRIP = 'RUN ["/bin/sh","-c","find / -xdev -type f -perm /6000 -exec chmod a-s {} +"]';
  const stages = (text: string) => text.split(/\n(?=FROM )/);

  it.each(FLAVOR_FIXTURES)("%s: the builder stage the runtime copies from ends with the strip", (_flavor, spec) => {
    const [, build] = stages(renderDockerfile(spec, PROD));
    // scratch: the accounts the runtime copies are written after it (fixed text, no setuid file).
    expect(build.trimEnd().split("\n").filter((l) => !l.includes("/golden-accounts")).pop()).toBe(STRIP);
    // Standard hardening leaves the builder as written.
    expect(renderDockerfile({ ...spec, hardening: "standard", entrypoint: spec.entrypoint }, PROD)).not.toContain(STRIP);
  });

  it("strips only the builder stages the runtime copies from", () => {
    const [, spec] = FLAVOR_FIXTURES[0];
    const tools = { name: "tools", image: spec.builders![0].image, run: ["make tools"] };
    const text = renderDockerfile({ ...spec, builders: [tools, { ...spec.builders![0], copy: [{ from: "tools", src: "/usr/bin/gen", dest: "/usr/bin/gen" }] }] }, PROD);
    const [, toolStage, buildStage] = stages(text);
    expect(toolStage).not.toContain(STRIP);
    expect(buildStage).toContain(STRIP);
  });

  it.each([
    ["debian-slim", "find / -xdev -type f -perm /6000 -exec chmod a-s {} +", "rm -f /bin/bash"],
    ["alpine", "/bin/busybox find / -xdev -type f -perm /6000 -exec /bin/busybox chmod a-s {} +", "/bin/busybox rm -f /bin/busybox"],
  ] as const)("%s: the runtime's own files are stripped after the packages are installed and before the shell goes", (flavor, strip, shellGone) => {
    const [, spec] = FLAVOR_FIXTURES.find(([f]) => f === flavor)!;
    const runtime = stages(renderDockerfile(spec, PROD))[2];
    const at = (needle: string) => runtime.indexOf(needle);
    expect(at(` && ${strip} \\\n`)).toBeGreaterThan(at("--no-cache") >= 0 ? at("--no-cache") : at("apt-get install"));
    expect(at(strip)).toBeLessThan(at(shellGone));
    expect(renderDockerfile({ ...spec, hardening: "standard" }, PROD)).not.toContain("-perm /6000");
  });
});

describe("scratch gets the accounts user lookups need", () => {
  const [, scratch] = FLAVOR_FIXTURES.find(([f]) => f === "scratch")!;
  const PASSWD = ["root:x:0:0:root:/root:/sbin/nologin", "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin", "nonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin"];
  const GROUP = ["root:x:0:", "nobody:x:65534:", "nonroot:x:65532:"];

  it.each(["strict", "standard"] as const)("under %s hardening: the builder writes /etc/passwd and /etc/group (root, nobody, nonroot 65532) and the runtime copies them first", (hardening) => {
    const text = renderDockerfile({ ...scratch, hardening }, PROD);
    const [builder, runtime] = text.split("FROM scratch AS runtime\n");
    const write = builder.trimEnd().split("\n").pop() as string;
    const script = JSON.parse(write.slice("RUN ".length))[2] as string;
    // The shell's own reading of the script: what the files hold.
    const dir = fs.mkdtempSync(path.join(require("os").tmpdir(), "golden-accounts-"));
    try {
      require("child_process").execFileSync("/bin/sh", ["-c", script.replace(/\/golden-accounts/g, dir)]);
      expect(fs.readFileSync(path.join(dir, "passwd"), "utf8")).toBe(`${PASSWD.join("\n")}\n`);
      expect(fs.readFileSync(path.join(dir, "group"), "utf8")).toBe(`${GROUP.join("\n")}\n`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(runtime.startsWith('COPY --from=build ["/golden-accounts/passwd","/etc/passwd"]\nCOPY --from=build ["/golden-accounts/group","/etc/group"]\nCOPY --from=build --chown=')).toBe(true);
    // No here-document: tools that rebuild a Dockerfile from the image's history can read it.
    expect(text).not.toContain("<<");
  });

  it("GIVEN no builder to copy from THEN the account files are here-documents", () => {
    const text = renderDockerfile({ ...scratch, builders: [], copy: [{ src: "app", dest: "/app" }], entrypoint: ["/app"] }, PROD);
    expect(text.split("FROM scratch AS runtime\n")[1].startsWith(["COPY <<EOF /etc/passwd", ...PASSWD, "EOF", "COPY <<EOF /etc/group", ...GROUP, "EOF"].join("\n"))).toBe(true);
  });

  it.each(FLAVOR_FIXTURES.filter(([f]) => f !== "scratch"))("%s keeps its base's accounts: no here-document, no account files written", (_flavor, spec) => {
    const text = renderDockerfile(spec, PROD);
    expect(text).not.toContain("<<");
    expect(text).not.toContain("/golden-accounts");
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

describe("runtimes with a shell get an account for a numeric runtime user", () => {
  it.each(["debian-slim", "alpine"] as const)("%s: the account is added as root, before strict hardening removes the shell, with the ids as arguments", (flavor) => {
    const [, spec] = FLAVOR_FIXTURES.find(([f]) => f === flavor)!;
    const runtime = renderDockerfile(spec, PROD).split("AS runtime\n")[1];
    const account = runtime.split("\n").find((l) => l.includes('"account"')) as string;
    expect(JSON.parse(account.slice("RUN ".length)).slice(3)).toEqual(["account", "65532", "65532"]);
    expect(runtime.indexOf(account)).toBeGreaterThan(runtime.indexOf("USER 0:0"));
    expect(runtime.indexOf(account)).toBeLessThan(runtime.indexOf(flavor === "alpine" ? "/bin/busybox rm -f /bin/busybox" : "rm -f /bin/bash"));
    expect(runtime.indexOf(account)).toBeLessThan(runtime.lastIndexOf("USER 65532:65532"));
    // GIVEN another numeric user THEN its ids, never text of the spec, reach the shell as arguments.
    const custom = renderDockerfile({ ...spec, user: "10001:10002" }, PROD);
    expect(custom).toContain('"account","10001","10002"]');
  });

  it("a distroless or scratch runtime gets none (their bases and scratch's files carry nonroot)", () => {
    for (const [flavor, spec] of FLAVOR_FIXTURES.filter(([f]) => f !== "debian-slim" && f !== "alpine")) {
      expect([flavor, renderDockerfile(spec, PROD).includes('"account"')]).toEqual([flavor, false]);
    }
  });
});

describe("multi-platform images build without emulation", () => {
  const [, spec] = FLAVOR_FIXTURES.find(([f]) => f === "distroless-static")!;

  it("GIVEN two platforms THEN every builder runs on the build platform and reads the target from TARGETOS/TARGETARCH", () => {
    const text = renderDockerfile({ ...spec, platforms: ["linux/amd64", "linux/arm64"] }, PROD);
    const builders = text.split(/\n(?=FROM )/).filter((s) => s.startsWith("FROM ") && !s.includes(" AS runtime"));
    expect(builders.length).toBeGreaterThan(0);
    for (const b of builders) {
      expect(b).toMatch(/^FROM --platform=\$BUILDPLATFORM \S+ AS \S+\nARG TARGETOS\nARG TARGETARCH\n/);
    }
    // The runtime stage is the target platform's base.
    expect(text).toMatch(/\nFROM (?!--platform)\S+ AS runtime\n/);
    expect(lintDockerfile(text, { requireDigest: true, shellless: true })).toEqual([]);
  });

  it("GIVEN one other platform THEN the builders cross-compile too; GIVEN the default THEN the Dockerfile is what it was", () => {
    expect(renderDockerfile({ ...spec, platforms: ["linux/arm64"] }, PROD)).toContain("FROM --platform=$BUILDPLATFORM ");
    expect(renderDockerfile({ ...spec, platforms: ["linux/amd64"] }, PROD)).toBe(renderDockerfile(spec, PROD));
    expect(renderDockerfile(spec, PROD)).not.toContain("BUILDPLATFORM");
  });
});
