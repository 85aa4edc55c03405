import { setTimeout as sleep } from 'node:timers/promises';
import { mulberry32 } from '@conifer/core';
import {
  hasWriteTokens,
  readRangeIntoOf,
  type ListOptions,
  type ListPage,
  type ObjectBody,
  type ObjectMeta,
  type ObjectStore,
  type TokenedMeta,
  type WriteTokenSupport,
} from './object-store.ts';

/**
 * A cloud bucket's latency, as a model: every call waits a time to first byte drawn from a
 * log-normal law (its median and 99th percentile), then moves its body at a per-call rate.
 */
export interface LatencyModel {
  firstByteMs: { p50: number; p99: number };
  /** Bytes per second of one call's body, read or written. */
  bytesPerSecond: number;
  /** Seed of the draws. Default 1. */
  seed?: number;
}

/** S3 Standard as measured from EC2 in the same region, roughly: 25 ms p50, 80 ms p99, 100 MB/s a stream. */
export const S3_LATENCY: LatencyModel = { firstByteMs: { p50: 25, p99: 80 }, bytesPerSecond: 100e6 };

/**
 * `s3` (S3_LATENCY) or `<p50 ms>/<p99 ms>/<MB per second>` such as `25/80/100`; undefined when
 * `raw` is neither (or p99 is below p50).
 */
export function parseLatencyModel(raw: string): LatencyModel | undefined {
  if (raw === 's3') return S3_LATENCY;
  const match = /^(\d+(?:\.\d+)?)\/(\d+(?:\.\d+)?)\/(\d+(?:\.\d+)?)$/.exec(raw);
  if (!match) return undefined;
  const [p50, p99, mbps] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (p99 < p50 || mbps <= 0) return undefined;
  return { firstByteMs: { p50, p99 }, bytesPerSecond: mbps * 1e6 };
}

/** The 99th percentile of the standard normal law. */
const Z99 = 2.326;

/**
 * Simulated latency in front of a real store, for benchmarks: local disk answers in microseconds,
 * which no emulator changes, so figures of cold reads "from a bucket" need the bucket's time to
 * first byte and per-stream bandwidth added (a fake allowed for what a real local part cannot
 * produce). Every call of the contract waits; results are the inner store's.
 */
export function withLatency(store: ObjectStore, model: LatencyModel): ObjectStore & Partial<WriteTokenSupport> {
  return new LatencyStore(store, model);
}

class LatencyStore implements ObjectStore {
  readonly inner: ObjectStore;
  readonly #model: LatencyModel;
  readonly #random: () => number;
  /** The log-normal's sigma, from its median and 99th percentile. */
  readonly #sigma: number;
  readonly putIfAbsentWithToken?: (key: string, data: Uint8Array, token: string) => Promise<ObjectMeta>;
  readonly putIfMatchWithToken?: (key: string, data: Uint8Array, etag: string, token: string) => Promise<ObjectMeta>;
  readonly headWithToken?: (key: string) => Promise<TokenedMeta | null>;

  constructor(inner: ObjectStore, model: LatencyModel) {
    this.inner = inner;
    this.#model = model;
    this.#random = mulberry32(model.seed ?? 1);
    this.#sigma = model.firstByteMs.p50 > 0 ? Math.log(model.firstByteMs.p99 / model.firstByteMs.p50) / Z99 : 0;
    if (hasWriteTokens(inner)) {
      this.putIfAbsentWithToken = (key, data, token) => this.#after(data.byteLength, () => inner.putIfAbsentWithToken(key, data, token));
      this.putIfMatchWithToken = (key, data, etag, token) => this.#after(data.byteLength, () => inner.putIfMatchWithToken(key, data, etag, token));
      this.headWithToken = (key) => this.#after(0, () => inner.headWithToken(key));
    }
  }

  /** A bucket, as far as callers can tell: every call costs a round trip (whatever the inner store is). */
  get remote(): boolean {
    return true;
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }

  /** One draw of the time to first byte, in ms (Box-Muller over the seeded source). */
  firstByteMs(): number {
    const u = Math.max(this.#random(), Number.MIN_VALUE);
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.#random());
    return this.#model.firstByteMs.p50 * Math.exp(this.#sigma * z);
  }

  #transferMs(bytes: number): number {
    return (bytes / this.#model.bytesPerSecond) * 1000;
  }

  /** A write: first byte and the upload before the call. */
  async #after<T>(bytes: number, run: () => Promise<T>): Promise<T> {
    await sleep(this.firstByteMs() + this.#transferMs(bytes));
    return run();
  }

  /** A read: first byte before the call, the download after it (its size is known then). */
  async #read<T>(run: () => Promise<T>, size: (result: T) => number): Promise<T> {
    await sleep(this.firstByteMs());
    const result = await run();
    const bytes = size(result);
    if (bytes > 0) await sleep(this.#transferMs(bytes));
    return result;
  }

  get(key: string): Promise<ObjectBody | null> {
    return this.#read(
      () => this.inner.get(key),
      (body) => body?.data.byteLength ?? 0,
    );
  }
  getRange(key: string, start: number, end: number): Promise<Uint8Array | null> {
    return this.#read(
      () => this.inner.getRange(key, start, end),
      (bytes) => bytes?.byteLength ?? 0,
    );
  }
  readRangeInto(key: string, start: number, buffers: Uint8Array[]): Promise<number | null> {
    return this.#read(
      () => readRangeIntoOf(this.inner, key, start, buffers),
      (n) => n ?? 0,
    );
  }
  head(key: string): Promise<ObjectMeta | null> {
    return this.#after(0, () => this.inner.head(key));
  }
  put(key: string, data: Uint8Array): Promise<ObjectMeta> {
    return this.#after(data.byteLength, () => this.inner.put(key, data));
  }
  putIfAbsent(key: string, data: Uint8Array): Promise<ObjectMeta> {
    return this.#after(data.byteLength, () => this.inner.putIfAbsent(key, data));
  }
  putIfMatch(key: string, data: Uint8Array, etag: string): Promise<ObjectMeta> {
    return this.#after(data.byteLength, () => this.inner.putIfMatch(key, data, etag));
  }
  delete(key: string): Promise<void> {
    return this.#after(0, () => this.inner.delete(key));
  }
  list(prefix: string, options?: ListOptions): Promise<ListPage> {
    return this.#after(0, () => this.inner.list(prefix, options));
  }
}
