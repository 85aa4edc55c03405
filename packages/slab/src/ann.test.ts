import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CALIBRATION_MARGIN, knobFor, knobForRanks, knobForShare, type AnnHeader, type CalibrationPoint } from './ann.ts';

/** A calibration: increasing knobs, per-rank recall non-increasing in rank and growing with the knob. */
const calibrationArb: fc.Arbitrary<CalibrationPoint[]> = fc
  .array(fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 10, maxLength: 10 }), { minLength: 1, maxLength: 8 })
  .map((steps) => {
    const byRank = new Array<number>(10).fill(0);
    return steps.map((step, i) => {
      // Each point adds to the last one's recall per rank; the deeper ranks stay at most the shallower.
      for (let r = 0; r < 10; r++) byRank[r] = Math.min(1, byRank[r]! + step[r]! / 4000);
      for (let r = 1; r < 10; r++) byRank[r] = Math.min(byRank[r]!, byRank[r - 1]!);
      const recall = byRank.reduce((a, b) => a + b, 0) / 10;
      return { value: 2 ** i, recall, byRank: [...byRank] };
    });
  });

const header = (calibration: CalibrationPoint[]): AnnHeader => ({
  factory: 'IVF64,Flat',
  faissMetric: 'l2',
  normalized: false,
  param: 'nprobe',
  calibration,
  oversample: 1,
  recallTarget: 0.95,
});

/** The model: the expected recall over a slab's share of the top k, the binomial summed term by term. */
function modelKnob(calibration: CalibrationPoint[], target: number, share: number, topK: number): number {
  const choose = (n: number, k: number): number => {
    let c = 1;
    for (let i = 0; i < k; i++) c = (c * (n - i)) / (i + 1);
    return c;
  };
  const pmf = (j: number) => choose(topK, j) * share ** j * (1 - share) ** (topK - j);
  const wanted = Math.min(0.995, target + CALIBRATION_MARGIN);
  for (const point of calibration) {
    // E[recall] = E[Σ_{r ≤ J} p_r] / E[J], ranks past ten at the point's recall@10.
    let found = 0;
    for (let j = 1; j <= topK; j++) {
      let sum = 0;
      for (let r = 1; r <= j; r++) sum += r <= 10 ? point.byRank![r - 1]! : point.recall;
      found += pmf(j) * sum;
    }
    if (found / (topK * share) >= wanted) return point.value;
  }
  return calibration[calibration.length - 1]!.value;
}

const targetArb = fc.constantFrom(0.5, 0.8, 0.9, 0.95, 0.99);

describe('knobForShare', () => {
  it('is the knob of the expected recall over a binomial share of the top k', () => {
    fc.assert(
      fc.property(
        calibrationArb,
        targetArb,
        fc.double({ min: 0.01, max: 0.99, noNaN: true }),
        fc.integer({ min: 1, max: 40 }),
        (calibration, target, share, topK) => {
          expect(knobForShare(header(calibration), target, share, topK)).toBe(modelKnob(calibration, target, share, topK));
        },
      ),
    );
  });

  it('asks a lone slab, or one calibrated before per-rank figures, for recall@10', () => {
    fc.assert(
      fc.property(
        calibrationArb,
        targetArb,
        fc.double({ min: 0.01, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 100 }),
        (calibration, target, share, topK) => {
          expect(knobForShare(header(calibration), target, 1, topK)).toBe(knobFor(header(calibration), target));
          const old = calibration.map(({ value, recall }) => ({ value, recall }));
          expect(knobForShare(header(old), target, share, topK)).toBe(knobFor(header(old), target));
        },
      ),
    );
  });

  it('never asks a smaller share for more lists, nor more than recall@10 needs', () => {
    fc.assert(
      fc.property(
        calibrationArb,
        targetArb,
        fc.double({ min: 0.01, max: 1, noNaN: true }),
        fc.double({ min: 0.01, max: 1, noNaN: true }),
        (calibration, target, a, b) => {
          const [small, large] = a < b ? [a, b] : [b, a];
          const h = header(calibration);
          expect(knobForShare(h, target, small, 10)).toBeLessThanOrEqual(knobForShare(h, target, large, 10));
          expect(knobForShare(h, target, large, 10)).toBeLessThanOrEqual(knobFor(h, target));
        },
      ),
    );
  });
});

describe('knobForRanks', () => {
  it('is recall@10 for ten or more ranks, grows with the ranks, and asks nothing for none', () => {
    fc.assert(
      fc.property(calibrationArb, targetArb, fc.integer({ min: 1, max: 9 }), (calibration, target, found) => {
        const h = header(calibration);
        expect(knobForRanks(h, target, 10)).toBe(knobFor(h, target));
        expect(knobForRanks(h, target, 25)).toBe(knobFor(h, target));
        expect(knobForRanks(h, target, found)).toBeLessThanOrEqual(knobForRanks(h, target, found + 1));
        expect(knobForRanks(h, target, 0)).toBe(calibration[0]!.value);
      }),
    );
  });
});
