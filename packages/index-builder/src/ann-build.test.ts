import { mulberry32 } from '@conifer/core';
import { describe, expect, it } from 'vitest';
import { CALIBRATION_MARGIN } from '@conifer/slab';
import { FaissIndex } from '@conifer/faiss';
import { buildAnn, chooseFactory, DEFAULT_ANN_POLICY, donorFits, exactNeighbours, knobSteps, MIN_ROWS_PER_DONOR_LIST } from './ann-build.ts';

/** Clustered vectors (so IVF has structure to learn), seeded. */
function clustered(n: number, dim: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  const centres = Array.from({ length: 40 }, () => Array.from({ length: dim }, () => rand() * 10));
  const out = new Float32Array(n * dim);
  for (let r = 0; r < n; r++) {
    const c = centres[Math.floor(rand() * centres.length)]!;
    for (let d = 0; d < dim; d++) out[r * dim + d] = c[d]! + (rand() - 0.5);
  }
  return out;
}

describe('buildAnn', { timeout: 60_000 }, () => {
  const dim = 16;
  const policy = { ...DEFAULT_ANN_POLICY, minRows: 1000 };

  it('trains on a sample, then a later build reuses that quantizer and still meets the target', async () => {
    const first = await buildAnn(clustered(8000, dim, 1), 8000, dim, 'euclidean', policy);
    expect(first.trained).toBe('sample');
    const second = await buildAnn(clustered(6_000, dim, 2), 6_000, dim, 'euclidean', policy, { header: first.header, bytes: first.donor });
    expect(second.trained).toBe('donor');
    expect(second.header.factory).toBe(first.header.factory);
    expect(second.header.calibration.at(-1)!.recall).toBeGreaterThanOrEqual(policy.recallTarget + CALIBRATION_MARGIN);
  });

  it('calibrates recall per rank beside recall@10, at knobs about 1.5x apart', async () => {
    const built = await buildAnn(clustered(8000, dim, 5), 8000, dim, 'euclidean', policy);
    const nlist = Number(/^IVF(\d+)/.exec(built.header.factory)![1]);
    const points = built.header.calibration;
    expect(points.map((p) => p.value)).toEqual(knobSteps(nlist).slice(0, points.length));
    for (const point of points) {
      expect(point.byRank).toHaveLength(10);
      // Every sample query has ten neighbours, so recall@10 is the mean of the ranks' recalls.
      expect(point.byRank!.reduce((a, b) => a + b, 0) / 10).toBeCloseTo(point.recall, 3);
    }
    // More lists never find fewer neighbours of a rank; the nearest is found most often.
    for (let i = 1; i < points.length; i++) points[i]!.byRank!.forEach((recall, r) => expect(recall).toBeGreaterThanOrEqual(points[i - 1]!.byRank![r]!));
    expect(points[0]!.byRank![0]!).toBeGreaterThanOrEqual(points[0]!.byRank![9]!);
  });

  it('trains afresh when the donor does not fit', async () => {
    const cosine = await buildAnn(clustered(8000, dim, 3), 8000, dim, 'cosine', policy);
    const euclidean = await buildAnn(clustered(8000, dim, 4), 8000, dim, 'euclidean', policy, { header: cosine.header, bytes: cosine.donor });
    expect(euclidean.trained).toBe('sample');
    const fits = (header: typeof cosine.header, count: number, dimension = dim) =>
      donorFits(header, chooseFactory(count, dimension).factory, 'ip', true, count);
    expect(fits(cosine.header, 8000)).toBe(true);
    // A donor with fewer lists than the size wants would make queries scan more rows: retrain.
    // One with up to twice as many (a smaller output) is fine.
    expect(fits(cosine.header, 32_000)).toBe(false);
    expect(fits(cosine.header, 2_000)).toBe(true);
    expect(fits(cosine.header, 500)).toBe(false);
    expect(fits(cosine.header, 8000, 600)).toBe(false);
    // More than twice as many while the slab keeps a few rows per list: a small slab beside a
    // 1M-row slab's 4,096 lists (35,000 rows would get 1,024 lists of their own).
    const large = { ...cosine.header, factory: 'IVF4096,Flat' };
    expect(chooseFactory(35_000, dim).factory).toBe('IVF1024,Flat');
    expect(fits(large, 35_000)).toBe(true);
    expect(fits(large, 4096 * MIN_ROWS_PER_DONOR_LIST)).toBe(true);
    expect(fits(large, 4096 * MIN_ROWS_PER_DONOR_LIST - 1)).toBe(false);
  });

  it('builds a small slab on the quantizer of a larger one, with more lists than its size would get, and meets the target', async () => {
    // 40,000 rows get 1,024 lists; 4,096 rows of the same data would get 256 of their own.
    const data = clustered(40_000, dim, 5);
    const first = await buildAnn(data, 40_000, dim, 'euclidean', policy);
    expect(first.header.factory).toBe('IVF1024,Flat');
    const count = 1024 * MIN_ROWS_PER_DONOR_LIST;
    expect(chooseFactory(count, dim).factory).toBe('IVF256,Flat');
    const small = await buildAnn(data.slice(0, count * dim), count, dim, 'euclidean', policy, { header: first.header, bytes: first.donor });
    expect(small.trained).toBe('donor');
    expect(small.header.factory).toBe('IVF1024,Flat');
    expect(small.layout.centroids).toEqual(first.layout.centroids);
    expect(small.header.calibration.at(-1)!.recall).toBeGreaterThanOrEqual(policy.recallTarget + CALIBRATION_MARGIN);
  });
});

describe('knobSteps', () => {
  it('goes 1, 2, 3, 4, 6, 8, … up to nlist', () => {
    expect(knobSteps(1)).toEqual([1]);
    expect(knobSteps(16)).toEqual([1, 2, 3, 4, 6, 8, 12, 16]);
    for (const nlist of [64, 4096, 65_536]) {
      const steps = knobSteps(nlist);
      expect(steps.at(-1)).toBe(nlist);
      for (let i = 1; i < steps.length; i++) expect(steps[i]! / steps[i - 1]!).toBeLessThanOrEqual(2);
    }
  });
});

describe('exactNeighbours (the calibration’s ground truth, by chunks)', () => {
  it.each(['l2', 'ip'] as const)('answers what one Flat index over every row answers (%s), whatever the chunk size', async (metric) => {
    const rand = mulberry32(7);
    const dimension = 16;
    const data = Float32Array.from({ length: 1000 * dimension }, () => rand() * 2 - 1);
    const queries = Float32Array.from({ length: 20 * dimension }, () => rand() * 2 - 1);
    const flat = FaissIndex.create(dimension, 'Flat', metric);
    try {
      await flat.add(data);
      const expected = (await flat.search(queries, 11)).labels;
      for (const chunkRows of [1, 7, 100, 999, 1000, 5000]) {
        expect(await exactNeighbours(data, dimension, metric, queries, 11, chunkRows)).toEqual(expected);
      }
    } finally {
      flat.dispose();
    }
  });

  it('pads with -1 when there are fewer rows than k', async () => {
    const got = await exactNeighbours(Float32Array.of(0, 0, 1, 1), 2, 'l2', Float32Array.of(1, 1), 3, 1);
    expect(Array.from(got)).toEqual([1, 0, -1]);
  });
});
