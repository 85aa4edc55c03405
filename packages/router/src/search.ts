import { compareHits, compileFilter, makeScorer, sparseDot, type Filter, type Metadata, type Metric, type SparseF32 } from '@conifer/core';
import type { MemEntry } from '@conifer/memtable';
import type { SlabReader } from '@conifer/slab';
import { clearedLsn, type Snapshot } from './snapshot.ts';
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
}

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
 * Exact top-k over a snapshot. The metadata filter is applied before ranking (a record that does
 * not match never takes a slot), and only the newest live version of each id is considered: a
 * version is skipped when a newer layer holds the same id, when it is a tombstone, or when a
 * deleteAll with a higher LSN hides it. Runs synchronously, so it sees one consistent state.
 */
export function searchSnapshot(snapshot: Snapshot, request: SearchRequest): Hit[] {
  const dense = makeScorer(request.metric, request.vector);
  const querySparse = request.sparse;
  const top = new TopK<Candidate>(request.topK, compareHits(request.metric));
  const filter = request.filter && Object.keys(request.filter).length > 0 ? request.filter : undefined;
  const predicate = filter ? compileFilter(filter) : undefined;
  const cleared = clearedLsn(snapshot);
  const inMemtables = new Set<string>();

  for (const memtable of snapshot.memtables) {
    for (const [id, entry] of memtable.entries()) {
      if (inMemtables.has(id)) continue;
      inMemtables.add(id);
      if (entry.values === null || entry.lsn < cleared) continue;
      if (predicate && !predicate(entry.metadata)) continue;
      const sparseScore = querySparse && entry.sparse ? sparseDot(querySparse, entry.sparse) : 0;
      top.push({ id, score: dense(entry.values, 0) + sparseScore, entry });
    }
  }

  const checkMemtables = inMemtables.size > 0;
  for (const { reader, shadowed } of snapshot.slabs) {
    const { ids, lsns, flags, vectors } = reader;
    const dim = reader.dimension;
    const visit = (row: number) => {
      if (shadowed[row] !== 0 || flags[row] !== 0 || lsns[row]! < cleared) return;
      const id = ids[row]!;
      if (checkMemtables && inMemtables.has(id)) return;
      let score = dense(vectors, row * dim);
      if (querySparse) {
        const rowSparse = reader.sparse(row);
        if (rowSparse) score += sparseDot(querySparse, rowSparse);
      }
      top.push({ id, score, reader, row });
    };
    // With a filter, the slab's columnar metadata yields the eligible rows as a bitmap, and only
    // those are scored: the filter is applied before ranking, at the cost of set algebra.
    if (filter) reader.metadataIndex().evaluate(filter).forEach(visit);
    else for (let row = 0; row < ids.length; row++) visit(row);
  }

  return top.sorted().map((c) => ({
    id: c.id,
    score: c.score,
    values: () => (c.entry ? c.entry.values! : c.reader!.values(c.row!)!),
    sparse: () => (c.entry ? c.entry.sparse : c.reader!.sparse(c.row!)),
    metadata: () => (c.entry ? c.entry.metadata : c.reader!.metadata(c.row!)),
  }));
}
