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
  /** Measured recall@10 for increasing knob values. */
  calibration: { value: number; recall: number }[];
  /** Candidates fetched per wanted result before exact rescoring (more for quantized codes). */
  oversample: number;
  /** The target the calibration was run for. */
  recallTarget: number;
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
  const wanted = Math.min(0.995, target + CALIBRATION_MARGIN);
  for (const point of header.calibration) if (point.recall >= wanted) return point.value;
  return header.calibration[header.calibration.length - 1]?.value ?? 1;
}
