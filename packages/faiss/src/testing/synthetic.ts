/**
 * Seeded synthetic data and exact (brute-force) search, for tests and benchmarks: imported by this
 * package's tests and by tools (as `@conifer/faiss/testing`), never by the package's own code.
 */
import { mulberry32 } from '@conifer/core';
import type { FaissMetric } from '../faiss-index.ts';

/** A standard normal sample (Box–Muller). */
function gaussian(random: () => number): number {
  const u = 1 - random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/**
 * n × d vectors from a mixture of `clusters` Gaussians (centres ~ N(0, 1), spread `sigma`).
 */
export function clusteredVectors(n: number, d: number, options: { clusters?: number; sigma?: number; seed?: number } = {}): Float32Array {
  const { clusters = 64, sigma = 0.3, seed = 1 } = options;
  const random = mulberry32(seed);
  const centres = new Float32Array(clusters * d);
  for (let i = 0; i < centres.length; i++) centres[i] = gaussian(random);
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(random() * clusters);
    for (let j = 0; j < d; j++) out[i * d + j] = centres[c * d + j]! + sigma * gaussian(random);
  }
  return out;
}

/** Scales every d-dimensional row to unit length, in place (cosine via inner product). */
export function normalizeRows(vectors: Float32Array, d: number): Float32Array {
  for (let i = 0; i < vectors.length; i += d) {
    let norm = 0;
    for (let j = 0; j < d; j++) norm += vectors[i + j]! ** 2;
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let j = 0; j < d; j++) vectors[i + j] = vectors[i + j]! * scale;
  }
  return vectors;
}

/**
 * Exact top-k labels of every query, as an array of label arrays. L2 = squared distance
 * (ascending), IP = inner product (descending); ties broken by the smaller row number.
 * `allowed(row)` restricts the candidates.
 */
export function bruteForce(
  base: Float32Array,
  queries: Float32Array,
  d: number,
  k: number,
  metric: FaissMetric,
  allowed: (row: number) => boolean = () => true,
): number[][] {
  const n = base.length / d;
  const nq = queries.length / d;
  const results: number[][] = [];
  for (let q = 0; q < nq; q++) {
    const scored: { row: number; score: number }[] = [];
    for (let r = 0; r < n; r++) {
      if (!allowed(r)) continue;
      let s = 0;
      for (let j = 0; j < d; j++) {
        const a = queries[q * d + j]!;
        const b = base[r * d + j]!;
        s += metric === 'l2' ? (a - b) * (a - b) : a * b;
      }
      scored.push({ row: r, score: metric === 'l2' ? s : -s });
    }
    scored.sort((x, y) => x.score - y.score || x.row - y.row);
    results.push(scored.slice(0, k).map((e) => e.row));
  }
  return results;
}

/** Mean fraction of the exact top-k found in the approximate top-k (recall@k). */
export function recallAtK(labels: Int32Array, exact: number[][], k: number): number {
  let hits = 0;
  let total = 0;
  exact.forEach((truth, q) => {
    const got = new Set(labels.subarray(q * k, (q + 1) * k));
    for (const row of truth) if (got.has(row)) hits++;
    total += truth.length;
  });
  return total === 0 ? 1 : hits / total;
}

/** The labels of query q as a plain array. */
export function rowOf(labels: Int32Array, q: number, k: number): number[] {
  return Array.from(labels.subarray(q * k, (q + 1) * k));
}
