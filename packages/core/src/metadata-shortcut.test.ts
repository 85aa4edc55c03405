import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LIMITS } from './limits.ts';
import { isPlainValidMetadata, metadataSchema } from './schemas.ts';

/**
 * `isPlainValidMetadata` is a shortcut the REST upsert's fast reader takes before the schema: when
 * it says yes, the schema must accept the value and give it back unchanged (keys, order, values).
 * It may say no to values the schema accepts (they then go to the schema), but must say yes to the
 * plain metadata of everyday records, or it would save nothing.
 */
const key = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('', '$in', '__proto__', 'constructor', 'a b', '0', '10', 'é'));
const value = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.double(),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 4 }), { maxLength: 3 }),
  fc.array(fc.oneof(fc.string(), fc.integer(), fc.constant(null)), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }),
  fc.constant(Number.POSITIVE_INFINITY),
);
/** What JSON.parse gives for a text of such an object (own `__proto__` keys included). */
const metadataLike = fc.dictionary(key, value, { maxKeys: 5 }).map((m) => JSON.parse(JSON.stringify(m)) as unknown);
const anything = fc.oneof(metadataLike, fc.jsonValue(), fc.constant(JSON.parse('{"__proto__": "x", "a": 1}')));

describe('isPlainValidMetadata', () => {
  it('says yes only where the schema accepts the value and gives it back unchanged', () => {
    let yes = 0;
    fc.assert(
      fc.property(anything, (v) => {
        const parsed = metadataSchema.safeParse(v);
        if (!isPlainValidMetadata(v)) return;
        yes++;
        expect(parsed.success).toBe(true);
        expect(JSON.stringify(parsed.data)).toBe(JSON.stringify(v));
        expect(Object.keys(parsed.data!)).toEqual(Object.keys(v));
      }),
      { numRuns: 3000, seed: 11 },
    );
    expect(yes).toBeGreaterThan(300);
  });

  it('says yes to the plain metadata of everyday records, no to what the schema refuses', () => {
    for (const plain of [{ bucket: 3 }, { genre: 'drama', year: 1994, tags: ['a', 'b'], seen: false }, {}]) expect(isPlainValidMetadata(plain)).toBe(true);
    const big = { text: 'x'.repeat(LIMITS.maxMetadataBytes) };
    for (const refused of [{ '': 1 }, { $gt: 1 }, { a: null }, { a: { b: 1 } }, { a: [1] }, { a: Number.NaN }, big, [], null, 'text'])
      expect([isPlainValidMetadata(refused), metadataSchema.safeParse(refused).success]).toEqual([false, false]);
  });
});
