import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildSlab, encodeAll } from './builder.ts';
import { SlabCorruptionError, type SlabRow } from './format.ts';
import { PageCache } from './page-cache.ts';
import { SlabReader } from './reader.ts';
import type { RangeSource } from './slab-body.ts';

const rowArb = (dim: number) =>
  fc.record({
    id: fc.string({ minLength: 1, maxLength: 12 }),
    lsn: fc.integer({ min: 1, max: 1e12 }),
    values: fc.option(
      fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { minLength: dim, maxLength: dim }).map((v) => Float32Array.from(v)),
      { nil: null },
    ),
    sparse: fc.option(
      fc.uniqueArray(fc.integer({ min: 0, max: 4294967295 }), { maxLength: 6 }).chain((indices) =>
        fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { minLength: indices.length, maxLength: indices.length }).map((values) => ({
          indices: Uint32Array.from([...indices].sort((a, b) => a - b)),
          values: Float32Array.from(values),
        })),
      ),
      { nil: undefined },
    ),
    metadata: fc.option(
      fc.dictionary(
        fc.string({ minLength: 1, maxLength: 5 }).filter((k) => !k.startsWith('$')),
        fc.oneof(fc.string(), fc.integer(), fc.boolean()),
      ),
      { nil: undefined },
    ),
  });

describe('slab format', () => {
  it('round-trips rows through build and read, sorted by id', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(rowArb(5), { selector: (r) => r.id, maxLength: 40 }), async (rows) => {
        const { bytes, header } = await buildSlab(rows, { dimension: 5, level: 2 });
        const reader = new SlabReader('s', bytes);
        expect(reader.count).toBe(rows.length);
        expect(header.level).toBe(2);
        const sorted = [...rows].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
        sorted.forEach((row, i) => {
          const got = reader.row(i);
          expect(got.id).toBe(row.id);
          expect(got.lsn).toBe(row.lsn);
          expect(got.values).toEqual(row.values);
          expect(got.sparse).toEqual(row.sparse && row.sparse.indices.length > 0 ? row.sparse : undefined);
          const md = row.metadata && Object.keys(row.metadata).length > 0 ? row.metadata : undefined;
          expect(got.metadata).toEqual(md);
          expect(reader.find(row.id)).toBe(i);
        });
        expect(reader.find('\u0000not-there')).toBe(-1);
      }),
    );
  });

  it('reads a slab held at an unaligned offset', async () => {
    const { bytes } = await buildSlab([{ id: 'a', lsn: 1, values: Float32Array.from([1, 2]), metadata: undefined }], { dimension: 2, level: 0 });
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    expect(new SlabReader('s', shifted.subarray(3)).values(0)).toEqual(Float32Array.from([1, 2]));
  });

  it('detects corruption', async () => {
    const { bytes } = await buildSlab([{ id: 'a', lsn: 1, values: Float32Array.from([1, 2]), metadata: { k: 'v' } }], { dimension: 2, level: 0 });
    const bad = bytes.slice();
    bad[bad.length - 10] = bad[bad.length - 10]! ^ 1;
    expect(() => new SlabReader('s', bad)).toThrow(SlabCorruptionError);
    expect(() => new SlabReader('s', bytes.subarray(0, bytes.length - 1))).toThrow(SlabCorruptionError);
    await expect(SlabReader.load('s', bad)).rejects.toThrow(/checksum mismatch/);
    await expect(SlabReader.load('s', bytes.subarray(0, bytes.length - 1))).rejects.toThrow(SlabCorruptionError);
  });

  it('loads a large slab in slices with the same content as the synchronous reader', async () => {
    const rows: SlabRow[] = Array.from({ length: 20_000 }, (_, i) => ({
      id: `id-${i}`,
      lsn: i + 1,
      values: Float32Array.from([i, -i]),
      metadata: i % 3 === 0 ? { k: i } : undefined,
    }));
    const { bytes } = await buildSlab(rows, { dimension: 2, level: 0 });
    const loaded = await SlabReader.load('s', bytes);
    const sync = new SlabReader('s', bytes);
    expect(loaded.ids).toEqual(sync.ids);
    expect(loaded.header).toEqual(sync.header);
    expect(loaded.metadata(loaded.find('id-3'))).toEqual({ k: 3 });
    expect((await loaded.metadataIndexAsync()).evaluate({ k: { $gte: 19_995 } }).count()).toBe(2);
    // Trusted bytes skip the checksum pass, but the header is still checked.
    const bad = bytes.slice();
    bad[bad.length - 10] = bad[bad.length - 10]! ^ 1;
    expect((await SlabReader.load('s', bad, { verify: false })).count).toBe(20_000);
    await expect(SlabReader.load('s', bytes.subarray(0, 100), { verify: false })).rejects.toThrow(SlabCorruptionError);
  });

  it('reads a handed-over input in place (inPlace) rather than copying it, unless misaligned', async () => {
    const rows: SlabRow[] = Array.from({ length: 1_000 }, (_, i) => ({ id: `id-${i}`, lsn: i + 1, values: Float32Array.from([i, 1 - i]), metadata: { i } }));
    const built = (await buildSlab(rows, { dimension: 2, level: 1 })).bytes;
    const owned = new Uint8Array(new ArrayBuffer(built.length));
    owned.set(built);
    const inPlace = await SlabReader.load('s', owned, { verify: true, inPlace: true });
    expect(inPlace.bytes.buffer).toBe(owned.buffer); // no second copy of the input
    const copied = await SlabReader.load('s', owned, { verify: true });
    expect(copied.bytes.buffer).not.toBe(owned.buffer); // shared memory, for compaction workers
    const shifted = new Uint8Array(new ArrayBuffer(built.length + 4), 4);
    shifted.set(built);
    const realigned = await SlabReader.load('s', shifted, { verify: true, inPlace: true });
    expect(realigned.bytes.buffer).not.toBe(shifted.buffer);
    for (const reader of [inPlace, copied, realigned]) {
      expect(reader.count).toBe(1_000);
      expect(Array.from({ length: reader.ids.length }, (_, i) => reader.ids.at(i)).sort()).toEqual(rows.map((r) => r.id).sort());
      expect(reader.metadata(reader.find('id-7'))).toEqual({ i: 7 });
    }
    // The checksum is still checked in place.
    const bad = owned.slice();
    bad[bad.length - 10] = bad[bad.length - 10]! ^ 1;
    await expect(SlabReader.load('s', bad, { verify: true, inPlace: true })).rejects.toThrow(/checksum mismatch/);
  });

  it('rejects duplicate ids and wrong dimensions', async () => {
    const row = (id: string, dim: number): SlabRow => ({ id, lsn: 1, values: new Float32Array(dim), metadata: undefined });
    await expect(buildSlab([row('a', 2), row('a', 2)], { dimension: 2, level: 0 })).rejects.toThrow(/duplicate/);
    await expect(buildSlab([row('a', 3)], { dimension: 2, level: 0 })).rejects.toThrow(/dimensions/);
  });
});

