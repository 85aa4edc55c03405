import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareHits, higherIsBetter, makeScorer, METRICS, type Metric } from './metric.ts';

const score = (metric: Metric, query: number[], vector: number[]) => makeScorer(metric, Float32Array.from(query))(Float32Array.from(vector), 0);

describe('makeScorer', () => {
  it('cosine is the cosine of the angle: 1 same direction, 0 orthogonal, -1 opposite', () => {
    expect(score('cosine', [1, 0], [3, 0])).toBeCloseTo(1, 6);
    expect(score('cosine', [1, 0], [0, 2])).toBeCloseTo(0, 6);
    expect(score('cosine', [1, 2], [-2, -4])).toBeCloseTo(-1, 6);
    expect(score('cosine', [1, 1], [1, 0])).toBeCloseTo(Math.SQRT1_2, 6);
  });

  it('cosine ignores magnitude and scores a zero vector 0 instead of NaN', () => {
    expect(score('cosine', [0.3, -0.4, 0.5], [3, -4, 5])).toBeCloseTo(1, 6);
    expect(score('cosine', [0, 0], [1, 1])).toBe(0);
    expect(score('cosine', [1, 1], [0, 0])).toBe(0);
  });

  it('dotproduct is the plain dot product', () => {
    expect(score('dotproduct', [1, 2, 3], [4, -5, 6])).toBe(12);
    expect(score('dotproduct', [2, 0], [3, 0])).toBe(6);
  });

  it('euclidean is the squared L2 distance, as Pinecone reports it', () => {
    expect(score('euclidean', [0, 0], [3, 4])).toBe(25);
    expect(score('euclidean', [1, 2, 3], [1, 2, 3])).toBe(0);
  });

  it('reads the vector at the given offset of a packed buffer', () => {
    const packed = Float32Array.from([9, 9, 1, 2, 3, 4]);
    expect(makeScorer('dotproduct', Float32Array.from([1, 1]))(packed, 2)).toBe(3);
    expect(makeScorer('euclidean', Float32Array.from([3, 4]))(packed, 4)).toBe(0);
  });

  it('agrees with the textbook formulas on random vectors', () => {
    const vector = fc.array(fc.float({ min: -10, max: 10, noNaN: true }), { minLength: 4, maxLength: 4 });
    fc.assert(
      fc.property(vector, vector, (q, v) => {
        const dot = q.reduce((s, x, i) => s + x * v[i]!, 0);
        const norm = (a: number[]) => Math.sqrt(a.reduce((s, x) => s + x * x, 0));
        expect(score('dotproduct', q, v)).toBeCloseTo(dot, 3);
        expect(score('euclidean', q, v)).toBeCloseTo(
          q.reduce((s, x, i) => s + (x - v[i]!) ** 2, 0),
          3,
        );
        const denominator = norm(q) * norm(v);
        expect(score('cosine', q, v)).toBeCloseTo(denominator === 0 ? 0 : dot / denominator, 5);
      }),
    );
  });
});

describe('compareHits', () => {
  const order = (metric: Metric, hits: { id: string; score: number }[]) => [...hits].sort(compareHits(metric)).map((h) => h.id);

  it('orders cosine and dotproduct hits highest score first', () => {
    const hits = [
      { id: 'a', score: 0.2 },
      { id: 'b', score: 0.9 },
      { id: 'c', score: -0.5 },
    ];
    expect(order('cosine', hits)).toEqual(['b', 'a', 'c']);
    expect(order('dotproduct', hits)).toEqual(['b', 'a', 'c']);
  });

  it('orders euclidean hits lowest distance first', () => {
    expect(
      order('euclidean', [
        { id: 'far', score: 10 },
        { id: 'near', score: 0.5 },
        { id: 'same', score: 0 },
      ]),
    ).toEqual(['same', 'near', 'far']);
  });

  it('breaks ties by ascending id, for every metric', () => {
    const tied = [
      { id: 'b', score: 1 },
      { id: 'a10', score: 1 },
      { id: 'a2', score: 1 },
      { id: 'z', score: 2 },
    ];
    expect(order('cosine', tied)).toEqual(['z', 'a10', 'a2', 'b']);
    expect(order('euclidean', tied)).toEqual(['a10', 'a2', 'b', 'z']);
  });

  it('is a total order: the sorted result does not depend on the input order', () => {
    const hits = fc.uniqueArray(fc.record({ id: fc.string({ maxLength: 3 }), score: fc.integer({ min: -3, max: 3 }) }), {
      selector: (h) => h.id,
      maxLength: 20,
    });
    fc.assert(
      fc.property(fc.constantFrom(...METRICS), hits, (metric, list) => {
        const sorted = order(metric, list);
        expect(order(metric, [...list].reverse())).toEqual(sorted);
        const compare = compareHits(metric);
        const byId = new Map(list.map((h) => [h.id, h]));
        for (let i = 1; i < sorted.length; i++) expect(compare(byId.get(sorted[i - 1]!)!, byId.get(sorted[i]!)!)).toBeLessThan(0);
      }),
    );
  });

  it('higherIsBetter is false only for euclidean', () => {
    expect(METRICS.filter(higherIsBetter)).toEqual(['cosine', 'dotproduct']);
  });
});
