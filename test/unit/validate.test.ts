/**
 * Hardening validation: one table row per rule, each a minimal valid spec plus one mutation,
 * asserting the exact report a platform engineer reads (path, value, problem, fix).
 */
import { FLAVORS, Flavor } from "../../components/spec/catalog";
import { EnvironmentPolicy, ImageSpec } from "../../components/spec/types";
import { formatIssue, formatIssues, ValidationError } from "../../components/render/issues";
import { renderDockerfile } from "../../components/render/dockerfile";
import { validateEnvironmentPolicy, validateImages, validateImageSpec } from "../../components/render/validate";

const DIGEST = `sha256:${"a".repeat(64)}`;
const PROD: EnvironmentPolicy = { environment: "prod" };
const STAGING: EnvironmentPolicy = { environment: "staging" };
const DEV: EnvironmentPolicy = { environment: "dev" };
const DEV_TAGS: EnvironmentPolicy = { environment: "dev", allowTagOnlyBases: true };
const STAGING_TAGS: EnvironmentPolicy = { environment: "staging", allowTagOnlyBases: true };

const STATIC_BASE = `distroless/static-debian12:nonroot@${DIGEST}`;
const DEBIAN_BASE = `library/debian:bookworm-slim@${DIGEST}`;
const ALPINE_BASE = `library/alpine:3.20@${DIGEST}`;
const BUILDER_IMAGE = `library/golang:1.22@${DIGEST}`;

const SECRET_FIX =
  "never bake secrets into an image: use a BuildKit secret mount (RUN --mount=type=secret) at build time or a secret store at run time";
const NAME_FIX = "use 2-256 lowercase characters a-z0-9 separated by . _ - or /, starting and ending with a letter or digit";
const EXPANDED = "contains $, \\ or a quote, which BuildKit expands (variables, escapes, quoting), so the path built would differ from the spec";
const DEBIAN_FIX = "give a package name (a-z0-9 + - ., at least 2 characters, starting with a letter or digit), optionally with =version, e.g. tzdata=2024a-0+deb12u1";
const MIRROR_FIX = "give host[:port][/path] of your pull-through cache, without scheme or tag, e.g. mirror.example.internal/hub";
const UNKNOWN_FIX = "remove it or correct the spelling (see the ImageSpec reference in the README)";

/** The smallest spec that passes every rule in prod: distroless-static, pinned base, exec entrypoint. */
function minimal(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: "team/hello", flavor: "distroless-static", base: STATIC_BASE, entrypoint: ["/app"], ...overrides };
}
function debian(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return minimal({ flavor: "debian-slim", base: DEBIAN_BASE, ...overrides });
}
function withBuilder(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: "build", image: BUILDER_IMAGE, ...overrides };
}
function validate(spec: unknown, policy: EnvironmentPolicy = PROD): string[] {
  return validateImageSpec(spec, policy).map(formatIssue);
}

describe("validateImageSpec baseline", () => {
  const pinnedBase: Record<Flavor, string | undefined> = {
    "distroless-static": STATIC_BASE,
    "distroless-base": `distroless/base-debian12:nonroot@${DIGEST}`,
    "distroless-cc": `distroless/cc-debian12:nonroot@${DIGEST}`,
    "distroless-java": `distroless/java17-debian12:nonroot@${DIGEST}`,
    "distroless-python": `distroless/python3-debian12:nonroot@${DIGEST}`,
    "distroless-nodejs": `distroless/nodejs20-debian12:nonroot@${DIGEST}`,
    alpine: ALPINE_BASE,
    "debian-slim": DEBIAN_BASE,
    scratch: undefined,
  };
  it.each(FLAVORS.map((f) => [f]))("GIVEN a minimal pinned %s spec WHEN validated in prod THEN there is no issue", (flavor) => {
    // GIVEN
    const spec = minimal({ flavor, base: pinnedBase[flavor] });
    // WHEN
    const issues = validate(spec, PROD);
    // THEN
    expect(issues).toEqual([]);
  });
});

interface Row {
  readonly rule: string;
  readonly spec: unknown;
  readonly policy?: EnvironmentPolicy;
  readonly expected: readonly string[];
}

const USER_ROWS: Row[] = [
  { rule: "user 0 (number) is root", spec: minimal({ user: 0 }), expected: ['image.user: runs as root (value: 0). Fix: use a non-root UID such as 65532 (the catalog\'s nonroot)'] },
  { rule: "user \"0:0\" is root", spec: minimal({ user: "0:0" }), expected: ['image.user: runs as root (value: "0:0"). Fix: use a non-root UID such as 65532 (the catalog\'s nonroot)'] },
  { rule: "user \"0\" is root", spec: minimal({ user: "0" }), expected: ['image.user: runs as root (value: "0"). Fix: use a non-root UID such as 65532 (the catalog\'s nonroot)'] },
  { rule: "user \"1000:0\" has the root group", spec: minimal({ user: "1000:0" }), expected: ['image.user: runs with the root group (value: "1000:0"). Fix: use a non-root GID such as 65532'] },
  {
    rule: "user \"root\" is not numeric",
    spec: minimal({ user: "root" }),
    expected: ['image.user: is not a numeric UID[:GID] (value: "root"). Fix: use numbers (e.g. "65532:65532") so Kubernetes runAsNonRoot can verify the user'],
  },
  {
    rule: "user \"nonroot:nonroot\" is not numeric",
    spec: minimal({ user: "nonroot:nonroot" }),
    expected: ['image.user: is not a numeric UID[:GID] (value: "nonroot:nonroot"). Fix: use numbers (e.g. "65532:65532") so Kubernetes runAsNonRoot can verify the user'],
  },
  {
    rule: "user -1 is not numeric",
    spec: minimal({ user: -1 }),
    expected: ['image.user: is not a numeric UID[:GID] (value: -1). Fix: use numbers (e.g. "65532:65532") so Kubernetes runAsNonRoot can verify the user'],
  },
  {
    rule: "empty user",
    spec: minimal({ user: "" }),
    expected: ['image.user: is missing (value: ""). Fix: remove it to get the catalog\'s nonroot 65532:65532, or give a numeric non-root UID'],
  },
  {
    rule: "blank user",
    spec: minimal({ user: "  " }),
    expected: ['image.user: is missing (value: "  "). Fix: remove it to get the catalog\'s nonroot 65532:65532, or give a numeric non-root UID'],
  },
  { rule: "UID above 2^31-1", spec: minimal({ user: "2147483648" }), expected: ['image.user: is out of range (value: "2147483648"). Fix: use an ID below 2147483648, e.g. 65532'] },
  { rule: "user null has the wrong type", spec: minimal({ user: null }), expected: ['image.user: has the wrong type (value: null). Fix: give a numeric UID[:GID] as a string or a number, e.g. "65532:65532"'] },
  { rule: "user 1000 (number) is fine", spec: minimal({ user: 1000 }), expected: [] },
  { rule: "user \"1000:1000\" is fine", spec: minimal({ user: "1000:1000" }), expected: [] },
];

