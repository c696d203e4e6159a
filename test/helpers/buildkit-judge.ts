/**
 * BuildKit's own reading of a Dockerfile, as the judge of what the renderer produced: the
 * Go program in tools/dockerfile-judge (BuildKit v0.16.0's parser, instruction layer and lint
 * pass), built by scripts/install-go-tool.sh and cached by content. A test that needs it fails
 * when it cannot be built; it never skips. `GOLDEN_DOCKERFILE_JUDGE=/path` uses a given binary.
 *
 * `judgeProblems` compares BuildKit's view with the renderer's intent, stated here from the
 * resolved image independently of the renderer: the stages and their bases, the final stage,
 * the instruction sequence with its flags and arguments, the user, and no here-document but the
 * fixed account files of a scratch image.
 */
import { spawnSync } from "child_process";
import * as os from "os";
import * as path from "path";
import { imageLabels } from "../../components/render/dockerfile";
import { ResolvedImage } from "../../components/render/resolve";
import { isSecretName, RUNTIME_STAGE } from "../../components/render/validate";
import { projectRoot } from "./root";

const ROOT = projectRoot();

export interface JudgedInstruction {
  readonly keyword: string;
  readonly flags: readonly string[];
  readonly args: readonly string[];
  /** Arguments after BuildKit's word expansion (quotes, escapes, variables unset), for the instructions it expands. */
  readonly expanded: readonly string[] | null;
  readonly json: boolean;
  readonly heredocs: readonly { readonly name: string; readonly content: string }[];
  readonly startLine: number;
  readonly endLine: number;
  readonly original: string;
}

export interface JudgedStage {
  readonly name: string;
  readonly base: string;
  readonly platform: string;
  readonly instructions: readonly JudgedInstruction[];
}

export interface Judgement {
  /** BuildKit's refusal (parse, instruction or conversion error); "" when it accepts the file. */
  readonly error: string;
  readonly warnings: readonly { readonly rule: string; readonly message: string; readonly line: number }[];
  readonly metaArgs: readonly JudgedInstruction[];
  readonly stages: readonly JudgedStage[];
  /** Index of the stage a plain build produces, -1 when none. */
  readonly final: number;
}

let binary: string | undefined;

/** The judge's binary, built on first use (about half a minute on a new machine, a hash after that). */
export function judgeBinary(): string {
  if (binary !== undefined) {
    return binary;
  }
  const given = process.env.GOLDEN_DOCKERFILE_JUDGE;
  if (given !== undefined && given !== "") {
    binary = given;
    return binary;
  }
  // Jest runs test files in parallel workers: one build at a time (the others then find it cached).
  const lock = path.join(os.tmpdir(), "golden-dockerfile-judge.lock");
  const built = spawnSync("flock", [lock, "bash", path.join(ROOT, "scripts", "install-go-tool.sh"), "dockerfile-judge"], { encoding: "utf8", timeout: 15 * 60 * 1000 });
  const out = (built.stdout ?? "").trim().split("\n").pop() ?? "";
  if (built.status !== 0 || out === "") {
    throw new Error(
      `the BuildKit judge (tools/dockerfile-judge) could not be built: ${(built.stderr ?? "").trim() || built.error?.message || `exit ${built.status}`}. ` +
        "Fix: install Go 1.22+ and let it reach the Go module proxy, or set GOLDEN_DOCKERFILE_JUDGE to a built dockerfile-judge",
    );
  }
  binary = out;
  return binary;
}

/** BuildKit's view of each Dockerfile, in one run of the judge. */
export function judgeDockerfiles(texts: readonly string[]): Judgement[] {
  if (texts.length === 0) {
    return [];
  }
  const input = texts.map((t) => JSON.stringify(t)).join("\n") + "\n";
  const run = spawnSync(judgeBinary(), ["-batch"], { input, encoding: "utf8", maxBuffer: 1024 * 1024 * 1024, timeout: 10 * 60 * 1000 });
  if (run.status !== 0) {
    throw new Error(`dockerfile-judge failed (exit ${run.status}): ${(run.stderr ?? "").trim() || run.error?.message}`);
  }
  const lines = run.stdout.split("\n").filter((l) => l !== "");
  if (lines.length !== texts.length) {
    throw new Error(`dockerfile-judge answered ${lines.length} results for ${texts.length} Dockerfiles`);
  }
  return lines.map((l) => JSON.parse(l) as Judgement);
}

