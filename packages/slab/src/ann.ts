import type { Metric } from '@conifer/core';
import type { FaissMetric } from '@conifer/faiss';

/**
 * The ANN section of a slab, as readers and queries see it (@conifer/index-builder builds it). L0
 * slabs stay flat (exact scan); a compaction output large enough gets a faiss IVF index over its
 * rows (labels = row numbers), stored inside the slab, plus a calibration table: the recall@10
 * measured at build time on held-out queries for each nprobe. A query uses the smallest nprobe that
 * meets its recall target and scans the rows of those lists exactly from the slab's own float32
 * vectors (the reader keeps only the IVF layout: centroids and list membership), so scores are
 * identical to the exact path.
 */
export interface AnnHeader {
  factory: string;
  faissMetric: FaissMetric;
  /** Cosine: vectors were L2-normalized before indexing (inner product = cosine); queries must be too. */
  normalized: boolean;
  /** The search-time knob: IVF's nprobe (the only index type the builder writes). */
  param: 'nprobe';
  /**
   * Measured recall@10 for increasing knob values; `byRank[r]`, when present, is the share of the
   * sample queries whose (r+1)-th nearest neighbour was found (slabs built before it lack it).
   */
  calibration: CalibrationPoint[];
  /** Candidates fetched per wanted result before exact rescoring (more for quantized codes). */
  oversample: number;
  /** The target the calibration was run for. */
  recallTarget: number;
}

export interface CalibrationPoint {
  value: number;
  recall: number;
  byRank?: number[] | undefined;
}

export function faissMetricOf(metric: Metric): FaissMetric {
  return metric === 'euclidean' ? 'l2' : 'ip';
}

/** A copy of `vectors` (rows of `dimension`) with each row scaled to unit length. */
export function normalizeRows(vectors: Float32Array, dimension: number): Float32Array {
  const out = new Float32Array(vectors.length);
  for (let off = 0; off < vectors.length; off += dimension) {
    let norm = 0;
    for (let i = 0; i < dimension; i++) norm += vectors[off + i]! * vectors[off + i]!;
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let i = 0; i < dimension; i++) out[off + i] = vectors[off + i]! * scale;
  }
  return out;
}

/** The list count of an `IVF<n>,…` factory string (0 for other index types). */
export function nlistOf(factory: string): number {
  return Number(/^IVF(\d+)/.exec(factory)?.[1] ?? 0);
}

/**
 * Margin added to a recall target when choosing the knob. The calibration measures recall on 100
 * sample queries; picking the knob that just reaches the target on them leaves even odds of
 * falling a little short on other queries (seen: 0.945 for a 0.95 target), so the knob must reach
 * target + margin on the sample.
 */
export const CALIBRATION_MARGIN = 0.02;

/** The smallest calibrated knob value reaching `target` with margin (the largest measured if none does). */
export function knobFor(header: AnnHeader, target: number): number {
  return knobWeighted(header, target, undefined);
}

/**
 * The knob for a slab holding `share` of a namespace's rows, when a query wants `topK` results
 * from the whole namespace at `target` recall.
 *
 * A slab calibrated for recall@10 on its own is asked for more than a query of several slabs
 * needs: the namespace's top k falls into its slabs about in proportion to their rows, and the
 * rows a slab contributes are its own nearest ones, which the first lists probed find most
 * reliably. With J ~ Binomial(topK, share) of the top k in this slab, its r-th nearest neighbour is
 * among them with probability P(J ≥ r); the expected recall over them is the calibration's
 * per-rank recall weighted so. One slab (share 1) asks for recall@10 exactly as `knobFor` does; a
 * slab without per-rank figures does too. Rows of ranks beyond the calibrated ten count at the
 * recall@10 of the point, as they do in `knobFor`.
 *
 * This assumes the top k spreads over slabs like their rows; a query whose neighbours crowd into
 * one slab is caught after the fact by `knobForRanks`.
 */
export function knobForShare(header: AnnHeader, target: number, share: number, topK: number): number {
  if (share >= 1) return knobFor(header, target);
  return remembered(header, `s${target}:${share}:${topK}`, () => shareKnob(header, target, share, topK));
}

function shareKnob(header: AnnHeader, target: number, share: number, topK: number): number {
  const ranks = header.calibration[0]?.byRank?.length ?? 0;
  const weights = new Float64Array(ranks + 1);
  // P(J >= r) for r = 1..ranks from the binomial pmf; the rest of E[J] = topK·share is ranks past the calibrated ones.
  let pmf = (1 - share) ** topK;
  let below = pmf;
  for (let r = 1; r <= ranks; r++) {
    weights[r - 1] = Math.max(0, 1 - below);
    pmf = r - 1 < topK ? (pmf * (topK - (r - 1)) * share) / (r * (1 - share)) : 0;
    below += pmf;
  }
  const listed = weights.subarray(0, ranks).reduce((a, b) => a + b, 0);
  weights[ranks] = Math.max(0, topK * share - listed);
  return knobWeighted(header, target, weights);
}

/**
 * The knob at which a slab finds its `found` nearest neighbours at `target` recall: used once a
 * query's top k is known and holds `found` rows of this slab, more than its share predicted.
 */
export function knobForRanks(header: AnnHeader, target: number, found: number): number {
  if (found <= 0) return header.calibration[0]?.value ?? 1;
  return remembered(header, `r${target}:${found}`, () => ranksKnob(header, target, found));
}

function ranksKnob(header: AnnHeader, target: number, found: number): number {
  const ranks = header.calibration[0]?.byRank?.length ?? 0;
  const weights = new Float64Array(ranks + 1);
  for (let r = 0; r < Math.min(found, ranks); r++) weights[r] = 1;
  weights[ranks] = Math.max(0, found - ranks);
  return knobWeighted(header, target, weights);
}

/**
 * Knobs already chosen per slab header: every query of a namespace asks each slab the same few
 * questions (its share changes only with the namespace's row count). Bounded: cleared when full.
 */
const knobs = new WeakMap<AnnHeader, Map<string, number>>();
const KNOBS_PER_HEADER = 256;

function remembered(header: AnnHeader, key: string, choose: () => number): number {
  let byKey = knobs.get(header);
  if (!byKey) knobs.set(header, (byKey = new Map()));
  let knob = byKey.get(key);
  if (knob === undefined) {
    if (byKey.size >= KNOBS_PER_HEADER) byKey.clear();
    knob = choose();
    byKey.set(key, knob);
  }
  return knob;
}

/**
 * The smallest calibrated knob whose recall, per rank weighted by `weights` (the last weight for
 * every rank past the calibrated ones, counted at the point's recall@10), reaches `target` with
 * margin. Plain recall@10 without weights or without per-rank figures.
 */
function knobWeighted(header: AnnHeader, target: number, weights: Float64Array | undefined): number {
  const wanted = Math.min(0.995, target + CALIBRATION_MARGIN);
  const total = weights?.reduce((a, b) => a + b, 0) ?? 0;
  for (const point of header.calibration) {
    const { byRank } = point;
    let recall = point.recall;
    if (weights && byRank && byRank.length + 1 === weights.length && total > 0) {
      let sum = weights[byRank.length]! * point.recall;
      for (let r = 0; r < byRank.length; r++) sum += weights[r]! * byRank[r]!;
      recall = sum / total;
    }
    if (recall >= wanted) return point.value;
  }
  return header.calibration[header.calibration.length - 1]?.value ?? 1;
}