const BASE_ROWS: Row[] = [
  {
    rule: "latest base, pinned, in prod",
    spec: minimal({ base: `distroless/static-debian12:latest@${DIGEST}` }),
    expected: [`image.base: uses the mutable tag "latest" (value: "distroless/static-debian12:latest@${DIGEST}"). Fix: pin a version tag and its digest, e.g. repo:1.2.3@sha256:<digest>`],
  },
  {
    rule: "latest base, tag-only, in dev with allowTagOnlyBases",
    spec: minimal({ base: "library/alpine:latest", flavor: "alpine" }),
    policy: DEV_TAGS,
    expected: ['image.base: uses the mutable tag "latest" (value: "library/alpine:latest"). Fix: pin a version tag and its digest, e.g. repo:1.2.3@sha256:<digest>'],
  },
  {
    rule: "latest base, tag-only, in prod",
    spec: minimal({ base: "library/alpine:latest", flavor: "alpine" }),
    expected: [
      'image.base: uses the mutable tag "latest" (value: "library/alpine:latest"). Fix: pin a version tag and its digest, e.g. repo:1.2.3@sha256:<digest>',
      'image.base: has no digest and this environment requires digests (value: "library/alpine:latest"). Fix: pin it: "library/alpine:latest@sha256:<digest>" (the digest your mirror serves)',
    ],
  },
  {
    rule: "tag-only base in prod",
    spec: minimal({ base: "distroless/static-debian12:nonroot" }),
    expected: [
      'image.base: has no digest and this environment requires digests (value: "distroless/static-debian12:nonroot"). Fix: pin it: "distroless/static-debian12:nonroot@sha256:<digest>" (the digest your mirror serves)',
    ],
  },
  {
    rule: "tag-only base in dev without allowTagOnlyBases",
    spec: minimal({ base: "distroless/static-debian12:nonroot" }),
    policy: DEV,
    expected: [
      'image.base: has no digest and this environment requires digests (value: "distroless/static-debian12:nonroot"). Fix: pin it: "distroless/static-debian12:nonroot@sha256:<digest>" (the digest your mirror serves)',
    ],
  },
  {
    rule: "tag-only base in staging without allowTagOnlyBases",
    spec: minimal({ base: "distroless/static-debian12:nonroot" }),
    policy: STAGING,
    expected: [
      'image.base: has no digest and this environment requires digests (value: "distroless/static-debian12:nonroot"). Fix: pin it: "distroless/static-debian12:nonroot@sha256:<digest>" (the digest your mirror serves)',
    ],
  },
  { rule: "tag-only base in dev with allowTagOnlyBases", spec: minimal({ base: "distroless/static-debian12:nonroot" }), policy: DEV_TAGS, expected: [] },
  { rule: "tag-only base in staging with allowTagOnlyBases", spec: minimal({ base: "distroless/static-debian12:nonroot" }), policy: STAGING_TAGS, expected: [] },
  {
    rule: "catalog default base (no digest) in prod",
    spec: minimal({ base: undefined }),
    expected: [
      'image.base: the catalog base "distroless/static-debian12:nonroot" is not pinned and this environment requires digests (value: not set). Fix: pin it: "distroless/static-debian12:nonroot@sha256:<digest>" (the digest your mirror serves); set image.base explicitly',
    ],
  },
  { rule: "catalog default base in dev with allowTagOnlyBases", spec: minimal({ base: undefined }), policy: DEV_TAGS, expected: [] },
  {
    rule: "catalog default builder image (no digest) in prod",
    spec: minimal({ builders: [{ name: "build" }] }),
    expected: [
      'image.builders[0].image: the catalog builder "library/gcc:12-bookworm" is not pinned and this environment requires digests (value: not set). Fix: pin it: "library/gcc:12-bookworm@sha256:<digest>" (the digest your mirror serves); set image.builders[0].image explicitly',
    ],
  },
  {
    rule: "tag-only builder image in prod",
    spec: minimal({ builders: [withBuilder({ image: "library/golang:1.22" })] }),
    expected: [
      'image.builders[0].image: has no digest and this environment requires digests (value: "library/golang:1.22"). Fix: pin it: "library/golang:1.22@sha256:<digest>" (the digest your mirror serves)',
    ],
  },
  {
    rule: "base on scratch",
    spec: minimal({ flavor: "scratch", base: STATIC_BASE }),
    expected: [`image.base: scratch has no base image (value: "${STATIC_BASE}"). Fix: remove base, or pick a flavor with a base`],
  },
  {
    rule: "malformed base reference",
    spec: minimal({ base: `Distroless/Static:nonroot@${DIGEST}` }),
    expected: [
      `image.base: is not an image reference: repository path "Distroless/Static" must be lowercase components of a-z0-9 separated by . _ - and / (value: "Distroless/Static:nonroot@${DIGEST}"). Fix: use repository[:tag]@sha256:<digest>`,
    ],
  },
  {
    rule: "base with a short digest",
    spec: minimal({ base: "distroless/static-debian12:nonroot@sha256:abc" }),
    expected: [
      'image.base: is not an image reference: digest "sha256:abc" is not sha256:<64 lowercase hex> (value: "distroless/static-debian12:nonroot@sha256:abc"). Fix: use repository[:tag]@sha256:<digest>',
    ],
  },
];

