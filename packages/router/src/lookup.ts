import { compileFilter, type Filter, type Metadata, type SparseF32 } from '@conifer/core';
import type { SlabReader } from '@conifer/slab';
import { clearedLsn, scanMemtables, shadowedLater, type Snapshot } from './snapshot.ts';

export interface LiveRecord {
  id: string;
  values: Float32Array;
  sparse: SparseF32 | undefined;
  metadata: Metadata | undefined;
}

/** Where the newest live version of an id is: a whole record (memtables), or a slab row. */
export type RecordLocation = { record: LiveRecord } | { reader: SlabReader; row: number };

/** The newest live version of `id`, or undefined when it does not exist or is deleted. Synchronous. */
export function locateRecord(snapshot: Snapshot, id: string): RecordLocation | undefined {
  const cleared = clearedLsn(snapshot);
  for (const memtable of snapshot.memtables) {
    const entry = memtable.get(id);
    if (!entry) continue;
    if (entry.values === null || entry.lsn < cleared) return undefined;
    return { record: { id, values: entry.values, sparse: entry.sparse, metadata: entry.metadata } };
  }
  // A deleteAll in the memtables is newer than every slab: it hides them all.
  if (cleared > 0) return undefined;
  for (const { reader } of snapshot.slabs) {
    const row = reader.find(id);
    if (row === -1) continue;
    if (reader.isTombstone(row)) return undefined;
    return { reader, row };
  }
  return undefined;
}

/** A slab row as a record: its vector read (by range when needed) and its metadata loaded. */
export async function slabRecord(reader: SlabReader, row: number): Promise<LiveRecord> {
  const [values] = await Promise.all([reader.valuesAsync(row), reader.load('metadata')]);
  return { id: reader.ids.at(row)!, values: values!, sparse: reader.sparse(row), metadata: reader.metadata(row) };
}

/**
 * The newest live version of `id`, or undefined when it does not exist or is deleted. Which
 * version that is is decided synchronously (one LSN prefix of the memtables); only reading the
 * vector of a slab read by range awaits.
 */
export async function getRecord(snapshot: Snapshot, id: string): Promise<LiveRecord | undefined> {
  const at = locateRecord(snapshot, id);
  if (!at || 'record' in at) return at?.record;
  return slabRecord(at.reader, at.row);
}

/**
 * Exact number of live records. Over layers whose shadows are still being computed (a namespace
 * just opened) every row is checked against the newer slabs: correct, but slow for a large
 * namespace, so the engine counts over complete layers.
 */
export function countLive(snapshot: Snapshot): number {
  const cleared = clearedLsn(snapshot);
  let count = 0;
  const inMemtables = scanMemtables(snapshot, () => count++);
  for (const layer of cleared > 0 ? [] : snapshot.slabs) {
    const { reader, shadowed } = layer;
    const { ids, flags } = reader;
    for (let row = 0; row < ids.length; row++) {
      if (shadowed[row] !== 0 || flags[row] !== 0 || shadowedLater(layer, row)) continue;
      if (inMemtables.size > 0 && inMemtables.has(ids.at(row)!)) continue;
      count++;
    }
  }
  return count;
}

/**
 * Ids of every live record whose metadata satisfies `filter` (delete / update / fetch by metadata).
 * Slabs read by range must have their metadata index, or metadata, loaded (`loadFilterSections`).
 */
export function matchingIds(snapshot: Snapshot, filter: Filter): string[] {
  const predicate = compileFilter(filter);
  const cleared = clearedLsn(snapshot);
  const out: string[] = [];
  const seen = scanMemtables(snapshot, (id, entry) => {
    if (predicate(entry.metadata)) out.push(id);
  });
  for (const layer of cleared > 0 ? [] : snapshot.slabs) {
    const { reader, shadowed } = layer;
    reader
      .metadataIndex()
      .evaluate(filter)
      .forEach((row) => {
        if (shadowed[row] !== 0 || reader.isTombstone(row) || shadowedLater(layer, row)) return;
        const id = reader.ids.at(row)!;
        if (!seen.has(id)) out.push(id);
      });
  }
  return out;
}

/** Loads what matchingIds reads of every slab: its stored metadata index, or its metadata. */
export async function loadFilterSections(snapshot: Snapshot): Promise<void> {
  await Promise.all(snapshot.slabs.map(({ reader }) => reader.load(reader.storesMetadataIndex ? 'mdIndex' : 'metadata')));
}
