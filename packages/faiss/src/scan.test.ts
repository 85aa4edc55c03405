import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaissIndex, bitmapOf, emptyBitmap, isAllowed, scanKernel, scanRows, setScanKernel } from './index.ts';
import type { ScanKernel, ScanMetric, ScanOptions, ScanResult } from './index.ts';
import { mulberry32 } from '@conifer/core';

const METRICS: readonly ScanMetric[] = ['l2', 'ip', 'cosine'];

/** The kernels chosen at load ('avx2' when the CPU has AVX2 and FMA). */
const DETECTED: ScanKernel = setScanKernel('auto');
/** Every kernel set this CPU can run. */
const KERNELS: readonly ScanKernel[] = DETECTED === 'avx2' ? ['sse', 'avx2'] : ['sse'];

/**
 * Reference model: scores in double, rounded to float32 (what the addon returns), sorted by
 * (key, row) where key is the distance ('l2') or the negated score; padding -1 / ±Infinity.
 */
function reference(
  vectors: Float32Array,
  d: number,
  query: Float32Array,
  k: number,
  metric: ScanMetric,
  eligible: Iterable<number>,
): { distances: number[]; labels: number[] } {
  let qq = 0;
  for (let j = 0; j < d; j++) qq += query[j]! * query[j]!;
  const scored: { row: number; value: number; key: number }[] = [];
  for (const row of new Set(eligible)) {
    let l2 = 0;
    let ip = 0;
    let xx = 0;
    for (let j = 0; j < d; j++) {
      const x = vectors[row * d + j]!;
      const q = query[j]!;
      l2 += (q - x) * (q - x);
      ip += q * x;
      xx += x * x;
    }
    let value: number;
    if (metric === 'l2') value = l2;
    else if (metric === 'ip') value = ip;
    else {
      const denom = Math.sqrt(qq) * Math.sqrt(xx);
      value = denom === 0 ? 0 : ip / denom;
    }
    value = Math.fround(value);
    scored.push({ row, value, key: metric === 'l2' ? value : -value });
  }
  scored.sort((a, b) => a.key - b.key || a.row - b.row);
  const top = scored.slice(0, k);
  const pad = metric === 'l2' ? Infinity : -Infinity;
  return {
    distances: [...top.map((s) => s.value), ...Array<number>(k - top.length).fill(pad)],
    labels: [...top.map((s) => s.row), ...Array<number>(k - top.length).fill(-1)],
  };
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** Eligible rows of `options` over n rows, per the documented contract. */
function eligibleRows(n: number, options: ScanOptions | undefined): number[] {
  if (options?.rows !== undefined) return Array.from(options.rows);
  if (options?.allowed !== undefined) return range(n).filter((r) => isAllowed(options.allowed!, r));
  return range(n);
}

/** The rows found (labels without padding), ascending. */
function found(labels: Int32Array): number[] {
  return [...labels].filter((r) => r >= 0).sort((a, b) => a - b);
}

function uniform(n: number, seed: number): Float32Array {
  const random = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < out.length; i++) out[i] = random() * 2 - 1;
  return out;
}

/** Vectors with small integer components: every score is exact in float, so ties are real. */
function small(n: number, seed: number, max = 3): Float32Array {
  const random = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < out.length; i++) out[i] = Math.floor(random() * (2 * max + 1)) - max;
  return out;
}

function expectThrows(fn: () => unknown, type: typeof TypeError | typeof RangeError, message: RegExp): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(type);
  expect((error as Error).message).toMatch(message);
}

