import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sortedDistinct } from './sort-positions.ts';

describe('sortedDistinct', () => {
  it('equals a comparison sort without repeats, call after call (the scratch bitmap is left clear)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 5000 }), fc.array(fc.nat(), { maxLength: 300 })), { minLength: 1, maxLength: 5 }), (calls) => {
        for (const [bound, raw] of calls) {
          const values = Int32Array.from(raw, (v) => v % bound);
          const expected = [...new Set(values)].sort((a, b) => a - b);
          expect([...sortedDistinct(values, bound)]).toEqual(expected);
        }
      }),
      { numRuns: 300 },
    );
  });
});
