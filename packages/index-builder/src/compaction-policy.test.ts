import type { SlabRef } from '@conifer/manifest';
import fc from 'fast-check';
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

describe('planCompaction with a largest slab (maxSlabBytes)', () => {
  let next = 0;
  const sized = (level: number, bytes: number): SlabRef => ({ id: `s${next++}`, level, count: bytes, tombstones: 0, bytes, minLsn: next, maxLsn: next });

  it('merges only as many adjacent slabs as fit under the bound, and skips slabs too large to pair', () => {
    const slabs = [sized(1, 300), sized(1, 300), sized(1, 100), sized(1, 100), sized(1, 100)];
    const plan = planCompaction(slabs, { trigger: 4, maxMerge: 8, maxSlabBytes: 400 })!;
    // 300 + 300 exceeds 400; 300 + 100 fits, and nothing more after it.
    expect(plan.inputs.map((s) => s.bytes)).toEqual([300, 100]);
    expect(plan.start).toBe(1);
    expect(plan.dropTombstones).toBe(false);
    expect(planCompaction([sized(2, 300), sized(2, 300), sized(2, 300), sized(2, 300)], { trigger: 2, maxMerge: 8, maxSlabBytes: 400 })).toBeNull();
  });

  it('without a bound, plans what it planned before (the run’s first maxMerge slabs)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ level: fc.integer({ min: 0, max: 2 }), bytes: fc.integer({ min: 1, max: 1000 }) }), { maxLength: 30 }),
        fc.integer({ min: 2, max: 5 }),
        (specs, trigger) => {
          const slabs = specs.map((s) => sized(s.level, s.bytes));
          const plan = planCompaction(slabs, { trigger, maxMerge: 8 });
          const expected = firstRun(slabs, trigger);
          expect(plan && { start: plan.start, length: plan.inputs.length }).toEqual(
            expected && { start: expected.start, length: Math.min(expected.length, 8) },
          );
        },
      ),
    );
  });

  it('every plan merges 2..maxMerge adjacent slabs of one level within the bound; null only when no run of `trigger` has two that fit', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ level: fc.integer({ min: 0, max: 2 }), bytes: fc.integer({ min: 1, max: 1000 }) }), { maxLength: 30 }),
        fc.integer({ min: 2, max: 5 }),
        fc.integer({ min: 2, max: 8 }),
        fc.integer({ min: 1, max: 2000 }),
        (specs, trigger, maxMerge, maxSlabBytes) => {
          const slabs = specs.map((s) => sized(s.level, s.bytes));
          const plan = planCompaction(slabs, { trigger, maxMerge: Math.max(trigger, maxMerge), maxSlabBytes });
          if (plan) {
            expect(plan.inputs.length).toBeGreaterThanOrEqual(2);
            expect(plan.inputs.length).toBeLessThanOrEqual(Math.max(trigger, maxMerge));
            expect(plan.inputs).toEqual(slabs.slice(plan.start, plan.start + plan.inputs.length));
            expect(new Set(plan.inputs.map((s) => s.level)).size).toBe(1);
            expect(plan.inputs.reduce((a, s) => a + s.bytes, 0)).toBeLessThanOrEqual(maxSlabBytes);
            expect(plan.dropTombstones).toBe(plan.start === 0);
          } else {
            // No run of `trigger` or more holds two neighbours that fit together.
            for (const run of runs(slabs)) {
              if (run.length < trigger) continue;
              for (let i = run.start; i < run.start + run.length - 1; i++) expect(slabs[i]!.bytes + slabs[i + 1]!.bytes).toBeGreaterThan(maxSlabBytes);
            }
          }
        },
      ),
    );
  });

  it('compacting to quiescence keeps every merged slab within the bound and the slab count near total / bound', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 100, max: 1000 }),
        (flushes, maxSlabBytes) => {
          let slabs: SlabRef[] = [];
          for (const bytes of flushes) {
            slabs.push(sized(0, bytes));
            for (
              let plan = planCompaction(slabs, { trigger: 4, maxMerge: 8, maxSlabBytes });
              plan;
              plan = planCompaction(slabs, { trigger: 4, maxMerge: 8, maxSlabBytes })
            ) {
              const merged = sized(
                plan.outputLevel,
                plan.inputs.reduce((a, s) => a + s.bytes, 0),
              );
              slabs = [...slabs.slice(0, plan.start), merged, ...slabs.slice(plan.start + plan.inputs.length)];
            }
          }
          for (const slab of slabs) if (slab.level > 0) expect(slab.bytes).toBeLessThanOrEqual(maxSlabBytes);
          const total = flushes.reduce((a, b) => a + b, 0);
          // Two neighbours of one level that both fit are merged, so all but a few slabs per level are
          // more than half full: the count stays within a small multiple of total / bound.
          expect(slabs.length).toBeLessThanOrEqual(2 * Math.ceil(total / maxSlabBytes) + 3 * 8);
        },
      ),
    );
  });
});

/** Maximal runs of adjacent slabs of one level. */
function runs(slabs: readonly SlabRef[]): { start: number; length: number }[] {
  const out: { start: number; length: number }[] = [];
  for (let i = 0; i < slabs.length;) {
    let j = i + 1;
    while (j < slabs.length && slabs[j]!.level === slabs[i]!.level) j++;
    out.push({ start: i, length: j - i });
    i = j;
  }
  return out;
}

function firstRun(slabs: readonly SlabRef[], trigger: number): { start: number; length: number } | null {
  return runs(slabs).find((r) => r.length >= trigger) ?? null;
}
