import { mulberry32 } from '@conifer/core';
import { describe, expect, it } from 'vitest';
import { computeTrend, fitLine, median, type Sample, type TrendOptions } from './trend.ts';

const RSS: TrendOptions = { unit: 'MiB', floorPerMin: 1, warmupS: 30, minFitS: 120, minSamples: 20, phaseWindowS: 30 };

/**
 * A synthetic run sampled every 2 s: restarts at `restarts` (s), then a restart-free tail until
 * `endS`. Each epoch warms up from 200 to `level(epoch)` MiB over 20 s, then follows
 * `level + leakPerMin × minutes since its start` plus AR(1) noise (ρ = 0.9, like a process's
 * memory from one sample to the next).
 */
function run(options: { restarts: number[]; endS: number; level: (epoch: number) => number; leakPerMin: number; noise: number; seed?: number }): {
  samples: Sample[];
  starts: Map<number, number>;
} {
  const random = mulberry32(options.seed ?? 7);
  const starts = new Map<number, number>([[1, 0]]);
  options.restarts.forEach((t, i) => starts.set(i + 2, t + 4));
  const samples: Sample[] = [];
  let noise = 0;
  for (let t = 0; t <= options.endS; t += 2) {
    const epoch = [...starts].filter(([, s]) => s <= t).length;
    const since = t - starts.get(epoch)!;
    if (options.restarts.some((r) => t >= r && t < r + 4)) continue; // server down
    noise = 0.9 * noise + (random() - 0.5) * options.noise;
    const level = options.level(epoch);
    const warm = since < 20 ? 200 + ((level - 200) * since) / 20 : level;
    samples.push({ t, epoch, value: warm + (options.leakPerMin * since) / 60 + noise });
  }
  return { samples, starts };
}

const RESTARTS_30_MIN = [100, 250, 330, 480, 600, 720, 860, 1000, 1100, 1200];

describe('fitLine', () => {
  it('recovers the slope of a line exactly, with a zero-width interval', () => {
    const xs = [0, 1, 2, 3, 4];
    const { slope, ci } = fitLine(
      xs,
      xs.map((x) => 3 + 2.5 * x),
      true,
    );
    expect(slope).toBeCloseTo(2.5, 12);
    expect(ci).toBeCloseTo(0, 12);
  });

  it('widens the interval for autocorrelated residuals', () => {
    const random = mulberry32(3);
    let e = 0;
    const xs = Array.from({ length: 200 }, (_, i) => i);
    const ys = xs.map(() => (e = 0.95 * e + random() - 0.5));
    expect(fitLine(xs, ys, true).ci).toBeGreaterThan(2 * fitLine(xs, ys, false).ci);
  });
});

describe('computeTrend', () => {
  it('finds no growth in a flat run whatever the restarts do to the level', () => {
    const { samples, starts } = run({ restarts: RESTARTS_30_MIN, endS: 1800, level: (e) => 400 + 15 * Math.sin(e), leakPerMin: 0, noise: 12 });
    const trend = computeTrend(samples, starts, RSS);
    expect(trend.verdict).toBe('no growth trend');
    expect(trend.steady!.fromS).toBeGreaterThanOrEqual(1204 + 30);
    expect(trend.across!.epochs).toBeGreaterThanOrEqual(8);
    expect(trend.text).toMatch(/^no growth trend \(steady epoch: [+-]\d/);
  });

  it('reports a leak inside the steady epoch, though every restart resets it', () => {
    const { samples, starts } = run({ restarts: RESTARTS_30_MIN, endS: 1800, level: () => 400, leakPerMin: 4, noise: 12 });
    const trend = computeTrend(samples, starts, RSS);
    expect(trend.verdict).toBe('growth');
    expect(trend.steady!.slopePerMin).toBeGreaterThan(3);
    expect(trend.steady!.slopePerMin).toBeLessThan(5);
    expect(trend.text).toMatch(/^growth of \d\.\d\d MiB\/min/);
  });

  it('reports growth that survives restarts, from the epochs compared at the same phase', () => {
    const { samples, starts } = run({ restarts: RESTARTS_30_MIN, endS: 1800, level: (e) => 400 + 25 * e, leakPerMin: 0, noise: 4 });
    const trend = computeTrend(samples, starts, RSS);
    expect(trend.verdict).toBe('growth');
    expect(trend.steady!.slopePerMin - trend.steady!.ciPerMin).toBeLessThanOrEqual(1);
    expect(trend.across!.slopePerMin).toBeGreaterThan(5);
  });

  it('does not call a slope under the floor growth, however certain', () => {
    const { samples, starts } = run({ restarts: [], endS: 1800, level: () => 400, leakPerMin: 0.5, noise: 0 });
    const trend = computeTrend(samples, starts, RSS);
    expect(trend.steady!.slopePerMin).toBeCloseTo(0.5, 5);
    expect(trend.verdict).toBe('no growth trend');
  });

  it('says so when a short run cannot tell', () => {
    const { samples, starts } = run({ restarts: [8, 16], endS: 25, level: () => 400, leakPerMin: 0, noise: 5 });
    expect(computeTrend(samples, starts, RSS).verdict).toBe('insufficient data');
    expect(computeTrend([], new Map(), RSS).verdict).toBe('insufficient data');
  });

  it('median', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
  });
});
