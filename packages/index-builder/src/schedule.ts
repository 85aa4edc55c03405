import type { Manifest } from '@conifer/manifest';
import type { SlabReader } from '@conifer/slab';
import { planCompaction, type CompactionPlan, type CompactionPolicy } from './compaction-policy.ts';

/** A compaction to run: a size-tiered merge, or (`index`) the indexing of one flat slab. */
export type ScheduledCompaction = CompactionPlan & { index: boolean };

/**
 * The next compaction of a manifest: a size-tiered merge when one is due; otherwise the indexing
 * of a flat slab too large to scan cheaply (the newest first). Left alone, a flushed slab would
 * stay flat — tens of thousands of rows every query scans exactly — until a merge takes it, which
 * for the last flushes before a namespace goes quiet means until more writes arrive.
 */
export function nextCompaction(
  manifest: Manifest,
  reader: (id: string) => SlabReader | undefined,
  options: { compaction: CompactionPolicy; exactBudget: number; dimension: number },
): ScheduledCompaction | null {
  const merge = planCompaction(manifest.slabs, options.compaction);
  if (merge) return { ...merge, index: false };
  const slabs = manifest.slabs;
  for (let i = slabs.length - 1; i >= 0; i--) {
    const ref = slabs[i]!;
    const slab = reader(ref.id);
    if (!slab || slab.header.ann || (ref.count - ref.tombstones) * options.dimension <= options.exactBudget) continue;
    return { start: i, inputs: [ref], outputLevel: ref.level + 1, dropTombstones: i === 0, index: true };
  }
  return null;
}
