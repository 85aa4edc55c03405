import { mulberry32 } from '@conifer/core';
import {
  hasWriteTokens,
  ObjectStoreError,
  type ListOptions,
  type ListPage,
  type ObjectBody,
  type ObjectMeta,
  type ObjectStore,
  type TokenedMeta,
  type WriteTokenSupport,
} from './object-store.ts';

/** The calls of the contract, as faults name them (the write-token variants count as their plain form). */
export type StoreOperation = 'get' | 'getRange' | 'head' | 'put' | 'putIfAbsent' | 'putIfMatch' | 'delete' | 'list';

const WRITES: ReadonlySet<StoreOperation> = new Set(['put', 'putIfAbsent', 'putIfMatch', 'delete']);

/**
 * - `transient`: a 5xx; the store never sees the call.
 * - `throttled`: a 429/503 SlowDown; the store never sees the call.
 * - `timeout`: the call hangs for `timeoutMs`, then fails as a timeout; the store never sees it.
 * - `lost-ack`: the call reaches the store and succeeds there, but the caller sees a timeout
 *   ("the write happened but the response was lost"). On a read it acts as `timeout`.
 */
export type FaultKind = 'transient' | 'throttled' | 'timeout' | 'lost-ack';

/** Random faults: each call draws once and gets at most one fault. */
export interface FaultPlan {
  /** Probability of each fault per call (0..1). */
  transient?: number;
  throttled?: number;
  timeout?: number;
  lostAck?: number;
  /** How long an injected timeout hangs before failing. Default 20 ms. */
  timeoutMs?: number;
  /** Only these operations get random faults. Default: all. */
  operations?: readonly StoreOperation[];
  /** Only keys (list: prefixes) matching this get random faults. Default: all. */
  keys?: RegExp;
  /** Seed of the fault generator, for reproducible runs. Default 1. */
  seed?: number;
}

export interface FaultStats {
  calls: number;
  transient: number;
  throttled: number;
  timeout: number;
  'lost-ack': number;
  outage: number;
}

export interface FaultController {
  /** Replaces the random plan (`{}` turns random faults off). */
  setPlan(plan: FaultPlan): void;
  /** Makes the next `times` calls that match fail with `kind`, before the random plan is consulted. */
  /**
   * Queues `times` faults of `kind` for the next matching calls. With `distinctKeys`, each hits a
   * different key, so the retries of one faulted call do not use up the others.
   */
  inject(kind: FaultKind, options?: { operation?: StoreOperation; key?: RegExp; times?: number; distinctKeys?: boolean }): void;
  /**
   * The store goes down: every call fails until `restore()`. `refuse` fails at once like a closed
   * port; `hang` holds each call until restore (or `hangMs`, default 60 s) and then fails — a
   * black-holed network, which only a caller's own timeout ends.
   */
  outage(mode?: 'refuse' | 'hang', hangMs?: number): void;
  restore(): void;
  readonly down: boolean;
  readonly stats: Readonly<FaultStats>;
}

export interface FaultyObjectStore extends ObjectStore {
  readonly inner: ObjectStore;
  readonly faults: FaultController;
}

/**
 * The one allowed fake: wraps a real store (an emulator-backed adapter, or memory for unit tests)
 * and injects failures in front of it — transient 5xx, throttling, timeouts, timeouts after the
 * write landed, and outages. Everything that is not failed goes to the real store, so what tests
 * observe afterwards is real storage state. Write tokens of the inner store pass through.
 *
 * @example
 * const faulty = withFaults(s3, { transient: 0.2, lostAck: 0.1 });
 * const store = withRetries(faulty);
 * faulty.faults.outage(); ... faulty.faults.restore();
 */
export function withFaults(store: ObjectStore, plan: FaultPlan = {}): FaultyObjectStore & Partial<WriteTokenSupport> {
  return new FaultyStore(store, plan);
}

class FaultyStore implements FaultyObjectStore, FaultController {
  readonly inner: ObjectStore;
  get remote(): boolean {
    return this.inner.remote === true;
  }
  async close(): Promise<void> {
    await this.inner.close?.();
  }
  readonly faults: FaultController = this;
  readonly stats: FaultStats = { calls: 0, transient: 0, throttled: 0, timeout: 0, 'lost-ack': 0, outage: 0 };
  readonly putIfAbsentWithToken?: (key: string, data: Uint8Array, token: string) => Promise<ObjectMeta>;
  readonly putIfMatchWithToken?: (key: string, data: Uint8Array, etag: string, token: string) => Promise<ObjectMeta>;
  readonly headWithToken?: (key: string) => Promise<TokenedMeta | null>;
  #plan: FaultPlan = {};
  #random: () => number = mulberry32(1);
  #queued: { kind: FaultKind; operation: StoreOperation | undefined; key: RegExp | undefined; times: number; hitKeys?: Set<string> }[] = [];
  #outage: { mode: 'refuse' | 'hang'; hangMs: number; restored: Promise<void>; restore: () => void } | undefined;

