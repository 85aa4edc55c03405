import { assertValidRange, listLimit } from './list-options.ts';
import {
  assertValidKey,
  ObjectStoreError,
  type ListOptions,
  type ListPage,
  type ObjectBody,
  type ObjectMeta,
  type ObjectStore,
  type TokenedMeta,
  type WriteTokenSupport,
} from './object-store.ts';

interface StoredObject {
  data: Uint8Array;
  etag: string;
  /** Write token of a conditional write (see `WriteTokenSupport`). */
  token: string | undefined;
}

/**
 * An object store in process memory: the reference backend for tests and for `memory://`.
 *
 * Bytes are copied on the way in and out, so a caller that reuses its buffer (or scribbles on a
 * returned one) cannot change what is stored — the same isolation a real backend gives for free.
 * Every method runs to completion without awaiting, which makes each call atomic. Conditional
 * writes record write tokens like the cloud adapters do, so retry logic can be tested here.
 */
export class MemoryObjectStore implements ObjectStore, WriteTokenSupport {
  readonly #objects = new Map<string, StoredObject>();
  /** All keys in ascending order, so that a page of `list` is a binary search plus a slice. */
  readonly #sortedKeys: string[] = [];
  #writes = 0;

  async get(key: string): Promise<ObjectBody | null> {
    assertValidKey(key);
    const object = this.#objects.get(key);
    if (!object) return null;
    return { key, size: object.data.length, etag: object.etag, data: object.data.slice() };
  }

  async getRange(key: string, start: number, end: number): Promise<Uint8Array | null> {
    assertValidKey(key);
    assertValidRange(start, end);
    const object = this.#objects.get(key);
    if (!object) return null;
    // slice() clamps both ends to the size and copies.
    return object.data.slice(start, Math.max(start, end));
  }

  async head(key: string): Promise<ObjectMeta | null> {
    assertValidKey(key);
    const object = this.#objects.get(key);
    return object ? meta(key, object) : null;
  }

  async put(key: string, data: Uint8Array): Promise<ObjectMeta> {
    assertValidKey(key);
    return this.#write(key, data, undefined);
  }

  async putIfAbsent(key: string, data: Uint8Array): Promise<ObjectMeta> {
    return this.putIfAbsentWithToken(key, data, undefined);
  }

  async putIfMatch(key: string, data: Uint8Array, etag: string): Promise<ObjectMeta> {
    return this.putIfMatchWithToken(key, data, etag, undefined);
  }

  async putIfAbsentWithToken(key: string, data: Uint8Array, token: string | undefined): Promise<ObjectMeta> {
    assertValidKey(key);
    if (this.#objects.has(key)) throw new ObjectStoreError('precondition_failed', `object ${key} already exists`, { key });
    return this.#write(key, data, token);
  }

  async putIfMatchWithToken(key: string, data: Uint8Array, etag: string, token: string | undefined): Promise<ObjectMeta> {
    assertValidKey(key);
    const current = this.#objects.get(key);
    if (current?.etag !== etag) {
      const why = current ? `its etag is ${current.etag}, not ${etag}` : 'it does not exist';
      throw new ObjectStoreError('precondition_failed', `cannot replace object ${key}: ${why}`, { key });
    }
    return this.#write(key, data, token);
  }

  async headWithToken(key: string): Promise<TokenedMeta | null> {
    assertValidKey(key);
    const object = this.#objects.get(key);
    return object ? { meta: meta(key, object), token: object.token } : null;
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    if (!this.#objects.delete(key)) return;
    this.#sortedKeys.splice(lowerBound(this.#sortedKeys, key), 1);
  }

  async list(prefix: string, options?: ListOptions): Promise<ListPage> {
    const limit = listLimit(options);
    const startAfter = options?.startAfter;
    let i = lowerBound(this.#sortedKeys, prefix);
    if (startAfter !== undefined && startAfter >= prefix) i = Math.max(i, upperBound(this.#sortedKeys, startAfter));
    const objects: ObjectMeta[] = [];
    for (; i < this.#sortedKeys.length && objects.length < limit; i++) {
      const key = this.#sortedKeys[i]!;
      if (!key.startsWith(prefix)) break;
      objects.push(meta(key, this.#objects.get(key)!));
    }
    const more = i < this.#sortedKeys.length && this.#sortedKeys[i]!.startsWith(prefix);
    return more ? { objects, nextStartAfter: objects.at(-1)!.key } : { objects };
  }

  #write(key: string, data: Uint8Array, token: string | undefined): ObjectMeta {
    if (!this.#objects.has(key)) this.#sortedKeys.splice(lowerBound(this.#sortedKeys, key), 0, key);
    // A store-wide counter: an etag is never reused, even after delete and re-create.
    const object = { data: data.slice(), etag: `m${++this.#writes}`, token };
    this.#objects.set(key, object);
    return meta(key, object);
  }
}

function meta(key: string, object: StoredObject): ObjectMeta {
  return { key, size: object.data.length, etag: object.etag };
}

/** Index of the first key >= `target`. Keys are ASCII, so `<` on strings is byte order. */
function lowerBound(keys: string[], target: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first key > `target`. */
function upperBound(keys: string[], target: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! <= target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
