import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryObjectStore } from './memory-store.ts';
import type { ObjectStore } from './object-store.ts';
import { SlabCache, withCache } from './slab-cache.ts';
import { objectStoreContract } from './testing/contract.ts';

const bytes = (n: number) => new Uint8Array(randomBytes(n));

/** Counts the reads that reach the store (each takes a few ms, so that concurrent misses overlap). */
function counting(store: ObjectStore): ObjectStore & { gets: string[] } {
  const gets: string[] = [];
  return {
    gets,
    get: async (key) => {
      gets.push(key);
      await new Promise((resolve) => setTimeout(resolve, 5));
      return store.get(key);
    },
    getRange: (key, start, end) => store.getRange(key, start, end),
    head: (key) => store.head(key),
    put: (key, data) => store.put(key, data),
    putIfAbsent: (key, data) => store.putIfAbsent(key, data),
    putIfMatch: (key, data, etag) => store.putIfMatch(key, data, etag),
    delete: (key) => store.delete(key),
    list: (prefix, options) => store.list(prefix, options),
  };
}

// Cached with every key cacheable, the wrapper still honours the whole contract: its own writes
// and deletes drop the key, and reads in flight during a write do not cache what they read.
objectStoreContract('withCache(memory), every key cacheable', async () => ({
  store: withCache(new MemoryObjectStore(), { cacheable: () => true, memoryBytes: 4 * 1024 * 1024 }),
}));

describe('SlabCache', () => {
  let dir: string;
  let store: MemoryObjectStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'conifer-cache-'));
    store = new MemoryObjectStore();
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('serves a second read from memory, counting hits, misses and bytes', async () => {
    const data = bytes(1000);
    await store.put('ns/slabs/a.slab', data);
    const inner = counting(store);
    const cache = new SlabCache(inner, { memoryBytes: 1 << 20 });
    expect((await cache.get('ns/slabs/a.slab'))?.data).toEqual(data);
    expect((await cache.get('ns/slabs/a.slab'))?.data).toEqual(data);
    expect(inner.gets).toEqual(['ns/slabs/a.slab']);
    expect(cache.stats()).toMatchObject({ misses: 1, memoryHits: 1, bytesFromStore: 1000, bytesFromMemory: 1000, memoryBytes: 1000, memoryEntries: 1 });
  });

  it('fetches a key once for many concurrent misses', async () => {
    await store.put('a.slab', bytes(100));
    const inner = counting(store);
    const cache = new SlabCache(inner);
    const bodies = await Promise.all(Array.from({ length: 10 }, () => cache.get('a.slab')));
    expect(inner.gets).toHaveLength(1);
    expect(new Set(bodies.map((b) => b?.etag)).size).toBe(1);
    expect(cache.stats()).toMatchObject({ misses: 1, coalesced: 9 });
  });

  it('keeps the memory tier within its byte budget, evicting the least recently used', async () => {
    for (const k of ['a', 'b', 'c']) await store.put(`${k}.slab`, bytes(400));
    const cache = new SlabCache(store, { memoryBytes: 1000 });
    await cache.get('a.slab');
    await cache.get('b.slab');
    await cache.get('a.slab'); // a is now more recent than b
    await cache.get('c.slab'); // evicts b
    const stats = cache.stats();
    expect(stats.memoryBytes).toBeLessThanOrEqual(1000);
    expect(stats.memoryEvictions).toBe(1);
    await cache.get('a.slab');
    expect(cache.stats().memoryHits).toBe(2);
    await cache.get('b.slab');
    expect(cache.stats().misses).toBe(4);
  });

  it('falls back to the disk tier after a memory eviction, and bounds the disk by its budget', async () => {
    for (const k of ['a', 'b', 'c', 'd']) await store.put(`${k}.slab`, bytes(400));
    const inner = counting(store);
    const cache = new SlabCache(inner, { memoryBytes: 500, diskBytes: 1000, dir });
    await cache.get('a.slab');
    await cache.get('b.slab'); // a leaves memory, stays on disk
    await cache.close();
    expect((await cache.get('a.slab'))?.data).toEqual((await store.get('a.slab'))?.data);
    expect(cache.stats()).toMatchObject({ diskHits: 1, misses: 2, bytesFromDisk: 400 });
    await cache.get('c.slab');
    await cache.get('d.slab');
    await cache.close();
    const stats = cache.stats();
    expect(stats.diskBytes).toBeLessThanOrEqual(1000);
    expect(stats.diskEvictions).toBeGreaterThanOrEqual(2);
    expect((await readdir(dir)).filter((f) => f.endsWith('.obj'))).toHaveLength(stats.diskEntries);
    expect((await readdir(dir)).filter((f) => f.endsWith('.meta'))).toHaveLength(stats.diskEntries);
  });

  it('indexes what an earlier process left on disk, and removes incomplete files', async () => {
    const data = bytes(10);
    await store.put('a.slab', data);
    const first = new SlabCache(store, { memoryBytes: 0, diskBytes: 1 << 20, dir });
    await first.get('a.slab');
    await first.close();
    await writeFile(join(dir, 'f'.repeat(64) + '.obj'), 'no meta: a crash before the meta was written');
    await writeFile(join(dir, 'x-1.tmp'), 'half');
    const inner = counting(store);
    const second = new SlabCache(inner, { memoryBytes: 0, diskBytes: 1 << 20, dir });
    expect(second.stats()).toMatchObject({ diskEntries: 1, diskBytes: 10 });
    expect((await second.get('a.slab'))?.data).toEqual(data);
    expect(inner.gets).toEqual([]);
    expect(second.stats().diskHits).toBe(1);
    expect((await readdir(dir)).sort()).toHaveLength(2); // a.slab's .obj and .meta
  });

  it('hands out copies unless shareBuffers is set', async () => {
    await store.put('a.slab', new Uint8Array([1, 2, 3]));
    const cache = new SlabCache(store);
    (await cache.get('a.slab'))!.data.fill(0);
    expect((await cache.get('a.slab'))?.data).toEqual(new Uint8Array([1, 2, 3]));
    const shared = new SlabCache(store, { shareBuffers: true });
    expect((await shared.get('a.slab'))!.data).toBe((await shared.get('a.slab'))!.data);
  });

  it('serves ranges of a cached object and returns null for missing keys (which it does not cache)', async () => {
    await store.put('a.slab', new Uint8Array([0, 1, 2, 3, 4, 5]));
    const cache = new SlabCache(store);
    expect(await cache.getRange('a.slab', 1, 3)).toEqual(new Uint8Array([1, 2]));
    await cache.get('a.slab');
    expect(await cache.getRange('a.slab', 4, 100)).toEqual(new Uint8Array([4, 5]));
    expect(await cache.getRange('a.slab', 9, 100)).toEqual(new Uint8Array(0));
    expect(await cache.get('none.slab')).toBeNull();
    await store.put('none.slab', new Uint8Array([7]));
    expect((await cache.get('none.slab'))?.data).toEqual(new Uint8Array([7]));
  });
});

