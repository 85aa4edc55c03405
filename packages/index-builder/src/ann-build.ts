import { mulberry32, type Metric } from '@conifer/core';
import { FaissIndex, type FaissMetric } from '@conifer/faiss';
import {
  CALIBRATION_MARGIN,
  faissMetricOf,
  nlistOf,
  normalizeRows,
  yieldToEventLoop,
  type AnnHeader,
  type CalibrationPoint,
  type SlabAnn,
} from '@conifer/slab';

// Building and calibrating the ANN index of a slab. The format it is stored in, and how queries
// use the calibration, are @conifer/slab's `ann.ts`.

/** When a slab gets an ANN index, and the recall its calibration aims for. */
export interface AnnPolicy {
  /** Slabs with fewer rows stay flat: an exact scan of them is already fast. Default 20,000. */
  minRows: number;
  /** Default recall@10 a query must reach on each slab. Default 0.95. */
  recallTarget: number;
  /** Held-out queries used to calibrate. Default 100. */
  calibrationQueries: number;
}

export const DEFAULT_ANN_POLICY: AnnPolicy = { minRows: 20_000, recallTarget: 0.95, calibrationQueries: 100 };

/**
 * IVF for every size: it trains in seconds where HNSW takes minutes per million vectors on two
 * cores, and DESIGN.md measured IVF4096 at 0.28 ms p50 for 1M×128. nlist ≈ 4·√n; vectors above
 * 512 dimensions are stored as 8-bit scalar codes (4× smaller) and rescored exactly.
 */
export function chooseFactory(count: number, dimension: number): { factory: string; oversample: number } {
  const nlist = Math.min(65_536, Math.max(16, 2 ** Math.round(Math.log2(4 * Math.sqrt(count)))));
  return dimension > 512 ? { factory: `IVF${nlist},SQ8`, oversample: 3 } : { factory: `IVF${nlist},Flat`, oversample: 1 };
}

/** Deterministic pseudo-random row sample, so builds are reproducible. */
function sampleRows(count: number, wanted: number, seed: number): number[] {
  if (wanted >= count) return Array.from({ length: count }, (_, i) => i);
  const rand = mulberry32(seed);
  const chosen = new Set<number>();
  while (chosen.size < wanted) chosen.add(Math.floor(rand() * count));
  return [...chosen].sort((a, b) => a - b);
}

function gather(vectors: Float32Array, dimension: number, rows: number[]): Float32Array {
  const out = new Float32Array(rows.length * dimension);
  rows.forEach((row, i) => out.set(vectors.subarray(row * dimension, (row + 1) * dimension), i * dimension));
  return out;
}

/**
 * Given a quantizer's centroids (nlist × d), each row's list where it is known to be that of its
 * nearest centroid among them, -1 where it is not; undefined when no row's is.
 */
export type KnownLists = (centroids: Float32Array) => Int32Array | undefined;

/** A trained ANN index of another slab whose coarse quantizer a new build may reuse. */
export interface AnnDonor {
  header: AnnHeader;
  /** Its serialized trained index (the donor slab's donor section; version 1 slabs: the whole index). */
  bytes: Uint8Array;
}

/** Points per centroid the k-means training samples (faiss asks for 39; 16 trains 2.5× faster). */
const TRAIN_POINTS_PER_CENTROID = 16;

/**
 * Rows per list, on average, a slab must have to take a donor with more than twice the lists its
 * size would get: below it, the donor's centroids (which the slab stores) would weigh more than a
 * quarter of the slab's own vectors.
 */
export const MIN_ROWS_PER_DONOR_LIST = 4;

/**
 * Whether a donor's quantizer suits a new index of `count` rows: same metric, normalization and
 * code type, and at least as many lists as this size would get. Fewer, larger lists would make
 * every query scan more rows for the same recall (measured: two 500k-row slabs on a 1024-list
 * donor answered through HTTP at twice the cost of one 1M-row slab on 4096 lists), so a growing
 * namespace retrains when its slabs outgrow their quantizer.
 *
 * More lists than the size wants are fine: a query probing the small slab beside the namespace's
 * large one ranks the shared centroids once for both (CentroidRanking) and scans a few short
 * lists, where a quantizer of its own costs a ranking of its own; its build assigns rows instead
 * of training; and a later merge into the large slab keeps their lists. So a donor may have up to
 * twice the lists wanted, or more while the slab keeps {@link MIN_ROWS_PER_DONOR_LIST} rows per
 * list (a 20,000-row slab beside a 1M-row slab's 4,096 lists, not beside a 10M-row slab's 16,384).
 */
