import { compareHits, compileFilter, makeScorer, sparseDot, type Filter, type Metric, type SparseF32 } from '@conifer/core';
import type { ArenaChunk, MemEntry, Memtable } from '@conifer/memtable';
import {
  exactTopRows,
  knobForRanks,
  knobForShare,
  ListAssigner,
  sortedDistinct,
  Bitset,
  type GatheredVectors,
  type IvfLayout,
  type RowTest,
  type SlabReader,
} from '@conifer/slab';
import { CentroidRanking, centroidQuery, type CentroidQuery } from './centroid-ranking.ts';
import { eligibleRows, type EligibleRows } from './eligible.ts';
import { ExactAllowance } from './exact-allowance.ts';
import { groupedRows, probedGroups, rowGroupsOf } from './row-groups.ts';
import { toHit, type Candidate, type Hit } from './hits.ts';
import { searchSparseSnapshot } from './sparse-search.ts';
import {
  clearedLsn,
  effectiveFilter,
  markedIfDone,
  markLayer,
  scanMemtables,
  shadowedByMemtables,
  shadowedLater,
  type SlabLayer,
  type Snapshot,
} from './snapshot.ts';
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
   * Planner threshold: eligible rows × dimension a query scans exactly natively, over all its
   * layers (about the cost of one IVF search of a million rows; ExactAllowance). A layer that fits
   * what is left is scanned exactly; others use their ANN index or row groups. Default 2^21.
   */
  exactBudget?: number | undefined;
}

export const DEFAULT_EXACT_BUDGET = 2 ** 21;
const EMPTY_SPARSE: SparseF32 = { indices: new Uint32Array(0), values: new Float32Array(0) };

export type { Hit } from './hits.ts';

/**
 * Top-k over a snapshot. The metadata filter is applied before ranking (a record that does not
 * match never takes a slot), and only the newest live version of each id is considered: a version
 * is skipped when a newer layer holds the same id, when it is a tombstone, or when a deleteAll with
 * a higher LSN hides it.
 *
 * Memtables are searched exactly and synchronously first (that fixes which ids they shadow); slabs
 * are immutable, so the awaits of ANN searches cannot change what this query sees. Per slab the
 * planner turns the filter into the eligible rows (a short row list for a selective filter, else a
 * bitmap: eligible.ts) and scans them exactly when that is cheap, or asks the slab's ANN index
 * (with the bitmap as an ID selector and the calibrated knob for the recall target) and rescores
 * its candidates exactly.
 */
