/**
 * The object store of a simulated node: every call waits until the simulation delivers it, so the
 * seed decides the order in which concurrent requests reach storage (and the latency between
 * them), and a delivery may fail the way real stores do: a transient error before the request
 * lands, or an acknowledgement lost after it landed. Killing the store freezes its node: nothing
 * it sends ever reaches storage or returns, as after a crash.
 */
import type { Clock } from '@conifer/core';
import {
  MemoryObjectStore,
  ObjectStoreError,
  type ListOptions,
  type ListPage,
  type ObjectBody,
  type ObjectMeta,
  type ObjectStore,
  type TokenedMeta,
  type WriteTokenSupport,
} from '@conifer/storage';

/** How one delivery goes. */
export type Delivery = 'ok' | 'error' | 'lost-ack';

interface Pending {
  /** When the call was made, by the simulation's clock. */
  at: number;
  operation: string;
  key: string;
  write: boolean;
  run: () => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
}

const never = new Promise<never>(() => undefined);

export class SimStore implements ObjectStore, WriteTokenSupport {
  readonly #inner: MemoryObjectStore;
  readonly #clock: Clock;
  /** Deliver every call at once, faultless (the final check's node). */
  readonly #immediate: boolean;
  /** A call waiting longer than this was abandoned by its sender, and is dropped rather than landing late. */
  readonly #dropAfterMs: number;
  #pending: Pending[] = [];
  #dead = false;

  constructor(inner: MemoryObjectStore, options: { clock: Clock; immediate?: boolean; dropAfterMs?: number }) {
    this.#inner = inner;
    this.#clock = options.clock;
    this.#immediate = options.immediate ?? false;
    this.#dropAfterMs = options.dropAfterMs ?? Infinity;
  }

  /** Calls waiting for delivery. */
  get pending(): number {
    return this.#pending.length;
  }

  /** Freezes the node: what it sent is dropped, and nothing it sends from now on returns. */
  kill(): void {
    this.#dead = true;
    this.#pending = [];
  }

  /** Delivers the `index`-th waiting call. */
  async deliver(index: number, how: Delivery): Promise<void> {
    const [call] = this.#pending.splice(index, 1);
    if (!call) return;
    const abandoned = this.#clock.now() - call.at > this.#dropAfterMs;
    if (abandoned || how === 'error' || (how === 'lost-ack' && !call.write)) {
      call.reject(new ObjectStoreError('transient', `simulated: ${call.operation} ${call.key} failed`, { key: call.key }));
      return;
    }
    let result: unknown;
    try {
      result = await call.run();
    } catch (err) {
      call.reject(err);
      return;
    }
    if (how === 'lost-ack')
      call.reject(new ObjectStoreError('transient', `simulated: ${call.operation} ${call.key} landed, its answer was lost`, { key: call.key }));
    else call.resolve(result);
  }

  #call<T>(operation: string, key: string, write: boolean, run: () => Promise<T>): Promise<T> {
    if (this.#dead) return never;
    if (this.#immediate) return run();
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ at: this.#clock.now(), operation, key, write, run, resolve: resolve as (value: unknown) => void, reject });
    });
  }

  get(key: string): Promise<ObjectBody | null> {
    return this.#call('get', key, false, () => this.#inner.get(key));
  }
  getRange(key: string, start: number, end: number): Promise<Uint8Array | null> {
    return this.#call('getRange', key, false, () => this.#inner.getRange(key, start, end));
  }
  head(key: string): Promise<ObjectMeta | null> {
    return this.#call('head', key, false, () => this.#inner.head(key));
  }
  headWithToken(key: string): Promise<TokenedMeta | null> {
    return this.#call('head', key, false, () => this.#inner.headWithToken(key));
  }
  put(key: string, data: Uint8Array): Promise<ObjectMeta> {
    return this.#call('put', key, true, () => this.#inner.put(key, data));
  }
  putIfAbsent(key: string, data: Uint8Array): Promise<ObjectMeta> {
    return this.#call('putIfAbsent', key, true, () => this.#inner.putIfAbsent(key, data));
  }
  putIfAbsentWithToken(key: string, data: Uint8Array, token: string): Promise<ObjectMeta> {
    return this.#call('putIfAbsent', key, true, () => this.#inner.putIfAbsentWithToken(key, data, token));
  }
  putIfMatch(key: string, data: Uint8Array, etag: string): Promise<ObjectMeta> {
    return this.#call('putIfMatch', key, true, () => this.#inner.putIfMatch(key, data, etag));
  }
  putIfMatchWithToken(key: string, data: Uint8Array, etag: string, token: string): Promise<ObjectMeta> {
    return this.#call('putIfMatch', key, true, () => this.#inner.putIfMatchWithToken(key, data, etag, token));
  }
  delete(key: string): Promise<void> {
    return this.#call('delete', key, true, () => this.#inner.delete(key));
  }
  list(prefix: string, options?: ListOptions): Promise<ListPage> {
    return this.#call('list', prefix, false, () => this.#inner.list(prefix, options));
  }
}
