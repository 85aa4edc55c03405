import type { ObjectBody, ObjectStore, WriteTokenSupport } from './object-store.ts';
import { hasWriteTokens, readRangeIntoOf } from './object-store.ts';

export interface ParallelReadOptions {
  /** Bytes per ranged GET. Default 8 MiB. */
  chunkBytes?: number;
  /** Ranged GETs in flight for one object. Default 8. */
  streams?: number;
  /** Which keys are immutable and may be read in pieces. Default: keys ending in `.slab`. */
  immutable?: (key: string) => boolean;
}

const DEFAULT_CHUNK_BYTES = 8 * 2 ** 20;
const DEFAULT_STREAMS = 8;

/**
 * Reads large immutable objects as several ranged GETs at once. A bucket serves one stream at
 * roughly a hundred MB/s, so a slab of a gigabyte takes seconds in one GET, and a fraction of that
 * in eight. A read sends a HEAD and the first range together (one round trip, as a plain GET), so a
 * small object costs no more time; a larger one then fetches its other ranges `streams` at a time
 * into one buffer (shared memory, which a slab loader keeps without copying). Only immutable keys
 * (slabs) are read this way: the pieces of an object rewritten meanwhile could mix two versions.
 */
export function withParallelReads(store: ObjectStore, options: ParallelReadOptions = {}): ObjectStore & Partial<WriteTokenSupport> {
  const chunk = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const streams = options.streams ?? DEFAULT_STREAMS;
  const immutable = options.immutable ?? ((key: string) => key.endsWith('.slab'));

  async function get(key: string): Promise<ObjectBody | null> {
    if (!immutable(key)) return store.get(key);
    const [meta, first] = await Promise.all([store.head(key), store.getRange(key, 0, chunk)]);
    if (!meta || !first) return null;
    if (meta.size <= chunk && first.byteLength === meta.size) return { ...meta, data: first };
    const data = new Uint8Array(new SharedArrayBuffer(meta.size));
    data.set(first.subarray(0, Math.min(first.byteLength, meta.size)), 0);
    let next = first.byteLength;
    const worker = async (): Promise<void> => {
      while (next < meta.size) {
        const start = next;
        const end = Math.min(meta.size, start + chunk);
        next = end;
        const part = await store.getRange(key, start, end);
        if (!part || part.byteLength !== end - start) throw new Error(`${key}: bytes ${start}–${end} came back short (the object changed while it was read)`);
        data.set(part, start);
      }
    };
    await Promise.all(Array.from({ length: streams }, worker));
    return { ...meta, data };
  }

  const wrapped: ObjectStore & Partial<WriteTokenSupport> = {
    get,
    getRange: (key, start, end) => store.getRange(key, start, end),
    readRangeInto: (key, start, buffers) => readRangeIntoOf(store, key, start, buffers),
    head: (key) => store.head(key),
    put: (key, data) => store.put(key, data),
    putIfAbsent: (key, data) => store.putIfAbsent(key, data),
    putIfMatch: (key, data, etag) => store.putIfMatch(key, data, etag),
    delete: (key) => store.delete(key),
    list: (prefix, listOptions) => store.list(prefix, listOptions),
    get remote() {
      return store.remote === true;
    },
    close: async () => {
      await store.close?.();
    },
  };
  if (hasWriteTokens(store)) {
    wrapped.putIfAbsentWithToken = (key, data, token) => store.putIfAbsentWithToken(key, data, token);
    wrapped.putIfMatchWithToken = (key, data, etag, token) => store.putIfMatchWithToken(key, data, etag, token);
    wrapped.headWithToken = (key) => store.headWithToken(key);
  }
  return wrapped;
}
