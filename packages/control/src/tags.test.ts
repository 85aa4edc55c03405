import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mergeTags } from './tags.ts';

describe('mergeTags', () => {
  it('sets, overwrites and removes ("") tags', () => {
    expect(mergeTags({ a: '1', b: '2' }, { b: '', c: '3', a: '9' })).toEqual({ a: '9', c: '3' });
  });

  it('treats __proto__ as an ordinary tag', () => {
    const merged = mergeTags({}, JSON.parse('{"__proto__":"x"}') as Record<string, string>);
    expect(Object.keys(merged)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
  });

  it('matches a model: a key is present iff its last value was non-empty', () => {
    const tags = fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), fc.constantFrom('', 'x', 'y'));
    fc.assert(
      fc.property(tags, tags, (current, patch) => {
        const base = mergeTags({}, current);
        const merged = mergeTags(base, patch);
        for (const key of ['a', 'b', 'c', 'd']) {
          const expected = key in patch ? patch[key] || undefined : base[key];
          expect(merged[key]).toBe(expected);
        }
      }),
    );
  });
});
