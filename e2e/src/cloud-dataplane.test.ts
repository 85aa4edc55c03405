import { UnavailableError } from '@conifer/core';
import { Engine } from '@conifer/engine';
import { listAll, withCache } from '@conifer/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOUDS, cloudStore, EMULATOR_STARTUP_TIMEOUT_MS, freshPrefix, newIndex, startEmulators, vec, type Emulators } from './emulators.ts';

/**
 * The data plane on each cloud's emulator, through the same adapters and URL settings a server
 * uses: writes survive close and reopen; two engines on one prefix (two "servers") never corrupt
 * the namespace; flush and compaction put slabs and manifests in the bucket and a reopen reads
 * them back (through the slab cache).
 */

let emulators: Emulators;
beforeAll(async () => {
  emulators = await startEmulators(CLOUDS);
}, EMULATOR_STARTUP_TIMEOUT_MS);
afterAll(async () => {
  await emulators?.stop();
});

/** The engine's top k are live records, at exactly the brute-force distances (ties may come in any order). */
function expectTopK(ids: string[], records: Map<string, number[]>, query: number[], k: number): void {
  const dist = (v: number[]) => Number(v.reduce((s, x, i) => s + (x - query[i]!) ** 2, 0).toFixed(4));
  const best = [...records.values()]
    .map(dist)
    .sort((a, b) => a - b)
    .slice(0, k);
  expect(ids.every((id) => records.has(id))).toBe(true);
  expect(ids.map((id) => dist(records.get(id)!))).toEqual(best);
}

