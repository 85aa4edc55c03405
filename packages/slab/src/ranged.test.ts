import fc from 'fast-check';
import { mulberry32 } from '@conifer/core';
import { describe, expect, it } from 'vitest';
import { buildSlab, type SlabAnn } from './builder.ts';
import { checksum, SLAB_PAGE_SIZE, SlabCorruptionError, type SlabRow } from './format.ts';
import { PageCache } from './page-cache.ts';
import { SlabReader } from './reader.ts';
import { sortedDistinct } from './sort-positions.ts';
import type { RangeSource } from './slab-body.ts';
import { inPlace, sourceOf, testAnn } from './testing/slabs.ts';

/** Rows with ids r00000…, some tombstones, vectors from a seeded generator. */
function makeRows(count: number, dim: number, seed: number): SlabRow[] {
  const rand = mulberry32(seed);
  return Array.from({ length: count }, (_, i) => ({
    id: `r${String(i).padStart(5, '0')}`,
    lsn: i + 1,
    values: rand() < 0.05 ? null : Float32Array.from({ length: dim }, () => rand() * 2 - 1),
    metadata: rand() < 0.3 ? { n: i } : undefined,
  }));
}

/** A valid IVF layout over `count` rows: each row in a random one of `nlist` lists. */
function makeAnn(count: number, dim: number, nlist: number, seed: number): SlabAnn {
  const rand = mulberry32(seed);
  const listOf = Array.from({ length: count }, () => Math.floor(rand() * nlist));
  const centroids = Float32Array.from({ length: nlist * dim }, () => rand());
  const donor = Uint8Array.from({ length: 1 + Math.floor(rand() * 300) }, () => Math.floor(rand() * 256));
  return testAnn(count, dim, nlist, listOf, { centroids, donor });
}

const ALWAYS_RANGED = { wholeUpTo: 0 };

