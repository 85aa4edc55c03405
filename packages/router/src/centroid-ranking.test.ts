import { exactTopRows } from '@conifer/slab';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CentroidRanking } from './centroid-ranking.ts';

const DIM = 4;

function layout(centroids: Float32Array) {
  const nlist = centroids.length / DIM;
  return { centroids, offsets: Int32Array.from({ length: nlist + 1 }, (_, i) => i), rows: Int32Array.from({ length: nlist }, (_, i) => i) };
}

describe('CentroidRanking', () => {
  it('answers any sequence of nprobes as a fresh ranking of the centroids would, once per quantizer', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 150 }).chain((nlist) =>
          fc.record({
            centroids: fc.array(fc.float({ min: -100, max: 100, noNaN: true, noDefaultInfinity: true }), { minLength: nlist * DIM, maxLength: nlist * DIM }),
            asks: fc.array(fc.integer({ min: 1, max: nlist }), { minLength: 1, maxLength: 6 }),
            query: fc.array(fc.float({ min: -100, max: 100, noNaN: true, noDefaultInfinity: true }), { minLength: DIM, maxLength: DIM }),
          }),
        ),
        ({ centroids, asks, query }) => {
          const ranking = new CentroidRanking();
          const probe = Float32Array.from(query);
          // Two slabs trained from one donor: equal centroids in separate arrays.
          const a = layout(Float32Array.from(centroids));
          const b = layout(Float32Array.from(centroids));
          const full = exactTopRows(a.centroids, DIM, probe, a.offsets.length - 1, 'euclidean', undefined);
          for (const n of asks) {
            const fromA = ranking.nearest(a, DIM, probe, 'euclidean', false, n);
            const fromB = ranking.nearest(b, DIM, probe, 'euclidean', false, n);
            // Distances, not positions: equal distances may rank either way.
            const distance = (list: number) => a.centroids.subarray(list * DIM, (list + 1) * DIM).reduce((s, x, i) => s + (x - probe[i]!) ** 2, 0);
            expect([...fromA].map(distance)).toEqual([...full.subarray(0, n)].map(distance));
            // The second slab reuses the first one's ranking.
            expect(fromB.buffer).toBe(fromA.buffer);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('ranks once for slabs that ask for a few lists more than the first one did', () => {
    // A small slab beside a large one on the same quantizer asks for a knob a list or two apart
    // from the large slab's; whichever asks first, the other must not rank every centroid again.
    const ranking = new CentroidRanking();
    const probe = Float32Array.of(0, 0, 0, 0);
    const centroids = Float32Array.from({ length: 64 * DIM }, (_, i) => Math.floor(i / DIM) + 1);
    const small = layout(Float32Array.from(centroids));
    const large = layout(Float32Array.from(centroids));
    const first = ranking.nearest(small, DIM, probe, 'euclidean', false, 6);
    expect([...first]).toEqual([0, 1, 2, 3, 4, 5]);
    const second = ranking.nearest(large, DIM, probe, 'euclidean', false, 7);
    expect([...second]).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(second.buffer).toBe(first.buffer);
    // Far more than asked first: ranked again.
    expect(ranking.nearest(large, DIM, probe, 'euclidean', false, 40).buffer).not.toBe(first.buffer);
  });

  it('ranks different centroids, or the normalized query, separately', () => {
    const ranking = new CentroidRanking();
    const probe = Float32Array.of(1, 0, 0, 0);
    const near = layout(Float32Array.of(1, 0, 0, 0, 5, 0, 0, 0));
    const far = layout(Float32Array.of(5, 0, 0, 0, 1, 0, 0, 0));
    expect([...ranking.nearest(near, DIM, probe, 'euclidean', false, 1)]).toEqual([0]);
    expect([...ranking.nearest(far, DIM, probe, 'euclidean', false, 1)]).toEqual([1]);
    const again = layout(Float32Array.of(1, 0, 0, 0, 5, 0, 0, 0));
    expect(ranking.nearest(again, DIM, probe, 'euclidean', true, 1).buffer).not.toBe(ranking.nearest(near, DIM, probe, 'euclidean', false, 1).buffer);
  });
});
