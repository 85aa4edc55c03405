import { describe, expect, it } from 'vitest';
import { TtlCache } from './ttl-cache.ts';
import type { AuthContext } from './types.ts';

const ctx = (keyId: string): AuthContext => ({ projectId: 'prj_1', keyId, role: 'admin' });

describe('TtlCache', () => {
  it('expires entries after the TTL', () => {
    const cache = new TtlCache<string, AuthContext>({ ttlMs: 1000, maxEntries: 10 });
    cache.set('h', ctx('k'), cache.generation(), 0);
    expect(cache.get('h', 999)).toEqual(ctx('k'));
    expect(cache.get('h', 1000)).toBeUndefined();
  });

  it('serves an expired entry as stale for a while, never an invalidated one', () => {
    const cache = new TtlCache<string, number>({ ttlMs: 100, maxEntries: 10 });
    cache.set('a', 1, cache.generation(), 0);
    cache.set('b', 2, cache.generation(), 0);
    expect(cache.get('a', 150)).toBeUndefined();
    expect(cache.stale('a', 150, 1_000)).toBe(1);
    expect(cache.stale('a', 1_101, 1_000)).toBeUndefined();
    expect(cache.stale('a', 150, 0)).toBeUndefined();
    cache.invalidate('b');
    expect(cache.stale('b', 150, 1_000)).toBeUndefined();
  });

  it('evicts the oldest entry beyond its size bound', () => {
    const cache = new TtlCache<string, AuthContext>({ ttlMs: 1000, maxEntries: 2 });
    for (const h of ['a', 'b', 'c']) cache.set(h, ctx(h), cache.generation(), 0);
    expect(cache.size).toBe(2);
    expect(cache.get('a', 0)).toBeUndefined();
    expect(cache.get('c', 0)).toEqual(ctx('c'));
  });

  it('drops a set made by a lookup that started before an invalidation', () => {
    const cache = new TtlCache<string, AuthContext>({ ttlMs: 1000, maxEntries: 10 });
    const generation = cache.generation();
    cache.invalidate('h'); // a revocation commits while the lookup is reading the database
    cache.set('h', ctx('k'), generation, 0);
    expect(cache.get('h', 0)).toBeUndefined();
  });

  it('invalidate removes an entry at once', () => {
    const cache = new TtlCache<string, AuthContext>({ ttlMs: 1000, maxEntries: 10 });
    cache.set('h', ctx('k'), cache.generation(), 0);
    cache.invalidate('h');
    expect(cache.get('h', 0)).toBeUndefined();
  });

  it('clear drops every entry and fences off lookups in flight', () => {
    const cache = new TtlCache<string, AuthContext>({ ttlMs: 1000, maxEntries: 10 });
    cache.set('a', ctx('a'), cache.generation(), 0);
    const generation = cache.generation();
    cache.clear();
    cache.set('b', ctx('b'), generation, 0);
    expect(cache.get('a', 0)).toBeUndefined();
    expect(cache.get('b', 0)).toBeUndefined();
    expect(cache.size).toBe(0);
  });
});
