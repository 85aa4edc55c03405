/**
 * Conifer's engine in-process over a local-disk store: ingest (batches of 1000, 4 in flight),
 * settle (flush + compaction into ANN slabs), memory per million vectors, query latency / QPS /
 * recall at concurrency 1, 8, 32 for several recall targets, filtered queries at 1/10/50/99%
 * selectivity, event-loop delay, freshness, small writes while 32 queries run
 * (writes-under-reads.ts); optionally queries during ingest + compaction (interference.ts) and
 * cold vs warm start (cold-start.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, type EngineConfig } from '@conifer/engine';
import { FsObjectStore, S3_LATENCY, withLatency, withParallelReads } from '@conifer/storage';
import { coldAndWarm } from './cold-start.ts';
import { queriesDuringCompaction } from './compaction-interference.ts';
import { queryOf, type Dataset } from './dataset.ts';
import { queriesDuringWrites } from './interference.ts';
import { forceGc, gcExposed, memoryPerMillion, sampleMemory } from './memory.ts';
import { stallProbe } from './probe.ts';
import { meanRecall, runConcurrent, slabSummary, summarize, type QueryRow } from './stats.ts';
import { writesUnderReads } from './writes-under-reads.ts';

type Log = (...parts: unknown[]) => void;

const K = 10;

export interface EngineBenchOptions {
  queries: number;
  /** Queries during a second phase of writes (flushes + compactions). */
  interference: boolean;
  /** Close, reopen on the same store, first query vs the next ones. */
  coldStart: boolean;
  log: Log;
}

