import { createHash } from 'node:crypto';
import type { Metric } from '@conifer/core';
import { exactTopRows, normalizeRows, type AnnHeader, type IvfLayout } from '@conifer/slab';

/**
 * One query's IVF lists ranked by centroid, once per quantizer. The slabs of a namespace are
 * usually trained from one donor (compactions reuse a quantizer while it fits), so they share
 * their centroids; comparing a query with thousands of centroids costs more than scanning the few
 * lists it probes, and a query of ten such slabs would otherwise rank the same centroids ten times.
 */
export class CentroidRanking {
  readonly #ranked = new Map<string, Int32Array>();

  /**
   * The `n` lists of `ivf` nearest to `probe`, nearest first; `normalized` when `probe` is the
   * query scaled to unit length (slabs indexed for cosine), which ranks differently.
   */
  nearest(ivf: IvfLayout, dimension: number, probe: Float32Array, metric: Metric, normalized: boolean, n: number): Int32Array {
    const nlist = ivf.offsets.length - 1;
    const key = `${metric}:${normalized}:${quantizerKey(ivf.centroids)}`;
    const have = this.#ranked.get(key);
    if (have && (have.length >= n || have.length === nlist)) return have.subarray(0, n);
    // A few more lists than asked for: slabs sharing these centroids ask for knobs a list or two
    // apart (their shares differ), and the first to ask must not leave the others a second
    // ranking of every centroid. Many more would cost the scan measurably (a heap of k, and k
    // results to hand back), while a further probe that needs more is rare and ranks again.
    const ranked = exactTopRows(ivf.centroids, dimension, probe, Math.min(nlist, n + RANK_AHEAD), metric, undefined);
    this.#ranked.set(key, ranked);
    return ranked.subarray(0, n);
  }
}

/** A query as an index's centroids compare it: what `CentroidRanking.nearest` takes. */
export interface CentroidQuery {
  /** The query, scaled to unit length for an index built for cosine. */
  probe: Float32Array;
  metric: Metric;
  normalized: boolean;
}

/** `query` as the centroids of an index with header `ann` compare it. */
export function centroidQuery(ann: AnnHeader, query: Float32Array, dimension: number): CentroidQuery {
  return {
    probe: ann.normalized ? normalizeRows(query, dimension) : query,
    metric: ann.faissMetric === 'l2' ? 'euclidean' : 'dotproduct',
    normalized: ann.normalized,
  };
}

/** Lists ranked beyond those asked for (see nearest). */
const RANK_AHEAD = 8;

const keys = new WeakMap<Float32Array, string>();

/** A digest of a slab's centroids, computed once per layout: equal centroids give equal keys. */
function quantizerKey(centroids: Float32Array): string {
  let key = keys.get(centroids);
  if (key === undefined) {
    key = `${centroids.length}:${createHash('sha1')
      .update(new Uint8Array(centroids.buffer, centroids.byteOffset, centroids.byteLength))
      .digest('hex')}`;
    keys.set(centroids, key);
  }
  return key;
}