export function judgeDockerfile(text: string): Judgement {
  return judgeDockerfiles([text])[0];
}

/** One instruction the renderer means to write; undefined fields are not compared. */
interface Intended {
  readonly keyword: string;
  readonly flags: readonly string[];
  readonly json?: boolean;
  readonly args?: readonly string[];
  /** For ARG, ENV and LABEL: the keys, in order. */
  readonly keys?: readonly string[];
  /** For ARG, ENV and LABEL: the values as BuildKit must read them (after expansion), in key order. */
  readonly values?: readonly string[];
  /** Arguments BuildKit expands must expand to themselves (COPY, WORKDIR, USER, EXPOSE). */
  readonly literal?: boolean;
  /** The here-documents meant (name and content); any other here-document is a problem. */
  readonly heredocs?: readonly { readonly name: string; readonly content: string }[];
}

interface IntendedStage {
  readonly name: string;
  readonly base: string;
  /** FROM's --platform ("" for none). */
  readonly platform: string;
  readonly instructions: readonly Intended[];
}

/** Strict hardening's setuid/setgid strip (CIS Docker Benchmark 4.8), as a builder stage runs it. */
const STRIP_SETID = "find / -xdev -type f -perm /6000 -exec chmod a-s {} +";

/** The builder step writing scratch's account files (from the intent: root, nobody, nonroot 65532). */
const ACCOUNTS_SCRIPT =
  "mkdir -p /golden-accounts" +
  " && printf '%s\\n' 'root:x:0:0:root:/root:/sbin/nologin' 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' 'nonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin' > /golden-accounts/passwd" +
  " && printf '%s\\n' 'root:x:0:' 'nobody:x:65534:' 'nonroot:x:65532:' > /golden-accounts/group";

/** A scratch runtime's account files as here-documents (when no builder is copied from). */
const SCRATCH_ACCOUNTS: readonly Intended[] = [
  {
    keyword: "COPY",
    flags: [],
    json: false,
    args: ["<<EOF", "/etc/passwd"],
    heredocs: [{ name: "EOF", content: "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin\n" }],
  },
  { keyword: "COPY", flags: [], json: false, args: ["<<EOF", "/etc/group"], heredocs: [{ name: "EOF", content: "root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n" }] },
];

/** The account a shell runtime gets for a numeric user (written here from the intent, not imported). */
const ACCOUNT_SCRIPT =
  'grep -q "^[^:]*:[^:]*:$1:" /etc/passwd || echo "nonroot:x:$1:$2:nonroot:/nonexistent:/sbin/nologin" >> /etc/passwd; ' +
  'grep -q "^[^:]*:[^:]*:$2:" /etc/group || echo "nonroot:x:$2:" >> /etc/group';
const APT_SCRIPT = 'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends -- "$@" && apt-get clean && rm -rf /var/lib/apt/lists/*';