/** Byte equality of typed arrays (vitest's deep equality walks large arrays element by element). */
function sameBytes(a: ArrayBufferView | undefined, b: ArrayBufferView | undefined): boolean {
  if (!a || !b) return a === b;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

describe('slabs read by range', () => {
  it('answer exactly what the whole slab answers: ids, rows, vectors at any positions, promoted and shed', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          count: fc.integer({ min: 0, max: 3000 }),
          dim: fc.integer({ min: 1, max: 70 }),
          nlist: fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }),
          cachePages: fc.integer({ min: 0, max: 4 }),
          seed: fc.integer(),
        }),
        fc.array(fc.nat(), { maxLength: 40 }),
        fc.boolean(),
        async ({ count, dim, nlist, cachePages, seed }, picks, readsInPlace) => {
          const rows = makeRows(count, dim, seed);
          const ann = nlist && count > 0 ? makeAnn(count, dim, nlist, seed) : undefined;
          const { bytes } = await buildSlab(rows, { dimension: dim, level: 1, ann });
          const whole = new SlabReader('s', bytes);
          const cache = new PageCache(cachePages * SLAB_PAGE_SIZE, ALWAYS_RANGED);
          const source = readsInPlace ? inPlace(sourceOf(bytes)) : sourceOf(bytes);
          const ranged = await SlabReader.open('s', source, { cache, cacheKey: `k${seed}` });
          expect(ranged.resident).toBe(false);
          expect(ranged.bytes.byteLength).toBeLessThan(bytes.byteLength + 1);
          expect(ranged.vectorOrder).toBe(ann ? 'lists' : 'rows');
          // The model: the input rows in id order (what the slab stores), independent of the reader.
          const sorted = [...rows].sort((a, b) => (a.id < b.id ? -1 : 1));
          const vectorOf = (row: number) => sorted[row]!.values ?? new Float32Array(dim);
          expect(Array.from({ length: count }, (_, row) => ranged.ids.at(row))).toEqual(sorted.map((r) => r.id));
          // LSNs and metadata are read on first use.
          expect(ranged.loaded('lsns') && ranged.loaded('metadata')).toBe(false);
          expect(() => ranged.lsns).toThrow(/not loaded/);
          await ranged.load('lsns', 'metadata');
          expect([...ranged.lsns]).toEqual(sorted.map((r) => r.lsn));
          for (const pick of picks) {
            if (count === 0) break;
            const row = pick % count;
            expect(ranged.find(sorted[row]!.id)).toBe(row);
            const values = await ranged.valuesAsync(row);
            expect(values === null ? null : sameBytes(values, sorted[row]!.values!)).toBe(sorted[row]!.values === null ? null : true);
            expect(ranged.metadata(row)).toEqual(whole.metadata(row));
          }
          // Any set of positions, ascending, with runs: each the vector of the row it names.
          const positions = Int32Array.from(new Set(picks.flatMap((p) => (count === 0 ? [] : [p % count, (p + 1) % count])))).sort();
          const check = async () => {
            const got = await ranged.gather(positions);
            positions.forEach((position, i) => {
              const row = got.rowOf(got.at[i]!);
              expect(ranged.positionOf(row)).toBe(position);
              expect(sameBytes(got.data.subarray(got.at[i]! * dim, (got.at[i]! + 1) * dim), vectorOf(row))).toBe(true);
            });
          };
          await check();
          await ranged.promote();
          expect(ranged.resident).toBe(true);
          expect(sameBytes(ranged.residentVectors, whole.residentVectors)).toBe(true);
          const promoted = await ranged.wholeBytes();
          expect(promoted.copy).toBe(true);
          expect(sameBytes(promoted.bytes, bytes)).toBe(true);
          await check();
          expect(ranged.shed()).toBe(4 * count * dim);
          expect(ranged.resident).toBe(false);
          await check();
          expect(await ranged.donorBytes()).toEqual(await whole.donorBytes());
          expect(sameBytes((await ranged.wholeBytes()).bytes, bytes)).toBe(true);
          expect((await whole.wholeBytes()).copy).toBe(false);
        },
      ),
      { numRuns: 40 },
    );
  }, 120_000);

  it('opens by reading the head only, and reads a probed list as one range', async () => {
    const dim = 32;
    const count = 20_000;
    const ann = makeAnn(count, dim, 64, 7);
    const { bytes, header } = await buildSlab(makeRows(count, dim, 7), { dimension: dim, level: 1, ann });
    const calls = { n: 0 };
    const cache = new PageCache(64 * SLAB_PAGE_SIZE);
    const ranged = await SlabReader.open('s', sourceOf(bytes, calls), { cache, cacheKey: 'big' });
    expect(calls.n).toBe(2); // the first 64 KiB, then the rest of the head
    expect(ranged.bytes.byteLength).toBe(header.sections.head! + 4);
    expect(ranged.bytes.byteLength).toBeLessThan(header.sections.end / 4);
    const ivf = ranged.ivfLayout()!;
    const list = 5;
    const positions = Int32Array.from({ length: ivf.offsets[list + 1]! - ivf.offsets[list]! }, (_, i) => ivf.offsets[list]! + i);
    calls.n = 0;
    await ranged.gather(positions);
    expect(calls.n).toBe(1);
    // Read again: from the page cache.
    await ranged.gather(positions);
    expect(calls.n).toBe(1);
    expect(cache.stats().bytesRead).toBeGreaterThanOrEqual(positions.length * dim * 4);
    // With the head's size known (the manifest records it), one round of reads.
    calls.n = 0;
    const hinted = await SlabReader.open('s', sourceOf(bytes, calls), { cache, cacheKey: 'hinted', size: bytes.length, head: header.sections.head! + 4 });
    expect(calls.n).toBe(1);
    expect(hinted.ids.at(123)).toBe(ranged.ids.at(123));
  });

  it('answers concurrent gathers right while a tiny page cache evicts and reuses the pages they read', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.array(fc.nat(9_999), { minLength: 1, maxLength: 40 }), { minLength: 2, maxLength: 24 }),
        fc.boolean(),
        fc.boolean(),
        async (cachePages, lists, slowSource, inPlace) => {
          const dim = 24;
          const count = 10_000;
          const { bytes } = await buildSlab(makeRows(count, dim, 11), { dimension: dim, level: 1 });
          const whole = await SlabReader.load('w', bytes);
          const cache = new PageCache(cachePages * SLAB_PAGE_SIZE, ALWAYS_RANGED);
          let tick = 0;
          // Reads completing in a scrambled order (some after a timer), so pages of one call arrive
          // in different turns while other calls evict and reuse pages.
          const source: RangeSource = (start, end) => {
            const out = bytes.slice(Math.min(start, bytes.length), Math.min(end, bytes.length));
            return slowSource && tick++ % 3 === 0 ? new Promise((r) => setTimeout(() => r(out), tick % 5)) : Promise.resolve(out);
          };
          // A store that reads in place (as the local disk does) fills the page buffers it is given.
          if (inPlace)
            source.into = async (start, buffers) => {
              let at = start;
              for (const buffer of buffers) {
                const part = bytes.subarray(Math.min(at, bytes.length), Math.min(at + buffer.length, bytes.length));
                buffer.set(part);
                at += part.length;
              }
              if (slowSource && tick++ % 3 === 0) await new Promise((r) => setTimeout(r, tick % 5));
              return at - start;
            };
          const ranged = await SlabReader.open('s', source, { cache, cacheKey: 'c' });
          const gathered = await Promise.all(lists.map((rows) => ranged.gather(sortedDistinct(rows, count))));
          lists.forEach((rows, i) => {
            sortedDistinct(rows, count).forEach((row, k) => {
              const expected = whole.vectorView(row);
              if (!expected) return; // a tombstone has no vector to compare
              const at = gathered[i]!.at[k]!;
              expect(sameBytes(gathered[i]!.data.subarray(at * dim, (at + 1) * dim), expected)).toBe(true);
            });
          });
        },
      ),
      { numRuns: 60 },
    );
  }, 120_000);

  it.each([false, true])('re-reads a page whose bytes arrive damaged, and never serves a page that stays damaged (read in place: %s)', async (readsInPlace) => {
    // A fault no real store produces on demand (bytes damaged on their way): a fake source.
    const dim = 16;
    const count = 12_000;
    const { bytes, header } = await buildSlab(makeRows(count, dim, 3), { dimension: dim, level: 0 });
    const damaged = (times: number): RangeSource => {
      let left = times;
      const source: RangeSource = (start, end) => {
        const out = bytes.slice(start, end);
        if (start >= header.sections.vectors && left > 0) {
          left--;
          out[Math.floor(out.length / 2)]! ^= 0x40;
        }
        return Promise.resolve(out);
      };
      return readsInPlace ? inPlace(source) : source;
    };
    const whole = new SlabReader('s', bytes);
    const everything = Int32Array.from({ length: count }, (_, i) => i);

    const cache = new PageCache(0, ALWAYS_RANGED);
    const once = await SlabReader.open('s', damaged(1), { cache, cacheKey: 'once' });
    expect(sameBytes((await once.gather(everything)).data, whole.residentVectors)).toBe(true);
    expect(cache.stats().refetches).toBe(1);
    // Promoted (the whole body in a few large reads): one damaged read, re-read, right.
    const promoted = await SlabReader.open('s', damaged(1), { cache, cacheKey: 'promoted' });
    await promoted.promote();
    expect(sameBytes(promoted.residentVectors, whole.residentVectors)).toBe(true);
    expect(cache.stats().refetches).toBe(2);

    const always = await SlabReader.open('s', damaged(Number.MAX_SAFE_INTEGER), { cache, cacheKey: 'always' });
    await expect(always.gather(everything)).rejects.toThrow(SlabCorruptionError);
    await expect(always.valuesAsync(count - 1)).rejects.toThrow(/fails its checksum/);
    await expect(always.promote()).rejects.toThrow(SlabCorruptionError);
    expect(always.resident).toBe(false);

    // A damaged head fails the open.
    const badHead = bytes.slice();
    badHead[header.sections.ids + 2]! ^= 1;
    await expect(SlabReader.open('s', sourceOf(badHead), { cache, cacheKey: 'head' })).rejects.toThrow(/head checksum/);
  });

  it('ANN slabs store SQ8 codes: read by range, promoted or not, they rank positions as the whole slab does, and a damaged codes page is never served', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          count: fc.integer({ min: 1, max: 2500 }),
          dim: fc.integer({ min: 1, max: 40 }),
          nlist: fc.integer({ min: 1, max: 12 }),
          k: fc.integer({ min: 1, max: 30 }),
          metric: fc.constantFrom('euclidean' as const, 'dotproduct' as const, 'cosine' as const),
          seed: fc.integer(),
        }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 60 }),
        async ({ count, dim, nlist, k, metric, seed }, picks) => {
          const rows = makeRows(count, dim, seed);
          const { bytes, header } = await buildSlab(rows, { dimension: dim, level: 1, ann: makeAnn(count, dim, nlist, seed) });
          expect(header.codes?.kind).toBe('sq8');
          const whole = new SlabReader('s', bytes);
          const ranged = await SlabReader.open('s', sourceOf(bytes), { cache: new PageCache(SLAB_PAGE_SIZE, ALWAYS_RANGED), cacheKey: `c${seed}` });
          expect(ranged.hasCodes && ranged.codeBytes === count * dim).toBe(true);
          // Each stored code decodes to within half a step of its row's vector (tombstones: zeros).
          const { min, step } = header.codes!;
          const codes = bytes.subarray(header.sections.codes!, header.sections.codes! + count * dim);
          let off = 0; // decoding errors beyond half a step (with float rounding), summed
          for (let p = 0; p < count; p++) {
            const vector = whole.residentVectors!.subarray(p * dim, (p + 1) * dim);
            if (whole.isTombstone(whole.rowAt(p))) continue;
            for (let j = 0; j < dim; j++)
              off += Math.max(0, Math.abs(min[j]! + step[j]! * codes[p * dim + j]! - vector[j]!) - step[j]! / 2 - 1e-5 * (1 + Math.abs(vector[j]!)));
          }
          expect(off).toBe(0);
          const positions = sortedDistinct(
            Int32Array.from(picks, (n) => n % count),
            count,
          );
          const query = Float32Array.from({ length: dim }, (_, j) => Math.sin(seed + j));
          const want = await whole.topByCodes(positions, query, k, metric);
          expect(want.positions.length).toBe(Math.min(k, positions.length));
          expect(await ranged.topByCodes(positions, query, k, metric)).toEqual(want);
          await ranged.promoteCodes();
          expect(ranged.codesResident).toBe(true);
          expect(await ranged.topByCodes(positions, query, k, metric)).toEqual(want);
          expect(ranged.shedCodes()).toBe(count * dim);
          expect(ranged.codesResident).toBe(false);
        },
      ),
      { numRuns: 60 },
    );

    // A fault no real store produces on demand (bytes damaged on their way): a fake source that
    // damages every read of the codes section.
    const count = 3000;
    const dim = 24;
    const { bytes, header } = await buildSlab(makeRows(count, dim, 5), { dimension: dim, level: 1, ann: makeAnn(count, dim, 4, 5) });
    const codesAt = header.sections.codes!;
    const damaged: RangeSource = (start, end) => {
      const out = bytes.slice(start, end);
      if (start <= codesAt + 100 && end > codesAt + 100) out[codesAt + 100 - start]! ^= 0x10;
      return Promise.resolve(out);
    };
    const reader = await SlabReader.open('s', damaged, { cache: new PageCache(0, ALWAYS_RANGED), cacheKey: 'bad-codes' });
    const all = Int32Array.from({ length: count }, (_, i) => i);
    await expect(reader.topByCodes(all, new Float32Array(dim), 5, 'euclidean')).rejects.toThrow(SlabCorruptionError);
    await expect(reader.promoteCodes()).rejects.toThrow(SlabCorruptionError);
    expect(reader.codesResident).toBe(false);
  }, 120_000);

  it('still reads version 1 slabs, whole', async () => {
    // A version 1 slab as written before: vectors in the head, no page checksums.
    const { bytes } = await buildSlab(makeRows(50, 4, 9), { dimension: 4, level: 0 });
    const v1 = toVersion1(bytes);
    const reader = await SlabReader.open('s', sourceOf(v1), { cache: new PageCache(0, ALWAYS_RANGED), cacheKey: 'v1' });
    expect(reader.header.version).toBe(1);
    expect(reader.resident).toBe(true);
    const whole = new SlabReader('s', bytes);
    for (let row = 0; row < 50; row++) expect(reader.values(row)).toEqual(whole.values(row));
  });
});

