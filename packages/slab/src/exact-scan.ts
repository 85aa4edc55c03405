import type { Metric } from '@conifer/core';
import { scanRows, type ScanMetric, type ScanResult } from '@conifer/faiss';

/** The native scans' name for a metric (cosine over the stored vectors as they are). */
export function scanMetricOf(metric: Metric): ScanMetric {
  return metric === 'euclidean' ? 'l2' : metric === 'dotproduct' ? 'ip' : 'cosine';
}

/** A native scan's result without the padding (label -1) at its end: views, no copy. */
export function withoutPadding({ labels, distances }: ScanResult): { labels: Int32Array; distances: Float32Array } {
  let n = labels.length;
  while (n > 0 && labels[n - 1]! < 0) n--;
  return n === labels.length ? { labels, distances } : { labels: labels.subarray(0, n), distances: distances.subarray(0, n) };
}

/**
 * Exact top-k of `query` over packed rows (a slab's vectors or a memtable chunk), natively and
 * in place: row numbers of the best `k` rows whose bit is set in `allowed`, best first, without
 * padding (or among explicit `rows`; with `positions`, row r's vector is at `positions[r]`, as in
 * a slab stored in list order). The ranking is the metric's (cosine over the stored vectors as
 * they are); callers score the returned rows themselves so every path reports identical scores.
 */
export function exactTopRows(
  vectors: Float32Array,
  dimension: number,
  query: Float32Array,
  k: number,
  metric: Metric,
  allowed: Uint8Array | undefined,
  rows?: Int32Array,
  positions?: Uint32Array,
): Int32Array {
  const options = rows ? { rows, positions } : allowed ? { allowed } : undefined;
  return withoutPadding(scanRows(vectors, dimension, query, k, scanMetricOf(metric), options)).labels;
}
