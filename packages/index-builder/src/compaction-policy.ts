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
  /**
   * Largest slab a merge may write, in bytes (the sum of its inputs' sizes): what bounds a
   * compaction's working memory whatever the namespace's size. Slabs that cannot merge under it
   * stay as they are; a query searches each. Undefined: no bound.
   */
  maxSlabBytes?: number | undefined;
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

/**
 * The first run of at least `trigger` adjacent slabs of one level that has a merge to make: at most
 * `maxMerge` adjacent slabs of the run whose sizes add up to at most `maxSlabBytes`, from the oldest
 * start that leaves at least two; or null. Without a size bound that is the run's first `maxMerge`.
 */
export function planCompaction(slabs: readonly SlabRef[], policy: CompactionPolicy = DEFAULT_COMPACTION_POLICY): CompactionPlan | null {
  let runStart = 0;
  for (let i = 1; i <= slabs.length; i++) {
    if (i < slabs.length && slabs[i]!.level === slabs[runStart]!.level) continue;
    if (i - runStart >= policy.trigger) {
      const plan = mergeWithin(slabs, runStart, i, policy);
      if (plan) return plan;
    }
    runStart = i;
  }
  return null;
}

/** The first merge within the run [start, end) that fits the policy's bounds (two slabs or more). */
function mergeWithin(slabs: readonly SlabRef[], start: number, end: number, policy: CompactionPolicy): CompactionPlan | null {
  const maxBytes = policy.maxSlabBytes ?? Infinity;
  for (let first = start; first < end - 1; first++) {
    let bytes = 0;
    let last = first;
    while (last < end && last - first < policy.maxMerge && bytes + slabs[last]!.bytes <= maxBytes) bytes += slabs[last++]!.bytes;
    if (last - first >= 2) {
      return { start: first, inputs: slabs.slice(first, last), outputLevel: slabs[first]!.level + 1, dropTombstones: first === 0 };
    }
  }
  return null;
}
