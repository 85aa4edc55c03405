import { EMPTY_MANIFEST, ManifestStore, type Manifest } from '@conifer/manifest';
import { listAll, MemoryObjectStore, type ObjectStore } from '@conifer/storage';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { IndexHandle, RecordInput } from './data-plane.ts';
import { Engine } from './engine.ts';
import { planGarbageCollection } from './gc-plan.ts';
import { backupPinsPrefix, indexPrefix, namespacePrefix } from './layout.ts';

/**
 * Backups pin slabs (`backup-pins.ts`) and restores copy them (`restore.ts`), against a real
 * engine on an in-memory store: GC, compaction, namespace and index deletion keep what a backup
 * pins, and releasing the last backup deletes what nothing else references.
 */
const source: IndexHandle = { id: 'idx_source', dimension: 2, metric: 'euclidean' };
const target: IndexHandle = { id: 'idx_target', dimension: 2, metric: 'euclidean' };
// Every flush and compaction is followed by a GC that deletes whatever is unreferenced at once.
const config = { tickMs: 3_600_000, gcGraceMs: 0, compaction: { trigger: 2, maxMerge: 8 } };
const rec = (id: string, v: number): RecordInput => ({ id, values: [v, v], metadata: { v } });

async function keys(store: ObjectStore, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const meta of listAll(store, prefix)) out.push(meta.key);
  return out.sort();
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

async function contents(engine: Engine, index: IndexHandle, ns: string): Promise<Record<string, number>> {
  const page = await engine.list(index, ns, { limit: 1000 });
  const fetched = await engine.fetch(index, ns, page.ids);
  return Object.fromEntries(Object.entries(fetched.records).map(([id, r]) => [id, r.values[0]!]));
}

/** Three flushed generations of `ns`, so compaction merges and GC deletes slabs between them. */
async function writeGenerations(engine: Engine, ns: string, from: number): Promise<void> {
  for (let g = 0; g < 3; g++) {
    await engine.upsert(source, ns, [rec(`a${g}`, from + g), rec('hot', from + g)]);
    await engine.flush(source, ns);
  }
}

