import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { float32ArrayToNumbers, float32ToShortest } from './float.ts';

/** Significant digits of a number as JS prints it (1.25e-7 → 3, 11000000000 → 2). */
function significantDigits(n: number): number {
  return Math.abs(n).toExponential().split('e')[0]!.replace('.', '').length;
}

/**
 * Reference: the fewest significant digits of any decimal that rounds to the float32 `x`, by brute
 * force — at each precision, the nearest decimal and both its neighbours.
 */
function fewestDigits(x: number): number {
  for (let precision = 1; precision <= 9; precision++) {
    const [mantissa, exponent] = x.toExponential(precision - 1).split('e') as [string, string];
    const unit = 10 ** -(precision - 1);
    for (const step of [-1, 0, 1]) {
      const candidate = Number(`${(Number(mantissa) + step * unit).toFixed(precision - 1)}e${exponent}`);
      if (Math.fround(candidate) === x) return precision;
    }
  }
  throw new Error(`no decimal of at most 9 digits rounds to ${x}`);
}

/** Every finite float32 is reachable: build them from random bit patterns. */
const float32 = fc
  .integer({ min: 0, max: 0xffffffff })
  .map((bits) => new Float32Array(new Uint32Array([bits]).buffer)[0]!)
  .filter(Number.isFinite);

describe('float32ToShortest', () => {
  it('gives back what the client sent for common decimals', () => {
    for (const sent of [0.1, 0.2, 0.3, -0.7, 1.5, 3.14159, 1e-7, 123.456, 0.001, 42]) expect(float32ToShortest(Math.fround(sent))).toBe(sent);
    expect(Math.fround(0.1)).not.toBe(0.1); // the problem being solved
  });

  it('shortens large and tiny float32 values too', () => {
    // Regression: float32 integers above 2^24 were returned as stored (11000000512).
    expect(float32ToShortest(Math.fround(1.1e10))).toBe(1.1e10);
    expect(float32ToShortest(Math.fround(-3.4e38))).toBe(-3.4e38);
    expect(float32ToShortest(3.4028234663852886e38)).toBe(3.4028235e38); // float32 max
    expect(float32ToShortest(Math.fround(1e-45))).toBe(1e-45); // smallest subnormal
    // Regression: at a power of two the nearest 8-digit decimal misses, the next one up does not.
    expect(float32ToShortest(2 ** -96)).toBe(1.2621775e-29);
  });

  it('keeps integers exactly representable in float32', () => {
    for (const n of [1, -1, 7, 1024, 16_777_215, 16_777_216, -16_777_216]) expect(float32ToShortest(n)).toBe(n);
  });

  it('passes zero, NaN and infinities through', () => {
    expect(float32ToShortest(0)).toBe(0);
    expect(Object.is(float32ToShortest(-0), -0)).toBe(true);
    expect(float32ToShortest(Number.NaN)).toBeNaN();
    expect(float32ToShortest(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
    expect(float32ToShortest(Number.NEGATIVE_INFINITY)).toBe(Number.NEGATIVE_INFINITY);
  });

  it('round-trips every float32, with no more digits than String(x)', () => {
    fc.assert(
      fc.property(fc.oneof(float32, fc.float({ noNaN: true })), (x) => {
        const shortest = float32ToShortest(x);
        expect(Object.is(Math.fround(shortest), x)).toBe(true);
        // Digits rather than string length: JS prints 1e15 as "1000000000000000", longer than
        // "999999986991104" though it is the shorter decimal.
        expect(significantDigits(shortest)).toBeLessThanOrEqual(significantDigits(x));
      }),
      { numRuns: 20_000 },
    );
  });

  it('finds the fewest digits that round-trip', () => {
    fc.assert(
      fc.property(
        float32.filter((x) => x !== 0),
        (x) => {
          expect(significantDigits(float32ToShortest(x))).toBe(fewestDigits(x));
        },
      ),
      { numRuns: 20_000 },
    );
    for (let e = -149; e <= 127; e++) {
      for (const x of [2 ** e, -(2 ** e)]) expect(significantDigits(float32ToShortest(x)), `2^${e}`).toBe(fewestDigits(x));
    }
  });
});

describe('float32ArrayToNumbers', () => {
  it('converts every element', () => {
    const values = new Float32Array([0.1, -0.25, 1e-7, 0, 16_777_217]);
    expect(float32ArrayToNumbers(values)).toEqual([0.1, -0.25, 1e-7, 0, 16_777_216]);
    expect(float32ArrayToNumbers(new Float32Array(0))).toEqual([]);
  });
});