export async function searchSnapshot(snapshot: Snapshot, request: SearchRequest): Promise<Hit[]> {
  // A sparse-only index has no dense part: its slabs are searched through their postings.
  if (request.vector.length === 0) return searchSparseSnapshot(snapshot, { ...request, sparse: request.sparse ?? EMPTY_SPARSE });
  const dense = makeScorer(request.metric, request.vector);
  const querySparse = request.sparse;
  const top = new TopK<Candidate>(request.topK, compareHits(request.metric));
  const filter = effectiveFilter(request.filter);
  const predicate = filter ? compileFilter(filter) : undefined;
  const cleared = clearedLsn(snapshot);
  const inMemtables = shadowedByMemtables(snapshot);
  const budget = request.exactBudget ?? DEFAULT_EXACT_BUDGET;
  const allowance = new ExactAllowance(budget);
  const ranking = new CentroidRanking();
  if (predicate || querySparse) {
    // Metadata predicates and sparse scores are evaluated per entry in JavaScript.
    scanMemtables(snapshot, (id, entry) => {
      if (predicate && !predicate(entry.metadata)) return;
      const sparseScore = querySparse && entry.sparse ? sparseDot(querySparse, entry.sparse) : 0;
      top.push({ id, score: dense(entry.values, 0) + sparseScore, entry });
    });
  } else {
    searchMemtableVectors(snapshot, request, allowance, ranking, (id, entry) => {
      const score = dense(entry.values!, 0);
      if (top.admits(score, id)) top.push({ id, score, entry });
    });
  }

  // A deleteAll in a memtable is newer than every slab: it hides them all.
  const slabs = cleared > 0 ? [] : snapshot.slabs;
  // Slabs are searched concurrently: what one waits for (its probed lists read by range, from
  // local disk or a bucket) overlaps the others' reads and scans instead of adding up. The result
  // does not depend on the order: hits are ranked by score, then id, and shadowing is per layer.
  const searchLayer = async (given: SlabLayer): Promise<void> => {
    // A provisional layer an earlier read had marked is read as marked.
    let layer = markedIfDone(given);
    const { reader } = layer;
    const dim = reader.dimension;
    /** Rows refused because a newer slab, not marked in this layer yet, holds their id. */
    let refusedAsShadowed = 0;
    /** The row's id if it is live for this query (no newer layer holds its id), else undefined. */
    const admit = (row: number): string | undefined => {
      if (shadowedLater(layer, row)) {
        refusedAsShadowed++;
        return undefined;
      }
      const id = reader.ids.at(row)!;
      return inMemtables(id) ? undefined : id;
    };
    /**
     * Scores an eligible row (live, and passing the filter) unless a memtable shadows it; its
     * vector is row `index` of `data` (the slab's own vectors, or what a ranged read gathered).
     */
    const visit = (row: number, data: Float32Array, index: number): boolean => {
      const id = admit(row);
      if (id === undefined) return false;
      let score = dense(data, index * dim);
      if (querySparse) {
        const rowSparse = reader.sparse(row);
        if (rowSparse) score += sparseDot(querySparse, rowSparse);
      }
      if (top.admits(score, id)) top.push({ id, score, reader, row, vector: { data, index } });
      return true;
    };
    // The filter becomes the eligible rows through the slab's columnar metadata (applied before
    // ranking): a short row list when it is selective enough to scan exactly, else a bitmap.
    // An ANN slab may take a broad filter as a row test: its probe checks the rows it scans.
    const maxRows = Math.floor(budget / dim);
    const { count: eligible, rows, bitset, test } = await eligibleRows(layer, filter, maxRows, { tested: reader.header.ann !== undefined && !querySparse });
    if (eligible === 0) return;
    /** Scans the eligible rows exactly, from the slab's vectors or what a ranged read gathers. */
    const scanExactly = async (count: number, eligibleRows: Int32Array | Bitset): Promise<void> => {
      const resident = reader.residentVectors;
      if (resident && eligibleRows instanceof Int32Array && !querySparse) {
        // In memory, a row list is scanned where its vectors are, through the slab's row →
        // position table when it is in list order: the native scan looks the positions up, so
        // no list of them is built here, and a filter's ascending rows need no repeat check.
        const positions = reader.vectorOrder === 'rows' ? undefined : reader.positions();
        const { vector, metric } = request;
        collectTop(
          (k) => exactTopRows(resident, dim, vector, k, metric, undefined, eligibleRows, positions),
          Math.min(count, eligibleRows.length),
          request.topK,
          (row) => visit(row, resident, reader.positionOf(row)),
        );
        return;
      }
      const gathered = await reader.gather(positionsOf(reader, eligibleRows));
      if (querySparse) {
        for (const index of gathered.at) visit(gathered.rowOf(index), gathered.data, index);
      } else {
        scanGathered(gathered, request, count, request.topK, visit);
      }
    };
    // A short row list (at most budget / dim rows: always the exact path), or a hybrid query,
    // whose scores need every eligible row's sparse part (scanned in JavaScript).
    if (rows || querySparse) {
      allowance.exact(eligible * dim, false);
      return scanExactly(eligible, rows ?? bitset!);
    }
    // A flat slab this process flushed from a memtable whose rows had groups (searched by the
    // rows of the groups the query probes, as in the memtable, until the slab has its own index),
    // or an ANN slab: scanned exactly only within the query's exact allowance.
    const grouped = reader.header.ann ? undefined : rowGroupsOf(reader);
    const exactly = allowance.exact(eligible * dim, grouped !== undefined || reader.header.ann !== undefined);
    const groups = !exactly && grouped ? probedGroups(grouped.assigner, request.vector, request.recallTarget, ranking, eligible / reader.count) : undefined;
    if (grouped && groups) {
      // A flat slab's eligible rows come as a bitmap (a short list was scanned above).
      const candidates = groupedRows(grouped, groups).filter((row) => eligible === reader.count || bitset!.has(row));
      return scanExactly(candidates.length, candidates);
    }
    // Every ANN slab the index builder writes is IVF; without a layout (a flat slab, or a version
    // 1 slab whose index is still loading) the exact scan answers.
    const ivf = !exactly && reader.header.ann ? reader.ivfLayout() : undefined;
    if (ivf) {
      const allowed = eligible === reader.count ? undefined : (test ?? bitset);
      // A slab with codes whose vectors are not in memory offers its probed lists' best rows by
      // their codes; the best of all slabs are rescored from their vectors once every probe is done.
      const offer = (row: number, position: number, score: number): boolean => {
        const id = admit(row);
        if (id === undefined) return false;
        byCodes.push({ id, score, reader, row, position });
        return true;
      };
      // On a provisional layer (a namespace that has just opened), a probe that refused rows as
      // shadowed and still lacks its top k has the slab's shadows marked and goes on over its
      // live rows: a slab that newer slabs rewrite whole would otherwise be scanned list by list.
      const mark = layer.unmarked
        ? async (): Promise<EligibleRows | undefined> => {
            if (refusedAsShadowed === 0) return undefined;
            layer = await markLayer(layer);
            return eligibleRows(layer, filter, maxRows, { tested: true });
          }
        : undefined;
      const probe = new IvfProbe(reader, ivf, request, allowed, eligible, visit, ranking, offer, mark);
      const share = reader.count / namespaceRows;
      // A slab holding every row was asked for recall@10 already: nothing to recount for it.
      if (share < 1) probes.push(probe);
      await probe.searchTo(knobForShare(reader.header.ann!, probe.target, share, request.topK));
      return;
    }
    // The exact scans take the eligible rows as a bitmap (eligibleRows sets exactly one of rows /
    // bitset / test); a test was for an IVF search, which this slab cannot run yet: counted exactly.
    const exact = bitset ? { count: eligible, bitset } : await eligibleRows(layer, filter, maxRows);
    if (exact.rows) return scanExactly(exact.count, exact.rows);
    const allowed = exact.bitset!;
    if (reader.vectorOrder === 'rows') {
      // Positions are rows: one native scan over all vectors with the bitmap.
      const data = reader.residentVectors ?? (await reader.gather(allPositions(reader.count))).data;
      collectTop(
        (k) => exactTopRows(data, dim, request.vector, k, request.metric, exact.count === reader.count ? undefined : allowed.bytes),
        exact.count,
        request.topK,
        (row) => visit(row, data, row),
      );
    } else {
      await scanExactly(exact.count, allowed);
    }
  };
  // Each IVF slab first probes for its share of the namespace's rows (knobForShare), which
  // assumes the top k spreads over slabs like their rows. Where the top k holds more of a slab's
  // rows than the lists it probed were calibrated to find, that slab probes on until they are:
  // neighbours crowded into one slab get the recall that slab alone would give them.
  const namespaceRows = slabs.reduce((n, layer) => n + layer.reader.count, 0) + snapshot.memtables.reduce((n, m) => n + m.size, 0);
  /** The IVF slabs asked for their share: those the top k may send further. */
  const probes: IvfProbe[] = [];
  /** The best rows found by their codes (approximate scores), to rescore from their vectors. */
  const byCodes = new TopK<ByCodes>(codesCandidates(request.topK), compareHits(request.metric));
  await Promise.all(slabs.map(searchLayer));
  while (probes.length > 0) {
    const found = new Map<SlabReader, number>();
    // Where the top k comes from, scored exactly or, for rows found by codes, approximately.
    const best = [...top.sorted(), ...byCodes.sorted()].sort(compareHits(request.metric)).slice(0, request.topK);
    for (const hit of best) if (hit.reader) found.set(hit.reader, (found.get(hit.reader) ?? 0) + 1);
    const further = probes
      .map((probe) => ({ probe, knob: knobForRanks(probe.reader.header.ann!, probe.target, found.get(probe.reader) ?? 0) }))
      .filter(({ probe, knob }) => probe.wants(knob));
    if (further.length === 0) break;
    await Promise.all(further.map(({ probe, knob }) => probe.searchTo(knob)));
  }
  await rescore(byCodes.sorted(), dense, top);
  return top.sorted().map(toHit);
}

