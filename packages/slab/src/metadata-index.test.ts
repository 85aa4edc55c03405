import { compileFilter, validateFilter, type Filter, type Metadata } from '@conifer/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Bitset } from './bitset.ts';
import { MetadataIndex } from './metadata-index.ts';
import { intersectSorted, sortNumberColumn, sortUnique, unionSorted } from './sorted-rows.ts';
import { filterArbitraries } from './testing/filter-arbitraries.ts';

const strings = ['a', 'b', 'c'];
const { metadata: metadataArb, filter: filterArb } = filterArbitraries({ strings, fields: ['f', 'g', 'h'], extraOperands: [0.5] });

describe('MetadataIndex', () => {
  it('selects exactly the rows compileFilter accepts', () => {
    fc.assert(
      fc.property(fc.array(metadataArb, { maxLength: 80 }), filterArb, (rows, filter) => {
        fc.pre(validateFilter(filter).length === 0);
        const index = new MetadataIndex(rows.length, (r) => rows[r]);
        const predicate = compileFilter(filter);
        const got: number[] = [];
        index.evaluate(filter).forEach((r) => got.push(r));
        expect(got).toEqual(rows.flatMap((md, r) => (predicate(md) ? [r] : [])));
      }),
      { numRuns: 500 },
    );
  });

  it('matchingRows lists exactly the rows evaluate selects, or declines', () => {
    // Numbers only from a small set, and lists of numbers, so ranges hit several values and rows
    // that hold more than one number.
    // (Metadata lists hold strings; lists of numbers exercise the index's defensive handling.)
    const numeric = fc.option(fc.record({ f: fc.oneof(fc.integer({ min: -2, max: 3 }), fc.array(fc.integer({ min: -2, max: 3 }), { maxLength: 3 })) }), {
      nil: undefined,
    }) as fc.Arbitrary<Metadata | undefined>;
    fc.assert(
      fc.property(fc.array(fc.oneof(metadataArb, numeric), { maxLength: 80 }), filterArb, fc.integer({ min: 0, max: 90 }), (rows, filter, max) => {
        fc.pre(validateFilter(filter).length === 0);
        const index = new MetadataIndex(rows.length, (r) => rows[r]);
        const expected: number[] = [];
        index.evaluate(filter).forEach((r) => expected.push(r));
        const got = index.matchingRows(filter, max);
        // Without negations, an unbounded limit always gets a list.
        if (!/\$ne|\$nin|"\$exists":false/.test(JSON.stringify(filter))) expect(index.matchingRows(filter, Infinity)).toBeDefined();
        if (got === undefined) return;
        expect(got.length).toBeLessThanOrEqual(max);
        expect(Array.from(got)).toEqual(expected);
      }),
      { numRuns: 1000 },
    );
  });

  it('matchingRows answers every positive clause whose rows fit the limit', () => {
    const rows = Array.from({ length: 1000 }, (_, r) => ({
      bucket: r % 100,
      tag: r % 2 === 0 ? 'even' : 'odd',
      many: [r % 7, r % 11],
    })) as unknown as Metadata[];
    const index = new MetadataIndex(rows.length, (r) => rows[r]);
    const list = (f: Filter) => {
      const out: number[] = [];
      index.evaluate(f).forEach((r) => out.push(r));
      return out;
    };
    for (const filter of [
      { bucket: { $lt: 1 } },
      { bucket: { $gte: 3, $lt: 5 } },
      { bucket: 7 },
      { bucket: { $in: [1, 2] } },
      { many: { $lte: 0 } },
      { $or: [{ bucket: 1 }, { many: 3 }] },
      { many: 3, bucket: { $lt: 10 } },
    ] as Filter[]) {
      const got = index.matchingRows(filter, 400);
      expect(got, JSON.stringify(filter)).toBeDefined();
      expect(Array.from(got!)).toEqual(list(filter));
    }
    expect(index.matchingRows({ tag: 'even' }, 400)).toBeUndefined(); // 500 rows
    // Every clause of a conjunction must be short (a broad one would need its bitmap anyway).
    expect(index.matchingRows({ tag: 'even', bucket: { $lt: 10 } }, 400)).toBeUndefined();
    expect(index.matchingRows({ bucket: { $ne: 1 } }, 2000)).toBeUndefined(); // a complement
    // A broad range as a bitmap: built by clearing the rows out of range.
    expect(list({ bucket: { $gte: 1 } })).toEqual(rows.flatMap((_, r) => (r % 100 >= 1 ? [r] : [])));
  });

  it('rowTest counts and tests exactly the rows evaluate selects, or declines', () => {
    // Rows mostly holding one value per field (the columns a row test serves), sometimes a list.
    const single = fc.option(
      fc.record(
        { f: fc.oneof(fc.integer({ min: -2, max: 3 }), fc.constantFrom(0.5, 'a', 'b', true)), g: fc.constantFrom('a', 'b', 'c', false) },
        { requiredKeys: [] },
      ),
      { nil: undefined },
    ) as fc.Arbitrary<Metadata | undefined>;
    let answered = 0;
    fc.assert(
      fc.property(fc.array(fc.oneof({ arbitrary: single, weight: 4 }, { arbitrary: metadataArb, weight: 1 }), { maxLength: 80 }), filterArb, (rows, filter) => {
        fc.pre(validateFilter(filter).length === 0);
        const index = new MetadataIndex(rows.length, (r) => rows[r]);
        const test = index.rowTest(filter);
        if (!test) return;
        answered++;
        const expected = index.evaluate(filter);
        expect(test.count).toBe(expected.count());
        for (let row = 0; row < rows.length; row++) expect(test.has(row), `row ${row}`).toBe(expected.has(row));
      }),
      { numRuns: 2000 },
    );
    expect(answered).toBeGreaterThan(100);
  });

  it('rowTest answers one-field ranges and equalities, and declines what it cannot test exactly', () => {
    const rows = Array.from({ length: 1000 }, (_, r) => ({
      bucket: r % 100,
      tag: r % 2 === 0 ? 'even' : 'odd',
      tags: ['x', `t${r % 3}`],
      many: [r % 7, r % 11],
    })) as unknown as Metadata[];
    const index = new MetadataIndex(rows.length, (r) => rows[r]);
    for (const filter of [
      { bucket: { $lt: 50 } },
      { bucket: { $gte: 10, $lte: 20 } },
      { bucket: 7 },
      { bucket: { $eq: 7 } },
      { tag: 'even' },
      { tag: { $in: ['even', 'odd', 'none'] } },
    ] as Filter[]) {
      const test = index.rowTest(filter);
      expect(test, JSON.stringify(filter)).toBeDefined();
      expect(test!.count).toBe(index.evaluate(filter).count());
    }
    expect(index.derivedBytes).toBeGreaterThanOrEqual(2 * rows.length); // the bucket and tag codes, a byte a row
    // Codes of two and four bytes a row, for columns of more distinct numbers or strings.
    for (const size of [1000, 70_000]) {
      const wide = Array.from({ length: size }, (_, r) => ({ n: (r * 7919) % size, s: `v${r % (size / 2)}` })) as unknown as Metadata[];
      const wideIndex = new MetadataIndex(wide.length, (r) => wide[r]);
      for (const filter of [{ n: { $gte: 300, $lt: 700 } }, { n: { $gt: size - 5 } }, { n: 257 }, { s: { $in: ['v3', 'v300', 'v301'] } }] as Filter[]) {
        const test = wideIndex.rowTest(filter)!;
        const expected = wideIndex.evaluate(filter);
        expect(test.count, JSON.stringify(filter)).toBe(expected.count());
        for (let row = 0; row < wide.length; row++) if (test.has(row) !== expected.has(row)) expect.fail(`${JSON.stringify(filter)}: row ${row}`);
      }
    }
    for (const filter of [
      { tags: 'x' }, // rows hold lists of strings
      { many: { $lt: 3 } }, // and of numbers
      { bucket: { $in: [1, 2] } },
      { bucket: { $ne: 1 } },
      { tag: { $exists: true } },
      { bucket: 1, tag: 'odd' },
      { $and: [{ bucket: 1 }] },
      { missing: 1 },
    ] as Filter[]) {
      expect(index.rowTest(filter), JSON.stringify(filter)).toBeUndefined();
    }
  });

  it('builds the same index asynchronously (in slices) as synchronously', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(metadataArb, { maxLength: 5000 }), filterArb, async (rows, filter) => {
        fc.pre(validateFilter(filter).length === 0);
        const sync = new MetadataIndex(rows.length, (r) => rows[r]);
        const built = await MetadataIndex.build(rows.length, (r) => rows[r]);
        const a: number[] = [];
        const b: number[] = [];
        sync.evaluate(filter).forEach((r) => a.push(r));
        built.evaluate(filter).forEach((r) => b.push(r));
        expect(b).toEqual(a);
      }),
      { numRuns: 30 },
    );
  });
});

