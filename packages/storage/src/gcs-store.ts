import { Storage, type Bucket, type File, type StorageOptions } from '@google-cloud/storage';
import {
  DEFAULT_MULTIPART_THRESHOLD,
  DEFAULT_PART_SIZE,
  describeError,
  kindOfStatus,
  networkErrorKind,
  newWriteToken,
  normalizePrefix,
  readBody,
  rangeInto,
  rangeOf,
  TOKEN_METADATA_KEY,
  type CloudStoreOptions,
  type RangedRequest,
} from './cloud-common.ts';
import { listLimit } from './list-options.ts';
import { collectListPage, serverPageSize } from './list-page.ts';
import {
  assertValidKey,
  ObjectStoreError,
  type ListOptions,
  type ListPage,
  type ObjectBody,
  type ObjectMeta,
  type ObjectStore,
  type ObjectStoreErrorKind,
  type TokenedMeta,
  type WriteTokenSupport,
} from './object-store.ts';

export interface GcsStoreOptions extends CloudStoreOptions {
  bucket: string;
  /** A ready client; otherwise one is made from `storageOptions` (with the SDK's own retries off). */
  storage?: Storage | undefined;
  storageOptions?: StorageOptions | undefined;
  /**
   * Check whole-object reads against GCS's CRC32C. Default false: the SDK computes it in
   * JavaScript (~200 MB/s: +40 ms on a 10 MiB slab), while Conifer's log batches and slabs carry
   * their own CRC32, checked natively when they are decoded.
   */
  validateReads?: boolean | undefined;
}

/** GCS wants resumable chunks in multiples of 256 KiB. */
const GCS_CHUNK_UNIT = 256 * 1024;
/** GCS answers at most this many objects per list call. */
const GCS_MAX_RESULTS = 1000;
const THROTTLE_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'quotaExceeded', 'tooManyRequests']);

interface GcsObjectMetadata {
  name?: string;
  size?: string | number;
  generation?: string | number;
  metadata?: Record<string, string | number | boolean | null> | null;
}

/** How a @google-cloud/storage error reads through the contract. */
export function gcsErrorKind(err: unknown): ObjectStoreErrorKind {
  if (err instanceof ObjectStoreError) return err.kind;
  const e = err as { code?: unknown; status?: unknown; response?: { status?: unknown }; errors?: { reason?: string }[] };
  if (e.errors?.some((x) => x.reason !== undefined && THROTTLE_REASONS.has(x.reason))) return 'throttled';
  const status = [e.code, e.status, e.response?.status].find((s): s is number => typeof s === 'number');
  return kindOfStatus(status) ?? networkErrorKind(err) ?? 'permanent';
}

/**
 * The object store on Google Cloud Storage (or fake-gcs-server through `STORAGE_EMULATOR_HOST`).
 *
 * - etag: the object's generation (a decimal string); every write, even of the same bytes, makes
 *   a new one.
 * - putIfAbsent / putIfMatch: `ifGenerationMatch=0` / `ifGenerationMatch=<generation>`; GCS
 *   answers 412 on a mismatch, including a missing object under a non-zero generation.
 * - Objects of `multipartThreshold` bytes or more go up as a resumable upload in `partSize`
 *   chunks; the precondition is checked when the upload completes.
 * - Reads take the generation from the same response as the bytes (`x-goog-generation`), so a
 *   concurrent replace cannot pair old bytes with a new etag.
 * - The SDK's own retries are off; wrap the store in `withRetries`.
 */
export class GcsObjectStore implements ObjectStore, WriteTokenSupport {
  readonly remote = true;
  readonly prefix: string;
  readonly storage: Storage;
  readonly bucket: Bucket;
  readonly #multipartThreshold: number;
  readonly #chunkSize: number;
  readonly #validateReads: boolean;

  constructor(options: GcsStoreOptions) {
    this.prefix = normalizePrefix(options.prefix);
    this.storage = options.storage ?? newStorage({ retryOptions: { autoRetry: false, maxRetries: 0 }, ...options.storageOptions });
    this.bucket = this.storage.bucket(options.bucket);
    const partSize = options.partSize ?? DEFAULT_PART_SIZE;
    this.#chunkSize = Math.max(GCS_CHUNK_UNIT, Math.round(partSize / GCS_CHUNK_UNIT) * GCS_CHUNK_UNIT);
    this.#multipartThreshold = options.multipartThreshold ?? DEFAULT_MULTIPART_THRESHOLD;
    this.#validateReads = options.validateReads ?? false;
  }

