import type { Dataset } from './dataset.ts';
import { nextTurn, summarize, type LatencySummary } from './stats.ts';

const WRITES = 200;
const RECORDS_PER_WRITE = 10;
const QUERY_CONCURRENCY = 32;

export interface WritesUnderReads {
  /** Each upsert's time to acknowledgement, one in flight at a time. */
  upsertMs: LatencySummary;
  recordsPerUpsert: number;
  queryConcurrency: number;
  /** Queries answered per second meanwhile. */
  queriesPerSecond: number;
}

/** How the scenario reaches the database: in-process, or through an API. */
export interface WritesUnderReadsTarget {
  /** Runs query `i` (of the dataset's held-out queries, modulo their count). */
  query(i: number): Promise<unknown>;
  /** Upserts these records: dataset rows, each with its own values and bucket (its metadata). */
  upsert(records: readonly RowRecord[]): Promise<unknown>;
}

/** A dataset row as the scenario writes it back. */
export interface RowRecord {
  id: string;
  values: Float32Array;
  bucket: number;
}

/**
 * How long a small write waits on a node busy with reads: upserts of a few records, one at a time,
 * while 32 queries run without pause. Each write rewrites dataset rows with their own values and
 * metadata, so the namespace's contents (and later scenarios' answers) stay the same. A write's
 * path is a chain of awaited steps (fence check, log object, confirmation), each of which waits
 * for the event loop between queries.
 */
export async function writesUnderReads(target: WritesUnderReadsTarget, ds: Dataset): Promise<WritesUnderReads> {
  let writing = true;
  let answered = 0;
  const reads = Promise.all(
    Array.from({ length: QUERY_CONCURRENCY }, async (_, lane) => {
      for (let i = lane; writing; i += QUERY_CONCURRENCY) {
        await nextTurn();
        await target.query(i % ds.queryCount);
        answered++;
      }
    }),
  );
  const latencies: number[] = [];
  const started = performance.now();
  try {
    for (let w = 0; w < WRITES; w++) {
      const records = Array.from({ length: RECORDS_PER_WRITE }, (_, r): RowRecord => {
        const row = (w * RECORDS_PER_WRITE + r) % ds.count;
        return { id: String(row), values: ds.vectors.subarray(row * ds.dimension, (row + 1) * ds.dimension), bucket: ds.buckets[row]! };
      });
      const t = performance.now();
      await target.upsert(records);
      latencies.push(performance.now() - t);
    }
  } finally {
    writing = false;
    await reads;
  }
  const wallMs = performance.now() - started;
  return {
    upsertMs: summarize(
      latencies,
      latencies.reduce((a, b) => a + b, 0),
    ),
    recordsPerUpsert: RECORDS_PER_WRITE,
    queryConcurrency: QUERY_CONCURRENCY,
    queriesPerSecond: Math.round((answered / wallMs) * 1000),
  };
}
