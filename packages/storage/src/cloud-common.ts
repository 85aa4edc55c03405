import { randomUUID } from 'node:crypto';
import { assertValidRange } from './list-options.ts';
import { ObjectStoreError, totalBytes, type ObjectStoreErrorKind } from './object-store.ts';

/**
 * What the three cloud adapters share: key prefixes, the write-token metadata key, upload
 * thresholds, reading response bodies, and the part of error classification that does not
 * depend on the cloud (HTTP status codes, network errors).
 */

/** Metadata key of the write token (S3 sends it as `x-amz-meta-conifer-token`). */
export const TOKEN_METADATA_KEY = 'conifer-token';

/** Objects at least this large are uploaded in parts (S3 multipart, GCS resumable, Azure blocks). Default 16 MiB. */
export const DEFAULT_MULTIPART_THRESHOLD = 16 * 1024 * 1024;
/** Size of one part of such an upload. Default 8 MiB (GCS wants a multiple of 256 KiB; S3 at least 5 MiB). */
export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
/** Parts uploaded at once. Default 4. */
export const DEFAULT_UPLOAD_CONCURRENCY = 4;

/** Options every cloud adapter takes besides its client. */
export interface CloudStoreOptions {
  /** Key prefix inside the bucket/container ("" or "a/b"); keys of the store are relative to it. */
  prefix?: string | undefined;
  /** See `DEFAULT_MULTIPART_THRESHOLD`. */
  multipartThreshold?: number | undefined;
  /** See `DEFAULT_PART_SIZE`. */
  partSize?: number | undefined;
  /** See `DEFAULT_UPLOAD_CONCURRENCY`. */
  uploadConcurrency?: number | undefined;
}

/** "a/b/" for "a/b", "/a/b/" or "a/b/"; "" for no prefix. */
export function normalizePrefix(prefix: string | undefined): string {
  const trimmed = (prefix ?? '').replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? '' : `${trimmed}/`;
}

export function newWriteToken(): string {
  return randomUUID();
}

/** S3 and Azure quote their etags in some responses and not others; the store's etag never has quotes. */
export function unquoteEtag(etag: string | undefined): string {
  if (etag === undefined || etag === '') throw new Error('the object store returned no etag');
  return etag.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}

export function quoteEtag(etag: string): string {
  return `"${etag}"`;
}

/**
 * Reads a response body to the end. When the length is known the bytes go straight into one
 * buffer of that size (no list of chunks to concatenate, no doubling for a large slab).
 */
export async function readBody(body: AsyncIterable<Uint8Array | string> | null | undefined, expectedLength?: number): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  if (expectedLength !== undefined && Number.isSafeInteger(expectedLength) && expectedLength >= 0) {
    const out = new Uint8Array(expectedLength);
    let filled = 0;
    const overflow: Uint8Array[] = [];
    for await (const chunk of body) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      const fits = Math.min(bytes.length, out.length - filled);
      out.set(bytes.subarray(0, fits), filled);
      filled += fits;
      if (fits < bytes.length) overflow.push(bytes.subarray(fits));
    }
    if (overflow.length > 0) return Buffer.concat([out, ...overflow]);
    if (filled < out.length) throw new ObjectStoreError('transient', `response body ended after ${filled} of ${expectedLength} bytes`);
    return out;
  }
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  const buffer = Buffer.concat(chunks);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** How a cloud adapter makes a ranged read: its request, and how its errors read. */
export interface RangedRequest {
  /** Whether the object exists (a HEAD). */
  exists: () => Promise<boolean>;
  /** The ranged request of [start, end): its response body, and the body's length when the response gives it. */
  open: (start: number, end: number) => Promise<{ body: AsyncIterable<Uint8Array> | undefined; length?: number | undefined }>;
  /** The error says the object does not exist. */
  missing: (err: unknown) => boolean;
  /** The error says the range starts at or past the end (416; or the object is empty). */
  pastEnd: (err: unknown) => boolean;
  /** The store's error for anything else. */
  fail: (err: unknown) => Error;
}

/** A cloud adapter's getRange: the bytes [start, end) through `io` (see ObjectStore.getRange). */
export function rangeOf(io: RangedRequest, start: number, end: number): Promise<Uint8Array | null> {
  return ranged(io, start, end, new Uint8Array(0), (body, length) => readBody(body, length));
}