describe('backups', () => {
  it('keep the slabs they pin through compaction and GC; a restore holds the data at backup time only', async () => {
    const store = new MemoryObjectStore();
    const engine = engineOn(store);
    await writeGenerations(engine, 'ns', 10);
    const atBackup = await contents(engine, source, 'ns');
    // Acknowledged but unflushed writes are in the backup: it flushes first.
    await engine.upsert(source, 'ns', [rec('late', 99)]);
    atBackup['late'] = 99;
    const pin = (await engine.backupNamespace(source, 'ns', 'b1'))!;
    expect(pin.records).toBe(Object.keys(atBackup).length);

    await writeGenerations(engine, 'ns', 50);
    await engine.delete(source, 'ns', { ids: ['late'] });
    await engine.flush(source, 'ns');
    // Compaction has moved the namespace past the pinned slabs: only the pin keeps them.
    const latest = await new ManifestStore(store, `${namespacePrefix(source.id, 'ns')}manifest/`).latest();
    expect(pin.slabs.some((s) => !latest.slabs.some((l) => l.id === s.id))).toBe(true);
    const slabKeys = await keys(store, `${namespacePrefix(source.id, 'ns')}slabs/`);
    for (const s of pin.slabs) expect(slabKeys).toContain(`${namespacePrefix(source.id, 'ns')}slabs/${s.id}.slab`);

    for (const p of await engine.backupPins(source.id, 'b1')) await engine.restoreNamespace(target, p);
    expect(await contents(engine, target, 'ns')).toEqual(atBackup);
    expect(await engine.namespaceNames(target)).toEqual(['ns']);
    // The restored namespace is writable, its log starting above the backup's LSN.
    await engine.upsert(target, 'ns', [rec('new', 7)]);
    expect((await contents(engine, target, 'ns'))['new']).toBe(7);
  });

  it('survive the deletion of their index; releasing the last one deletes what it kept, and only that', async () => {
    const store = new MemoryObjectStore();
    const engine = engineOn(store);
    await writeGenerations(engine, 'a', 1);
    await writeGenerations(engine, '', 1);
    const expected = { a: await contents(engine, source, 'a'), '': await contents(engine, source, '') };
    await engine.backupNamespace(source, 'a', 'b1');
    await engine.backupNamespace(source, '', 'b1');
    await engine.backupNamespace(source, 'a', 'b2');

    await engine.dropIndex(source);
    const left = await keys(store, indexPrefix(source.id));
    expect(left.length).toBeGreaterThan(0);
    expect(left.every((k) => k.endsWith('.slab'))).toBe(true);

    // Restoring after the source is gone (and twice: a resumed job) works.
    const pins = await engine.backupPins(source.id, 'b1');
    expect(pins.map((p) => p.namespace)).toEqual(['', 'a']);
    for (const p of pins) await engine.restoreNamespace(target, p);
    for (const p of pins) await engine.restoreNamespace(target, p);
    expect(await contents(engine, target, 'a')).toEqual(expected.a);
    expect(await contents(engine, target, '')).toEqual(expected['']);

    // b1 goes: the default namespace's slabs go with it, those b2 still pins stay.
    await engine.releaseBackup(source.id, 'b1');
    const afterB1 = await keys(store, indexPrefix(source.id));
    expect(afterB1.every((k) => k.startsWith(namespacePrefix(source.id, 'a')))).toBe(true);
    expect(afterB1.length).toBeGreaterThan(0);
    await engine.releaseBackup(source.id, 'b2');
    expect(await keys(store, indexPrefix(source.id))).toEqual([]);
    expect(await keys(store, backupPinsPrefix(source.id))).toEqual([]);
    // The restored index never depended on them.
    expect(await contents(engine, target, 'a')).toEqual(expected.a);
  });

  it('survive the deletion of their namespace, and releasing them on a live namespace keeps its own slabs', async () => {
    const store = new MemoryObjectStore();
    const engine = engineOn(store);
    await writeGenerations(engine, 'ns', 1);
    const expected = await contents(engine, source, 'ns');
    await engine.backupNamespace(source, 'ns', 'b1');
    await engine.deleteNamespace(source, 'ns');
    await writeGenerations(engine, 'ns', 100); // the name again, new data
    const live = await contents(engine, source, 'ns');

    const [pin] = await engine.backupPins(source.id, 'b1');
    await engine.restoreNamespace(target, pin!);
    expect(await contents(engine, target, 'ns')).toEqual(expected);

    await engine.releaseBackup(source.id, 'b1');
    const reopened = engineOn(store);
    expect(await contents(reopened, source, 'ns')).toEqual(live);
    const listed = await keys(store, `${namespacePrefix(source.id, 'ns')}slabs/`);
    expect(listed.length).toBeGreaterThan(0);
  });

  it('of a namespace that does not exist pin nothing; a restore into a namespace written meanwhile is refused', async () => {
    const store = new MemoryObjectStore();
    const engine = engineOn(store);
    expect(await engine.backupNamespace(source, 'nothing', 'b1')).toBeUndefined();
    await writeGenerations(engine, 'ns', 1);
    const pin = (await engine.backupNamespace(source, 'ns', 'b1'))!;
    await engine.upsert(target, 'ns', [rec('first', 1)]);
    await expect(engine.restoreNamespace(target, pin)).rejects.toThrow(/already exists/);
  });
});

describe('planGarbageCollection with pins', () => {
  it('never plans to delete a pinned slab, whatever the manifests list', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.constantFrom('s1', 's2', 's3', 's4', 's5', 's6'), { maxLength: 6 }),
        fc.subarray(['s1', 's2', 's3', 's4', 's5', 's6']),
        fc.subarray(['s1', 's2', 's3', 's4', 's5', 's6']),
        (inStore, listed, pinned) => {
          const current: Manifest = {
            ...EMPTY_MANIFEST,
            version: 3,
            slabs: listed.map((id) => ({ id, level: 0, count: 1, tombstones: 0, bytes: 1, minLsn: 0, maxLsn: 0 })),
            writtenAt: new Date(0).toISOString(),
          };
          const plan = planGarbageCollection({
            now: 1_000_000,
            graceMs: 0,
            current,
            manifests: [current],
            slabIds: inStore,
            inflight: new Set(),
            slabCreatedAt: () => 0,
            pinned: new Set(pinned),
          });
          for (const id of plan.orphanSlabs) {
            expect(pinned).not.toContain(id);
            expect(listed).not.toContain(id);
          }
          expect(plan.orphanSlabs.sort()).toEqual(inStore.filter((id) => !pinned.includes(id) && !listed.includes(id)).sort());
        },
      ),
    );
  });
});
