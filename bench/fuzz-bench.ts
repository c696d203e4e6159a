/**
 * The boundary fuzzer at benchmark size: 20,000 malformed stack configs, pipeline args and image
 * specs (FUZZ_RUNS to change, FUZZ_SEED to replay) through parseStackConfig,
 * validateGoldenImagePipelineArgs and renderDockerfile, every accepted Dockerfile judged by
 * BuildKit's parser. Prints the counts and the time; exits 1 on any crash, accepted-but-unsafe
 * input or malformed path. Run with `bash scripts/fuzz-bench.sh`.
 */
import * as os from "os";
import { formatReport, fuzzSettings, runFuzz } from "../test/helpers/fuzz";

const { seed, runs } = fuzzSettings(20_000);
const report = runFuzz(seed, runs);
process.stdout.write(`${formatReport(report)}\n`);
process.stdout.write(`  ${runs} cases in ${report.seconds.toFixed(1)} s on ${os.cpus().length} cores (${(runs / report.seconds).toFixed(0)} cases/s)\n`);
process.exitCode = report.findings.length === 0 ? 0 : 1;