/** The stages and instructions a resolved image should give, as BuildKit would read them. */
export function intendedStages(image: ResolvedImage): IntendedStage[] {
  const argLines = (): Intended[] => Object.keys(image.args).sort().map((k) => ({ keyword: "ARG", flags: [], keys: [k], values: [image.args[k]] }));
  const map = (keyword: string, m: Readonly<Record<string, string>>): Intended => ({ keyword, flags: [], keys: Object.keys(m).sort(), values: Object.keys(m).sort().map((k) => m[k]) });
  const install = (manager: string, packages: readonly string[]): Intended => {
    const list = Array.from(new Set(packages)).sort();
    return {
      keyword: "RUN",
      flags: [],
      json: true,
      args: manager === "apk" ? ["apk", "add", "--no-cache", "--", ...list] : ["/bin/sh", "-c", APT_SCRIPT, "apt-get", ...list],
    };
  };
  const exec = (command: readonly string[] | string): readonly string[] => (typeof command === "string" ? ["/bin/sh", "-c", command] : command);
  // Several platforms, or another one than the default: builders run on the build platform and
  // read the target from TARGETOS/TARGETARCH (no emulation).
  const cross = image.platforms.length > 1 || image.platforms[0] !== "linux/amd64";
  const stages: IntendedStage[] = image.builders.map((b) => ({
    name: b.name,
    base: b.image,
    platform: cross ? "$BUILDPLATFORM" : "",
    instructions: [
      ...(cross ? ["TARGETOS", "TARGETARCH"].map((k) => ({ keyword: "ARG", flags: [], keys: [k] })) : []),
      ...argLines(),
      ...(Object.keys(b.env).length > 0 ? [map("ENV", b.env)] : []),
      { keyword: "WORKDIR", flags: [], args: [b.workdir], literal: true },
      ...(b.packages.length > 0 ? [install(b.packageManager, b.packages)] : []),
      ...b.copy.map((c) => ({ keyword: "COPY", flags: c.from !== undefined ? [`--from=${c.from}`] : [], json: true, args: [c.src, c.dest], literal: true })),
      ...b.run.map((cmd) => ({ keyword: "RUN", flags: [], json: true, args: ["/bin/sh", "-c", cmd] })),
      // Strict: a stage the runtime copies from ends without setuid or setgid files.
      ...(image.hardening === "strict" && image.copy.some((c) => c.from === b.name) ? [{ keyword: "RUN", flags: [], json: true, args: ["/bin/sh", "-c", STRIP_SETID] }] : []),
    ],
  }));
  // scratch: the account files come from the first builder the runtime copies from, which writes
  // them last; here-documents only when there is none.
  const builderNames = new Set(image.builders.map((b) => b.name));
  const accountsFrom = image.flavor === "scratch" ? image.copy.find((c) => c.from !== undefined && builderNames.has(c.from))?.from : undefined;
  if (accountsFrom !== undefined) {
    const stage = stages.find((st) => st.name === accountsFrom) as IntendedStage;
    (stage.instructions as Intended[]).push({ keyword: "RUN", flags: [], json: true, args: ["/bin/sh", "-c", ACCOUNTS_SCRIPT] });
  }
  const runtime: Intended[] = [
    ...argLines(),
    ...(image.flavor !== "scratch"
      ? []
      : accountsFrom !== undefined
        ? ["passwd", "group"].map((f) => ({ keyword: "COPY", flags: [`--from=${accountsFrom}`], json: true, args: [`/golden-accounts/${f}`, `/etc/${f}`], literal: true }))
        : SCRATCH_ACCOUNTS),
  ];
  if (image.packages.length > 0) {
    const manager = image.runtimePackageManager !== "none" ? image.runtimePackageManager : image.flavor === "alpine" ? "apk" : "apt";
    runtime.push({ keyword: "USER", flags: [], args: ["0:0"], literal: true }, install(manager, image.packages));
  }
  // A shell runtime gets an account for a numeric user (its ids as the script's arguments), as root.
  const ids = /^(\d+)(?::(\d+))?$/.exec(image.user);
  const shellRuntime = image.flavor === "debian-slim" || image.flavor === "alpine";
  const account = shellRuntime && ids !== null;
  const strip = image.hardening === "strict" && shellRuntime;
  if (image.packages.length === 0 && (account || strip)) {
    runtime.push({ keyword: "USER", flags: [], args: ["0:0"] });
  }
  if (account) {
    runtime.push({ keyword: "RUN", flags: [], json: true, args: ["/bin/sh", "-c", ACCOUNT_SCRIPT, "account", ids[1], ids[2] ?? ids[1]] });
  }
  if (strip) {
    runtime.push({ keyword: "RUN", flags: [], json: false });
  }
  runtime.push(
    ...image.copy.map((c) => ({
      keyword: "COPY",
      flags: [...(c.from !== undefined ? [`--from=${c.from}`] : []), `--chown=${image.user}`],
      json: true,
      args: [c.src, c.dest],
      literal: true,
    })),
  );
  if (Object.keys(image.env).length > 0) {
    runtime.push(map("ENV", image.env));
  }
  if (image.workdir !== undefined) {
    runtime.push({ keyword: "WORKDIR", flags: [], args: [image.workdir], literal: true });
  }
  runtime.push(map("LABEL", imageLabels(image)));
  if (image.expose.length > 0) {
    runtime.push({ keyword: "EXPOSE", flags: [], args: Array.from(new Set(image.expose)).sort(), literal: true });
  }
  runtime.push({ keyword: "USER", flags: [], args: [image.user], literal: true });
  if (image.healthcheck !== undefined) {
    const h = image.healthcheck;
    runtime.push({
      keyword: "HEALTHCHECK",
      flags: [`--interval=${h.interval}`, `--timeout=${h.timeout}`, ...(h.startPeriod !== undefined ? [`--start-period=${h.startPeriod}`] : []), `--retries=${h.retries}`],
      json: true,
      args: ["CMD", ...h.test],
    });
  }
  if (image.entrypoint !== undefined) {
    runtime.push({ keyword: "ENTRYPOINT", flags: [], json: true, args: exec(image.entrypoint) });
  }
  if (image.cmd !== undefined) {
    runtime.push({ keyword: "CMD", flags: [], json: true, args: exec(image.cmd) });
  }
  stages.push({ name: RUNTIME_STAGE, base: image.base ?? "scratch", platform: "", instructions: runtime });
  return stages;
}

