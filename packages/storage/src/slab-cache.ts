import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LRUCache } from 'lru-cache';
import { readFileInto } from './fs-read.ts';
import { copyIntoBuffers, readRangeIntoOf, type ListOptions, type ListPage, type ObjectBody, type ObjectMeta, type ObjectStore } from './object-store.ts';

/** Tuning of the slab cache. Every default is documented where it is defined. */
export interface SlabCacheOptions {
  /** Bytes of objects kept in memory; 0 turns the memory tier off. Default 256 MiB. */
  memoryBytes?: number;
  /** Bytes kept on local disk; 0 turns the disk tier off. Default 0 (off) unless `dir` is given, then 4 GiB. */
  diskBytes?: number;
  /**
   * Directory of the disk tier (created), owned by this cache — one directory per process. What an
   * earlier process left there is indexed again at start (oldest first), so a restarted node reads
   * its slabs from local disk instead of the object store; incomplete files are removed.
   */
  dir?: string;
  /**
   * Which keys hold immutable objects and may be cached. Default: keys ending in `.slab`. Never
   * include keys that are rewritten in place (manifests, registry markers): the cache does not
   * revalidate, so it would serve the old bytes.
   */
  cacheable?: (key: string) => boolean;
  /**
   * Hand out the cached buffer itself instead of a copy. Faster and leaner, but a caller that
   * writes into a returned buffer corrupts the cache. Default false.
   */
  shareBuffers?: boolean;
}

export interface SlabCacheStats {
  memoryHits: number;
  diskHits: number;
  misses: number;
  /** Gets that found a fetch of the same key in flight and waited for it instead of fetching again. */
  coalesced: number;
  bytesFromMemory: number;
  bytesFromDisk: number;
  bytesFromStore: number;
  memoryBytes: number;
  memoryEntries: number;
  diskBytes: number;
  diskEntries: number;
  memoryEvictions: number;
  diskEvictions: number;
}

interface Ticket {
  load: Promise<ObjectBody | null>;
}

interface DiskEntry {
  file: string;
  size: number;
  etag: string;
}

export const DEFAULT_SLAB_CACHE_MEMORY_BYTES = 256 * 1024 * 1024;
export const DEFAULT_SLAB_CACHE_DISK_BYTES = 4 * 1024 * 1024 * 1024;

export const isSlabKey = (key: string): boolean => key.endsWith('.slab');

const metaFileOf = (objectFile: string): string => objectFile.replace(/\.obj$/, '.meta');

/**
 * A read-through cache of immutable objects (slabs) in two tiers: memory (byte budget, LRU) over
 * local disk (byte budget, LRU, one file per object under `dir`) over the object store.
 *
 * - A memory miss looks on disk, then fetches from the store; what is fetched lands in both tiers,
 *   what is found on disk moves up into memory.
 * - Concurrent misses of one key fetch it once (the others wait for that fetch).
 * - Only immutable objects may be cached (see `cacheable`): nothing is ever revalidated. An object
 *   deleted from the store stays readable here until evicted — harmless for slabs, which are
 *   deleted only once no manifest references them.
 * - `stats()` counts hits, misses and bytes per tier.
 */