// Every behaviour test runs once per kernel set the CPU has (sse always; avx2 with AVX2 + FMA).
describe.each(KERNELS)('%s kernels', (kernel) => {
  beforeAll(() => {
    expect(setScanKernel(kernel)).toBe(kernel);
  });
  afterAll(() => {
    setScanKernel('auto');
  });

  describe('scanRows matches a brute-force reference on random data', () => {
    const d = 24;
    const n = 3000;
    const vectors = uniform(n * d, 11);
    const queries = uniform(5 * d, 12);
    const random = mulberry32(13);
    const subset = range(n).filter(() => random() < 0.1);
    const allowed = bitmapOf(n, subset);
    const rows = Int32Array.from([...subset].sort(() => random() - 0.5));
    const cases: [string, ScanOptions | undefined][] = [
      ['every row', undefined],
      ['a bitmap', { allowed }],
      ['explicit rows', { rows }],
    ];

    for (const metric of METRICS) {
      for (const [name, options] of cases) {
        it(`${metric}, ${name}: same labels, distances within float rounding`, () => {
          for (let q = 0; q < 5; q++) {
            const query = queries.subarray(q * d, (q + 1) * d);
            const got = scanRows(vectors, d, query, 10, metric, options);
            const want = reference(vectors, d, query, 10, metric, eligibleRows(n, options));
            expect(Array.from(got.labels)).toEqual(want.labels);
            got.distances.forEach((value, i) => {
              expect(Math.abs(value - want.distances[i]!)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(value)));
            });
            if (options !== undefined) for (const label of got.labels) expect(subset).toContain(label);
          }
        });
      }
    }

    it('returns fresh arrays of length k, best first', () => {
      const query = queries.subarray(0, d);
      const a = scanRows(vectors, d, query, 50, 'l2');
      const b = scanRows(vectors, d, query, 50, 'l2');
      expect(a.distances).toBeInstanceOf(Float32Array);
      expect(a.labels).toBeInstanceOf(Int32Array);
      expect(a.distances.length).toBe(50);
      expect(a.labels.length).toBe(50);
      expect(a.distances.buffer).not.toBe(b.distances.buffer);
      expect(a.labels.buffer).not.toBe(b.labels.buffer);
      for (let i = 1; i < 50; i++) expect(a.distances[i]!).toBeGreaterThanOrEqual(a.distances[i - 1]!);
      const ip = scanRows(vectors, d, query, 50, 'ip');
      for (let i = 1; i < 50; i++) expect(ip.distances[i]!).toBeLessThanOrEqual(ip.distances[i - 1]!);
    });
  });

  describe('scanRows agrees with a Flat index', () => {
    // Not bit for bit: the Flat index uses faiss's scalar kernels (one float accumulator, in
    // order), scanRows its own SIMD kernels (several accumulators, FMA in AVX2), so distances
    // differ in the last bits. Distances must agree to a relative 1e-5 (relative to max(1, |d|));
    // labels must be identical except where two distances are within that tolerance of each
    // other (a near tie may come out in either order), the k+1-th neighbour included.
    it('single-query searches: distances within 1e-5 (relative), same labels unless near-tied', async () => {
      const d = 37;
      const n = 2000;
      const k = 10;
      const vectors = uniform(n * d, 21);
      const queries = uniform(10 * d, 22);
      const random = mulberry32(23);
      const tolerance = (value: number): number => 1e-5 * Math.max(1, Math.abs(value));
      let labelsCompared = 0;
      for (const metric of ['l2', 'ip'] as const) {
        const index = FaissIndex.create(d, 'Flat', metric);
        await index.add(vectors);
        for (let q = 0; q < 10; q++) {
          const query = queries.subarray(q * d, (q + 1) * d);
          const allowed = bitmapOf(
            n,
            range(300).map(() => Math.floor(random() * n)),
          );
          for (const options of [undefined, { allowed }]) {
            const flat = await index.search(query, k + 1, options); // one more: ties at the cut
            const scan = scanRows(vectors, d, query, k, metric, options);
            for (let i = 0; i < k; i++) {
              const want = flat.distances[i]!;
              expect(Math.abs(scan.distances[i]! - want)).toBeLessThanOrEqual(tolerance(want));
              const nearTie = [i - 1, i + 1].some((j) => j >= 0 && Math.abs(flat.distances[j]! - want) <= 2 * tolerance(want));
              if (!nearTie) {
                expect(scan.labels[i]).toBe(flat.labels[i]);
                labelsCompared++;
              }
            }
          }
        }
        index.dispose();
      }
      expect(labelsCompared).toBeGreaterThan(0.9 * 2 * 10 * 2 * k); // near ties are rare here
    });
  });

  describe('scanRows equals the reference model exactly (property)', () => {
    // Small integer components keep every score exact in float32, so labels and distances must be
    // identical to the model's, ties included.
    const component = fc.integer({ min: -3, max: 3 });
    const input = fc.record({ d: fc.integer({ min: 1, max: 8 }), n: fc.integer({ min: 0, max: 40 }) }).chain(({ d, n }) =>
      fc.record({
        d: fc.constant(d),
        n: fc.constant(n),
        vectors: fc.array(component, { minLength: n * d, maxLength: n * d }),
        query: fc.array(component, { minLength: d, maxLength: d }),
        k: fc.integer({ min: 1, max: 50 }),
        metric: fc.constantFrom(...METRICS),
        selection: fc.oneof(
          fc.constant({ kind: 'all' as const }),
          // Any length: shorter than ceil(n / 8) (rows past the end excluded) or longer (ignored).
          fc.record({
            kind: fc.constant('bitmap' as const),
            bytes: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: Math.ceil(n / 8) + 2 }),
          }),
          fc.record({
            kind: fc.constant('rows' as const),
            rows: n === 0 ? fc.constant<number[]>([]) : fc.array(fc.integer({ min: 0, max: n - 1 }), { maxLength: 2 * n }),
          }),
          // Strictly ascending (a filter's rows): the native scan skips its repeat check.
          fc.record({
            kind: fc.constant('rows' as const),
            rows:
              n === 0
                ? fc.constant<number[]>([])
                : fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { maxLength: n }).map((rows) => rows.sort((a, b) => a - b)),
          }),
        ),
      }),
    );

    // A slab in list order: its vectors permuted, each row found through its position. Scanning
    // rows through the table must give what scanning the same rows in row order gives.
    it('rows through a positions table equal the same rows stored in row order', () => {
      const permuted = input.chain((x) =>
        fc.record({ x: fc.constant(x), order: fc.shuffledSubarray([...Array(x.n).keys()], { minLength: x.n, maxLength: x.n }) }),
      );
      fc.assert(
        fc.property(permuted, ({ x: { d, n, vectors, query, k, metric, selection }, order }) => {
          if (selection.kind !== 'rows') return;
          // order[p] is the row stored at position p; positions[row] = p.
          const positions = new Uint32Array(n);
          order.forEach((row, p) => (positions[row] = p));
          const stored = new Float32Array(n * d);
          order.forEach((row, p) => stored.set(vectors.slice(row * d, (row + 1) * d), p * d));
          const q = Float32Array.from(query);
          const listed = Int32Array.from(selection.rows);
          const got = scanRows(stored, d, q, k, metric, { rows: listed, positions });
          const want = scanRows(Float32Array.from(vectors), d, q, k, metric, { rows: listed });
          expect(Array.from(got.labels)).toEqual(Array.from(want.labels));
          expect(Array.from(got.distances)).toEqual(Array.from(want.distances));
        }),
        { numRuns: 500, seed: 20261207 },
      );
    });

    it('for every metric, selection and k', () => {
      fc.assert(
        fc.property(input, ({ d, n, vectors, query, k, metric, selection }) => {
          const options: ScanOptions | undefined =
            selection.kind === 'bitmap'
              ? { allowed: Uint8Array.from(selection.bytes) }
              : selection.kind === 'rows'
                ? { rows: Int32Array.from(selection.rows) }
                : undefined;
          const v = Float32Array.from(vectors);
          const q = Float32Array.from(query);
          const got = scanRows(v, d, q, k, metric, options);
          const want = reference(v, d, q, k, metric, eligibleRows(n, options));
          expect(Array.from(got.labels)).toEqual(want.labels);
          expect(Array.from(got.distances)).toEqual(want.distances);
        }),
        { numRuns: 500, seed: 20240611 },
      );
    });
  });

  describe('scanRows edge cases', () => {
    const d = 4;

    it('pads with -1 when k exceeds the eligible rows', () => {
      const vectors = small(10 * d, 1);
      const query = small(d, 2);
      for (const metric of METRICS) {
        const { distances, labels } = scanRows(vectors, d, query, 8, metric, { allowed: bitmapOf(10, [2, 5, 7]) });
        expect(Array.from(labels.subarray(3))).toEqual([-1, -1, -1, -1, -1]);
        expect([...labels.subarray(0, 3)].sort()).toEqual([2, 5, 7]);
        const pad = metric === 'l2' ? Infinity : -Infinity;
        expect(Array.from(distances.subarray(3))).toEqual(Array(5).fill(pad));
      }
    });

    it('returns only padding when no row is eligible', () => {
      const vectors = small(10 * d, 1);
      const query = small(d, 2);
      const none = [{ allowed: emptyBitmap(10) }, { allowed: new Uint8Array(0) }, { rows: new Int32Array(0) }];
      for (const options of none) {
        expect(Array.from(scanRows(vectors, d, query, 3, 'l2', options).labels)).toEqual([-1, -1, -1]);
      }
      // No rows at all is not an error either.
      const empty = scanRows(new Float32Array(0), d, query, 2, 'ip');
      expect(Array.from(empty.labels)).toEqual([-1, -1]);
      expect(Array.from(empty.distances)).toEqual([-Infinity, -Infinity]);
    });

    it('bitmap: rows past a short bitmap are excluded, bits past the last row are ignored', () => {
      const vectors = small(20 * d, 3);
      const query = small(d, 4);
      const short = new Uint8Array([0xff]); // rows 0..7 only
      expect(found(scanRows(vectors, d, query, 20, 'l2', { allowed: short }).labels)).toEqual(range(8));
      const long = new Uint8Array(16).fill(0xff); // 128 bits over 20 rows
      const labels = scanRows(vectors, d, query, 30, 'l2', { allowed: long }).labels;
      expect(found(labels)).toEqual(range(20));
      expect(labels.slice(20).every((r) => r === -1)).toBe(true);
    });

    it('bitmap boundaries around 64-bit words', () => {
      const n = 200;
      const vectors = uniform(n * d, 5);
      const query = uniform(d, 6);
      const subset = [0, 1, 62, 63, 64, 65, 127, 128, 191, 192, 199];
      const got = scanRows(vectors, d, query, 20, 'l2', { allowed: bitmapOf(n, subset) });
      expect(found(got.labels)).toEqual(subset);
    });

    it('cosine: zero vectors (stored or query) score 0', () => {
      const vectors = new Float32Array([0, 0, 0, 0, 1, 0, 0, 0, -1, 0, 0, 0, 0, 0, 0, 0]);
      const q = new Float32Array([2, 0, 0, 0]);
      const got = scanRows(vectors, d, q, 4, 'cosine');
      expect(Array.from(got.labels)).toEqual([1, 0, 3, 2]);
      expect(Array.from(got.distances)).toEqual([1, 0, 0, -1]);
      const zeroQuery = scanRows(vectors, d, new Float32Array(d), 4, 'cosine');
      expect(Array.from(zeroQuery.labels)).toEqual([0, 1, 2, 3]);
      expect(Array.from(zeroQuery.distances)).toEqual([0, 0, 0, 0]);
    });

    it('cosine does not need normalized vectors', () => {
      const vectors = new Float32Array([3, 4, 0, 0, 0, 0, 0, 10]);
      const q = new Float32Array([0, 8, 0, 6]);
      const got = scanRows(vectors, d, q, 2, 'cosine');
      expect(Array.from(got.labels)).toEqual([0, 1]);
      expect(got.distances[0]).toBeCloseTo(0.64, 6); // 32 / (5 * 10)
      expect(got.distances[1]).toBeCloseTo(0.6, 6); // 60 / (10 * 10)
    });

    it('ties: equal distances are ordered by row number, whatever the order of rows', () => {
      const n = 50;
      const vectors = new Float32Array(n * d).fill(1); // every row identical
      const query = new Float32Array([1, 2, 3, 4]);
      const random = mulberry32(9);
      const shuffled = Int32Array.from(range(n).sort(() => random() - 0.5));
      for (const metric of METRICS) {
        expect(Array.from(scanRows(vectors, d, query, 7, metric).labels)).toEqual(range(7));
        expect(Array.from(scanRows(vectors, d, query, 7, metric, { rows: shuffled }).labels)).toEqual(range(7));
        expect(Array.from(scanRows(vectors, d, query, 7, metric, { rows: shuffled.slice().reverse() }).labels)).toEqual(range(7));
      }
    });

    it('explicit rows: a repeated row counts once', () => {
      const vectors = small(10 * d, 7);
      const query = small(d, 8);
      const got = scanRows(vectors, d, query, 5, 'l2', { rows: new Int32Array([4, 4, 2, 4, 2]) });
      expect([...got.labels].sort((a, b) => a - b)).toEqual([-1, -1, -1, 2, 4]);
      const bitmap = scanRows(vectors, d, query, 5, 'l2', { allowed: bitmapOf(10, [2, 4]) });
      expect(Array.from(got.labels)).toEqual(Array.from(bitmap.labels));
    });

    it('reads a view into a larger buffer in place: row numbers are relative to the view', () => {
      const n = 100;
      const big = uniform((n + 37) * d, 10);
      const view = big.subarray(17 * d, (17 + n) * d);
      const copy = view.slice();
      const query = uniform(d, 11);
      for (const metric of METRICS) {
        expect(scanRows(view, d, query, 10, metric)).toEqual(scanRows(copy, d, query, 10, metric));
      }
      // Not cached: a write through the big buffer is seen by the next call.
      const best = scanRows(view, d, query, 1, 'l2').labels[0]!;
      const other = best === 0 ? 1 : 0;
      big.set(query, (17 + other) * d);
      expect(Array.from(scanRows(view, d, query, 1, 'l2').labels)).toEqual([other]);
    });

    it('NaN rows rank after every other row', () => {
      const vectors = new Float32Array([NaN, 0, 0, 0, 5, 5, 5, 5, 1, 1, 1, 1]);
      const query = new Float32Array([1, 1, 1, 1]);
      for (const metric of METRICS) {
        const got = scanRows(vectors, d, query, 4, metric);
        // cosine: rows 1 and 2 tie at 1, so row order.
        expect(Array.from(got.labels)).toEqual(metric === 'l2' ? [2, 1, 0, -1] : [1, 2, 0, -1]);
        expect(got.distances[2]).toBeNaN();
      }
    });

    it('accepts k up to 2^20', () => {
      const got = scanRows(small(3 * d, 1), d, small(d, 2), 1 << 20, 'l2');
      expect(got.labels.length).toBe(1 << 20);
      expect(got.labels[3]).toBe(-1);
    });
  });
});