/** ENV and LABEL arguments come in (key, value, separator) triples. */
function keysOf(instruction: JudgedInstruction): string[] {
  const keys: string[] = [];
  for (let i = 0; i < instruction.args.length; i += 3) {
    keys.push(instruction.args[i]);
  }
  return keys;
}

/** ARG arguments are `NAME=value`. */
function argName(instruction: JudgedInstruction): string[] {
  return instruction.args.map((a) => a.split("=")[0]);
}

/** The expanded values of ARG (`NAME=value`) or of ENV and LABEL (the middle of each triple). */
function valuesOf(instruction: JudgedInstruction): string[] {
  const expanded = instruction.expanded ?? [];
  return instruction.keyword === "ARG" ? [...expanded] : expanded.filter((_v, i) => i % 3 === 1);
}

/**
 * Where BuildKit's view differs from the renderer's intent; [] when BuildKit builds exactly the
 * stages, final stage, instructions (flags and arguments), user and no here-document meant.
 */
export function judgeProblems(judgement: Judgement, image: ResolvedImage): string[] {
  const problems: string[] = [];
  if (judgement.error !== "") {
    problems.push(`BuildKit refuses it: ${judgement.error}`);
  }
  for (const w of judgement.warnings) {
    // BuildKit warns on any name with a secret word; the validator accepts names about a secret (DB_PASSWORD_FILE).
    const name = /\((?:ARG|ENV) "([^"]+)"\)/.exec(w.message)?.[1];
    if (!(w.rule === "SecretsUsedInArgOrEnv" && name !== undefined && !isSecretName(name))) {
      problems.push(`BuildKit warns ${w.rule} on line ${w.line}: ${w.message}`);
    }
  }
  if (judgement.metaArgs.length > 0) {
    problems.push(`instructions before the first FROM: ${judgement.metaArgs.map((i) => i.keyword).join(", ")}`);
  }
  const intended = intendedStages(image);
  const seen = judgement.stages;
  if (seen.length !== intended.length) {
    problems.push(`BuildKit sees ${seen.length} stages (${seen.map((s) => s.name || "?").join(", ")}), the spec means ${intended.length} (${intended.map((s) => s.name).join(", ")})`);
  }
  if (judgement.final !== seen.length - 1 || seen[judgement.final]?.name !== RUNTIME_STAGE) {
    problems.push(`the final stage is "${seen[judgement.final]?.name ?? "none"}", not "${RUNTIME_STAGE}"`);
  }
  intended.forEach((want, s) => {
    const got = seen[s];
    if (got === undefined) {
      return;
    }
    const at = `stage ${s} (${want.name})`;
    if (got.name !== want.name) {
      problems.push(`${at}: BuildKit names it "${got.name}"`);
    }
    if (got.base !== want.base) {
      problems.push(`${at}: BuildKit builds it FROM "${got.base}", the spec means "${want.base}"`);
    }
    if ((got.platform ?? "") !== want.platform) {
      problems.push(`${at}: BuildKit builds it for platform "${got.platform}", the spec means "${want.platform}"`);
    }
    if (got.instructions.length !== want.instructions.length) {
      problems.push(
        `${at}: BuildKit sees ${got.instructions.length} instructions (${got.instructions.map((i) => i.keyword).join(" ")}), the spec means ${want.instructions.length} (${want.instructions.map((i) => i.keyword).join(" ")})`,
      );
    }
    want.instructions.forEach((w, i) => {
      const g = got.instructions[i];
      if (g === undefined) {
        return;
      }
      const where = `${at} instruction ${i} (${w.keyword}, line ${g.startLine})`;
      if (g.keyword !== w.keyword) {
        problems.push(`${where}: BuildKit reads ${g.keyword}`);
        return;
      }
      if (JSON.stringify(g.flags) !== JSON.stringify(w.flags)) {
        problems.push(`${where}: flags ${JSON.stringify(g.flags)}, meant ${JSON.stringify(w.flags)}`);
      }
      if (w.json !== undefined && g.json !== w.json) {
        problems.push(`${where}: ${g.json ? "exec (JSON) form" : "shell form"}, meant ${w.json ? "exec form" : "shell form"}`);
      }
      if (w.args !== undefined && JSON.stringify(g.args) !== JSON.stringify(w.args)) {
        problems.push(`${where}: arguments ${JSON.stringify(g.args).slice(0, 300)}, meant ${JSON.stringify(w.args).slice(0, 300)}`);
      }
      if (w.keys !== undefined) {
        const keys = w.keyword === "ARG" ? argName(g) : keysOf(g);
        if (JSON.stringify(keys) !== JSON.stringify(w.keys)) {
          problems.push(`${where}: keys ${JSON.stringify(keys)}, meant ${JSON.stringify(w.keys)}`);
        }
      }
      if (w.values !== undefined && JSON.stringify(valuesOf(g)) !== JSON.stringify(w.values)) {
        problems.push(`${where}: BuildKit reads the values ${JSON.stringify(valuesOf(g)).slice(0, 300)}, meant ${JSON.stringify(w.values).slice(0, 300)}`);
      }
      if (w.literal === true && JSON.stringify(g.expanded) !== JSON.stringify(g.args)) {
        problems.push(`${where}: BuildKit expands ${JSON.stringify(g.args).slice(0, 200)} to ${JSON.stringify(g.expanded).slice(0, 200)}`);
      }
    });
    got.instructions.forEach((g, i) => {
      const meant = want.instructions[i]?.heredocs ?? [];
      const seenDocs = g.heredocs.map((h) => ({ name: h.name, content: h.content }));
      if (g.heredocs.length > 0 && JSON.stringify(seenDocs) !== JSON.stringify(meant)) {
        problems.push(`${at}: a here-document ${JSON.stringify(g.heredocs[0].name)} on line ${g.startLine} swallows lines ${g.startLine + 1}-${g.endLine}`);
      } else if (g.heredocs.length === 0 && meant.length > 0) {
        problems.push(`${at}: no here-document on line ${g.startLine}, meant ${JSON.stringify(meant[0].name)}`);
      }
    });
  });
  const users = seen[judgement.final]?.instructions.filter((i) => i.keyword === "USER") ?? [];
  const lastUser = users[users.length - 1]?.args[0];
  if (lastUser !== image.user) {
    problems.push(`the final stage runs as ${lastUser === undefined ? "root (no USER)" : JSON.stringify(lastUser)}, not ${JSON.stringify(image.user)}`);
  }
  return problems;
}