/** A cloud adapter's readRangeInto: the bytes from `start` into `buffers` through `io` (see ObjectStore.readRangeInto). */
export function rangeInto(io: RangedRequest, start: number, buffers: Uint8Array[]): Promise<number | null> {
  return ranged(io, start, start + totalBytes(buffers), 0, (body) => readBodyInto(body, buffers));
}

/**
 * A ranged read of [start, end) whose body `read` consumes: null for a missing object, `empty`
 * for an empty range or one past the end of an existing object.
 */
async function ranged<T>(
  io: RangedRequest,
  start: number,
  end: number,
  empty: T,
  read: (body: AsyncIterable<Uint8Array> | undefined, length: number | undefined) => Promise<T>,
): Promise<T | null> {
  assertValidRange(start, end);
  if (end <= start) return (await io.exists()) ? empty : null;
  try {
    const { body, length } = await io.open(start, end);
    return await read(body, length);
  } catch (err) {
    if (io.missing(err)) return null;
    if (io.pastEnd(err)) return (await io.exists()) ? empty : null;
    throw io.fail(err);
  }
}

/**
 * Reads a response body into `buffers`, each filled before the next, as it arrives (the bytes are
 * copied once, from the network's chunks to their place); returns how many arrived. A body larger
 * than the buffers means the server did not answer the range asked for: an error, never a read
 * cut short or spilled past the buffers.
 */
export async function readBodyInto(body: AsyncIterable<Uint8Array | string> | null | undefined, buffers: readonly Uint8Array[]): Promise<number> {
  if (!body) return 0;
  const capacity = totalBytes(buffers);
  let total = 0;
  let index = 0;
  let offset = 0;
  for await (const chunk of body) {
    let bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (total + bytes.byteLength > capacity)
      throw new ObjectStoreError('transient', `the response body holds more than the ${capacity} bytes of the range asked for`);
    total += bytes.byteLength;
    while (bytes.byteLength > 0) {
      const target = buffers[index]!;
      const n = Math.min(bytes.byteLength, target.byteLength - offset);
      target.set(bytes.subarray(0, n), offset);
      bytes = bytes.subarray(n);
      offset += n;
      if (offset === target.byteLength) {
        index++;
        offset = 0;
      }
    }
  }
  return total;
}

/** Node/undici network failures: the request may or may not have reached the server. */
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'REQUEST_SEND_ERROR',
]);
const NETWORK_NAMES = new Set(['TimeoutError', 'AbortError', 'RequestTimeout', 'TimeoutException']);

/** `transient` when `err` (or its cause chain) is a network failure or a timeout. */
export function networkErrorKind(err: unknown): ObjectStoreErrorKind | undefined {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, name, message } = e as { code?: unknown; name?: unknown; message?: unknown };
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return 'transient';
    if (typeof name === 'string' && NETWORK_NAMES.has(name)) return 'transient';
    if (typeof message === 'string' && /socket hang up|ECONNREFUSED|ECONNRESET|other side closed|network error/i.test(message)) return 'transient';
  }
  return undefined;
}

/**
 * The kind an HTTP status means on every cloud. Each adapter first looks at its cloud's error code
 * (S3 `SlowDown` and Azure `ServerBusy` arrive as 503 but mean throttling).
 */
export function kindOfStatus(status: number | undefined): ObjectStoreErrorKind | undefined {
  if (status === undefined) return undefined;
  if (status === 404) return 'not_found';
  if (status === 412) return 'precondition_failed';
  if (status === 429) return 'throttled';
  if (status === 408 || status >= 500) return 'transient';
  if (status >= 400) return 'permanent';
  return undefined;
}

export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

/** Runs `fn` over `items` with at most `concurrency` calls in flight; results in input order. */
export async function mapConcurrently<T, R>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  return results;
}

/** Splits `data` into views of at most `size` bytes (at least one, possibly empty). */
export function splitParts(data: Uint8Array, size: number): Uint8Array[] {
  const parts: Uint8Array[] = [];
  for (let offset = 0; offset < data.length; offset += size) parts.push(data.subarray(offset, Math.min(offset + size, data.length)));
  return parts.length > 0 ? parts : [data];
}
