import { isPreconditionFailed, listAll, type ObjectStore } from '@conifer/storage';
import { deleteUnpinned } from './backup-pins.ts';
import type { IndexHandle } from './data-plane.ts';
import { decodeNamespace, namespacePrefix, registryKey, registryPrefix } from './layout.ts';
import { storeCall, toClientError } from './store-errors.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The registry marker of a namespace (`<index>/registry/<encoded name>`). */
interface RegistryMarker {
  state: 'active' | 'deleting';
  name: string;
}

function parseMarker(data: Uint8Array): RegistryMarker {
  return JSON.parse(decoder.decode(data)) as RegistryMarker;
}

/** The in-process key of a namespace of an index. */
export function namespaceKey(index: IndexHandle, namespace: string): string {
  return `${index.id}\u0000${namespace}`;
}

/**
 * Which namespaces of an index exist, as registry markers in the store. A namespace exists exactly
 * when its marker does: the first upsert (or create namespace) writes it; updates and deletes never
 * do. Removing a namespace marks it "deleting" first, so a crash part-way is finished by the next
 * open instead of resurrecting data. Markers known to exist are remembered, so a marker is written
 * (and looked up) once per process.
 */
export class NamespaceRegistry {
  readonly #store: ObjectStore;
  /** Namespaces known to have a marker. */
  readonly #registered = new Set<string>();
  /**
   * How often each namespace has been forgotten (deleted). A marker read before a deletion began
   * must not make the namespace "registered" after it: the next write would then skip writing the
   * marker, and the namespace would hold data no listing shows. So a read is remembered only if no
   * deletion began since it was sent.
   */
  readonly #forgotten = new Map<string, number>();
  /**
   * Removals under way in this process. A second caller joins the first instead of starting its
   * own, and a marker is written only once none is under way: a removal started by a reader that
   * found a "deleting" marker must not delete the marker (and data) of the namespace recreated
   * after the removal that wrote it.
   */
  readonly #removing = new Map<string, Promise<void>>();

  constructor(store: ObjectStore) {
    this.#store = store;
  }

  /** Writes the namespace's marker unless it exists; false when it already did. */
  async register(index: IndexHandle, namespace: string): Promise<boolean> {
    const key = namespaceKey(index, namespace);
    if (this.#registered.has(key)) return false;
    await this.#removing.get(key)?.catch(() => undefined);
    const epoch = this.#epoch(key);
    let created = true;
    try {
      await this.#store.putIfAbsent(
        registryKey(index.id, namespace),
        encoder.encode(JSON.stringify({ state: 'active', name: namespace } satisfies RegistryMarker)),
      );
    } catch (err) {
      if (!isPreconditionFailed(err)) throw toClientError(err);
      created = false;
    }
    this.#remember(key, epoch);
    return created;
  }