/** The CPU flags of /proc/cpuinfo, or undefined where there is none. */
function cpuFlags(): Set<string> | undefined {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('flags'));
    return line === undefined
      ? undefined
      : new Set(
          line
            .slice(line.indexOf(':') + 1)
            .trim()
            .split(/\s+/),
        );
  } catch {
    return undefined;
  }
}

interface Scored {
  row: number;
  /** The score in double precision, rounded to float32. */
  value: number;
  /** Smaller is better: value ('l2') or -value. */
  key: number;
  /** How far a float-accumulating kernel may be from `value`. */
  tolerance: number;
}

/**
 * Every eligible row scored in double precision, best first (by key, then row), with an error
 * bound for float kernels: relative 1e-5 of the value for 'l2' (a sum of non-negative terms),
 * 1e-5 of Σ|q_j·x_j| for 'ip' (cancellation), the same over |q|·|x| (plus 1e-5) for 'cosine'.
 */
function scoredRows(vectors: Float32Array, d: number, query: Float32Array, metric: ScanMetric, eligible: Iterable<number>): Scored[] {
  let qq = 0;
  for (let j = 0; j < d; j++) qq += query[j]! * query[j]!;
  const scored: Scored[] = [];
  for (const row of new Set(eligible)) {
    let l2 = 0;
    let ip = 0;
    let absIp = 0;
    let xx = 0;
    for (let j = 0; j < d; j++) {
      const x = vectors[row * d + j]!;
      const q = query[j]!;
      l2 += (q - x) * (q - x);
      ip += q * x;
      absIp += Math.abs(q * x);
      xx += x * x;
    }
    let value: number;
    let tolerance: number;
    if (metric === 'l2') {
      value = l2;
      tolerance = 1e-5 * l2;
    } else if (metric === 'ip') {
      value = ip;
      tolerance = 1e-5 * absIp;
    } else {
      const denom = Math.sqrt(qq) * Math.sqrt(xx);
      value = denom === 0 ? 0 : ip / denom;
      tolerance = denom === 0 ? 0 : 1e-5 * (absIp / denom + 1);
    }
    value = Math.fround(value);
    scored.push({ row, value, key: metric === 'l2' ? value : -value, tolerance });
  }
  return scored.sort((a, b) => a.key - b.key || a.row - b.row);
}

