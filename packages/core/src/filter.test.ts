import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileFilter, unindexedFilterField, validateFilter, type Filter } from './filter.ts';
import { LIMITS } from './limits.ts';
import type { Metadata } from './metadata.ts';
import { filterSchema } from './schemas.ts';
import { formatIssues } from './issue-format.ts';

const matches = (filter: Filter | undefined, metadata: Metadata | undefined) => compileFilter(filter)(metadata);

/** Which of `records` (by name) the filter selects. */
function select(filter: Filter, records: Record<string, Metadata | undefined>): string[] {
  const predicate = compileFilter(filter);
  return Object.entries(records)
    .filter(([, m]) => predicate(m))
    .map(([name]) => name);
}

describe('compileFilter', () => {
  const movies: Record<string, Metadata | undefined> = {
    drama2019: { genre: 'drama', year: 2019, rating: 7.5, classic: false },
    drama2020: { genre: 'drama', year: 2020, rating: 8, classic: true },
    comedy2021: { genre: 'comedy', year: 2021, rating: 6 },
    untitled: { year: '2021' },
    bare: {},
    none: undefined,
  };

  it('$eq matches strings, numbers and booleans by type and value', () => {
    expect(select({ genre: { $eq: 'drama' } }, movies)).toEqual(['drama2019', 'drama2020']);
    expect(select({ year: { $eq: 2021 } }, movies)).toEqual(['comedy2021']);
    expect(select({ year: { $eq: '2021' } }, movies)).toEqual(['untitled']);
    expect(select({ classic: { $eq: true } }, movies)).toEqual(['drama2020']);
    expect(select({ classic: { $eq: 0 } }, movies)).toEqual([]);
  });

  it('a bare value is shorthand for $eq', () => {
    expect(select({ genre: 'drama' }, movies)).toEqual(select({ genre: { $eq: 'drama' } }, movies));
    expect(select({ classic: false }, movies)).toEqual(['drama2019']);
  });

  it('$ne matches records whose field differs, never records without the field', () => {
    expect(select({ genre: { $ne: 'drama' } }, movies)).toEqual(['comedy2021']);
    expect(select({ classic: { $ne: true } }, movies)).toEqual(['drama2019']);
  });

  it('$gt, $gte, $lt and $lte compare numbers, with inclusive bounds where named', () => {
    expect(select({ year: { $gt: 2020 } }, movies)).toEqual(['comedy2021']);
    expect(select({ year: { $gte: 2020 } }, movies)).toEqual(['drama2020', 'comedy2021']);
    expect(select({ year: { $lt: 2020 } }, movies)).toEqual(['drama2019']);
    expect(select({ year: { $lte: 2020 } }, movies)).toEqual(['drama2019', 'drama2020']);
    expect(select({ rating: { $gt: 7.4, $lt: 7.6 } }, movies)).toEqual(['drama2019']);
  });

  it('range operators never match strings or booleans, even numeric-looking ones', () => {
    expect(matches({ year: { $gt: 2000 } }, { year: '2021' })).toBe(false);
    expect(matches({ classic: { $gte: 0 } }, { classic: false })).toBe(false);
  });

  it('$in and $nin test membership; $nin never matches records without the field', () => {
    expect(select({ genre: { $in: ['comedy', 'horror'] } }, movies)).toEqual(['comedy2021']);
    expect(select({ year: { $in: [2019, 2021] } }, movies)).toEqual(['drama2019', 'comedy2021']);
    expect(select({ genre: { $nin: ['comedy'] } }, movies)).toEqual(['drama2019', 'drama2020']);
    expect(select({ year: { $in: [] } }, movies)).toEqual([]);
    expect(select({ genre: { $nin: [] } }, movies)).toEqual(['drama2019', 'drama2020', 'comedy2021']);
  });

  it('$in compares by type: 2021 does not match "2021"', () => {
    expect(select({ year: { $in: ['2021'] } }, movies)).toEqual(['untitled']);
  });

  it('$exists selects records with or without the field', () => {
    expect(select({ genre: { $exists: true } }, movies)).toEqual(['drama2019', 'drama2020', 'comedy2021']);
    expect(select({ genre: { $exists: false } }, movies)).toEqual(['untitled', 'bare', 'none']);
  });

  it('several fields in one object are an implicit AND', () => {
    expect(select({ genre: 'drama', year: { $gte: 2020 } }, movies)).toEqual(['drama2020']);
    expect(select({ genre: 'drama', year: 2021 }, movies)).toEqual([]);
  });

  it('several operators on one field are an AND', () => {
    expect(select({ year: { $gte: 2019, $lte: 2020, $ne: 2019 } }, movies)).toEqual(['drama2020']);
  });

  it('$and and $or combine sub-filters, and nest', () => {
    expect(select({ $or: [{ genre: 'comedy' }, { year: 2019 }] }, movies)).toEqual(['drama2019', 'comedy2021']);
    expect(select({ $and: [{ genre: 'drama' }, { classic: true }] }, movies)).toEqual(['drama2020']);
    const nested: Filter = { $or: [{ $and: [{ genre: 'drama' }, { year: { $lt: 2020 } }] }, { rating: { $lte: 6 } }] };
    expect(select(nested, movies)).toEqual(['drama2019', 'comedy2021']);
    expect(select({ genre: 'drama', $or: [{ year: 2019 }, { year: 2021 }] }, movies)).toEqual(['drama2019']);
  });

  it('an empty or absent filter matches everything, including records without metadata', () => {
    expect(select({}, movies)).toEqual(Object.keys(movies));
    expect(matches(undefined, undefined)).toBe(true);
  });

  describe('list-valued fields', () => {
    const tagged: Metadata = { tags: ['comedy', 'documentary'] };

    it('match when any element satisfies the clause', () => {
      expect(matches({ tags: 'comedy' }, tagged)).toBe(true);
      expect(matches({ tags: { $eq: 'documentary' } }, tagged)).toBe(true);
      expect(matches({ tags: { $in: ['drama', 'documentary'] } }, tagged)).toBe(true);
      expect(matches({ tags: 'drama' }, tagged)).toBe(false);
      expect(matches({ tags: { $in: ['drama', 'horror'] } }, tagged)).toBe(false);
    });

    it('$and of two values both in the list matches; of one present and one absent does not', () => {
      expect(matches({ $and: [{ tags: 'comedy' }, { tags: 'documentary' }] }, tagged)).toBe(true);
      expect(matches({ $and: [{ tags: 'comedy' }, { tags: 'drama' }] }, tagged)).toBe(false);
    });

    it('$ne and $nin match only when no element is excluded', () => {
      expect(matches({ tags: { $ne: 'comedy' } }, tagged)).toBe(false);
      expect(matches({ tags: { $ne: 'drama' } }, tagged)).toBe(true);
      expect(matches({ tags: { $nin: ['documentary', 'horror'] } }, tagged)).toBe(false);
      expect(matches({ tags: { $nin: ['drama', 'horror'] } }, tagged)).toBe(true);
    });

    it('an empty list exists but matches no value', () => {
      expect(matches({ tags: { $exists: true } }, { tags: [] })).toBe(true);
      expect(matches({ tags: { $in: ['a'] } }, { tags: [] })).toBe(false);
      expect(matches({ tags: { $nin: ['a'] } }, { tags: [] })).toBe(true);
    });
  });

  it('does not see Object.prototype members as fields', () => {
    // Regression: m[field] found "constructor", "toString"... on every record.
    expect(matches({ constructor: { $exists: true } }, {})).toBe(false);
    expect(matches({ constructor: { $exists: false } }, { a: 1 })).toBe(true);
    expect(matches({ toString: { $ne: 'x' } }, {})).toBe(false);
    expect(matches({ hasOwnProperty: { $nin: ['x'] } }, { a: 1 })).toBe(false);
    expect(matches({ constructor: 'Object' }, { constructor: 'Object' })).toBe(true);
    expect(matches({ toString: { $exists: true } }, { toString: 'own' })).toBe(true);
  });

  describe('laws, over random metadata', () => {
    const value = fc.oneof(fc.constantFrom('a', 'b', 'c'), fc.integer({ min: 0, max: 3 }), fc.boolean());
    const field = fc.constantFrom('x', 'y');
    const metadata: fc.Arbitrary<Metadata> = fc.dictionary(field, fc.oneof(value, fc.array(fc.constantFrom('a', 'b', 'c'), { maxLength: 3 })), { maxKeys: 2 });
    const values = fc.array(value, { maxLength: 3 });

    it('$nin is "exists and not $in"; $ne is "exists and not $eq"', () => {
      fc.assert(
        fc.property(metadata, field, values, value, (m, f, vs, v) => {
          const exists = matches({ [f]: { $exists: true } }, m);
          expect(matches({ [f]: { $nin: vs } }, m)).toBe(exists && !matches({ [f]: { $in: vs } }, m));
          expect(matches({ [f]: { $ne: v } }, m)).toBe(exists && !matches({ [f]: { $eq: v } }, m));
        }),
      );
    });

    it('$in is the $or of $eq over its values', () => {
      fc.assert(
        fc.property(metadata, field, values, (m, f, vs) => {
          const asOr = vs.length === 0 ? false : matches({ $or: vs.map((v) => ({ [f]: v })) }, m);
          expect(matches({ [f]: { $in: vs } }, m)).toBe(asOr);
        }),
      );
    });

    it('$gte / $lte are the $or of $gt / $lt and $eq', () => {
      fc.assert(
        fc.property(metadata, field, fc.integer({ min: -1, max: 4 }), (m, f, n) => {
          expect(matches({ [f]: { $gte: n } }, m)).toBe(matches({ $or: [{ [f]: { $gt: n } }, { [f]: n }] }, m));
          expect(matches({ [f]: { $lte: n } }, m)).toBe(matches({ $or: [{ [f]: { $lt: n } }, { [f]: n }] }, m));
        }),
      );
    });
  });
});

