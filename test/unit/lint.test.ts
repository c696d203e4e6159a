/**
 * The Dockerfile policy check on hand-written Dockerfiles: each row breaks one rule of an
 * otherwise hardened file and expects exactly that finding, with its line.
 */
import { formatIssue } from "../../components/render/issues";
import { SCRATCH_ACCOUNT_COPIES } from "../../components/render/dockerfile";
import { lintDockerfile, LintOptions } from "../../components/render/lint";

const DIGEST = `sha256:${"b".repeat(64)}`;
const BUILDER = `golang:1.22@${DIGEST}`;
const RUNTIME = `registry.example.net/distroless/static-debian12:nonroot@${DIGEST}`;

/** A fully hardened two-stage Dockerfile; rows replace or insert single lines. */
const HARDENED = [
  `FROM ${BUILDER} AS build`, // 1
  "ARG VERSION=1.0", // 2
  'ENV CGO_ENABLED="0" GOFLAGS="-trimpath"', // 3
  "WORKDIR /src", // 4
  'COPY [".", "/src"]', // 5
  "RUN go build -o /out/app .", // 6
  "", // 7
  `FROM ${RUNTIME} AS runtime`, // 8
  'COPY --from=build --chown=65532:65532 ["/out/app", "/app"]', // 9
  "WORKDIR /app", // 10
  "USER 65532:65532", // 11
  'ENTRYPOINT ["/app"]', // 12
];

/** HARDENED with line `n` (1-based) replaced by `lines` (several to insert, none to delete). */
function edit(n: number, ...lines: string[]): string {
  const copy = [...HARDENED];
  copy.splice(n - 1, 1, ...lines);
  return `${copy.join("\n")}\n`;
}

interface Row {
  readonly rule: string;
  readonly dockerfile: string;
  readonly options?: LintOptions;
  readonly expected: readonly string[];
}

