/**
 * The object-store contract (DESIGN.md): the whole of what the log, slabs and manifests need from
 * storage, identical on every backend (memory, local disk, S3, GCS, Azure Blob).
 *
 * Keys are '/'-separated strings of printable ASCII without '..' segments; adapters reject
 * anything else with `ObjectStoreError('invalid_key')`. Conditional writes are what make the
 * log and manifest safe without a coordinator: `putIfAbsent` (create-if-absent) and `putIfMatch`
 * (compare-and-swap on the etag returned by get/head/put).
 */
export interface ObjectMeta {
  key: string;
  size: number;
  /** Opaque version token; changes on every write of the key. */
  etag: string;
}

export interface ObjectBody extends ObjectMeta {
  data: Uint8Array;
}

export interface ListPage {
  objects: ObjectMeta[];
  /** Pass as `startAfter` to read the next page; absent on the last page. */
  nextStartAfter?: string;
}

export interface ListOptions {
  /** Only keys strictly greater than this one. */
  startAfter?: string;
  /** Page size; adapters may return fewer. Default 1000. */
  limit?: number;
}

export interface ObjectStore {
  /** Whole object, or `null` when the key does not exist. */
  get(key: string): Promise<ObjectBody | null>;
  /** Bytes [start, end) of the object, or `null` when the key does not exist. `end` is clamped to the size. */
  getRange(key: string, start: number, end: number): Promise<Uint8Array | null>;
  /**
   * Optional, for stores that can read in place (local disk: pread; cloud buckets: the response
   * body copied into place as it arrives): the object's bytes from `start` straight into
   * `buffers`, each filled before the next; how many bytes were read (fewer at the object's end),
   * or `null` when the key does not exist. Spares the caller a new buffer per read and a copy.
   */
  readRangeInto?(key: string, start: number, buffers: Uint8Array[]): Promise<number | null>;
  /** Size and etag, or `null` when the key does not exist. */
  head(key: string): Promise<ObjectMeta | null>;
  /** Writes (creates or replaces) the object. Durable when the promise resolves. */
  put(key: string, data: Uint8Array): Promise<ObjectMeta>;
  /** Creates the object only if the key does not exist; otherwise throws `precondition_failed`. */
  putIfAbsent(key: string, data: Uint8Array): Promise<ObjectMeta>;
  /** Replaces the object only if its current etag is `etag`; otherwise throws `precondition_failed` (also when absent). */
  putIfMatch(key: string, data: Uint8Array, etag: string): Promise<ObjectMeta>;
  /** Deletes the object; deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** Keys starting with `prefix`, in ascending byte order, one page at a time. */
  list(prefix: string, options?: ListOptions): Promise<ListPage>;
  /**
   * True for a store across a network (a bucket), where each call waits a round trip: a reader
   * may then issue several reads at once (log replay reads ahead). Absent or false: a local store.
   */
  readonly remote?: boolean;
  /**
   * Optional: lets go of what the store holds open between calls (a local disk store keeps its
   * slabs' files open for ranged reads). Its owner calls it once nothing uses the store any more;
   * a call that comes later still works, without holding anything open after it.
   */
  close?(): Promise<void>;
}

/**
 * Optional capability of a store: conditional writes that record a caller-chosen token with the
 * object (S3 `x-amz-meta-conifer-token`, GCS and Azure metadata), and a head that reads it back.
 *
 * Why: a conditional write whose response was lost (timeout, reset connection) may have landed.
 * Retrying it then fails `precondition_failed` — against our own first attempt. `withRetries`
 * sends every attempt of one call with the same token, and on such a failure checks whether the
 * stored token is its own: if it is, the write succeeded. The cloud adapters and the memory store
 * implement it; see `hasWriteTokens`.
 */
export interface WriteTokenSupport {
  /** `putIfAbsent` that stores `token` with the object. */
  putIfAbsentWithToken(key: string, data: Uint8Array, token: string): Promise<ObjectMeta>;
  /** `putIfMatch` that stores `token` with the new version. */
  putIfMatchWithToken(key: string, data: Uint8Array, etag: string, token: string): Promise<ObjectMeta>;
  /** Like `head`, plus the token the current version was written with (undefined if none). */
  headWithToken(key: string): Promise<TokenedMeta | null>;
}

