import type { SlabRef } from '@conifer/manifest';
import { describe, expect, it } from 'vitest';
import { planCompaction } from './compaction-policy.ts';

describe('planCompaction', () => {
  const ref = (id: string, level: number, minLsn: number, maxLsn: number): SlabRef => ({ id, level, count: 1, tombstones: 0, bytes: 1, minLsn, maxLsn });

  it('plans a merge of the first run of `trigger` adjacent slabs of one level', () => {
    const slabs = [ref('big', 1, 1, 10), ref('a', 0, 11, 12), ref('b', 0, 13, 14), ref('c', 0, 15, 16)];
    expect(planCompaction(slabs, { trigger: 4, maxMerge: 8 })).toBeNull();
    const plan = planCompaction(slabs, { trigger: 3, maxMerge: 8 })!;
    expect(plan.inputs.map((s) => s.id)).toEqual(['a', 'b', 'c']);
    expect(plan.outputLevel).toBe(1);
    expect(plan.dropTombstones).toBe(false);
    const fromOldest = planCompaction([ref('a', 0, 1, 1), ref('b', 0, 2, 2)], { trigger: 2, maxMerge: 8 })!;
    expect(fromOldest.dropTombstones).toBe(true);
  });
});
