import { compileFilter, validateFilter, type Filter, type Metadata } from '@conifer/core';
import { Bitset, buildSlab, SlabReader, type SlabRow } from '@conifer/slab';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eligibleRows } from './eligible.ts';
import { searchSnapshot } from './search.ts';
import type { SlabLayer } from './snapshot.ts';

const DIM = 4;

const metadataArb: fc.Arbitrary<Metadata | undefined> = fc.option(
  fc.record({ bucket: fc.integer({ min: 0, max: 9 }), tag: fc.constantFrom('a', 'b', 'c'), tags: fc.subarray(['x', 'y', 'z']) }, { requiredKeys: [] }),
  { nil: undefined },
);
const field = fc.constantFrom('bucket', 'tag', 'tags', 'missing');
const value = fc.oneof(fc.integer({ min: -1, max: 10 }), fc.constantFrom('a', 'b', 'x', 'y'));
const leafArb: fc.Arbitrary<Filter> = fc.oneof(
  fc.record({ k: field, v: value }).map(({ k, v }) => ({ [k]: v })),
  fc.record({ k: field, op: fc.constantFrom('$gt', '$gte', '$lt', '$lte'), v: fc.integer({ min: -1, max: 10 }) }).map(({ k, op, v }) => ({ [k]: { [op]: v } })),
  fc.record({ k: field, lo: fc.integer({ min: 0, max: 5 }), hi: fc.integer({ min: 3, max: 10 }) }).map(({ k, lo, hi }) => ({ [k]: { $gte: lo, $lt: hi } })),
  fc.record({ k: field, op: fc.constantFrom('$in', '$nin'), v: fc.array(value, { maxLength: 3 }) }).map(({ k, op, v }) => ({ [k]: { [op]: v } })),
  fc.record({ k: field, op: fc.constantFrom('$ne', '$exists'), v: fc.boolean() }).map(({ k, op, v }) => ({ [k]: { [op]: op === '$ne' ? String(v) : v } })),
);
const filterArb: fc.Arbitrary<Filter> = fc.oneof(
  leafArb,
  fc.tuple(leafArb, leafArb).map(([a, b]) => ({ $and: [a, b] })),
  fc.tuple(leafArb, leafArb).map(([a, b]) => ({ $or: [a, b] })),
);

/** One slab of `metadata.length` rows (row i has id `id-<i>`, sorted ids keep row = i) with a random live subset. */
async function layerOf(metadata: (Metadata | undefined)[], live: boolean[], vectors: number[][]): Promise<SlabLayer> {
  const rows: SlabRow[] = metadata.map((md, i) => ({
    id: `id-${String(i).padStart(4, '0')}`,
    lsn: i + 1,
    values: Float32Array.from(vectors[i]!),
    metadata: md,
  }));
  const { bytes } = await buildSlab(rows, { dimension: DIM, level: 0 });
  const reader = await SlabReader.load('s', bytes);
  const liveRows = Bitset.fromRows(
    reader.count,
    live.flatMap((l, i) => (l ? [i] : [])),
  );
  return { reader, shadowed: new Uint8Array(reader.count), live: liveRows, liveCount: liveRows.count() };
}

const slabArb = fc.integer({ min: 0, max: 120 }).chain((n) =>
  fc.record({
    metadata: fc.array(metadataArb, { minLength: n, maxLength: n }),
    live: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
    vectors: fc.array(fc.array(fc.integer({ min: -20, max: 20 }), { minLength: DIM, maxLength: DIM }), { minLength: n, maxLength: n }),
  }),
);

describe('eligibleRows', () => {
  it('selects the live rows the filter accepts, as a short list or a bitmap', async () => {
    await fc.assert(
      fc.asyncProperty(slabArb, filterArb, fc.integer({ min: 0, max: 130 }), async ({ metadata, live, vectors }, filter, maxRows) => {
        fc.pre(validateFilter(filter).length === 0);
        const layer = await layerOf(metadata, live, vectors);
        const predicate = compileFilter(filter);
        const want = metadata.flatMap((md, row) => (live[row] && predicate(md) ? [row] : []));
        const got = await eligibleRows(layer, filter, maxRows);
        expect(got.count).toBe(want.length);
        if (got.rows) {
          expect(got.bitset).toBeUndefined();
          expect(got.rows.length).toBeLessThanOrEqual(maxRows);
          expect(Array.from(got.rows)).toEqual(want);
        } else {
          const rows: number[] = [];
          got.bitset!.forEach((r) => rows.push(r));
          expect(rows).toEqual(want);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('gives a broad filter as a row test when asked: the same rows, counted exactly or estimated above the list limit', async () => {
    let tested = 0;
    await fc.assert(
      // Mostly one-field filters and small list limits: the filters a row test serves.
      fc.asyncProperty(
        slabArb,
        fc.oneof({ arbitrary: leafArb, weight: 3 }, { arbitrary: filterArb, weight: 1 }),
        fc.integer({ min: 0, max: 12 }),
        async ({ metadata, live, vectors }, filter, maxRows) => {
          fc.pre(validateFilter(filter).length === 0);
          const layer = await layerOf(metadata, live, vectors);
          const predicate = compileFilter(filter);
          const want = metadata.flatMap((md, row) => (live[row] && predicate(md) ? [row] : []));
          const got = await eligibleRows(layer, filter, maxRows, { tested: true });
          if (!got.test) {
            expect(got.count).toBe(want.length);
            return;
          }
          tested++;
          expect(got.rows ?? got.bitset).toBeUndefined();
          expect(metadata.flatMap((_, row) => (got.test!.has(row) ? [row] : []))).toEqual(want);
          if (layer.liveCount === layer.reader.count) expect(got.count).toBe(want.length);
          else expect(got.count).toBeGreaterThan(maxRows);
        },
      ),
      // About one run in twenty gets a row test: enough runs that the check below never starves.
      { numRuns: 2000 },
    );
    expect(tested).toBeGreaterThan(20);
  });

  it('without a filter: the live bitmap itself', async () => {
    const layer = await layerOf(
      [{ bucket: 1 }, undefined],
      [true, false],
      [
        [0, 0, 0, 0],
        [1, 1, 1, 1],
      ],
    );
    expect(await eligibleRows(layer, undefined, 10)).toEqual({ count: 1, bitset: layer.live });
  });
});

describe('searchSnapshot with a filter', () => {
  it('returns the exact top-k of the eligible rows on the row-list and the bitmap paths alike', async () => {
    await fc.assert(
      fc.asyncProperty(
        slabArb,
        filterArb,
        fc.array(fc.integer({ min: -20, max: 20 }), { minLength: DIM, maxLength: DIM }),
        async ({ metadata, live, vectors }, filter, query) => {
          fc.pre(validateFilter(filter).length === 0);
          const layer = await layerOf(metadata, live, vectors);
          const predicate = compileFilter(filter);
          const dist = (row: number) => vectors[row]!.reduce((s, x, j) => s + (x - query[j]!) ** 2, 0);
          const want = metadata
            .flatMap((md, row) => (live[row] && predicate(md) ? [row] : []))
            .sort((a, b) => dist(a) - dist(b) || a - b)
            .slice(0, 5)
            .map(dist);
          // exactBudget 0: no row list (every clause "too broad"); large: the row list when possible.
          for (const exactBudget of [0, DIM * 10, 2 ** 21]) {
            const hits = await searchSnapshot(
              { memtables: [], slabs: [layer] },
              { metric: 'euclidean', vector: Float32Array.from(query), topK: 5, filter, exactBudget },
            );
            // Scores (not ids): ties may be broken either way.
            expect(hits.map((h) => h.score)).toEqual(want);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
