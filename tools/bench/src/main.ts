/**
 * The benchmark, one command:
 *
 *   npm run bench -- --size XS|S|M|L|XL|fashion-mnist [--no-peers] [--no-http] [--no-interference] [--no-cold-start] [--no-write]
 *
 * (or `node --expose-gc tools/bench/src/main.ts --size …`; --expose-gc makes the memory figures
 * come after a forced GC). Sizes: synthetic XS 20k×64, S 100k×128, M 1M×128, L 1M×768 (Gaussian
 * mixture), and fashion-mnist (60k×784 real images, ann-benchmarks' fashion-mnist-784-euclidean;
 * npm run bench installs the Debian package dataset-fashion-mnist). XL (10M×128, a namespace larger
 * than the memory budget) runs through the server only: xl-bench.ts.
 *
 *   --no-peers         skip raw faiss, LanceDB and hnswlib-node (long at M and L)
 *   --no-http          skip Conifer through HTTP (the server as a child process, REST ingest + queries)
 *   --no-interference  skip queries during ingest + compaction
 *   --no-cold-start    skip the close / reopen (cold vs warm first query)
 *   --no-write         print only; leave docs/benchmarks.md and tools/bench/results alone
 *
 * `BENCH_QUERIES` sets the number of held-out queries per run (default 500). Writes
 * docs/benchmarks.md (the section of this size) and tools/bench/results/<size>.json.
 */
import { DATASET_NAMES, isDatasetName } from './dataset.ts';
import { runBench } from './run.ts';
import { runXlBench } from './xl-bench.ts';

const FLAGS = ['--no-peers', '--no-http', '--no-interference', '--no-cold-start', '--no-write'] as const;
const args = process.argv.slice(2);
const size = args[args.indexOf('--size') + 1] ?? '';
const unknown = args.filter((a, i) => a !== '--size' && args[i - 1] !== '--size' && !(FLAGS as readonly string[]).includes(a));
if (args.indexOf('--size') === -1 || !(isDatasetName(size) || size === 'XL') || unknown.length > 0) {
  console.error(`usage: main.ts --size ${[...DATASET_NAMES, 'XL'].join('|')} [${FLAGS.join('] [')}]`);
  process.exit(2);
}
const has = (flag: (typeof FLAGS)[number]) => args.includes(flag);
const queries = Number(process.env['BENCH_QUERIES'] ?? 500);
if (size === 'XL') {
  await runXlBench({ queries, peers: !has('--no-peers'), coldStart: !has('--no-cold-start'), write: !has('--no-write') });
  process.exit(0);
}
await runBench({
  size,
  queries,
  peers: !has('--no-peers'),
  http: !has('--no-http'),
  interference: !has('--no-interference'),
  coldStart: !has('--no-cold-start'),
  write: !has('--no-write'),
});
