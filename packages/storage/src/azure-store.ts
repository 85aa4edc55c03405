import { BlobServiceClient, type BlobRequestConditions, type ContainerClient, type StoragePipelineOptions } from '@azure/storage-blob';
import {
  DEFAULT_MULTIPART_THRESHOLD,
  DEFAULT_PART_SIZE,
  DEFAULT_UPLOAD_CONCURRENCY,
  describeError,
  kindOfStatus,
  networkErrorKind,
  newWriteToken,
  normalizePrefix,
  quoteEtag,
  readBody,
  rangeInto,
  rangeOf,
  unquoteEtag,
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

export interface AzureStoreOptions extends CloudStoreOptions {
  /** A ready container client (from a connection string, a SAS URL or DefaultAzureCredential). */
  containerClient: ContainerClient;
}

/** Azure metadata names must be C# identifiers: no '-'. */
const AZURE_TOKEN_METADATA_KEY = 'conifer_token';
/** The SDK's own retries are off: `withRetries` does it, knowing about write tokens. */
export const AZURE_PIPELINE_OPTIONS: StoragePipelineOptions = { retryOptions: { maxTries: 1, tryTimeoutInMs: 60_000 } };

/** Azure answers at most this many blobs per List Blobs call. */
const AZURE_MAX_RESULTS = 5000;
const THROTTLE_CODES = new Set(['ServerBusy', 'TooManyRequests']);
const TRANSIENT_CODES = new Set(['InternalError', 'OperationTimedOut', 'ServerTimeout', 'REQUEST_SEND_ERROR']);
/** 409s that mean "your condition does not hold": If-None-Match: * on an existing blob. */
const CONFLICT_CODES = new Set(['BlobAlreadyExists', 'ConditionNotMet', 'TargetConditionNotMet']);

/** How an Azure SDK `RestError` reads through the contract. */
export function azureErrorKind(err: unknown): ObjectStoreErrorKind {
  if (err instanceof ObjectStoreError) return err.kind;
  const e = err as { statusCode?: number; code?: string; details?: { errorCode?: string } };
  const code = e.details?.errorCode ?? e.code ?? '';
  if (THROTTLE_CODES.has(code)) return 'throttled';
  if (TRANSIENT_CODES.has(code)) return 'transient';
  // A missing container is a configuration error, not a missing object.
  if (code === 'ContainerNotFound') return 'permanent';
  if (code === 'BlobNotFound') return 'not_found';
  if (CONFLICT_CODES.has(code) || e.statusCode === 412) return 'precondition_failed';
  return kindOfStatus(e.statusCode) ?? networkErrorKind(err) ?? 'permanent';
}

/**
 * The object store on Azure Blob Storage (or Azurite), as block blobs.
 *
 * - etag: the blob's ETag without quotes; every write makes a new one.
 * - putIfAbsent / putIfMatch: `If-None-Match: *` / `If-Match`. Azure answers 409
 *   BlobAlreadyExists (Azurite too) or 412 ConditionNotMet: both are `precondition_failed`; a
 *   missing blob under `If-Match` (404) is `precondition_failed` too.
 * - Blobs of `multipartThreshold` bytes or more are staged as blocks of `partSize` and committed
 *   with one Put Block List, which carries the condition.
 * - Write tokens live in the metadata entry `conifer_token`.
 * - The client should be built with `AZURE_PIPELINE_OPTIONS` (no SDK retries); wrap the store in `withRetries`.
 */
export class AzureBlobObjectStore implements ObjectStore, WriteTokenSupport {
  readonly remote = true;
  readonly prefix: string;
  readonly container: ContainerClient;
  readonly #multipartThreshold: number;
  readonly #blockSize: number;
  readonly #concurrency: number;

  constructor(options: AzureStoreOptions) {
    this.prefix = normalizePrefix(options.prefix);
    this.container = options.containerClient;
    this.#blockSize = options.partSize ?? DEFAULT_PART_SIZE;
    this.#multipartThreshold = options.multipartThreshold ?? DEFAULT_MULTIPART_THRESHOLD;
    this.#concurrency = options.uploadConcurrency ?? DEFAULT_UPLOAD_CONCURRENCY;
  }

  /** A store on a container named by a connection string (Azurite's, or an account key's). */
  static fromConnectionString(connectionString: string, container: string, options?: CloudStoreOptions): AzureBlobObjectStore {
    const service = BlobServiceClient.fromConnectionString(connectionString, AZURE_PIPELINE_OPTIONS);
    return new AzureBlobObjectStore({ ...options, containerClient: service.getContainerClient(container) });
  }

  async get(key: string): Promise<ObjectBody | null> {
    const blob = this.#blob(key);
    try {
      const res = await blob.download(0);
      const data = await readBody(res.readableStreamBody as AsyncIterable<Uint8Array> | undefined, res.contentLength);
      return { key, size: data.length, etag: unquoteEtag(res.etag), data };
    } catch (err) {
      if (azureErrorKind(err) === 'not_found') return null;
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

  /** Ranged downloads of the blob (`op` names the call in errors). */
  #ranged(key: string, op: string): RangedRequest {
    return {
      exists: async () => (await this.head(key)) !== null,
      open: async (start, end) => {
        const res = await this.#blob(key).download(start, end - start);
        return { body: res.readableStreamBody as AsyncIterable<Uint8Array> | undefined, length: res.contentLength };
      },
      missing: (err) => azureErrorKind(err) === 'not_found',
      // 416 InvalidRange: the range starts at or past the end (or the blob is empty).
      pastEnd: (err) => (err as { statusCode?: number }).statusCode === 416,
      fail: (err) => this.#error(err, op, key),
    };
  }

  async head(key: string): Promise<ObjectMeta | null> {
    return (await this.headWithToken(key))?.meta ?? null;
  }

  async headWithToken(key: string): Promise<TokenedMeta | null> {
    const blob = this.#blob(key);
    try {
      const res = await blob.getProperties();
      return { meta: { key, size: res.contentLength ?? 0, etag: unquoteEtag(res.etag) }, token: res.metadata?.[AZURE_TOKEN_METADATA_KEY] };
    } catch (err) {
      if (azureErrorKind(err) === 'not_found') return null;
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
    return this.#write('putIfAbsent', key, data, { ifNoneMatch: '*' }, token);
  }

  async putIfMatchWithToken(key: string, data: Uint8Array, etag: string, token: string): Promise<ObjectMeta> {
    return this.#write('putIfMatch', key, data, { ifMatch: quoteEtag(etag) }, token);
  }

  async delete(key: string): Promise<void> {
    const blob = this.#blob(key);
    try {
      await blob.deleteIfExists();
    } catch (err) {
      if (azureErrorKind(err) === 'not_found') return;
      throw this.#error(err, 'delete', key);
    }
  }

  async list(prefix: string, options?: ListOptions): Promise<ListPage> {
    const limit = listLimit(options);
    const startAfter = options?.startAfter;
    // startFrom is inclusive, and ignored by older service versions and Azurite before 3.37:
    // `collectListPage` drops `startAfter` itself and anything before it.
    const listing = this.container
      .listBlobsFlat({ prefix: this.prefix + prefix, ...(startAfter === undefined ? {} : { startFrom: this.prefix + startAfter }) })
      .byPage({ maxPageSize: serverPageSize(limit, AZURE_MAX_RESULTS) });
    async function* pages(): AsyncGenerator<ObjectMeta[]> {
      for await (const page of listing) {
        yield page.segment.blobItems.map((item) => ({ key: item.name, size: item.properties.contentLength ?? 0, etag: unquoteEtag(item.properties.etag) }));
      }
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
    conditions: BlobRequestConditions | undefined,
    token: string | undefined,
  ): Promise<ObjectMeta> {
    const blob = this.#blob(key).getBlockBlobClient();
    const metadata = token === undefined ? undefined : { [AZURE_TOKEN_METADATA_KEY]: token };
    const common = { ...(conditions ? { conditions } : {}), ...(metadata ? { metadata } : {}) };
    try {
      const res =
        data.length >= this.#multipartThreshold
          ? await blob.uploadData(data, {
              ...common,
              blockSize: this.#blockSize,
              maxSingleShotSize: this.#multipartThreshold - 1,
              concurrency: this.#concurrency,
            })
          : await blob.upload(data, data.length, common);
      return { key, size: data.length, etag: unquoteEtag(res.etag) };
    } catch (err) {
      const kind = azureErrorKind(err);
      if (action === 'putIfMatch' && kind === 'not_found') {
        throw new ObjectStoreError('precondition_failed', `cannot replace object ${key}: it does not exist`, { key, cause: err });
      }
      // A competing block upload committed first and dropped our uncommitted blocks.
      if (action !== 'put' && (err as { code?: string }).code === 'InvalidBlockList' && (await this.#conditionFails(key, conditions))) {
        throw new ObjectStoreError('precondition_failed', `object ${key} was written by another writer`, { key, cause: err });
      }
      throw this.#error(err, action, key);
    }
  }

  async #conditionFails(key: string, conditions: BlobRequestConditions | undefined): Promise<boolean> {
    const current = await this.head(key).catch(() => undefined);
    if (current === undefined) return false;
    if (conditions?.ifNoneMatch === '*') return current !== null;
    if (conditions?.ifMatch !== undefined) return current === null || quoteEtag(current.etag) !== conditions.ifMatch;
    return false;
  }

  #blob(key: string) {
    assertValidKey(key);
    return this.container.getBlobClient(this.prefix + key);
  }

  #error(err: unknown, action: string, key: string): ObjectStoreError {
    if (err instanceof ObjectStoreError) return err;
    const kind = azureErrorKind(err);
    return new ObjectStoreError(
      kind === 'not_found' ? 'permanent' : kind,
      `Azure ${action} ${this.container.containerName}/${this.prefix}${key} failed: ${describeError(err)}`,
      {
        key,
        cause: err,
      },
    );
  }
}
