import { every, NotFoundError, SYSTEM_CLOCK, UnavailableError, type Clock, type UpsertResult } from '@conifer/core';
import { countLive } from '@conifer/router';
import type { ObjectStore } from '@conifer/storage';
import { pino, type Logger } from 'pino';
import { pageCacheShare, resolveEngineConfig, type EngineConfig } from './config.ts';
import { PageCache } from '@conifer/slab';
import type {
  DataPlane,
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
  RecordPage,
  UpdateResult,
} from './data-plane.ts';
import { slabCacheStats } from './describe.ts';
import { displayName, namespacePrefix } from './layout.ts';
import { namespaceKey, NamespaceRegistry } from './namespace-registry.ts';
import { fetchByMetadataView, fetchView, listView, queryView, type ReadView } from './reads.ts';
import { Replica } from './replica.ts';
import { ReleasedMemory } from './released-memory.ts';
import { ResidentSet, trimPolicy, type ResidentStats } from './resident-set.ts';
import { storeCall, toClientError } from './store-errors.ts';

export interface ReplicaEngineOptions {
  store: ObjectStore;
  config?: Partial<EngineConfig> | undefined;
  logger?: Logger | undefined;
  clock?: Clock | undefined;
  /** Pages of slabs read by range, shared with the other engines of the process (see EngineOptions.pages). */
  pages?: PageCache | undefined;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The data plane of a query node: read-only replicas of the namespaces it is asked about, each
 * refreshed from the object store every `replicaRefreshMs` (the staleness bound of a default read:
 * that interval plus one refresh). A `strong` read refreshes first; a read with `minLsn` refreshes
 * until the replica reflects it, or answers 503 after `minLsnWaitMs`. A replica still loading
 * answers nothing until it is complete. Writes belong to writers and are refused.
 */
export class ReplicaEngine implements DataPlane {
  readonly #store: ObjectStore;
  readonly #config: EngineConfig;
  readonly #logger: Logger;
  readonly #registry: NamespaceRegistry;
  /**
   * Open replicas, dropped again by the memory budget and idle time. A replica dropped while a read
   * uses it is only forgotten: the read finishes on it.
   */
  readonly #replicas: ResidentSet<Replica>;
  readonly #clock: Clock;
  readonly #pages: PageCache;
  readonly #released: ReleasedMemory;
  /** Stops the background refreshes and trims. */
  readonly #stopTimers: (() => void)[];
  #closed = false;
  #slabBytesQueried = 0;

