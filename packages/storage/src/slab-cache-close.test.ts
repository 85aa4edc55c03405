/**
 * close() waits for the disk deletes that its own pending writes cause. A fake, and it says so:
 * `unlink` is slowed down (a slow or busy disk), which a real local disk does only by chance —
 * once in a CI run, where close() returned with an evicted object's files still on disk.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { MemoryObjectStore } from './memory-store.ts';
import { SlabCache } from './slab-cache.ts';

vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  const slowUnlink: typeof fs.unlink = async (path) => {
    await new Promise((resolve) => setTimeout(resolve, 50));
    return fs.unlink(path);
  };
  return { ...fs, default: { ...fs, unlink: slowUnlink }, unlink: slowUnlink };
});

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slab-cache-close-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('close() waits for the unlinks of objects that a pending disk write evicted', async () => {
  const store = new MemoryObjectStore();
  for (const k of ['a', 'b', 'c']) await store.put(`${k}.slab`, new Uint8Array(randomBytes(400)));
  const cache = new SlabCache(store, { memoryBytes: 500, diskBytes: 1000, dir });
  await cache.get('a.slab');
  await cache.get('b.slab');
  await cache.close(); // a and b on disk: 800 of 1000 bytes
  await cache.get('c.slab'); // its disk write evicts a, whose files are unlinked (slowly)
  await cache.close();
  const stats = cache.stats();
  expect(stats.diskEvictions).toBe(1);
  const files = await readdir(dir);
  expect(files.filter((f) => f.endsWith('.obj'))).toHaveLength(stats.diskEntries);
  expect(files.filter((f) => f.endsWith('.meta'))).toHaveLength(stats.diskEntries);
  expect(stats.diskEntries).toBe(2);
});
