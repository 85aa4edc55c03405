import { AlreadyExistsError } from '@conifer/core';
import { ManifestStore } from '@conifer/manifest';
import { listAll, MemoryObjectStore, type ObjectStore } from '@conifer/storage';
import { afterEach, describe, expect, it } from 'vitest';
import type { RecordInput } from './data-plane.ts';
import { Engine } from './engine.ts';
import { namespacePrefix } from './layout.ts';

const index = { id: 'idx_import', dimension: 2, metric: 'euclidean' as const };
const config = { tickMs: 3_600_000, gcGraceMs: 0 };
const rec = (id: string, v: number, metadata?: RecordInput['metadata']): RecordInput => ({ id, values: [v, v], ...(metadata ? { metadata } : {}) });

async function* batchesOf(...batches: RecordInput[][]): AsyncGenerator<RecordInput[]> {
  for (const b of batches) yield b;
}

async function keys(store: ObjectStore, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const meta of listAll(store, prefix)) out.push(meta.key);
  return out;
}

const engines: Engine[] = [];
function engineOn(store: ObjectStore): Engine {
  const engine = new Engine({ store, config });
  engines.push(engine);
  return engine;
}

afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close()));
});

describe('Engine.importNamespace', () => {
  it('writes batches straight into L0 slabs and a first manifest: query, fetch and list see them; no log is written', async () => {
    const store = new MemoryObjectStore();
    const engine = engineOn(store);
    const batches = [
      [rec('a', 1, { genre: 'x' }), rec('b', 2)],
      [rec('c', 3), rec('d', 4, { genre: 'y' })],
    ];
    const seen: number[] = [];
    const result = await engine.importNamespace(index, 'ns', batchesOf(...batches), { onBatch: (n) => seen.push(n) });
    expect(result).toEqual({ records: 4, slabs: 2 });
    expect(seen).toEqual([2, 2]);

    const prefix = namespacePrefix(index.id, 'ns');
    const manifest = await new ManifestStore(store, `${prefix}manifest/`).latest();
    expect(manifest.version).toBeGreaterThanOrEqual(1);
    const first = (await new ManifestStore(store, `${prefix}manifest/`).read(1))!;
    expect(first).toMatchObject({ version: 1, writerEpoch: 1, flushedLsn: 2 });
    expect(first.slabs.map((s) => [s.minLsn, s.maxLsn, s.level])).toEqual([
      [1, 1, 0],
      [2, 2, 0],
    ]);
    expect(await keys(store, `${prefix}log/`)).toEqual([]);

    expect(await engine.namespaceNames(index)).toEqual(['ns']);
    const fetched = await engine.fetch(index, 'ns', ['a', 'd', 'zz']);
    expect(Object.keys(fetched.records).sort()).toEqual(['a', 'd']);
    expect(fetched.records['d']!.metadata).toEqual({ genre: 'y' });
    const query = await engine.query(index, 'ns', { topK: 2, vector: [4, 4], includeMetadata: true });
    expect(query.matches.map((m) => m.id)).toEqual(['d', 'c']);
    const filtered = await engine.query(index, 'ns', { topK: 5, vector: [0, 0], filter: { genre: 'x' } });
    expect(filtered.matches.map((m) => m.id)).toEqual(['a']);
    const page = await engine.list(index, 'ns', { limit: 10 });
    expect(page.ids).toEqual(['a', 'b', 'c', 'd']);
    const stats = await engine.namespaceStats(index, 'ns');
    expect(stats.recordCount).toBe(4);
  });

  it('keeps the last occurrence of an id within a batch, and a later batch wins over an earlier one', async () => {
    const engine = engineOn(new MemoryObjectStore());
    await engine.importNamespace(index, 'dups', batchesOf([rec('a', 1), rec('b', 2), rec('a', 5)], [rec('b', 9)]));
    const fetched = await engine.fetch(index, 'dups', ['a', 'b']);
    expect(fetched.records['a']!.values).toEqual([5, 5]);
    expect(fetched.records['b']!.values).toEqual([9, 9]);
    expect((await engine.namespaceStats(index, 'dups')).recordCount).toBe(2);
  });

  it('refuses a namespace that exists: written, created empty, or already imported', async () => {
    const engine = engineOn(new MemoryObjectStore());
    await engine.upsert(index, 'written', [rec('x', 1)]);
    await engine.createNamespace(index, 'created');
    await engine.importNamespace(index, 'imported', batchesOf([rec('a', 1)]));
    for (const ns of ['written', 'created', 'imported']) {
      await expect(engine.importNamespace(index, ns, batchesOf([rec('a', 1)]))).rejects.toBeInstanceOf(AlreadyExistsError);
    }
    expect((await engine.fetch(index, 'written', ['x', 'a'])).records['a']).toBeUndefined();
  });

  it('loses to a write that created the namespace while it was staged, and deletes its slabs', async () => {
    const store = new MemoryObjectStore();
    const engine = engineOn(store);
    const staged = await engine.stageImport(index, 'race', batchesOf([rec('a', 1)], [rec('b', 2)]));
    expect(await keys(store, `${namespacePrefix(index.id, 'race')}slabs/`)).toHaveLength(2);
    await engine.upsert(index, 'race', [rec('w', 7)]);
    await expect(staged.commit()).rejects.toBeInstanceOf(AlreadyExistsError);
    const fetched = await engine.fetch(index, 'race', ['a', 'b', 'w']);
    expect(Object.keys(fetched.records)).toEqual(['w']);
    await engine.flush(index, 'race');
    const slabs = await keys(store, `${namespacePrefix(index.id, 'race')}slabs/`);
    const manifest = await new ManifestStore(store, `${namespacePrefix(index.id, 'race')}manifest/`).latest();
    expect(slabs.map((k) => k.slice(k.lastIndexOf('/') + 1, -'.slab'.length)).sort()).toEqual(manifest.slabs.map((s) => s.id).sort());
  });

  it('an aborted import deletes the slabs it wrote and creates nothing', async () => {
    const store = new MemoryObjectStore();
    const engine = engineOn(store);
    const controller = new AbortController();
    async function* slowBatches(): AsyncGenerator<RecordInput[]> {
      yield [rec('a', 1)];
      yield [rec('b', 2)];
      controller.abort(new Error('cancelled by the test'));
      yield [rec('c', 3)];
    }
    await expect(engine.importNamespace(index, 'cancelled', slowBatches(), { signal: controller.signal })).rejects.toThrow('cancelled by the test');
    expect(await keys(store, namespacePrefix(index.id, 'cancelled'))).toEqual([]);
    expect(await engine.namespaceNames(index)).toEqual([]);
    // Nothing left behind: the same import can run again.
    await engine.importNamespace(index, 'cancelled', batchesOf([rec('a', 1)]));
    expect((await engine.namespaceStats(index, 'cancelled')).recordCount).toBe(1);
  });

  it('a discarded staged import deletes its slabs; a reader that opened the missing namespace sees the import once committed', async () => {
    const store = new MemoryObjectStore();
    const engine = engineOn(store);
    expect((await engine.query(index, 'later', { topK: 1, vector: [1, 1] })).matches).toEqual([]);
    const discarded = await engine.stageImport(index, 'later', batchesOf([rec('a', 1)]));
    await discarded.discard();
    expect(await keys(store, namespacePrefix(index.id, 'later'))).toEqual([]);
    await engine.importNamespace(index, 'later', batchesOf([rec('z', 1)]));
    expect((await engine.query(index, 'later', { topK: 1, vector: [1, 1] })).matches.map((m) => m.id)).toEqual(['z']);
  });

  it('after a restart the imported data is read from the store, and new writes get higher LSNs and win', async () => {
    const store = new MemoryObjectStore();
    const first = engineOn(store);
    await first.importNamespace(index, 'ns', batchesOf([rec('a', 1), rec('b', 2)], [rec('c', 3)]));
    first.abandon();

    const second = engineOn(store);
    const fetched = await second.fetch(index, 'ns', ['a', 'b', 'c']);
    expect(Object.keys(fetched.records).sort()).toEqual(['a', 'b', 'c']);
    const written = await second.upsert(index, 'ns', [rec('a', 100)]);
    expect(written.lsn).toBeGreaterThan(2);
    expect((await second.fetch(index, 'ns', ['a'])).records['a']!.values).toEqual([100, 100]);
    await second.delete(index, 'ns', { ids: ['b'] });
    await second.flush(index, 'ns');
    await second.close();

    const third = engineOn(store);
    const after = await third.fetch(index, 'ns', ['a', 'b', 'c']);
    expect(after.records['a']!.values).toEqual([100, 100]);
    expect(after.records['b']).toBeUndefined();
    expect(after.records['c']!.values).toEqual([3, 3]);
  });

  it('compacts the imported L0 slabs after the commit, as it would flushed ones', async () => {
    const store = new MemoryObjectStore();
    const engine = engineOn(store); // merges 4 slabs of one level (the default policy)
    const batches = Array.from({ length: 4 }, (_, b) => Array.from({ length: 10 }, (_, i) => rec(`r${b * 10 + i}`, b * 10 + i + 1)));
    await engine.importNamespace(index, 'compacted', batchesOf(...batches));
    await engine.flush(index, 'compacted');
    const manifest = await new ManifestStore(store, `${namespacePrefix(index.id, 'compacted')}manifest/`).latest();
    expect(manifest.slabs.length).toBeLessThan(4);
    expect((await engine.namespaceStats(index, 'compacted')).recordCount).toBe(40);
  });

  it('deletes slabs an interrupted import left under a namespace without a manifest before it imports again', async () => {
    const store = new MemoryObjectStore();
    const prefix = namespacePrefix(index.id, 'left');
    await store.put(`${prefix}slabs/000000001-aaaaaaaa.slab`, new Uint8Array([1, 2, 3]));
    const engine = engineOn(store);
    await engine.importNamespace(index, 'left', batchesOf([rec('a', 1)]));
    const slabs = await keys(store, `${prefix}slabs/`);
    expect(slabs).not.toContain(`${prefix}slabs/000000001-aaaaaaaa.slab`);
    expect((await engine.namespaceStats(index, 'left')).recordCount).toBe(1);
  });

  it('a crash between staging and the commit leaves only unreferenced slabs: invisible, and removed by the next import', async () => {
    const store = new MemoryObjectStore();
    const crashed = engineOn(store);
    await crashed.stageImport(index, 'crash', batchesOf([rec('a', 1)], [rec('b', 2)]));
    crashed.abandon(); // kill -9: neither committed nor discarded
    const prefix = namespacePrefix(index.id, 'crash');
    const left = await keys(store, `${prefix}slabs/`);
    expect(left).toHaveLength(2);

    const restarted = engineOn(store);
    expect(await restarted.namespaceNames(index)).toEqual([]);
    expect((await restarted.fetch(index, 'crash', ['a', 'b'])).records).toEqual({});
    await restarted.importNamespace(index, 'crash', batchesOf([rec('c', 3)]));
    const slabs = await keys(store, `${prefix}slabs/`);
    for (const key of left) expect(slabs).not.toContain(key);
    const fetched = await restarted.fetch(index, 'crash', ['a', 'b', 'c']);
    expect(Object.keys(fetched.records)).toEqual(['c']);
  });

  it('validates records as an upsert does (dimension)', async () => {
    const store = new MemoryObjectStore();
    const engine = engineOn(store);
    await expect(engine.importNamespace(index, 'bad', batchesOf([rec('a', 1)], [{ id: 'b', values: [1, 2, 3] }]))).rejects.toThrow(/dimension/);
    expect(await keys(store, namespacePrefix(index.id, 'bad'))).toEqual([]);
  });
});
