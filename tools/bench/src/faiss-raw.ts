/**
 * Raw faiss in-process with the index type Conifer's ANN slabs use: the ceiling for the engine's
 * query path (no ids, no metadata, no memtable, no slab merging), tuned over nprobe.
 */
import { cpus } from 'node:os';
import { FaissIndex, setThreads } from '@conifer/faiss';
import { queryOf, type Dataset } from './dataset.ts';
import { meanRecall, runConcurrent, summarize, type QueryRow } from './stats.ts';

type Log = (...parts: unknown[]) => void;
const K = 10;

/** The IVF list count the peers use for a dataset of `count` vectors: a power of two near 4√count. */
export function nlistFor(count: number): number {
  return Math.min(65_536, Math.max(16, 2 ** Math.round(Math.log2(4 * Math.sqrt(count)))));
}

export async function benchRawFaiss(ds: Dataset, truth: Int32Array, factory: string, queries: number, log: Log): Promise<QueryRow[]> {
  const rows: QueryRow[] = [];
  const index = FaissIndex.create(ds.dimension, factory, 'l2');
  try {
    setThreads(cpus().length);
    const nlist = Number(/^IVF(\d+)/.exec(factory)?.[1] ?? 1);
    const sample = ds.vectors.subarray(0, Math.min(ds.count, nlist * 40) * ds.dimension);
    await index.train(sample);
    await index.add(ds.vectors);
    setThreads(1);
    for (const nprobe of [4, 8, 16, 32]) {
      for (const concurrency of [1, 8, 32]) {
        const got: number[][] = new Array(queries);
        const run = await runConcurrent(queries, concurrency, async (i) => {
          got[i] = Array.from((await index.search(queryOf(ds, i), K, { nprobe })).labels);
        });
        rows.push({
          system: `faiss in-process (${factory})`,
          scenario: `nprobe ${nprobe}`,
          concurrency,
          recall: meanRecall(K, got, truth, ds.queryCount),
          latency: summarize(run.latencies, run.wallMs),
        });
        log('faiss nprobe', nprobe, 'c', concurrency, rows.at(-1));
      }
    }
  } finally {
    index.dispose();
  }
  return rows;
}
