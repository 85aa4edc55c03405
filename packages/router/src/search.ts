import { compareHits, compileFilter, makeScorer, sparseDot, type Filter, type Metadata, type Metric, type SparseF32 } from '@conifer/core';
import type { MemEntry } from '@conifer/memtable';
import { knobFor, normalizeRows, type Bitset, type SlabReader } from '@conifer/slab';
import { clearedLsn, scanMemtables, type Snapshot } from './snapshot.ts';
import { TopK } from './top-k.ts';

export interface SearchRequest {
  metric: Metric;
  vector: Float32Array;
  topK: number;
  /**
   * Sparse part of a hybrid query (dotproduct only, enforced by the caller): the score becomes
   * dense·dense + sparse·sparse, Pinecone's definition.
   */
  sparse?: SparseF32 | undefined;
  /** Metadata filter (validated); omitted means every record is eligible. */
  filter?: Filter | undefined;
  /** recall@10 each ANN slab must reach (default: the target its calibration was built for). */
  recallTarget?: number | undefined;
  /**
   * Planner threshold: a slab whose eligible rows × dimension is at most this is scanned exactly
   * (a few hundred microseconds of work); larger ones use their ANN index. Default 2^21.
   */
  exactBudget?: number | undefined;
}

export const DEFAULT_EXACT_BUDGET = 2 ** 18;

export interface Hit {
  id: string;
  score: number;
  values(): Float32Array;
  sparse(): SparseF32 | undefined;
  metadata(): Metadata | undefined;
}

interface Candidate {
  id: string;
  score: number;
  entry?: MemEntry;
  reader?: SlabReader;
  row?: number;
}

/**
 * Top-k over a snapshot. The metadata filter is applied before ranking (a record that does not
 * match never takes a slot), and only the newest live version of each id is considered: a version
 * is skipped when a newer layer holds the same id, when it is a tombstone, or when a deleteAll with
 * a higher LSN hides it.
 *
 * Memtables are searched exactly and synchronously first (that fixes which ids they shadow); slabs
 * are immutable, so the awaits of ANN searches cannot change what this query sees. Per slab the
 * planner turns the filter into a bitmap of eligible rows and scans them exactly when that is
 * cheap, or asks the slab's ANN index (with the bitmap as an ID selector and the calibrated knob
 * for the recall target) and rescores its candidates exactly.
 */
export async function searchSnapshot(snapshot: Snapshot, request: SearchRequest): Promise<Hit[]> {
  const dense = makeScorer(request.metric, request.vector);
  const querySparse = request.sparse;
  const top = new TopK<Candidate>(request.topK, compareHits(request.metric));
  const filter = request.filter && Object.keys(request.filter).length > 0 ? request.filter : undefined;
  const predicate = filter ? compileFilter(filter) : undefined;
  const cleared = clearedLsn(snapshot);
  const inMemtables = scanMemtables(snapshot, (id, entry) => {
    if (predicate && !predicate(entry.metadata)) return;
    const sparseScore = querySparse && entry.sparse ? sparseDot(querySparse, entry.sparse) : 0;
    top.push({ id, score: dense(entry.values, 0) + sparseScore, entry });
  });

  const checkMemtables = inMemtables.size > 0;
  // A deleteAll in a memtable is newer than every slab: it hides them all.
  const slabs = cleared > 0 ? [] : snapshot.slabs;
  const budget = request.exactBudget ?? DEFAULT_EXACT_BUDGET;
  for (const { reader, live, liveCount } of slabs) {
    const { ids, vectors } = reader;
    const dim = reader.dimension;
    /** Scores an eligible row (live, and passing the filter) unless a memtable shadows it. */
    const visit = (row: number): boolean => {
      const id = ids[row]!;
      if (checkMemtables && inMemtables.has(id)) return false;
      let score = dense(vectors, row * dim);
      if (querySparse) {
        const rowSparse = reader.sparse(row);
        if (rowSparse) score += sparseDot(querySparse, rowSparse);
      }
      top.push({ id, score, reader, row });
      return true;
    };
    // The filter becomes a bitmap through the slab's columnar metadata: applied before ranking.
    const allowed = filter ? (await reader.metadataIndexAsync()).evaluate(filter).and(live) : live;
    const eligible = filter ? allowed.count() : liveCount;
    if (eligible === 0) continue;
    const ann = querySparse ? undefined : reader.ann();
    if (!ann || eligible * dim <= budget) {
      allowed.forEach((row) => void visit(row));
      continue;
    }
    await searchAnn(reader, ann, request, allowed, eligible, visit);
  }

  return top.sorted().map((c) => ({
    id: c.id,
    score: c.score,
    values: () => (c.entry ? c.entry.values! : c.reader!.values(c.row!)!),
    sparse: () => (c.entry ? c.entry.sparse : c.reader!.sparse(c.row!)),
    metadata: () => (c.entry ? c.entry.metadata : c.reader!.metadata(c.row!)),
  }));
}

/**
 * Asks a slab's ANN index for candidates and scores them exactly. A filter that leaves a fraction
 * s of the rows makes IVF find fewer eligible rows per probed list, so nprobe grows by 1/s.
 * Candidates shadowed by a memtable are dropped; if that leaves fewer than topK, the search is
 * repeated with more candidates.
 */
async function searchAnn(
  reader: SlabReader,
  ann: NonNullable<ReturnType<SlabReader['ann']>>,
  request: SearchRequest,
  allowed: Bitset,
  eligible: number,
  visit: (row: number) => boolean,
): Promise<void> {
  const info = reader.header.ann!;
  const target = request.recallTarget ?? info.recallTarget;
  const selectivity = eligible / reader.count;
  const nlist = ann.kind === 'ivf' ? Number(/^IVF(\d+)/.exec(info.factory)?.[1] ?? 1) : 1;
  const knob = Math.min(nlist, Math.ceil(knobFor(info, target) / selectivity));
  const query = info.normalized ? normalizeRows(request.vector, request.vector.length) : request.vector;
  const bitmap = eligible === reader.count ? undefined : allowed.bytes;
  let k = Math.min(eligible, request.topK * info.oversample);
  const seen = new Set<number>();
  let accepted = 0;
  for (;;) {
    const { labels } = await ann.search(query, k, { [info.param]: knob, ...(bitmap ? { allowed: bitmap } : {}) });
    for (const label of labels) {
      if (label < 0 || seen.has(label)) continue;
      seen.add(label);
      if (visit(label)) accepted++;
    }
    if (accepted >= Math.min(request.topK, eligible) || k >= eligible) return;
    k = Math.min(eligible, k * 2);
  }
}