/** A row found by its code: its approximate score and where its vector is. */
interface ByCodes {
  id: string;
  score: number;
  reader: SlabReader;
  row: number;
  position: number;
}

/**
 * Rows found by codes kept for rescoring: enough that the top k of their exact scores is the top
 * k of the lists probed (a code's decoded vector is within half a quantization step of the vector
 * per dimension, which moves a row only past near neighbours).
 */
export function codesCandidates(topK: number): number {
  return 2 * (topK + EXACT_SLACK);
}

/** Scores rows found by codes from their vectors (one gather per slab, in position order) and offers them to `top`. */
async function rescore(found: ByCodes[], dense: (data: Float32Array, offset: number) => number, top: TopK<Candidate>): Promise<void> {
  const bySlab = new Map<SlabReader, ByCodes[]>();
  for (const c of found) {
    const list = bySlab.get(c.reader);
    if (list) list.push(c);
    else bySlab.set(c.reader, [c]);
  }
  await Promise.all(
    [...bySlab].map(async ([reader, rows]) => {
      rows.sort((a, b) => a.position - b.position);
      const gathered = await reader.gather(Int32Array.from(rows, (c) => c.position));
      const dim = reader.dimension;
      rows.forEach((c, i) => {
        const index = gathered.at[i]!;
        top.push({ id: c.id, score: dense(gathered.data, index * dim), reader, row: c.row, vector: { data: gathered.data, index } });
      });
    }),
  );
}

