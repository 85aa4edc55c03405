import { createHash } from 'node:crypto';
import { mkdirSync, type BigIntStats } from 'node:fs';
import { link, open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { DurableDirs, fsyncDir, fsyncParentsSync, nextMtime, removeAbandonedTemps, unlinkQuietly, writeDurableTemp } from './fs-durable.ts';
import { errnoCode, isKeyShapeClash, messageOf, toObjectStoreError } from './fs-errors.ts';
import type { LinkedStats } from './fs-link-sync.ts';
import { sharedLinkThreads, type LinkThreads } from './fs-link-threads.ts';
import { acquireFileLock, DEFAULT_LOCK_STALE_MS } from './fs-lock.ts';
import { ReadHandles } from './fs-read-handles.ts';
import { readInto } from './fs-read.ts';
import { isPossibleKeyPrefix, MAX_SEGMENT_BYTES, walkKeys } from './fs-walk.ts';
import { KeyedMutex } from './keyed-mutex.ts';
import { assertValidRange, listLimit } from './list-options.ts';
import { isSlabKey } from './slab-cache.ts';
import { assertValidKey, ObjectStoreError, type ListOptions, type ListPage, type ObjectBody, type ObjectMeta, type ObjectStore } from './object-store.ts';

/** Temp files and lock files live here, inside the root so that rename and link stay on one file system. */
const TMP_DIR = '.tmp';
const LOCKS_DIR = 'locks';
/** Attempts when a directory we just made disappears under a concurrent delete's pruning. */
const MAX_INSTALL_ATTEMPTS = 8;
const LIST_STAT_CONCURRENCY = 32;
/**
 * Create-if-absent writes up to this size run whole on a write thread (fs-link-threads.ts): the
 * request log's objects, small slabs. Larger ones take the async path: copying them to a thread
 * would hold the event loop for milliseconds, and their write outlasts the turns it would save.
 */
export const LINK_THREAD_MAX_BYTES = 16 * 1024 * 1024;

export interface FsObjectStoreOptions {
  /** Threads for create-if-absent writes; `null` keeps every write on the async path. Default: the process's shared threads. */
  linkThreads?: LinkThreads | null;
}

/**
 * The object store on a local directory: the durability foundation of a single-node Conifer.
 * Key "a/b/c" is the file `<root>/a/b/c`.
 *
 * Writes: the bytes go to a temp file in `<root>/.tmp/`, which is fsynced, then moved into place
 * atomically (rename, or link for create-if-absent), then the directory is fsynced — so a write is
 * durable when its promise resolves, and a crash leaves either the old object or the new one.
 * Readers open the file and keep the inode they opened, so they never see a torn object.
 *
 * Conditional writes hold a per-key lock — an in-process mutex plus a lock file in `.tmp/locks/`
 * for other processes — around "check the etag, rename". Plain puts and deletes take the same lock,
 * otherwise one landing between a compare-and-swap's check and its rename would be silently undone.
 * putIfAbsent needs no lock: link(2) fails atomically when the name exists. Up to
 * LINK_THREAD_MAX_BYTES it runs whole on a write thread, the same steps in one synchronous
 * sequence: a log commit waits for one event-loop turn instead of one per file-system call.
 *
 * Etag: inode, size and mtime in nanoseconds. Every write makes a new inode, but inodes are reused
 * once freed, so each write also stamps a per-process strictly increasing mtime; an old etag comes
 * back only if a reused inode, the same size and the same microsecond all coincide across processes.
 *
 * Limits of a file system, not of the contract: a key cannot be both an object and a "directory" of
 * other keys ("a" and "a/b"); such a write fails with `permanent`. Segments are limited to 255
 * bytes, and keys whose first segment is `.tmp` are reserved (both `invalid_key`). On a
 * case-insensitive file system (macOS by default) keys differing only in case collide.
 */
export class FsObjectStore implements ObjectStore {
  readonly root: string;
  readonly #tmpDir: string;
  readonly #locksDir: string;
  readonly #mutex = new KeyedMutex();
  readonly #dirs: DurableDirs;
  /** Kept open for ranged reads of immutable objects (slabs, `isSlabKey`). */
  readonly #readHandles = new ReadHandles();
  /** Set by close(): slab reads then open and close their files as other reads do. */
  #closed = false;
  readonly #linkThreads: LinkThreads | null | undefined;

  constructor(rootDir: string, options: FsObjectStoreOptions = {}) {
    this.#linkThreads = options.linkThreads;
    // The first write should not wait for a thread to start (tens of milliseconds).
    if (this.#linkThreads === undefined) sharedLinkThreads().prestart();
    this.root = resolve(rootDir);
    this.#tmpDir = join(this.root, TMP_DIR);
    this.#locksDir = join(this.#tmpDir, LOCKS_DIR);
    const firstCreated = mkdirSync(this.root, { recursive: true });
    if (firstCreated !== undefined) fsyncParentsSync(firstCreated, this.root);
    mkdirSync(this.#locksDir, { recursive: true });
    this.#dirs = new DurableDirs(this.root);
    void removeAbandonedTemps(this.#tmpDir);
  }

  async get(key: string): Promise<ObjectBody | null> {
    const file = this.#pathOf(key);
    const handle = await openForRead(file, key);
    if (!handle) return null;
    try {
      // Stat and read the same open inode: a concurrent replace cannot pair old bytes with a new etag.
      const stats = await handle.stat({ bigint: true });
      if (!stats.isFile()) return null;
      const buffer = await handle.readFile();
      return { key, size: buffer.byteLength, etag: etagOf(stats), data: new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength) };
    } catch (err) {
      throw toObjectStoreError(err, 'get', key);
    } finally {
      await handle.close();
    }
  }

  async getRange(key: string, start: number, end: number): Promise<Uint8Array | null> {
    assertValidRange(start, end);
    return this.#readOpen(key, async (handle, size) => {
      const from = Math.min(start, size);
      const out = new Uint8Array(Math.max(0, Math.min(end, size) - from));
      const read = await readInto(handle, size, from, [out]);
      return read === out.length ? out : out.subarray(0, read);
    });
  }

  async readRangeInto(key: string, start: number, buffers: Uint8Array[]): Promise<number | null> {
    assertValidRange(start, start);
    return this.#readOpen(key, (handle, size) => readInto(handle, size, start, buffers));
  }

  /**
   * Runs `read` on the object's file, open, with its size: through a kept handle for a slab
   * (immutable) until the store is closed, else opened and closed around the read; null when
   * there is no such object.
   */
  async #readOpen<T>(key: string, read: (handle: FileHandle, size: number) => Promise<T>): Promise<T | null> {
    const file = this.#pathOf(key);
    try {
      if (isSlabKey(key) && !this.#closed) return await this.#readHandles.use(file, () => this.#openSized(file, key), read);
      const opened = await this.#openSized(file, key);
      if (!opened) return null;
      try {
        return await read(opened.handle, opened.size);
      } finally {
        await opened.handle.close();
      }
    } catch (err) {
      throw toObjectStoreError(err, 'getRange', key);
    }
  }

  /** The file open for reads, with its size; null when there is no such object. */
  async #openSized(file: string, key: string): Promise<{ handle: FileHandle; size: number } | null> {
    const handle = await openForRead(file, key);
    if (!handle) return null;
    try {
      const stats = await handle.stat({ bigint: true });
      if (stats.isFile()) return { handle, size: Number(stats.size) };
    } catch (err) {
      await handle.close();
      throw err;
    }
    await handle.close();
    return null;
  }

  /** Closes the slab files kept open for ranged reads; later reads open and close their own. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#readHandles.clear();
  }

  /** Slab files kept open for ranged reads (for tests). */
  get keptHandles(): number {
    return this.#readHandles.size;
  }

  async head(key: string): Promise<ObjectMeta | null> {
    const stats = await statFile(this.#pathOf(key), key);
    return stats ? metaOf(key, stats) : null;
  }

  async put(key: string, data: Uint8Array): Promise<ObjectMeta> {
    const file = this.#pathOf(key);
    const temp = await writeDurableTemp(this.#tmpDir, data, key);
    try {
      await this.#withKeyLock(key, () => this.#install(file, key, () => rename(temp.path, file)));
    } catch (err) {
      await unlinkQuietly(temp.path);
      throw toObjectStoreError(err, 'put', key);
    } finally {
      // A kept handle would go on reading the replaced inode.
      this.#readHandles.forget(file);
    }
    await fsyncDir(dirname(file), key);
    return metaOf(key, temp.stats);
  }

  async putIfAbsent(key: string, data: Uint8Array): Promise<ObjectMeta> {
    const file = this.#pathOf(key);
    if (data.length <= LINK_THREAD_MAX_BYTES && this.#linkThreads !== null) return this.#putIfAbsentOnThread(key, file, data);
    const temp = await writeDurableTemp(this.#tmpDir, data, key);
    try {
      await this.#install(file, key, async () => {
        try {
          await link(temp.path, file);
        } catch (err) {
          if (errnoCode(err) !== 'EEXIST') throw err;
          // The name is taken by a directory of other keys: no object exists, and none ever can.
          if ((await stat(file).catch(() => null))?.isDirectory()) throw conflictError(key);
          throw new ObjectStoreError('precondition_failed', `object ${key} already exists`, { key });
        }
      });
    } catch (err) {
      throw toObjectStoreError(err, 'putIfAbsent', key);
    } finally {
      await unlinkQuietly(temp.path);
    }
    await fsyncDir(dirname(file), key);
    return metaOf(key, temp.stats);
  }

  async #putIfAbsentOnThread(key: string, file: string, data: Uint8Array): Promise<ObjectMeta> {
    const threads = this.#linkThreads ?? sharedLinkThreads();
    let outcome;
    try {
      outcome = await threads.link({ root: this.root, tmpDir: this.#tmpDir, file, data, mtime: nextMtime() });
    } catch (err) {
      // The thread died with the write in hand: its outcome is unknown, as after a lost connection.
      throw new ObjectStoreError('transient', `putIfAbsent ${key} failed: ${messageOf(err)}`, { key, cause: err });
    }
    switch (outcome.kind) {
      case 'linked':
        return metaOf(key, outcome.stats);
      case 'exists':
        throw new ObjectStoreError('precondition_failed', `object ${key} already exists`, { key });
      case 'conflict':
        throw conflictError(key, new Error(outcome.message));
      case 'failed':
        throw toObjectStoreError(Object.assign(new Error(outcome.message), { code: outcome.code }), 'putIfAbsent', key);
    }
  }

  async putIfMatch(key: string, data: Uint8Array, etag: string): Promise<ObjectMeta> {
    const file = this.#pathOf(key);
    const temp = await writeDurableTemp(this.#tmpDir, data, key);
    try {
      await this.#withKeyLock(key, async (assertHeld) => {
        const current = await statFile(file, key);
        if (!current || etagOf(current) !== etag) {
          const why = current ? `its etag is ${etagOf(current)}, not ${etag}` : 'it does not exist';
          throw new ObjectStoreError('precondition_failed', `cannot replace object ${key}: ${why}`, { key });
        }
        await assertHeld();
        await rename(temp.path, file);
      });
    } catch (err) {
      await unlinkQuietly(temp.path);
      throw toObjectStoreError(err, 'putIfMatch', key);
    } finally {
      this.#readHandles.forget(file);
    }
    await fsyncDir(dirname(file), key);
    return metaOf(key, temp.stats);
  }

  async delete(key: string): Promise<void> {
    const file = this.#pathOf(key);
    const removed = await this.#withKeyLock(key, async () => {
      try {
        await unlink(file);
        return true;
      } catch (err) {
        const code = errnoCode(err);
        if (code === 'ENOENT' || code === 'ENOTDIR') return false;
        // unlink(2) on a directory: EISDIR on Linux, EPERM on macOS. A directory is not an object.
        if ((code === 'EISDIR' || code === 'EPERM') && (await stat(file).catch(() => null))?.isDirectory()) return false;
        throw toObjectStoreError(err, 'delete', key);
      } finally {
        this.#readHandles.forget(file);
      }
    });
    if (!removed) return;
    await fsyncDir(dirname(file), key);
    await this.#dirs.pruneEmpty(dirname(file));
  }

  async list(prefix: string, options?: ListOptions): Promise<ListPage> {
    const limit = listLimit(options);
    if (!isPossibleKeyPrefix(prefix, TMP_DIR)) return { objects: [] };
    const keys: string[] = [];
    let more = false;
    for await (const key of walkKeys(this.root, prefix, options?.startAfter, TMP_DIR)) {
      if (keys.length === limit) {
        more = true;
        break;
      }
      keys.push(key);
    }
    // A key deleted between readdir and stat is simply left out of the page.
    const metas = await mapConcurrently(keys, LIST_STAT_CONCURRENCY, async (key) => {
      const stats = await statFile(join(this.root, key), key);
      return stats ? metaOf(key, stats) : null;
    });
    const objects = metas.filter((m): m is ObjectMeta => m !== null);
    return more ? { objects, nextStartAfter: keys.at(-1)! } : { objects };
  }

  /** The file of `key`, after checking the key is valid here. */
  #pathOf(key: string): string {
    assertValidKey(key);
    const segments = key.split('/');
    if (segments[0] === TMP_DIR) throw new ObjectStoreError('invalid_key', `keys under ${TMP_DIR}/ are reserved by the file-system store`, { key });
    if (segments.some((s) => s.length > MAX_SEGMENT_BYTES)) {
      throw new ObjectStoreError('invalid_key', `key segments are limited to ${MAX_SEGMENT_BYTES} bytes on a file system`, { key });
    }
    return join(this.root, ...segments);
  }

  /**
   * Makes the parent directories of `file` exist durably, then runs `move` (rename or link into
   * place). A directory can vanish between the two when a delete prunes it as empty: start again.
   */
  async #install(file: string, key: string, move: () => Promise<void>): Promise<void> {
    const dir = dirname(file);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#dirs.ensure(dir, key);
        await move();
        return;
      } catch (err) {
        const code = errnoCode(err);
        if (isKeyShapeClash(code)) throw conflictError(key, err);
        if (code !== 'ENOENT' || attempt === MAX_INSTALL_ATTEMPTS) throw err;
        this.#dirs.forget(dir);
      }
    }
  }

  async #withKeyLock<T>(key: string, fn: (assertHeld: () => Promise<void>) => Promise<T>): Promise<T> {
    return this.#mutex.run(key, async () => {
      const lockName = createHash('sha256').update(key).digest('hex');
      const lock = await acquireFileLock(join(this.#locksDir, lockName), { staleMs: DEFAULT_LOCK_STALE_MS });
      try {
        return await fn(() => lock.assertHeld());
      } finally {
        await lock.release();
      }
    });
  }
}

function etagOf(stats: LinkedStats): string {
  return `${stats.ino}-${stats.size}-${stats.mtimeNs}`;
}

function metaOf(key: string, stats: LinkedStats): ObjectMeta {
  return { key, size: Number(stats.size), etag: etagOf(stats) };
}

function conflictError(key: string, cause?: unknown): ObjectStoreError {
  return new ObjectStoreError('permanent', `cannot store ${key}: on a file system a key cannot be both an object and a prefix of other keys ("a" and "a/b")`, {
    key,
    cause,
  });
}

/** Stats of the object's file; `null` when there is no object (missing, or a directory). */
async function statFile(file: string, key: string): Promise<BigIntStats | null> {
  try {
    const stats = await stat(file, { bigint: true });
    return stats.isFile() ? stats : null;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return null;
    throw toObjectStoreError(err, 'head', key);
  }
}

async function openForRead(file: string, key: string) {
  try {
    return await open(file, 'r');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return null;
    throw toObjectStoreError(err, 'get', key);
  }
}

async function mapConcurrently<T, R>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
