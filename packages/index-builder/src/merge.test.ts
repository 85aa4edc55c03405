import type { SlabRow } from '@conifer/slab';
import { buildSlab, buildSlabFrom, SlabReader } from '@conifer/slab';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeSlabs, type MergedRows } from './merge.ts';

const rowsOf = (merged: MergedRows): SlabRow[] => Array.from({ length: merged.count }, (_, i) => merged.row(i));

async function slab(name: string, rows: SlabRow[], dimension = 1): Promise<SlabReader> {
  return SlabReader.load(name, (await buildSlab(rows, { dimension, level: 0 })).bytes, { verify: true, lazyIds: true });
}

/** A row of one slab: an id from a small set (so slabs overlap), a tombstone or a vector, maybe metadata and a sparse part. */
const rowArb = fc.record({
  id: fc.constantFrom('a', 'b', 'ba', 'c', 'd', 'e', 'f', 'id-10', 'id-9'),
  tomb: fc.boolean(),
  v: fc.integer({ min: -9, max: 9 }),
  metadata: fc.option(fc.dictionary(fc.constantFrom('genre', 'year', 'tags'), fc.oneof(fc.string({ maxLength: 4 }), fc.integer(), fc.boolean())), {
    nil: undefined,
  }),
  sparse: fc.option(fc.uniqueArray(fc.nat({ max: 50 }), { minLength: 1, maxLength: 4 }), { nil: undefined }),
});
const slabArb = fc.uniqueArray(rowArb, { selector: (r) => r.id, maxLength: 9 });

describe('mergeSlabs', () => {
  it('merges with newest-wins and keeps tombstones unless told to drop them', async () => {
    const older = await slab('o', [
      { id: 'a', lsn: 1, values: Float32Array.from([1]), metadata: { k: 'old' } },
      { id: 'b', lsn: 2, values: Float32Array.from([2]), metadata: undefined },
    ]);
    const newer = await slab('n', [
      { id: 'a', lsn: 3, values: Float32Array.from([9]), metadata: { k: 'new' } },
      { id: 'b', lsn: 4, values: null, metadata: undefined },
    ]);
    const kept = rowsOf(await mergeSlabs([older, newer], false));
    expect(kept.map((r) => [r.id, r.lsn, r.values && [...r.values], r.metadata])).toEqual([
      ['a', 3, [9], { k: 'new' }],
      ['b', 4, null, undefined],
    ]);
    expect(rowsOf(await mergeSlabs([older, newer], true)).map((r) => r.id)).toEqual(['a']);
  });

  it('is a k-way merge equal to a newest-wins map merge, and builds the slab the merged rows as objects build, byte for byte', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(slabArb, { minLength: 1, maxLength: 4 }), fc.boolean(), async (slabs, drop) => {
        let lsn = 0;
        const readers = [];
        const reference = new Map<string, SlabRow>();
        for (const [s, rows] of slabs.entries()) {
          const built: SlabRow[] = rows.map((r) => ({
            id: r.id,
            lsn: ++lsn,
            values: r.tomb ? null : Float32Array.from([r.v, -r.v]),
            metadata: r.metadata,
            ...(r.sparse ? { sparse: { indices: Uint32Array.from(r.sparse).sort(), values: Float32Array.from(r.sparse, (x) => x / 2) } } : {}),
          }));
          for (const r of built) reference.set(r.id, r);
          readers.push(await slab(`s${s}`, built, 2));
        }
        const want = [...reference.values()].filter((r) => !(drop && r.values === null)).sort((a, b) => (a.id < b.id ? -1 : 1));
        const merged = await mergeSlabs(readers, drop);
        const got = rowsOf(merged);
        // An empty metadata object is stored as none.
        const plain = (r: SlabRow) => [
          r.id,
          r.lsn,
          r.values && [...r.values],
          r.metadata && Object.keys(r.metadata).length > 0 ? r.metadata : undefined,
          r.sparse && [...r.sparse.indices],
        ];
        expect(got.map(plain)).toEqual(want.map(plain));
        // Copying ids and metadata as stored gives the bytes that encoding the rows again gives.
        const options = { dimension: 2, level: 1, metadataIndex: true };
        const fromSource = await buildSlabFrom(merged, options);
        const fromRows = await buildSlab(got, options);
        expect(Buffer.from(fromSource.bytes).equals(Buffer.from(fromRows.bytes))).toBe(true);
        expect(fromSource.header).toEqual(fromRows.header);
      }),
    );
  });

  it('orders ids by their bytes as slabs sort them: a prefix first, then by each character', async () => {
    const ids = ['a', 'a-1', 'a-10', 'a-2', 'ab', 'b', 'B', 'Z', '0', '~'];
    const one = await slab(
      'x',
      ids.filter((_, i) => i % 2 === 0).map((id, i) => ({ id, lsn: i + 1, values: Float32Array.from([i]), metadata: undefined })),
    );
    const two = await slab(
      'y',
      ids.filter((_, i) => i % 2 === 1).map((id, i) => ({ id, lsn: 100 + i, values: Float32Array.from([i]), metadata: undefined })),
    );
    const merged = await mergeSlabs([one, two], false);
    expect(Array.from({ length: merged.count }, (_, i) => merged.id(i))).toEqual([...ids].sort());
  });
});