describe('Bitset', () => {
  it('does set algebra and counts like a Set of rows', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 0, max: 200 })
          .chain((n) => fc.tuple(fc.constant(n), fc.uniqueArray(fc.nat(Math.max(n - 1, 0))), fc.uniqueArray(fc.nat(Math.max(n - 1, 0))))),
        ([n, a, b]) => {
          const rowsA = n === 0 ? [] : a;
          const rowsB = n === 0 ? [] : b;
          const A = Bitset.fromRows(n, rowsA);
          const B = Bitset.fromRows(n, rowsB);
          const list = (s: Bitset) => {
            const out: number[] = [];
            s.forEach((r) => out.push(r));
            return out;
          };
          const sa = new Set(rowsA);
          const sb = new Set(rowsB);
          const all = Array.from({ length: n }, (_, i) => i);
          expect(list(A.clone().and(B))).toEqual(all.filter((i) => sa.has(i) && sb.has(i)));
          expect(list(A.clone().or(B))).toEqual(all.filter((i) => sa.has(i) || sb.has(i)));
          expect(list(A.clone().andNot(B))).toEqual(all.filter((i) => sa.has(i) && !sb.has(i)));
          expect(list(A.clone().not())).toEqual(all.filter((i) => !sa.has(i)));
          expect(A.count()).toBe(sa.size);
          expect(Bitset.full(n).count()).toBe(n);
          for (const r of rowsA) expect(A.bytes[r >> 3]! & (1 << (r & 7))).not.toBe(0);
        },
      ),
    );
  });
});