/**
 * `got` is the top k of `scored` up to float rounding: the i-th distance is within tolerance of
 * the i-th best score, each label's own score is within tolerance of its distance, and labels
 * are the reference's wherever the reference has no near tie (neighbours' keys within the sum of
 * their tolerances, the k+1-th row included).
 */
function expectCloseTopK(got: ScanResult, scored: Scored[], k: number, context: string): void {
  const byRow = new Map(scored.map((s) => [s.row, s]));
  expect(got.labels.length, context).toBe(k);
  for (let i = 0; i < k; i++) {
    const want = scored[i];
    const at = `${context}, #${i}`;
    if (want === undefined) {
      expect(got.labels[i], at).toBe(-1);
      continue;
    }
    const distance = got.distances[i]!;
    expect(Math.abs(distance - want.value), at).toBeLessThanOrEqual(want.tolerance);
    const own = byRow.get(got.labels[i]!);
    expect(own, at).toBeDefined();
    expect(Math.abs(distance - own!.value), at).toBeLessThanOrEqual(own!.tolerance);
    const nearTie = [scored[i - 1], scored[i + 1]].some((other) => other !== undefined && Math.abs(other.key - want.key) <= other.tolerance + want.tolerance);
    if (!nearTie) expect(got.labels[i], at).toBe(want.row);
  }
}

