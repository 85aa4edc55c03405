import { mulberry32 } from '@conifer/core';
/**
 * Deterministic synthetic datasets: a Gaussian mixture (clusters of different spread), seeded, so
 * every run and every peer sees the same vectors. Queries are drawn from the same mixture and are
 * never indexed (held out). Sizes follow the issue: S 100k×128, M 1M×128, L 1M×768. The real
 * dataset (fashion-mnist) is loaded by fashion-mnist.ts into the same shape.
 */
export interface Dataset {
  name: string;
  /** One line for the markdown heading: where the vectors come from. */
  source: string;
  dimension: number;
  vectors: Float32Array;
  count: number;
  queries: Float32Array;
  queryCount: number;
  /** Per row, a bucket 0–99 used to build filters of known selectivity. */
  buckets: Uint8Array;
}

export const SIZES = {
  XS: { count: 20_000, dimension: 64 },
  S: { count: 100_000, dimension: 128 },
  M: { count: 1_000_000, dimension: 128 },
  L: { count: 1_000_000, dimension: 768 },
} as const;
export type SizeName = keyof typeof SIZES;

/** Everything `--size` accepts: the synthetic sizes and the real dataset. */
export const DATASET_NAMES = [...(Object.keys(SIZES) as SizeName[]), 'fashion-mnist'] as const;
export type DatasetName = SizeName | 'fashion-mnist';

export function isDatasetName(name: string): name is DatasetName {
  return (DATASET_NAMES as readonly string[]).includes(name);
}

/** Per row, a bucket 0–99 (uniform, seeded) for filters of known selectivity: `bucket < p` keeps p%. */
export function seededBuckets(count: number, rand: () => number): Uint8Array {
  return Uint8Array.from({ length: count }, () => Math.floor(rand() * 100));
}

/** Query i of a run (queries are reused round-robin when a run asks for more than the set holds). */
export function queryOf(ds: Dataset, i: number): Float32Array {
  const q = i % ds.queryCount;
  return ds.queries.subarray(q * ds.dimension, (q + 1) * ds.dimension);
}

export function gaussianMixture(name: string, count: number, dimension: number, queryCount: number, seed = 42): Dataset {
  const rand = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const clusters = Math.max(16, Math.round(Math.sqrt(count) / 2));
  const centres = new Float32Array(clusters * dimension);
  for (let i = 0; i < centres.length; i++) centres[i] = gauss() * 3;
  const spreads = Float32Array.from({ length: clusters }, () => 0.5 + rand());
  const total = count + queryCount;
  const all = new Float32Array(total * dimension);
  for (let r = 0; r < total; r++) {
    const c = Math.floor(rand() * clusters);
    const s = spreads[c]!;
    for (let d = 0; d < dimension; d++) all[r * dimension + d] = centres[c * dimension + d]! + gauss() * s;
  }
  const buckets = seededBuckets(count, rand);
  return {
    name,
    source: `Synthetic ${name}, Gaussian mixture of ${clusters} clusters`,
    dimension,
    count,
    vectors: all.subarray(0, count * dimension),
    queries: all.subarray(count * dimension),
    queryCount,
    buckets,
  };
}
