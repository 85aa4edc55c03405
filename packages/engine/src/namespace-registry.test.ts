import { MemoryObjectStore, type ObjectBody, type ObjectMeta } from '@conifer/storage';
import { describe, expect, it } from 'vitest';
import { Engine } from './engine.ts';
import { registryKey } from './layout.ts';

/** A promise and the function that settles it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/**
 * A memory store that can hold back the deletion of one key and the answer to one read of it. A
 * wrapper, because the interleaving cannot be forced on a real store: the read sees the object as
 * it was, and its answer arrives after other requests have changed it.
 */
class HoldingStore extends MemoryObjectStore {
  holdDelete: { key: string; until: Promise<void> } | undefined;
  holdGet: { key: string; read: () => void; until: Promise<void> } | undefined;
  holdPut: { key: string; reached: () => void; until: Promise<void> } | undefined;

  override async put(key: string, data: Uint8Array): Promise<ObjectMeta> {
    const held = this.holdPut;
    if (held?.key === key) {
      this.holdPut = undefined;
      held.reached();
      await held.until;
    }
    return super.put(key, data);
  }

  override async delete(key: string): Promise<void> {
    const held = this.holdDelete;
    if (held?.key === key) {
      this.holdDelete = undefined;
      await held.until;
    }
    return super.delete(key);
  }

  override async get(key: string): Promise<ObjectBody | null> {
    const held = this.holdGet;
    if (held?.key !== key) return super.get(key);
    this.holdGet = undefined;
    const answer = await super.get(key);
    held.read();
    await held.until;
    return answer;
  }
}

describe('namespace registry', () => {
  const index = { id: 'idx_registry', dimension: 2, metric: 'euclidean' as const };

  it('a listing in another process that read a "deleting" marker before the deletion ended never removes the namespace created after it', async () => {
    const store = new HoldingStore();
    const engine = new Engine({ store, config: { tickMs: 60_000 } });
    // Another process on the same store: it knows nothing of the deletion under way.
    const other = new Engine({ store, config: { tickMs: 60_000 } });
    try {
      await engine.upsert(index, 'ns', [{ id: 'old', values: [1, 1] }]);
      const marker = registryKey(index.id, 'ns');

      // The deletion stops before removing its marker, which now says "deleting".
      const markerDelete = gate();
      store.holdDelete = { key: marker, until: markerDelete.opened };
      const deletion = engine.deleteNamespace(index, 'ns');
      await expect.poll(async () => JSON.parse(new TextDecoder().decode((await store.get(marker))!.data)).state).toBe('deleting');

      // A listing reads that marker; its answer is held back…
      const listingRead = gate();
      const listingAnswer = gate();
      store.holdGet = { key: marker, read: listingRead.open, until: listingAnswer.opened };
      const listing = other.listNamespaces(index);
      await listingRead.opened;

      // …while the deletion ends and the namespace is created again.
      markerDelete.open();
      await deletion;
      await engine.upsert(index, 'ns', [{ id: 'new', values: [2, 2] }]);

      listingAnswer.open();
      await listing;
      expect((await engine.listNamespaces(index)).map((n) => n.name)).toEqual(['ns']);
      expect(Object.keys((await engine.fetch(index, 'ns', ['old', 'new'])).records)).toEqual(['new']);
    } finally {
      await other.close();
      await engine.close();
    }
  });

  it('a listing that read an active marker before a deletion does not leave the namespace registered without one', async () => {
    const store = new HoldingStore();
    const engine = new Engine({ store, config: { tickMs: 60_000 } });
    try {
      await engine.upsert(index, 'ns', [{ id: 'old', values: [1, 1] }]);
      // A fresh engine on the same store knows nothing yet, so its listing reads the marker.
      await engine.close();
      const fresh = new Engine({ store, config: { tickMs: 60_000 } });
      try {
        const listingRead = gate();
        const listingAnswer = gate();
        store.holdGet = { key: registryKey(index.id, 'ns'), read: listingRead.open, until: listingAnswer.opened };
        const listing = fresh.listNamespaces(index);
        await listingRead.opened;
        // The namespace is deleted while the listing's answer ("active") is on its way…
        store.holdGet = undefined;
        await fresh.deleteNamespace(index, 'ns');
        listingAnswer.open();
        await listing;
        // …and written again: the write must put its marker back.
        await fresh.upsert(index, 'ns', [{ id: 'new', values: [2, 2] }]);
        expect((await fresh.listNamespaces(index)).map((n) => n.name)).toEqual(['ns']);
      } finally {
        await fresh.close();
      }
    } catch (err) {
      await engine.close().catch(() => undefined);
      throw err;
    }
  });

  it('a listing during a deletion, before its "deleting" marker lands, does not leave the namespace registered', async () => {
    const store = new HoldingStore();
    const engine = new Engine({ store, config: { tickMs: 60_000 } });
    try {
      await engine.upsert(index, 'ns', [{ id: 'old', values: [1, 1] }]);
      await engine.close();
    } catch (err) {
      await engine.close().catch(() => undefined);
      throw err;
    }
    // A fresh engine, so the listing reads the marker instead of remembering it.
    const fresh = new Engine({ store, config: { tickMs: 60_000 } });
    try {
      const markerPut = gate();
      const reached = gate();
      store.holdPut = { key: registryKey(index.id, 'ns'), reached: reached.open, until: markerPut.opened };
      const deletion = fresh.deleteNamespace(index, 'ns');
      await reached.opened; // the removal has begun; the marker still says "active"
      // The listing either reads the marker now (and sees "active") or waits for the removal; give
      // it the time to do either before the removal goes on.
      const listingRead = gate();
      store.holdGet = { key: registryKey(index.id, 'ns'), read: listingRead.open, until: Promise.resolve() };
      const listing = fresh.listNamespaces(index);
      await Promise.race([listingRead.opened, new Promise((resolve) => setTimeout(resolve, 200))]);
      store.holdGet = undefined;
      markerPut.open();
      await deletion;
      expect((await listing).map((n) => n.name)).toEqual([]);
      await fresh.upsert(index, 'ns', [{ id: 'new', values: [2, 2] }]);
      expect((await fresh.listNamespaces(index)).map((n) => n.name)).toEqual(['ns']);
    } finally {
      await fresh.close();
    }
  });

  it('concurrent listings and a deletion remove the namespace once, and it can be written again at once', async () => {
    const store = new MemoryObjectStore();
    const engine = new Engine({ store, config: { tickMs: 60_000 } });
    try {
      await engine.upsert(index, 'gone', [{ id: 'a', values: [1, 1] }]);
      await Promise.all([engine.deleteNamespace(index, 'gone'), engine.listNamespaces(index), engine.listNamespaces(index)]);
      expect(await engine.listNamespaces(index)).toEqual([]);
      await engine.upsert(index, 'gone', [{ id: 'b', values: [1, 1] }]);
      expect((await engine.listNamespaces(index)).map((n) => n.name)).toEqual(['gone']);
    } finally {
      await engine.close();
    }
  });
});
