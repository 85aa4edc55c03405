import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import {
  DEFAULT_MULTIPART_THRESHOLD,
  DEFAULT_PART_SIZE,
  DEFAULT_UPLOAD_CONCURRENCY,
  describeError,
  kindOfStatus,
  mapConcurrently,
  networkErrorKind,
  newWriteToken,
  normalizePrefix,
  quoteEtag,
  readBody,
  rangeInto,
  rangeOf,
  splitParts,
  TOKEN_METADATA_KEY,
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

export interface S3StoreOptions extends CloudStoreOptions {
  bucket: string;
  /** A ready client; otherwise one is made from `clientConfig` (with the SDK's own retries off). */
  client?: S3Client | undefined;
  clientConfig?: S3ClientConfig | undefined;
}

/** S3 answers at most this many keys per ListObjectsV2 call. */
const S3_MAX_KEYS = 1000;
/** S3 multipart parts must be at least 5 MiB (except the last). */
const S3_MIN_PART = 5 * 1024 * 1024;

const THROTTLE_CODES = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'RequestLimitExceeded', 'TooManyRequestsException', 'RequestThrottled']);
const TRANSIENT_CODES = new Set(['InternalError', 'ServiceUnavailable', 'RequestTimeout', 'RequestTimeoutException', 'OperationAborted']);

/** How an S3 SDK error reads through the contract. */
export function s3ErrorKind(err: unknown): ObjectStoreErrorKind {
  if (err instanceof ObjectStoreError) return err.kind;
  const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  const code = e.Code ?? e.name ?? '';
  const status = e.$metadata?.httpStatusCode;
  if (THROTTLE_CODES.has(code)) return 'throttled';
  if (TRANSIENT_CODES.has(code)) return 'transient';
  if (code === 'NoSuchKey' || code === 'NotFound') return 'not_found';
  // A missing bucket is a configuration error, not a missing object.
  if (code === 'NoSuchBucket') return 'permanent';
  if (code === 'PreconditionFailed' || code === 'ConditionalRequestConflict') return 'precondition_failed';
  return kindOfStatus(status) ?? networkErrorKind(err) ?? 'permanent';
}

/**
 * The object store on Amazon S3 or an S3-compatible service (MinIO, moto, R2, ...).
 *
 * - etag: S3's ETag without quotes (for a simple upload, the MD5 of the content: a write of the
 *   very same bytes keeps the etag).
 * - putIfAbsent / putIfMatch: `If-None-Match: *` / `If-Match` on PutObject, or on
 *   CompleteMultipartUpload for objects of `multipartThreshold` bytes or more. S3 answers 412, or
 *   409 ConditionalRequestConflict when another conditional write is in flight: both are
 *   `precondition_failed`. A missing object under `If-Match` (404) is `precondition_failed` too.
 * - Every conditional write stores a write token as `x-amz-meta-conifer-token`.
 * - The SDK's own retries are off (`maxAttempts: 1`) so that no hidden retry can turn our own
 *   first attempt into a precondition failure; wrap the store in `withRetries`.
 */
export class S3ObjectStore implements ObjectStore, WriteTokenSupport {
  readonly remote = true;
  readonly bucket: string;
  readonly prefix: string;
  readonly client: S3Client;
  readonly #multipartThreshold: number;
  readonly #partSize: number;
  readonly #concurrency: number;

  constructor(options: S3StoreOptions) {
    this.bucket = options.bucket;
    this.prefix = normalizePrefix(options.prefix);
    this.client = options.client ?? new S3Client({ maxAttempts: 1, ...options.clientConfig });
    this.#partSize = Math.max(S3_MIN_PART, options.partSize ?? DEFAULT_PART_SIZE);
    this.#multipartThreshold = Math.max(this.#partSize, options.multipartThreshold ?? DEFAULT_MULTIPART_THRESHOLD);
    this.#concurrency = options.uploadConcurrency ?? DEFAULT_UPLOAD_CONCURRENCY;
  }