describe('scan kernels: SIMD dispatch', () => {
  it('the load-time choice follows the CPU flags; setScanKernel switches and validates', () => {
    const flags = cpuFlags();
    if (flags !== undefined) expect(DETECTED).toBe(flags.has('avx2') && flags.has('fma') ? 'avx2' : 'sse');
    expect(scanKernel()).toBe(DETECTED);
    try {
      expect(setScanKernel('sse')).toBe('sse');
      expect(scanKernel()).toBe('sse');
      if (DETECTED === 'avx2') {
        expect(setScanKernel('avx2')).toBe('avx2');
        expect(scanKernel()).toBe('avx2');
      } else {
        expectThrows(() => setScanKernel('avx2'), RangeError, /need a CPU with AVX2 and FMA/);
      }
      expectThrows(() => setScanKernel('avx512' as ScanKernel), RangeError, /^kernel must be 'auto', 'sse' or 'avx2', got 'avx512'$/);
      expectThrows(() => setScanKernel(undefined as unknown as ScanKernel), TypeError, /^kernel must be a string$/);
    } finally {
      expect(setScanKernel('auto')).toBe(DETECTED);
    }
    expect(scanKernel()).toBe(DETECTED);
  });

  // Every dimension from 1 to 70 (each tail length of the 4-, 8-, 16- and 32-float loops), and
  // usual embedding sizes; row counts that are not multiples of the 8-row batch; rows of very
  // different norms (scaled by 1e-2 .. 1e2).
  const DIMS = [...range(70).map((i) => i + 1), 96, 127, 128, 129, 255, 384, 768, 1536];
  const K = 10;

  for (const metric of METRICS) {
    it(`${metric}: ${KERNELS.join(' and ')} agree with a double-precision reference and with each other`, () => {
      try {
        for (const d of DIMS) {
          const n = 60 + (d % 13);
          const random = mulberry32(1000 + d);
          const vectors = uniform(n * d, d);
          for (let row = 0; row < n; row++) {
            const scale = 10 ** (random() * 4 - 2);
            for (let j = 0; j < d; j++) vectors[row * d + j]! *= scale;
          }
          const query = uniform(d, 5000 + d);
          const subset = range(n).filter(() => random() < 0.4);
          const selections: [string, ScanOptions | undefined][] = [
            ['every row', undefined],
            ['bitmap', { allowed: bitmapOf(n, subset) }],
            ['rows', { rows: Int32Array.from(subset).reverse() }],
            ['ascending rows', { rows: Int32Array.from(subset) }],
          ];
          for (const [name, options] of selections) {
            const want = scoredRows(vectors, d, query, metric, eligibleRows(n, options));
            const results = KERNELS.map((kernel) => {
              setScanKernel(kernel);
              const got = scanRows(vectors, d, query, K, metric, options);
              expectCloseTopK(got, want, K, `${kernel}, d=${d}, ${name}`);
              return got;
            });
            if (results.length === 2) {
              const [sse, avx2] = results as [ScanResult, ScanResult];
              for (let i = 0; i < K; i++) {
                const tolerance = 2 * Math.max(want[i]?.tolerance ?? 0, 1e-30);
                expect(Math.abs(sse.distances[i]! - avx2.distances[i]!), `d=${d}, ${name}, #${i}`).toBeLessThanOrEqual(tolerance);
              }
            }
          }
        }
      } finally {
        setScanKernel('auto');
      }
    });
  }

  it('a row equal to the query: l2 exactly 0, cosine exactly 1, ip exactly its own norm²', () => {
    try {
      for (const kernel of KERNELS) {
        setScanKernel(kernel);
        for (const d of [1, 3, 4, 7, 8, 15, 16, 31, 32, 33, 128, 1536]) {
          const vectors = uniform(5 * d, d);
          const query = vectors.slice(2 * d, 3 * d);
          const l2 = scanRows(vectors, d, query, 1, 'l2');
          expect([l2.labels[0], l2.distances[0]], `${kernel}, d=${d}`).toEqual([2, 0]);
          const self = { rows: new Int32Array([2]) };
          expect(scanRows(vectors, d, query, 1, 'cosine', self).distances[0], `${kernel}, d=${d}`).toBe(1);
          const ip = scanRows(vectors, d, query, 1, 'ip', self);
          const norm = scanRows(query, d, query, 1, 'ip').distances[0];
          expect(ip.distances[0], `${kernel}, d=${d}`).toBe(norm);
        }
      }
    } finally {
      setScanKernel('auto');
    }
  });

  it('a NaN in the vector body or in the tail ranks the row last, for every kernel', () => {
    try {
      for (const kernel of KERNELS) {
        setScanKernel(kernel);
        for (const d of [5, 37, 128, 131]) {
          const vectors = uniform(6 * d, d);
          vectors[1 * d] = NaN; // first component: vector loop
          vectors[4 * d + d - 1] = NaN; // last component: tail (or last block)
          const query = uniform(d, d + 1);
          for (const metric of METRICS) {
            const got = scanRows(vectors, d, query, 6, metric);
            expect(Array.from(got.labels.subarray(4)), `${kernel}, d=${d}, ${metric}`).toEqual([1, 4]);
            expect(got.distances[4]).toBeNaN();
            expect(got.distances[5]).toBeNaN();
          }
        }
      }
    } finally {
      setScanKernel('auto');
    }
  });
});

