/**
 * The cluster benchmark, one command:
 *
 *   npm run bench:cluster -- [--size XS|S|M] [--quick] [--moves-store minio|local] [--no-write]
 *
 * (tools/setup/bench-cluster.sh: provisions like `npm test`, starts a PostgreSQL server of its own
 * unless CONIFER_TEST_DATABASE_URL is set, runs the servers on jemalloc as `npm start` does, then
 * `node tools/bench/src/cluster-main.ts …`). Conifer as one process and as a cluster of role
 * processes pinned to cores, same machine, dataset and load, one run (cluster-run.ts says what
 * runs). Default size S (100,000 × 128), about 15 minutes.
 *
 *   --size XS|S|M        the synthetic dataset (XS 20k×64, S 100k×128, M 1M×128)
 *   --quick              short phases and few runs, for development (~4 min at XS); prints only
 *   --moves-store local  part 4 on local disk instead of MinIO (no slab-cache figures)
 *   --no-write           print only; leave docs/benchmarks.md and tools/bench/results alone
 *
 * Needs CONIFER_TEST_DATABASE_URL (a PostgreSQL server; a database of its own is created per
 * cluster and dropped after). `BENCH_QUERIES` sets the number of held-out queries (default 500).
 * Writes tools/bench/results/cluster-<size>.json and the section "Cluster (roles as processes)"
 * of its size in docs/benchmarks.md.
 */
import { parseArgs } from 'node:util';
import { CLUSTER_SIZES, runClusterBench, type ClusterSize } from './cluster-run.ts';

const usage = 'usage: cluster-main.ts [--size XS|S|M] [--quick] [--moves-store minio|local] [--no-write]';
let values;
try {
  ({ values } = parseArgs({
    options: {
      size: { type: 'string', default: 'S' },
      quick: { type: 'boolean', default: false },
      'moves-store': { type: 'string', default: 'minio' },
      'no-write': { type: 'boolean', default: false },
    },
  }));
} catch (err) {
  console.error(`${err instanceof Error ? err.message : String(err)}\n${usage}`);
  process.exit(2);
}
const size = values.size;
const movesStore = values['moves-store'];
if (!(CLUSTER_SIZES as readonly string[]).includes(size) || (movesStore !== 'minio' && movesStore !== 'local')) {
  console.error(usage);
  process.exit(2);
}
const adminDatabaseUrl = process.env['CONIFER_TEST_DATABASE_URL'];
if (!adminDatabaseUrl) {
  console.error('cluster-main.ts: set CONIFER_TEST_DATABASE_URL to a PostgreSQL server (npm run bench:cluster starts one)');
  process.exit(2);
}
const flags = [`--size ${size}`, ...(values.quick ? ['--quick'] : []), ...(movesStore === 'local' ? ['--moves-store local'] : [])];
try {
  await runClusterBench({
    size: size as ClusterSize,
    scale: values.quick ? 'quick' : 'full',
    adminDatabaseUrl,
    movesStore,
    queries: Number(process.env['BENCH_QUERIES'] ?? 500),
    // A quick run is for development: its figures do not go into the docs.
    write: !values['no-write'] && !values.quick,
    handleSignals: true,
    command: `npm run bench:cluster -- ${flags.join(' ')}`,
  });
} catch (err) {
  console.error('bench:cluster failed:', err);
  process.exitCode = 1;
}
