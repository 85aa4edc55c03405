import { describe, expect, it } from 'vitest';
import { MemoryObjectStore } from './memory-store.ts';
import { objectStoreContract } from './testing/contract.ts';

objectStoreContract('MemoryObjectStore', async () => ({ store: new MemoryObjectStore() }));

describe('MemoryObjectStore', () => {
  it('rejects a non-positive or fractional list limit', async () => {
    const store = new MemoryObjectStore();
    await expect(store.list('', { limit: 0 })).rejects.toThrow(RangeError);
    await expect(store.list('', { limit: 1.5 })).rejects.toThrow(RangeError);
  });

  it('rejects a negative byte range', async () => {
    const store = new MemoryObjectStore();
    await store.put('a', new Uint8Array(4));
    await expect(store.getRange('a', -1, 2)).rejects.toThrow(RangeError);
  });

  it('never reuses an etag, even for the same bytes after delete', async () => {
    const store = new MemoryObjectStore();
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      seen.add((await store.put('k', new Uint8Array([1]))).etag);
      if (i % 10 === 0) await store.delete('k');
    }
    expect(seen.size).toBe(50);
  });
});
