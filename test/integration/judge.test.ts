/**
 * The external judge: Checkov (dockerfile framework, offline) over every rendered Dockerfile —
 * the golden files, each flavor's fixture rendered afresh, and every image of every stack
 * config. Zero failed checks, except those accepted in checkov-exceptions.yaml with a reason;
 * an exception that no longer matches a failure fails too, so the list cannot rot.
 *
 * Needs Checkov: `bash scripts/install-checkov.sh` (or GOLDEN_CHECKOV=/path/to/checkov).
 * Missing Checkov fails this test, locally and in CI; it never skips.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { renderDockerfile } from "../../components/render/dockerfile";
import { FLAVORS } from "../../components/spec";
import { configValuesFromStackFile, parseStackConfig } from "../../stacks/config";
import { flavorFixture, PROD } from "../render/fixtures";
import {
  CHECKOV_VERSION,
  CheckovException,
  CheckovReport,
  CheckResult,
  exceptionCovers,
  JudgedFile,
  loadExceptions,
  locateCheckov,
  runCheckov,
} from "./helpers/checkov";

const ROOT = path.join(__dirname, "..", "..");
const EXCEPTIONS_FILE = path.join(ROOT, "checkov-exceptions.yaml");
const STACKS = ["dev", "staging", "prod"] as const;

const fileName = (source: string, image: string) => `${source}--${image.replace(/[^A-Za-z0-9._-]+/g, "_")}.Dockerfile`;

/** Renders every Dockerfile to judge into `dir`; returns what each file is. */
function renderAll(dir: string): JudgedFile[] {
  const judged: JudgedFile[] = [];
  const write = (source: string, image: string, flavor: string, text: string) => {
    const file = fileName(source.replace(/\s+/g, "-"), image);
    if (judged.some((j) => j.file === file)) {
      throw new Error(`two judged Dockerfiles map to ${file}`);
    }
    fs.writeFileSync(path.join(dir, file), text);
    judged.push({ source, image, flavor, file });
  };
  for (const stack of STACKS) {
    const doc = YAML.parse(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8"));
    const config = parseStackConfig(configValuesFromStackFile(doc));
    for (const spec of config.images) {
      write(`stack ${stack}`, spec.name, spec.flavor, renderDockerfile(spec, config.policy));
    }
  }
  for (const flavor of FLAVORS) {
    const spec = flavorFixture(flavor);
    write("fixture", spec.name, flavor, renderDockerfile(spec, PROD));
  }
  const goldenDir = path.join(ROOT, "test", "golden");
  for (const name of fs.readdirSync(goldenDir).filter((f) => f.endsWith(".Dockerfile")).sort()) {
    const text = fs.readFileSync(path.join(goldenDir, name), "utf8");
    const header = /^# image: (\S+), flavor: (\S+),/m.exec(text);
    if (header === null) {
      throw new Error(`test/golden/${name} has no "# image: ..., flavor: ..." header line`);
    }
    write("golden file", header[1], header[2], text);
  }
  return judged;
}

const describeFinding = (r: CheckResult, t: JudgedFile | undefined) =>
  `${r.check_id} (${r.check_name}) in ${t ? `${t.source} image ${t.image} [${t.flavor}]` : "?"} ` +
  `${path.basename(r.file_path)} lines ${r.file_line_range.join("-")}`;

describe("Checkov judges every rendered Dockerfile", () => {
  let dir: string;
  let judged: JudgedFile[];
  let exceptions: CheckovException[];
  let report: CheckovReport;
  const byFile = new Map<string, JudgedFile>();
  const targetOf = (r: CheckResult) => byFile.get(path.basename(r.file_path));

  beforeAll(() => {
    exceptions = loadExceptions(EXCEPTIONS_FILE);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "golden-judge-"));
    judged = renderAll(dir);
    for (const j of judged) byFile.set(j.file, j);
    const checkov = locateCheckov(); // throws "checkov not installed: run bash scripts/install-checkov.sh"
    report = runCheckov(checkov, dir);
    // eslint-disable-next-line no-console
    console.log(
      `checkov ${report.summary.checkov_version}: ${judged.length} Dockerfiles, ${report.summary.passed} passed, ` +
        `${report.summary.failed} failed in ${report.seconds.toFixed(1)}s`,
    );
  }, 300_000);

  afterAll(() => {
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("runs the pinned Checkov version", () => {
    expect(report.summary.checkov_version).toBe(CHECKOV_VERSION);
  });

  it("judged the stacks' images, every flavor's fixture and every golden file", () => {
    const sources = new Set(judged.map((j) => j.source));
    expect([...sources].sort()).toEqual(["fixture", "golden file", ...STACKS.map((s) => `stack ${s}`)].sort());
    expect(judged.filter((j) => j.source === "fixture").map((j) => j.flavor)).toEqual([...FLAVORS]);
    expect(judged.filter((j) => j.source === "golden file").length).toBe(FLAVORS.length);
  });

  it("parsed every file and evaluated checks on each (an empty or broken run cannot pass)", () => {
    expect(report.parsingErrors).toEqual([]);
    const strays = [...report.passed, ...report.failed].filter((r) => targetOf(r) === undefined).map((r) => r.file_path);
    expect([...new Set(strays)]).toEqual([]);
    const passedPerFile = new Map<string, number>();
    for (const r of report.passed) {
      const file = path.basename(r.file_path);
      passedPerFile.set(file, (passedPerFile.get(file) ?? 0) + 1);
    }
    const notEvaluated = judged.filter((j) => (passedPerFile.get(j.file) ?? 0) === 0).map((j) => j.file);
    expect(notEvaluated).toEqual([]);
    expect(report.summary.passed).toBe(report.passed.length);
    expect(report.summary.failed).toBe(report.failed.length);
  });

  it("has no suppressed checks (suppress only through checkov-exceptions.yaml)", () => {
    expect(report.skipped.map((r) => describeFinding(r, targetOf(r)))).toEqual([]);
  });

  it("fails no check that is not an accepted exception", () => {
    const unexpected = report.failed
      .filter((r) => {
        const t = targetOf(r);
        return t === undefined || !exceptions.some((e) => exceptionCovers(e, r.check_id, t));
      })
      .map((r) => describeFinding(r, targetOf(r)));
    // Fix the renderer, or (only for an accepted risk) add the check with its reason to checkov-exceptions.yaml.
    expect(unexpected).toEqual([]);
  });

  it("lists only exceptions that are still needed, each image and flavor of them too", () => {
    const failures = report.failed.flatMap((r) => {
      const t = targetOf(r);
      return t === undefined ? [] : [{ check: r.check_id, target: t }];
    });
    const unused: string[] = [];
    for (const e of exceptions) {
      const used = failures.filter((f) => exceptionCovers(e, f.check, f.target));
      if (used.length === 0) {
        unused.push(`${e.check}: matches no failed check any more - remove it`);
        continue;
      }
      for (const image of e.images ?? []) {
        if (!used.some((f) => f.target.image === image)) unused.push(`${e.check}: image ${image} no longer fails it - remove it from images`);
      }
      for (const flavor of e.flavors ?? []) {
        if (!used.some((f) => f.target.flavor === flavor)) unused.push(`${e.check}: flavor ${flavor} no longer fails it - remove it from flavors`);
      }
    }
    expect(unused).toEqual([]);
  });

  it("names in its exceptions only flavors and images that exist", () => {
    const images = new Set(judged.map((j) => j.image));
    const unknown = exceptions.flatMap((e) => [
      ...(e.flavors ?? []).filter((f) => !(FLAVORS as readonly string[]).includes(f)).map((f) => `${e.check}: unknown flavor ${f}`),
      ...(e.images ?? []).filter((i) => !images.has(i)).map((i) => `${e.check}: unknown image ${i}`),
    ]);
    expect(unknown).toEqual([]);
  });
});
