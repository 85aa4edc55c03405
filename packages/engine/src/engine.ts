import {
  AlreadyExistsError,
  every,
  failpoint,
  NotFoundError,
  SYSTEM_CLOCK,
  SYSTEM_RANDOM,
  UnavailableError,
  type Clock,
  type RandomSource,
  type UpsertResult,
  type Filter,
} from '@conifer/core';
import { countLive, loadFilterSections, matchingIds, type Snapshot } from '@conifer/router';
import { Compactor } from '@conifer/index-builder';
import type { ObjectStore } from '@conifer/storage';
import { pino, type Logger } from 'pino';
import { pageCacheShare, resolveEngineConfig, type EngineConfig } from './config.ts';
import { PageCache } from '@conifer/slab';
import type {
  DataPlane,
  DeleteInput,
  DeleteResult,
  FetchByMetadataInput,
  FetchedRecords,
  IdPage,
  IndexHandle,
  ListInput,
  NamespaceInternals,
  NamespaceSummary,
  QueryInput,
  QueryMatches,
  ReadOptions,
  RecordInput,
  RecordPage,
  UpdateInput,
  UpdateResult,
} from './data-plane.ts';
import { stageImport, type ImportOptions, type StagedImport } from './bulk-import.ts';
import { deleteUnpinned, pinsOfBackup, releaseBackup, writePin, type BackupPin } from './backup-pins.ts';
import { restoreNamespace } from './restore.ts';
import { slabCacheStats } from './describe.ts';
import { displayName, indexPrefix, namespacePrefix } from './layout.ts';
import { Namespace } from './namespace.ts';
import { ReleasedMemory } from './released-memory.ts';
import { residentBytes, ResidentSet, trimPolicy, type ResidentStats } from './resident-set.ts';
import { namespaceKey, NamespaceRegistry } from './namespace-registry.ts';
import { fetchByMetadataView, fetchView, listView, queryView, type ReadView } from './reads.ts';
import { toSparse, toVector } from './records.ts';
import type { RemoteCompactions } from './remote-compactions.ts';
import { toPutRecords, writeInChunks } from './writes.ts';
import { storeCall, toClientError } from './store-errors.ts';

export interface EngineOptions {
  store: ObjectStore;
  config?: Partial<EngineConfig> | undefined;
  logger?: Logger | undefined;
  /** Time of the engine's timers, memtable ages, GC and manifests. Default: the system clock. */
  clock?: Clock | undefined;
  /** Randomness of slab ids. Default `Math.random`. */
  random?: RandomSource | undefined;
  /** Indexer nodes that build compactions when a cluster has any live; default: all built here. */
  remoteCompactions?: RemoteCompactions | undefined;
  /**
   * Pages of slabs read by range, shared with the other engines of the process. Default: a cache
   * of its own of pageCacheShare(memoryBudgetBytes) bytes.
   */
  pages?: PageCache | undefined;
  /**
   * The engine owns `store`: `close()` closes it too (its open files). Default false: a server
   * shares one store between its engine and other parts and closes it itself.
   */
  ownsStore?: boolean | undefined;
}

/**
 * The data plane of one node: opens namespaces on first use and routes every call to the
 * namespace's engine. Reads of a namespace that was never written see an empty namespace.
 */
export class Engine implements DataPlane {
  readonly #store: ObjectStore;
  readonly #ownsStore: boolean;
  readonly #config: EngineConfig;
  readonly #logger: Logger;
  /** Open namespaces, closed again by the memory budget and idle time. */
  readonly #namespaces: ResidentSet<Namespace>;
  /** Namespaces whose storage is being removed; opens wait for it. */
  readonly #deleting = new Map<string, Promise<void>>();
  readonly #registry: NamespaceRegistry;
  readonly #clock: Clock;
  readonly #random: RandomSource;
  /** Stops the periodic tick. */
  readonly #stopTicking: () => void;
  /** Worker threads shared by every namespace's compactions (bounded concurrency). */
  readonly #compactor: Compactor;
  readonly #remoteCompactions: RemoteCompactions | undefined;
  readonly #pages: PageCache;
  /** What namespaces let go of and the collector has not freed yet: promotions leave it room. */
  readonly #released: ReleasedMemory;
  /** Namespaces a bulk import is writing (staged or committing) in this process. */
  readonly #importing = new Set<string>();
  /** Backups pinning a namespace in this process: its deletion (or its index's) waits for them. */
  readonly #pinning = new Map<string, Promise<unknown>>();
  #closed = false;

