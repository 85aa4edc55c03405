/**
 * `npm run bench -- --size S|M|L|XS` (or `node --expose-gc tools/bench/src/main.ts --size M`).
 * `BENCH_QUERIES` sets the number of held-out queries (default 500). Writes docs/benchmarks.md
 * and tools/bench/results/<size>.json.
 */
import { SIZES, type SizeName } from './dataset.ts';
import { runBench } from './run.ts';

const args = process.argv.slice(2);
const size = (args[args.indexOf('--size') + 1] ?? 'S') as SizeName;
if (args.indexOf('--size') === -1 || !(size in SIZES)) {
  console.error(`usage: main.ts --size ${Object.keys(SIZES).join('|')}`);
  process.exit(2);
}
await runBench({ size, queries: Number(process.env['BENCH_QUERIES'] ?? 500), peers: true, write: true });
