import { describe, expect, it } from 'vitest';
import { gaussianMixture } from './dataset.ts';
import { recallAt, summarize } from './stats.ts';

describe('bench datasets', () => {
  it('are deterministic for a seed and hold queries out', () => {
    const a = gaussianMixture('t', 500, 8, 20, 7);
    const b = gaussianMixture('t', 500, 8, 20, 7);
    expect(a.vectors).toEqual(b.vectors);
    expect(a.queries.length).toBe(20 * 8);
    expect(gaussianMixture('t', 500, 8, 20, 8).vectors).not.toEqual(a.vectors);
    expect(Math.max(...a.buckets)).toBeLessThan(100);
  });

  it('computes recall and latency summaries', () => {
    expect(recallAt(3, [1, 2, 3], [3, 9, 1])).toBeCloseTo(2 / 3);
    const s = summarize([1, 2, 3, 4, 100], 1000);
    expect(s.p50).toBe(3);
    expect(s.p99).toBe(100);
    expect(s.qps).toBe(5);
  });
});
