/**
 * The soak test, one command:
 *
 *   npm run soak -- [--minutes N] [--backend local|minio|moto|gcs|azure|azure-oldest] [--clients N] [--seed S]
 *                   [--out PATH] [--restart-every MIN-MAX] [--steady-fraction F] [--no-docs] [--keep]
 *
 * (flags: src/options.ts). Runs the real server under mixed load with restarts and kill -9, checks
 * everything against a model of what was acknowledged, prints a summary, writes the result JSON
 * and rewrites the "Reliability (soak)" section of docs/benchmarks.md from every result file.
 * Exits 1 when the run found a mismatch, an error from a healthy server or a crash; 2 on bad flags.
 */
import { join } from 'node:path';
import { BACKEND_NAMES } from './backends.ts';
import { parseOptions, UsageError } from './options.ts';
import { RESULTS_DIR, summaryText, updateDocs, writeResult } from './report.ts';
import { runSoak } from './run.ts';

let options;
try {
  options = parseOptions(process.argv.slice(2), (backend) => join(RESULTS_DIR, `${backend}.json`));
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  process.stderr.write(
    `soak: ${err.message}\nusage: npm run soak -- [--minutes N] [--backend ${BACKEND_NAMES.join('|')}] [--clients N] [--seed S] [--out PATH] [--restart-every MIN-MAX] [--steady-fraction F] [--no-docs] [--keep]\n`,
  );
  process.exit(2);
}
const result = await runSoak(options);
process.stdout.write(`${summaryText(result)}\n`);
if (options.out !== undefined) {
  writeResult(result, options.out);
  process.stdout.write(`result: ${options.out}\n`);
}
if (options.docs) {
  updateDocs();
  process.stdout.write('docs/benchmarks.md: soak section rewritten from tools/soak/results/\n');
}
process.exit(result.passed ? 0 : 1);
