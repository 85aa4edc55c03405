/**
 * Queries during compaction alone (the "query p99 during compaction ≤ 2× idle"): rewrites
 * of 20% of the ids are first flushed as flat L0 slabs by an engine that does not compact; a
 * fresh engine on the same store then answers queries on that state (idle), and again while its
 * compaction merges those slabs and rebuilds ANN indexes (during). Both measurements start from
 * the same slabs, and no writes run during either, so the ratio isolates what compaction costs
 * the queries: CPU shared with the worker thread and the manifest installs on the event loop.
 * Short compactions are measured several times and their latencies pooled (MIN_DURING_QUERIES);
 * each round's own ratio is kept in the facts.
 */
import { Engine, type EngineConfig, type IndexHandle } from '@conifer/engine';
import { queryOf, type Dataset } from './dataset.ts';
import { stallProbe } from './probe.ts';
import { meanRecall, round2, runConcurrent, runWhile, slabSummary, summarize, type QueryRow } from './stats.ts';

const K = 10;
/** Every REWRITE_EVERY-th row is rewritten with its own vector (the ground truth still holds). */
const REWRITE_EVERY = 5;
/**
 * Queries to pool during compactions before the p99 is taken. One compaction at S lasts under a
 * second (about 1,300 queries, so its p99 is the 14th slowest query and two scheduler hiccups
 * move it by 2×); the scenario then runs again, up to MAX_ROUNDS times.
 */
const MIN_DURING_QUERIES = 10_000;
const MAX_ROUNDS = 5;

export async function queriesDuringCompaction(
  open: (config: Partial<EngineConfig>) => Engine,
  config: Partial<EngineConfig>,
  index: IndexHandle,
  ns: string,
  ds: Dataset,
  truth: Int32Array,
  queries: number,
): Promise<{ rows: QueryRow[]; facts: Record<string, unknown> }> {
  const idle = pooled();
  const during = pooled();
  const rounds: Record<string, unknown>[] = [];
  while (rounds.length < MAX_ROUNDS && (rounds.length === 0 || during.latencies.length < MIN_DURING_QUERIES)) {
    const round = await oneCompaction(open, config, index, ns, ds, queries);
    idle.add(round.idle, truth, ds.queryCount);
    during.add(round.during, truth, ds.queryCount);
    rounds.push(round.facts);
  }
  const idleRow = idle.row('idle, before compaction');
  const duringRow = during.row('during compaction');
  return {
    rows: [idleRow, duringRow],
    facts: {
      duringCompaction: {
        rounds,
        queries: during.latencies.length,
        p99IdleMs: round2(idleRow.latency.p99),
        p99DuringMs: round2(duringRow.latency.p99),
        p99Ratio: round2(duringRow.latency.p99 / idleRow.latency.p99),
      },
    },
  };
}

/**
 * Query latencies and recall pooled over rounds. Recall is pooled per query (each round numbers
 * its queries from 0, as the truth does).
 */
function pooled() {
  const acc = { latencies: [] as number[], wallMs: 0, recallSum: 0 };
  return {
    get latencies(): number[] {
      return acc.latencies;
    },
    add(part: { latencies: number[]; wallMs: number; got: number[][] }, truth: Int32Array, queryCount: number): void {
      // concat, not push(...): a long compaction at M times well over 100,000 queries.
      acc.latencies = acc.latencies.concat(part.latencies);
      acc.wallMs += part.wallMs;
      acc.recallSum += meanRecall(K, part.got, truth, queryCount) * part.got.length;
    },
    row(scenario: string): QueryRow {
      return {
        system: 'conifer (engine)',
        scenario,
        concurrency: 1,
        recall: acc.recallSum / acc.latencies.length,
        latency: summarize(acc.latencies, acc.wallMs),
      };
    },
  };
}

/**
 * One round: rewrites of 20% of the ids are flushed as flat L0 slabs by an engine that does not
 * compact; a fresh engine on the same store answers queries on that state (idle), then while
 * `flush()` merges those slabs and builds their ANN indexes (during).
 */
async function oneCompaction(
  open: (config: Partial<EngineConfig>) => Engine,
  config: Partial<EngineConfig>,
  index: IndexHandle,
  ns: string,
  ds: Dataset,
  queries: number,
) {
  // 1. Flat L0 slabs only: no merges, and no flat slab counts as too large to scan (the writer
  //    never queries), so none is indexed after a flush either; close() flushes the memtable.
  const writer = open({ ...config, compaction: { trigger: 1_000_000, maxMerge: 8 }, indexIdleMs: 3_600_000, exactBudget: Number.MAX_SAFE_INTEGER });
  const rows: number[] = [];
  for (let r = 0; r < ds.count; r += REWRITE_EVERY) rows.push(r);
  for (let b = 0; b < rows.length; b += 1000) {
    const records = rows
      .slice(b, b + 1000)
      .map((r) => ({ id: String(r), values: ds.vectors.subarray(r * ds.dimension, (r + 1) * ds.dimension), metadata: { bucket: ds.buckets[r]! } }));
    await writer.upsert(index, ns, records);
  }
  await writer.close();

  // 2. The same state, idle, then while compaction runs (started by flush(), which also indexes
  //    flat slabs; the idle timer that would do so on its own is off, so "idle" stays idle).
  const engine = open({ ...config, indexIdleMs: 3_600_000 });
  try {
    const query = async (i: number) => (await engine.query(index, ns, { vector: queryOf(ds, i), topK: K })).matches.map((m) => Number(m.id));
    await query(0); // opens the namespace outside the measurement
    await engine.warm(index, ns); // and reads its slabs' vectors in: "idle" is a warm namespace
    const before = await engine.describeNamespace(index, ns);
    const idleGot: number[][] = new Array(queries);
    const idleRun = await runConcurrent(queries, 1, async (i) => {
      idleGot[i] = await query(i);
    });

    const stall = stallProbe();
    const compactStart = performance.now();
    const got: number[][] = [];
    const run = await runWhile(engine.flush(index, ns), async (i) => {
      got.push(await query(i));
    });
    const compactMs = performance.now() - compactStart;
    const maxDelay = stall.stop();
    const after = await engine.describeNamespace(index, ns);
    const idleP99 = summarize(idleRun.latencies, idleRun.wallMs).p99;
    const duringP99 = summarize(run.latencies, run.wallMs).p99;
    return {
      idle: { ...idleRun, got: idleGot },
      during: { ...run, got },
      facts: {
        rewrittenRecords: rows.length,
        slabsBefore: slabSummary(before.slabs),
        slabsAfter: slabSummary(after.slabs),
        compactMs: Math.round(compactMs),
        queries: run.latencies.length,
        p99IdleMs: round2(idleP99),
        p99DuringMs: round2(duringP99),
        p99Ratio: round2(duringP99 / idleP99),
        eventLoopMaxDelayMs: maxDelay,
      },
    };
  } finally {
    await engine.close();
  }
}
