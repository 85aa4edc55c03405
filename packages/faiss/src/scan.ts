import { binding } from './native.ts';

/**
 * Metric of {@link scanRows}:
 * - `'l2'`: squared Euclidean distance; smaller is better.
 * - `'ip'`: inner product; larger is better.
 * - `'cosine'`: `ip / (|q|·|x|)`, 0 when either vector is zero; larger is better. Computed from
 *   the stored vectors as they are (no need to normalize them first).
 */
export type ScanMetric = 'l2' | 'ip' | 'cosine';

/** Which rows {@link scanRows} scans; give at most one of the two (both is a TypeError). */
export interface ScanOptions {
  /**
   * Filter bitmap, the layout of `SearchParams.allowed`: row i is scanned iff bit `i % 8`
   * (least significant first) of byte `i >> 3` is set. Bits at or past the row count are
   * ignored; a bitmap shorter than `ceil(rows / 8)` bytes allows no row past its end.
   */
  allowed?: Uint8Array;
  /**
   * Explicit row numbers, each in `[0, rows)` (else RangeError), in any order. A repeated row
   * counts once: the result is that of the bitmap of the same set. Strictly ascending rows are
   * scanned without the repeat check (a bitmap over every row of `vectors`), the cheapest form.
   */
  rows?: Int32Array;
  /**
   * Row → where its vector is: row `r`'s vector is row `positions[r]` of `vectors`, for vectors
   * stored in another order than the rows are numbered (a slab in list order). Only with `rows`
   * (else TypeError), which are then numbered in `[0, positions.length)`; each listed row's
   * position must lie in `[0, vectors.length / dimension)` (else RangeError). Labels are rows.
   * The listed rows' positions are looked up in one pass before scoring, so a filter's ascending
   * rows stay the cheap form (no repeat check).
   */
  positions?: Uint32Array;
}

/** Best-first top-k of {@link scanRows}: both arrays have length k. */
export interface ScanResult {
  /**
   * Squared L2 distances (`'l2'`) or scores (`'ip'`, `'cosine'`). Padding (fewer than k eligible
   * rows) is +Infinity for `'l2'` and -Infinity otherwise, as in `SearchResult`.
   */
  distances: Float32Array;
  /** Row numbers; -1 for padding. */
  labels: Int32Array;
}

/**
 * Exact top-k of `query` against rows of `vectors` (row-major, `dimension` floats per row).
 * Rows scanned: those whose bit is set in `allowed` (same bitmap layout as SearchParams.allowed:
 * bit i%8 of byte i>>3, LSB first) or every row when `allowed` is undefined. Optionally `rows`:
 * an Int32Array of explicit row numbers instead of a bitmap (one of the two at most).
 * Returns best-first: distances (l2: squared L2, smaller better; ip: inner product, larger better;
 * cosine: ip / (|q|·|x|), larger better, 0 for zero vectors) and labels (row numbers, -1 padding
 * when fewer than k rows are eligible).
 * Synchronous and runs on the calling thread: meant for scans of up to a few million floats
 * (roughly 0.1 ms per million floats of a full scan, about 0.25 ms per million floats of
 * scattered rows that are not in cache, all three metrics alike; see README.md); larger work
 * should go to an index.
 *
 * `vectors` is read in place, never copied: pass a view into a larger buffer (a slab) as is.
 * Distances come from the addon's SIMD kernels (AVX2+FMA when the CPU has them, else SSE; see
 * {@link scanKernel}) with float accumulation in several partial sums, so they can differ from
 * a Flat index's (faiss's sequential scalar sums) in the last bits; 'cosine' takes one pass per
 * row and divides in double. Equal distances are ordered by row number, so the result does not
 * depend on the order of `rows`. A row whose distance is NaN (NaN components, or infinities that
 * cancel) ranks after every other row.
 *
 * Throws TypeError for arguments of the wrong type (including both `allowed` and `rows`) and
 * RangeError for bad values: dimension not an integer in [1, 65536], `vectors.length` not a
 * multiple of dimension, `query.length` ≠ dimension, k not an integer in [1, 2^20], an unknown
 * metric, a row number outside `[0, vectors.length / dimension)`. An empty `vectors` is valid
 * (every label is -1).
 *
 * @example
 * const allowed = bitmapOf(slab.rows, candidateRows);
 * const { labels, distances } = scanRows(slab.vectors, 128, query, 10, 'cosine', { allowed });
 */
export function scanRows(vectors: Float32Array, dimension: number, query: Float32Array, k: number, metric: ScanMetric, options?: ScanOptions): ScanResult {
  return binding().scanRows(vectors, dimension, query, k, metric, options?.allowed, options?.rows, options?.positions);
}

