import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { FsObjectStore } from './fs-store.ts';
import { MemoryObjectStore } from './memory-store.ts';
import type { ObjectStore } from './object-store.ts';
import { withParallelReads } from './parallel-reads.ts';
import { objectStoreContract } from './testing/contract.ts';

objectStoreContract('withParallelReads(memory)', async () => ({ store: withParallelReads(new MemoryObjectStore(), { chunkBytes: 1024, streams: 3 }) }));

const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

describe('withParallelReads', () => {
  it('returns exactly the bytes of a whole read, whatever the size, chunk and streams (memory and local disk)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'conifer-parallel-'));
    dirs.push(dir);
    const backends: ObjectStore[] = [new MemoryObjectStore(), new FsObjectStore(dir)];
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 300_000 }),
        fc.integer({ min: 512, max: 70_000 }),
        fc.integer({ min: 1, max: 9 }),
        fc.constantFrom(0, 1),
        async (size, chunkBytes, streams, backend) => {
          const inner = backends[backend]!;
          const data = new Uint8Array(randomBytes(size));
          const key = `idx/ns/slabs/s${size}-${chunkBytes}.slab`;
          await inner.put(key, data);
          const whole = await inner.get(key);
          const parallel = await withParallelReads(inner, { chunkBytes, streams }).get(key);
          expect(parallel?.size).toBe(size);
          expect(parallel?.etag).toBe(whole?.etag);
          expect(Buffer.compare(parallel!.data, whole!.data)).toBe(0);
        },
      ),
      { numRuns: 40 },
    );
  }, 60_000);

  it('reads a missing key as null, and other keys whole', async () => {
    const inner = new MemoryObjectStore();
    const store = withParallelReads(inner, { chunkBytes: 4 });
    expect(await store.get('idx/ns/slabs/none.slab')).toBeNull();
    await inner.put('idx/ns/manifest/1', new Uint8Array(100));
    let ranged = 0;
    const counting: ObjectStore = {
      ...inner,
      get: (k) => inner.get(k),
      getRange: (k, s, e) => (ranged++, inner.getRange(k, s, e)),
      head: (k) => inner.head(k),
      put: (k, d) => inner.put(k, d),
      putIfAbsent: (k, d) => inner.putIfAbsent(k, d),
      putIfMatch: (k, d, t) => inner.putIfMatch(k, d, t),
      delete: (k) => inner.delete(k),
      list: (p, o) => inner.list(p, o),
    };
    expect((await withParallelReads(counting, { chunkBytes: 4 }).get('idx/ns/manifest/1'))?.size).toBe(100);
    expect(ranged).toBe(0); // a manifest is rewritten in place: never read in pieces
  });
});
