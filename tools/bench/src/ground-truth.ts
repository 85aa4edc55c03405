/**
 * Exact ground truth: one faiss Flat (brute-force L2) index over the dataset, searched once per
 * filter (the filter as a bitmap of allowed rows). One index for every search: at L the vectors
 * are 3 GiB, copied into faiss once, not once per filter.
 */
import { FaissIndex } from '@conifer/faiss';
import type { Dataset } from './dataset.ts';

const K = 10;

/** Top-10 row numbers per query (row-major), unfiltered and for each `bucket < keep` filter. */
export async function groundTruth(ds: Dataset, keeps: readonly number[]): Promise<{ truth: Int32Array; filtered: Map<number, Int32Array> }> {
  const flat = FaissIndex.create(ds.dimension, 'Flat', 'l2');
  try {
    await flat.add(ds.vectors);
    const truth = (await flat.search(ds.queries, K)).labels;
    const filtered = new Map<number, Int32Array>();
    for (const keep of keeps) {
      const allowed = new Uint8Array((ds.count + 7) >> 3);
      for (let r = 0; r < ds.count; r++) if (ds.buckets[r]! < keep) allowed[r >> 3]! |= 1 << (r & 7);
      filtered.set(keep, (await flat.search(ds.queries, K, { allowed })).labels);
    }
    return { truth, filtered };
  } finally {
    flat.dispose();
  }
}