const COPY_ROWS: Row[] = [
  {
    rule: "remote URL in runtime copy src",
    spec: minimal({ copy: [{ src: "https://example.com/app.tar.gz", dest: "/app" }] }),
    expected: [
      'image.copy[0].src: fetches a remote URL (ADD of a URL is unverified and not reproducible) (value: "https://example.com/app.tar.gz"). Fix: download it in a builder stage with a checksum check (e.g. curl then sha256sum -c) and copy the result',
    ],
  },
  {
    rule: "remote URL in builder copy src",
    spec: minimal({ builders: [withBuilder({ copy: [{ src: "git://example.com/repo.git", dest: "/src" }] })] }),
    expected: [
      'image.builders[0].copy[0].src: fetches a remote URL (ADD of a URL is unverified and not reproducible) (value: "git://example.com/repo.git"). Fix: download it in a builder stage with a checksum check (e.g. curl then sha256sum -c) and copy the result',
    ],
  },
  {
    rule: "context copy src escaping the context with ..",
    spec: minimal({ copy: [{ src: "../secrets/key.pem", dest: "/key.pem" }] }),
    expected: ['image.copy[0].src: leaves the build context (value: "../secrets/key.pem"). Fix: give a path relative to the build context'],
  },
  {
    rule: "context copy src absolute",
    spec: minimal({ copy: [{ src: "/etc/passwd", dest: "/etc/passwd" }] }),
    expected: ['image.copy[0].src: leaves the build context (value: "/etc/passwd"). Fix: give a path relative to the build context'],
  },
  { rule: "absolute src from a stage is fine", spec: minimal({ builders: [withBuilder()], copy: [{ from: "build", src: "/out/app", dest: "/app" }] }), expected: [] },
  {
    rule: "copy from an unknown stage, no builders",
    spec: minimal({ copy: [{ from: "build", src: "/out/app", dest: "/app" }] }),
    expected: ['image.copy[0].from: is not an earlier builder stage (value: "build"). Fix: add a builder stage with that name first'],
  },
  {
    rule: "copy from an unknown stage, with builders",
    spec: minimal({ builders: [withBuilder({ name: "test" }), withBuilder()], copy: [{ from: "compile", src: "/out/app", dest: "/app" }] }),
    expected: ['image.copy[0].from: is not an earlier builder stage (value: "compile"). Fix: use one of: "build", "test"'],
  },
  {
    rule: "builder copying from a later stage",
    spec: minimal({ builders: [withBuilder({ name: "a", copy: [{ from: "b", src: "/x", dest: "/x" }] }), withBuilder({ name: "b" })] }),
    expected: ['image.builders[0].copy[0].from: is not an earlier builder stage (value: "b"). Fix: add a builder stage with that name first'],
  },
  {
    rule: "relative copy dest",
    spec: minimal({ copy: [{ src: "app", dest: "app" }] }),
    expected: ['image.copy[0].dest: is not an absolute path (value: "app"). Fix: use an absolute path, e.g. "/app"'],
  },
  {
    rule: "dot-relative copy dest",
    spec: minimal({ copy: [{ src: "app", dest: "./bin/app" }] }),
    expected: ['image.copy[0].dest: is not an absolute path (value: "./bin/app"). Fix: use an absolute path, e.g. "/bin/app"'],
  },
  {
    rule: "relative runtime workdir",
    spec: minimal({ workdir: "srv" }),
    expected: ['image.workdir: is not an absolute path (value: "srv"). Fix: use an absolute path, e.g. "/srv"'],
  },
  {
    rule: "runtime workdir with a line break",
    spec: minimal({ workdir: "/srv\rUSER 0" }),
    expected: ['image.workdir: contains a line break (value: "/srv\\rUSER 0"). Fix: use a single-line path'],
  },
  {
    rule: "runtime workdir ending in a backslash (BuildKit would read an escape)",
    spec: minimal({ workdir: "/srv\\" }),
    expected: [`image.workdir: ${EXPANDED} (value: "/srv\\\\"). Fix: give the literal path, without $, \\, ' and "`],
  },
  {
    rule: "copy dest with a backslash (BuildKit expands escapes in COPY paths, JSON form too)",
    spec: minimal({ copy: [{ src: "app", dest: "/app\\" }] }),
    expected: [`image.copy[0].dest: ${EXPANDED} (value: "/app\\\\"). Fix: give the literal path, without $, \\, ' and "`],
  },
  {
    rule: "relative builder workdir",
    spec: minimal({ builders: [withBuilder({ workdir: "src" })] }),
    expected: ['image.builders[0].workdir: is not an absolute path (value: "src"). Fix: use an absolute path, e.g. "/src"'],
  },
];

