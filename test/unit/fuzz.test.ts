/**
 * The boundary fuzz suite (test/helpers/fuzz.ts) at CI size: 3,600 malformed stack configs,
 * pipeline args and image specs through parseStackConfig, validateGoldenImagePipelineArgs and
 * renderDockerfile, every accepted Dockerfile judged by BuildKit's parser. The seed is printed
 * on every run; FUZZ_SEED replays one, FUZZ_RUNS changes the size (bench/fuzz-bench.ts runs 20,000).
 */
import { ENTRY_POINTS, formatReport, fuzzSettings, runFuzz } from "../helpers/fuzz";

const CI_RUNS = 3_600;
const { seed, runs } = fuzzSettings(CI_RUNS);

it(`GIVEN ${runs} malformed inputs (seed printed) WHEN they go through the user's entry points THEN 0 crash, 0 is accepted but unsafe, every path is well-formed`, () => {
  // Printed first, so a run that fails or times out can still be replayed.
  console.log(`fuzz: FUZZ_SEED=${seed} FUZZ_RUNS=${runs}`);
  // WHEN
  const report = runFuzz(seed, runs);
  console.log(formatReport(report));
  // THEN every finding is listed with its input, none expected
  expect(report.findings.map((f) => `${f.kind} in ${f.entry}: ${f.detail}\n  input: ${f.input}`)).toEqual([]);
  // and the run reached both sides of every entry point (a fuzzer that refuses everything proves nothing)
  for (const entry of ENTRY_POINTS) {
    expect(report.accepted[entry] + report.refused[entry]).toBe(report.cases[entry]);
    expect(report.accepted[entry]).toBeGreaterThan(report.cases[entry] / 20);
    expect(report.refused[entry]).toBeGreaterThan(report.cases[entry] / 20);
  }
  expect(report.judged).toBeGreaterThan(runs / 10);
}, 180_000);