export function donorFits(donor: AnnHeader, factory: string, faissMetric: FaissMetric, normalized: boolean, count: number): boolean {
  const want = nlistOf(factory);
  const have = nlistOf(donor.factory);
  const codes = (f: string) => f.slice(f.indexOf(','));
  const lists = have >= want && (have <= want * 2 || have * MIN_ROWS_PER_DONOR_LIST <= count);
  return donor.faissMetric === faissMetric && donor.normalized === normalized && codes(donor.factory) === codes(factory) && lists;
}

/**
 * Builds and calibrates the ANN index of a slab's vectors (row-major, in slab row order).
 *
 * Training (k-means of the coarse quantizer) is most of an index build. Compaction rewrites the
 * same data at every level of the tree, so a build reuses the quantizer of a `donor` — another
 * slab's index, trained once — when it fits (see {@link donorFits}), and trains on a 16-points-
 * per-centroid sample otherwise. The calibration then measures the recall actually reached; if a
 * reused quantizer cannot reach the target at any knob value, the index is trained afresh.
 *
 * Assigning every row to its nearest centroid is most of the rest (rows × nlist distances): with a
 * reused quantizer, `knownLists` may name the list of rows that the same centroids assigned before
 * (rows of a merged slab built on them), given those centroids; only the others are assigned.
 */
export async function buildAnn(
  vectors: Float32Array,
  count: number,
  dimension: number,
  metric: Metric,
  policy: AnnPolicy = DEFAULT_ANN_POLICY,
  donor?: AnnDonor,
  knownLists?: KnownLists,
): Promise<SlabAnn & { trained: 'donor' | 'sample'; keptLists: number }> {
  const normalized = metric === 'cosine';
  let data = vectors;
  if (normalized) {
    // In chunks, so a large build does not hold the event loop for the whole pass.
    data = new Float32Array(vectors.length);
    const chunk = 4096 * dimension;
    for (let off = 0; off < vectors.length; off += chunk) {
      data.set(normalizeRows(vectors.subarray(off, off + chunk), dimension), off);
      await yieldToEventLoop();
    }
  }
  const faissMetric = faissMetricOf(metric);
  const chosen = chooseFactory(count, dimension);
  const wanted = Math.min(0.995, policy.recallTarget + CALIBRATION_MARGIN);
  if (donor && donorFits(donor.header, chosen.factory, faissMetric, normalized, count)) {
    const index = FaissIndex.deserialize(donor.bytes);
    index.reset();
    const lists = knownLists?.(index.ivfLayout().centroids);
    const kept = lists ? lists.reduce((n, list) => (list >= 0 ? n + 1 : n), 0) : 0;
    const built = await addAndCalibrate(index, donor.header.factory, chosen.oversample, data, count, dimension, faissMetric, normalized, policy, lists);
    if (built.header.calibration.some((p) => p.recall >= wanted)) return { ...built, trained: 'donor', keptLists: kept };
  }
  const index = FaissIndex.create(dimension, chosen.factory, faissMetric);
  const nlist = nlistOf(chosen.factory);
  try {
    const sample = gather(data, dimension, sampleRows(count, Math.min(count, nlist * TRAIN_POINTS_PER_CENTROID), 1));
    await index.train(sample, { minPointsPerCentroid: Math.min(TRAIN_POINTS_PER_CENTROID, Math.max(1, Math.floor(count / nlist))) });
  } catch (err) {
    index.dispose();
    throw err;
  }
  return {
    ...(await addAndCalibrate(index, chosen.factory, chosen.oversample, data, count, dimension, faissMetric, normalized, policy)),
    trained: 'sample',
    keptLists: 0,
  };
}

/**
 * Adds the vectors to a trained index and measures recall@10 for increasing nprobe on held-out
 * queries: rows of the slab, whose own match is excluded on both sides, so the measured recall is
 * that of finding *other* neighbours. Returns the calibration, the index's lists (what the slab
 * stores and queries probe) and the trained index emptied of its vectors (what a later build may
 * reuse). Disposes the index.
 */