const SHELL_ROWS: Row[] = [
  {
    rule: "shell-form entrypoint on distroless",
    spec: minimal({ entrypoint: "/app --serve" }),
    expected: ['image.entrypoint: shell form needs /bin/sh, which the distroless-static runtime does not have (value: "/app --serve"). Fix: use exec form, e.g. ["/app","--serve"]'],
  },
  {
    rule: "shell-form cmd on distroless",
    spec: minimal({ cmd: "--port 80" }),
    expected: ['image.cmd: shell form needs /bin/sh, which the distroless-static runtime does not have (value: "--port 80"). Fix: use exec form, e.g. ["--port","80"]'],
  },
  {
    rule: "shell-form entrypoint on distroless under standard (still no shell)",
    spec: minimal({ entrypoint: "/app", hardening: "standard" }),
    expected: ['image.entrypoint: shell form needs /bin/sh, which the distroless-static runtime does not have (value: "/app"). Fix: use exec form, e.g. ["/app"]'],
  },
  {
    rule: "shell-form entrypoint on debian-slim under strict",
    spec: debian({ entrypoint: "/app --serve" }),
    expected: ['image.entrypoint: shell form needs /bin/sh, which the debian-slim runtime loses under strict hardening (value: "/app --serve"). Fix: use exec form, e.g. ["/app","--serve"]'],
  },
  {
    rule: "shell-form cmd on alpine under strict (the default)",
    spec: minimal({ flavor: "alpine", base: ALPINE_BASE, cmd: "serve" }),
    expected: ['image.cmd: shell form needs /bin/sh, which the alpine runtime loses under strict hardening (value: "serve"). Fix: use exec form, e.g. ["serve"]'],
  },
  { rule: "shell-form entrypoint on debian-slim under standard", spec: debian({ entrypoint: "/app --serve", hardening: "standard" }), expected: [] },
  { rule: "shell-form cmd on alpine under standard", spec: minimal({ flavor: "alpine", base: ALPINE_BASE, cmd: "serve", hardening: "standard" }), expected: [] },
  {
    rule: "blank shell-form entrypoint under standard",
    spec: debian({ entrypoint: "  ", hardening: "standard" }),
    expected: ['image.entrypoint: is empty (value: "  "). Fix: give the command to run, or remove it'],
  },
  {
    rule: "shell-form entrypoint with a line break under standard",
    spec: debian({ entrypoint: "/app\nUSER 0", hardening: "standard" }),
    expected: ['image.entrypoint: contains a line break (value: "/app\\nUSER 0"). Fix: give a single-line command, or use exec form'],
  },
  // Rendered as ["/bin/sh","-c","serve \\ "]: no line continuation in a JSON array.
  { rule: "shell-form cmd ending in a backslash under standard", spec: debian({ cmd: "serve \\ ", hardening: "standard" }), expected: [] },
  {
    rule: "empty exec-form entrypoint",
    spec: minimal({ entrypoint: [] }),
    expected: ['image.entrypoint: is an empty command (value: []). Fix: give the program as the first element, e.g. ["/app"]'],
  },
  {
    rule: "exec-form cmd with an empty program",
    spec: minimal({ cmd: ["", "x"] }),
    expected: ['image.cmd: is an empty command (value: ["","x"]). Fix: give the program as the first element, e.g. ["/app"]'],
  },
  {
    rule: "nothing to run",
    spec: minimal({ entrypoint: undefined }),
    expected: ['image.entrypoint: the image has nothing to run (value: not set). Fix: set entrypoint (exec form), e.g. ["/app"]'],
  },
  { rule: "cmd alone is enough", spec: minimal({ entrypoint: undefined, cmd: ["/app"] }), expected: [] },
];

const secretEnv = (where: "env" | "args", name: string) =>
  `image.${where}.${name}: looks like a secret, which would be readable by anyone who pulls the image (value: "${name}"). Fix: ${SECRET_FIX}`;
const SECRET_NAMES = ["DB_PASSWORD", "GITHUB_TOKEN", "CLIENT_SECRET", "SIGNING_KEY", "API_KEY", "APIKEY", "AWS_SECRET_ACCESS_KEY", "db_passwd", "TOKEN", "NPM_CREDENTIALS"];
// Checked against the regex: only a whole `_`-separated trailing word counts.
const HARMLESS_NAMES = ["KEYBOARD_LAYOUT", "MONKEY", "TURKEY", "BYPASS", "TOKENIZER_PATH", "PASSWORD_MIN_LENGTH", "SECRET_NAME", "KEYS", "DB_PASSWORD_FILE", "LOG_LEVEL"];

const ENV_ROWS: Row[] = [
  ...SECRET_NAMES.map((name) => ({ rule: `secret-looking ENV ${name}`, spec: minimal({ env: { [name]: "x" } }), expected: [secretEnv("env", name)] })),
  ...SECRET_NAMES.map((name) => ({ rule: `secret-looking ARG ${name}`, spec: minimal({ args: { [name]: "x" } }), expected: [secretEnv("args", name)] })),
  ...HARMLESS_NAMES.map((name) => ({ rule: `harmless ENV ${name}`, spec: minimal({ env: { [name]: "x" }, args: { [name]: "y" } }), expected: [] })),
  {
    rule: "secret-looking builder ENV",
    spec: minimal({ builders: [withBuilder({ env: { NPM_TOKEN: "x" } })] }),
    expected: [`image.builders[0].env.NPM_TOKEN: looks like a secret, which would be readable by anyone who pulls the image (value: "NPM_TOKEN"). Fix: ${SECRET_FIX}`],
  },
  {
    rule: "ENV name that is not a variable",
    spec: minimal({ env: { "MY-VAR": "x" } }),
    expected: ['image.env["MY-VAR"]: is not a variable name (value: "MY-VAR"). Fix: use letters, digits and _, not starting with a digit, at most 256'],
  },
  {
    rule: "ENV value with a line break",
    spec: minimal({ env: { MODE: "a\nb" } }),
    expected: ['image.env.MODE: contains a line break (value: "a\\nb"). Fix: use a single-line value'],
  },
];

