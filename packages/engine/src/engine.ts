import {
  AlreadyExistsError,
  every,
  float32ArrayToNumbers,
  InvalidArgumentError,
  NotFoundError,
  sparseToWire,
  SYSTEM_CLOCK,
  SYSTEM_RANDOM,
  UnavailableError,
  type Clock,
  type FetchByMetadataResult,
  type FetchResult,
  type FetchedRecord,
  type ListResult,
  type QueryResult,
  type RandomSource,
  type UpsertResult,
} from '@conifer/core';
import type { LogOp, PutRecord } from '@conifer/log';
import { countLive, getRecord, listIds, matchingIds, searchSnapshot } from '@conifer/router';
import { Compactor } from '@conifer/index-builder';
import { deletePrefix, type CachedObjectStore, type ObjectStore } from '@conifer/storage';
import { pino, type Logger } from 'pino';
import { resolveEngineConfig, type EngineConfig } from './config.ts';
import type {
  DataPlane,
  DeleteInput,
  FetchByMetadataInput,
  DeleteResult,
  IndexHandle,
  ListInput,
  NamespaceInternals,
  NamespaceSummary,
  QueryInput,
  RecordInput,
  UpdateInput,
  UpdateResult,
} from './data-plane.ts';
import { indexPrefix, namespacePrefix } from './layout.ts';
import { Namespace } from './namespace.ts';
import { namespaceKey, NamespaceRegistry } from './namespace-registry.ts';
import { decodePaginationToken, encodePaginationToken, toFetched, toSparse, toVector } from './records.ts';
import { storeCall, toClientError } from './store-errors.ts';

export interface EngineOptions {
  store: ObjectStore;
  config?: Partial<EngineConfig> | undefined;
  logger?: Logger | undefined;
  /** Time of the engine's timers, memtable ages, GC and manifests. Default: the system clock. */
  clock?: Clock | undefined;
  /** Randomness of slab ids. Default `Math.random`. */
  random?: RandomSource | undefined;
}

/** Ids per log entry when a request (an update or delete by filter) touches many records. */
const DELETE_CHUNK = 10_000;

/** How messages name a namespace: the default one by its API alias. */
function displayName(namespace: string): string {
  return namespace === '' ? '__default__' : namespace;
}

/**
 * The data plane of one node: opens namespaces on first use and routes every call to the
 * namespace's engine. Reads of a namespace that was never written see an empty namespace.
 */
export class Engine implements DataPlane {
  readonly #store: ObjectStore;
  readonly #config: EngineConfig;
  readonly #logger: Logger;
  readonly #namespaces = new Map<string, Promise<Namespace>>();
  /** Namespaces whose storage is being removed; opens wait for it. */
  readonly #deleting = new Map<string, Promise<void>>();
  readonly #registry: NamespaceRegistry;
  readonly #clock: Clock;
  readonly #random: RandomSource;
  /** Stops the periodic tick. */
  readonly #stopTicking: () => void;
  /** Worker threads shared by every namespace's compactions (bounded concurrency). */
  readonly #compactor: Compactor;
  #closed = false;

  constructor(options: EngineOptions) {
    this.#store = options.store;
    this.#config = resolveEngineConfig(options.config);
    this.#logger = options.logger ?? pino({ level: 'silent' });
    this.#registry = new NamespaceRegistry(this.#store);
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.#random = options.random ?? SYSTEM_RANDOM;
    this.#compactor = new Compactor(this.#config.compactor, this.#clock);
    this.#stopTicking = every(this.#clock, this.#config.tickMs, () => void this.#tick());
  }

  get config(): EngineConfig {
    return this.#config;
  }