describe.each(CLOUDS)('data plane on %s', (cloud) => {
  it('write → close → reopen → read', async () => {
    const prefix = freshPrefix('reopen');
    const index = newIndex();
    const first = new Engine({ store: cloudStore(emulators, cloud, prefix) });
    const expected = new Map<string, number[]>();
    for (let b = 0; b < 3; b++) {
      const records = Array.from({ length: 10 }, (_, j) => ({ id: `r${b * 10 + j}`, values: vec(b * 10 + j), metadata: { batch: b } }));
      await first.upsert(index, 'ns', records);
      for (const r of records) expected.set(r.id, r.values);
    }
    await first.delete(index, 'ns', { ids: ['r5'] });
    expected.delete('r5');
    await first.update(index, 'ns', { id: 'r6', setMetadata: { batch: 99 } });
    await first.close();

    const second = new Engine({ store: cloudStore(emulators, cloud, prefix) });
    const fetched = await second.fetch(
      index,
      'ns',
      Array.from({ length: 30 }, (_, i) => `r${i}`),
    );
    expect(Object.keys(fetched.records).sort()).toEqual([...expected.keys()].sort());
    for (const [id, values] of expected) expect(fetched.records[id]!.values).toEqual(values);
    expect(fetched.records.r6!.metadata).toEqual({ batch: 99 });
    const query = [0.31, 1.17, -0.53, 0.9];
    const result = await second.query(index, 'ns', { topK: 5, vector: query });
    expectTopK(
      result.matches.map((m) => m.id),
      expected,
      query,
      5,
    );
    expect((await second.describeNamespace(index, 'ns')).writtenLsn).toBe(5);
    await second.close();
  });

  it.each([
    ['log only', {}],
    ['with flushes racing for the manifest', { memtableMaxRecords: 6, compaction: { trigger: 2, maxMerge: 4 } }],
  ])('two engines writing one namespace concurrently (%s): no lost write, no duplicate LSN, no gap', async (_label, config) => {
    const prefix = freshPrefix('writers');
    const index = newIndex();
    const engines = [0, 1].map(() => new Engine({ store: cloudStore(emulators, cloud, prefix), config }));
    const acked = new Map<string, { lsn: number; values: number[] }>();
    const lsnsByWriter: number[][] = [[], []];
    const errors: unknown[] = [];
    const attempted = new Set<string>();
    await Promise.all(
      engines.map(async (engine, w) => {
        for (let i = 0; i < 12; i++) {
          const records = [0, 1].map((j) => ({ id: `w${w}-${i}-${j}`, values: vec(100 * w + 2 * i + j) }));
          records.forEach((r) => attempted.add(r.id));
          try {
            const { lsn } = await engine.upsert(index, 'shared', records);
            lsnsByWriter[w]!.push(lsn);
            for (const r of records) acked.set(r.id, { lsn, values: r.values });
          } catch (err) {
            errors.push(err);
          }
        }
      }),
    );
    // A writer may lose LSN races too often and get a clear, retryable error; nothing else.
    for (const err of errors) expect(err).toBeInstanceOf(UnavailableError);
    expect(lsnsByWriter.every((lsns) => lsns.length > 0) || errors.length > 0).toBe(true);
    // Every acknowledged upsert has its own LSN; each writer's LSNs increase.
    const allLsns = lsnsByWriter.flat();
    expect(new Set(allLsns).size).toBe(allLsns.length);
    for (const lsns of lsnsByWriter) expect(lsns).toEqual([...lsns].sort((a, b) => a - b));
    await Promise.all(engines.map((e) => e.close()));

    // Reopen (a third "server"): the log replays without a gap and holds every acknowledged write.
    const reader = new Engine({ store: cloudStore(emulators, cloud, prefix) });
    const internals = await reader.describeNamespace(index, 'shared');
    const fetched = await reader.fetch(index, 'shared', [...attempted]);
    for (const [id, { values }] of acked) expect(fetched.records[id]?.values, id).toEqual(values);
    for (const id of Object.keys(fetched.records)) expect(attempted.has(id)).toBe(true);
    expect(internals.writtenLsn).toBeGreaterThanOrEqual(Math.max(...allLsns));
    if (errors.length === 0) {
      // Nothing failed: the LSNs are exactly 1..N.
      expect([...allLsns].sort((a, b) => a - b)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
      expect(internals.writtenLsn).toBe(24);
    }
    await reader.close();
  });

  it('flush and compaction write slabs and manifests to the bucket; a reopen reads them back through the slab cache', async () => {
    const prefix = freshPrefix('compaction');
    const index = newIndex();
    const config = { memtableMaxRecords: 20, compaction: { trigger: 2, maxMerge: 4 } };
    const writer = new Engine({ store: cloudStore(emulators, cloud, prefix), config });
    const expected = new Map<string, number[]>();
    for (let b = 0; b < 10; b++) {
      const records = Array.from({ length: 10 }, (_, j) => ({ id: `r${b * 10 + j}`, values: vec(b * 10 + j) }));
      await writer.upsert(index, 'ns', records);
      for (const r of records) expected.set(r.id, r.values);
    }
    // Newest version wins and deletes stick, across slabs and compaction.
    await writer.upsert(index, 'ns', [{ id: 'r3', values: vec(300) }]);
    expected.set('r3', vec(300));
    await writer.delete(index, 'ns', { ids: ['r7'] });
    expected.delete('r7');
    await writer.flush(index, 'ns');
    const internals = await writer.describeNamespace(index, 'ns');
    expect(internals.flushes).toBeGreaterThanOrEqual(5);
    expect(internals.compactions).toBeGreaterThanOrEqual(1);
    expect(internals.slabs.some((s) => s.level > 0)).toBe(true);
    expect(internals.flushedLsn).toBe(internals.writtenLsn);
    await writer.close();

    const store = cloudStore(emulators, cloud, prefix);
    const keys: string[] = [];
    for await (const meta of listAll(store, `${index.id}/`)) keys.push(meta.key);
    expect(keys.filter((k) => k.endsWith('.slab')).length).toBeGreaterThanOrEqual(internals.slabs.length);
    expect(keys.some((k) => k.includes('/manifest/'))).toBe(true);

    // Two reopens on one cached store: the first fetches each slab once, the second none.
    const cached = withCache(store, { memoryBytes: 64 * 1024 * 1024 });
    for (let round = 0; round < 2; round++) {
      const reader = new Engine({ store: cached });
      const fetched = await reader.fetch(
        index,
        'ns',
        Array.from({ length: 100 }, (_, i) => `r${i}`),
      );
      expect(Object.keys(fetched.records).sort()).toEqual([...expected.keys()].sort());
      for (const [id, values] of expected) expect(fetched.records[id]!.values).toEqual(values);
      for (const query of [
        [0.5, 2.2, -3.1, 1],
        [4.4, 0.2, 4.9, 1],
      ]) {
        const result = await reader.query(index, 'ns', { topK: 7, vector: query });
        expectTopK(
          result.matches.map((m) => m.id),
          expected,
          query,
          7,
        );
      }
      const reopened = await reader.describeNamespace(index, 'ns');
      expect(reopened.slabs.map((s) => s.id)).toEqual(internals.slabs.map((s) => s.id));
      await reader.close();
    }
    const stats = cached.cache.stats();
    expect(stats.misses).toBe(internals.slabs.length);
    expect(stats.memoryHits).toBe(internals.slabs.length);
  });
});