  /**
   * Whether the namespace exists. One left "deleting" by a delete that failed or crashed part-way
   * does not: its deletion is finished here, so that no reader sees it exist and then vanish when
   * the next open finishes the job.
   */
  async exists(index: IndexHandle, namespace: string): Promise<boolean> {
    const key = namespaceKey(index, namespace);
    if (this.#registered.has(key)) return true;
    const removal = this.#removing.get(key);
    if (removal) {
      await storeCall(() => removal);
      return false;
    }
    return storeCall(async () => (await this.#readMarker(index, namespace, key)) === 'active');
  }

  /**
   * Before a namespace is opened: a marker left "deleting" by a crash has its deletion finished
   * (the namespace then opens empty), and true says so — whatever was read of the namespace
   * meanwhile is gone; an active one is remembered.
   */
  async prepareOpen(index: IndexHandle, namespace: string): Promise<boolean> {
    return (await this.#readMarker(index, namespace, namespaceKey(index, namespace))) === 'deleted';
  }

  /**
   * Reads the marker: `active` (and remembers it), `absent`, or `deleted` when it said "deleting"
   * and the deletion has now been finished.
   */
  async #readMarker(index: IndexHandle, namespace: string, key: string): Promise<'active' | 'absent' | 'deleted'> {
    const epoch = this.#epoch(key);
    const marker = await this.#store.get(registryKey(index.id, namespace));
    if (!marker) return 'absent';
    if (parseMarker(marker.data).state === 'deleting') {
      await this.#finishDeletion(index, namespace, marker.etag);
      return 'deleted';
    }
    this.#remember(key, epoch);
    return 'active';
  }

  #epoch(key: string): number {
    return this.#forgotten.get(key) ?? 0;
  }

  /**
   * Remembers a namespace as registered, unless it was forgotten since `epoch` was read or is being
   * removed (a read sent after the removal began can still see the marker before it is rewritten).
   */
  #remember(key: string, epoch: number): void {
    if (this.#epoch(key) === epoch && !this.#removing.has(key)) this.#registered.add(key);
  }

  /** Names of every registered namespace of the index. */
  async names(index: IndexHandle): Promise<string[]> {
    const prefix = registryPrefix(index.id);
    const names: string[] = [];
    const metas = await storeCall(async () => {
      const out = [];
      for await (const meta of listAll(this.#store, prefix)) out.push(meta);
      return out;
    });
    for (const meta of metas) {
      const name = decodeNamespace(meta.key.slice(prefix.length));
      if (name !== undefined) {
        names.push(name);
        continue;
      }
      // A hashed long name: the marker holds the real one.
      const marker = await storeCall(() => this.#store.get(meta.key));
      if (marker) names.push(parseMarker(marker.data).name);
    }
    return names;
  }

  /** Names of the namespaces of the index that exist (an interrupted deletion is finished, not listed). */
  async existingNames(index: IndexHandle): Promise<string[]> {
    const out: string[] = [];
    for (const name of await this.names(index)) if (await this.exists(index, name)) out.push(name);
    return out;
  }

  /** Forgets that a namespace is registered (it is being deleted). */
  forget(key: string): void {
    this.#registered.delete(key);
    this.#forgotten.set(key, this.#epoch(key) + 1);
  }

  /**
   * Marks the namespace "deleting" in the registry, removes its prefix, then the marker. A crash
   * part-way leaves the marker, and the next open finishes the job instead of resurrecting data.
   */
  removeStorage(index: IndexHandle, namespace: string): Promise<void> {
    return this.#removal(index, namespace, async (marker, deleting) => {
      await this.#store.put(marker, deleting);
      return true;
    });
  }

  /**
   * Finishes the deletion whose "deleting" marker was read with `etag` — only if the marker is
   * still that one: read before a deletion finished, it may since have been deleted and the
   * namespace created again, and that namespace must not be removed.
   */
  #finishDeletion(index: IndexHandle, namespace: string, etag: string): Promise<void> {
    return this.#removal(index, namespace, async (marker, deleting) => {
      try {
        await this.#store.putIfMatch(marker, deleting, etag);
        return true;
      } catch (err) {
        if (isPreconditionFailed(err)) return false;
        throw err;
      }
    });
  }

  /** One removal per namespace at a time in this process: `claim` decides whether it goes ahead. */
  #removal(index: IndexHandle, namespace: string, claim: (marker: string, deleting: Uint8Array) => Promise<boolean>): Promise<void> {
    const key = namespaceKey(index, namespace);
    // Whatever `exists` saw (a "deleting" marker counts as existing), the namespace is gone now:
    // its next write must write the marker again.
    this.forget(key);
    let removal = this.#removing.get(key);
    if (!removal) {
      removal = (async () => {
        const marker = registryKey(index.id, namespace);
        if (!(await claim(marker, encoder.encode(JSON.stringify({ state: 'deleting', name: namespace } satisfies RegistryMarker))))) return;
        // The slabs a backup pins stay (`backup-pins.ts`); the backup's deletion removes them.
        await deleteUnpinned(this.#store, index.id, namespacePrefix(index.id, namespace));
        await this.#store.delete(marker);
      })().finally(() => this.#removing.delete(key));
      this.#removing.set(key, removal);
    }
    return removal;
  }
}