const STAGE_ROWS: Row[] = [
  {
    rule: "duplicate builder stage names",
    spec: minimal({ builders: [withBuilder(), withBuilder({ name: "test" }), withBuilder()] }),
    expected: ['image.builders[2].name: duplicate stage name (also builders[0]) (value: "build"). Fix: give every builder stage a unique name'],
  },
  {
    rule: "reserved stage name runtime",
    spec: minimal({ builders: [withBuilder({ name: "runtime" })] }),
    expected: ['image.builders[0].name: "runtime" is the final stage\'s name (value: "runtime"). Fix: pick another name, e.g. "build"'],
  },
  {
    rule: "BuildKit-reserved stage name scratch",
    spec: minimal({ builders: [withBuilder({ name: "scratch" })] }),
    expected: ['image.builders[0].name: is a stage name BuildKit reserves (value: "scratch"). Fix: pick another name, e.g. "build"'],
  },
  {
    rule: "BuildKit-reserved stage name context",
    spec: minimal({ builders: [withBuilder({ name: "context" })] }),
    expected: ['image.builders[0].name: is a stage name BuildKit reserves (value: "context"). Fix: pick another name, e.g. "build"'],
  },
  {
    rule: "uppercase stage name",
    spec: minimal({ builders: [withBuilder({ name: "Build" })] }),
    expected: ['image.builders[0].name: is not a valid stage name (value: "Build"). Fix: use a lowercase name such as "build" (a-z0-9 . _ -, at most 63)'],
  },
  {
    rule: "empty build step",
    spec: minimal({ builders: [withBuilder({ run: ["make", " "] })] }),
    expected: ['image.builders[0].run[1]: is an empty build step (value: " "). Fix: give one single-line command per step (chain with && inside one step)'],
  },
  {
    rule: "build step with a line break",
    spec: minimal({ builders: [withBuilder({ run: ["make\nmake install"] })] }),
    expected: ['image.builders[0].run[0]: contains a line break (value: "make\\nmake install"). Fix: give one single-line command per step (chain with && inside one step)'],
  },
  // Rendered as ["/bin/sh","-c","make \\"]: no line continuation in a JSON array.
  { rule: "build step ending in a backslash", spec: minimal({ builders: [withBuilder({ run: ["make \\"] })] }), expected: [] },
];

const NAME_ROWS: Row[] = [
  ...["Team/Hello", "-hello", "hello-", "a", "team//hello", "team/", "/team", "hello world", "team/a__b"].map((name) => ({
    rule: `image name ${JSON.stringify(name)}`,
    spec: minimal({ name }),
    expected: [`image.name: is not a valid repository name (value: ${JSON.stringify(name)}). Fix: ${NAME_FIX}`],
  })),
  {
    rule: "image name of 257 characters",
    spec: minimal({ name: "x".repeat(257) }),
    // The report cuts long values at 117 characters of their JSON.
    expected: [`image.name: is not a valid repository name (value: "${"x".repeat(116)}...). Fix: ${NAME_FIX}`],
  },
  // ECR's grammar: one separator between components, so `__` (legal in OCI) is refused above.
  ...["ab", "team/hello", "a.b_c-d/e-f", "x".repeat(256)].map((name) => ({ rule: `valid image name ${name.slice(0, 20)}`, spec: minimal({ name }), expected: [] })),
];

const PACKAGE_ROWS: Row[] = [
  {
    rule: "packages on distroless",
    spec: minimal({ packages: ["curl"] }),
    expected: [
      'image.packages: flavor distroless-static has no package manager (value: ["curl"]). Fix: install packages in a builder stage and copy what the program needs, or use a flavor with a package manager (debian-slim, alpine)',
    ],
  },
  {
    rule: "packages on scratch",
    spec: minimal({ flavor: "scratch", base: undefined, packages: ["ca-certificates"] }),
    expected: [
      'image.packages: flavor scratch has no package manager (value: ["ca-certificates"]). Fix: install packages in a builder stage and copy what the program needs, or use a flavor with a package manager (debian-slim, alpine)',
    ],
  },
  {
    rule: "packages in a builder without a package manager",
    spec: minimal({ builders: [withBuilder({ packageManager: "none", packages: ["git"] })] }),
    expected: [
      'image.builders[0].packages: builder "build" has no package manager (value: ["git"]). Fix: install packages in a builder stage and copy what the program needs, or use a flavor with a package manager (debian-slim, alpine)',
    ],
  },
  { rule: "packages on debian-slim", spec: debian({ packages: ["ca-certificates", "tzdata=2024a-0+deb12u1"] }), expected: [] },
  {
    rule: "package name with shell syntax",
    spec: debian({ packages: ["curl; rm -rf /"] }),
    expected: [`image.packages[0]: is not a Debian package name (value: "curl; rm -rf /"). Fix: ${DEBIAN_FIX}`],
  },
];

const port = (i: number, value: string) => `image.expose[${i}]: is not a port (value: ${value}). Fix: use a number 1-65535, optionally with /tcp or /udp`;
const PORT_ROWS: Row[] = [
  { rule: "port 0", spec: minimal({ expose: [0] }), expected: [port(0, "0")] },
  { rule: "port 65536", spec: minimal({ expose: [8080, 65536] }), expected: [port(1, "65536")] },
  { rule: "fractional port", spec: minimal({ expose: [80.5] }), expected: [port(0, "80.5")] },
  { rule: "port with an unknown protocol", spec: minimal({ expose: ["8080/http"] }), expected: [port(0, '"8080/http"')] },
  { rule: "port that is a name", spec: minimal({ expose: ["http"] }), expected: [port(0, '"http"')] },
  {
    rule: "port of the wrong type",
    spec: minimal({ expose: [true] }),
    expected: ['image.expose[0]: has the wrong type (value: true). Fix: give a port as a number or a string, e.g. 8080 or "8080/udp"'],
  },
  { rule: "valid ports", spec: minimal({ expose: [1, 65535, "53/udp", "8080/tcp", "9000/sctp", "443"] }), expected: [] },
];

