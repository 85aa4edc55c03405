import { describe, expect, it } from 'vitest';
import { meanRecall, runConcurrent, splitAtStart } from './stats.ts';

describe('bench stats', () => {
  it('averages recall over a run, reusing truth rows round-robin', () => {
    const truth = Int32Array.from([1, 2, 3, 4]); // k = 2, two queries
    expect(
      meanRecall(
        2,
        [
          [1, 2],
          [4, 9],
          [1, 9],
        ],
        truth,
        2,
      ),
    ).toBeCloseTo((1 + 0.5 + 0.5) / 3);
    expect(meanRecall(2, [], truth, 2)).toBeNaN();
  });

  it('runs every call once and lets the event loop turn between calls', async () => {
    let turned = false;
    setImmediate(() => (turned = true));
    const seen: boolean[] = [];
    const run = await runConcurrent(10, 3, async (i) => {
      seen[i] = turned;
    });
    expect(run.latencies).toHaveLength(10);
    expect(seen).toEqual(new Array(10).fill(true));
  });

  it('splits calls by when they started, not by when they ended', () => {
    // Call 1 started before the boundary and ended after it: it counts before.
    const split = splitAtStart([0, 90, 100, 150], [5, 30, 1, 2], 100);
    expect(split.before.queries).toBe(2);
    expect(split.before.p99Ms).toBe(30);
    expect(split.after).toEqual({ queries: 2, p50Ms: expect.any(Number), p99Ms: 2 });
    expect(splitAtStart([], [], 10)).toEqual({ before: { queries: 0, p50Ms: 0, p99Ms: 0 }, after: { queries: 0, p50Ms: 0, p99Ms: 0 } });
  });
});
