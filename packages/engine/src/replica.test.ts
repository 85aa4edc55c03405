import fc from 'fast-check';
import { ManualClock, UnavailableError } from '@conifer/core';
import { MemoryObjectStore, type ObjectStore } from '@conifer/storage';
import { describe, expect, it } from 'vitest';
import { Engine } from './engine.ts';
import { ReplicaEngine } from './replica-engine.ts';
import { PageCache } from '@conifer/slab';

/**
 * A query replica reads the store, never its writer: whatever the writer did — writes, flushes,
 * compactions, GC with no grace, deleteAll, a namespace deleted and written again — a strong read
 * of the replica answers what the writer answers, and says the same LSN.
 */
const index = { id: 'idx_replica', dimension: 2, metric: 'euclidean' as const };
const writerConfig = { tickMs: 3_600_000, gcGraceMs: 0, memtableMaxRecords: 6, compaction: { trigger: 2, maxMerge: 3 } };
const ids = Array.from({ length: 12 }, (_, i) => `k${i}`);

/** `store`, counting the calls made through it. */
function counting(store: ObjectStore): { store: ObjectStore; calls: () => number } {
  let calls = 0;
  const proxy = new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls++;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, calls: () => calls };
}

/** Moves the clock in steps, letting each step's refreshes finish. */
async function advance(clock: ManualClock, ms: number): Promise<void> {
  for (let done = 0; done < ms; done += 50) {
    clock.advance(50);
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  }
}