const duration = (key: string, value: string) => `image.healthcheck.${key}: is not a duration (value: "${value}"). Fix: use a number with ms, s, m or h, e.g. "30s"`;
const HEALTH_ROWS: Row[] = [
  { rule: "interval without a unit", spec: minimal({ healthcheck: { test: ["/app", "--health"], interval: "30" } }), expected: [duration("interval", "30")] },
  { rule: "timeout with a space", spec: minimal({ healthcheck: { test: ["/app"], timeout: "5 s" } }), expected: [duration("timeout", "5 s")] },
  { rule: "startPeriod in days", spec: minimal({ healthcheck: { test: ["/app"], startPeriod: "1d" } }), expected: [duration("startPeriod", "1d")] },
  {
    rule: "retries 0",
    spec: minimal({ healthcheck: { test: ["/app"], retries: 0 } }),
    expected: ["image.healthcheck.retries: must be a whole number from 1 to 100 (value: 0). Fix: use e.g. 3"],
  },
  {
    rule: "empty healthcheck test",
    spec: minimal({ healthcheck: { test: [] } }),
    expected: ['image.healthcheck.test: is an empty command (value: []). Fix: give the exec-form check, e.g. ["/app", "--health"]'],
  },
  { rule: "valid healthcheck", spec: minimal({ healthcheck: { test: ["/app", "--health"], interval: "10s", timeout: "500ms", retries: 5, startPeriod: "1m" } }), expected: [] },
];

const LABEL_ROWS: Row[] = [
  ...["org.opencontainers.image.base.digest", "org.opencontainers.image.base.name", "org.opencontainers.image.created", "org.opencontainers.image.title"].map((key) => ({
    rule: `renderer-owned label ${key}`,
    spec: minimal({ labels: { [key]: "x" } }),
    expected: [`image.labels[${JSON.stringify(key)}]: is set by the renderer from the real base, source and commit time (value: "x"). Fix: remove it`],
  })),
  ...["org.opencontainers.image.source", "org.opencontainers.image.revision"].map((key) => ({
    rule: `renderer-owned label ${key}`,
    spec: minimal({ labels: { [key]: "x" } }),
    expected: [`image.labels[${JSON.stringify(key)}]: is set by the renderer from the real base, source and commit time (value: "x"). Fix: set source.url / source.revision instead`],
  })),
  { rule: "other OCI labels are fine", spec: minimal({ labels: { "org.opencontainers.image.vendor": "Example", "com.example.team": "platform" } }), expected: [] },
  {
    rule: "label key with uppercase",
    spec: minimal({ labels: { Team: "platform" } }),
    expected: ['image.labels.Team: is not a label key (value: "Team"). Fix: use a lowercase reverse-DNS key, e.g. com.example.team, at most 256'],
  },
  {
    rule: "label value with a line break",
    spec: minimal({ labels: { "com.example.team": "a\nUSER 0:0" } }),
    expected: ['image.labels["com.example.team"]: contains a line break (value: "a\\nUSER 0:0"). Fix: use a single-line value'],
  },
  {
    rule: "source url without a scheme",
    spec: minimal({ source: { url: "git.example.com/team/images" } }),
    expected: ['image.source.url: is not a URL (value: "git.example.com/team/images"). Fix: give the repository URL, e.g. https://git.example.com/team/images'],
  },
  {
    rule: "source url with a line break",
    spec: minimal({ source: { url: "https://x\nUSER 0" } }),
    expected: ['image.source.url: is not a URL (value: "https://x\\nUSER 0"). Fix: give the repository URL, e.g. https://git.example.com/team/images'],
  },
  {
    rule: "source revision with spaces",
    spec: minimal({ source: { revision: "main branch" } }),
    expected: ['image.source.revision: is not a revision (value: "main branch"). Fix: give the commit SHA'],
  },
];

const CONTEXT_ROWS: Row[] = [
  {
    rule: "absolute POSIX context",
    spec: minimal({ context: "/home/me/images/hello" }),
    expected: [
      'image.context: is an absolute path, which differs between machines and makes previews noisy (value: "/home/me/images/hello"). Fix: use a path relative to the program\'s directory, e.g. "images/hello"',
    ],
  },
  {
    rule: "absolute Windows context",
    spec: minimal({ context: "C:\\images\\hello" }),
    expected: [
      'image.context: is an absolute path, which differs between machines and makes previews noisy (value: "C:\\\\images\\\\hello"). Fix: use a path relative to the program\'s directory, e.g. "images/hello"',
    ],
  },
  { rule: "relative context", spec: minimal({ context: "images/hello" }), expected: [] },
  { rule: "empty platforms", spec: minimal({ platforms: [] }), expected: ['image.platforms: is empty (value: []). Fix: list at least one platform, e.g. ["linux/amd64"]'] },
  {
    rule: "duplicate platform",
    spec: minimal({ platforms: ["linux/amd64", "linux/arm64", "linux/amd64"] }),
    expected: ['image.platforms: lists a platform twice (value: ["linux/amd64","linux/arm64","linux/amd64"]). Fix: list each platform once'],
  },
];