export async function benchEngine(
  ds: Dataset,
  truth: Int32Array,
  filteredTruth: Map<number, Int32Array>,
  options: EngineBenchOptions,
): Promise<{ rows: QueryRow[]; facts: Record<string, unknown> }> {
  const { queries: QUERIES, log } = options;
  const rows: QueryRow[] = [];
  const facts: Record<string, unknown> = {};
  const dir = mkdtempSync(join(tmpdir(), 'conifer-bench-'));
  // Trigger 2: every pair of L0 slabs is compacted, so the data reaches the ANN tier at every size.
  const config: Partial<EngineConfig> = { compaction: { trigger: 2, maxMerge: 8 } };
  facts['engineConfig'] = config;
  const open = (with_: Partial<EngineConfig> = config) => new Engine({ store: new FsObjectStore(dir), config: with_, ownsStore: true });
  let engine: Engine | undefined = open();
  const index = { id: 'idx_bench', dimension: ds.dimension, metric: 'euclidean' as const };
  const ns = '';
  const memBefore = sampleMemory();
  try {
    // Ingest: batches of 1000, 4 in flight, acknowledged vectors per second. The stall probe
    // covers ingest and the flushes / compactions / ANN builds it triggers.
    const writeStall = stallProbe();
    const batches = Math.ceil(ds.count / 1000);
    const ingest = await runConcurrent(batches, 4, async (b) => {
      const records = [];
      for (let r = b * 1000; r < Math.min(ds.count, (b + 1) * 1000); r++) {
        records.push({ id: String(r), values: ds.vectors.subarray(r * ds.dimension, (r + 1) * ds.dimension), metadata: { bucket: ds.buckets[r]! } });
      }
      await engine!.upsert(index, ns, records);
    });
    facts['ingestVectorsPerSecond'] = Math.round((ds.count / ingest.wallMs) * 1000);
    facts['ingestBatchAckMs'] = summarize(ingest.latencies, ingest.wallMs);
    log('ingest', facts['ingestVectorsPerSecond'], 'vectors/s');

    const settleStart = performance.now();
    await engine.flush(index, ns);
    facts['settleMs'] = Math.round(performance.now() - settleStart);
    facts['eventLoopStallDuringIngestAndCompactionMs'] = writeStall.stop();
    const internals = await engine.describeNamespace(index, ns);
    facts['slabs'] = slabSummary(internals.slabs);
    // After a full GC: what the namespace really holds, part by part (memory.ts).
    const slabBytes = internals.slabs.reduce((sum, s) => sum + s.bytes, 0);
    facts['memoryMiBPerMillionVectors'] = memoryPerMillion(memBefore, sampleMemory(), slabBytes, ds.count);
    if (!gcExposed()) facts['memoryNote'] = 'run without --expose-gc: no forced GC, the heap figures include garbage';
    log('settled in', facts['settleMs'], 'ms:', facts['slabs'], 'memory MiB per million vectors', facts['memoryMiBPerMillionVectors']);

    // Warm-up, not measured: the first second of queries after a settle pays one-time costs
    // (first touches of the new slab's pages, JIT of the search path) that made the first rows
    // measured up to 1.6× slower at p50. Cold start is measured on its own (cold-start.ts).
    await runConcurrent(Math.min(QUERIES, 500), 1, async (i) => void (await engine!.query(index, ns, { vector: queryOf(ds, i), topK: K })));
    const stall = stallProbe();
    for (const target of [0.9, 0.95, 0.99]) {
      for (const concurrency of [1, 8, 32]) {
        const got: number[][] = new Array(QUERIES);
        const run = await runConcurrent(QUERIES, concurrency, async (i) => {
          const res = await engine!.query(index, ns, { vector: queryOf(ds, i), topK: K, recallTarget: target });
          got[i] = res.matches.map((m) => Number(m.id));
        });
        rows.push({
          system: 'conifer (engine)',
          scenario: `target ${target}`,
          concurrency,
          recall: meanRecall(K, got, truth, ds.queryCount),
          latency: summarize(run.latencies, run.wallMs),
        });
        log('conifer target', target, 'c', concurrency, rows.at(-1));
      }
    }
    facts['eventLoopStallMaxMs'] = stall.stop();
    for (const [keep, ftruth] of filteredTruth) {
      const got: number[][] = new Array(QUERIES);
      const run = await runConcurrent(QUERIES, 1, async (i) => {
        const res = await engine!.query(index, ns, { vector: queryOf(ds, i), topK: K, filter: { bucket: { $lt: keep } } });
        got[i] = res.matches.map((m) => Number(m.id));
      });
      rows.push({
        system: 'conifer (engine)',
        scenario: `filter ${keep}%`,
        concurrency: 1,
        recall: meanRecall(K, got, ftruth, ds.queryCount),
        latency: summarize(run.latencies, run.wallMs),
      });
      log('conifer filter', keep, rows.at(-1));
    }

    // Freshness: an upsert is acknowledged, then the next query must find it (in its top 10: a
    // dataset may hold an exact duplicate of the query vector). After the query runs above: its
    // writes are flushed (by age, 30 s later) and compacted, which would change the namespace
    // under them.
    const fresh: number[] = [];
    for (let i = 0; i < 100; i++) {
      const v = queryOf(ds, i);
      const t = performance.now();
      await engine.upsert(index, ns, [{ id: `fresh-${i}`, values: v }]);
      const got = await engine.query(index, ns, { vector: v, topK: K });
      if (!got.matches.some((m) => m.id === `fresh-${i}`)) throw new Error('freshness: acknowledged write not visible');
      fresh.push(performance.now() - t);
    }
    await engine.delete(index, ns, { ids: Array.from({ length: 100 }, (_, i) => `fresh-${i}`) });
    facts['freshnessAckToVisibleMs'] = summarize(
      fresh,
      fresh.reduce((a, b) => a + b, 0),
    );

    // Small writes while reads keep the node busy (writes-under-reads.ts).
    facts['writesUnderReads'] = await writesUnderReads(
      {
        query: (i) => engine!.query(index, ns, { vector: queryOf(ds, i), topK: K }),
        upsert: (records) =>
          engine!.upsert(
            index,
            ns,
            records.map(({ id, values, bucket }) => ({ id, values, metadata: { bucket } })),
          ),
      },
      ds,
    );
    log('conifer writes under reads', facts['writesUnderReads']);

    if (options.interference) {
      const during = await queriesDuringWrites(engine, index, ns, ds, truth, QUERIES);
      rows.push(...during.rows);
      Object.assign(facts, during.facts);
      log('conifer during writes', during.facts);
    }

    if (options.interference) {
      await engine.close();
      engine = undefined;
      forceGc();
      const compaction = await queriesDuringCompaction(open, config, index, ns, ds, truth, QUERIES);
      rows.push(...compaction.rows);
      Object.assign(facts, compaction.facts);
      log('conifer during compaction', compaction.facts);
      forceGc();
    }

    if (options.coldStart) {
      await engine?.close();
      engine = undefined;
      forceGc();
      facts['coldStart'] = await coldAndWarm(open, index, ns, ds, truth, { warmQueries: Math.min(QUERIES, 200) });
      log('conifer cold start', facts['coldStart']);
      // The same from a bucket: S3-like time to first byte and per-stream bandwidth before each
      // store call (storage's withLatency), local disk behind it; slabs read in parallel ranges
      // as the server reads them from a bucket (withParallelReads).
      const fromBucket = () => new Engine({ store: withParallelReads(withLatency(new FsObjectStore(dir), S3_LATENCY)), config, ownsStore: true });
      facts['coldStartS3Latency'] = await coldAndWarm(fromBucket, index, ns, ds, truth, { warmQueries: Math.min(QUERIES, 200) });
      log('conifer cold start, simulated S3 latency', facts['coldStartS3Latency']);
    }
  } finally {
    await engine?.close();
    forceGc();
    rmSync(dir, { recursive: true, force: true });
  }
  return { rows, facts };
}