  constructor(options: ReplicaEngineOptions) {
    this.#store = options.store;
    this.#config = resolveEngineConfig(options.config);
    this.#logger = options.logger ?? pino({ level: 'silent' });
    this.#registry = new NamespaceRegistry(this.#store);
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.#pages = options.pages ?? new PageCache(pageCacheShare(this.#config.memoryBudgetBytes));
    this.#released = new ReleasedMemory(this.#clock);
    // Every use of a replica is a read: it promotes whatever it holds.
    this.#replicas = new ResidentSet(
      this.#clock,
      trimPolicy({ ...this.#config, promoteSlabs: 'always' }),
      (replica) => {
        replica.letGo();
        return Promise.resolve();
      },
      this.#released,
    );
    this.#stopTimers = [
      every(this.#clock, this.#config.replicaRefreshMs, () => this.#refreshAll()),
      every(this.#clock, this.#config.tickMs, () => this.trimMemory()),
    ];
  }

  /** Drops the replicas the memory budget and idle time say should not stay open; returns how many. */
  trimMemory(): number {
    return this.#closed ? 0 : this.#replicas.trim();
  }

  /** The open replicas, the memory they hold and what trims dropped, beside the budget. */
  memory(): ResidentStats {
    return this.#replicas.stats();
  }

  /** Sets the memory budget of what is open here (`memoryBudgetBytes`), from the next trim on. */
  setMemoryBudget(bytes: number): void {
    this.#replicas.setBudget(bytes);
  }

  /** Refreshes every replica read within `replicaIdleMs`; the idle ones wait for their next read. */
  #refreshAll(): void {
    const activeSince = this.#clock.now() - this.#config.replicaIdleMs;
    for (const [, replica, lastRead] of this.#replicas.values()) {
      if (lastRead < activeSince) continue;
      replica.compareIdsInBackground(); // in case no answered request started it
      replica.refresh().catch((err: unknown) => this.#logger.debug({ err, namespace: replica.name }, 'replica refresh failed; will retry'));
    }
  }

  /**
   * The replica of a namespace for a read, opened unless it is open, and marked read now. Refreshed
   * first when the read is strong, or when the replica was idle until now (no longer refreshed in
   * the background), so a default read is never staler than the background interval allows.
   */
  async #forRead(index: IndexHandle, namespace: string, strong: boolean): Promise<Replica> {
    if (this.#closed) throw new UnavailableError('the data plane is shutting down');
    const key = namespaceKey(index, namespace);
    const entry =
      this.#replicas.get(key) ??
      this.#replicas.open(key, () =>
        Replica.open({ store: this.#store, prefix: namespacePrefix(index.id, namespace), name: namespace, pages: this.#pages, released: this.#released }).catch(
          (err: unknown) => {
            throw toClientError(err);
          },
        ),
      );
    // A replica just opened was read now: it is not idle.
    const idle = this.#clock.now() - entry.lastUsed > this.#config.replicaIdleMs;
    this.#replicas.touch(entry);
    const replica = await entry.pending;
    if (strong || idle) await storeCall(() => replica.refreshAfterNow());
    return replica;
  }

  async #view(index: IndexHandle, namespace: string, read: ReadOptions | undefined): Promise<ReadView> {
    const replica = await this.#forRead(index, namespace, read?.consistency === 'strong');
    if (read?.minLsn !== undefined && replica.appliedLsn < read.minLsn) {
      const deadline = Date.now() + this.#config.minLsnWaitMs;
      while (replica.appliedLsn < read.minLsn) {
        if (Date.now() >= deadline) {
          throw new UnavailableError(
            `namespace ${displayName(namespace)} reached LSN ${replica.appliedLsn} on this node, not ${read.minLsn}, within ${this.#config.minLsnWaitMs} ms; retry`,
          );
        }
        await storeCall(() => replica.refreshAfterNow());
        if (replica.appliedLsn < read.minLsn) await sleep(Math.min(20, this.#config.replicaRefreshMs));
      }
    }
    return { snapshot: replica.snapshot(), indexedLsn: replica.appliedLsn };
  }

  async query(index: IndexHandle, namespace: string, query: QueryInput, read?: ReadOptions): Promise<QueryMatches> {
    const view = await this.#view(index, namespace, read);
    for (const layer of view.snapshot.slabs) this.#slabBytesQueried += layer.reader.fileBytes;
    return queryView(view, index, query, this.#config.exactBudget);
  }

  /**
   * Bytes of slabs the queries of this node have searched since start: every slab of each query's
   * snapshot, held in memory by its replica. Beside the slab cache's fetches from the object store,
   * it says what share of the slab bytes queries used came from this node rather than the store.
   */
  get slabBytesQueried(): number {
    return this.#slabBytesQueried;
  }

  async fetch(index: IndexHandle, namespace: string, ids: string[], read?: ReadOptions): Promise<FetchedRecords> {
    return fetchView(await this.#view(index, namespace, read), ids);
  }

  async list(index: IndexHandle, namespace: string, list: ListInput, read?: ReadOptions): Promise<IdPage> {
    return listView(await this.#view(index, namespace, read), list);
  }

  async fetchByMetadata(index: IndexHandle, namespace: string, input: FetchByMetadataInput, read?: ReadOptions): Promise<RecordPage> {
    return fetchByMetadataView(await this.#view(index, namespace, read), input);
  }

  async namespaceStats(index: IndexHandle, namespace: string): Promise<NamespaceSummary> {
    if (!(await this.#registry.exists(index, namespace))) throw new NotFoundError(`Namespace ${displayName(namespace)} not found.`);
    const replica = await this.#forRead(index, namespace, false);
    return { name: namespace, recordCount: countLive(await replica.settledSnapshot()) };
  }

  namespaceNames(index: IndexHandle): Promise<string[]> {
    return this.#registry.existingNames(index);
  }

  async listNamespaces(index: IndexHandle): Promise<NamespaceSummary[]> {
    return Promise.all((await this.namespaceNames(index)).map((name) => this.namespaceStats(index, name)));
  }

  async describeNamespace(index: IndexHandle, namespace: string): Promise<NamespaceInternals> {
    const described = (await this.#forRead(index, namespace, false)).describe();
    const slabCache = slabCacheStats(this.#store);
    return slabCache ? { ...described, slabCache } : described;
  }

  /** Forgets the index's replicas (its data is being removed by a writer). */
  async dropIndex(index: IndexHandle): Promise<void> {
    const prefix = `${index.id}\u0000`;
    for (const key of this.#replicas.keys()) {
      if (!key.startsWith(prefix)) continue;
      this.#replicas.take(key);
    }
  }

  upsert(): Promise<UpsertResult> {
    return Promise.reject(readOnly());
  }
  update(): Promise<UpdateResult> {
    return Promise.reject(readOnly());
  }
  delete(): Promise<DeleteResult> {
    return Promise.reject(readOnly());
  }
  createNamespace(): Promise<void> {
    return Promise.reject(readOnly());
  }
  deleteNamespace(): Promise<void> {
    return Promise.reject(readOnly());
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const stop of this.#stopTimers) stop();
    for (const [, replica] of this.#replicas.values()) replica.letGo();
    this.#replicas.clear();
  }
}

function readOnly(): UnavailableError {
  return new UnavailableError("this node serves reads only (query role); writes go to the namespace's writer");
}