const STRUCTURE_ROWS: Row[] = [
  {
    rule: "unknown top-level property",
    spec: minimal({ entrypoints: ["/app"] }),
    expected: [`image: unknown property "entrypoints" (value: ["entrypoints"]). Fix: ${UNKNOWN_FIX}`],
  },
  {
    rule: "two unknown properties",
    spec: minimal({ ports: [80], usr: "1000" }),
    expected: [`image: unknown properties "ports", "usr" (value: ["ports","usr"]). Fix: ${UNKNOWN_FIX}`],
  },
  {
    rule: "unknown builder property",
    spec: minimal({ builders: [withBuilder({ packges: ["git"] })] }),
    expected: [`image.builders[0]: unknown property "packges" (value: ["packges"]). Fix: ${UNKNOWN_FIX}`],
  },
  {
    rule: "unknown copy property",
    spec: minimal({ copy: [{ src: "app", dest: "/app", chown: "0:0" }] }),
    expected: [`image.copy[0]: unknown property "chown" (value: ["chown"]). Fix: ${UNKNOWN_FIX}`],
  },
  {
    rule: "wrong flavor",
    spec: minimal({ flavor: "ubuntu" }),
    expected: [`image.flavor: is not one of the allowed values (value: "ubuntu"). Fix: use one of: ${FLAVORS.map((f) => JSON.stringify(f)).join(", ")}`],
  },
  {
    rule: "wrong hardening",
    spec: minimal({ hardening: "paranoid" }),
    expected: ['image.hardening: is not one of the allowed values (value: "paranoid"). Fix: use one of: "strict", "standard"'],
  },
  { rule: "missing name", spec: minimal({ name: undefined }), expected: ["image.name: is required (value: not set). Fix: set image.name (string)"] },
  { rule: "numeric name", spec: minimal({ name: 42 }), expected: ["image.name: must be a string (value: 42). Fix: give a string"] },
  { rule: "env value of the wrong type", spec: minimal({ env: { PORT: 8080 } }), expected: ["image.env.PORT: must be a string (value: 8080). Fix: give a string"] },
  {
    rule: "entrypoint of the wrong type",
    spec: minimal({ entrypoint: 7 }),
    expected: ["image.entrypoint: has the wrong type (value: 7). Fix: give a list of strings (exec form) or, where allowed, a string"],
  },
  { rule: "spec is null", spec: null, expected: ["image: must be an object (value: null). Fix: give an object"] },
  { rule: "spec is an array", spec: [], expected: ["image: must be an object (value: []). Fix: give an object"] },
];

describe.each<[string, Row[]]>([
  ["user", USER_ROWS],
  ["bases", BASE_ROWS],
  ["copies and paths", COPY_ROWS],
  ["entrypoint and cmd", SHELL_ROWS],
  ["env and args", ENV_ROWS],
  ["builder stages", STAGE_ROWS],
  ["image name", NAME_ROWS],
  ["packages", PACKAGE_ROWS],
  ["ports", PORT_ROWS],
  ["healthcheck", HEALTH_ROWS],
  ["labels and source", LABEL_ROWS],
  ["context and platforms", CONTEXT_ROWS],
  ["structure (zod)", STRUCTURE_ROWS],
])("validateImageSpec: %s", (_group, rows) => {
  it.each(rows.map((r) => [r.rule, r] as const))("GIVEN %s WHEN validated THEN it reports exactly the expected issues", (_rule, row) => {
    // GIVEN a minimal valid spec with one mutation (row.spec) under row.policy
    // WHEN
    const issues = validate(row.spec, row.policy ?? PROD);
    // THEN
    expect(issues).toEqual(row.expected);
  });
});

describe("validateImages", () => {
  it("GIVEN two images with the same name WHEN validated THEN the second is reported with both indexes", () => {
    // GIVEN
    const specs = [minimal(), minimal({ name: "team/other" }), minimal()];
    // WHEN
    const issues = validateImages(specs, PROD).map(formatIssue);
    // THEN
    expect(issues).toEqual(['images[2].name: duplicate image name (also images[0]) (value: "team/hello"). Fix: give every image a unique name']);
  });

  it("GIVEN an image with an issue WHEN validated as the second image THEN its path starts with images[1]", () => {
    // GIVEN
    const specs = [minimal(), minimal({ name: "team/b", user: 0 })];
    // WHEN
    const issues = validateImages(specs, PROD).map(formatIssue);
    // THEN
    expect(issues).toEqual(["images[1].user: runs as root (value: 0). Fix: use a non-root UID such as 65532 (the catalog's nonroot)"]);
  });

  it("GIVEN an invalid policy WHEN images are validated THEN only the policy is reported", () => {
    // GIVEN
    const specs = [minimal({ user: 0 })];
    // WHEN
    const issues = validateImages(specs, { environment: "qa" }).map(formatIssue);
    // THEN
    expect(issues).toEqual(['policy.environment: is not one of the allowed values (value: "qa"). Fix: use one of: "dev", "staging", "prod"']);
  });
});

describe("validateEnvironmentPolicy", () => {
  const EPOCH_PROBLEM = "must be a whole number of seconds since 1970, at most 253402300799 (9999-12-31T23:59:59Z)";
  it.each<[string, unknown, string[]]>([
    [
      "prod with allowTagOnlyBases",
      { environment: "prod", allowTagOnlyBases: true },
      ["policy.allowTagOnlyBases: prod never allows tag-only bases (value: true). Fix: remove allowTagOnlyBases for prod and pin every base by digest (repo:tag@sha256:...)"],
    ],
    ["prod with allowTagOnlyBases false", { environment: "prod", allowTagOnlyBases: false }, []],
    ["dev with allowTagOnlyBases", { environment: "dev", allowTagOnlyBases: true }, []],
    [
      "a mirror with a scheme",
      { environment: "dev", mirror: "https://mirror.example.test/hub" },
      [`policy.mirror: is not a registry prefix: registry host "https:" is not a valid host[:port] (value: "https://mirror.example.test/hub"). Fix: ${MIRROR_FIX}`],
    ],
    ["a mirror with a port, path and trailing slash", { environment: "dev", mirror: "mirror.example.test:5000/hub/" }, []],
    ["a negative sourceDateEpoch", { environment: "dev", sourceDateEpoch: -1 }, [`policy.sourceDateEpoch: ${EPOCH_PROBLEM} (value: -1). Fix: use the commit time, e.g. \`git log -1 --format=%ct\``]],
    ["a fractional sourceDateEpoch", { environment: "dev", sourceDateEpoch: 1.5 }, [`policy.sourceDateEpoch: ${EPOCH_PROBLEM} (value: 1.5). Fix: use the commit time, e.g. \`git log -1 --format=%ct\``]],
    [
      "a sourceDateEpoch past year 9999",
      { environment: "dev", sourceDateEpoch: 253402300800 },
      [`policy.sourceDateEpoch: ${EPOCH_PROBLEM} (value: 253402300800). Fix: use the commit time, e.g. \`git log -1 --format=%ct\``],
    ],
    ["the last RFC 3339 second", { environment: "dev", sourceDateEpoch: 253402300799 }, []],
    ["an unknown environment", { environment: "qa" }, ['policy.environment: is not one of the allowed values (value: "qa"). Fix: use one of: "dev", "staging", "prod"']],
    ["an unknown property", { environment: "dev", mirrors: "x" }, [`policy: unknown property "mirrors" (value: ["mirrors"]). Fix: ${UNKNOWN_FIX}`]],
    ["no policy", undefined, ["policy: is required (value: not set). Fix: set policy (object)"]],
  ])("GIVEN %s WHEN validated THEN it reports exactly the expected issues", (_title, policy, expected) => {
    // WHEN
    const issues = validateEnvironmentPolicy(policy).map(formatIssue);
    // THEN
    expect(issues).toEqual(expected);
  });
});

