import { buildSlab, SlabReader } from '@conifer/slab';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeSlabRows } from './merge.ts';

describe('mergeSlabRows', () => {
  it('merges with newest-wins and keeps tombstones unless told to drop them', async () => {
    const older = new SlabReader(
      'o',
      (
        await buildSlab(
          [
            { id: 'a', lsn: 1, values: Float32Array.from([1]), metadata: undefined },
            { id: 'b', lsn: 2, values: Float32Array.from([2]), metadata: undefined },
          ],
          { dimension: 1, level: 0 },
        )
      ).bytes,
    );
    const newer = new SlabReader(
      'n',
      (
        await buildSlab(
          [
            { id: 'a', lsn: 3, values: Float32Array.from([9]), metadata: undefined },
            { id: 'b', lsn: 4, values: null, metadata: undefined },
          ],
          { dimension: 1, level: 0 },
        )
      ).bytes,
    );
    const kept = await mergeSlabRows([older, newer], false);
    expect(kept.map((r) => [r.id, r.lsn, r.values === null])).toEqual([
      ['a', 3, false],
      ['b', 4, true],
    ]);
    expect((await mergeSlabRows([older, newer], true)).map((r) => r.id)).toEqual(['a']);
  });

  it('is a k-way merge equal to a newest-wins map merge, in id order, for any slabs', async () => {
    const slabArb = fc.uniqueArray(
      fc.record({ id: fc.constantFrom('a', 'b', 'ba', 'c', 'd', 'e', 'f'), tomb: fc.boolean(), v: fc.integer({ min: 0, max: 9 }) }),
      { selector: (r) => r.id, maxLength: 7 },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(slabArb, { minLength: 1, maxLength: 4 }), fc.boolean(), async (slabs, drop) => {
        let lsn = 0;
        const readers = [];
        const reference = new Map<string, { lsn: number; tomb: boolean }>();
        for (const [s, rows] of slabs.entries()) {
          const built = rows.map((r) => ({ id: r.id, lsn: ++lsn, values: r.tomb ? null : Float32Array.from([r.v]), metadata: undefined }));
          for (const r of built) reference.set(r.id, { lsn: r.lsn, tomb: r.values === null });
          readers.push(new SlabReader(`s${s}`, (await buildSlab(built, { dimension: 1, level: 0 })).bytes));
        }
        const want = [...reference]
          .filter(([, r]) => !(drop && r.tomb))
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([id, r]) => [id, r.lsn]);
        const got = (await mergeSlabRows(readers, drop)).map((r) => [r.id, r.lsn]);
        expect(got).toEqual(want);
      }),
    );
  });
});
