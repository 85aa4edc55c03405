import { compileFilter, validateFilter, type Filter, type Metadata } from '@conifer/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Bitset } from './bitset.ts';
import { MetadataIndex } from './metadata-index.ts';

const strings = ['a', 'b', 'c'];
const valueArb = fc.oneof(fc.constantFrom(...strings), fc.integer({ min: -2, max: 3 }), fc.constantFrom(0.5, -0.5), fc.boolean(), fc.subarray(strings));
const metadataArb: fc.Arbitrary<Metadata | undefined> = fc.option(fc.dictionary(fc.constantFrom('f', 'g', 'h'), valueArb, { maxKeys: 3 }), { nil: undefined });
const primitiveArb = fc.oneof(fc.constantFrom(...strings), fc.integer({ min: -2, max: 3 }), fc.constantFrom(0.5), fc.boolean());
const field = fc.constantFrom('f', 'g', 'h', 'missing');
const leafArb: fc.Arbitrary<Filter> = fc.oneof(
  fc.record({ k: field, v: primitiveArb }).map(({ k, v }) => ({ [k]: v })),
  fc.record({ k: field, op: fc.constantFrom('$eq', '$ne'), v: primitiveArb }).map(({ k, op, v }) => ({ [k]: { [op]: v } })),
  fc.record({ k: field, op: fc.constantFrom('$gt', '$gte', '$lt', '$lte'), v: fc.integer({ min: -3, max: 4 }) }).map(({ k, op, v }) => ({ [k]: { [op]: v } })),
  fc.record({ k: field, op: fc.constantFrom('$in', '$nin'), v: fc.array(primitiveArb, { maxLength: 3 }) }).map(({ k, op, v }) => ({ [k]: { [op]: v } })),
  fc.record({ k: field, v: fc.boolean() }).map(({ k, v }) => ({ [k]: { $exists: v } })),
  fc.record({ k: field, lo: fc.integer({ min: -2, max: 1 }), hi: fc.integer({ min: 0, max: 3 }) }).map(({ k, lo, hi }) => ({ [k]: { $gte: lo, $lt: hi } })),
);
const filterArb: fc.Arbitrary<Filter> = fc.letrec<{ f: Filter }>((tie) => ({
  f: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leafArb,
    fc.array(tie('f'), { minLength: 1, maxLength: 3 }).map((fs) => ({ $and: fs })),
    fc.array(tie('f'), { minLength: 1, maxLength: 3 }).map((fs) => ({ $or: fs })),
    fc.tuple(leafArb, leafArb).map(([a, b]) => ({ ...a, ...b })),
  ),
})).f;

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
      fc.property(fc.integer({ min: 0, max: 200 }).chain((n) => fc.tuple(fc.constant(n), fc.uniqueArray(fc.nat(Math.max(n - 1, 0))), fc.uniqueArray(fc.nat(Math.max(n - 1, 0))))), ([n, a, b]) => {
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
      }),
    );
  });
});