describe("renderDockerfile validation", () => {
  function thrown(fn: () => unknown): ValidationError {
    try {
      fn();
    } catch (e) {
      if (e instanceof ValidationError) {
        return e;
      }
      throw e;
    }
    throw new Error("expected a ValidationError, nothing was thrown");
  }

  it("GIVEN a spec with 5 different problems WHEN rendered THEN one ValidationError reports all 5", () => {
    // GIVEN
    const spec = minimal({
      base: `distroless/static-debian12:latest@${DIGEST}`,
      copy: [{ src: "https://example.com/app", dest: "/app" }],
      user: "0",
      workdir: "srv",
      env: { DB_PASSWORD: "hunter2" },
    }) as unknown as ImageSpec;
    // WHEN
    const error = thrown(() => renderDockerfile(spec, PROD));
    // THEN
    const expected = [
      `image.base: uses the mutable tag "latest" (value: "distroless/static-debian12:latest@${DIGEST}"). Fix: pin a version tag and its digest, e.g. repo:1.2.3@sha256:<digest>`,
      'image.copy[0].src: fetches a remote URL (ADD of a URL is unverified and not reproducible) (value: "https://example.com/app"). Fix: download it in a builder stage with a checksum check (e.g. curl then sha256sum -c) and copy the result',
      "image.user: runs as root (value: \"0\"). Fix: use a non-root UID such as 65532 (the catalog's nonroot)",
      'image.workdir: is not an absolute path (value: "srv"). Fix: use an absolute path, e.g. "/srv"',
      secretEnv("env", "DB_PASSWORD"),
    ];
    expect(error.issues.map(formatIssue)).toEqual(expected);
    expect(error.message).toBe(['Invalid golden image spec "team/hello" (5 problems):', ...expected.map((line) => `  - ${line}`)].join("\n"));
    expect(error.message).toBe(formatIssues('Invalid golden image spec "team/hello"', error.issues));
  });

  it("GIVEN prod with allowTagOnlyBases WHEN rendering a tag-only spec THEN the policy is refused and the base still needs a digest", () => {
    // GIVEN
    const policy: EnvironmentPolicy = { environment: "prod", allowTagOnlyBases: true };
    const spec = minimal({ base: "distroless/static-debian12:nonroot" }) as unknown as ImageSpec;
    // WHEN
    const error = thrown(() => renderDockerfile(spec, policy));
    // THEN
    expect(error.issues.map(formatIssue)).toEqual([
      "policy.allowTagOnlyBases: prod never allows tag-only bases (value: true). Fix: remove allowTagOnlyBases for prod and pin every base by digest (repo:tag@sha256:...)",
      'image.base: has no digest and this environment requires digests (value: "distroless/static-debian12:nonroot"). Fix: pin it: "distroless/static-debian12:nonroot@sha256:<digest>" (the digest your mirror serves)',
    ]);
  });

  it("GIVEN prod with allowTagOnlyBases WHEN rendering a fully pinned spec THEN the policy alone is refused", () => {
    // GIVEN
    const policy: EnvironmentPolicy = { environment: "prod", allowTagOnlyBases: true };
    // WHEN
    const error = thrown(() => renderDockerfile(minimal() as unknown as ImageSpec, policy));
    // THEN
    expect(error.message).toBe(
      'Invalid golden image spec "team/hello" (1 problem):\n  - policy.allowTagOnlyBases: prod never allows tag-only bases (value: true). Fix: remove allowTagOnlyBases for prod and pin every base by digest (repo:tag@sha256:...)',
    );
  });

  it("GIVEN no policy at all WHEN rendering THEN it throws a ValidationError, not a TypeError", () => {
    // WHEN
    const error = thrown(() => renderDockerfile(minimal() as unknown as ImageSpec, null as unknown as EnvironmentPolicy));
    // THEN
    expect(error.issues.map(formatIssue)).toEqual(["policy: must be an object (value: null). Fix: give an object"]);
  });

  it.each<[string, unknown]>([
    ["undefined", undefined],
    ["null", null],
  ])("GIVEN a spec that is %s WHEN rendering THEN it throws a ValidationError, not a TypeError", (_title, spec) => {
    // WHEN
    const error = thrown(() => renderDockerfile(spec as ImageSpec, PROD));
    // THEN
    expect(error.message.split("\n")[0]).toBe(`Invalid golden image spec "undefined" (1 problem):`);
    expect(error.issues.map((i) => i.path)).toEqual(["image"]);
  });

  it("GIVEN a sourceDateEpoch beyond what Date can hold WHEN rendering THEN it throws a ValidationError, not a RangeError", () => {
    // WHEN
    const error = thrown(() => renderDockerfile(minimal() as unknown as ImageSpec, { environment: "prod", sourceDateEpoch: 1e13 }));
    // THEN
    expect(error.issues.map((i) => i.path)).toEqual(["policy.sourceDateEpoch"]);
  });
});
