import type { Memtable } from '@conifer/memtable';
import { Bitset, type SlabReader } from '@conifer/slab';

/**
 * What one read sees: the namespace's memtables and slabs at one instant, newest first. Layers
 * never change under a snapshot except the active memtable, which only grows by LSN; reads run
 * synchronously over a snapshot, so they see a consistent LSN prefix.
 */
export interface SlabLayer {
  reader: SlabReader;
  /**
   * Rows whose id also appears in a newer slab (1 = stale). Computed once per manifest, since
   * slabs are immutable. Shadowing by memtables is checked per read.
   */
  shadowed: Uint8Array;
  /** Rows that are neither shadowed nor tombstones: what an ANN search may return. */
  live: Bitset;
  /** live.count(), cached. */
  liveCount: number;
}

export interface Snapshot {
  /** Active memtable first, then frozen ones being flushed, newest first. */
  memtables: readonly Memtable[];
  /** Newest first. */
  slabs: readonly SlabLayer[];
}

/** Every version with a lower LSN than this is hidden by a deleteAll. */
export function clearedLsn(snapshot: Snapshot): number {
  let max = 0;
  for (const m of snapshot.memtables) max = Math.max(max, m.clearedAtLsn);
  return max;
}

/**
 * Marks, for each slab (given newest first), the rows whose id appears in a newer slab.
 */
export function computeShadows(readers: readonly SlabReader[]): SlabLayer[] {
  const seen = new Set<string>();
  return readers.map((reader) => {
    const shadowed = new Uint8Array(reader.count);
    const ids = reader.ids;
    for (let row = 0; row < ids.length; row++) if (seen.has(ids[row]!)) shadowed[row] = 1;
    for (let row = 0; row < ids.length; row++) seen.add(ids[row]!);
    const live = new Bitset(reader.count);
    for (let row = 0; row < ids.length; row++) if (shadowed[row] === 0 && !reader.isTombstone(row)) live.set(row);
    return { reader, shadowed, live, liveCount: live.count() };
  });
}