const ROWS: Row[] = [
  { rule: "the hardened file", dockerfile: edit(7, ""), expected: [] },
  {
    rule: "unpinned FROM (tag only)",
    dockerfile: edit(1, "FROM golang:1.22 AS build"),
    expected: ['Dockerfile:1: base is not pinned by digest (value: "golang:1.22"). Fix: use image:tag@sha256:<digest>'],
  },
  {
    rule: "unpinned FROM (no tag)",
    dockerfile: edit(8, "FROM registry.example.net/distroless/static-debian12 AS runtime"),
    expected: ['Dockerfile:8: base is not pinned by digest (value: "registry.example.net/distroless/static-debian12"). Fix: use image:tag@sha256:<digest>'],
  },
  { rule: "unpinned FROM without requireDigest", dockerfile: edit(1, "FROM golang:1.22 AS build"), options: { requireDigest: false }, expected: [] },
  {
    rule: "FROM latest, pinned",
    dockerfile: edit(1, `FROM golang:latest@${DIGEST} AS build`),
    expected: [`Dockerfile:1: uses the mutable tag latest (value: "golang:latest@${DIGEST}"). Fix: pin a version and digest`],
  },
  {
    rule: "FROM latest, unpinned",
    dockerfile: edit(1, "FROM golang:latest AS build"),
    expected: [
      'Dockerfile:1: base is not pinned by digest (value: "golang:latest"). Fix: use image:tag@sha256:<digest>',
      'Dockerfile:1: uses the mutable tag latest (value: "golang:latest"). Fix: pin a version and digest',
    ],
  },
  { rule: "FROM an earlier stage", dockerfile: edit(8, "FROM build AS test", "RUN go vet ./...", `FROM ${RUNTIME} AS runtime`), expected: [] },
  {
    rule: "FROM a stage defined later (an image, not a stage)",
    dockerfile: edit(1, "FROM runtime AS build"),
    expected: ['Dockerfile:1: base is not pinned by digest (value: "runtime"). Fix: use image:tag@sha256:<digest>'],
  },
  { rule: "FROM scratch", dockerfile: edit(8, "FROM scratch AS runtime"), expected: [] },
  {
    rule: "ADD of a remote URL",
    dockerfile: edit(5, "ADD https://example.com/app.tar.gz /src/"),
    expected: ['Dockerfile:5: ADD fetches a remote URL (value: "https://example.com/app.tar.gz /src/"). Fix: download in a builder stage with a checksum check and COPY the result'],
  },
  {
    rule: "ADD of a git repository",
    dockerfile: edit(5, "ADD git@github.com:org/repo.git /src"),
    expected: ['Dockerfile:5: ADD fetches a remote URL (value: "git@github.com:org/repo.git /src"). Fix: download in a builder stage with a checksum check and COPY the result'],
  },
  { rule: "ADD of a local archive", dockerfile: edit(5, "ADD app.tar.gz /src/"), expected: [] },
  {
    rule: "secret ENV (key=value)",
    dockerfile: edit(3, 'ENV CGO_ENABLED="0" DB_PASSWORD="hunter2"'),
    expected: ['Dockerfile:3: ENV looks like a secret (value: "DB_PASSWORD"). Fix: use a BuildKit secret mount or a runtime secret store'],
  },
  {
    rule: "secret ENV (legacy form)",
    dockerfile: edit(3, "ENV GITHUB_TOKEN ghp_example"),
    expected: ['Dockerfile:3: ENV looks like a secret (value: "GITHUB_TOKEN"). Fix: use a BuildKit secret mount or a runtime secret store'],
  },
  {
    rule: "secret ARG without a default",
    dockerfile: edit(2, "ARG NPM_TOKEN"),
    expected: ['Dockerfile:2: ARG looks like a secret (value: "NPM_TOKEN"). Fix: use a BuildKit secret mount or a runtime secret store'],
  },
  {
    rule: "secret ARG with a default",
    dockerfile: edit(2, "ARG API_KEY=abc"),
    expected: ['Dockerfile:2: ARG looks like a secret (value: "API_KEY"). Fix: use a BuildKit secret mount or a runtime secret store'],
  },
  // Only names count: a quoted value whose words look like secrets is harmless.
  { rule: "ENV value that contains the word KEY", dockerfile: edit(3, 'ENV HINT="press any KEY to continue"'), expected: [] },
  { rule: "harmless ENV names", dockerfile: edit(3, "ENV KEYBOARD_LAYOUT=us MONKEY=1"), expected: [] },
  {
    rule: "relative WORKDIR",
    dockerfile: edit(10, "WORKDIR app"),
    expected: ['Dockerfile:10: WORKDIR is relative (value: "app"). Fix: use an absolute path'],
  },
  { rule: "WORKDIR from a variable", dockerfile: edit(10, "WORKDIR $HOME"), expected: [] },
  {
    rule: "no USER in the final stage",
    dockerfile: edit(11),
    expected: ["Dockerfile:8: final stage sets no USER (value: not set). Fix: add USER 65532:65532"],
  },
  {
    rule: "USER only in a builder stage",
    dockerfile: edit(11).replace("WORKDIR /src\n", "WORKDIR /src\nUSER 65532:65532\n"),
    expected: ["Dockerfile:9: final stage sets no USER (value: not set). Fix: add USER 65532:65532"],
  },
  {
    rule: "USER root",
    dockerfile: edit(11, "USER root"),
    expected: ['Dockerfile:11: final USER is not numeric (value: "root"). Fix: use USER 65532:65532'],
  },
  {
    rule: "USER nonroot (a name)",
    dockerfile: edit(11, "USER nonroot"),
    expected: ['Dockerfile:11: final USER is not numeric (value: "nonroot"). Fix: use USER 65532:65532'],
  },
  { rule: "USER 0", dockerfile: edit(11, "USER 0"), expected: ['Dockerfile:11: final USER is root (value: "0"). Fix: use USER 65532:65532'] },
  { rule: "USER 1000:0", dockerfile: edit(11, "USER 1000:0"), expected: ['Dockerfile:11: final USER is root (value: "1000:0"). Fix: use USER 65532:65532'] },
  {
    rule: "root while installing, non-root at the end",
    dockerfile: edit(9, "USER 0:0", "RUN [\"/busybox\", \"true\"]", 'COPY --from=build --chown=65532:65532 ["/out/app", "/app"]'),
    expected: [],
  },
  {
    rule: "back to root after the non-root USER",
    dockerfile: edit(12, 'ENTRYPOINT ["/app"]', "USER 0:0"),
    expected: ['Dockerfile:13: final USER is root (value: "0:0"). Fix: use USER 65532:65532'],
  },
  {
    rule: "shell-form ENTRYPOINT when shellless",
    dockerfile: edit(12, "ENTRYPOINT /app --serve"),
    expected: ['Dockerfile:12: ENTRYPOINT is shell form on a shell-less image (value: "/app --serve"). Fix: use exec form ["/app"]'],
  },
  {
    rule: "shell-form CMD when shellless",
    dockerfile: edit(12, 'ENTRYPOINT ["/app"]', "CMD --serve"),
    expected: ['Dockerfile:13: CMD is shell form on a shell-less image (value: "--serve"). Fix: use exec form ["/app"]'],
  },
  { rule: "shell-form ENTRYPOINT on an image with a shell", dockerfile: edit(12, "ENTRYPOINT /app --serve"), options: { shellless: false }, expected: [] },
  {
    rule: "shell-form CMD in a builder stage does not count",
    dockerfile: edit(6, "RUN go build -o /out/app .", "CMD go test ./..."),
    expected: [],
  },
  {
    rule: "duplicate stage names",
    dockerfile: edit(8, `FROM ${BUILDER} AS build`, "RUN go vet ./...", `FROM ${RUNTIME} AS runtime`),
    expected: ['Dockerfile:8: duplicate stage name (value: "build"). Fix: give every stage a unique name'],
  },
  {
    rule: "unknown instruction",
    dockerfile: edit(10, "WORKDIRR /app"),
    expected: ['Dockerfile:10: is not a Dockerfile instruction (value: "WORKDIRR"). Fix: use a known instruction'],
  },
  {
    rule: "no FROM at all",
    dockerfile: "# just a comment\nRUN true\n",
    expected: ['Dockerfile: has no FROM (value: "# just a comment\\nRUN true\\n"). Fix: start a stage with FROM'],
  },
  {
    rule: "a here-document in a builder RUN (BuildKit reads the next lines as its content)",
    dockerfile: edit(6, "RUN cat <<'EOF' > /out/app", "FROM scratch", "EOF"),
    expected: [
      `Dockerfile:6: RUN starts a here-document: BuildKit reads the lines after it as its content, not as instructions, up to its terminator line (value: "<<'EOF'"). Fix: put the content in a file in the build context and COPY it`,
    ],
  },
  {
    rule: "a here-document with a file descriptor in a COPY",
    dockerfile: edit(5, "COPY 0<<EOF /src/x"),
    expected: [
      'Dockerfile:5: COPY starts a here-document: BuildKit reads the lines after it as its content, not as instructions, up to its terminator line (value: "0<<EOF"). Fix: put the content in a file in the build context and COPY it',
    ],
  },
  {
    rule: "the renderer's scratch account files, verbatim, are the here-documents it accepts",
    dockerfile: edit(9, ...SCRATCH_ACCOUNT_COPIES.flatMap((c) => c.split("\n")), HARDENED[8]),
    expected: [],
  },
  {
    rule: "an account here-document that is not the renderer's, by one line",
    dockerfile: edit(9, ...SCRATCH_ACCOUNT_COPIES[0].replace("nonroot:x:65532", "root:x:0:0:r00t:/:/bin/sh\nnonroot:x:65532").split("\n"), HARDENED[8]),
    expected: [
      'Dockerfile:9: COPY starts a here-document: BuildKit reads the lines after it as its content, not as instructions, up to its terminator line (value: "<<EOF"). Fix: put the content in a file in the build context and COPY it',
    ],
  },
  { rule: "exec-form RUN with << inside an argument is no here-document", dockerfile: edit(6, 'RUN ["/bin/sh", "-c", "echo $((1<<3)) > /out/app"]'), expected: [] },
  {
    rule: "RUN with the host network",
    dockerfile: edit(6, "RUN --network=host go build -o /out/app ."),
    expected: ['Dockerfile:6: RUN escapes the build sandbox (value: "--network=host"). Fix: remove the flag'],
  },
  { rule: "RUN with a secret mount is fine", dockerfile: edit(6, "RUN --mount=type=secret,id=npm go build -o /out/app ."), expected: [] },
  {
    rule: "a secret-looking ENV value under a harmless name",
    dockerfile: edit(3, 'ENV CGO_ENABLED="0" NOTE="ghp_abcdefghijklmnopqrstuvwxyz0123456789"'),
    expected: ['Dockerfile:3: ENV NOTE holds what looks like a GitHub token (value: "NOTE"). Fix: use a BuildKit secret mount or a runtime secret store'],
  },
  {
    rule: "a secret name BuildKit also warns on (GITHUB_PAT)",
    dockerfile: edit(2, "ARG GITHUB_PAT"),
    expected: ['Dockerfile:2: ARG looks like a secret (value: "GITHUB_PAT"). Fix: use a BuildKit secret mount or a runtime secret store'],
  },
];