/**
 * Scalar quantization to 8 bits per dimension: a row's code `c` decodes to `min[j] + step[j] · c[j]`
 * (per dimension j), so a code is within `step[j] / 2` of the value it encodes.
 */
export interface Sq8Params {
  min: Float32Array;
  step: Float32Array;
}

/**
 * Approximate top-k of `query` over SQ8 `codes` (row-major, `dimension` bytes per row): the
 * metrics and result layout of {@link scanRows}, computed over the decoded rows without decoding
 * them into memory. `rows`: code row numbers to score, in any order (each must be in range; a
 * repeated one may come back twice); every row when omitted. For candidates to rescore from the
 * full vectors: the distances are those of the decoded rows, not of the vectors they encode.
 * Synchronous, reading `codes` in place.
 */
export function scanCodes(
  codes: Uint8Array,
  dimension: number,
  query: Float32Array,
  k: number,
  metric: ScanMetric,
  params: Sq8Params,
  rows?: Int32Array,
): ScanResult {
  return binding().scanCodes(codes, dimension, query, k, metric, params.min, params.step, rows);
}

/**
 * Trains SQ8 over the vectors it is given one at a time (`add`): per dimension, the range of the
 * values seen, cut in 255 steps. A dimension with one value seen (or none) gets step 0 and decodes
 * exactly to it. Lets a slab builder train in the pass over the rows it makes anyway.
 */
export class Sq8Trainer {
  readonly #lo: Float32Array;
  readonly #hi: Float32Array;

  constructor(dimension: number) {
    this.#lo = new Float32Array(dimension).fill(Infinity);
    this.#hi = new Float32Array(dimension).fill(-Infinity);
  }

  add(vector: Float32Array): void {
    const lo = this.#lo;
    const hi = this.#hi;
    for (let j = 0; j < lo.length; j++) {
      const x = vector[j]!;
      if (x < lo[j]!) lo[j] = x;
      if (x > hi[j]!) hi[j] = x;
    }
  }

  params(): Sq8Params {
    const lo = this.#lo;
    const hi = this.#hi;
    const min = new Float32Array(lo.length);
    const step = new Float32Array(lo.length);
    for (let j = 0; j < lo.length; j++) {
      if (!(lo[j]! <= hi[j]!) || !Number.isFinite(lo[j]!) || !Number.isFinite(hi[j]!)) continue; // no finite value seen: decodes to 0
      min[j] = lo[j]!;
      step[j] = (hi[j]! - lo[j]!) / 255;
    }
    return { min, step };
  }
}

/** {@link Sq8Trainer} over the vectors `at` returns for rows 0..count−1 (null rows are skipped). */
export function trainSq8(dimension: number, count: number, at: (row: number) => Float32Array | null): Sq8Params {
  const trainer = new Sq8Trainer(dimension);
  for (let row = 0; row < count; row++) {
    const v = at(row);
    if (v) trainer.add(v);
  }
  return trainer.params();
}

/** Writes the SQ8 code of `vector` into `out` (dimension bytes). */
export function encodeSq8(vector: Float32Array, params: Sq8Params, out: Uint8Array): void {
  const { min, step } = params;
  for (let j = 0; j < vector.length; j++) {
    const s = step[j]!;
    const c = s > 0 ? Math.round((vector[j]! - min[j]!) / s) : 0;
    out[j] = c < 0 ? 0 : c > 255 ? 255 : c; // NaN → 0
  }
}

/**
 * Distance kernels of {@link scanRows}: `'avx2'` (AVX2 + FMA, 8 floats per instruction) or
 * `'sse'` (4 floats, the x86-64-v2 baseline the addon is compiled for).
 */
export type ScanKernel = 'sse' | 'avx2';

/**
 * The kernels {@link scanRows} uses now. Chosen when the addon loads: `'avx2'` when the CPU
 * supports AVX2 and FMA (`__builtin_cpu_supports`), else `'sse'`.
 */
export function scanKernel(): ScanKernel {
  return binding().scanKernel();
}

/**
 * Forces the kernels of {@link scanRows}, for tests and measurements: `'sse'`, `'avx2'`, or
 * `'auto'` to go back to the one chosen at load. Returns the kernel now in use.
 *
 * Process-wide: it affects every thread (worker threads included) that calls scanRows, so do
 * not call it in production code. Results of the two kernels differ only by float rounding
 * (different summation orders), so the order of near-tied rows may differ between them.
 *
 * Throws RangeError for another name, and for `'avx2'` on a CPU without AVX2 and FMA.
 *
 * @example
 * const avx2 = setScanKernel('auto') === 'avx2';
 * setScanKernel('sse'); // ... measure or compare ...
 * setScanKernel('auto');
 */
export function setScanKernel(kernel: ScanKernel | 'auto'): ScanKernel {
  return binding().setScanKernel(kernel);
}