describe('validateFilter', () => {
  const paths = (input: unknown) => validateFilter(input).map((issue) => issue.path);
  const messages = (input: unknown) =>
    validateFilter(input)
      .map((issue) => issue.message)
      .join('; ');

  it('accepts every operator with a well-typed operand', () => {
    const filter = {
      a: 'x',
      b: { $eq: 1, $ne: true },
      c: { $gt: 1, $gte: 1.5, $lt: 10, $lte: 10 },
      d: { $in: ['x', 1, false], $nin: [] },
      e: { $exists: false },
      $and: [{ f: 1 }, { $or: [{ g: 'y' }, { h: { $exists: true } }] }],
    };
    expect(validateFilter(filter)).toEqual([]);
    expect(validateFilter({})).toEqual([]);
  });

  it('rejects an unknown operator, naming its path', () => {
    expect(paths({ genre: { $regex: 'dr.*' } })).toEqual([['genre', '$regex']]);
    expect(messages({ genre: { $regex: 'dr.*' } })).toContain('unknown operator $regex');
  });

  it('rejects a field operator at the top level', () => {
    expect(paths({ $gt: 5 })).toEqual([['$gt']]);
    expect(messages({ $gt: 5 })).toContain('misplaced operator $gt');
    expect(paths({ $and: [{ $eq: 1 }] })).toEqual([['$and', 0, '$eq']]);
  });

  it(`limits $in and $nin to ${LIMITS.maxInValues} values`, () => {
    const atLimit = Array.from({ length: LIMITS.maxInValues }, (_, i) => i);
    expect(validateFilter({ id: { $in: atLimit, $nin: atLimit } })).toEqual([]);
    const issues = validateFilter({ id: { $in: [...atLimit, -1] } });
    expect(issues.map((i) => i.path)).toEqual([['id', '$in']]);
    expect(issues[0]!.message).toContain(String(LIMITS.maxInValues));
    expect(paths({ id: { $nin: [...atLimit, -1] } })).toEqual([['id', '$nin']]);
  });

  it('rejects a non-array $in and non-primitive $in values', () => {
    expect(paths({ genre: { $in: 'drama' } })).toEqual([['genre', '$in']]);
    expect(messages({ genre: { $in: 'drama' } })).toContain('takes an array');
    expect(paths({ genre: { $nin: ['a', { b: 1 }] } })).toEqual([['genre', '$nin', 1]]);
    expect(paths({ genre: { $in: [null] } })).toEqual([['genre', '$in', 0]]);
  });

  it('rejects empty or non-array $and / $or', () => {
    expect(paths({ $and: [] })).toEqual([['$and']]);
    expect(messages({ $and: [] })).toContain('non-empty array');
    expect(paths({ $or: { a: 1 } })).toEqual([['$or']]);
    expect(paths({ $or: [{}] })).toEqual([['$or', 0]]);
  });

  it('rejects nested objects as values: their keys read as unknown operators', () => {
    expect(paths({ address: { city: 'Paris' } })).toEqual([['address', 'city']]);
    expect(paths({ address: {} })).toEqual([['address']]);
  });

  it('rejects arrays, null and non-finite numbers as operands', () => {
    expect(paths({ tags: { $eq: ['a', 'b'] } })).toEqual([['tags', '$eq']]);
    expect(paths({ tags: ['a', 'b'] })).toEqual([['tags']]);
    expect(paths({ a: null })).toEqual([['a']]);
    expect(paths({ a: { $ne: null } })).toEqual([['a', '$ne']]);
    expect(paths({ a: Number.NaN })).toEqual([['a']]);
    expect(paths({ a: { $gt: Number.POSITIVE_INFINITY } })).toEqual([['a', '$gt']]);
  });

  it('rejects mistyped operands of range operators and $exists', () => {
    expect(paths({ year: { $gt: '2020' } })).toEqual([['year', '$gt']]);
    expect(paths({ year: { $lte: true } })).toEqual([['year', '$lte']]);
    expect(paths({ year: { $exists: 1 } })).toEqual([['year', '$exists']]);
  });

  it('rejects filters that are not objects', () => {
    for (const input of [null, [], 'genre', 1]) expect(paths(input)).toEqual([[]]);
  });

  it(`limits $and / $or nesting to ${LIMITS.maxFilterDepth} levels`, () => {
    const nest = (levels: number): Filter => (levels === 0 ? { a: 1 } : { $and: [nest(levels - 1)] });
    expect(validateFilter(nest(LIMITS.maxFilterDepth))).toEqual([]);
    const issues = validateFilter(nest(LIMITS.maxFilterDepth + 1));
    expect(issues).toHaveLength(1);
    expect(issues[0]!.message).toContain(String(LIMITS.maxFilterDepth));
  });

  it('reports every problem, each at its own path', () => {
    const issues = validateFilter({ $and: [{ a: { $foo: 1 } }, { b: { $in: 3 } }], c: { $gt: 'x' }, $bad: 1 });
    expect(issues.map((i) => i.path)).toEqual([['$and', 0, 'a', '$foo'], ['$and', 1, 'b', '$in'], ['c', '$gt'], ['$bad']]);
  });

  it('surfaces through filterSchema with the path rendered by formatIssues', () => {
    const result = filterSchema.safeParse({ $or: [{ a: 1 }, { b: { $lt: 'z' } }] });
    expect(result.success).toBe(false);
    expect(formatIssues(result.error!.issues)).toBe('$or[1].b.$lt: $lt takes a finite number');
  });
});

describe('unindexedFilterField', () => {
  const indexed = new Set(['genre', 'year']);
  const isIndexed = (field: string) => indexed.has(field);

  it('finds the first field the filter names that is not indexed, with its path, through $and and $or', () => {
    expect(unindexedFilterField({ genre: 'drama', year: { $gt: 2000 } }, isIndexed)).toBeUndefined();
    expect(unindexedFilterField({ genre: 'drama', rating: { $gte: 3 } }, isIndexed)).toEqual({ field: 'rating', path: ['rating'] });
    expect(unindexedFilterField({ $or: [{ genre: 'drama' }, { $and: [{ year: 2000 }, { author: { $exists: true } }] }] }, isIndexed)).toEqual({
      field: 'author',
      path: ['$or', 1, '$and', 1, 'author'],
    });
    // Operator names are not fields; an empty filter names none.
    expect(unindexedFilterField({ year: { $in: [1, 2], $nin: [3] } }, isIndexed)).toBeUndefined();
    expect(unindexedFilterField({}, () => false)).toBeUndefined();
  });
});