describe("lintDockerfile", () => {
  it.each(ROWS.map((r) => [r.rule, r] as const))("GIVEN %s WHEN linted THEN it reports exactly the expected issues", (_rule, row) => {
    // GIVEN row.dockerfile (row.options, default requireDigest and shellless)
    // WHEN
    const issues = lintDockerfile(row.dockerfile, row.options).map(formatIssue);
    // THEN
    expect(issues).toEqual(row.expected);
  });

  it("GIVEN the hardened file WHEN linted with every option explicit THEN it passes with no issue", () => {
    // GIVEN
    const text = `${HARDENED.join("\n")}\n`;
    // WHEN / THEN
    expect(lintDockerfile(text, { requireDigest: true, shellless: true })).toEqual([]);
  });

  it("GIVEN a file with four problems WHEN linted THEN all four are reported in order", () => {
    // GIVEN
    const text = [
      "FROM golang:1.22 AS build", // 1: unpinned
      "ARG GH_TOKEN", // 2: secret
      "FROM scratch AS runtime", // 3
      'COPY --from=build ["/out/app", "/app"]', // 4
      "USER root", // 5: not numeric
      "ENTRYPOINT /app", // 6: shell form
    ].join("\n");
    // WHEN
    const issues = lintDockerfile(text).map(formatIssue);
    // THEN
    expect(issues).toEqual([
      'Dockerfile:1: base is not pinned by digest (value: "golang:1.22"). Fix: use image:tag@sha256:<digest>',
      'Dockerfile:2: ARG looks like a secret (value: "GH_TOKEN"). Fix: use a BuildKit secret mount or a runtime secret store',
      'Dockerfile:5: final USER is not numeric (value: "root"). Fix: use USER 65532:65532',
      'Dockerfile:6: ENTRYPOINT is shell form on a shell-less image (value: "/app"). Fix: use exec form ["/app"]',
    ]);
  });
});
