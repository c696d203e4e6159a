/**
 * A policy check on any Dockerfile text, read by a real Dockerfile parser (dockerfile-ast).
 * The renderer's output must pass it; it also judges hand-written Dockerfiles the same way.
 */
import { Arg, DockerfileParser, Env, Instruction, Run } from "dockerfile-ast";
import { SCRATCH_ACCOUNT_COPIES } from "./dockerfile";
import { ValidationIssue } from "./issues";
import { isSecretName, secretValueKind } from "./validate";

export interface LintOptions {
  /** Require every FROM of an image (not scratch, not an earlier stage) to carry a digest. @default true */
  readonly requireDigest?: boolean;
  /** The final image has no shell, so ENTRYPOINT/CMD must be exec form. @default true */
  readonly shellless?: boolean;
}

const KNOWN = new Set(["ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"]);

/** Instructions BuildKit reads here-documents in (unless they are in JSON form). */
const HEREDOC_INSTRUCTIONS = new Set(["RUN", "COPY", "ADD", "ONBUILD"]);

/**
 * The first here-document marker BuildKit would see in an instruction's arguments, or undefined:
 * a word `[fd]<<[-]NAME` outside the JSON form. Words are split on blanks, quotes not honoured,
 * so it errs towards finding one (a quoted "<<" is reported too).
 */
