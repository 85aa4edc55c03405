import type { LogOp, PutRecord } from '@conifer/log';
import type { IndexHandle, RecordInput } from './data-plane.ts';
import type { Namespace } from './namespace.ts';
import { isSparseIndex, requiredSparse, toSparse, toVector } from './records.ts';

/** Ids per log entry when a request (an update or delete by filter) touches many records. */
const WRITE_CHUNK = 10_000;

/**
 * An upsert's records as logged. The whole batch is validated before anything is logged, so a bad
 * record rejects the request whole; its vectors share one buffer, since a thousand small typed
 * arrays per request kept the GC busy.
 */
export function toPutRecords(index: IndexHandle, records: RecordInput[]): PutRecord[] {
  const dimension = index.dimension;
  const batch = new Float32Array(records.length * dimension);
  return records.map((r, i) => {
    const sparse = isSparseIndex(index) ? requiredSparse(r.sparseValues, ['records', i, 'sparseValues']) : toSparse(r.sparseValues);
    return {
      id: r.id,
      values: toVector(index, r.values, ['records', i, 'values'], batch.subarray(i * dimension, (i + 1) * dimension)),
      ...(sparse ? { sparse } : {}),
      ...(r.metadata && Object.keys(r.metadata).length > 0 ? { metadata: r.metadata } : {}),
    };
  });
}

/**
 * Logs a write that touches many ids as one entry per WRITE_CHUNK ids, so no log object grows
 * without bound; returns the last LSN and how many records the entries matched.
 */
export async function writeInChunks(ns: Namespace, ids: string[], op: (chunk: string[]) => LogOp): Promise<{ lsn: number; matched: number }> {
  let lsn = ns.lastLsn;
  let matched = 0;
  for (let i = 0; i < ids.length; i += WRITE_CHUNK) {
    const written = await ns.write(op(ids.slice(i, i + WRITE_CHUNK)));
    lsn = written.lsn;
    matched += written.result.matched;
  }
  return { lsn, matched };
}