async function addAndCalibrate(
  index: FaissIndex,
  factory: string,
  oversample: number,
  data: Float32Array,
  count: number,
  dimension: number,
  faissMetric: FaissMetric,
  normalized: boolean,
  policy: AnnPolicy,
  lists?: Int32Array,
): Promise<SlabAnn> {
  const nlist = nlistOf(factory);
  try {
    await index.add(data, { lists });
    const queryRows = sampleRows(count, Math.min(policy.calibrationQueries, count), 2);
    const queries = gather(data, dimension, queryRows);
    const K = 10;
    const truth = await exactNeighbours(data, dimension, faissMetric, queries, K + 1);
    // Each query's true neighbours in rank order, its own row left out.
    const truthLists = queryRows.map((row, q) =>
      Array.from(truth.subarray(q * (K + 1), (q + 1) * (K + 1)))
        .filter((l) => l !== row && l !== -1)
        .slice(0, K),
    );
    const calibration: CalibrationPoint[] = [];
    for (const nprobe of knobSteps(nlist)) {
      const kk = K * oversample + 1;
      const got = await index.search(queries, kk, { nprobe });
      const foundAt = new Float64Array(K);
      const askedAt = new Float64Array(K);
      queryRows.forEach((row, q) => {
        const found = Array.from(got.labels.subarray(q * kk, (q + 1) * kk)).filter((l) => l !== row && l !== -1);
        const top = new Set(rescoreTop(found, data, dimension, queries.subarray(q * dimension, (q + 1) * dimension), faissMetric, K));
        truthLists[q]!.forEach((label, rank) => {
          askedAt[rank]!++;
          if (top.has(label)) foundAt[rank]!++;
        });
      });
      const asked = askedAt.reduce((a, b) => a + b, 0);
      const recall = asked === 0 ? 1 : foundAt.reduce((a, b) => a + b, 0) / asked;
      // Per rank: what a query of several slabs needs from each (knobForShare in @conifer/slab).
      const byRank = Array.from(askedAt, (n, rank) => (n === 0 ? 1 : round4(foundAt[rank]! / n)));
      calibration.push({ value: nprobe, recall, byRank });
      if (recall >= 0.995) break;
    }
    const layout = index.ivfLayout();
    index.reset();
    return {
      header: { factory, faissMetric, normalized, param: 'nprobe', calibration, oversample, recallTarget: policy.recallTarget },
      layout,
      donor: index.serialize(),
    };
  } finally {
    index.dispose();
  }
}

/**
 * The nprobe values calibrated: 1, 2, 3, 4, 6, 8, 12, … up to nlist. Steps of about 1.5× rather
 * than doubling, so the knob a target picks is at most half again what it needs, not twice.
 */
export function knobSteps(nlist: number): number[] {
  const steps: number[] = [];
  for (let power = 1; power <= nlist; power *= 2) {
    steps.push(power);
    if (power >= 2 && power * 1.5 <= nlist) steps.push(power * 1.5);
  }
  return steps;
}

function round4(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}

/** Rows per exact-search chunk: bounds the calibration's copy of the vectors whatever the slab's size. */
const EXACT_CHUNK_ROWS = 131_072;

/**
 * The k nearest rows of `data` to each query (row-major labels, -1 where fewer), by brute force
 * over chunks of the rows: one Flat index of a chunk at a time, the chunks' answers merged. Faiss
 * would otherwise hold a second copy of every vector beside the IVF index being calibrated.
 */
export async function exactNeighbours(
  data: Float32Array,
  dimension: number,
  metric: FaissMetric,
  queries: Float32Array,
  k: number,
  chunkRows = EXACT_CHUNK_ROWS,
): Promise<Int32Array> {
  const count = data.length / dimension;
  const queryCount = queries.length / dimension;
  const best = Array.from({ length: queryCount }, () => [] as { label: number; distance: number }[]);
  const better = metric === 'l2' ? (a: number, b: number) => a - b : (a: number, b: number) => b - a;
  for (let first = 0; first < count; first += chunkRows) {
    const rows = Math.min(chunkRows, count - first);
    const exact = FaissIndex.create(dimension, 'Flat', metric);
    try {
      await exact.add(data.subarray(first * dimension, (first + rows) * dimension));
      const got = await exact.search(queries, Math.min(k, rows));
      const kk = Math.min(k, rows);
      for (let q = 0; q < queryCount; q++) {
        for (let i = 0; i < kk; i++) {
          const label = got.labels[q * kk + i]!;
          if (label !== -1) best[q]!.push({ label: first + label, distance: got.distances[q * kk + i]! });
        }
        best[q]!.sort((a, b) => better(a.distance, b.distance) || a.label - b.label);
        best[q]!.length = Math.min(best[q]!.length, k);
      }
    } finally {
      exact.dispose();
    }
  }
  const labels = new Int32Array(queryCount * k).fill(-1);
  best.forEach((list, q) => list.forEach((hit, i) => (labels[q * k + i] = hit.label)));
  return labels;
}

/** The k best of `labels` by exact distance to `query` (as faiss ranks them for the metric). */
function rescoreTop(labels: number[], data: Float32Array, dimension: number, query: Float32Array, metric: FaissMetric, k: number): number[] {
  const scored = labels.map((label) => {
    let s = 0;
    const off = label * dimension;
    if (metric === 'l2') {
      for (let i = 0; i < dimension; i++) {
        const d = data[off + i]! - query[i]!;
        s += d * d;
      }
    } else {
      for (let i = 0; i < dimension; i++) s += data[off + i]! * query[i]!;
    }
    return { label, s };
  });
  scored.sort((a, b) => (metric === 'l2' ? a.s - b.s : b.s - a.s));
  return scored.slice(0, k).map((x) => x.label);
}
