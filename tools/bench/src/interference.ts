/**
 * Queries during ingest + compaction: the same queries (concurrency 1, default recall target) on
 * the idle namespace, then while a second phase of writes runs — 25% of the ids re-upserted with
 * their own vectors (so the ground truth still holds), batches of 1000, 4 in flight, in two halves
 * each followed by a flush, so each half becomes a slab and the size-tiered policy merges slabs
 * (rebuilding ANN indexes) while the queries go on. Queries and writes share one event loop, as
 * they do in the server.
 */
import type { Engine, IndexHandle, RecordInput } from '@conifer/engine';
import { queryOf, type Dataset } from './dataset.ts';
import { stallProbe } from './probe.ts';
import { meanRecall, round2, runConcurrent, runWhile, slabSummary, splitAtStart, summarize, type QueryRow } from './stats.ts';

const K = 10;
/** How many times the idle phase runs the query set. */
const IDLE_PASSES = 4;
/** Every REWRITE_EVERY-th row is rewritten: 25% of the ids, spread over every slab. */
const REWRITE_EVERY = 4;

export async function queriesDuringWrites(
  engine: Engine,
  index: IndexHandle,
  ns: string,
  ds: Dataset,
  truth: Int32Array,
  queries: number,
): Promise<{ rows: QueryRow[]; facts: Record<string, unknown> }> {
  const query = async (i: number) => (await engine.query(index, ns, { vector: queryOf(ds, i), topK: K })).matches.map((m) => Number(m.id));

  // Idle = settled: earlier writes (freshness probes) flushed and compacted first.
  await engine.flush(index, ns);
  // Each query IDLE_PASSES times: the p99 of 500 queries is their fifth slowest, and a few stalls
  // of the machine moved it between 0.2 and 0.9 ms from run to run.
  const idleGot: number[][] = new Array(queries);
  const idleRun = await runConcurrent(queries * IDLE_PASSES, 1, async (i) => {
    idleGot[i % queries] = await query(i % queries);
  });
  const idle: QueryRow = {
    system: 'conifer (engine)',
    scenario: 'idle, just before the writes',
    concurrency: 1,
    recall: meanRecall(K, idleGot, truth, ds.queryCount),
    latency: summarize(idleRun.latencies, idleRun.wallMs),
  };

  // Rows 0, 4, 8, … alternately into two halves, so each half spans every slab. The upserts'
  // records are made before the phase: making them is the load generator's work, not the engine's
  // (a server gets them from its clients), and it would delay the queries as the writes do.
  const halves: RecordInput[][][] = [[], []];
  for (let r = 0; r < ds.count; r += REWRITE_EVERY) {
    const batches = halves[(r / REWRITE_EVERY) % 2]!;
    if (batches.length === 0 || batches.at(-1)!.length === 1000) batches.push([]);
    batches.at(-1)!.push({ id: String(r), values: ds.vectors.subarray(r * ds.dimension, (r + 1) * ds.dimension), metadata: { bucket: ds.buckets[r]! } });
  }
  const before = await engine.describeNamespace(index, ns);
  const stall = stallProbe();
  const unindexed = sampleUnindexedRows(engine, index, ns);
  const writeStart = performance.now();
  /** When each half's last upsert was acknowledged: the rest of the phase is flush + compaction. */
  const ackedMs: number[] = [];
  const writer = (async () => {
    for (const batches of halves) {
      await runConcurrent(batches.length, 4, async (b) => {
        await engine.upsert(index, ns, batches[b]!);
      });
      ackedMs.push(Math.round(performance.now() - writeStart));
      await engine.flush(index, ns);
    }
  })();

  const got: number[][] = [];
  // When each query started (from writeStart) and how long it ran once started: its latency less
  // the wait for its event-loop turn, which is where the writes' own work on the loop shows.
  const startedMs: number[] = [];
  const runMs: number[] = [];
  // One event-loop turn per query (runWhile): else a query loop in microtasks alone starves the writer.
  const run = await runWhile(writer, async (i) => {
    const started = performance.now();
    startedMs.push(started - writeStart);
    got.push(await query(i));
    runMs.push(performance.now() - started);
  });
  const writeMs = performance.now() - writeStart;
  const maxDelay = stall.stop();
  const scanned = await unindexed.stop();
  const after = await engine.describeNamespace(index, ns);
  const lastAckMs = Math.max(...ackedMs);
  const latencySplit = splitAtStart(startedMs, run.latencies, lastAckMs);
  const runSplit = splitAtStart(startedMs, runMs, lastAckMs);
  const during: QueryRow = {
    system: 'conifer (engine)',
    scenario: 'during ingest+compaction',
    concurrency: 1,
    recall: meanRecall(K, got, truth, ds.queryCount),
    latency: summarize(run.latencies, run.wallMs),
  };
  return {
    rows: [idle, during],
    facts: {
      duringWrites: {
        rewrittenRecords: rewrittenCount(ds.count),
        writeMs: Math.round(writeMs),
        upsertsAckedMs: ackedMs,
        unindexedRows: scanned,
        flushes: after.flushes - before.flushes,
        compactions: after.compactions - before.compactions,
        queries: run.latencies.length,
        p99IdleMs: round2(idle.latency.p99),
        p99DuringMs: round2(during.latency.p99),
        p99Ratio: round2(during.latency.p99 / idle.latency.p99),
        // The serverless-scale issue's figure, taken literally: the queries that ran while the
        // upserts were being taken at full speed, against idle. The phase's ratio above also holds
        // the flushes and compactions after the writes, and how long those run changes from run to
        // run (the same rewrites settle into one slab or two), which moves it.
        whileAcknowledgingP99Ratio: round2(latencySplit.before.p99Ms / idle.latency.p99),
        eventLoopMaxDelayMs: maxDelay,
        // The queries that started before the last upsert was acknowledged, and those after
        // (flushes and compactions only); each with the p99 of the queries' own run time too.
        whileAcknowledging: { ...latencySplit.before, runP99Ms: runSplit.before.p99Ms },
        afterAcknowledged: { ...latencySplit.after, runP99Ms: runSplit.after.p99Ms },
        slabsAfter: slabSummary(after.slabs),
      },
    },
  };
}

/**
 * Rows a query must scan exactly because no ANN index covers them yet — the memtables plus the
 * flat slabs — sampled every `everyMs` while the writes and the compactions they trigger run. It
 * is what the queries of this phase pay beyond the idle ones.
 */
function sampleUnindexedRows(
  engine: Engine,
  index: IndexHandle,
  ns: string,
  everyMs = 50,
): { stop(): Promise<{ mean: number; max: number; samples: number }> } {
  const counts: number[] = [];
  let pending: Promise<void> | undefined;
  const timer = setInterval(() => {
    pending ??= engine
      .describeNamespace(index, ns)
      .then((d) => {
        counts.push(d.memtable.records + d.slabs.reduce((n, s) => n + (s.index === 'flat' ? s.records : 0), 0));
      })
      .finally(() => {
        pending = undefined;
      });
  }, everyMs);
  return {
    async stop() {
      clearInterval(timer);
      await pending;
      const mean = counts.length === 0 ? 0 : counts.reduce((a, b) => a + b, 0) / counts.length;
      return { mean: Math.round(mean), max: Math.max(0, ...counts), samples: counts.length };
    },
  };
}

function rewrittenCount(count: number): number {
  return Math.ceil(count / REWRITE_EVERY);
}
