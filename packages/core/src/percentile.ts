/**
 * The nearest-rank percentile of an ascending array: the smallest sample with at least p% of the
 * samples at or below it (p in 0–100); NaN for no samples. One definition for every latency
 * figure the benchmarks, the soak and the emulator measurements print, so their p50/p99 compare.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
