import { FencedError } from '@conifer/core';
import { ManifestStore } from '@conifer/manifest';
import { MemoryObjectStore, type ObjectStore } from '@conifer/storage';
import { describe, expect, it } from 'vitest';
import { Engine } from './engine.ts';
import { namespacePrefix } from './layout.ts';

/**
 * Two writers of one namespace, as two nodes of a cluster are when ownership moves: the new owner
 * takes over with a higher writer epoch, replays the log tail, and the old one acknowledges
 * nothing from then on — even a write it had already sent to the store when it stalled.
 */
const index = { id: 'idx_takeover', dimension: 2, metric: 'euclidean' as const };
const config = { tickMs: 3_600_000, gcGraceMs: 0 };
const record = (id: string, v: number) => ({ id, values: [v, v] });

/** Holds every log write of one writer at the store until released (a paused process: the fault a real store cannot stage). */
function pausable(store: ObjectStore): { store: ObjectStore; pause: () => Promise<void>; release: () => void } {
  let paused = false;
  let reached: () => void = () => undefined;
  let reachedP = new Promise<void>((r) => (reached = r));
  let release: () => void = () => undefined;
  let gate = Promise.resolve();
  return {
    store: {
      get: (k) => store.get(k),
      getRange: (k, s, e) => store.getRange(k, s, e),
      head: (k) => store.head(k),
      put: (k, d) => store.put(k, d),
      putIfAbsent: async (k, d) => {
        if (paused && k.includes('/log/')) {
          reached();
          await gate;
        }
        return store.putIfAbsent(k, d);
      },
      putIfMatch: (k, d, t) => store.putIfMatch(k, d, t),
      delete: (k) => store.delete(k),
      list: (p, o) => store.list(p, o),
    },
    pause: () => {
      paused = true;
      gate = new Promise((r) => (release = r));
      reachedP = new Promise((r) => (reached = r));
      return reachedP;
    },
    release: () => {
      paused = false;
      release();
    },
  };
}

async function latestManifest(store: ObjectStore, namespace: string) {
  return new ManifestStore(store, `${namespacePrefix(index.id, namespace)}manifest/`).latest();
}

describe('write ownership', () => {
  it('takes a namespace over on the first write with a higher writer epoch; opening it to read writes nothing', async () => {
    const store = new MemoryObjectStore();
    const a = new Engine({ store, config });
    const b = new Engine({ store, config });
    try {
      await a.upsert(index, 'ns', [record('x', 1)]);
      expect((await latestManifest(store, 'ns')).writerEpoch).toBe(1);
      // b reads: its view is built, nothing is committed.
      expect(Object.keys((await b.fetch(index, 'ns', ['x'])).records)).toEqual(['x']);
      expect((await latestManifest(store, 'ns')).writerEpoch).toBe(1);
      // a keeps writing after b opened its view; b's first write takes over and replays a's tail.
      await a.upsert(index, 'ns', [record('y', 2)]);
      await b.upsert(index, 'ns', [record('z', 3)]);
      expect((await latestManifest(store, 'ns')).writerEpoch).toBe(2);
      expect(Object.keys((await b.fetch(index, 'ns', ['x', 'y', 'z'])).records).sort()).toEqual(['x', 'y', 'z']);
      // a is fenced: its next write is refused without writing, then a reopens and takes over again.
      const refused = await a.upsert(index, 'ns', [record('w', 4)]).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(FencedError);
      expect((refused as FencedError).written).toBe(false);
      await a.upsert(index, 'ns', [record('w', 4)]);
      expect((await latestManifest(store, 'ns')).writerEpoch).toBe(3);
      expect(Object.keys((await a.fetch(index, 'ns', ['x', 'y', 'z', 'w'])).records).sort()).toEqual(['w', 'x', 'y', 'z']);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a writer paused inside a log write acknowledges nothing once another writer took over, flushed and collected the log', async () => {
    const store = new MemoryObjectStore();
    const paused = pausable(store);
    const zombie = new Engine({ store: paused.store, config });
    const owner = new Engine({ store, config });
    try {
      await zombie.upsert(index, 'ns', [record('a', 1)]);
      // The zombie passes its fence check, then stalls before its log object lands.
      const reached = paused.pause();
      const stalled = zombie.upsert(index, 'ns', [record('lost', 9)]).then(
        () => 'acknowledged',
        (e: unknown) => e,
      );
      await reached;
      // Meanwhile the new owner takes over, writes past the zombie's LSN, flushes and collects:
      // the log key the zombie is about to write no longer exists.
      await owner.upsert(index, 'ns', [record('b', 2)]);
      await owner.upsert(index, 'ns', [record('c', 3)]);
      await owner.flush(index, 'ns');
      const logLeft = await store.list(`${namespacePrefix(index.id, 'ns')}log/`);
      expect(logLeft.objects).toEqual([]);
      paused.release();
      const outcome = await stalled;
      expect(outcome).toBeInstanceOf(FencedError);
      expect((outcome as FencedError).written).toBe(true);
      // Whatever became of the unacknowledged write, every acknowledged one is there.
      const fresh = new Engine({ store, config });
      try {
        const { records } = await fresh.fetch(index, 'ns', ['a', 'b', 'c']);
        expect(Object.keys(records).sort()).toEqual(['a', 'b', 'c']);
      } finally {
        await fresh.close();
      }
    } finally {
      await owner.close();
      await zombie.close();
    }
  });

  it('flushes and compactions keep the owner’s epoch: they never fence the writer', async () => {
    const store = new MemoryObjectStore();
    const engine = new Engine({ store, config: { ...config, memtableMaxRecords: 2, compaction: { trigger: 2, maxMerge: 4 } } });
    try {
      for (let i = 0; i < 12; i++) await engine.upsert(index, 'ns', [record(`r${i}`, i), record(`s${i}`, i)]);
      await engine.flush(index, 'ns');
      const described = await engine.describeNamespace(index, 'ns');
      expect(described.compactions).toBeGreaterThan(0);
      expect(described.manifestVersion).toBeGreaterThan(5);
      expect((await latestManifest(store, 'ns')).writerEpoch).toBe(1);
    } finally {
      await engine.close();
    }
  });
});
