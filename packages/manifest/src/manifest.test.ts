import { MemoryObjectStore, type ListOptions, type ObjectStore } from '@conifer/storage';
import { describe, expect, it } from 'vitest';
import { checkManifestInvariants, EMPTY_MANIFEST, ManifestConflictError, manifestKey, ManifestStore } from './manifest.ts';

describe('manifest', () => {
  it('moves by create-if-absent versions; a stale writer gets a conflict', async () => {
    const store = new MemoryObjectStore();
    const manifests = new ManifestStore(store, 'x/manifest/');
    expect(await manifests.latest()).toEqual(EMPTY_MANIFEST);
    const v1 = await manifests.commit(EMPTY_MANIFEST, {
      flushedLsn: 5,
      slabs: [{ id: 's1', level: 0, count: 2, tombstones: 0, bytes: 10, minLsn: 1, maxLsn: 5 }],
    });
    expect(v1.version).toBe(1);
    await expect(manifests.commit(EMPTY_MANIFEST, { flushedLsn: 3, slabs: [] })).rejects.toThrow(ManifestConflictError);
    expect((await manifests.latest()).version).toBe(1);
  });

  it('latest() lists again when the newest listed version is collected before it is read, never falling back', async () => {
    const memory = new MemoryObjectStore();
    const writer = new ManifestStore(memory, 'x/manifest/');
    let m = EMPTY_MANIFEST;
    for (let i = 1; i <= 3; i++) m = await writer.commit(m, { flushedLsn: i, slabs: [] });
    // A wrapper, because the interleaving cannot be forced on a real store: right after the
    // first listing, the writer commits version 4 and GC deletes versions 1–3.
    let listings = 0;
    const racing = {
      get: (k) => memory.get(k),
      putIfAbsent: (k, d) => memory.putIfAbsent(k, d),
      delete: (k) => memory.delete(k),
      list: async (p, o) => {
        const page = await memory.list(p, o);
        if (++listings === 1) {
          await writer.commit(m, { flushedLsn: 4, slabs: [] });
          for (let v = 1; v <= 3; v++) await memory.delete(manifestKey('x/manifest/', v));
        }
        return page;
      },
    } as ObjectStore;
    const latest = await new ManifestStore(racing, 'x/manifest/').latest();
    expect(latest.version).toBe(4);
    expect(listings).toBe(2);
  });

  it('latest() fails clearly when a listed version stays unreadable', async () => {
    const memory = new MemoryObjectStore();
    await new ManifestStore(memory, 'x/manifest/').commit(EMPTY_MANIFEST, { flushedLsn: 1, slabs: [] });
    const unreadable = { get: async () => null, list: (p: string, o?: ListOptions) => memory.list(p, o) } as unknown as ObjectStore;
    await expect(new ManifestStore(unreadable, 'x/manifest/').latest()).rejects.toThrow(/version 1 .* listed but cannot be read/);
  });

  it('checks invariants', () => {
    const base = { version: 1, writerEpoch: 0, writtenAt: '', flushedLsn: 10 };
    expect(() => checkManifestInvariants({ ...base, slabs: [{ id: 'a', level: 0, count: 1, tombstones: 0, bytes: 1, minLsn: 5, maxLsn: 11 }] })).toThrow(
      /beyond/,
    );
    expect(() =>
      checkManifestInvariants({
        ...base,
        slabs: [
          { id: 'a', level: 0, count: 1, tombstones: 0, bytes: 1, minLsn: 1, maxLsn: 5 },
          { id: 'b', level: 0, count: 1, tombstones: 0, bytes: 1, minLsn: 5, maxLsn: 6 },
        ],
      }),
    ).toThrow(/overlaps/);
  });
});