  async get(key: string): Promise<ObjectBody | null> {
    const file = this.#file(key);
    try {
      const { data, generation } = await download(file, this.#validateReads ? {} : { validation: false });
      if (generation === undefined) {
        // Without the generation header the pair (bytes, etag) cannot be trusted: read a pinned generation.
        const meta = await this.head(key);
        if (!meta) return null;
        const pinned = this.bucket.file(file.name, { generation: Number(meta.etag) });
        const again = await download(pinned, this.#validateReads ? {} : { validation: false });
        return { key, size: again.data.length, etag: meta.etag, data: again.data };
      }
      return { key, size: data.length, etag: generation, data };
    } catch (err) {
      if (gcsErrorKind(err) === 'not_found') return null;
      throw this.#error(err, 'get', key);
    }
  }

  async getRange(key: string, start: number, end: number): Promise<Uint8Array | null> {
    return rangeOf(this.#ranged(key, 'getRange'), start, end);
  }

  /** Bytes from `start` straight into `buffers` as they arrive (see ObjectStore.readRangeInto). */
  async readRangeInto(key: string, start: number, buffers: Uint8Array[]): Promise<number | null> {
    return rangeInto(this.#ranged(key, 'readRangeInto'), start, buffers);
  }

  /** Ranged media downloads of the object (`op` names the call in errors). */
  #ranged(key: string, op: string): RangedRequest {
    return {
      exists: async () => (await this.head(key)) !== null,
      // `end` of the SDK is inclusive; the length is not known before the body ends.
      open: async (start, end) => ({ body: readStream(this.#file(key), { start, end: end - 1, validation: false }) }),
      missing: (err) => gcsErrorKind(err) === 'not_found',
      pastEnd: (err) => statusOf(err) === 416,
      fail: (err) => this.#error(err, op, key),
    };
  }

  async head(key: string): Promise<ObjectMeta | null> {
    return (await this.headWithToken(key))?.meta ?? null;
  }

  async headWithToken(key: string): Promise<TokenedMeta | null> {
    const file = this.#file(key);
    try {
      const [metadata] = await file.getMetadata();
      return { meta: this.#meta(key, metadata), token: tokenOf(metadata) };
    } catch (err) {
      if (gcsErrorKind(err) === 'not_found') return null;
      throw this.#error(err, 'head', key);
    }
  }

  async put(key: string, data: Uint8Array): Promise<ObjectMeta> {
    return this.#write('put', key, data, undefined, undefined);
  }

  async putIfAbsent(key: string, data: Uint8Array): Promise<ObjectMeta> {
    return this.putIfAbsentWithToken(key, data, newWriteToken());
  }

  async putIfMatch(key: string, data: Uint8Array, etag: string): Promise<ObjectMeta> {
    return this.putIfMatchWithToken(key, data, etag, newWriteToken());
  }

  async putIfAbsentWithToken(key: string, data: Uint8Array, token: string): Promise<ObjectMeta> {
    return this.#write('putIfAbsent', key, data, 0, token);
  }

  async putIfMatchWithToken(key: string, data: Uint8Array, etag: string, token: string): Promise<ObjectMeta> {
    // An etag that is not a generation cannot match any object of this store.
    if (!/^[1-9][0-9]*$/.test(etag)) {
      assertValidKey(key);
      throw new ObjectStoreError('precondition_failed', `cannot replace object ${key}: ${JSON.stringify(etag)} is not a generation of it`, { key });
    }
    return this.#write('putIfMatch', key, data, Number(etag), token);
  }

  async delete(key: string): Promise<void> {
    const file = this.#file(key);
    try {
      await file.delete({ ignoreNotFound: true });
    } catch (err) {
      if (gcsErrorKind(err) === 'not_found') return;
      throw this.#error(err, 'delete', key);
    }
  }

  async list(prefix: string, options?: ListOptions): Promise<ListPage> {
    const limit = listLimit(options);
    const startAfter = options?.startAfter;
    const bucket = this.bucket;
    // startOffset is inclusive; `collectListPage` drops `startAfter` itself.
    const query = {
      prefix: this.prefix + prefix,
      autoPaginate: false,
      maxResults: serverPageSize(limit, GCS_MAX_RESULTS),
      ...(startAfter === undefined ? {} : { startOffset: this.prefix + startAfter }),
    };
    const meta = (file: File) => this.#meta(file.name, file.metadata);
    async function* pages(): AsyncGenerator<ObjectMeta[]> {
      let pageToken: string | undefined;
      do {
        const [files, nextQuery] = await bucket.getFiles({ ...query, ...(pageToken === undefined ? {} : { pageToken }) });
        yield files.map(meta);
        pageToken = (nextQuery as { pageToken?: string } | null | undefined)?.pageToken;
      } while (pageToken);
    }
    try {
      return await collectListPage(pages(), { storePrefix: this.prefix, prefix, startAfter, limit });
    } catch (err) {
      throw this.#error(err, 'list', prefix);
    }
  }

  async #write(
    action: 'put' | 'putIfAbsent' | 'putIfMatch',
    key: string,
    data: Uint8Array,
    generation: number | undefined,
    token: string | undefined,
  ): Promise<ObjectMeta> {
    const file = this.#file(key);
    const resumable = data.length >= this.#multipartThreshold;
    try {
      await file.save(Buffer.from(data.buffer, data.byteOffset, data.byteLength), {
        resumable,
        ...(resumable ? { chunkSize: this.#chunkSize } : {}),
        validation: false,
        contentType: 'application/octet-stream',
        ...(generation === undefined ? {} : { preconditionOpts: { ifGenerationMatch: generation } }),
        ...(token === undefined ? {} : { metadata: { metadata: { [TOKEN_METADATA_KEY]: token } } }),
      });
      return this.#meta(key, file.metadata);
    } catch (err) {
      throw this.#error(err, action, key);
    }
  }

  #meta(key: string, metadata: GcsObjectMetadata): ObjectMeta {
    if (metadata.generation === undefined) throw new ObjectStoreError('permanent', `GCS returned no generation for ${key}`, { key });
    return { key, size: Number(metadata.size ?? 0), etag: String(metadata.generation) };
  }

  #file(key: string): File {
    assertValidKey(key);
    return this.bucket.file(this.prefix + key);
  }

  #error(err: unknown, action: string, key: string): ObjectStoreError {
    if (err instanceof ObjectStoreError) return err;
    const kind = gcsErrorKind(err);
    return new ObjectStoreError(
      kind === 'not_found' ? 'permanent' : kind,
      `GCS ${action} ${this.bucket.name}/${this.prefix}${key} failed: ${describeError(err)}`,
      {
        key,
        cause: err,
      },
    );
  }
}

/**
 * A client whose JSON API calls (metadata, listing, delete) go to the same endpoint as its uploads
 * and downloads. Why: when `STORAGE_EMULATOR_HOST` is in the process environment, the SDK takes
 * that variable, verbatim, as the base of its JSON API calls (`<host>/b/<bucket>/o`, without
 * `/storage/v1`) while uploads go to `<apiEndpoint>/upload/storage/v1` — so listings fail with 404
 * on fake-gcs-server however the variable is written. The base is set from the endpoint the
 * client settled on, which is the real service's when no emulator is configured.
 */
export function newStorage(options: StorageOptions): Storage {
  const storage = new Storage(options);
  storage.baseUrl = `${storage.apiEndpoint.replace(/\/+$/, '')}/storage/v1`;
  return storage;
}

function statusOf(err: unknown): number | undefined {
  const e = err as { code?: unknown; status?: unknown; response?: { status?: unknown } };
  return [e.code, e.status, e.response?.status].find((s): s is number => typeof s === 'number');
}

function tokenOf(metadata: GcsObjectMetadata): string | undefined {
  const token = metadata.metadata?.[TOKEN_METADATA_KEY];
  return typeof token === 'string' ? token : undefined;
}

/**
 * Listeners one response body carries: the SDK, teeny-request and node-fetch each pipe it (three
 * pipelines, eleven 'error' and 'close' listeners on a body read in several chunks). Node's
 * default of ten reports that as a possible leak on every such read — two warnings on stderr per
 * slab page read from GCS. It is not one: the listeners go with the body. A higher bound still
 * reports a real accumulation.
 */
const RESPONSE_BODY_LISTENERS = 32;

/**
 * The SDK's read stream of `file`. Its 'response' event hands over the response body before the
 * SDK and teeny-request pipe it, so the body's listener bound is raised in time.
 */
function readStream(file: File, options: { start?: number; end?: number; validation?: false }): ReturnType<File['createReadStream']> {
  const stream = file.createReadStream(options);
  stream.on('response', (body: { setMaxListeners?: (n: number) => unknown }) => {
    body.setMaxListeners?.(RESPONSE_BODY_LISTENERS);
  });
  return stream;
}

/** Downloads through the SDK's read stream, taking the generation from the response headers. */
async function download(
  file: File,
  options: { start?: number; end?: number; validation?: false },
): Promise<{ data: Uint8Array; generation: string | undefined }> {
  let generation: string | undefined;
  const stream = readStream(file, options);
  stream.on('response', (res: { headers?: unknown }) => {
    generation = headerOf(res.headers, 'x-goog-generation');
  });
  const data = await readBody(stream);
  return { data, generation };
}

function headerOf(headers: unknown, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const value = (headers as Record<string, unknown>)[name];
  return Array.isArray(value) ? String(value[0]) : typeof value === 'string' ? value : undefined;
}