/**
 * Dense search of the memtables through their packed vectors (native scans of each chunk's live
 * rows): newest memtable first, skipping ids a newer memtable holds, and none older than the
 * newest deleteAll. Synchronous, so it sees one LSN prefix of the active memtable.
 *
 * A memtable whose rows are put into groups of the namespace's IVF lists as they are written (a
 * ListAssigner's, kept by `Memtable.listCandidates`) and that does not fit what is left of the
 * query's exact allowance is searched by those groups: the rows of the groups of the lists the
 * query probes (probedGroups), plus the few rows written since the last assignment.
 */
function searchMemtableVectors(
  snapshot: Snapshot,
  request: SearchRequest,
  allowance: ExactAllowance,
  ranking: CentroidRanking,
  push: (id: string, entry: MemEntry) => void,
): void {
  const visible: Memtable[] = [];
  for (const m of snapshot.memtables) {
    visible.push(m);
    if (m.clearedAtLsn > 0) break; // everything older is hidden by this deleteAll
  }
  visible.forEach((memtable, at) => {
    const newer = visible.slice(0, at);
    const offer = (chunk: ArenaChunk, candidates: (k: number) => Int32Array, eligible: number): void => {
      collectTop(candidates, eligible, request.topK, (row) => {
        const id = chunk.ids[row]!;
        if (newer.some((m) => m.get(id) !== undefined)) return false;
        push(id, memtable.get(id)!);
        return true;
      });
    };
    const dim = request.vector.length;
    const chunks = memtable.vectorChunks();
    const live = chunks.reduce((n, chunk) => n + chunk.liveCount, 0);
    const probed = allowance.exact(live * dim, memtable.listQuantizer instanceof ListAssigner, MEMTABLE_EXACT_SHARE)
      ? undefined
      : rowsOfProbedGroups(memtable, request, ranking);
    if (probed) {
      for (const { chunk, rows } of probed)
        offer(chunk, (k) => exactTopRows(chunk.vectors, dim, request.vector, k, request.metric, undefined, rows), rows.length);
      return;
    }
    for (const chunk of chunks) {
      if (chunk.liveCount > 0) offer(chunk, (k) => exactTopRows(chunk.vectors, dim, request.vector, k, request.metric, chunk.live), chunk.liveCount);
    }
  });
}

/**
 * The part of the exact allowance a memtable whose rows have groups may take. Its groups find its
 * rows at the recall the query asks for (rows written since the last grouping are scanned exactly
 * anyway); scanning a memtable of a full allowance exactly costs a query several times what its
 * indexed search of a million rows does, and a namespace being written holds such a memtable
 * most of the time.
 */
const MEMTABLE_EXACT_SHARE = 0.25;

/** A memtable's rows in the groups a query probes (see searchMemtableVectors), if its rows have groups. */
function rowsOfProbedGroups(memtable: Memtable, request: SearchRequest, ranking: CentroidRanking): { chunk: ArenaChunk; rows: Int32Array }[] | undefined {
  const assigner = memtable.listQuantizer;
  if (!(assigner instanceof ListAssigner)) return undefined;
  const groups = probedGroups(assigner, request.vector, request.recallTarget, ranking);
  return groups && memtable.listCandidates(assigner, groups);
}

/**
 * Offers the best candidates of an exact scan to `visit` until `topK` of them are accepted (a
 * candidate is refused when a newer layer shadows it) or every eligible row was offered.
 */
const EXACT_SLACK = 8;