  async #tick(): Promise<void> {
    const now = this.#clock.now();
    for (const pending of this.#namespaces.values()) {
      const ns = await pending.catch(() => undefined);
      ns?.tick(now);
    }
  }

  /** Refuses work once `close` has begun (the namespaces are being flushed and closed). */
  #assertOpen(): void {
    if (this.#closed) throw new UnavailableError('the data plane is shutting down');
  }

  async #open(index: IndexHandle, namespace: string): Promise<Namespace> {
    this.#assertOpen();
    const key = namespaceKey(index, namespace);
    await this.#deleting.get(key);
    let pending = this.#namespaces.get(key);
    if (pending) {
      // Fenced by another writer's newer manifest: drop this view (everything it acknowledged is
      // in the log or in the other writer's slabs) and reopen from the store.
      const current = await pending.catch(() => undefined);
      if (current?.stale && this.#namespaces.get(key) === pending) {
        this.#namespaces.delete(key);
        void current.close({ flush: false });
      }
      pending = this.#namespaces.get(key);
    }
    // No await between this lookup and the set below: concurrent callers share one open.
    if (!pending) {
      pending = this.#openFresh(index, namespace).catch((err: unknown) => {
        throw toClientError(err);
      });
      this.#namespaces.set(key, pending);
      pending.catch(() => this.#namespaces.delete(key));
    }
    return pending;
  }

  async #openFresh(index: IndexHandle, namespace: string): Promise<Namespace> {
    await this.#registry.prepareOpen(index, namespace);
    return Namespace.open({
      store: this.#store,
      prefix: namespacePrefix(index.id, namespace),
      name: namespace,
      dimension: index.dimension,
      metric: index.metric,
      config: this.#config,
      logger: this.#logger,
      compactor: this.#compactor,
      clock: this.#clock,
      random: this.#random,
    });
  }

  async upsert(index: IndexHandle, namespace: string, records: RecordInput[]): Promise<UpsertResult> {
    // Validate the whole batch before anything is logged: a bad record rejects the request whole.
    // One buffer for the batch's vectors: a thousand small typed arrays per request kept the GC busy.
    const dimension = index.dimension;
    const batch = new Float32Array(records.length * dimension);
    const put: PutRecord[] = records.map((r, i) => {
      const sparse = toSparse(r.sparseValues);
      return {
        id: r.id,
        values: toVector(index, r.values, `records[${i}].values`, batch.subarray(i * dimension, (i + 1) * dimension)),
        ...(sparse ? { sparse } : {}),
        ...(r.metadata && Object.keys(r.metadata).length > 0 ? { metadata: r.metadata } : {}),
      };
    });
    const ns = await this.#open(index, namespace);
    await this.#registry.register(index, namespace);
    const { lsn } = await ns.write({ kind: 'put', records: put });
    return { lsn, upsertedCount: put.length };
  }

  async update(index: IndexHandle, namespace: string, update: UpdateInput): Promise<UpdateResult> {
    const values = update.values === undefined ? undefined : toVector(index, update.values, 'values');
    const sparse = toSparse(update.sparseValues);
    const ns = await this.#open(index, namespace);
    if (!(await this.#registry.exists(index, namespace))) return { lsn: ns.lastLsn, matchedRecords: 0 };
    // An update by filter is resolved to ids against the current state, then logged as one patch.
    const ids = update.id !== undefined ? [update.id] : matchingIds(ns.snapshot(), update.filter!);
    if (ids.length === 0) return { lsn: ns.lastLsn, matchedRecords: 0 };
    const { lsn, matched } = await writeInChunks(ns, ids, (chunk) => ({
      kind: 'update',
      ids: chunk,
      ...(values ? { values } : {}),
      ...(sparse ? { sparse } : {}),
      ...(update.setMetadata ? { setMetadata: update.setMetadata } : {}),
    }));
    return { lsn, matchedRecords: matched };
  }

  async delete(index: IndexHandle, namespace: string, del: DeleteInput): Promise<DeleteResult> {
    const ns = await this.#open(index, namespace);
    if (!(await this.#registry.exists(index, namespace))) return { lsn: ns.lastLsn, deletedCount: 0 };
    if (del.deleteAll) {
      const { lsn } = await ns.write({ kind: 'deleteAll' });
      return { lsn };
    }
    // Delete by filter is resolved to ids against the current state, then logged as plain deletes.
    const ids = del.ids ?? matchingIds(ns.snapshot(), del.filter!);
    if (ids.length === 0) return { lsn: ns.lastLsn, deletedCount: 0 };
    const { lsn } = await writeInChunks(ns, ids, (chunk) => ({ kind: 'delete', ids: chunk }));
    return { lsn, deletedCount: ids.length };
  }

  async query(index: IndexHandle, namespace: string, query: QueryInput): Promise<QueryResult> {
    const ns = await this.#open(index, namespace);
    const snapshot = ns.snapshot();
    const sparse = toSparse(query.sparseVector);
    if (query.sparseVector && index.metric !== 'dotproduct') {
      throw new InvalidArgumentError(`sparseVector: sparse (hybrid) queries need an index with metric dotproduct; this index uses ${index.metric}`);
    }
    let vector: Float32Array;
    if (query.id !== undefined) {
      const record = getRecord(snapshot, query.id);
      if (!record) return { matches: [], namespace, usage: { readUnits: 1 } };
      vector = record.values;
    } else {
      vector = toVector(index, query.vector!, 'vector');
    }
    const hits = await searchSnapshot(snapshot, {
      metric: index.metric,
      vector,
      sparse,
      topK: query.topK,
      exactBudget: this.#config.exactBudget,
      recallTarget: query.recallTarget,
      filter: query.filter,
    });
    return {
      matches: hits.map((hit) => {
        const metadata = query.includeMetadata ? hit.metadata() : undefined;
        const hitSparse = query.includeValues ? hit.sparse() : undefined;
        return {
          id: hit.id,
          score: hit.score,
          ...(query.includeValues ? { values: float32ArrayToNumbers(hit.values()) } : {}),
          ...(hitSparse ? { sparseValues: sparseToWire(hitSparse) } : {}),
          ...(metadata ? { metadata } : {}),
        };
      }),
      namespace,
      usage: { readUnits: 1 },
    };
  }

  async fetch(index: IndexHandle, namespace: string, ids: string[]): Promise<FetchResult> {
    const ns = await this.#open(index, namespace);
    const snapshot = ns.snapshot();
    const found: [string, FetchedRecord][] = [];
    for (const id of ids) {
      const record = getRecord(snapshot, id);
      if (record) found.push([id, toFetched(record)]);
    }
    // fromEntries defines own properties, so an id such as "__proto__" is kept like any other.
    return { records: Object.fromEntries(found), namespace, usage: { readUnits: 1 } };
  }

  async list(index: IndexHandle, namespace: string, list: ListInput): Promise<ListResult> {
    const ns = await this.#open(index, namespace);
    let after: string | undefined;
    if (list.paginationToken !== undefined) after = decodePaginationToken(list.paginationToken);
    const page = listIds(ns.snapshot(), { prefix: list.prefix ?? '', limit: list.limit, after });
    return {
      ids: page.ids,
      namespace,
      ...(page.next !== undefined ? { pagination: { next: encodePaginationToken(page.next) } } : {}),
      usage: { readUnits: 1 },
    };
  }

  async fetchByMetadata(index: IndexHandle, namespace: string, input: FetchByMetadataInput): Promise<FetchByMetadataResult> {
    const ns = await this.#open(index, namespace);
    const snapshot = ns.snapshot();
    const after = input.paginationToken !== undefined ? decodePaginationToken(input.paginationToken) : undefined;
    const ids = matchingIds(snapshot, input.filter)
      .filter((id) => after === undefined || id > after)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const page = ids.slice(0, input.limit);
    const records = page.map((id) => toFetched(getRecord(snapshot, id)!));
    return {
      records,
      namespace,
      ...(ids.length > input.limit ? { pagination: { next: encodePaginationToken(page[page.length - 1]!) } } : {}),
      usage: { readUnits: 1 },
    };
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
    const ns = await this.#open(index, namespace);
    return { name: namespace, recordCount: countLive(ns.snapshot()) };
  }

  async listNamespaces(index: IndexHandle): Promise<NamespaceSummary[]> {
    const out: NamespaceSummary[] = [];
    for (const name of await this.#registry.names(index)) {
      if (!(await this.#registry.exists(index, name))) continue; // an interrupted deletion, finished now
      const ns = await this.#open(index, name);
      out.push({ name, recordCount: countLive(ns.snapshot()) });
    }
    return out;
  }

  async describeNamespace(index: IndexHandle, namespace: string): Promise<NamespaceInternals> {
    const ns = await this.#open(index, namespace);
    const cache = (this.#store as Partial<CachedObjectStore>).cache?.stats();
    if (!cache) return ns.describe();
    const hits = cache.memoryHits + cache.diskHits;
    return {
      ...ns.describe(),
      slabCache: {
        hits,
        misses: cache.misses,
        hitRate: hits + cache.misses === 0 ? 0 : hits / (hits + cache.misses),
        bytesFromStore: cache.bytesFromStore,
        memoryBytes: cache.memoryBytes,
        diskBytes: cache.diskBytes,
      },
    };
  }

  async deleteNamespace(index: IndexHandle, namespace: string): Promise<void> {
    this.#assertOpen();
    const key = namespaceKey(index, namespace);
    if (!(await this.#registry.exists(index, namespace))) throw new NotFoundError(`Namespace ${displayName(namespace)} not found.`);
    await this.#deleting.get(key);
    const deletion = (async () => {
      const open = this.#namespaces.get(key);
      this.#namespaces.delete(key);
      this.#registry.forget(key);
      const ns = await open?.catch(() => undefined);
      await ns?.close({ flush: false });
      await storeCall(() => this.#registry.removeStorage(index, namespace));
    })();
    this.#deleting.set(key, deletion);
    try {
      await deletion;
    } finally {
      this.#deleting.delete(key);
    }
  }

  async dropIndex(index: IndexHandle): Promise<void> {
    this.#assertOpen();
    const prefix = `${index.id}\u0000`;
    for (const [key, pending] of [...this.#namespaces]) {
      if (!key.startsWith(prefix)) continue;
      this.#namespaces.delete(key);
      this.#registry.forget(key);
      const ns = await pending.catch(() => undefined);
      await ns?.close({ flush: false });
    }
    await storeCall(() => deletePrefix(this.#store, indexPrefix(index.id)));
  }

  /** Flushes the namespace's memtable to a slab and waits for the compaction and GC it triggers. */
  async flush(index: IndexHandle, namespace: string): Promise<void> {
    const ns = await this.#open(index, namespace);
    await ns.settle();
  }

  /** Flushes every open namespace and stops background work. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopTicking();
    // A namespace deletion under way finishes first: its storage must not be written behind it.
    await Promise.all([...this.#deleting.values()].map((p) => p.catch(() => undefined)));
    const all = await Promise.all([...this.#namespaces.values()].map((p) => p.catch(() => undefined)));
    await Promise.all(all.map((ns) => ns?.close({ flush: true })));
    this.#namespaces.clear();
    await this.#compactor.close();
  }

  /** Test hook: forget every open namespace without flushing, as a crash would. */
  abandon(): void {
    this.#closed = true;
    this.#stopTicking();
    void this.#compactor.close();
    this.#namespaces.clear();
  }
}

/**
 * Logs a write that touches many ids as one entry per DELETE_CHUNK ids, so no log object grows
 * without bound; returns the last LSN and how many records the entries matched.
 */
async function writeInChunks(ns: Namespace, ids: string[], op: (chunk: string[]) => LogOp): Promise<{ lsn: number; matched: number }> {
  let lsn = ns.lastLsn;
  let matched = 0;
  for (let i = 0; i < ids.length; i += DELETE_CHUNK) {
    const written = await ns.write(op(ids.slice(i, i + DELETE_CHUNK)));
    lsn = written.lsn;
    matched += written.result.matched;
  }
  return { lsn, matched };
}

export async function createEngine(options: EngineOptions): Promise<Engine> {
  return new Engine(options);
}
