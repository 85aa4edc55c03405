import { compareHits } from '@conifer/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TopK } from './top-k.ts';

describe('TopK', () => {
  it('keeps exactly the k best of any stream, best first', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.record({ id: fc.string(), score: fc.integer({ min: -5, max: 5 }) }), { selector: (h) => h.id }),
        fc.integer({ min: 1, max: 10 }),
        fc.constantFrom('cosine' as const, 'euclidean' as const),
        (hits, k, metric) => {
          const cmp = compareHits(metric);
          const top = new TopK(k, cmp);
          hits.forEach((h) => {
            // admits answers what push does: whether the hit is kept.
            const admitted = top.admits(h.score, h.id);
            top.push(h);
            expect(top.sorted().includes(h)).toBe(admitted);
          });
          expect(top.sorted()).toEqual([...hits].sort(cmp).slice(0, k));
        },
      ),
    );
  });
});
