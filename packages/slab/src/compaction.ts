import type { SlabReader } from './reader.ts';
import { yieldToEventLoop } from './yield.ts';
import type { SlabRow } from './format.ts';
import type { SlabRef } from './manifest.ts';

/**
 * Size-tiered compaction. Slabs are kept oldest → newest with disjoint LSN ranges; a run of
 * `trigger` or more adjacent slabs of one level is merged into a single slab one level up. Merging
 * only adjacent slabs keeps the ranges disjoint, which is what lets "newest LSN wins" be decided
 * by slab order. Each level is `trigger` times larger than the one below, so a record is rewritten
 * about log_trigger(N) times over its life.
 */
export interface CompactionPolicy {
  /** Slabs of one level that trigger a merge. Default 4. */
  trigger: number;
  /** Most slabs merged at once. Default 8. */
  maxMerge: number;
}

export const DEFAULT_COMPACTION_POLICY: CompactionPolicy = { trigger: 4, maxMerge: 8 };

export interface CompactionPlan {
  /** Index in the manifest's slab list of the first slab to merge. */
  start: number;
  /** The slabs to merge, oldest first. */
  inputs: SlabRef[];
  outputLevel: number;
  /** True when the run includes the oldest slab: nothing older remains for a tombstone to hide. */
  dropTombstones: boolean;
}

export function planCompaction(slabs: readonly SlabRef[], policy: CompactionPolicy = DEFAULT_COMPACTION_POLICY): CompactionPlan | null {
  let runStart = 0;
  for (let i = 1; i <= slabs.length; i++) {
    if (i < slabs.length && slabs[i]!.level === slabs[runStart]!.level) continue;
    const runLength = i - runStart;
    if (runLength >= policy.trigger) {
      const inputs = slabs.slice(runStart, runStart + Math.min(runLength, policy.maxMerge));
      return { start: runStart, inputs, outputLevel: slabs[runStart]!.level + 1, dropTombstones: runStart === 0 };
    }
    runStart = i;
  }
  return null;
}


const YIELD_EVERY = 4096;

/**
 * Merges slabs (oldest first) into one row set in ascending id order: a k-way merge of the slabs'
 * sorted rows (no global sort), where for an id present in several slabs the newest slab's
 * version wins. Tombstones are kept unless `dropTombstones`, because they may still hide versions
 * in older slabs. Yields to the event loop every few thousand rows so queries keep being served
 * while a large compaction runs.
 */
export async function mergeSlabRows(readers: readonly SlabReader[], dropTombstones: boolean): Promise<SlabRow[]> {
  const at = readers.map(() => 0);
  const out: SlabRow[] = [];
  for (let step = 1; ; step++) {
    let min: string | undefined;
    for (let r = 0; r < readers.length; r++) {
      const id = readers[r]!.ids[at[r]!];
      if (id !== undefined && (min === undefined || id < min)) min = id;
    }
    if (min === undefined) return out;
    let winner = -1;
    for (let r = 0; r < readers.length; r++) {
      if (readers[r]!.ids[at[r]!] !== min) continue;
      winner = r; // readers are oldest first: the last one holding `min` is the newest
    }
    const reader = readers[winner]!;
    const row = at[winner]!;
    for (let r = 0; r < readers.length; r++) if (readers[r]!.ids[at[r]!] === min) at[r]!++;
    if (!(dropTombstones && reader.isTombstone(row))) {
      // Views, not copies: the builder copies each vector once into the new slab.
      const sparse = reader.sparse(row);
      out.push({ id: min, lsn: reader.lsns[row]!, values: reader.vectorView(row), ...(sparse ? { sparse } : {}), metadata: reader.metadata(row) });
    }
    if (step % YIELD_EVERY === 0) await yieldToEventLoop();
  }
}
