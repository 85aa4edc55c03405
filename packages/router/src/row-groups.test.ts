import fc from 'fast-check';
import { buildSlab, ListAssigner, SlabReader } from '@conifer/slab';
import { describe, expect, it } from 'vitest';
import { attachRowGroups, groupedRows, rowGroupsOf } from './row-groups.ts';

/** A one-row slab and an assigner: attachRowGroups only keeps them (the rows are the test's own). */
async function fixture() {
  const { bytes } = await buildSlab([{ id: 'a', lsn: 1, values: Float32Array.of(0, 0), metadata: undefined }], { dimension: 2, level: 0 });
  const reader = await SlabReader.load('s', bytes);
  const layout = { centroids: Float32Array.of(0, 0, 1, 1), offsets: Int32Array.of(0, 0, 0), rows: new Int32Array(0) };
  const assigner = ListAssigner.of(
    layout,
    { factory: 'IVF2,Flat', faissMetric: 'l2', normalized: false, param: 'nprobe', calibration: [], oversample: 1, recallTarget: 0.95 },
    2,
  )!;
  return { reader, assigner };
}

describe('row groups of a flushed slab', () => {
  it('give exactly the rows of the probed groups and every row without a group', async () => {
    const { reader, assigner } = await fixture();
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -1, max: 9 }), { maxLength: 200 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 12 }), { maxLength: 6 }),
        (groupOfRow, probed) => {
          attachRowGroups(reader, assigner, Int32Array.from(groupOfRow));
          const got = Array.from(groupedRows(rowGroupsOf(reader)!, Int32Array.from(probed))).sort((a, b) => a - b);
          const want = groupOfRow.flatMap((g, row) => (g < 0 || probed.includes(g) ? [row] : []));
          expect(got).toEqual(want);
        },
      ),
    );
  });

  it('take a slab of hundreds of thousands of rows', async () => {
    const { reader, assigner } = await fixture();
    const groupOfRow = Int32Array.from({ length: 500_000 }, (_, row) => row % 256);
    attachRowGroups(reader, assigner, groupOfRow);
    expect(groupedRows(rowGroupsOf(reader)!, Int32Array.of(3)).length).toBe(groupOfRow.filter((group) => group === 3).length);
  });
});
