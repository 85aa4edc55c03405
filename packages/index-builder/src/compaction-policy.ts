import type { SlabRef } from '@conifer/manifest';

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

/** The first run of at least `trigger` adjacent slabs of one level (at most `maxMerge` of them), or null. */
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