  constructor(options: EngineOptions) {
    this.#store = options.store;
    this.#ownsStore = options.ownsStore ?? false;
    this.#config = resolveEngineConfig(options.config);
    this.#logger = options.logger ?? pino({ level: 'silent' });
    this.#registry = new NamespaceRegistry(this.#store);
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.#released = new ReleasedMemory(this.#clock);
    this.#random = options.random ?? SYSTEM_RANDOM;
    // A trimmed namespace flushes first, so its next open replays nothing.
    this.#namespaces = new ResidentSet(this.#clock, trimPolicy(this.#config), (ns) => ns.close({ flush: true }), this.#released);
    this.#compactor = new Compactor(this.#config.compactor, this.#clock);
    this.#remoteCompactions = options.remoteCompactions;
    this.#pages = options.pages ?? new PageCache(pageCacheShare(this.#config.memoryBudgetBytes));
    this.#stopTicking = every(this.#clock, this.#config.tickMs, () => this.#tick());
  }

  get config(): EngineConfig {
    return this.#config;
  }

  #tick(): void {
    const now = this.#clock.now();
    for (const [, ns] of this.#namespaces.values()) ns.tick(now);
    this.trimMemory();
  }

  /**
   * Closes the namespaces the memory budget and idle time say should not stay open (the tick does
   * this every `tickMs`); returns how many closes it started. They finish in the background; a
   * request for one of them waits for its close, then opens it again.
   */
  trimMemory(): number {
    return this.#closed ? 0 : this.#namespaces.trim();
  }

  /** The open namespaces, the memory they hold and what trims closed, beside the budget. */
  memory(): ResidentStats {
    return this.#namespaces.stats();
  }

  /** Sets the memory budget of what is open here (`memoryBudgetBytes`), from the next trim on. */
  setMemoryBudget(bytes: number): void {
    this.#namespaces.setBudget(bytes);
  }

  /** Refuses work once `close` has begun (the namespaces are being flushed and closed). */
  #assertOpen(): void {
    if (this.#closed) throw new UnavailableError('the data plane is shutting down');
  }

