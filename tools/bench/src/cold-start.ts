/**
 * Cold vs warm: a new Engine over the same local-disk store (the previous one closed), whose first
 * query opens the namespace — reads the manifest, each slab's head, the log after the manifest, and
 * the vectors it scans, by range — then, once the slabs' vectors are in memory (`warmUpMs`), the
 * next queries on the open namespace. "Cold" is the engine's cold start; the OS page cache still
 * holds the files (a process restart, not a reboot or a new machine).
 */
import type { Engine, IndexHandle } from '@conifer/engine';
import { queryOf, type Dataset } from './dataset.ts';
import { forceGc } from './memory.ts';
import { meanRecall, runConcurrent, summarize } from './stats.ts';

const K = 10;

export async function coldAndWarm(
  open: () => Engine,
  index: IndexHandle,
  ns: string,
  ds: Dataset,
  truth: Int32Array,
  options: { reopenings?: number; warmQueries: number },
): Promise<Record<string, unknown>> {
  const cold: number[] = [];
  const reopenings = options.reopenings ?? 3;
  for (let n = 0; n < reopenings; n++) {
    const engine = open();
    try {
      const t = performance.now();
      await engine.query(index, ns, { vector: queryOf(ds, n), topK: K });
      cold.push(Math.round((performance.now() - t) * 10) / 10);
      if (n < reopenings - 1) continue;
      // Warm: once the slabs' vectors the first query left in the store are in memory.
      const warming = performance.now();
      await engine.warm(index, ns);
      const warmUpMs = Math.round(performance.now() - warming);
      const got: number[][] = new Array(options.warmQueries);
      const warm = await runConcurrent(options.warmQueries, 1, async (i) => {
        got[i] = (await engine.query(index, ns, { vector: queryOf(ds, i), topK: K })).matches.map((m) => Number(m.id));
      });
      const s = summarize(warm.latencies, warm.wallMs);
      return {
        coldFirstQueryMs: cold,
        warmUpMs,
        warmQueryP50Ms: Math.round(s.p50 * 100) / 100,
        warmQueryP99Ms: Math.round(s.p99 * 100) / 100,
        warmRecall: Math.round(meanRecall(K, got, truth, ds.queryCount) * 1000) / 1000,
      };
    } finally {
      await engine.close();
      // A closed engine's slabs (and their native faiss indexes) are freed only by the GC: at L
      // three of them would not fit next to each other.
      forceGc();
    }
  }
  throw new Error('coldAndWarm: reopenings must be at least 1');
}