function collectTop(candidates: (k: number) => Int32Array, eligible: number, topK: number, visit: (row: number) => boolean): number {
  let k = Math.min(eligible, topK);
  // The rows of earlier rounds, made only for a second round: one scan's rows are distinct, and
  // most searches take the first round's.
  let seen: Set<number> | undefined;
  let accepted = 0;
  for (;;) {
    // A few more than k: the native scan accumulates in float32, and rows within rounding of the
    // k-th must reach the exact JavaScript scoring that decides the final order.
    const rows = candidates(Math.min(eligible, k + EXACT_SLACK));
    for (const row of rows) {
      if (seen?.has(row)) continue;
      if (visit(row)) accepted++;
    }
    if (accepted >= Math.min(topK, eligible) || k >= eligible) return accepted;
    seen ??= new Set<number>();
    for (const row of rows) seen.add(row);
    k = Math.min(eligible, k * 2);
  }
}

/** Exact top-k over gathered vectors (their `at` rows), offered to `visit` best first. */
function scanGathered(
  gathered: GatheredVectors,
  request: SearchRequest,
  eligible: number,
  topK: number,
  visit: (row: number, data: Float32Array, index: number) => boolean,
): number {
  const { data, at } = gathered;
  const dim = request.vector.length;
  return collectTop(
    (k) => exactTopRows(data, dim, request.vector, k, request.metric, undefined, at),
    Math.min(eligible, at.length),
    topK,
    (index) => visit(gathered.rowOf(index), data, index),
  );
}

/**
 * The positions of the vectors of `rows` (a row list, or the rows of a bitmap); ascending for a
 * slab read by range, so that neighbouring positions are gathered in one request.
 */
function positionsOf(reader: SlabReader, rows: Int32Array | Bitset): Int32Array {
  if (reader.vectorOrder === 'rows') return rows instanceof Int32Array ? rows : bitsetRows(rows);
  const of = reader.positions();
  const list = rows instanceof Int32Array ? rows : bitsetRows(rows);
  const positions = new Int32Array(list.length);
  for (let i = 0; i < list.length; i++) positions[i] = of[list[i]!]!;
  // A linear sort (not a comparison sort), and only for a ranged read: in memory the scan reads
  // scattered vectors no faster in ascending order.
  return reader.resident ? positions : sortedDistinct(positions, reader.count);
}

function bitsetRows(bitset: Bitset): Int32Array {
  const rows = new Int32Array(bitset.count());
  let n = 0;
  bitset.forEach((row) => {
    rows[n++] = row;
  });
  return rows;
}

function allPositions(count: number): Int32Array {
  const positions = new Int32Array(count);
  for (let i = 0; i < count; i++) positions[i] = i;
  return positions;
}

/**
 * IVF search run here rather than in faiss: the query is compared with the slab's centroids, and
 * the rows of the nearest `nprobe` lists (the calibrated knob for the recall target, grown by
 * 1/selectivity under a filter) are scanned exactly from the slab's own float32 vectors with the
 * SIMD kernels — the same lists faiss would probe, but exact distances. A version 2 slab stores
 * each list's vectors contiguously, so a probed list is one ranged read when the slab is read by
 * range. A probe can be taken further (`searchTo` a larger knob): only lists not yet scanned are
 * read. When shadowing or a filter leaves fewer than topK accepted rows, nprobe doubles. A slab
 * with SQ8 codes whose vectors are not in memory scans the lists' codes instead (in memory, or by
 * range from a local disk) and offers its best rows for rescoring (`offer`).
 */
class IvfProbe {
  readonly reader: SlabReader;
  /** The recall target the knobs are chosen for. */
  readonly target: number;
  readonly #ivf: IvfLayout;
  readonly #request: SearchRequest;
  /** The eligible rows (a bitmap, or a filter's row test); undefined when every row is. */
  #allowed: Pick<RowTest, 'has'> | undefined;
  #eligible: number;
  /** Marks a provisional layer's shadows, giving the eligible rows then (see searchLayer). */
  #mark: (() => Promise<EligibleRows | undefined>) | undefined;
  readonly #visit: (row: number, data: Float32Array, index: number) => boolean;
  readonly #offer: (row: number, position: number, score: number) => boolean;
  /** The query as the slab's centroids compare it. */
  readonly #centroidQuery: CentroidQuery;
  readonly #ranking: CentroidRanking;
  /** Lists scanned so far, and the rows they gave the top k. */
  #nprobe = 0;
  #accepted = 0;

