/**
 * fast-check arbitraries of metadata and filters over a small vocabulary, shared by the property
 * tests of the metadata index and of its stored form. The vocabulary is small on purpose, so
 * random rows and random filters hit the same keys and values often.
 */
import type { Filter, Metadata } from '@conifer/core';
import fc from 'fast-check';

export interface FilterVocabulary {
  /** String values (rows hold them alone or in arrays; filters compare against them). */
  strings: readonly string[];
  /** Metadata keys rows may hold; filters also name a key no row has. */
  fields: readonly string[];
  /** More values filters compare against that rows never hold. */
  extraOperands?: readonly (string | number)[];
}

export interface FilterArbitraries {
  metadata: fc.Arbitrary<Metadata | undefined>;
  /** Single-field comparisons, nested in $and / $or and merged into multi-key objects. */
  filter: fc.Arbitrary<Filter>;
}

export function filterArbitraries({ strings, fields, extraOperands = [] }: FilterVocabulary): FilterArbitraries {
  const value = fc.oneof(fc.constantFrom(...strings), fc.integer({ min: -2, max: 3 }), fc.constantFrom(0.5, -0.5), fc.boolean(), fc.subarray([...strings]));
  const metadata = fc.option(fc.dictionary(fc.constantFrom(...fields), value, { maxKeys: 3 }), { nil: undefined });
  const operand = fc.oneof(fc.constantFrom(...strings, ...extraOperands), fc.integer({ min: -2, max: 3 }), fc.boolean());
  const field = fc.constantFrom(...fields, 'missing');
  const leaf: fc.Arbitrary<Filter> = fc.oneof(
    fc.record({ k: field, v: operand }).map(({ k, v }) => ({ [k]: v })),
    fc.record({ k: field, op: fc.constantFrom('$eq', '$ne'), v: operand }).map(({ k, op, v }) => ({ [k]: { [op]: v } })),
    fc
      .record({ k: field, op: fc.constantFrom('$gt', '$gte', '$lt', '$lte'), v: fc.integer({ min: -3, max: 4 }) })
      .map(({ k, op, v }) => ({ [k]: { [op]: v } })),
    fc.record({ k: field, op: fc.constantFrom('$in', '$nin'), v: fc.array(operand, { maxLength: 3 }) }).map(({ k, op, v }) => ({ [k]: { [op]: v } })),
    fc.record({ k: field, v: fc.boolean() }).map(({ k, v }) => ({ [k]: { $exists: v } })),
    fc.record({ k: field, lo: fc.integer({ min: -2, max: 1 }), hi: fc.integer({ min: 0, max: 3 }) }).map(({ k, lo, hi }) => ({ [k]: { $gte: lo, $lt: hi } })),
  );
  const filter = fc.letrec<{ f: Filter }>((tie) => ({
    f: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.array(tie('f'), { minLength: 1, maxLength: 3 }).map((fs) => ({ $and: fs })),
      fc.array(tie('f'), { minLength: 1, maxLength: 3 }).map((fs) => ({ $or: fs })),
      fc.tuple(leaf, leaf).map(([a, b]) => ({ ...a, ...b })),
    ),
  })).f;
  return { metadata, filter };
}
