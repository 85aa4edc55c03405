import { compareHits, compileFilter, sparseDot, sparseMatch, type SparseF32 } from '@conifer/core';
import type { MemEntry } from '@conifer/memtable';
import { findTerm, type Bitset, type Postings } from '@conifer/slab';
import { eligibleRows } from './eligible.ts';
import { toHit, type Candidate, type Hit } from './hits.ts';
import type { SearchRequest } from './search.ts';
import { clearedLsn, effectiveFilter, scanMemtables, shadowedByMemtables, shadowedLater, type Snapshot } from './snapshot.ts';
import { TopK } from './top-k.ts';

/**
 * Search of a sparse-only index: the records that share at least one dimension with the query,
 * ranked by dot product (Pinecone's sparse indexes score dotproduct only). Memtables are scanned
 * entry by entry (they are small and recent); each slab is searched through its postings with
 * dynamic pruning (searchPostings), so a query reads the lists of its own terms and skips the rows
 * that cannot reach the current top k. Scores of the rows that enter the top k are computed exactly
 * as a brute-force scan would (one sparse dot product), so pruning never changes a result.
 */
export async function searchSparseSnapshot(snapshot: Snapshot, request: SearchRequest & { sparse: SparseF32 }): Promise<Hit[]> {
  const query = request.sparse;
  const top = new TopK<Candidate>(request.topK, compareHits('dotproduct'));
  const filter = effectiveFilter(request.filter);
  const predicate = filter ? compileFilter(filter) : undefined;
  const cleared = clearedLsn(snapshot);
  const inMemtables = shadowedByMemtables(snapshot);
  scanMemtables(snapshot, (id, entry) => {
    if (predicate && !predicate(entry.metadata)) return;
    const score = entry.sparse ? sparseMatch(query, entry.sparse) : undefined;
    if (score !== undefined) top.push({ id, score, entry: entry as MemEntry });
  });
  const threshold = (): number => top.worst()?.score ?? -Infinity;

  for (const layer of cleared > 0 ? [] : snapshot.slabs) {
    const { reader } = layer;
    const visit = (row: number): void => {
      if (shadowedLater(layer, row)) return;
      const id = reader.ids.at(row)!;
      if (inMemtables(id)) return;
      // Exact, as a scan would score it: the pruning's running sums add in another order.
      top.push({ id, score: sparseDot(query, reader.sparse(row)!), reader, row });
    };
    const { count, rows, bitset } = await eligibleRows(layer, filter, SHORT_LIST_ROWS);
    if (count === 0) continue;
    if (rows) {
      // A selective filter: its few rows are scored directly.
      for (const row of rows) {
        const sparse = reader.sparse(row);
        if (sparse && sparseMatch(query, sparse) !== undefined) visit(row);
      }
      continue;
    }
    searchPostings(reader.postings(), query, bitset!, threshold, visit);
  }
  return top.sorted().map(toHit);
}

/** Rows a filter may leave for them to be scored one by one rather than through the postings. */
const SHORT_LIST_ROWS = 2048;

/** One query term's list during a search. */
interface TermCursor {
  /** The query's value for the term. */
  q: number;
  /** Upper bound of q × value over the list, never below 0. */
  bound: number;
  pos: number;
  end: number;
  /** The list's first posting and its blocks [block, blockEnd). */
  start: number;
  block: number;
  firstBlock: number;
  blockEnd: number;
}

/**
 * Document-at-a-time MaxScore with block-max bounds (Turtle & Flood; Ding & Suel). Terms are
 * ordered by their upper bound; the longest prefix whose bounds sum below the current k-th score
 * (`threshold`) is "non-essential": a row that only they contain cannot enter the top k, so only
 * the essential lists are walked to find candidates, and each non-essential list is consulted for a
 * candidate only while the candidate's bound — its score so far plus the bound of the block that
 * would hold it — can still reach the threshold. The threshold only rises, so the essential set only
 * shrinks as the search goes. `visit` gets every row that may belong in the top k (its exact score
 * is the caller's), never one that cannot. Bounds allow for negative values: a term whose values
 * can only lower a score bounds it by 0.
 */
export function searchPostings(postings: Postings, query: SparseF32, allowed: Bitset | undefined, threshold: () => number, visit: (row: number) => void): void {
  const { rows, values, termStart, blockStart, blockLast, blockMax, blockMin, blockSize } = postings;
  const cursors: TermCursor[] = [];
  for (let i = 0; i < query.indices.length; i++) {
    const t = findTerm(postings, query.indices[i]!);
    if (t < 0) continue;
    const q = query.values[i]!;
    cursors.push({
      q,
      bound: Math.max(q * postings.termMax[t]!, q * postings.termMin[t]!, 0),
      pos: termStart[t]!,
      end: termStart[t + 1]!,
      start: termStart[t]!,
      block: blockStart[t]!,
      firstBlock: blockStart[t]!,
      blockEnd: blockStart[t + 1]!,
    });
  }
  if (cursors.length === 0) return;
  cursors.sort((a, b) => a.bound - b.bound);
  const n = cursors.length;
  /** prefix[i]: the bounds of cursors 0..i summed. */
  const prefix = new Float64Array(n);
  let sum = 0;
  cursors.forEach((c, i) => (prefix[i] = sum += c.bound));

  let cut = -Infinity;
  let essential = 0;
  const raise = (): void => {
    const theta = threshold();
    // A margin for rounding: bounds and scores add the same products in different orders.
    const next = theta - 1e-9 * (1 + Math.abs(theta));
    if (next <= cut) return;
    cut = next;
    while (essential < n && prefix[essential]! < cut) essential++;
  };
  raise();

  for (;;) {
    if (essential === n) return; // no row can reach the threshold any more
    let row = Infinity;
    for (let i = essential; i < n; i++) {
      const c = cursors[i]!;
      if (c.pos < c.end && rows[c.pos]! < row) row = rows[c.pos]!;
    }
    if (row === Infinity) return;
    let score = 0;
    for (let i = essential; i < n; i++) {
      const c = cursors[i]!;
      if (c.pos < c.end && rows[c.pos] === row) score += c.q * values[c.pos++]!;
    }
    if (allowed && !allowed.has(row)) continue;
    let possible = true;
    for (let i = essential - 1; i >= 0; i--) {
      const rest = i > 0 ? prefix[i - 1]! : 0;
      if (score + prefix[i]! < cut) {
        possible = false;
        break;
      }
      const c = cursors[i]!;
      // Shallow move to the block that would hold the row; its bound is tighter than the list's.
      while (c.block < c.blockEnd && blockLast[c.block]! < row) c.block++;
      if (c.block === c.blockEnd) continue; // the list ends before this row
      const blockBound = Math.max(c.q * blockMax[c.block]!, c.q * blockMin[c.block]!, 0);
      if (score + blockBound + rest < cut) {
        possible = false;
        break;
      }
      c.pos = Math.max(c.pos, c.start + (c.block - c.firstBlock) * blockSize);
      while (c.pos < c.end && rows[c.pos]! < row) c.pos++;
      if (c.pos < c.end && rows[c.pos] === row) score += c.q * values[c.pos]!;
    }
    if (!possible || score < cut) continue;
    visit(row);
    raise();
  }
}
