import { MemoryObjectStore } from '@conifer/storage';
import { describe, expect, it } from 'vitest';
import { checkManifestInvariants, EMPTY_MANIFEST, ManifestConflictError, ManifestStore } from './manifest.ts';

describe('manifest', () => {
  it('moves by create-if-absent versions; a stale writer gets a conflict', async () => {
    const store = new MemoryObjectStore();
    const manifests = new ManifestStore(store, 'x/manifest/');
    expect(await manifests.latest()).toEqual(EMPTY_MANIFEST);
    const v1 = await manifests.commit(EMPTY_MANIFEST, { flushedLsn: 5, slabs: [{ id: 's1', level: 0, count: 2, tombstones: 0, bytes: 10, minLsn: 1, maxLsn: 5 }] });
    expect(v1.version).toBe(1);
    await expect(manifests.commit(EMPTY_MANIFEST, { flushedLsn: 3, slabs: [] })).rejects.toThrow(ManifestConflictError);
    expect((await manifests.latest()).version).toBe(1);
  });

  it('checks invariants', () => {
    const base = { version: 1, writtenAt: '', flushedLsn: 10 };
    expect(() => checkManifestInvariants({ ...base, slabs: [{ id: 'a', level: 0, count: 1, tombstones: 0, bytes: 1, minLsn: 5, maxLsn: 11 }] })).toThrow(/beyond/);
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