describe('SlabCache ranged reads', () => {
  it('fetches a slab read by range whole to the disk tier in the background, then serves its ranges from disk, after a restart too', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'conifer-cache-'));
    try {
      const store = new MemoryObjectStore();
      const data = bytes(300_000);
      await store.put('ns/slabs/r.slab', data);
      const inner = counting(store);
      const cache = new SlabCache(inner, { memoryBytes: 0, dir });
      // The first range comes from the store while the whole object goes to disk.
      expect(await cache.getRange('ns/slabs/r.slab', 1000, 2000)).toEqual(data.slice(1000, 2000));
      await cache.close();
      expect(inner.gets).toEqual(['ns/slabs/r.slab']);
      expect(cache.stats()).toMatchObject({ diskEntries: 1, diskBytes: 300_000, bytesFromStore: 300_000 });
      expect(await cache.getRange('ns/slabs/r.slab', 299_990, 400_000)).toEqual(data.slice(299_990));
      expect(cache.stats()).toMatchObject({ diskHits: 1, bytesFromDisk: 10 });
      // A restarted process finds it on disk: no read reaches the store.
      const again = counting(store);
      const restarted = new SlabCache(again, { memoryBytes: 0, dir });
      expect(await restarted.getRange('ns/slabs/r.slab', 5, 50)).toEqual(data.slice(5, 50));
      await restarted.close();
      expect(again.gets).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('withCache', () => {
  it('caches only cacheable keys (slabs by default) and passes everything else through', async () => {
    const inner = counting(new MemoryObjectStore());
    const store = withCache(inner);
    await store.put('ns/slabs/x.slab', bytes(10));
    await store.put('ns/manifest/00000000000000000001', bytes(10));
    for (let i = 0; i < 3; i++) {
      await store.get('ns/slabs/x.slab');
      await store.get('ns/manifest/00000000000000000001');
    }
    expect(inner.gets.filter((k) => k.endsWith('.slab'))).toHaveLength(1);
    expect(inner.gets.filter((k) => k.includes('manifest'))).toHaveLength(3);
    expect(store.cache.stats()).toMatchObject({ misses: 1, memoryHits: 2 });
  });

  it('with writeThrough, caches a slab as it is written', async () => {
    const inner = counting(new MemoryObjectStore());
    const store = withCache(inner, { writeThrough: true });
    const data = bytes(50);
    const meta = await store.putIfAbsent('a.slab', data);
    data.fill(0); // the cache holds its own copy
    const body = await store.get('a.slab');
    expect(inner.gets).toHaveLength(0);
    expect(body?.etag).toBe(meta.etag);
    expect(body?.data).toEqual((await inner.get('a.slab'))?.data);
  });

  it('drops a key on delete', async () => {
    const store = withCache(new MemoryObjectStore());
    await store.put('a.slab', bytes(5));
    await store.get('a.slab');
    await store.delete('a.slab');
    expect(await store.get('a.slab')).toBeNull();
  });
});