/**
 * Rewrites a version 2 flat slab in the version 1 layout (lsns, flags, vectors, ids, metadata,
 * sparse, checksum), as the builder wrote it before version 2.
 */
function toVersion1(v2: Uint8Array): Uint8Array {
  const reader = new SlabReader('s', v2);
  const { header } = reader;
  const { count, dimension } = header;
  const s = header.sections;
  const head = (from: number, to: number) => v2.subarray(from, to);
  const idBytes = head(s.ids, s.sparse);
  const mdBytes = head(s.metadata, s.mdIndex ?? s.end);
  // Version 2 stores no sparse section when no row has a sparse vector; version 1 always did.
  const spBytes = new Uint8Array(4 * (count + 1));
  const align = (n: number, to: number) => Math.ceil(n / to) * to;
  const build = (headerLength: number) => {
    const lsns = align(12 + headerLength, 8);
    const flags = lsns + 8 * count;
    const vectors = align(flags + count, 4);
    const ids = vectors + 4 * count * dimension;
    const metadata = ids + idBytes.length;
    const sparse = metadata + mdBytes.length;
    const end = align(sparse + spBytes.length, 4);
    return { lsns, flags, vectors, ids, metadata, sparse, ann: end, end };
  };
  const encoder = new TextEncoder();
  let sections = build(0);
  let json = encoder.encode('');
  for (let i = 0; i < 4; i++) {
    json = encoder.encode(JSON.stringify({ ...header, version: 1, pageSize: undefined, sections }));
    sections = build(json.length);
  }
  const out = new Uint8Array(sections.end + 4);
  const view = new DataView(out.buffer);
  out.set(encoder.encode('CNFSLAB1'));
  view.setUint32(8, json.length, true);
  out.set(json, 12);
  out.set(head(s.lsns, s.lsns + 8 * count), sections.lsns);
  out.set(head(s.flags, s.flags + count), sections.flags);
  out.set(v2.subarray(s.vectors, s.vectors + 4 * count * dimension), sections.vectors);
  // Offsets inside the id, metadata and sparse sections are absolute: shift them.
  const shift = (from: Uint8Array, to: number, delta: number) => {
    const offsets = new Uint32Array(from.buffer, from.byteOffset, count + 1);
    out.set(from, to);
    const moved = new Uint32Array(out.buffer, to, count + 1);
    offsets.forEach((o, i) => (moved[i] = o + delta));
  };
  shift(idBytes, sections.ids, sections.ids - s.ids);
  shift(mdBytes, sections.metadata, sections.metadata - s.metadata);
  out.set(spBytes, sections.sparse);
  view.setUint32(sections.end, checksum(out.subarray(0, sections.end)), true);
  return out;
}