describe('scanRows rejects bad arguments before reading memory', () => {
  const d = 4;
  const vectors = small(10 * d, 1);
  const query = small(d, 2);

  const loose = scanRows as (...args: unknown[]) => unknown;
  const rows = (...values: number[]): ScanOptions => ({ rows: Int32Array.from(values) });

  it('RangeError for bad sizes, k, metric and rows', () => {
    const cases: [unknown[], RegExp][] = [
      [[vectors, d, new Float32Array(3), 1, 'l2'], /^query\.length \(3\) must equal dimension \(4\)$/],
      [[vectors, d, new Float32Array(5), 1, 'l2'], /^query\.length/],
      [[vectors.subarray(1), d, query, 1, 'l2'], /^vectors\.length \(39\) must be a multiple of dimension \(4\)$/],
      [[vectors, 3, new Float32Array(3), 1, 'l2'], /^vectors\.length/],
      [[vectors, 0, query, 1, 'l2'], /^dimension must be an integer in \[1, 65536\], got 0$/],
      [[vectors, 1.5, query, 1, 'l2'], /^dimension /],
      [[vectors, d, query, 0, 'l2'], /^k must be an integer in \[1, 1048576\], got 0$/],
      [[vectors, d, query, -1, 'l2'], /^k /],
      [[vectors, d, query, 2.5, 'l2'], /^k /],
      [[vectors, d, query, (1 << 20) + 1, 'l2'], /^k /],
      [[vectors, d, query, NaN, 'l2'], /^k /],
      [[vectors, d, query, 1, 'euclidean'], /^metric must be 'l2', 'ip' or 'cosine', got 'euclidean'$/],
      [[vectors, d, query, 1, 'l2', rows(0, 10)], /^rows\[1\] = 10 is out of range \[0, 10\)$/],
      [[vectors, d, query, 1, 'l2', rows(-1)], /^rows\[0\] = -1 is out of range/],
      [[new Float32Array(0), d, query, 1, 'l2', rows(0)], /^rows\[0\] = 0 is out of range \[0, 0\)$/],
      // With positions, rows are numbered by the table and each listed row's position is checked.
      [[vectors, d, query, 1, 'l2', { ...rows(0, 3), positions: Uint32Array.of(1, 2, 3) }], /^rows\[1\] = 3 is out of range \[0, 3\)$/],
      [[vectors, d, query, 1, 'l2', { ...rows(0, 1), positions: Uint32Array.of(0, 10) }], /^positions\[1\] = 10 is out of range \[0, 10\)$/],
    ];
    for (const [args, message] of cases) expectThrows(() => loose(...args), RangeError, message);
  });

  it('TypeError for wrong types and for both allowed and rows', () => {
    const cases: [unknown[], RegExp][] = [
      [[Array.from(vectors), d, query, 1, 'l2'], /^vectors must be a Float32Array$/],
      [[new Float64Array(vectors), d, query, 1, 'l2'], /^vectors must be a Float32Array$/],
      [[vectors, '4', query, 1, 'l2'], /^dimension must be a number$/],
      [[vectors, d, Array.from(query), 1, 'l2'], /^query must be a Float32Array$/],
      [[vectors, d, query, undefined, 'l2'], /^k must be a number$/],
      [[vectors, d, query, 1, undefined], /^metric must be a string$/],
      [[vectors, d, query, 1, 'l2', { allowed: [1] }], /^allowed must be a Uint8Array$/],
      [[vectors, d, query, 1, 'l2', { rows: [1] }], /^rows must be an Int32Array$/],
      [[vectors, d, query, 1, 'l2', { rows: new Uint32Array([1]) }], /^rows must be an Int32Array$/],
      [[vectors, d, query, 1, 'l2', { allowed: bitmapOf(10, [1]), ...rows(1) }], /at most one of allowed .* and rows/],
      [[vectors, d, query, 1, 'l2', { ...rows(1), positions: Int32Array.of(0, 1) }], /^positions must be a Uint32Array$/],
      [[vectors, d, query, 1, 'l2', { positions: Uint32Array.of(0, 1) }], /^positions needs rows/],
      [[vectors, d, query, 1, 'l2', { allowed: bitmapOf(10, [1]), positions: Uint32Array.of(0, 1) }], /^positions needs rows/],
    ];
    for (const [args, message] of cases) expectThrows(() => loose(...args), TypeError, message);
  });

  it('a detached buffer is just an empty one', () => {
    const detached = (values: Float32Array): Float32Array => {
      const buffer = values.buffer as ArrayBuffer;
      structuredClone(buffer, { transfer: [buffer] });
      return values;
    };
    const data = detached(small(2 * d, 3));
    expect(data.length).toBe(0);
    expect(Array.from(scanRows(data, d, query, 2, 'l2').labels)).toEqual([-1, -1]);
    const q = detached(small(d, 4));
    expectThrows(() => scanRows(vectors, d, q, 1, 'l2'), RangeError, /query\.length \(0\)/);
  });
});
