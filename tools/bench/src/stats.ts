/** Latency summaries. */
export function percentile(sortedMs: number[], p: number): number {
  if (sortedMs.length === 0) return NaN;
  const i = Math.min(sortedMs.length - 1, Math.max(0, Math.ceil((p / 100) * sortedMs.length) - 1));
  return sortedMs[i]!;
}

export interface LatencySummary {
  p50: number;
  p99: number;
  mean: number;
  qps: number;
}

export function summarize(latenciesMs: number[], wallMs: number): LatencySummary {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
    qps: (sorted.length / wallMs) * 1000,
  };
}

/** Runs `count` calls of `fn(i)` with `concurrency` in flight; returns per-call latencies and wall time. */
export async function runConcurrent(count: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<{ latencies: number[]; wallMs: number }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++;
        if (i >= count) return;
        const t = performance.now();
        await fn(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { latencies, wallMs: performance.now() - started };
}

export function recallAt(k: number, truth: ArrayLike<number>, got: ArrayLike<number>): number {
  const want = new Set(Array.from(truth).slice(0, k).filter((x) => x >= 0));
  if (want.size === 0) return 1;
  let hits = 0;
  for (const x of Array.from(got).slice(0, k)) if (want.has(x)) hits++;
  return hits / want.size;
}
