import {
  readRangeIntoOf,
  type ListOptions,
  type ListPage,
  type ObjectBody,
  type ObjectMeta,
  type ObjectStore,
  type TokenedMeta,
  type WriteTokenSupport,
} from './object-store.ts';

type TokenStore = ObjectStore & WriteTokenSupport;

/**
 * A store whose adapter is built on first use. The cloud SDKs take 0.1–0.6 s each to import, so
 * `openObjectStore` loads only the one a URL names, and only when the store is first used; code
 * that never touches a cloud never loads an SDK.
 */
export class LazyObjectStore implements TokenStore {
  /** Only the cloud adapters (buckets, across a network) are loaded lazily. */
  readonly remote = true;
  readonly #load: () => Promise<TokenStore>;
  #store: Promise<TokenStore> | undefined;

  constructor(load: () => Promise<TokenStore>) {
    this.#load = load;
  }

  /** The adapter, once loaded (for tests and diagnostics). */
  async resolve(): Promise<TokenStore> {
    this.#store ??= this.#load();
    return this.#store;
  }

  async get(key: string): Promise<ObjectBody | null> {
    return (await this.resolve()).get(key);
  }
  async getRange(key: string, start: number, end: number): Promise<Uint8Array | null> {
    return (await this.resolve()).getRange(key, start, end);
  }
  async readRangeInto(key: string, start: number, buffers: Uint8Array[]): Promise<number | null> {
    return readRangeIntoOf(await this.resolve(), key, start, buffers);
  }
  async head(key: string): Promise<ObjectMeta | null> {
    return (await this.resolve()).head(key);
  }
  async put(key: string, data: Uint8Array): Promise<ObjectMeta> {
    return (await this.resolve()).put(key, data);
  }
  async putIfAbsent(key: string, data: Uint8Array): Promise<ObjectMeta> {
    return (await this.resolve()).putIfAbsent(key, data);
  }
  async putIfMatch(key: string, data: Uint8Array, etag: string): Promise<ObjectMeta> {
    return (await this.resolve()).putIfMatch(key, data, etag);
  }
  async delete(key: string): Promise<void> {
    return (await this.resolve()).delete(key);
  }
  async list(prefix: string, options?: ListOptions): Promise<ListPage> {
    return (await this.resolve()).list(prefix, options);
  }
  async putIfAbsentWithToken(key: string, data: Uint8Array, token: string): Promise<ObjectMeta> {
    return (await this.resolve()).putIfAbsentWithToken(key, data, token);
  }
  async putIfMatchWithToken(key: string, data: Uint8Array, etag: string, token: string): Promise<ObjectMeta> {
    return (await this.resolve()).putIfMatchWithToken(key, data, etag, token);
  }
  async headWithToken(key: string): Promise<TokenedMeta | null> {
    return (await this.resolve()).headWithToken(key);
  }
}
