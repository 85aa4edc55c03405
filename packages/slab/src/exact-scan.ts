import type { Metric } from '@conifer/core';
import { scanRows } from '@conifer/faiss';

/**
 * Exact top-k of `query` over packed rows (a slab's vectors or a memtable chunk), natively and
 * in place: row numbers of the best `k` rows whose bit is set in `allowed`, best first, without
 * padding (or among explicit `rows`). The ranking is the metric's (cosine over the stored vectors as they are); callers
 * score the returned rows themselves so every path reports identical scores.
 */
export function exactTopRows(
  vectors: Float32Array,
  dimension: number,
  query: Float32Array,
  k: number,
  metric: Metric,
  allowed: Uint8Array | undefined,
  rows?: Int32Array,
): Int32Array {
  const { labels } = scanRows(
    vectors,
    dimension,
    query,
    k,
    metric === 'euclidean' ? 'l2' : metric === 'dotproduct' ? 'ip' : 'cosine',
    rows ? { rows } : allowed ? { allowed } : undefined,
  );
  let n = labels.length;
  while (n > 0 && labels[n - 1]! < 0) n--;
  return n === labels.length ? labels : labels.subarray(0, n);
}
