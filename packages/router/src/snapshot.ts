import type { MemEntry, Memtable } from '@conifer/memtable';
import { Bitset, yieldToEventLoop, type SlabReader } from '@conifer/slab';

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
 * Walks the memtables newest first and calls `live` once per id with its newest version, when
 * that version is a live record (not a tombstone, not hidden by a deleteAll). Returns every id the
 * memtables hold, live or not: those ids shadow whatever older version the slabs have.
 */
export function scanMemtables(snapshot: Snapshot, live: (id: string, entry: MemEntry & { values: Float32Array }) => void): Set<string> {
  const cleared = clearedLsn(snapshot);
  const seen = new Set<string>();
  for (const memtable of snapshot.memtables) {
    for (const [id, entry] of memtable.entries()) {
      if (seen.has(id)) continue;
      seen.add(id);
      if (entry.values !== null && entry.lsn >= cleared) live(id, entry as MemEntry & { values: Float32Array });
    }
  }
  return seen;
}

/**
 * Marks, for each slab (given newest first), the rows whose id appears in a newer slab.
 */
export async function computeShadows(readers: readonly SlabReader[]): Promise<SlabLayer[]> {
  const seen = new Set<string>();
  const layers: SlabLayer[] = [];
  // In slices that yield to the event loop: a manifest change recomputes this over every row of
  // the namespace (a Set of a million ids takes a few hundred milliseconds).
  for (const [at, reader] of readers.entries()) {
    const shadowed = new Uint8Array(reader.count);
    const ids = reader.ids;
    for (let row = 0; row < ids.length; row++) {
      if (seen.has(ids[row]!)) shadowed[row] = 1;
      if (row % SHADOW_SLICE === SHADOW_SLICE - 1) await yieldToEventLoop();
    }
    // Nothing is older than the oldest slab (usually the largest): its ids need not be remembered.
    for (let row = 0; at < readers.length - 1 && row < ids.length; row++) {
      seen.add(ids[row]!);
      if (row % SHADOW_SLICE === SHADOW_SLICE - 1) await yieldToEventLoop();
    }
    const live = new Bitset(reader.count);
    for (let row = 0; row < ids.length; row++) if (shadowed[row] === 0 && !reader.isTombstone(row)) live.set(row);
    layers.push({ reader, shadowed, live, liveCount: live.count() });
  }
  return layers;
}

const SHADOW_SLICE = 16_384;
