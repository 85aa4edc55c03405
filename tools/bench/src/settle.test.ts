import { describe, expect, it } from 'vitest';
import { compactionPending, settled, type InternalsView } from './settle.ts';

const view = (over: Partial<InternalsView> = {}): InternalsView => ({
  writtenLsn: 10,
  flushedLsn: 10,
  manifestVersion: 3,
  memtable: { records: 0 },
  slabs: [{ level: 2, records: 100, index: 'IVF64,Flat' }],
  compactions: 1,
  flushes: 2,
  ...over,
});

describe('settle detection', () => {
  it('sees a pending compaction as the engine plans it: a run of trigger adjacent slabs of one level', () => {
    expect(compactionPending([], 2)).toBe(false);
    expect(compactionPending([1, 0], 2)).toBe(false);
    expect(compactionPending([1, 0, 0], 2)).toBe(true);
    expect(compactionPending([1, 0, 1, 0], 2)).toBe(false);
    expect(compactionPending([2, 1, 1, 1, 0], 4)).toBe(false);
    expect(compactionPending([1, 1, 1, 1], 4)).toBe(true);
  });

  it('needs an empty memtable, everything flushed, nothing to merge and no change since the last poll', () => {
    expect(settled(view(), view(), 2)).toBe(true);
    expect(settled(undefined, view(), 2)).toBe(false);
    expect(settled(view(), view({ memtable: { records: 1 } }), 2)).toBe(false);
    expect(settled(view(), view({ writtenLsn: 11 }), 2)).toBe(false);
    expect(settled(view({ manifestVersion: 2 }), view(), 2)).toBe(false);
    expect(settled(view({ compactions: 0 }), view(), 2)).toBe(false);
    const twoL0 = [
      { level: 0, records: 1, index: 'flat' },
      { level: 0, records: 1, index: 'flat' },
    ];
    expect(settled(view({ slabs: twoL0 }), view({ slabs: twoL0 }), 2)).toBe(false);
  });

  it('takes the writer’s own compactionDue over the mirror of the policy when the view has it', () => {
    const twoL1 = [
      { level: 1, records: 1, index: 'flat' },
      { level: 1, records: 1, index: 'flat' },
    ];
    // Two slabs too large to merge under the largest-slab bound: the mirror would wait forever.
    expect(settled(view({ slabs: twoL1, compactionDue: false }), view({ slabs: twoL1, compactionDue: false }), 2)).toBe(true);
    expect(settled(view({ compactionDue: true }), view({ compactionDue: true }), 2)).toBe(false);
  });
});
