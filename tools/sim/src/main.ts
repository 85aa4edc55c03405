/**
 * `npm run sim -- [--seeds N] [--seed S] [--steps K]`: runs the deterministic simulation for seeds
 * S, S+1, … (default 100 seeds from 1, 1,500 steps each), prints one line per failing seed with
 * its first problems and the events before them, and a summary; exits 1 when any seed failed.
 * A failing seed reproduces exactly: `npm run sim -- --seed <it> --seeds 1`.
 */
import { parseArgs } from 'node:util';
import { runSimulation } from './simulation.ts';

const { values } = parseArgs({
  options: { seeds: { type: 'string', default: '100' }, seed: { type: 'string', default: '1' }, steps: { type: 'string', default: '1500' } },
});
const seeds = Number(values.seeds);
const first = Number(values.seed);
const steps = Number(values.steps);
if (![seeds, first, steps].every((n) => Number.isSafeInteger(n) && n >= 0)) {
  console.error('usage: npm run sim -- [--seeds N] [--seed S] [--steps K] (whole numbers)');
  process.exit(2);
}

const started = performance.now();
const failed: number[] = [];
let operations = 0;
let crashes = 0;
for (let seed = first; seed < first + seeds; seed++) {
  const result = await runSimulation({ seed, steps });
  operations += result.operations;
  crashes += result.crashes + result.failpointCrashes;
  if (result.problems.length === 0) continue;
  failed.push(seed);
  console.log(`seed ${seed} FAILED: ${result.problems.slice(0, 3).join(' | ')}`);
  for (const line of result.trace.slice(-25)) console.log(`    ${line}`);
}
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(
  `sim: ${seeds} seeds × ${steps} steps in ${seconds} s: ${operations} operations, ${crashes} crashes; ${failed.length === 0 ? 'all passed' : `failed: ${failed.join(', ')}`}`,
);
process.exit(failed.length === 0 ? 0 : 1);