  constructor(inner: ObjectStore, plan: FaultPlan) {
    this.inner = inner;
    this.setPlan(plan);
    if (hasWriteTokens(inner)) {
      this.putIfAbsentWithToken = (key, data, token) => this.#call('putIfAbsent', key, () => inner.putIfAbsentWithToken(key, data, token));
      this.putIfMatchWithToken = (key, data, etag, token) => this.#call('putIfMatch', key, () => inner.putIfMatchWithToken(key, data, etag, token));
      this.headWithToken = (key) => this.#call('head', key, () => inner.headWithToken(key));
    }
  }

  setPlan(plan: FaultPlan): void {
    this.#plan = plan;
    this.#random = mulberry32(plan.seed ?? 1);
  }

  inject(kind: FaultKind, options: { operation?: StoreOperation; key?: RegExp; times?: number; distinctKeys?: boolean } = {}): void {
    this.#queued.push({
      kind,
      operation: options.operation,
      key: options.key,
      times: options.times ?? 1,
      ...(options.distinctKeys ? { hitKeys: new Set<string>() } : {}),
    });
  }

  outage(mode: 'refuse' | 'hang' = 'refuse', hangMs = 60_000): void {
    if (this.#outage) return;
    let restore!: () => void;
    const restored = new Promise<void>((resolve) => (restore = resolve));
    this.#outage = { mode, hangMs, restored, restore };
  }

  restore(): void {
    this.#outage?.restore();
    this.#outage = undefined;
  }

  get down(): boolean {
    return this.#outage !== undefined;
  }

  get(key: string): Promise<ObjectBody | null> {
    return this.#call('get', key, () => this.inner.get(key));
  }
  getRange(key: string, start: number, end: number): Promise<Uint8Array | null> {
    return this.#call('getRange', key, () => this.inner.getRange(key, start, end));
  }
  head(key: string): Promise<ObjectMeta | null> {
    return this.#call('head', key, () => this.inner.head(key));
  }
  put(key: string, data: Uint8Array): Promise<ObjectMeta> {
    return this.#call('put', key, () => this.inner.put(key, data));
  }
  putIfAbsent(key: string, data: Uint8Array): Promise<ObjectMeta> {
    return this.#call('putIfAbsent', key, () => this.inner.putIfAbsent(key, data));
  }
  putIfMatch(key: string, data: Uint8Array, etag: string): Promise<ObjectMeta> {
    return this.#call('putIfMatch', key, () => this.inner.putIfMatch(key, data, etag));
  }
  delete(key: string): Promise<void> {
    return this.#call('delete', key, () => this.inner.delete(key));
  }
  list(prefix: string, options?: ListOptions): Promise<ListPage> {
    return this.#call('list', prefix, () => this.inner.list(prefix, options));
  }

  async #call<T>(operation: StoreOperation, key: string, run: () => Promise<T>): Promise<T> {
    this.stats.calls++;
    const outage = this.#outage;
    if (outage) {
      this.stats.outage++;
      if (outage.mode === 'hang') await Promise.race([outage.restored, sleep(outage.hangMs)]);
      throw new ObjectStoreError('transient', `injected outage: ${operation} ${key}: connect ECONNREFUSED (store down)`, { key });
    }
    const fault = this.#pick(operation, key);
    if (fault === undefined) return run();
    this.stats[fault]++;
    const timeoutMs = this.#plan.timeoutMs ?? 20;
    switch (fault) {
      case 'transient':
        throw new ObjectStoreError('transient', `injected fault: ${operation} ${key}: 503 Service Unavailable`, { key });
      case 'throttled':
        throw new ObjectStoreError('throttled', `injected fault: ${operation} ${key}: 429 SlowDown`, { key });
      case 'lost-ack':
        if (WRITES.has(operation)) {
          // The write reaches the store; only its answer is lost.
          await run().catch(() => undefined);
        }
        await sleep(timeoutMs);
        throw new ObjectStoreError('transient', `injected fault: ${operation} ${key}: timed out waiting for the response`, { key });
      case 'timeout':
        await sleep(timeoutMs);
        throw new ObjectStoreError('transient', `injected fault: ${operation} ${key}: request timed out`, { key });
    }
  }

  #pick(operation: StoreOperation, key: string): FaultKind | undefined {
    const queued = this.#queued.find(
      (q) => (q.operation === undefined || q.operation === operation) && (q.key === undefined || q.key.test(key)) && !q.hitKeys?.has(key),
    );
    if (queued) {
      queued.hitKeys?.add(key);
      if (--queued.times <= 0) this.#queued.splice(this.#queued.indexOf(queued), 1);
      return queued.kind;
    }
    const plan = this.#plan;
    if (plan.operations && !plan.operations.includes(operation)) return undefined;
    if (plan.keys && !plan.keys.test(key)) return undefined;
    let draw = this.#random();
    for (const [kind, p] of [
      ['transient', plan.transient],
      ['throttled', plan.throttled],
      ['timeout', plan.timeout],
      ['lost-ack', plan.lostAck],
    ] as const) {
      if (p === undefined || p <= 0) continue;
      if (draw < p) return kind;
      draw -= p;
    }
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
