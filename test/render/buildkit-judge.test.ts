/**
 * BuildKit's own parser (tools/dockerfile-judge) as the judge of every rendered Dockerfile, next
 * to dockerfile-ast: each flavor's fixture, each golden file and each image of each stack is read
 * by BuildKit exactly as the renderer meant it (stages, final stage, instructions, flags,
 * arguments, user, no here-document but scratch's fixed account files). Needs Go and the module
 * proxy once; fails, never skips, when the judge cannot be built.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { renderDockerfile, resolveImage } from "../../components/render";
import { FLAVORS } from "../../components/spec";
import { configValuesFromStackFile, parseStackConfig } from "../../stacks/config";
import { judgeDockerfile, judgeDockerfiles, judgeProblems } from "../helpers/buildkit-judge";
import { flavorFixture, PROD } from "./fixtures";

const ROOT = path.join(__dirname, "..", "..");

describe("BuildKit reads every rendered Dockerfile as the renderer means it", () => {
  const cases = [
    ...FLAVORS.map((flavor) => ({ title: `fixture ${flavor}`, spec: flavorFixture(flavor), policy: PROD })),
    ...["dev", "staging", "prod"].flatMap((env) => {
      const config = parseStackConfig(configValuesFromStackFile(YAML.parse(fs.readFileSync(path.join(ROOT, `Pulumi.${env}.yaml`), "utf8"))));
      return config.images.map((spec) => ({ title: `stack ${env} image ${spec.name}`, spec, policy: config.policy }));
    }),
  ];
  const judgements = judgeDockerfiles(cases.map((c) => renderDockerfile(c.spec, c.policy)));

  it.each(cases.map((c, i) => [c.title, i] as const))("%s", (_title, i) => {
    // GIVEN the rendered Dockerfile WHEN BuildKit reads it THEN it sees exactly the intended build
    expect(judgeProblems(judgements[i], resolveImage(cases[i].spec, cases[i].policy))).toEqual([]);
  });

  it.each(FLAVORS.map((f) => [f]))("the golden file of %s is the fixture's rendering, which BuildKit accepts with no warning", (flavor) => {
    const text = fs.readFileSync(path.join(ROOT, "test", "golden", `${flavor}.Dockerfile`), "utf8");
    const judgement = judgeDockerfile(text);
    expect(judgement.error).toBe("");
    expect(judgement.warnings).toEqual([]);
    expect(judgement.stages[judgement.final].name).toBe("runtime");
  });
});

describe("the judge can tell the renderer's hardening from a near miss", () => {
  const scratch = flavorFixture("scratch");
  const text = renderDockerfile(scratch, PROD);
  const problemsOf = (changed: string) => judgeProblems(judgeDockerfile(changed), resolveImage(scratch, PROD));

  it("GIVEN scratch's account file (here-document form) with one more account THEN a here-document it did not mean", () => {
    const bare = { ...scratch, builders: [], copy: [{ src: "app", dest: "/app" }], entrypoint: ["/app"] };
    const heredoc = renderDockerfile(bare, PROD);
    const tampered = heredoc.replace("nobody:x:65534:65534:", "toor:x:0:0:toor:/:/bin/sh\nnobody:x:65534:65534:");
    expect(tampered).not.toBe(heredoc);
    expect(judgeProblems(judgeDockerfile(heredoc), resolveImage(bare, PROD))).toEqual([]);
    expect(judgeProblems(judgeDockerfile(tampered), resolveImage(bare, PROD))).toEqual([expect.stringMatching(/^stage 0 \(runtime\): a here-document "EOF" on line \d+ swallows lines/)]);
  });

  it("GIVEN scratch's accounts written by the builder with one more account THEN a command it did not mean", () => {
    const tampered = text.replace("'nobody:x:65534:65534:", "'toor:x:0:0:toor:/:/bin/sh' 'nobody:x:65534:65534:");
    expect(tampered).not.toBe(text);
    expect(problemsOf(tampered).join("\n")).toMatch(/stage 0 \(build\) instruction 4 \(RUN, line \d+\): arguments .*toor/);
  });

  it("GIVEN a builder stage without the setuid strip THEN BuildKit sees one instruction less than meant", () => {
    const stripped = text.replace('RUN ["/bin/sh","-c","find / -xdev -type f -perm /6000 -exec chmod a-s {} +"]\n', "");
    expect(stripped).not.toBe(text);
    expect(problemsOf(stripped)).toContain("stage 0 (build): BuildKit sees 4 instructions (WORKDIR COPY RUN RUN), the spec means 5 (WORKDIR COPY RUN RUN RUN)");
  });
});
