import { describe, expect, it } from 'vitest';
import { meanRecall, runConcurrent } from './stats.ts';

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
});
