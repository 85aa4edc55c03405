/**
 * Queries during compaction alone (the "query p99 during compaction ≤ 2× idle"): rewrites
 * of 20% of the ids are first flushed as flat L0 slabs by an engine that does not compact; a
 * fresh engine on the same store then answers queries on that state (idle), and again while its
 * compaction merges those slabs and rebuilds ANN indexes (during). Both measurements start from
 * the same slabs, and no writes run during either, so the ratio isolates what compaction costs
 * the queries: CPU shared with the worker thread and the manifest installs on the event loop.
 */
import { Engine, type EngineConfig, type IndexHandle } from '@conifer/engine';
import { queryOf, type Dataset } from './dataset.ts';
import { stallProbe } from './probe.ts';
import { meanRecall, round2, runConcurrent, runWhile, slabSummary, summarize, type QueryRow } from './stats.ts';

const K = 10;
/** Every REWRITE_EVERY-th row is rewritten with its own vector (the ground truth still holds). */
const REWRITE_EVERY = 5;

export async function queriesDuringCompaction(
  open: (config: Partial<EngineConfig>) => Engine,
  config: Partial<EngineConfig>,
  index: IndexHandle,
  ns: string,
  ds: Dataset,
  truth: Int32Array,
  queries: number,
): Promise<{ rows: QueryRow[]; facts: Record<string, unknown> }> {
  // 1. Flat L0 slabs only: no merges, no indexing of flat slabs; close() flushes the memtable.
  const writer = open({ ...config, compaction: { trigger: 1_000_000, maxMerge: 8 }, indexIdleMs: 3_600_000 });
  const rows: number[] = [];
  for (let r = 0; r < ds.count; r += REWRITE_EVERY) rows.push(r);
  for (let b = 0; b < rows.length; b += 1000) {
    const records = rows.slice(b, b + 1000).map((r) => ({ id: String(r), values: ds.vectors.subarray(r * ds.dimension, (r + 1) * ds.dimension), metadata: { bucket: ds.buckets[r]! } }));
    await writer.upsert(index, ns, records);
  }
  await writer.close();

  // 2. The same state, idle, then while compaction runs (started by flush(), which also indexes
  //    flat slabs; the idle timer that would do so on its own is off, so "idle" stays idle).
  const engine = open({ ...config, indexIdleMs: 3_600_000 });
  try {
    const query = async (i: number) => (await engine.query(index, ns, { vector: queryOf(ds, i), topK: K })).matches.map((m) => Number(m.id));
    await query(0); // opens the namespace (loads slabs) outside the measurement
    const before = await engine.describeNamespace(index, ns);
    const idleGot: number[][] = new Array(queries);
    const idleRun = await runConcurrent(queries, 1, async (i) => {
      idleGot[i] = await query(i);
    });
    const idle: QueryRow = { system: 'conifer (engine)', scenario: 'idle, before compaction', concurrency: 1, recall: meanRecall(K, idleGot, truth, ds.queryCount), latency: summarize(idleRun.latencies, idleRun.wallMs) };

    const stall = stallProbe();
    const compactStart = performance.now();
    const got: number[][] = [];
    const run = await runWhile(engine.flush(index, ns), async (i) => {
      got.push(await query(i));
    });
    const compactMs = performance.now() - compactStart;
    const maxDelay = stall.stop();
    const after = await engine.describeNamespace(index, ns);
    const during: QueryRow = { system: 'conifer (engine)', scenario: 'during compaction', concurrency: 1, recall: meanRecall(K, got, truth, ds.queryCount), latency: summarize(run.latencies, run.wallMs) };
    return {
      rows: [idle, during],
      facts: {
        duringCompaction: {
          rewrittenRecords: rows.length,
          slabsBefore: slabSummary(before.slabs),
          slabsAfter: slabSummary(after.slabs),
          compactMs: Math.round(compactMs),
          queries: run.latencies.length,
          p99IdleMs: round2(idle.latency.p99),
          p99DuringMs: round2(during.latency.p99),
          p99Ratio: round2(during.latency.p99 / idle.latency.p99),
          eventLoopMaxDelayMs: maxDelay,
        },
      },
    };
  } finally {
    await engine.close();
  }
}