  /**
   * The namespace's engine, opened unless it is open, held open (`release` ends that) so no memory
   * trim closes it while the caller uses it. Waits for a deletion of the namespace, or a trim's
   * close of it, under way.
   */
  async #acquire(index: IndexHandle, namespace: string, read = false): Promise<{ ns: Namespace; release: () => void }> {
    const key = namespaceKey(index, namespace);
    for (;;) {
      this.#assertOpen();
      await this.#deleting.get(key);
      await this.#namespaces.closing(key);
      // Either may have begun during those waits.
      if (this.#deleting.has(key) || this.#namespaces.closing(key)) continue;
      let entry = this.#namespaces.get(key);
      if (entry?.value?.stale) {
        // Fenced by another writer's newer manifest: drop this view (everything it acknowledged is
        // in the log or in the other writer's slabs) and reopen from the store.
        this.#namespaces.take(key);
        void entry.value.close({ flush: false });
        entry = undefined;
      }
      // No await between this lookup and the lease below: concurrent callers share one open, and
      // no trim can close it in between.
      entry ??= this.#namespaces.open(key, () =>
        this.#openFresh(index, namespace).catch((err: unknown) => {
          throw toClientError(err);
        }),
      );
      const release = this.#namespaces.lease(entry, read);
      try {
        return { ns: await entry.pending, release };
      } catch (err) {
        release();
        throw err;
      }
    }
  }

  /**
   * Drops the open view of `key` without flushing (its storage is going, or was replaced under it),
   * and waits for a trim's close of it under way: that one flushes, and must land first.
   */
  async #discard(key: string): Promise<void> {
    const open = this.#namespaces.take(key);
    const ns = await open?.pending.catch(() => undefined);
    await ns?.close({ flush: false });
    await this.#namespaces.closing(key);
  }

  /** Runs `use` with the namespace's engine held open (a `read` counts for promotion: config `promoteSlabs`). */
  async #use<T>(index: IndexHandle, namespace: string, use: (ns: Namespace) => Promise<T> | T, read = false): Promise<T> {
    const { ns, release } = await this.#acquire(index, namespace, read);
    try {
      return await use(ns);
    } finally {
      release();
    }
  }

  /**
   * Opens a namespace from the store. The registry marker is read while the namespace opens (one
   * round trip to a bucket fewer); in the rare case the marker said "deleting", the deletion it
   * finished may have removed what the open read, so the namespace is opened again after it.
   */
  async #openFresh(index: IndexHandle, namespace: string): Promise<Namespace> {
    const [prepared, opened] = await Promise.allSettled([this.#registry.prepareOpen(index, namespace), this.#openNamespace(index, namespace)]);
    if (prepared.status === 'fulfilled' && !prepared.value && opened.status === 'fulfilled') return opened.value;
    if (opened.status === 'fulfilled') await opened.value.close({ flush: false });
    if (prepared.status === 'rejected') throw prepared.reason;
    return this.#openNamespace(index, namespace);
  }

  #openNamespace(index: IndexHandle, namespace: string): Promise<Namespace> {
    return Namespace.open({
      store: this.#store,
      prefix: namespacePrefix(index.id, namespace),
      name: namespace,
      dimension: index.dimension,
      metric: index.metric,
      config: this.#config,
      logger: this.#logger,
      compactor: this.#compactor,
      remoteCompactions: this.#remoteCompactions,
      indexId: index.id,
      clock: this.#clock,
      random: this.#random,
      pages: this.#pages,
      released: this.#released,
      makeRoom: () => this.#makeRoomForMerge(),
    });
  }

  /**
   * A merge is about to allocate its working memory (counted already): trims, then — if what the
   * trim shed and earlier merges dropped, still awaiting collection, would take the node past its
   * budget beside it — collects it now rather than after the merge. With room to spare, the
   * collection's pause is not worth it.
   */
  #makeRoomForMerge(): void {
    this.trimMemory();
    const { memory, budgetBytes } = this.#namespaces.stats();
    const pending = this.#released.bytes;
    if (residentBytes(memory) + pending <= budgetBytes) return;
    const started = performance.now();
    if (this.#released.collect())
      this.#logger.info({ releasedBytes: pending, ms: Math.round(performance.now() - started) }, 'collected garbage before a merge');
  }

  async upsert(index: IndexHandle, namespace: string, records: RecordInput[]): Promise<UpsertResult> {
    const put = toPutRecords(index, records);
    return this.#use(index, namespace, async (ns) => {
      await this.#registry.register(index, namespace);
      const { lsn } = await ns.write({ kind: 'put', records: put });
      return { lsn, upsertedCount: put.length };
    });
  }

  async update(index: IndexHandle, namespace: string, update: UpdateInput): Promise<UpdateResult> {
    const values = update.values === undefined ? undefined : toVector(index, update.values, ['values']);
    const sparse = toSparse(update.sparseValues);
    return this.#use(index, namespace, async (ns) => {
      if (!(await this.#registry.exists(index, namespace))) return { lsn: ns.lastLsn, matchedRecords: 0 };
      // An update by filter is resolved to ids against the current state, then logged as one patch.
      const ids = update.id !== undefined ? [update.id] : await idsMatching(ns.snapshot(), update.filter!);
      if (ids.length === 0) return { lsn: ns.lastLsn, matchedRecords: 0 };
      const { lsn, matched } = await writeInChunks(ns, ids, (chunk) => ({
        kind: 'update',
        ids: chunk,
        ...(values ? { values } : {}),
        ...(sparse ? { sparse } : {}),
        ...(update.setMetadata ? { setMetadata: update.setMetadata } : {}),
      }));
      return { lsn, matchedRecords: matched };
    });
  }

  delete(index: IndexHandle, namespace: string, del: DeleteInput): Promise<DeleteResult> {
    return this.#use(index, namespace, async (ns) => {
      if (!(await this.#registry.exists(index, namespace))) return { lsn: ns.lastLsn, deletedCount: 0 };
      if (del.deleteAll) {
        const { lsn } = await ns.write({ kind: 'deleteAll' });
        return { lsn };
      }
      // Delete by filter is resolved to ids against the current state, then logged as plain deletes.
      const ids = del.ids ?? (await idsMatching(ns.snapshot(), del.filter!));
      if (ids.length === 0) return { lsn: ns.lastLsn, deletedCount: 0 };
      const { lsn } = await writeInChunks(ns, ids, (chunk) => ({ kind: 'delete', ids: chunk }));
      return { lsn, deletedCount: ids.length };
    });
  }

  /**
   * The state a read runs against and the LSN it reflects, taken together (entries are applied
   * synchronously, in LSN order). A writer's view holds everything it acknowledged, so `strong`
   * adds nothing; a `minLsn` beyond it was acknowledged by another node, which this view has not read.
   */
  #read<T>(index: IndexHandle, namespace: string, read: ReadOptions | undefined, use: (view: ReadView) => Promise<T> | T): Promise<T> {
    return this.#use(
      index,
      namespace,
      (ns) => {
        if (read?.minLsn !== undefined && ns.lastLsn < read.minLsn) {
          throw new UnavailableError(`namespace ${displayName(namespace)} is at LSN ${ns.lastLsn} on this node, short of the ${read.minLsn} asked for; retry`);
        }
        return use({ snapshot: ns.snapshot(), indexedLsn: ns.lastLsn });
      },
      true,
    );
  }

  query(index: IndexHandle, namespace: string, query: QueryInput, read?: ReadOptions): Promise<QueryMatches> {
    return this.#read(index, namespace, read, (view) => queryView(view, index, query, this.#config.exactBudget));
  }

  fetch(index: IndexHandle, namespace: string, ids: string[], read?: ReadOptions): Promise<FetchedRecords> {
    return this.#read(index, namespace, read, (view) => fetchView(view, ids));
  }

  list(index: IndexHandle, namespace: string, list: ListInput, read?: ReadOptions): Promise<IdPage> {
    return this.#read(index, namespace, read, (view) => listView(view, list));
  }

  fetchByMetadata(index: IndexHandle, namespace: string, input: FetchByMetadataInput, read?: ReadOptions): Promise<RecordPage> {
    return this.#read(index, namespace, read, (view) => fetchByMetadataView(view, input));
  }

  async createNamespace(index: IndexHandle, namespace: string): Promise<void> {
    await this.#deleting.get(namespaceKey(index, namespace));
    if (!(await this.#registry.register(index, namespace))) {
      throw new AlreadyExistsError(`Namespace ${displayName(namespace)} already exists.`);
    }
  }

  async namespaceStats(index: IndexHandle, namespace: string): Promise<NamespaceSummary> {
    if (!(await this.#registry.exists(index, namespace))) {
      throw new NotFoundError(`Namespace ${displayName(namespace)} not found.`);
    }
    return this.#use(index, namespace, async (ns) => ({ name: namespace, recordCount: countLive(await ns.settledSnapshot()) }));
  }

  async listNamespaces(index: IndexHandle): Promise<NamespaceSummary[]> {
    const out: NamespaceSummary[] = [];
    for (const name of await this.#registry.existingNames(index)) {
      out.push(await this.#use(index, name, async (ns) => ({ name, recordCount: countLive(await ns.settledSnapshot()) })));
    }
    return out;
  }

  /** Names of every namespace of the index (created explicitly or by a write), without opening them. */
  namespaceNames(index: IndexHandle): Promise<string[]> {
    return this.#registry.existingNames(index);
  }

  describeNamespace(index: IndexHandle, namespace: string): Promise<NamespaceInternals> {
    return this.#use(index, namespace, (ns) => {
      const slabCache = slabCacheStats(this.#store);
      return slabCache ? { ...ns.describe(), slabCache } : ns.describe();
    });
  }

  async deleteNamespace(index: IndexHandle, namespace: string): Promise<void> {
    this.#assertOpen();
    const key = namespaceKey(index, namespace);
    if (!(await this.#registry.exists(index, namespace))) throw new NotFoundError(`Namespace ${displayName(namespace)} not found.`);
    await this.#deleting.get(key);
    const deletion = (async () => {
      // A backup pinning it finishes first: its pin must be stored before the unpinned slabs go.
      await this.#pinning.get(key)?.catch(() => undefined);
      this.#registry.forget(key);
      await this.#discard(key);
      await storeCall(() => this.#registry.removeStorage(index, namespace));
    })();
    this.#deleting.set(key, deletion);
    try {
      await deletion;
    } finally {
      this.#deleting.delete(key);
    }
  }

  /**
   * Removes the index's storage, except the slabs its backups pin (`backup-pins.ts`): they stay
   * under the index's prefix, restorable, until the last backup naming them is deleted.
   */
  async dropIndex(index: IndexHandle): Promise<void> {
    this.#assertOpen();
    const prefix = `${index.id}\u0000`;
    for (const [key, pinning] of [...this.#pinning]) if (key.startsWith(prefix)) await pinning.catch(() => undefined);
    for (const key of this.#namespaces.keys()) {
      if (!key.startsWith(prefix)) continue;
      this.#registry.forget(key);
      await this.#discard(key);
    }
    await Promise.all(this.#namespaces.closings(prefix));
    await storeCall(() => deleteUnpinned(this.#store, index.id, indexPrefix(index.id)));
  }

  /**
   * Backs one namespace up (`backup-pins.ts`): flushes what it was acknowledged, then pins the
   * manifest that covers it as backup `backupId`'s. Undefined when the namespace does not exist.
   * `schema` (the namespace's metadata schema) is kept with the pin for its restore.
   */
  async backupNamespace(index: IndexHandle, namespace: string, backupId: string, schema?: unknown): Promise<BackupPin | undefined> {
    this.#assertOpen();
    const key = namespaceKey(index, namespace);
    await this.#deleting.get(key);
    const pinning = (async () => {
      if (!(await this.#registry.exists(index, namespace))) return undefined;
      const pin = await this.#use(index, namespace, (ns) =>
        ns.pin(async (manifest, records) => {
          const pin: BackupPin = {
            backupId,
            indexId: index.id,
            namespace,
            flushedLsn: manifest.flushedLsn,
            slabs: manifest.slabs,
            records,
            ...(schema !== undefined ? { schema } : {}),
          };
          await writePin(this.#store, pin);
          return pin;
        }),
      );
      failpoint('backup:after-pin');
      return pin;
    })();
    this.#pinning.set(key, pinning);
    try {
      return await storeCall(() => pinning);
    } finally {
      if (this.#pinning.get(key) === pinning) this.#pinning.delete(key);
    }
  }

  /** The pins of backup `backupId` of the index `indexId` (which may be deleted), by namespace. */
  backupPins(indexId: string, backupId: string): Promise<BackupPin[]> {
    return storeCall(() => pinsOfBackup(this.#store, indexId, backupId));
  }

  /** Deletes the backup's pins and the slabs only they kept alive; idempotent. Returns the slabs deleted. */
  releaseBackup(indexId: string, backupId: string): Promise<number> {
    return storeCall(() => releaseBackup(this.#store, indexId, backupId));
  }

  /**
   * Restores one pinned namespace into the new index `target` (`restore.ts`): copies its slabs,
   * commits its first manifest and registers it. Idempotent; `onSlab` after each slab with its bytes.
   */
  async restoreNamespace(target: IndexHandle, pin: BackupPin, onSlab?: (bytes: number) => void): Promise<void> {
    this.#assertOpen();
    await this.#deleting.get(namespaceKey(target, pin.namespace));
    try {
      await restoreNamespace(
        {
          store: this.#store,
          clock: this.#clock,
          register: () => this.#registry.register(target, pin.namespace),
          committed: () => this.#afterImport(target, pin.namespace),
        },
        target,
        pin,
        onSlab,
      );
    } catch (err) {
      throw toClientError(err);
    }
  }

  /**
   * Bulk import (`bulk-import.ts`): stores `batches` as L0 slabs of a namespace that does not exist
   * yet, without committing them. AlreadyExistsError when the namespace exists (or another import
   * into it is under way here). The caller commits or discards the result.
   */
  async stageImport(index: IndexHandle, namespace: string, batches: AsyncIterable<RecordInput[]>, options?: ImportOptions): Promise<StagedImport> {
    this.#assertOpen();
    const key = namespaceKey(index, namespace);
    await this.#deleting.get(key);
    if (this.#importing.has(key)) throw new AlreadyExistsError(`An import into namespace ${displayName(namespace)} is already under way.`);
    this.#importing.add(key);
    let staged: StagedImport;
    try {
      staged = await stageImport(
        {
          store: this.#store,
          clock: this.#clock,
          random: this.#random,
          logger: this.#logger,
          dimension: index.dimension,
          gcGraceMs: this.#config.gcGraceMs,
          exists: () => this.#registry.exists(index, namespace),
          register: () => this.#registry.register(index, namespace),
          committed: () => this.#afterImport(index, namespace),
        },
        index,
        namespace,
        batches,
        options,
      );
    } catch (err) {
      this.#importing.delete(key);
      throw toClientError(err);
    }
    const done = () => this.#importing.delete(key);
    return {
      namespace,
      records: staged.records,
      slabs: staged.slabs,
      commit: async () => {
        try {
          if (this.#closed) {
            await staged.discard();
            this.#assertOpen();
          }
          await staged.commit();
        } catch (err) {
          throw toClientError(err);
        } finally {
          done();
        }
      },
      discard: () => staged.discard().finally(done),
    };
  }

  /** `stageImport` then its commit: the namespace exists, with every record of `batches`, once it resolves. */
  async importNamespace(
    index: IndexHandle,
    namespace: string,
    batches: AsyncIterable<RecordInput[]>,
    options?: ImportOptions,
  ): Promise<{ records: number; slabs: number }> {
    const staged = await this.stageImport(index, namespace, batches, options);
    await staged.commit();
    return { records: staged.records, slabs: staged.slabs };
  }

  /**
   * After an import's commit: a view of the namespace opened before (a read of the then-missing
   * namespace) is dropped, and the namespace is opened from the store with its compactions (ANN
   * builds of the imported slabs) started in the background.
   */
  async #afterImport(index: IndexHandle, namespace: string): Promise<void> {
    await this.#discard(namespaceKey(index, namespace));
    if (this.#closed) return;
    // The import is committed: a failure from here on only delays its compaction (the next open,
    // write or tick starts it).
    try {
      const { ns, release } = await this.#acquire(index, namespace);
      ns.settle()
        .finally(release)
        .catch((err: unknown) =>
          this.#logger.warn({ err, namespace: displayName(namespace) }, 'compaction after an import failed; it is retried on the next write or tick'),
        );
    } catch (err) {
      this.#logger.warn({ err, namespace: displayName(namespace) }, 'could not open a namespace after its import; it opens on its next request');
    }
  }

  /** Flushes the namespace's memtable to a slab and waits for the compaction and GC it triggers. */
  flush(index: IndexHandle, namespace: string): Promise<void> {
    return this.#use(index, namespace, (ns) => ns.settle());
  }

  /**
   * Opens the namespace and resolves once the vectors of its slabs read by range are in memory, as
   * far as the memory budget lets them (benchmarks measure a warm namespace with it).
   */
  warm(index: IndexHandle, namespace: string): Promise<void> {
    return this.#use(
      index,
      namespace,
      async (ns) => {
        this.#namespaces.promote();
        await Promise.all([...ns.slabReaders()].map((reader) => reader.promotion()));
      },
      true,
    );
  }

  /** Flushes every open namespace and stops background work. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopTicking();
    // A namespace deletion under way finishes first: its storage must not be written behind it.
    await Promise.all([...this.#deleting.values()].map((p) => p.catch(() => undefined)));
    await Promise.all(this.#namespaces.closings());
    const all = await Promise.all(this.#namespaces.pending().map((p) => p.catch(() => undefined)));
    await Promise.all(all.map((ns) => ns?.close({ flush: true })));
    this.#namespaces.clear();
    await this.#compactor.close();
    if (this.#ownsStore) await this.#store.close?.();
  }

  /** Test hook: forget every open namespace without flushing, as a crash would. */
  abandon(): void {
    this.#closed = true;
    this.#stopTicking();
    void this.#compactor.close();
    this.#namespaces.clear();
  }
}

/** Ids of the live records matching `filter`, once the slabs' metadata they read is loaded. */
async function idsMatching(snapshot: Snapshot, filter: Filter): Promise<string[]> {
  await loadFilterSections(snapshot);
  return matchingIds(snapshot, filter);
}

export async function createEngine(options: EngineOptions): Promise<Engine> {
  return new Engine(options);
}