export class SlabCache {
  readonly store: ObjectStore;
  readonly cacheable: (key: string) => boolean;
  readonly #memory: LRUCache<string, ObjectBody> | undefined;
  readonly #disk: LRUCache<string, DiskEntry> | undefined;
  readonly #dir: string | undefined;
  readonly #share: boolean;
  /** Fetches in flight; an eviction removes the key's ticket, so that fetch does not cache what it read. */
  readonly #inflight = new Map<string, Ticket>();
  readonly #counters = {
    memoryHits: 0,
    diskHits: 0,
    misses: 0,
    coalesced: 0,
    bytesFromMemory: 0,
    bytesFromDisk: 0,
    bytesFromStore: 0,
    memoryEvictions: 0,
    diskEvictions: 0,
  };
  /** Keys being fetched whole into the disk tier after a ranged miss. */
  readonly #filling = new Set<string>();
  /** Disk writes and deletes in flight, so that `close()` can wait for them. */
  readonly #pendingIo = new Set<Promise<unknown>>();

  constructor(store: ObjectStore, options: SlabCacheOptions = {}) {
    this.store = store;
    this.cacheable = options.cacheable ?? isSlabKey;
    this.#share = options.shareBuffers ?? false;
    const memoryBytes = options.memoryBytes ?? DEFAULT_SLAB_CACHE_MEMORY_BYTES;
    if (memoryBytes > 0) {
      this.#memory = new LRUCache<string, ObjectBody>({
        maxSize: memoryBytes,
        sizeCalculation: (body) => Math.max(1, body.data.byteLength),
        dispose: (_body, _key, reason) => {
          if (reason === 'evict') this.#counters.memoryEvictions++;
        },
      });
    }
    const diskBytes = options.diskBytes ?? (options.dir === undefined ? 0 : DEFAULT_SLAB_CACHE_DISK_BYTES);
    if (diskBytes > 0) {
      if (options.dir === undefined) throw new Error('SlabCache: the disk tier needs a directory (options.dir)');
      const dir = options.dir;
      this.#dir = dir;
      mkdirSync(dir, { recursive: true });
      this.#disk = new LRUCache<string, DiskEntry>({
        maxSize: diskBytes,
        sizeCalculation: (entry) => Math.max(1, entry.size),
        dispose: (entry, _key, reason) => {
          // Replaced by a newer copy of the same key: same file names, already overwritten.
          if (reason === 'set') return;
          if (reason === 'evict') this.#counters.diskEvictions++;
          this.#track(Promise.all([unlink(entry.file), unlink(metaFileOf(entry.file))]).catch(() => undefined));
        },
      });
      this.#reindexDisk(dir);
    }
  }

  /**
   * Indexes the objects an earlier process left in `dir`: each `<hash>.obj` with its `<hash>.meta`
   * (key, etag, size), written in that order, so a crash leaves an object without meta — removed.
   */
  #reindexDisk(dir: string): void {
    const found: { entry: DiskEntry; key: string; mtimeMs: number }[] = [];
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (name.endsWith('.tmp')) {
        rmSync(path, { force: true });
        continue;
      }
      if (!name.endsWith('.obj')) continue;
      try {
        const meta = JSON.parse(readFileSync(metaFileOf(path), 'utf8')) as { key: string; etag: string; size: number };
        const stats = statSync(path);
        if (stats.size !== meta.size || typeof meta.key !== 'string' || !this.cacheable(meta.key)) throw new Error('stale');
        found.push({ key: meta.key, entry: { file: path, size: meta.size, etag: meta.etag }, mtimeMs: stats.mtimeMs });
      } catch {
        rmSync(path, { force: true });
        rmSync(metaFileOf(path), { force: true });
      }
    }
    for (const name of readdirSync(dir)) {
      if (name.endsWith('.meta') && !found.some((f) => metaFileOf(f.entry.file) === join(dir, name))) rmSync(join(dir, name), { force: true });
    }
    // Oldest first, so the most recently written are the most recently used.
    for (const { key, entry } of found.sort((a, b) => a.mtimeMs - b.mtimeMs)) this.#disk!.set(key, entry);
  }

  /** The object, from memory, disk or the store; `null` when the store has no such key. */
  async get(key: string): Promise<ObjectBody | null> {
    const hit = this.#memory?.get(key);
    if (hit) {
      this.#counters.memoryHits++;
      this.#counters.bytesFromMemory += hit.data.byteLength;
      return this.#out(hit);
    }
    const pending = this.#inflight.get(key);
    if (pending) {
      this.#counters.coalesced++;
      const body = await pending.load;
      return body && this.#out(body);
    }
    const ticket = {} as Ticket;
    ticket.load = this.#load(key, ticket);
    this.#inflight.set(key, ticket);
    const body = await ticket.load.finally(() => {
      if (this.#inflight.get(key) === ticket) this.#inflight.delete(key);
    });
    return body && this.#out(body);
  }

  /**
   * Bytes [start, end) of an object: from memory or the local disk when it is cached there, else
   * from the store. A slab read by range is never read whole by its reader, so a miss also fetches
   * the whole object to the disk tier in the background (once at a time per key): the next reads
   * of it — after a restart too — are local.
   */
  async getRange(key: string, start: number, end: number): Promise<Uint8Array | null> {
    const hit = this.#memory?.get(key);
    if (hit) {
      this.#counters.memoryHits++;
      const from = Math.min(start, hit.data.length);
      const part = hit.data.subarray(from, Math.max(from, Math.min(end, hit.data.length)));
      this.#counters.bytesFromMemory += part.byteLength;
      return this.#share ? part : part.slice();
    }
    const onDisk = this.#disk?.get(key);
    if (onDisk) {
      const part = await readFileRange(onDisk.file, start, Math.min(end, onDisk.size)).catch(() => undefined);
      if (part) {
        this.#counters.diskHits++;
        this.#counters.bytesFromDisk += part.byteLength;
        return part;
      }
      this.#disk?.delete(key); // evicted and unlinked under us
    }
    this.#fillDisk(key);
    return this.store.getRange(key, start, end);
  }

  /**
   * getRange's bytes from `start` straight into `buffers` (see ObjectStore.readRangeInto): copied
   * from memory, read from the local disk into place, or on a miss from the store (which fills the
   * disk tier in the background, as getRange does).
   */
  async readRangeInto(key: string, start: number, buffers: Uint8Array[]): Promise<number | null> {
    const hit = this.#memory?.get(key);
    if (hit) {
      this.#counters.memoryHits++;
      const read = copyIntoBuffers(hit.data.subarray(Math.min(start, hit.data.length)), buffers);
      this.#counters.bytesFromMemory += read;
      return read;
    }
    const onDisk = this.#disk?.get(key);
    if (onDisk) {
      const read = await readFileInto(onDisk.file, onDisk.size, start, buffers).catch(() => undefined);
      if (read !== undefined) {
        this.#counters.diskHits++;
        this.#counters.bytesFromDisk += read;
        return read;
      }
      this.#disk?.delete(key); // evicted and unlinked under us
    }
    this.#fillDisk(key);
    return readRangeIntoOf(this.store, key, start, buffers);
  }

  /** Fetches `key` whole into the disk tier in the background, unless that is under way. */
  #fillDisk(key: string): void {
    if (!this.#disk || !this.cacheable(key) || this.#filling.has(key)) return;
    this.#filling.add(key);
    this.#track(
      this.store
        .get(key)
        .then(async (body) => {
          if (!body) return;
          this.#counters.misses++;
          this.#counters.bytesFromStore += body.data.byteLength;
          await this.#toDisk(body);
        })
        .catch(() => undefined) // best-effort, like every disk write
        .finally(() => this.#filling.delete(key)),
    );
  }

  /** Puts an object just written into the cache (write-through), when its key is cacheable. */
  async add(body: ObjectBody): Promise<void> {
    if (!this.cacheable(body.key)) return;
    const own: ObjectBody = { ...body, data: this.#share ? body.data : body.data.slice() };
    this.#memory?.set(own.key, own);
    await this.#toDisk(own);
  }

  /** Drops `key` from both tiers. */
  evict(key: string): void {
    this.#inflight.delete(key);
    this.#memory?.delete(key);
    this.#disk?.delete(key);
  }

  stats(): SlabCacheStats {
    return {
      ...this.#counters,
      memoryBytes: this.#memory?.calculatedSize ?? 0,
      memoryEntries: this.#memory?.size ?? 0,
      diskBytes: this.#disk?.calculatedSize ?? 0,
      diskEntries: this.#disk?.size ?? 0,
    };
  }

  /** Waits for disk writes in flight; with `clear`, empties both tiers (and the directory). */
  async close(options: { clear?: boolean } = {}): Promise<void> {
    await this.#settleIo();
    if (options.clear) {
      this.#memory?.clear();
      this.#disk?.clear();
      await this.#settleIo();
    }
  }

  /**
   * Until no disk I/O is left: a write that completes can start more (caching its object may
   * evict another, whose files are then unlinked), so one snapshot of the pending set is not enough.
   */
  async #settleIo(): Promise<void> {
    while (this.#pendingIo.size > 0) await Promise.all([...this.#pendingIo]);
  }

  async #load(key: string, ticket: Ticket): Promise<ObjectBody | null> {
    await Promise.resolve(); // let get() register the ticket first
    const onDisk = this.#disk?.get(key);
    if (onDisk) {
      const data = await readFile(onDisk.file).catch(() => undefined);
      if (data && data.byteLength === onDisk.size) {
        this.#counters.diskHits++;
        this.#counters.bytesFromDisk += data.byteLength;
        const body: ObjectBody = { key, size: onDisk.size, etag: onDisk.etag, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
        this.#memory?.set(key, body);
        return body;
      }
      // Evicted (and unlinked) between the index lookup and the read: fetch again.
      this.#disk?.delete(key);
    }
    this.#counters.misses++;
    const body = await this.store.get(key);
    if (!body) return null;
    this.#counters.bytesFromStore += body.data.byteLength;
    // Evicted while we were reading (a write through withCache): what we read may be stale.
    if (this.#inflight.get(key) !== ticket) return body;
    this.#memory?.set(key, body);
    // The disk copy is written in the background: the caller does not wait for local I/O.
    this.#track(this.#toDisk(body));
    return body;
  }

  async #toDisk(body: ObjectBody): Promise<void> {
    if (!this.#disk || !this.#dir) return;
    if (body.data.byteLength > this.#disk.maxSize) return;
    const name = createHash('sha256').update(body.key).digest('hex');
    const file = join(this.#dir, `${name}.obj`);
    const temp = join(this.#dir, `${name}-${randomUUID()}.tmp`);
    try {
      await writeFile(temp, body.data);
      await rename(temp, file);
      await writeFile(temp, JSON.stringify({ key: body.key, etag: body.etag, size: body.data.byteLength }));
      await rename(temp, metaFileOf(file));
      this.#disk.set(body.key, { file, size: body.data.byteLength, etag: body.etag });
    } catch {
      // The disk tier is best-effort: a full or failing disk only costs cache hits.
      await unlink(temp).catch(() => undefined);
    }
  }

  #out(body: ObjectBody): ObjectBody {
    return this.#share ? body : { ...body, data: body.data.slice() };
  }

  #track(io: Promise<unknown>): void {
    this.#pendingIo.add(io);
    void io.finally(() => this.#pendingIo.delete(io));
  }
}

/** Bytes [start, end) of a local file (the caller clamps `end` to its size). */
async function readFileRange(file: string, start: number, end: number): Promise<Uint8Array> {
  const out = new Uint8Array(Math.max(0, end - start));
  const read = await readFileInto(file, end, start, [out]);
  return read === out.length ? out : out.subarray(0, read);
}

export interface CachedObjectStore extends ObjectStore {
  readonly inner: ObjectStore;
  readonly cache: SlabCache;
}

/**
 * Wraps `store` with a `SlabCache`: `get` and `getRange` of cacheable keys go through the cache,
 * everything else straight to the store. Writes and deletes through this wrapper drop the key from
 * the cache, and with `writeThrough` a new slab is cached as it is written.
 *
 * @example const store = withCache(withRetries(s3), { memoryBytes: 512 << 20, dir: '/var/cache/conifer', diskBytes: 20 << 30 });
 */
export function withCache(store: ObjectStore, options: SlabCacheOptions & { writeThrough?: boolean } = {}): CachedObjectStore {
  const cache = new SlabCache(store, options);
  const writeThrough = options.writeThrough ?? false;
  const written = async (key: string, data: Uint8Array, meta: ObjectMeta): Promise<ObjectMeta> => {
    cache.evict(key);
    if (writeThrough && cache.cacheable(key)) await cache.add({ ...meta, data });
    return meta;
  };
  return {
    inner: store,
    cache,
    remote: store.remote === true,
    get: (key) => (cache.cacheable(key) ? cache.get(key) : store.get(key)),
    getRange: (key, start, end) => (cache.cacheable(key) ? cache.getRange(key, start, end) : store.getRange(key, start, end)),
    readRangeInto: (key, start, buffers) => (cache.cacheable(key) ? cache.readRangeInto(key, start, buffers) : readRangeIntoOf(store, key, start, buffers)),
    head: (key) => store.head(key),
    put: async (key, data) => written(key, data, await store.put(key, data)),
    putIfAbsent: async (key, data) => written(key, data, await store.putIfAbsent(key, data)),
    putIfMatch: async (key, data, etag) => written(key, data, await store.putIfMatch(key, data, etag)),
    delete: async (key) => {
      cache.evict(key);
      await store.delete(key);
    },
    list: (prefix: string, options?: ListOptions): Promise<ListPage> => store.list(prefix, options),
    // The cache's own disk writes are let finish; the store beneath lets go of what it holds.
    close: async () => {
      await cache.close();
      await store.close?.();
    },
  };
}