export interface TokenedMeta {
  meta: ObjectMeta;
  token: string | undefined;
}

/** Whether `store` records write tokens (see `WriteTokenSupport`). */
export function hasWriteTokens(store: ObjectStore): store is ObjectStore & WriteTokenSupport {
  const s = store as Partial<WriteTokenSupport>;
  return typeof s.putIfAbsentWithToken === 'function' && typeof s.putIfMatchWithToken === 'function' && typeof s.headWithToken === 'function';
}

export type ObjectStoreErrorKind = 'not_found' | 'precondition_failed' | 'invalid_key' | 'throttled' | 'transient' | 'permanent';

export class ObjectStoreError extends Error {
  readonly kind: ObjectStoreErrorKind;
  readonly key: string | undefined;
  constructor(kind: ObjectStoreErrorKind, message: string, options?: { key?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ObjectStoreError';
    this.kind = kind;
    this.key = options?.key;
  }
  /** Worth retrying with backoff. */
  get retryable(): boolean {
    return this.kind === 'throttled' || this.kind === 'transient';
  }
}

export function isPreconditionFailed(err: unknown): boolean {
  return err instanceof ObjectStoreError && err.kind === 'precondition_failed';
}

/** Every key under `prefix`, following pages. */
export async function* listAll(store: ObjectStore, prefix: string, pageSize = 1000): AsyncGenerator<ObjectMeta> {
  let startAfter: string | undefined;
  for (;;) {
    const page = await store.list(prefix, { limit: pageSize, ...(startAfter === undefined ? {} : { startAfter }) });
    yield* page.objects;
    if (page.nextStartAfter === undefined) return;
    startAfter = page.nextStartAfter;
  }
}

/** How many bytes `buffers` hold together. */
export function totalBytes(buffers: readonly Uint8Array[]): number {
  return buffers.reduce((n, b) => n + b.byteLength, 0);
}

/** Copies `bytes` into `buffers`, each filled before the next, as far as they go; returns how many were copied. */
export function copyIntoBuffers(bytes: Uint8Array, buffers: readonly Uint8Array[]): number {
  let at = 0;
  for (const buffer of buffers) {
    if (at >= bytes.byteLength) break;
    const n = Math.min(buffer.byteLength, bytes.byteLength - at);
    buffer.set(bytes.subarray(at, at + n));
    at += n;
  }
  return at;
}

/**
 * `store.readRangeInto` where the store has it, else its getRange copied into `buffers`: what a
 * wrapper passes reads through to, whether or not the store beneath reads in place.
 */
export async function readRangeIntoOf(store: ObjectStore, key: string, start: number, buffers: Uint8Array[]): Promise<number | null> {
  if (store.readRangeInto) return store.readRangeInto(key, start, buffers);
  const got = await store.getRange(key, start, start + totalBytes(buffers));
  return got ? copyIntoBuffers(got, buffers) : null;
}

/** Deletes every object under `prefix`. */
export async function deletePrefix(store: ObjectStore, prefix: string): Promise<number> {
  let deleted = 0;
  // Collect first: deleting while paginating could skip keys on backends that list lazily.
  const keys: string[] = [];
  for await (const meta of listAll(store, prefix)) keys.push(meta.key);
  for (const key of keys) {
    await store.delete(key);
    deleted++;
  }
  return deleted;
}

// Segments are printable ASCII other than '/' itself: no leading, trailing or doubled '/', which a
// file system would fold into another key ("a//b" and "a/b" are the same path).
const KEY_PATTERN = /^[\x21-\x2e\x30-\x7e]+(\/[\x21-\x2e\x30-\x7e]+)*$/;

/** Throws `invalid_key` unless `key` is a safe object key for every backend. */
export function assertValidKey(key: string): void {
  if (key.length === 0 || key.length > 1024 || !KEY_PATTERN.test(key) || key.split('/').some((s) => s === '.' || s === '..')) {
    throw new ObjectStoreError('invalid_key', `invalid object key ${JSON.stringify(key)}`, { key });
  }
}