describe('query replicas', () => {
  it('stop reading the store for a namespace nobody reads, and refresh it before its next read', async () => {
    const store = new MemoryObjectStore();
    const seen = counting(store);
    const clock = new ManualClock(1_000_000);
    const writer = new Engine({ store, config: writerConfig });
    const replica = new ReplicaEngine({ store: seen.store, clock, config: { replicaRefreshMs: 100, replicaIdleMs: 1_000 } });
    try {
      await writer.upsert(index, 'ns', [{ id: 'a', values: [1, 1] }]);
      expect((await replica.fetch(index, 'ns', ['a'])).records['a']).toBeDefined();
      // Read lately: refreshed in the background.
      let calls = seen.calls();
      await advance(clock, 500);
      expect(seen.calls()).toBeGreaterThan(calls);
      // Idle past replicaIdleMs: no more store calls for it.
      await advance(clock, 1_000);
      calls = seen.calls();
      await advance(clock, 5_000);
      expect(seen.calls()).toBe(calls);
      // A write meanwhile is seen by the next default read, which refreshes first.
      const { lsn } = await writer.upsert(index, 'ns', [{ id: 'b', values: [2, 2] }]);
      const read = await replica.fetch(index, 'ns', ['b']);
      expect(read.records['b']).toBeDefined();
      expect(read.indexedLsn).toBe(lsn);
      // Read again: refreshed in the background again.
      calls = seen.calls();
      await advance(clock, 300);
      expect(seen.calls()).toBeGreaterThan(calls);
    } finally {
      await replica.close();
      await writer.close();
    }
  });

  it('answers what the writer acknowledged: eventually by itself, at once when strong, and waits for a minLsn', async () => {
    const store = new MemoryObjectStore();
    const writer = new Engine({ store, config: writerConfig });
    const replica = new ReplicaEngine({ store, config: { replicaRefreshMs: 20, minLsnWaitMs: 300 } });
    try {
      const { lsn } = await writer.upsert(index, 'ns', [{ id: 'a', values: [1, 1] }]);
      // A replica that opens on the namespace loads everything there is before answering.
      expect(await replica.fetch(index, 'ns', ['a'])).toMatchObject({ records: { a: { id: 'a' } }, indexedLsn: lsn });
      const second = await writer.upsert(index, 'ns', [{ id: 'b', values: [2, 2] }]);
      // Eventual: visible after a background refresh.
      const started = Date.now();
      while (!(await replica.fetch(index, 'ns', ['b'])).records['b']) {
        expect(Date.now() - started).toBeLessThan(2_000);
        await new Promise((r) => setTimeout(r, 5));
      }
      // Strong: refreshed before answering.
      const third = await writer.upsert(index, 'ns', [{ id: 'c', values: [3, 3] }]);
      const strong = await replica.fetch(index, 'ns', ['c'], { consistency: 'strong' });
      expect(strong.records['c']).toBeDefined();
      expect(strong.indexedLsn).toBe(third.lsn);
      expect(second.lsn).toBeLessThan(third.lsn);
      // Read-your-writes: a minLsn the store has is reached; one nobody wrote is a 503 after the wait.
      const fourth = await writer.upsert(index, 'ns', [{ id: 'd', values: [4, 4] }]);
      expect((await replica.fetch(index, 'ns', ['d'], { minLsn: fourth.lsn })).records['d']).toBeDefined();
      const refused = await replica.fetch(index, 'ns', ['d'], { minLsn: fourth.lsn + 10 }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(UnavailableError);
      expect((refused as Error).message).toMatch(/reached LSN \d+ on this node, not \d+/);
      // Writes are the writer's.
      await expect(replica.upsert()).rejects.toThrow(/serves reads only/);
    } finally {
      await replica.close();
      await writer.close();
    }
  });

  // 60 random sequences of up to 40 operations: about 2 s alone, over 5 s (the default timeout)
  // when CI runs other projects' suites beside it.
  it('matches the writer after any sequence of writes, flushes, compactions, collections and deletions', { timeout: 30_000 }, async () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('upsert' as const),
        keys: fc.uniqueArray(fc.constantFrom(...ids), { minLength: 1, maxLength: 5 }),
        v: fc.integer({ min: -50, max: 50 }),
      }),
      fc.record({ kind: fc.constant('delete' as const), keys: fc.uniqueArray(fc.constantFrom(...ids), { minLength: 1, maxLength: 3 }) }),
      fc.record({ kind: fc.constant('update' as const), key: fc.constantFrom(...ids), v: fc.integer({ min: -50, max: 50 }) }),
      fc.constant({ kind: 'deleteAll' as const }),
      fc.constant({ kind: 'flush' as const }),
      fc.constant({ kind: 'deleteNamespace' as const }),
      fc.constant({ kind: 'check' as const }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), fc.boolean(), async (ops, ranged) => {
        const store = new MemoryObjectStore();
        // Ranged: every slab read by range, through no page cache, on both sides.
        const pages = () => (ranged ? { pages: new PageCache(0, { wholeUpTo: 0 }) } : {});
        const writer = new Engine({ store, config: writerConfig, ...pages() });
        // Background refreshes off: only strong reads move the replica, so the check is exact.
        const replica = new ReplicaEngine({ store, config: { replicaRefreshMs: 3_600_000 }, ...pages() });
        const check = async () => {
          const expected = await writer.fetch(index, 'ns', ids);
          const got = await replica.fetch(index, 'ns', ids, { consistency: 'strong' });
          expect(got).toEqual(expected);
          const page = await replica.list(index, 'ns', { limit: 100 }, { consistency: 'strong' });
          expect(page).toEqual(await writer.list(index, 'ns', { limit: 100 }));
        };
        try {
          await writer.upsert(index, 'ns', [{ id: 'seed', values: [0, 0] }]);
          await check();
          for (const o of ops) {
            if (o.kind === 'upsert')
              await writer.upsert(
                index,
                'ns',
                o.keys.map((id) => ({ id, values: [o.v, id.length] })),
              );
            else if (o.kind === 'delete') await writer.delete(index, 'ns', { ids: o.keys });
            // Even: a new vector; odd: metadata only (the vector is kept, read from its slab).
            else if (o.kind === 'update')
              await writer.update(index, 'ns', o.v % 2 === 0 ? { id: o.key, values: [o.v, -o.v] } : { id: o.key, setMetadata: { v: o.v } });
            else if (o.kind === 'deleteAll') await writer.delete(index, 'ns', { deleteAll: true });
            else if (o.kind === 'flush') await writer.flush(index, 'ns');
            else if (o.kind === 'deleteNamespace') await writer.deleteNamespace(index, 'ns').catch(() => undefined);
            else await check();
          }
          await check();
        } finally {
          await replica.close();
          await writer.close();
        }
      }),
      { numRuns: 60 },
    );
  });
});