export function heredocMarker(args: string): string | undefined {
  const rest = args.trim().replace(/^(?:--\S+\s+)*/, "");
  if (rest.startsWith("[")) {
    try {
      if (Array.isArray(JSON.parse(rest))) {
        return undefined;
      }
    } catch {
      // Not JSON: BuildKit falls back to shell form.
    }
  }
  return args.split(/\s+/).find((word) => /^["']?\d*<<-?[^<\s]/.test(word));
}

export function lintDockerfile(text: string, options: LintOptions = {}): ValidationIssue[] {
  const requireDigest = options.requireDigest ?? true;
  const shellless = options.shellless ?? true;
  const dockerfile = DockerfileParser.parse(text);
  const issues: ValidationIssue[] = [];
  const where = (i: Instruction) => `Dockerfile:${i.getRange().start.line + 1}`;

  for (const instruction of dockerfile.getInstructions()) {
    if (!KNOWN.has(instruction.getKeyword())) {
      issues.push({ path: where(instruction), value: instruction.getKeyword(), problem: "is not a Dockerfile instruction", fix: "use a known instruction" });
    }
  }
  const froms = dockerfile.getFROMs();
  if (froms.length === 0) {
    issues.push({ path: "Dockerfile", value: text.slice(0, 40), problem: "has no FROM", fix: "start a stage with FROM" });
    return issues;
  }
  const stages = new Set<string>();
  for (const from of froms) {
    const image = from.getImage() ?? "";
    const stage = from.getBuildStage();
    const isStageRef = stages.has(image);
    if (image !== "scratch" && !isStageRef) {
      if (requireDigest && from.getImageDigest() === null) {
        issues.push({ path: where(from), value: image, problem: "base is not pinned by digest", fix: "use image:tag@sha256:<digest>" });
      }
      if (from.getImageTag() === "latest") {
        issues.push({ path: where(from), value: image, problem: "uses the mutable tag latest", fix: "pin a version and digest" });
      }
    }
    if (stage !== null) {
      if (stages.has(stage)) {
        issues.push({ path: where(from), value: stage, problem: "duplicate stage name", fix: "give every stage a unique name" });
      }
      stages.add(stage);
    }
  }
  for (const instruction of dockerfile.getInstructions()) {
    const keyword = instruction.getKeyword();
    const args = instruction.getArguments().map((a) => a.getValue());
    if (keyword === "ADD" && args.some((a) => /^[a-z][a-z0-9+.-]*:\/\//i.test(a) || a.startsWith("git@"))) {
      issues.push({ path: where(instruction), value: args.join(" "), problem: "ADD fetches a remote URL", fix: "download in a builder stage with a checksum check and COPY the result" });
    }
    // Property names from the parser: whitespace-split arguments would test words of quoted values too.
    if (instruction instanceof Env || instruction instanceof Arg) {
      for (const property of instruction.getProperties()) {
        const name = property.getName();
        if (isSecretName(name)) {
          issues.push({ path: where(instruction), value: name, problem: `${keyword} looks like a secret`, fix: "use a BuildKit secret mount or a runtime secret store" });
        }
        const kind = secretValueKind(property.getValue() ?? "");
        if (kind !== undefined) {
          issues.push({ path: where(instruction), value: name, problem: `${keyword} ${name} holds what looks like ${kind}`, fix: "use a BuildKit secret mount or a runtime secret store" });
        }
      }
    }
    if (keyword === "WORKDIR" && args.length > 0 && !args[0].startsWith("/") && !args[0].startsWith("$")) {
      issues.push({ path: where(instruction), value: args[0], problem: "WORKDIR is relative", fix: "use an absolute path" });
    }
  }

  // A here-document makes BuildKit read the lines after it as content, not instructions, so the
  // stages below (the ones this lint judges) may not be what BuildKit builds.
  const lines = text.split("\n");
  for (const instruction of dockerfile.getInstructions()) {
    const keyword = instruction.getKeyword();
    if (HEREDOC_INSTRUCTIONS.has(keyword)) {
      const start = instruction.getRange().start.line;
      const end = instruction.getRange().end.line;
      const source = lines.slice(start, end + 1).join("\n");
      const marker = heredocMarker(source.slice(source.toUpperCase().indexOf(keyword) + keyword.length));
      // The renderer's own account files of a scratch image, verbatim: fixed text, known end.
      if (marker !== undefined && !SCRATCH_ACCOUNT_COPIES.includes(source)) {
        issues.push({
          path: where(instruction),
          value: marker,
          problem: `${keyword} starts a here-document: BuildKit reads the lines after it as its content, not as instructions, up to its terminator line`,
          fix: "put the content in a file in the build context and COPY it",
        });
      }
    }
    if (instruction instanceof Run) {
      for (const flag of instruction.getFlags()) {
        const text = `--${flag.getName()}=${flag.getValue() ?? ""}`;
        if (text === "--network=host" || text === "--security=insecure") {
          issues.push({ path: where(instruction), value: text, problem: "RUN escapes the build sandbox", fix: "remove the flag" });
        }
      }
    }
  }

  // The final stage decides who and what runs.
  const finalFrom = froms[froms.length - 1];
  const finalLine = finalFrom.getRange().start.line;
  const finalInstructions = dockerfile.getInstructions().filter((i) => i.getRange().start.line >= finalLine);
  const users = finalInstructions.filter((i) => i.getKeyword() === "USER");
  const lastUser = users.length === 0 ? undefined : (users[users.length - 1].getArgumentsContent() ?? "").trim();
  if (lastUser === undefined) {
    issues.push({ path: where(finalFrom), value: undefined, problem: "final stage sets no USER", fix: "add USER 65532:65532" });
  } else {
    const m = /^(\d+)(?::(\d+))?$/.exec(lastUser);
    if (m === null) {
      issues.push({ path: where(users[users.length - 1]), value: lastUser, problem: "final USER is not numeric", fix: "use USER 65532:65532" });
    } else if (Number(m[1]) === 0 || (m[2] !== undefined && Number(m[2]) === 0)) {
      issues.push({ path: where(users[users.length - 1]), value: lastUser, problem: "final USER is root", fix: "use USER 65532:65532" });
    }
  }
  if (shellless) {
    for (const i of finalInstructions) {
      const keyword = i.getKeyword();
      if ((keyword === "ENTRYPOINT" || keyword === "CMD") && !(i.getArgumentsContent() ?? "").trim().startsWith("[")) {
        issues.push({ path: where(i), value: i.getArgumentsContent(), problem: `${keyword} is shell form on a shell-less image`, fix: "use exec form [\"/app\"]" });
      }
    }
  }
  return issues;
}
