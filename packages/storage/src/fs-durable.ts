import { randomUUID } from 'node:crypto';
import { closeSync, fsyncSync, openSync, type BigIntStats } from 'node:fs';
import { mkdir, open, readdir, rmdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { LRUCache } from 'lru-cache';
import { errnoCode, toObjectStoreError } from './fs-errors.ts';

/**
 * Making files and directories durable on disk, for FsObjectStore: temp files written and fsynced
 * before they are moved into place, directory entries fsynced up to the store's root, empty
 * directories pruned after deletes, and temp files of crashed writers removed.
 */

/** Temp files older than this belong to a crashed writer; no live write takes this long. */
const ABANDONED_TEMP_MS = 60 * 60 * 1000;

interface WrittenTemp {
  path: string;
  stats: BigIntStats;
}

/**
 * Directories under `root` whose entry (and their ancestors') this process has fsynced, with their
 * inode: a directory another process created may not be durable yet, so its chain is fsynced on
 * first use.
 */
export class DurableDirs {
  readonly #root: string;
  readonly #synced = new LRUCache<string, bigint>({ max: 10_000 });

  constructor(root: string) {
    this.#root = root;
  }

  /** Makes `dir` exist, with its entry and its ancestors' durable. */
  async ensure(dir: string, key: string): Promise<void> {
    if (dir === this.#root) return;
    await mkdir(dir, { recursive: true });
    const { ino } = await stat(dir, { bigint: true });
    if (this.#synced.get(dir) === ino) return;
    // Each directory's entry lives in its parent: fsync every parent from here up to the root.
    // The directories may have been made by another process that has not synced them yet.
    const parents: string[] = [];
    for (let d = dir; d !== this.#root; d = dirname(d)) parents.push(dirname(d));
    await Promise.all(parents.map((p) => fsyncDir(p, key)));
    this.#synced.set(dir, ino);
  }

  /** Forgets `dir` (it vanished): the next ensure() makes it again. */
  forget(dir: string): void {
    this.#synced.delete(dir);
  }

  /** Removes directories left empty by a delete, best-effort; a write racing with it starts again. */
  async pruneEmpty(dir: string): Promise<void> {
    for (let d = dir; d !== this.#root && d.startsWith(this.#root); d = dirname(d)) {
      try {
        await rmdir(d);
      } catch {
        return; // not empty (or already gone): stop climbing
      }
      this.#synced.delete(d);
    }
  }
}

/** fsyncs a directory, so that the entries renamed or linked into it are durable. */
export async function fsyncDir(dir: string, key: string): Promise<void> {
  if (process.platform === 'win32') return; // directories cannot be opened (nor need syncing) there
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (err) {
    // Some file systems cannot sync a directory (EINVAL); their renames are not ours to make durable.
    if (errnoCode(err) !== 'EINVAL') throw toObjectStoreError(err, 'sync directory for', key);
  } finally {
    await handle?.close();
  }
}

/** Makes a newly created root durable: fsyncs the parent of each directory from `firstCreated` down. */
export function fsyncParentsSync(firstCreated: string, root: string): void {
  if (process.platform === 'win32') return;
  for (let dir = root; ; dir = dirname(dir)) {
    const fd = openSync(dirname(dir), 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (dir === firstCreated || dirname(dir) === dir) return;
  }
}

/**
 * Writes `data` to a fresh temp file in `tmpDir`, stamps a unique mtime (part of the store's etag)
 * and fsyncs it; the caller moves it into place.
 */
export async function writeDurableTemp(tmpDir: string, data: Uint8Array, key: string): Promise<WrittenTemp> {
  const path = join(tmpDir, `${process.pid}-${randomUUID()}`);
  let handle: FileHandle;
  try {
    handle = await open(path, 'wx');
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw toObjectStoreError(err, 'write', key);
    // Someone removed .tmp/ under us: recreate it once.
    await mkdir(tmpDir, { recursive: true });
    handle = await open(path, 'wx').catch((e: unknown) => Promise.reject(toObjectStoreError(e, 'write', key)));
  }
  try {
    await handle.writeFile(data);
    const mtime = nextMtime();
    await handle.utimes(mtime, mtime);
    await handle.sync();
    return { path, stats: await handle.stat({ bigint: true }) };
  } catch (err) {
    await unlinkQuietly(path);
    throw toObjectStoreError(err, 'write', key);
  } finally {
    await handle.close();
  }
}

let lastMtimeMicros = 0;
/**
 * Now, in seconds, but strictly after the previous value handed out in this process (1 µs
 * steps survive the double → timespec conversion), so that two writes never share an mtime.
 */
export function nextMtime(): number {
  lastMtimeMicros = Math.max(Date.now() * 1000, lastMtimeMicros + 1);
  return lastMtimeMicros / 1e6;
}

/** Removes temp files a crashed writer left behind (older than ABANDONED_TEMP_MS), best-effort. */
export async function removeAbandonedTemps(tmpDir: string): Promise<void> {
  try {
    const now = Date.now();
    for (const entry of await readdir(tmpDir, { withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const path = join(tmpDir, entry.name);
      const stats = await stat(path).catch(() => null);
      if (stats && now - stats.mtimeMs > ABANDONED_TEMP_MS) await unlinkQuietly(path);
    }
  } catch {
    // Best-effort housekeeping: the directory may be gone already (tests remove their roots).
  }
}

export async function unlinkQuietly(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}
