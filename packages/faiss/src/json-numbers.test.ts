import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readNumberArray, type NumberArrayRead } from './json-numbers.ts';

/** What the JS reader promises: Math.fround(JSON.parse(text)) for each value, or a refusal. */
function model(text: string): { ok: true; values: number[] } | { ok: false } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false };
  }
  if (!Array.isArray(parsed) || !parsed.every((v) => typeof v === 'number')) return { ok: false };
  const values = (parsed as number[]).map((v) => Math.fround(v));
  return values.every(Number.isFinite) ? { ok: true, values } : { ok: false };
}

function read(text: string, capacity = 64): { outcome: string; values: number[]; read: NumberArrayRead } {
  const bytes = Buffer.from(` ${text} `, 'latin1');
  const out = new Float32Array(capacity + 1);
  const result = { end: 0, count: 0 };
  const outcome = readNumberArray(bytes, 1, out, 1, result);
  return { outcome, values: Array.from(out.subarray(1, 1 + result.count)), read: result };
}

const jsonNumber = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
  fc.float({ noNaN: true, noDefaultInfinity: true }).map((f) => JSON.stringify(f)),
  fc
    .tuple(
      fc.boolean(),
      fc.stringMatching(/^(0|[1-9][0-9]{0,25})$/),
      fc.option(fc.stringMatching(/^[0-9]{1,30}$/)),
      fc.option(fc.integer({ min: -400, max: 400 })),
    )
    .map(([negative, int, frac, exp]) => `${negative ? '-' : ''}${int}${frac === null ? '' : `.${frac}`}${exp === null ? '' : `e${exp}`}`),
);
const space = fc.constantFrom('', ' ', '\n', '\t', '\r\n ');

describe('readNumberArray', () => {
  it('reads every array of JSON numbers exactly as Math.fround(JSON.parse(text))', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(space, jsonNumber, space), { maxLength: 40 }), space, (items, inner) => {
        const text = items.length === 0 ? `[${inner}]` : `[${items.map(([a, n, b]) => `${a}${n}${b}`).join(',')}]`;
        const expected = model(text);
        const got = read(text);
        if (!expected.ok) {
          expect(got.outcome).toBe('invalid');
          return;
        }
        expect(got.outcome).toBe('ok');
        expect(got.read.end).toBe(1 + text.length);
        expect(got.values).toEqual(expected.values);
      }),
      { numRuns: 2_000 },
    );
  });

  it('refuses what JSON.parse refuses, or what is not a finite float32', () => {
    for (const text of [
      '[',
      '[1,]',
      '[,1]',
      '[01]',
      '[1.]',
      '[.5]',
      '[+1]',
      '[1e]',
      '[-]',
      '[NaN]',
      '[Infinity]',
      '[1 2]',
      '["1"]',
      '[1e39]',
      '[-3.5e38]',
      '[1e400]',
      '[0x10]',
      '[1.e5]',
      '[-01]',
      '[00]',
      '[-.5]',
      '[1e+]',
      '[1.5e]',
      '[1.5e-]',
      '[inf]',
      '[-inf]',
      '[nan]',
      '[infinity]',
      '[1,-]',
      '[2.]',
      '[- 1]',
      '1',
    ]) {
      expect(model(text).ok, text).toBe(false);
      expect(read(text).outcome, text).toBe('invalid');
    }
    expect(read('[1e-400, -1e-400]').values).toEqual([0, -0]);
    expect(read('[3.4028235e38]').values).toEqual([Math.fround(3.4028235e38)]);
  });

  it('agrees with JSON.parse on arrays of anything made of number characters (fast-check)', () => {
    // Near-misses of the grammar: what a number reader built on strtod-like parsing could accept.
    const token = fc.stringMatching(/^[-+.eE0-9xinfa]{1,12}$/);
    fc.assert(
      fc.property(fc.array(fc.tuple(space, token, space), { minLength: 1, maxLength: 6 }), (items) => {
        const text = `[${items.map(([a, t, b]) => `${a}${t}${b}`).join(',')}]`;
        const expected = model(text);
        const got = read(text);
        expect(got.outcome, text).toBe(expected.ok ? 'ok' : 'invalid');
        if (expected.ok) expect(got.values, text).toEqual(expected.values);
      }),
      { numRuns: 5_000 },
    );
  });

  it('says how many numbers there are when the output is too short', () => {
    const got = read('[1,2,3,4,5]', 3);
    expect(got.outcome).toBe('no-room');
    expect(got.read.count).toBe(5);
    expect(read('[1,2,3]', 3).values).toEqual([1, 2, 3]);
  });
});
