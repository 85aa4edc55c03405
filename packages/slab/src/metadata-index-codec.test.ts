import { validateFilter, type Filter, type Metadata } from '@conifer/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildSlab } from './builder.ts';
import { SlabCorruptionError, type SlabRow } from './format.ts';
import { MetadataIndex } from './metadata-index.ts';
import { decodeMetadataIndex, encodeMetadataIndex } from './metadata-index-codec.ts';
import { SlabReader } from './reader.ts';
import { filterArbitraries } from './testing/filter-arbitraries.ts';

// Strings beyond ASCII, so key order by UTF-8 bytes (the stored order) differs from JS string
// order (UTF-16 code units): '\uFF5E' sorts before '\u{1F600}' in UTF-16, after it in UTF-8.
const strings = ['a', 'b', '', 'é', '\uFF5E', '\u{1F600}', 'a\u0000'];
const { metadata: metadataArb, filter: filterArb } = filterArbitraries({ strings, fields: ['f', 'g', 'ü'], extraOperands: ['missing'] });

function rowsOf(index: MetadataIndex, filter: Filter): number[] {
  const out: number[] = [];
  index.evaluate(filter).forEach((r) => out.push(r));
  return out;
}

/** A copy whose byte offset is a multiple of 8, as a slab section is in memory. */
function aligned(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(new ArrayBuffer(bytes.length + 8), 8, bytes.length);
  out.set(bytes);
  return out;
}

describe('stored metadata index', () => {
  it('answers every filter as the index it was encoded from (evaluate and matchingRows)', () => {
    fc.assert(
      fc.property(
        fc.array(metadataArb, { maxLength: 60 }),
        fc.array(filterArb, { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 0, max: 70 }),
        (rows, filters, max) => {
          const built = new MetadataIndex(rows.length, (r) => rows[r]);
          const decoded = decodeMetadataIndex(aligned(encodeMetadataIndex(built)), rows.length, 's');
          for (const filter of filters) {
            fc.pre(validateFilter(filter).length === 0);
            expect(rowsOf(decoded, filter)).toEqual(rowsOf(built, filter));
            const a = built.matchingRows(filter, max);
            const b = decoded.matchingRows(filter, max);
            expect(b === undefined ? undefined : Array.from(b)).toEqual(a === undefined ? undefined : Array.from(a));
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('keeps every posting list, found by key and listed in UTF-8 byte order', () => {
    const rows: Metadata[] = strings.map((s, r) => ({ f: s, g: [s, 'x'], n: r }));
    const built = new MetadataIndex(rows.length, (r) => rows[r]);
    const decoded = decodeMetadataIndex(aligned(encodeMetadataIndex(built)), rows.length, 's');
    const f = decoded.columns().get('f')!;
    for (const [key, list] of built.columns().get('f')!.postings.entries()) expect(Array.from(f.postings.get(key)!)).toEqual(Array.from(list));
    expect(f.postings.get('s:zzz')).toBeUndefined();
    const keys = [...f.postings.entries()].map(([k]) => k);
    const byBytes = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(keys).toEqual(byBytes);
    expect(keys).not.toEqual([...keys].sort()); // the UTF-16 order differs for these strings
  });

  it('rejects a damaged section with SlabCorruptionError, never a crash', () => {
    const rows: Metadata[] = Array.from({ length: 50 }, (_, r) => ({ f: `v${r % 5}`, n: r, b: r % 2 === 0 }));
    const good = encodeMetadataIndex(new MetadataIndex(rows.length, (r) => rows[r]));
    expect(() => decodeMetadataIndex(aligned(good.subarray(0, good.length - 4)), 50, 's')).toThrow(SlabCorruptionError);
    const padded = new Uint8Array(good.length + 4);
    padded.set(good);
    expect(() => decodeMetadataIndex(aligned(padded), 50, 's')).toThrow(/trailing/);
    const badVersion = good.slice();
    badVersion[0] = 9;
    expect(() => decodeMetadataIndex(aligned(badVersion), 50, 's')).toThrow(/version 9/);
    // Any single corrupted count or offset: either a structural error or a well-formed index.
    for (let at = 0; at < good.length; at += 4) {
      const bad = good.slice();
      new DataView(bad.buffer).setUint32(at, 0xfffffff0, true);
      try {
        decodeMetadataIndex(aligned(bad), 50, 's');
      } catch (err) {
        expect(err).toBeInstanceOf(SlabCorruptionError);
      }
    }
  });

  it('is stored in slabs built with metadataIndex, and filters as the index built from the rows', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(metadataArb, { maxLength: 40 }), fc.array(fc.boolean(), { maxLength: 40 }), filterArb, async (mds, tombstones, filter) => {
        fc.pre(validateFilter(filter).length === 0);
        const rows: SlabRow[] = mds.map((metadata, r) => ({
          id: `id${String(r).padStart(3, '0')}`,
          lsn: r + 1,
          values: tombstones[r] ? null : Float32Array.of(r, 1),
          metadata: tombstones[r] ? undefined : metadata,
        }));
        const stored = new SlabReader('s', (await buildSlab(rows, { dimension: 2, level: 1, metadataIndex: true })).bytes);
        const lazy = new SlabReader('l', (await buildSlab(rows, { dimension: 2, level: 1 })).bytes);
        expect(stored.storesMetadataIndex).toBe(true);
        expect(lazy.storesMetadataIndex).toBe(false);
        expect(rowsOf(stored.metadataIndex(), filter)).toEqual(rowsOf(lazy.metadataIndex(), filter));
        const viaLoad = await SlabReader.load('s2', (await buildSlab(rows, { dimension: 2, level: 1, metadataIndex: true })).bytes);
        expect(rowsOf(await viaLoad.metadataIndexAsync(), filter)).toEqual(rowsOf(lazy.metadataIndex(), filter));
      }),
      { numRuns: 150 },
    );
  });

  it('adds one section at the end of the body, read on first use: the head keeps its sections', async () => {
    const rows: SlabRow[] = Array.from({ length: 20 }, (_, r) => ({ id: `k${r}`, lsn: r + 1, values: Float32Array.of(r), metadata: { f: r } }));
    const plain = await buildSlab(rows, { dimension: 1, level: 1 });
    const withIndex = await buildSlab(rows, { dimension: 1, level: 1, metadataIndex: true });
    const { flags, ids, sparse, metadata, mdIndex, end } = withIndex.header.sections;
    const before = plain.header.sections;
    // Only the (longer) header moves the head's sections: each shifts by the same amount.
    const shift = flags - before.flags;
    expect({ ids, sparse }).toEqual({ ids: before.ids + shift, sparse: before.sparse + shift });
    expect(mdIndex).toBeGreaterThan(metadata);
    expect(mdIndex! % 8).toBe(0);
    expect(end).toBeGreaterThan(mdIndex!);
    expect(end - withIndex.header.sections.vectors).toBeGreaterThan(before.end - before.vectors);
    expect(plain.header.metadataIndex).toBeUndefined();
  });
});