  constructor(
    reader: SlabReader,
    ivf: IvfLayout,
    request: SearchRequest,
    allowed: Pick<RowTest, 'has'> | undefined,
    eligible: number,
    visit: (row: number, data: Float32Array, index: number) => boolean,
    ranking: CentroidRanking,
    offer: (row: number, position: number, score: number) => boolean,
    mark?: () => Promise<EligibleRows | undefined>,
  ) {
    const info = reader.header.ann!;
    this.#mark = mark;
    this.#ranking = ranking;
    this.reader = reader;
    this.target = request.recallTarget ?? info.recallTarget;
    this.#ivf = ivf;
    this.#request = request;
    this.#allowed = allowed;
    this.#eligible = eligible;
    this.#visit = visit;
    this.#offer = offer;
    this.#centroidQuery = centroidQuery(info, request.vector, reader.dimension);
  }

  /** Whether a calibrated `knob` would probe lists this search has not scanned yet. */
  wants(knob: number): boolean {
    return Math.min(this.#nlist, this.#scaled(knob)) > this.#nprobe;
  }

  /** Scans the lists among the nearest `knob` (grown under a filter) not scanned yet. */
  async searchTo(knob: number): Promise<void> {
    const { reader } = this;
    const ivf = this.#ivf;
    const request = this.#request;
    const contiguous = reader.vectorOrder === 'lists';
    let nprobe = Math.max(this.#nprobe, Math.min(this.#nlist, this.#scaled(knob)));
    for (;;) {
      if (nprobe > this.#nprobe) {
        // The lists not probed yet among the nearest nprobe (their rows are new to this query).
        const { probe, metric, normalized } = this.#centroidQuery;
        const lists = this.#ranking.nearest(ivf, reader.dimension, probe, metric, normalized, nprobe);
        let size = 0;
        for (let i = this.#nprobe; i < lists.length; i++) size += ivf.offsets[lists[i]! + 1]! - ivf.offsets[lists[i]!]!;
        const positions = new Int32Array(size);
        let n = 0;
        for (let i = this.#nprobe; i < lists.length; i++) {
          for (let at = ivf.offsets[lists[i]!]!, end = ivf.offsets[lists[i]! + 1]!; at < end; at++) {
            const row = ivf.rows[at]!;
            if (!this.#allowed || this.#allowed.has(row)) positions[n++] = contiguous ? at : row;
          }
        }
        this.#nprobe = lists.length;
        if (n > 0 && contiguous && !reader.resident && reader.hasCodes && (reader.codesResident || reader.readsNearby)) {
          // The vectors are not in memory: the lists' codes (a quarter of the bytes; in memory, or
          // read from a local disk) pick the candidates, which are rescored from their vectors when
          // the search is done. From a bucket, codes not in memory would cost the query two rounds
          // of reads, codes then vectors: the lists' vectors are read instead, one round.
          const best = await reader.topByCodes(positions.subarray(0, n), request.vector, codesCandidates(request.topK), request.metric);
          for (let i = 0; i < best.positions.length; i++) {
            const position = best.positions[i]!;
            if (this.#offer(reader.rowAt(position), position, best.scores[i]!)) this.#accepted++;
          }
        } else if (n > 0) {
          // Each list's positions are consecutive: a ranged read fetches a list as one range.
          const gathered = await reader.gather(positions.subarray(0, n));
          // The best topK of the new lists, whatever was accepted before: they may beat it.
          this.#accepted += scanGathered(gathered, request, n, request.topK, this.#visit);
        }
      }
      if (this.#found() || this.#nprobe >= this.#nlist) return;
      if (this.#mark && (await this.#marked()) && this.#found()) return;
      // Double, or go to the knob grown for the rows that marking left eligible.
      nprobe = Math.min(this.#nlist, Math.max(this.#scaled(knob), Math.max(1, this.#nprobe) * 2));
    }
  }

  /** Whether the lists scanned gave the top k (or every eligible row). */
  #found(): boolean {
    return this.#accepted >= Math.min(this.#request.topK, this.#eligible);
  }

  /** Takes the eligible rows of the marked layer, if marking applies; false if it did not. */
  async #marked(): Promise<boolean> {
    const eligible = await this.#mark!();
    if (!eligible) return false;
    this.#mark = undefined;
    this.#eligible = eligible.count;
    const { rows, bitset, test } = eligible;
    this.#allowed = eligible.count === this.reader.count ? undefined : (test ?? bitset ?? Bitset.fromRows(this.reader.count, rows!));
    return true;
  }

  get #nlist(): number {
    return this.#ivf.offsets.length - 1;
  }

  /** A knob calibrated over every row, grown by 1/selectivity for the rows a filter leaves. */
  #scaled(knob: number): number {
    return Math.ceil(knob / (this.#eligible / this.reader.count));
  }
}