describe('sorted row lists', () => {
  it('intersect, unite and sort like Sets', () => {
    const sorted = fc.uniqueArray(fc.nat(60)).map((a) => Int32Array.from(a.sort((x, y) => x - y)));
    fc.assert(
      fc.property(sorted, sorted, fc.array(fc.nat(60)), (a, b, raw) => {
        const sb = new Set(b);
        expect(Array.from(intersectSorted(a, b))).toEqual(Array.from(a).filter((x) => sb.has(x)));
        expect(Array.from(unionSorted(a, b))).toEqual([...new Set([...a, ...b])].sort((x, y) => x - y));
        expect(Array.from(sortUnique(Int32Array.from(raw)))).toEqual([...new Set(raw)].sort((x, y) => x - y));
      }),
    );
  });

  it('sorts long lists (radix passes) of any row numbers', () => {
    const rows = fc.integer({ min: 0, max: 30 }).chain((bits) => fc.array(fc.integer({ min: 0, max: 2 ** bits - 1 }), { minLength: 200, maxLength: 3000 }));
    fc.assert(
      fc.property(rows, (raw) => {
        expect(Array.from(sortUnique(Int32Array.from(raw)))).toEqual([...new Set(raw)].sort((x, y) => x - y));
      }),
      { numRuns: 200 },
    );
    const extremes = [2 ** 31 - 1, 0, 2 ** 30, 1, 2 ** 31 - 1, ...Array.from({ length: 300 }, (_, i) => i * 7_000_001)];
    expect(Array.from(sortUnique(Int32Array.from(extremes)))).toEqual([...new Set(extremes)].sort((x, y) => x - y));
  });
});

describe('sortNumberColumn', () => {
  it('sorts by value with ties in the given order, by radix as by comparator', () => {
    const value = fc.oneof(
      fc.integer({ min: -50, max: 50 }),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.constantFrom(0, -0, 1e-300, -1e300, 2 ** 53),
    );
    fc.assert(
      fc.property(fc.array(value, { maxLength: 300 }), fc.integer({ min: 0, max: 64 }), (values, radixFrom) => {
        const rows = values.map((_, i) => i * 3);
        const { numbers, numberRows } = sortNumberColumn(values, rows, radixFrom);
        const expected = values.map((v, i) => ({ v: v === 0 ? 0 : v, row: rows[i]! })).sort((a, b) => a.v - b.v || a.row - b.row);
        expect(Array.from(numberRows)).toEqual(expected.map((e) => e.row));
        expect(Array.from(numbers, (v) => (v === 0 ? 0 : v))).toEqual(expected.map((e) => e.v));
      }),
      { numRuns: 500 },
    );
  });
});
