/**
 * The input boundary, one regression case per finding of issue 8 and per counterexample the
 * fuzzer found: each refused with the exact report (path, value, problem, fix), and where a
 * value is accepted, BuildKit's own parser (tools/dockerfile-judge) reads the rendered
 * Dockerfile exactly as the spec means it.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { GoldenImagePipeline, validateGoldenImagePipelineArgs } from "../../components/pipeline";
import { contentTag, ContentTagInputs, hashBuildContext, resolveContextDirectory } from "../../components/image/context-hash";
import { renderDockerfile } from "../../components/render/dockerfile";
import { formatIssue, joinKey, joinPath, ValidationError, WELL_FORMED_PATH } from "../../components/render/issues";
import { heredocMarker, lintDockerfile } from "../../components/render/lint";
import { resolveImage } from "../../components/render/resolve";
import { isSecretName, LIMITS, secretValueKind, validateEnvironmentPolicy, validateImageSpec } from "../../components/render/validate";
import { EnvironmentPolicy, ImageSpec } from "../../components/spec/types";
import { configValuesFromStackFile, parseStackConfig } from "../../stacks/config";
import { isLoopbackHost, RegistryClient } from "../../cli/registry-client";
import { judgeDockerfile, judgeProblems } from "../helpers/buildkit-judge";
import { setupMocks } from "./mocks";

const ROOT = path.join(__dirname, "..", "..");
const DIGEST = `sha256:${"a".repeat(64)}`;
const PROD: EnvironmentPolicy = { environment: "prod" };
const SECRET_FIX =
  "never bake secrets into an image: use a BuildKit secret mount (RUN --mount=type=secret) at build time or a secret store at run time";
const HEREDOC = 'contains "<<", which BuildKit reads as the start of a here-document that swallows the Dockerfile lines after it';
const HEREDOC_FIX = 'remove "<<" (put here-document content in a file in the build context and COPY it)';
const DEBIAN_FIX = "give a package name (a-z0-9 + - ., at least 2 characters, starting with a letter or digit), optionally with =version, e.g. tzdata=2024a-0+deb12u1";
const APK_FIX = "give a package name (a-z0-9 . _ + -, starting with a letter or digit), optionally with =version, e.g. ca-certificates=20240705-r0";
const DASH_FIX = 'remove the leading "-" (name a program or path first)';
const RUN_DASH = 'starts with "-", which BuildKit (a RUN flag such as --mount or --network) or the shell reads as an option';
const EXPANDED = "contains $, \\ or a quote, which BuildKit expands (variables, escapes, quoting), so the path built would differ from the spec";
const EXPANDED_FIX = "give the literal path, without $, \\, ' and \"";
const CONTROL_FIX = "remove control characters (use spaces instead of tabs)";

function minimal(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: "team/hello", flavor: "distroless-static", base: `distroless/static-debian12:nonroot@${DIGEST}`, entrypoint: ["/app"], ...overrides };
}
function debian(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return minimal({ flavor: "debian-slim", base: `library/debian:bookworm-slim@${DIGEST}`, ...overrides });
}
function alpine(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return minimal({ flavor: "alpine", base: `library/alpine:3.20@${DIGEST}`, ...overrides });
}
function builder(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: "build", image: `library/gcc:12-bookworm@${DIGEST}`, ...overrides };
}
function validate(spec: unknown, policy: EnvironmentPolicy = PROD): string[] {
  return validateImageSpec(spec, policy).map(formatIssue);
}
function stackFile(env: string): Record<string, unknown> {
  return configValuesFromStackFile(YAML.parse(fs.readFileSync(path.join(ROOT, `Pulumi.${env}.yaml`), "utf8")));
}
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

interface Row {
  readonly rule: string;
  readonly spec: unknown;
  readonly expected: readonly string[];
}

const HEREDOC_ROWS: Row[] = [
  {
    rule: "a builder step whose here-document would swallow the runtime stage (issue 8)",
    spec: minimal({ builders: [builder({ run: ["gcc -o /out/hello hello.c", "cat <<'ENTRYPOINT [\"/usr/local/bin/hello\"]'"] })] }),
    expected: [`image.builders[0].run[1]: ${HEREDOC} (value: "cat <<'ENTRYPOINT [\\"/usr/local/bin/hello\\"]'"). Fix: ${HEREDOC_FIX}`],
  },
  {
    rule: 'a COPY destination "/ <<#" (the property test\'s counterexample)',
    spec: minimal({ copy: [{ src: "app", dest: "/ <<#" }] }),
    expected: [`image.copy[0].dest: ${HEREDOC} (value: "/ <<#"). Fix: ${HEREDOC_FIX}`],
  },
  {
    rule: "a WORKDIR with a here-document marker",
    spec: minimal({ workdir: "/app <<EOF" }),
    expected: [`image.workdir: ${HEREDOC} (value: "/app <<EOF"). Fix: ${HEREDOC_FIX}`],
  },
  {
    rule: "an ENV value with a here-document marker",
    spec: minimal({ env: { MODE: "a <<-X" } }),
    expected: [`image.env.MODE: ${HEREDOC} (value: "a <<-X"). Fix: ${HEREDOC_FIX}`],
  },
  {
    rule: "an exec-form argument with a here-document marker",
    spec: minimal({ entrypoint: ["/app", "<<EOF"] }),
    expected: [`image.entrypoint[1]: ${HEREDOC} (value: "<<EOF"). Fix: ${HEREDOC_FIX}`],
  },
];

const PACKAGE_ROWS: Row[] = [
  {
    rule: "a package name that redirects the root shell's output (ca-certificates>pwned)",
    spec: debian({ packages: ["ca-certificates>pwned"] }),
    expected: [`image.packages[0]: is not a Debian package name (value: "ca-certificates>pwned"). Fix: ${DEBIAN_FIX}`],
  },
  {
    rule: "a package name that is a here-document (1<<EOF)",
    spec: debian({ packages: ["1<<EOF"] }),
    expected: [`image.packages[0]: is not a Debian package name (value: "1<<EOF"). Fix: ${DEBIAN_FIX}`],
  },
  {
    rule: "a package name that is an option",
    spec: debian({ builders: [builder({ packages: ["--allow-unauthenticated"] })] }),
    expected: [`image.builders[0].packages[0]: is not a Debian package name (value: "--allow-unauthenticated"). Fix: ${DEBIAN_FIX}`],
  },
  {
    rule: "Debian names: one character, an empty version, a version not starting with a digit",
    spec: debian({ packages: ["tzdata=2024a-0+deb12u1", "libc6:amd64", "x", "curl=", "curl=a1"] }),
    expected: [
      `image.packages[2]: is not a Debian package name (value: "x"). Fix: ${DEBIAN_FIX}`,
      `image.packages[3]: is not a Debian package name (value: "curl="). Fix: ${DEBIAN_FIX}`,
      `image.packages[4]: is not a Debian package name (value: "curl=a1"). Fix: ${DEBIAN_FIX}`,
    ],
  },
  {
    rule: "Alpine names: a < constraint (a shell redirection) and an uppercase name",
    spec: alpine({ packages: ["curl<8", "Curl", "curl=8.5.0-r0", "py3-pip=23.1"] }),
    expected: [
      `image.packages[0]: is not an Alpine package name (value: "curl<8"). Fix: ${APK_FIX}`,
      `image.packages[1]: is not an Alpine package name (value: "Curl"). Fix: ${APK_FIX}`,
    ],
  },
  {
    rule: "a custom Alpine builder image checks names with apk's grammar",
    spec: minimal({ builders: [builder({ image: `library/golang:1.23-alpine@${DIGEST}`, packages: ["build_base", "make=4.4.1-r2"] })] }),
    expected: [],
  },
];

const FLAG_ROWS: Row[] = [
  {
    rule: "a run step that is a RUN --mount flag",
    spec: minimal({ builders: [builder({ run: ["--mount=type=bind,source=/,target=/host cat /host/etc/shadow"] })] }),
    expected: [`image.builders[0].run[0]: ${RUN_DASH} (value: "--mount=type=bind,source=/,target=/host cat /host/etc/shadow"). Fix: ${DASH_FIX}`],
  },
  {
    rule: "a run step that is a RUN --network flag after blanks",
    spec: minimal({ builders: [builder({ run: [" --network=host curl http://169.254.169.254/"] })] }),
    expected: [`image.builders[0].run[0]: ${RUN_DASH} (value: " --network=host curl http://169.254.169.254/"). Fix: ${DASH_FIX}`],
  },
  {
    rule: "a shell-form cmd the shell reads as its own option",
    spec: debian({ hardening: "standard", cmd: "--port 80" }),
    expected: ['image.cmd: starts with "-", which the shell (/bin/sh -c) reads as an option (value: "--port 80"). Fix: remove the leading "-" (name a program or path first)'],
  },
];

const CONTROL_ROWS: Row[] = [
  { rule: "NUL in an ENV value", spec: minimal({ env: { MODE: "a\u0000b" } }), expected: [`image.env.MODE: contains the control character U+0000 (value: "a\\u0000b"). Fix: ${CONTROL_FIX}`] },
  {
    rule: "a tab in a label value",
    spec: minimal({ labels: { "com.example.x": "a\tb" } }),
    expected: [`image.labels["com.example.x"]: contains the control character U+0009 (value: "a\\tb"). Fix: ${CONTROL_FIX}`],
  },
  {
    rule: "a carriage return in a run step",
    spec: minimal({ builders: [builder({ run: ["make\rUSER 0"] })] }),
    expected: ['image.builders[0].run[0]: contains a line break (value: "make\\rUSER 0"). Fix: give one single-line command per step (chain with && inside one step)'],
  },
  {
    rule: "a Unicode line separator in an exec-form argument",
    spec: minimal({ cmd: ["/app", "a\u2028b"] }),
    expected: ['image.cmd[1]: contains a line break (value: "a\\u2028b"). Fix: give single-line arguments'],
  },
  {
    rule: "half a surrogate pair (JSON writes it, BuildKit reads U+FFFD)",
    spec: minimal({ entrypoint: ["/app", "\ud800"] }),
    expected: ['image.entrypoint[1]: is not valid Unicode text (it holds half of a surrogate pair) (value: "\\ud800"). Fix: give the text as valid UTF-16 (whole characters only)'],
  },
];

const LENGTH_ROWS: Row[] = [
  {
    rule: "a run step of 65,536 characters",
    spec: minimal({ builders: [builder({ run: ["x".repeat(65_536)] })] }),
    expected: [
      `image.builders[0].run[0]: is 65536 characters long, over the limit of 16384 (value: "${"x".repeat(116)}...). Fix: keep a step under 16384 characters: split it into several steps, or put it in a script in the build context`,
    ],
  },
  {
    rule: "an exec form whose rendered line is over BuildKit's 65,535 bytes (each argument within its limit)",
    spec: minimal({ entrypoint: ["/app", ...Array.from({ length: 20 }, () => "y".repeat(4000))] }),
    expected: [
      `image.entrypoint: renders a Dockerfile line of 80079 bytes, and BuildKit refuses lines over 65535 bytes (value: "ENTRYPOINT [\\"/app\\",\\"${"y".repeat(40)}... (80079 bytes)"). Fix: shorten the values or give fewer of them`,
    ],
  },
  {
    rule: "300 ENV variables",
    spec: minimal({ env: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`V${i}`, "x"])) }),
    expected: ['image.env: has 300 variables, over the limit of 256 (value: "300 variables"). Fix: keep at most 256 variables'],
  },
];

const PATH_ROWS: Row[] = [
  {
    rule: "quotes in COPY and WORKDIR paths (BuildKit's lexer removes or chokes on them)",
    spec: minimal({ workdir: "/a'b", copy: [{ src: 'a"b', dest: "/x" }] }),
    expected: [`image.copy[0].src: ${EXPANDED} (value: "a\\"b"). Fix: ${EXPANDED_FIX}`, `image.workdir: ${EXPANDED} (value: "/a'b"). Fix: ${EXPANDED_FIX}`],
  },
  {
    rule: "a variable in a COPY destination",
    spec: minimal({ copy: [{ src: "app", dest: "/$HOME/app" }] }),
    expected: [`image.copy[0].dest: ${EXPANDED} (value: "/$HOME/app"). Fix: ${EXPANDED_FIX}`],
  },
  {
    rule: "white space around a WORKDIR (BuildKit drops it)",
    spec: minimal({ workdir: "/srv " }),
    expected: ['image.workdir: starts or ends with white space, which BuildKit drops (value: "/srv "). Fix: remove the white space around it'],
  },
  {
    rule: "an scp-style git remote as a COPY source",
    spec: minimal({ copy: [{ src: "git@git.example.com:team/repo.git", dest: "/src" }] }),
    expected: [
      'image.copy[0].src: is a git remote (user@host:path), which BuildKit refuses to COPY (value: "git@git.example.com:team/repo.git"). Fix: clone it in a builder stage at a pinned commit and copy the result, or give a path relative to the build context',
    ],
  },
  {
    rule: "a builder image whose name is over 255 characters",
    spec: minimal({ builders: [builder({ image: `library/${"x".repeat(250)}@${DIGEST}` })] }),
    expected: [
      `image.builders[0].image: is not an image reference: its repository name (host and path) is longer than 255 characters (value: "library/${"x".repeat(108)}...). Fix: use repository[:tag]@sha256:<digest>`,
    ],
  },
];

const CONTEXT_FIX = 'give a directory inside the program\'s directory, e.g. "images/hello"';
const CONTEXT_ROWS: Row[] = [
  {
    rule: "a context that leaves the project (../../../../../../etc/ssl)",
    spec: minimal({ context: "../../../../../../etc/ssl" }),
    expected: [`image.context: leaves the program's directory (value: "../../../../../../etc/ssl"). Fix: ${CONTEXT_FIX}`],
  },
  {
    rule: "a context that climbs out after going in (images/../../x)",
    spec: minimal({ context: "images/../../x" }),
    expected: [`image.context: leaves the program's directory (value: "images/../../x"). Fix: ${CONTEXT_FIX}`],
  },
  {
    rule: "a context docker build would read as an option (--output=type=local,dest=/tmp/x)",
    spec: minimal({ context: "--output=type=local,dest=/tmp/x" }),
    expected: [`image.context: starts with "-", which docker build reads as an option (value: "--output=type=local,dest=/tmp/x"). Fix: ${DASH_FIX}`],
  },
  { rule: "a context with NUL", spec: minimal({ context: "images/\u0000hello" }), expected: [`image.context: contains the control character U+0000 (value: "images/\\u0000hello"). Fix: ${CONTROL_FIX}`] },
  {
    rule: "a context with a line break",
    spec: minimal({ context: "images/hello\n--output=x" }),
    expected: ['image.context: contains a line break (value: "images/hello\\n--output=x"). Fix: use a single-line path'],
  },
  {
    rule: "a context of 1,000,000 characters",
    spec: minimal({ context: "x".repeat(1_000_000) }),
    expected: [`image.context: is 1000000 characters long, over the limit of 1024 (value: "${"x".repeat(116)}...). Fix: shorten it to at most 1024 characters`],
  },
  { rule: "a context inside the project", spec: minimal({ context: "images/./hello/../hello" }), expected: [] },
];

const secret = (p: string, kind: string, shown: string) => `${p}: looks like ${kind}, which would be readable by anyone who pulls the image (value: "${shown}"). Fix: ${SECRET_FIX}`;
const SECRET_ROWS: Row[] = [
  {
    rule: "credential formats as values of env, args and labels",
    spec: minimal({
      env: { AWS_ID: "AKIAIOSFODNN7EXAMPLE", SSH: "-----BEGIN OPENSSH PRIVATE KEY-----" },
      args: { GH: "ghp_abcdefghijklmnopqrstuvwxyz0123456789", GHP: "github_pat_11ABCDEFG0abcdefghijkl_mnopqrstuvwxyz0123456789" },
      labels: {
        "com.example.jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "com.example.slack": "xoxb-123456789012-abcdefghijkl",
        "com.example.npm": "npm_abcdefghijklmnopqrstuvwxyz0123456789",
      },
    }),
    expected: [
      secret("image.env.AWS_ID", "an AWS access key id", "AKIA... (redacted, 20 characters)"),
      secret("image.env.SSH", "a private key", "----... (redacted, 35 characters)"),
      secret("image.args.GH", "a GitHub token", "ghp_... (redacted, 40 characters)"),
      secret("image.args.GHP", "a GitHub token", "gith... (redacted, 58 characters)"),
      secret('image.labels["com.example.jwt"]', "a JSON Web Token", "eyJh... (redacted, 92 characters)"),
      secret('image.labels["com.example.npm"]', "an npm token", "npm_... (redacted, 40 characters)"),
      secret('image.labels["com.example.slack"]', "a Slack token", "xoxb... (redacted, 30 characters)"),
    ],
  },
  {
    rule: "a password in a URL in a builder's env",
    spec: minimal({ builders: [builder({ env: { GIT_REMOTE: "https://user:hunter2@git.example.com/repo" } })] }),
    expected: [secret("image.builders[0].env.GIT_REMOTE", "a URL with a password", "http... (redacted, 41 characters)")],
  },
  {
    rule: "secret-looking names BuildKit also warns on (AWS_SECRET_ACCESS_KEY_ID, GITHUB_PAT, NPM_AUTH, apiKey)",
    spec: minimal({ env: { AWS_SECRET_ACCESS_KEY_ID: "x", GITHUB_PAT: "x", NPM_AUTH: "x", apiKey: "x" } }),
    expected: ["AWS_SECRET_ACCESS_KEY_ID", "GITHUB_PAT", "NPM_AUTH", "apiKey"].map(
      (n) => `image.env.${n}: looks like a secret, which would be readable by anyone who pulls the image (value: "${n}"). Fix: ${SECRET_FIX}`,
    ),
  },
];

describe.each<[string, Row[]]>([
  ["here-documents", HEREDOC_ROWS],
  ["package names", PACKAGE_ROWS],
  ["flags and options", FLAG_ROWS],
  ["control characters", CONTROL_ROWS],
  ["lengths", LENGTH_ROWS],
  ["paths BuildKit expands", PATH_ROWS],
  ["context", CONTEXT_ROWS],
  ["secrets", SECRET_ROWS],
])("the input boundary: %s", (_group, rows) => {
  it.each(rows.map((r) => [r.rule, r] as const))("GIVEN %s WHEN validated THEN it reports exactly the expected issues", (_rule, row) => {
    expect(validate(row.spec)).toEqual(row.expected);
  });
});

describe("secret detection", () => {
  it.each(["AWS_SECRET_ACCESS_KEY_ID", "GITHUB_PAT", "NPM_AUTH", "apiKey", "dbPassword", "SLACK_TOKEN_VALUE", "X_AUTH"])("GIVEN the name %s THEN it is a secret", (name) => {
    expect(isSecretName(name)).toBe(true);
  });
  it.each(["DB_PASSWORD_FILE", "PASSWORD_MIN_LENGTH", "SECRET_NAME", "KEYBOARD_LAYOUT", "TOKENIZER_PATH", "MONKEY", "PATH", "AUTHOR", "OAUTH_ISSUER_URL_PATH"])(
    "GIVEN the name %s THEN it is not a secret",
    (name) => {
      expect(isSecretName(name)).toBe(false);
    },
  );
  it.each(["production", "https://git.example.com/team/repo", "AKIAIOSFODNN7EXAMPLEX", "sha256:" + "a".repeat(64), "ghp_short", "eyJ.notatoken"])(
    "GIVEN the value %s THEN it is no secret format",
    (value) => {
      expect(secretValueKind(value)).toBeUndefined();
    },
  );
});

describe("the rendered Dockerfile, judged by BuildKit", () => {
  it("GIVEN run steps and packages with shell syntax that is allowed WHEN rendered THEN BuildKit reads each as one exec-form argument, no flag, no here-document", () => {
    // GIVEN values that a shell would interpret: they reach sh -c or apt-get as single arguments
    const spec = debian({
      builders: [builder({ packages: ["libssl-dev", "make=4.3-4.1"], run: ["echo $HOME > /out/x && cat /out/x | wc -c", "printf '%s\\n' \"a\\\\\" `id`", "x # not a comment"] })],
      packages: ["ca-certificates", "tzdata=2024a-0+deb12u1"],
      env: { GREETING: 'say "hi" \\ $HOME' },
      labels: { "com.example.note": "a \\ b \"c\" $d" },
    }) as unknown as ImageSpec;
    const text = renderDockerfile(spec, PROD);
    // WHEN
    const judgement = judgeDockerfile(text);
    // THEN
    expect(judgeProblems(judgement, resolveImage(spec, PROD))).toEqual([]);
    expect(judgement.stages.map((s) => s.name)).toEqual(["build", "runtime"]);
    expect(judgement.stages[0].instructions.filter((i) => i.keyword === "RUN").map((i) => i.args)).toEqual([
      ["/bin/sh", "-c", 'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends -- "$@" && apt-get clean && rm -rf /var/lib/apt/lists/*', "apt-get", "libssl-dev", "make=4.3-4.1"],
      ["/bin/sh", "-c", "echo $HOME > /out/x && cat /out/x | wc -c"],
      ["/bin/sh", "-c", "printf '%s\\n' \"a\\\\\" `id`"],
      ["/bin/sh", "-c", "x # not a comment"],
    ]);
  });

  it("GIVEN the issue's heredoc Dockerfile written by hand WHEN judged THEN BuildKit builds the builder, and the lint reports the here-document", () => {
    // GIVEN what the renderer once wrote for the issue's run step
    const text = [
      "FROM library/gcc:12-bookworm@" + DIGEST + " AS build",
      "RUN gcc -o /out/hello hello.c",
      "RUN cat <<'ENTRYPOINT [\"/usr/local/bin/hello\"]'",
      "",
      "FROM distroless/static-debian12:nonroot@" + DIGEST + " AS runtime",
      'COPY --from=build ["/out/hello", "/usr/local/bin/hello"]',
      "USER 65532:65532",
      'ENTRYPOINT ["/usr/local/bin/hello"]',
      "",
    ].join("\n");
    // WHEN
    const judgement = judgeDockerfile(text);
    // THEN BuildKit's final stage is the root builder, and the lint no longer passes it
    expect(judgement.stages.map((s) => s.name)).toEqual(["build"]);
    expect(judgement.stages[0].instructions[1].heredocs.map((h) => h.name)).toEqual(['ENTRYPOINT ["/usr/local/bin/hello"]']);
    expect(lintDockerfile(text).map(formatIssue)).toEqual([
      `Dockerfile:3: RUN starts a here-document: BuildKit reads the lines after it as its content, not as instructions, up to its terminator line (value: "<<'ENTRYPOINT"). Fix: put the content in a file in the build context and COPY it`,
    ]);
  });

  it.each<[string, string, string | undefined]>([
    ["a heredoc word", "cat <<EOF", "<<EOF"],
    ["a heredoc with a file descriptor", "apt-get install 1<<EOF", "1<<EOF"],
    ["a chomping heredoc", "cat <<-'X'", "<<-'X'"],
    ["exec form", '["sh", "-c", "cat <<EOF"]', undefined],
    ["exec form after flags", '--from=build ["a", "/ <<#"]', undefined],
    ["a shift, not a word start", "echo $((1<<3))", undefined],
  ])("GIVEN %s THEN heredocMarker reads it as BuildKit would (or errs towards finding one)", (_title, args, marker) => {
    expect(heredocMarker(args)).toBe(marker);
  });
});

describe("the content tag", () => {
  let dir: string;
  const inputs = (overrides: Partial<ContentTagInputs> = {}): ContentTagInputs => ({ platforms: ["linux/amd64"], buildArgs: { SOURCE_DATE_EPOCH: "0" }, baseDirectory: dir, ...overrides });
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "golden-tag-"));
    fs.mkdirSync(path.join(dir, "ctx"));
    fs.writeFileSync(path.join(dir, "ctx", "app.sh"), "echo hi\n");
    fs.chmodSync(path.join(dir, "ctx", "app.sh"), 0o644);
  });
  const tag = (overrides: Partial<ContentTagInputs> = {}, context = "ctx") => contentTag("FROM scratch\n", path.join(dir, context), "v", inputs(overrides));

  it("GIVEN one platform or two WHEN tagged THEN the tags differ (a second push under one tag would be refused)", () => {
    expect(tag({ platforms: ["linux/amd64"] })).not.toBe(tag({ platforms: ["linux/amd64", "linux/arm64"] }));
  });
  it("GIVEN a file's mode changes WHEN tagged THEN the tag changes", () => {
    const before = tag();
    fs.chmodSync(path.join(dir, "ctx", "app.sh"), 0o755);
    expect(tag()).not.toBe(before);
  });
  it("GIVEN other build args WHEN tagged THEN the tag changes; their order does not matter", () => {
    expect(tag({ buildArgs: { SOURCE_DATE_EPOCH: "1" } })).not.toBe(tag());
    expect(tag({ buildArgs: { A: "1", B: "2" } })).toBe(tag({ buildArgs: { B: "2", A: "1" } }));
  });
  it("GIVEN a file's content changes WHEN tagged again in the same process THEN the cached hash is not reused", () => {
    const before = tag();
    fs.appendFileSync(path.join(dir, "ctx", "app.sh"), "echo again\n");
    expect(tag()).not.toBe(before);
  });
  it("GIVEN the same files in another directory WHEN tagged THEN the tag is the same (no paths, no times)", () => {
    const other = fs.mkdtempSync(path.join(os.tmpdir(), "golden-tag-"));
    fs.cpSync(path.join(dir, "ctx"), path.join(other, "ctx"), { recursive: true });
    fs.utimesSync(path.join(other, "ctx", "app.sh"), new Date(0), new Date(0));
    expect(contentTag("FROM scratch\n", path.join(other, "ctx"), "v", inputs({ baseDirectory: other }))).toBe(tag());
  });
  it("GIVEN a .dockerignore WHEN tagged THEN the files docker leaves out do not count, the ones it sends do", () => {
    fs.writeFileSync(path.join(dir, "ctx", ".dockerignore"), "*.log\nbuild\n!keep.log\n");
    const before = tag();
    fs.writeFileSync(path.join(dir, "ctx", "debug.log"), "noise");
    fs.mkdirSync(path.join(dir, "ctx", "build"));
    fs.writeFileSync(path.join(dir, "ctx", "build", "out.o"), "noise");
    expect(tag()).toBe(before);
    fs.writeFileSync(path.join(dir, "ctx", "keep.log"), "sent");
    expect(tag()).not.toBe(before);
  });
  it("GIVEN a context that is a file WHEN tagged THEN a ValidationError names it, not ENOTDIR", () => {
    expect(thrown(() => tag({}, "ctx/app.sh")).message).toBe(
      'Invalid build context (1 problem):\n  - context: is a file, not a directory (value: "ctx/app.sh"). Fix: give the directory that holds the files the image needs',
    );
    expect(thrown(() => tag({}, "ctx/app.sh/deeper")).message).toBe(
      'Invalid build context (1 problem):\n  - context: is not a directory (a part of it is a file) (value: "ctx/app.sh/deeper"). Fix: give an existing directory relative to the program\'s directory, e.g. "images/hello"',
    );
  });
  it("GIVEN a missing context WHEN tagged THEN a ValidationError names it", () => {
    expect(thrown(() => tag({}, "missing")).issues.map(formatIssue)).toEqual([
      'context: does not exist or cannot be read (does not exist) (value: "missing"). Fix: give an existing directory relative to the program\'s directory, e.g. "images/hello"',
    ]);
  });
  it("GIVEN a context that is a symlink out of the project WHEN tagged THEN it is refused (realpath)", () => {
    fs.symlinkSync(os.tmpdir(), path.join(dir, "out"));
    expect(thrown(() => tag({}, "out")).issues.map(formatIssue)).toEqual([
      'context: leaves the program\'s directory once symlinks are resolved (value: "out"). Fix: give a directory inside the program\'s directory (no symlink out of it)',
    ]);
    expect(thrown(() => resolveContextDirectory(dir, "../..", "images[0].context")).issues.map((i) => i.path)).toEqual(["images[0].context"]);
  });
  it("GIVEN a context over the file limit WHEN hashed THEN a ValidationError names the limit and the fix", () => {
    for (let i = 0; i < 5; i++) {
      fs.writeFileSync(path.join(dir, "ctx", `f${i}`), `${i}`);
    }
    expect(thrown(() => tag({ limits: { maxFiles: 3, maxBytes: 1_000_000 } })).issues.map(formatIssue)).toEqual([
      'context: holds more than 3 files and directories (value: "ctx"). Fix: narrow the context to the directory the image needs, or leave the rest out with a .dockerignore',
    ]);
    expect(thrown(() => hashBuildContext(path.join(dir, "ctx"), { limits: { maxFiles: 100, maxBytes: 4 }, path: "images[2].context", value: "ctx" })).issues.map(formatIssue)).toEqual([
      'images[2].context: holds more than 4 bytes (value: "ctx"). Fix: narrow the context to the directory the image needs, or leave the rest out with a .dockerignore',
    ]);
  });
  it("GIVEN a tag prefix that is no tag WHEN tagged THEN it is refused", () => {
    expect(thrown(() => contentTag("FROM scratch\n", path.join(dir, "ctx"), "-v", inputs())).issues.map((i) => i.path)).toEqual(["tagPrefix"]);
  });
});

describe("crash-proofing: a ValidationError, never a TypeError or a raw error", () => {
  const dev = stackFile("dev");
  it.each<[string, unknown, string[]]>([
    [
      "null",
      null,
      [
        'config: must be a map of golden-images:* keys (value: null). Fix: give the stack\'s config, e.g. { environment: "dev", registry: { type: "ecr" }, images: [...] } (the golden-images: keys of Pulumi.<stack>.yaml)',
      ],
    ],
    [
      "a list",
      [],
      [
        'config: must be a map of golden-images:* keys (value: []). Fix: give the stack\'s config, e.g. { environment: "dev", registry: { type: "ecr" }, images: [...] } (the golden-images: keys of Pulumi.<stack>.yaml)',
      ],
    ],
    ["images that are not a list", { ...dev, images: { a: 1 } }, ['golden-images:images: must be an array (value: {"a":1}). Fix: give an array']],
    [
      "a mirror that passes a loose check but breaks references (../../etc)",
      { ...dev, mirror: "../../etc" },
      [
        'golden-images:mirror: is not a registry prefix: registry host ".." is not a valid host[:port] (value: "../../etc"). Fix: give host[:port][/path] of your pull-through cache, without scheme or tag, e.g. mirror.example.internal/hub',
      ],
    ],
    [
      "a registry lifecycle setting (the path is well-formed)",
      { ...dev, registry: { ...(dev.registry as object), lifecycle: { keepReleases: 0 } } },
      ["golden-images:registry.lifecycle.keepReleases: must be a positive whole number (value: 0). Fix: give an integer of at least 1 for keepReleases"],
    ],
    [
      "pull-through prefixes that are one resource name",
      {
        ...dev,
        registry: {
          ...(dev.registry as object),
          pullThroughCache: [
            { prefix: "ab/cd", upstreamRegistryUrl: "registry.example.test" },
            { prefix: "ab-cd", upstreamRegistryUrl: "quay.example.test" },
          ],
        },
      },
      [
        'golden-images:registry.pullThroughCache[1].prefix: gets the same resource name "ab-cd" as pullThroughCache[0].prefix (value: "ab-cd"). Fix: rename one of them: "/" and "-" map to the same resource name',
      ],
    ],
    [
      "an image that is null among valid ones",
      { ...dev, images: [null, ...(dev.images as unknown[]).slice(1)] },
      ["golden-images:images[0]: must be an object (value: null). Fix: give an object"],
    ],
  ])("GIVEN a stack config with %s WHEN parsed THEN one ValidationError reports it", (_title, values, expected) => {
    expect(thrown(() => parseStackConfig(values)).issues.map(formatIssue)).toEqual(expected);
  });

  it("GIVEN the project directory WHEN a context is a file THEN the stack config reports it with the rest", () => {
    const values = { ...dev, images: [{ ...(dev.images as Record<string, unknown>[])[0], context: "images/hello/hello.c" }] };
    expect(thrown(() => parseStackConfig(values, { projectDir: ROOT })).issues.map(formatIssue)).toEqual([
      'golden-images:images[0].context: is a file, not a directory (value: "images/hello/hello.c"). Fix: give the directory that holds the files the image needs',
    ]);
    expect(parseStackConfig(stackFile("prod"), { projectDir: ROOT }).images.length).toBeGreaterThan(0);
  });

  it("GIVEN pipeline args with a bad registry lifecycle WHEN validated THEN the path is registry.lifecycle.keepReleases, not registry[\"lifecycle.keepReleases\"]", () => {
    const issues = validateGoldenImagePipelineArgs({
      registry: { type: "ecr", lifecycle: { keepReleases: 0 } },
      images: [minimal() as unknown as ImageSpec],
      policy: PROD,
    });
    expect(issues.map(formatIssue)).toEqual(["registry.lifecycle.keepReleases: must be a positive whole number (value: 0). Fix: give an integer of at least 1 for keepReleases"]);
    expect(issues.every((i) => WELL_FORMED_PATH.test(i.path))).toBe(true);
  });

  it("GIVEN a GoldenImagePipeline whose image context is a file WHEN constructed THEN it throws a ValidationError naming the image, not ENOTDIR", () => {
    setupMocks();
    const error = thrown(
      () =>
        new GoldenImagePipeline("golden", {
          registry: { type: "ecr" },
          images: [minimal({ context: "images/hello/hello.c" }) as unknown as ImageSpec],
          policy: PROD,
        }),
    );
    expect(error.message).toBe(
      'Invalid HardenedImage "golden-team-hello" (1 problem):\n  - spec.context: is a file, not a directory (value: "images/hello/hello.c"). Fix: give the directory that holds the files the image needs',
    );
  });

  it("GIVEN a mirror that would make a base reference too long WHEN validated THEN the base is reported, nothing throws later", () => {
    const policy: EnvironmentPolicy = { environment: "prod", mirror: `mirror.example.internal/${"m".repeat(200)}` };
    const base = `distroless/${"s".repeat(60)}@${DIGEST}`;
    expect(validate(minimal({ base }), policy)).toEqual([
      `image.base: is not an image reference under the mirror: its repository name (host and path) is longer than 255 characters (value: ${JSON.stringify(base).slice(0, 117)}...). Fix: shorten the reference or the mirror`,
    ]);
    expect(validateEnvironmentPolicy({ environment: "dev", mirror: "x".repeat(256) }).map((i) => i.problem)).toEqual(["is not a registry prefix: it is longer than 255 characters"]);
  });
});

describe("issue paths", () => {
  it.each<[string, string]>([
    [joinPath("registry", "lifecycle.keepReleases"), "registry.lifecycle.keepReleases"],
    [joinPath("registry", "pullThroughCache[1].prefix"), "registry.pullThroughCache[1].prefix"],
    [joinPath("images[0]", 'labels["com.example.team"]'), 'images[0].labels["com.example.team"]'],
    [joinPath("images", 3), "images[3]"],
    [joinKey("labels", "com.example.team"), 'labels["com.example.team"]'],
    [joinKey("env", "MODE"), "env.MODE"],
    [joinKey("env", "x".repeat(100)), `env["${"x".repeat(61)}..."]`],
  ])("GIVEN %s THEN it is %s and well-formed", (got, want) => {
    expect(got).toBe(want);
    expect(got).toMatch(WELL_FORMED_PATH);
  });
  it.each(['registry["lifecycle.keepReleases"].x[', "images[0]..name", "golden-images:", "[0]"])("GIVEN the path %s THEN it is not well-formed", (p) => {
    expect(p).not.toMatch(WELL_FORMED_PATH);
  });
});

describe("loopback registries (plain HTTP and Basic auth only to this machine)", () => {
  it.each(["127.0.0.1", "127.0.0.1:5000", "127.255.0.7:65535", "localhost", "localhost:5000", "[::1]", "[::1]:5000"])("GIVEN %s THEN it is loopback", (address) => {
    expect(isLoopbackHost(address)).toBe(true);
  });
  it.each(["127.0.0.1.example.net", "127.0.0.1.example.net:5000", "localhost.example.net:5000", "127.0.0.256:5000", "127.1:5000", "127.0.0.1:0", "127.0.0.1:65536", "[::1].example.net", "128.0.0.1:5000", "example.com"])(
    "GIVEN %s THEN it is not loopback",
    (address) => {
      expect(isLoopbackHost(address)).toBe(false);
    },
  );

  it("GIVEN a registry at 127.0.0.1.example.net with credentials WHEN pinged THEN the request is HTTPS, never Basic auth over plain HTTP", async () => {
    const seen: string[] = [];
    const realFetch = global.fetch;
    global.fetch = (async (url: string | URL | Request) => {
      seen.push(String(url));
      return new Response("{}", { status: 200 });
    }) as typeof fetch;
    try {
      await new RegistryClient("127.0.0.1.example.net:5000", { username: "golden", password: "secret" }).ping();
      await new RegistryClient("127.0.0.1:5000", { username: "golden", password: "secret" }).ping();
    } finally {
      global.fetch = realFetch;
    }
    expect(seen).toEqual(["https://127.0.0.1.example.net:5000/v2/", "http://127.0.0.1:5000/v2/"]);
  });
});

describe("limits", () => {
  it("GIVEN the documented limits THEN a spec at every limit renders lines BuildKit accepts", () => {
    // GIVEN one run step at its limit and a long, valid package list
    const spec = debian({
      builders: [builder({ run: ["x".repeat(LIMITS.runStep)], packages: Array.from({ length: LIMITS.entries }, (_, i) => `pkg${i}`) })],
      env: { LONG: "v".repeat(LIMITS.value) },
    }) as unknown as ImageSpec;
    // WHEN / THEN
    expect(validate(spec)).toEqual([]);
    expect(judgeProblems(judgeDockerfile(renderDockerfile(spec, PROD)), resolveImage(spec, PROD))).toEqual([]);
  });
});
