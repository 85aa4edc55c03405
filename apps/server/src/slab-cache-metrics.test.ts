import { MemoryObjectStore, withCache } from '@conifer/storage';
import { describe, expect, it } from 'vitest';
import { createMetrics } from './metrics.ts';

describe('slab cache metrics', () => {
  it('exports hits, misses, served bytes and resident bytes of a real cache on /metrics', async () => {
    const store = withCache(new MemoryObjectStore(), { memoryBytes: 1 << 20 });
    await store.put('idx/ns_/slabs/a.slab', new Uint8Array(100));
    expect(await store.get('idx/ns_/slabs/a.slab')).not.toBeNull(); // miss: fetched from the store
    expect(await store.get('idx/ns_/slabs/a.slab')).not.toBeNull(); // hit in memory
    const text = await createMetrics({ slabCache: () => store.cache.stats() }).registry.metrics();
    expect(text).toMatch(/conifer_slab_cache_hits\{tier="memory"\} 1/);
    expect(text).toMatch(/conifer_slab_cache_misses 1/);
    expect(text).toMatch(/conifer_slab_cache_served_bytes\{source="store"\} 100/);
    expect(text).toMatch(/conifer_slab_cache_resident_bytes\{tier="memory"\} 100/);
  });

  it('exports no cache series without a cache (local disk)', async () => {
    expect(await createMetrics().registry.metrics()).not.toContain('conifer_slab_cache');
  });
});