describe('encodeAll', () => {
  it('lays out any texts end to end as TextEncoder would, across chunk boundaries', () => {
    const encoder = new TextEncoder();
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme-ascii' })), { maxLength: 40 }),
        fc.integer({ min: 1, max: 64 }),
        (texts, chunkChars) => {
          const { chunks, length, starts } = encodeAll(texts, chunkChars);
          const joined = new Uint8Array(length);
          let at = 0;
          for (const chunk of chunks) {
            joined.set(chunk, at);
            at += chunk.length;
          }
          expect(at).toBe(length);
          texts.forEach((text, i) => {
            const bytes = encoder.encode(text);
            expect(joined.subarray(starts[i], starts[i]! + bytes.length)).toEqual(bytes);
            expect(i + 1 < texts.length ? starts[i + 1] : length).toBe(starts[i]! + bytes.length);
          });
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('slab ids', () => {
  /** A slab of 300,000 short ids: a head of several MB, read in several chunks when opened by range. */
  const count = 300_000;
  const rows: SlabRow[] = Array.from({ length: count }, (_, i) => ({ id: `id-${i}`, lsn: i + 1, values: Float32Array.of(i), metadata: undefined }));
  const expected = rows.map((r) => r.id).sort();
  const built = buildSlab(rows, { dimension: 1, level: 0 });
  const source = (bytes: Uint8Array, inPlace: boolean): RangeSource => {
    const read: RangeSource = (start, end) => Promise.resolve(bytes.slice(start, Math.min(end, bytes.length)));
    if (inPlace)
      read.into = (start, buffers) => {
        let at = start;
        for (const buffer of buffers) {
          buffer.set(bytes.subarray(at, Math.min(bytes.length, at + buffer.length)));
          at += buffer.length;
        }
        return Promise.resolve(Math.min(bytes.length, at) - start);
      };
    return read;
  };

  for (const inPlace of [false, true]) {
    it(`opened by range${inPlace ? ', read in place,' : ''} decodes ids on demand in any order, before and after it keeps a slot per row`, async () => {
      const { bytes, header } = await built;
      for (const head of [undefined, header.sections.head! + 4]) {
        const reader = await SlabReader.open('ids', source(bytes, inPlace), {
          cache: new PageCache(1 << 20),
          cacheKey: `ids-${inPlace}-${head}`,
          size: bytes.length,
          head,
        });
        expect(reader.resident).toBe(false);
        await fc.assert(
          fc.asyncProperty(fc.array(fc.integer({ min: 0, max: count - 1 }), { minLength: 1, maxLength: 200 }), async (asks) => {
            for (const row of asks) expect(reader.ids.at(row)).toBe(expected[row]);
          }),
          { numRuns: 20 },
        );
        // Every row, twice: past the point where decoded ids move from a map to a slot per row.
        for (let pass = 0; pass < 2; pass++) for (let row = count - 1; row >= 0; row -= 7) expect(reader.ids.at(row)).toBe(expected[row]);
        for (let row = 0; row < count; row++) if (reader.ids.at(row) !== expected[row]) expect(reader.ids.at(row)).toBe(expected[row]);
        expect(reader.ids.at(count)).toBeUndefined();
      }
    }, 60_000);
  }
});