  async get(key: string): Promise<ObjectBody | null> {
    const full = this.#full(key);
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: full }));
      const data = await readBody(res.Body as AsyncIterable<Uint8Array> | undefined, res.ContentLength);
      return { key, size: data.length, etag: unquoteEtag(res.ETag), data };
    } catch (err) {
      if (s3ErrorKind(err) === 'not_found') return null;
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

  /** Ranged GETs of the object (`op` names the call in errors). */
  #ranged(key: string, op: string): RangedRequest {
    return {
      exists: async () => (await this.head(key)) !== null,
      open: async (start, end) => {
        const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.#full(key), Range: `bytes=${start}-${end - 1}` }));
        return { body: res.Body as AsyncIterable<Uint8Array> | undefined, length: res.ContentLength };
      },
      missing: (err) => s3ErrorKind(err) === 'not_found',
      pastEnd: (err) =>
        (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 416 || (err as { name?: string }).name === 'InvalidRange',
      fail: (err) => this.#error(err, op, key),
    };
  }

  async head(key: string): Promise<ObjectMeta | null> {
    return (await this.headWithToken(key))?.meta ?? null;
  }

  async headWithToken(key: string): Promise<TokenedMeta | null> {
    const full = this.#full(key);
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: full }));
      return { meta: { key, size: res.ContentLength ?? 0, etag: unquoteEtag(res.ETag) }, token: res.Metadata?.[TOKEN_METADATA_KEY] };
    } catch (err) {
      if (s3ErrorKind(err) === 'not_found') return null;
      throw this.#error(err, 'head', key);
    }
  }

  async put(key: string, data: Uint8Array): Promise<ObjectMeta> {
    return this.#write('put', key, data, {}, undefined);
  }

  async putIfAbsent(key: string, data: Uint8Array): Promise<ObjectMeta> {
    return this.putIfAbsentWithToken(key, data, newWriteToken());
  }

  async putIfMatch(key: string, data: Uint8Array, etag: string): Promise<ObjectMeta> {
    return this.putIfMatchWithToken(key, data, etag, newWriteToken());
  }

  async putIfAbsentWithToken(key: string, data: Uint8Array, token: string): Promise<ObjectMeta> {
    return this.#write('putIfAbsent', key, data, { IfNoneMatch: '*' }, token);
  }

  async putIfMatchWithToken(key: string, data: Uint8Array, etag: string, token: string): Promise<ObjectMeta> {
    return this.#write('putIfMatch', key, data, { IfMatch: quoteEtag(etag) }, token);
  }

  async delete(key: string): Promise<void> {
    const full = this.#full(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: full }));
    } catch (err) {
      if (s3ErrorKind(err) === 'not_found') return;
      throw this.#error(err, 'delete', key);
    }
  }

  async list(prefix: string, options?: ListOptions): Promise<ListPage> {
    const limit = listLimit(options);
    const startAfter = options?.startAfter;
    const client = this.client;
    const request = {
      Bucket: this.bucket,
      Prefix: this.prefix + prefix,
      MaxKeys: serverPageSize(limit, S3_MAX_KEYS),
      ...(startAfter === undefined ? {} : { StartAfter: this.prefix + startAfter }),
    };
    async function* pages(): AsyncGenerator<ObjectMeta[]> {
      let token: string | undefined;
      do {
        const res = await client.send(new ListObjectsV2Command({ ...request, ...(token === undefined ? {} : { ContinuationToken: token }) }));
        yield (res.Contents ?? []).map((o) => ({ key: o.Key!, size: o.Size ?? 0, etag: unquoteEtag(o.ETag) }));
        token = res.IsTruncated ? res.NextContinuationToken : undefined;
      } while (token !== undefined);
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
    condition: { IfNoneMatch?: string; IfMatch?: string },
    token: string | undefined,
  ): Promise<ObjectMeta> {
    const full = this.#full(key);
    const metadata = token === undefined ? undefined : { [TOKEN_METADATA_KEY]: token };
    try {
      const etag =
        data.length >= this.#multipartThreshold
          ? await this.#multipart(full, data, condition, metadata)
          : (
              await this.client.send(
                new PutObjectCommand({ Bucket: this.bucket, Key: full, Body: data, ContentLength: data.length, Metadata: metadata, ...condition }),
              )
            ).ETag;
      return { key, size: data.length, etag: unquoteEtag(etag) };
    } catch (err) {
      // If-Match on a missing object: S3 answers 404 NoSuchKey.
      if (action === 'putIfMatch' && s3ErrorKind(err) === 'not_found') {
        throw new ObjectStoreError('precondition_failed', `cannot replace object ${key}: it does not exist`, { key, cause: err });
      }
      throw this.#error(err, action, key);
    }
  }

  /** A multipart upload; the condition applies to the completion, which makes the object appear at once. */
  async #multipart(
    full: string,
    data: Uint8Array,
    condition: { IfNoneMatch?: string; IfMatch?: string },
    metadata: Record<string, string> | undefined,
  ): Promise<string | undefined> {
    const { UploadId } = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: full, Metadata: metadata }));
    try {
      const parts = await mapConcurrently(splitParts(data, this.#partSize), this.#concurrency, async (body, i) => {
        const res = await this.client.send(
          new UploadPartCommand({ Bucket: this.bucket, Key: full, UploadId, PartNumber: i + 1, Body: body, ContentLength: body.length }),
        );
        return { PartNumber: i + 1, ETag: res.ETag };
      });
      const res = await this.client.send(
        new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: full, UploadId, MultipartUpload: { Parts: parts }, ...condition }),
      );
      return res.ETag;
    } catch (err) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: full, UploadId })).catch(() => undefined);
      throw err;
    }
  }

  #full(key: string): string {
    assertValidKey(key);
    return this.prefix + key;
  }

  #error(err: unknown, action: string, key: string): ObjectStoreError {
    if (err instanceof ObjectStoreError) return err;
    const kind = s3ErrorKind(err);
    return new ObjectStoreError(kind === 'not_found' ? 'permanent' : kind, `S3 ${action} ${this.bucket}/${this.prefix}${key} failed: ${describeError(err)}`, {
      key,
      cause: err,
    });
  }
}
