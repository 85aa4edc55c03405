import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeSq8, scanCodes, setScanKernel, trainSq8 } from './index.ts';
import type { ScanKernel, ScanMetric } from './index.ts';

const METRICS: readonly ScanMetric[] = ['l2', 'ip', 'cosine'];
const DETECTED: ScanKernel = setScanKernel('auto');
const KERNELS: readonly ScanKernel[] = DETECTED === 'avx2' ? ['sse', 'avx2'] : ['sse'];

afterAll(() => {
  setScanKernel('auto');
});

/** The rows' codes and the rows the codes decode to (what scanCodes must rank). */
function quantized(vectors: Float32Array, d: number): { codes: Uint8Array; decoded: Float32Array; params: ReturnType<typeof trainSq8> } {
  const n = vectors.length / d;
  const params = trainSq8(d, n, (row) => vectors.subarray(row * d, (row + 1) * d));
  const codes = new Uint8Array(n * d);
  for (let row = 0; row < n; row++) encodeSq8(vectors.subarray(row * d, (row + 1) * d), params, codes.subarray(row * d, (row + 1) * d));
  const decoded = new Float32Array(n * d);
  for (let i = 0; i < n * d; i++) decoded[i] = params.min[i % d]! + params.step[i % d]! * codes[i]!;
  return { codes, decoded, params };
}

const arbCase = fc
  .record({
    d: fc.integer({ min: 1, max: 70 }),
    n: fc.integer({ min: 1, max: 60 }),
    k: fc.integer({ min: 1, max: 12 }),
    metric: fc.constantFrom(...METRICS),
    kernel: fc.constantFrom(...KERNELS),
    seed: fc.integer(),
  })
  .chain((c) =>
    fc.record({
      c: fc.constant(c),
      vectors: fc.array(fc.float({ min: -100, max: 100, noNaN: true, noDefaultInfinity: true }), { minLength: c.n * c.d, maxLength: c.n * c.d }),
      query: fc.array(fc.float({ min: -100, max: 100, noNaN: true, noDefaultInfinity: true }), { minLength: c.d, maxLength: c.d }),
      rows: fc.option(fc.uniqueArray(fc.integer({ min: 0, max: c.n - 1 }), { maxLength: c.n }), { nil: undefined }),
    }),
  );

describe('SQ8 codes', () => {
  it('a code is within half a step of the value it encodes', () => {
    fc.assert(
      fc.property(fc.array(fc.float({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }), { minLength: 8, maxLength: 400 }), (values) => {
        const d = 4;
        const n = Math.floor(values.length / d);
        const vectors = Float32Array.from(values.slice(0, n * d));
        const { decoded, params } = quantized(vectors, d);
        for (let i = 0; i < n * d; i++) {
          const bound = params.step[i % d]! / 2 + Math.abs(vectors[i]!) * 1e-6 + 1e-6;
          expect(Math.abs(decoded[i]! - vectors[i]!)).toBeLessThanOrEqual(bound);
        }
      }),
    );
  });

  it('scanCodes returns the top k of the decoded rows, scored as they are, on every kernel', () => {
    fc.assert(
      fc.property(arbCase, ({ c, vectors, query, rows }) => {
        setScanKernel(c.kernel);
        const { codes, decoded, params } = quantized(Float32Array.from(vectors), c.d);
        const q = Float32Array.from(query);
        const eligible = rows ? Int32Array.from(rows) : undefined;
        const got = scanCodes(codes, c.d, q, c.k, c.metric, params, eligible);
        // Reference: each decoded row's score in double. The kernels sum in float, and for 'ip'
        // they add Σ q·min to Σ (q·step)·code, terms up to `scale` that may cancel: scores agree
        // within float rounding of that scale (for 'cosine', of that scale over |q|·|x|).
        let scale = 0;
        for (let j = 0; j < c.d; j++) scale += (Math.abs(q[j]!) + Math.abs(params.min[j]!) + 255 * params.step[j]!) ** 2;
        let qq = 0;
        for (let j = 0; j < c.d; j++) qq += q[j]! * q[j]!;
        const score = (row: number): { value: number; tol: number } => {
          let l2 = 0;
          let ip = 0;
          let xx = 0;
          for (let j = 0; j < c.d; j++) {
            const x = decoded[row * c.d + j]!;
            l2 += (x - q[j]!) ** 2;
            ip += x * q[j]!;
            xx += x * x;
          }
          if (c.metric === 'l2') return { value: l2, tol: 1e-4 * scale + 1e-6 };
          if (c.metric === 'ip') return { value: -ip, tol: 1e-4 * scale + 1e-6 };
          const denom = Math.sqrt(qq) * Math.sqrt(xx);
          return { value: denom === 0 ? 0 : -ip / denom, tol: denom === 0 ? 2 : Math.min(2, 1e-4 * (scale / denom) + 1e-6) };
        };
        const all = eligible ? [...eligible] : Array.from({ length: c.n }, (_, i) => i);
        const returned = [...got.labels].filter((row) => row >= 0);
        expect(returned.length).toBe(Math.min(c.k, all.length));
        expect(new Set(returned).size).toBe(returned.length);
        let worst = -Infinity;
        returned.forEach((row, i) => {
          const { value, tol } = score(row);
          const key = c.metric === 'l2' ? got.distances[i]! : -got.distances[i]!;
          expect(Math.abs(key - value)).toBeLessThanOrEqual(tol);
          worst = Math.max(worst, value - tol);
        });
        // No row left out is clearly better than the worst one returned.
        for (const row of all) {
          if (returned.includes(row)) continue;
          const { value, tol } = score(row);
          expect(value + tol).toBeGreaterThanOrEqual(worst - 1e-9);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('refuses bad arguments with a RangeError naming them', () => {
    const codes = new Uint8Array(8);
    const params = { min: new Float32Array(4), step: new Float32Array(4) };
    expect(() => scanCodes(codes, 3, new Float32Array(3), 1, 'l2', params)).toThrow(/codes.length/);
    expect(() => scanCodes(codes, 4, new Float32Array(3), 1, 'l2', params)).toThrow(/query.length/);
    expect(() => scanCodes(codes, 4, new Float32Array(4), 1, 'l2', { min: new Float32Array(3), step: new Float32Array(4) })).toThrow(/min and step/);
    expect(() => scanCodes(codes, 4, new Float32Array(4), 1, 'l2', params, Int32Array.of(2))).toThrow(/rows\[0\]/);
    expect(() => scanCodes(codes, 4, new Float32Array(4), 1, 'hamming' as ScanMetric, params)).toThrow(/metric/);
  });

  it('a dimension with one value decodes exactly to it', () => {
    const vectors = Float32Array.of(3, 1, 3, 2, 3, 5);
    const { decoded, params } = quantized(vectors, 2);
    expect(params.step[0]).toBe(0);
    expect([decoded[0], decoded[2], decoded[4]]).toEqual([3, 3, 3]);
  });
});
