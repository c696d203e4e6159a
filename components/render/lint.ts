/**
 * A policy check on any Dockerfile text, read by a real Dockerfile parser (dockerfile-ast).
 * The renderer's output must pass it; it also judges hand-written Dockerfiles the same way.
 */
import { Arg, DockerfileParser, Env, Instruction } from "dockerfile-ast";
import { ValidationIssue } from "./issues";
import { SECRET_NAME } from "./validate";

export interface LintOptions {
  /** Require every FROM of an image (not scratch, not an earlier stage) to carry a digest. @default true */
  readonly requireDigest?: boolean;
  /** The final image has no shell, so ENTRYPOINT/CMD must be exec form. @default true */
  readonly shellless?: boolean;
}

const KNOWN = new Set(["ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"]);

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
        if (SECRET_NAME.test(name)) {
          issues.push({ path: where(instruction), value: name, problem: `${keyword} looks like a secret`, fix: "use a BuildKit secret mount or a runtime secret store" });
        }
      }
    }
    if (keyword === "WORKDIR" && args.length > 0 && !args[0].startsWith("/") && !args[0].startsWith("$")) {
      issues.push({ path: where(instruction), value: args[0], problem: "WORKDIR is relative", fix: "use an absolute path" });
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
