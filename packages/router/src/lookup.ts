import { compileFilter, type Filter, type Metadata, type SparseF32 } from '@conifer/core';
import { clearedLsn, scanMemtables, type Snapshot } from './snapshot.ts';

export interface LiveRecord {
  id: string;
  lsn: number;
  values: Float32Array;
  sparse: SparseF32 | undefined;
  metadata: Metadata | undefined;
}

/** The newest live version of `id`, or undefined when it does not exist or is deleted. */
export function getRecord(snapshot: Snapshot, id: string): LiveRecord | undefined {
  const cleared = clearedLsn(snapshot);
  for (const memtable of snapshot.memtables) {
    const entry = memtable.get(id);
    if (!entry) continue;
    if (entry.values === null || entry.lsn < cleared) return undefined;
    return { id, lsn: entry.lsn, values: entry.values, sparse: entry.sparse, metadata: entry.metadata };
  }
  for (const { reader } of snapshot.slabs) {
    const row = reader.find(id);
    if (row === -1) continue;
    if (reader.isTombstone(row) || reader.lsns[row]! < cleared) return undefined;
    return { id, lsn: reader.lsns[row]!, values: reader.values(row)!, sparse: reader.sparse(row), metadata: reader.metadata(row) };
  }
  return undefined;
}

/** Exact number of live records. */
export function countLive(snapshot: Snapshot): number {
  const cleared = clearedLsn(snapshot);
  let count = 0;
  const inMemtables = scanMemtables(snapshot, () => count++);
  for (const { reader, shadowed } of snapshot.slabs) {
    const { ids, lsns, flags } = reader;
    for (let row = 0; row < ids.length; row++) {
      if (shadowed[row] !== 0 || flags[row] !== 0 || lsns[row]! < cleared) continue;
      if (inMemtables.has(ids[row]!)) continue;
      count++;
    }
  }
  return count;
}

/** Ids of every live record whose metadata satisfies `filter` (delete / update / fetch by metadata). */
export function matchingIds(snapshot: Snapshot, filter: Filter): string[] {
  const predicate = compileFilter(filter);
  const cleared = clearedLsn(snapshot);
  const out: string[] = [];
  const seen = scanMemtables(snapshot, (id, entry) => {
    if (predicate(entry.metadata)) out.push(id);
  });
  for (const { reader, shadowed } of snapshot.slabs) {
    reader
      .metadataIndex()
      .evaluate(filter)
      .forEach((row) => {
        if (shadowed[row] !== 0 || reader.isTombstone(row) || reader.lsns[row]! < cleared) return;
        const id = reader.ids[row]!;
        if (!seen.has(id)) out.push(id);
      });
  }
  return out;
}
