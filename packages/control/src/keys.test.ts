import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BASE36_LOWER, newId, randomString } from './ids.ts';
import { API_KEY_PREFIX, displayPrefix, generateApiKey, hashApiKey, hashesEqual } from './keys.ts';

describe('generateApiKey', () => {
  it('is cnf_ followed by 40 base62 characters, different every time', () => {
    const keys = new Set(Array.from({ length: 200 }, generateApiKey));
    expect(keys.size).toBe(200);
    for (const key of keys) expect(key).toMatch(/^cnf_[0-9A-Za-z]{40}$/);
  });

  it('uses the whole alphabet', () => {
    const seen = new Set(Array.from({ length: 100 }, generateApiKey).join('').slice(API_KEY_PREFIX.length));
    expect(seen.size).toBeGreaterThan(60);
  });
});

describe('hashApiKey', () => {
  it('is the sha256 hex of the whole string', () => {
    expect(hashApiKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('accepts any string, including non-ASCII', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        expect(hashApiKey(s)).toMatch(/^[0-9a-f]{64}$/);
      }),
    );
  });
});

describe('hashesEqual', () => {
  it('compares hex hashes', () => {
    const a = hashApiKey('a');
    expect(hashesEqual(a, hashApiKey('a'))).toBe(true);
    expect(hashesEqual(a, hashApiKey('b'))).toBe(false);
    expect(hashesEqual(a, a.slice(0, 10))).toBe(false);
    expect(hashesEqual('', '')).toBe(false);
  });
});

describe('displayPrefix', () => {
  it('keeps the first 8 characters', () => {
    expect(displayPrefix('cnf_abcdefgh')).toBe('cnf_abcd');
  });
});

describe('ids', () => {
  it('are [a-z0-9_] with the kind as prefix', () => {
    for (let i = 0; i < 100; i++) expect(newId('idx')).toMatch(/^idx_[a-z0-9]{20}$/);
  });

  it('randomString draws every symbol roughly uniformly', () => {
    const counts = new Map<string, number>();
    for (const c of randomString(BASE36_LOWER, 36_000)) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(36);
    for (const n of counts.values()) expect(n).toBeGreaterThan(700);
  });
});
