import { randomUUID } from 'node:crypto';
import { closeSync, fstatSync, fsyncSync, futimesSync, linkSync, mkdirSync, openSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { errnoCode, isKeyShapeClash, messageOf } from './fs-errors.ts';

/**
 * FsObjectStore's create-if-absent as one synchronous sequence, for a write thread
 * (fs-link-threads.ts): the temp file written, stamped and fsynced, its directory made durable,
 * the temp linked into place, the directory fsynced. The same steps as the store's own async path,
 * without an event-loop turn between them.
 */

/** What a write thread posts once its script is loaded and it takes jobs. */
export const LINK_THREAD_READY = 'ready';

/** One create-if-absent, as sent to a write thread. */
export interface LinkJob {
  /** The store's root: directories are made durable up to it. */
  root: string;
  tmpDir: string;
  file: string;
  data: Uint8Array;
  /** The file's mtime in seconds, unique in the process (part of the etag; FsObjectStore stamps it). */
  mtime: number;
}

/** What the object's etag is made of. */
export interface LinkedStats {
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
}

/**
 * How a create-if-absent ends. `exists`: another object has the key. `conflict`: the key is a
 * directory of other keys, or a segment of it is an object. `failed`: a system error, by code.
 */
export type LinkOutcome =
  | { kind: 'linked'; stats: LinkedStats }
  | { kind: 'exists' }
  | { kind: 'conflict'; message: string }
  | { kind: 'failed'; code: string | undefined; message: string };

/** Attempts when a directory just made disappears under a concurrent delete's pruning. */
const MAX_LINK_ATTEMPTS = 8;

/**
 * Directories whose entry (and their ancestors') this thread has fsynced, with their inode. A
 * directory this thread creates is always synced; one that existed is synced on first use, as
 * another process may have made it without syncing it yet.
 */
export class SyncDurableDirs {
  readonly #synced = new Map<string, bigint>();
  /** Bounds the map: a store with more directories than this only syncs some of them again. */
  readonly #max: number;

  constructor(max = 10_000) {
    this.#max = max;
  }

  ensure(root: string, dir: string): void {
    if (dir === root) return;
    const created = mkdirSync(dir, { recursive: true });
    const { ino } = statSync(dir, { bigint: true });
    if (created === undefined && this.#synced.get(dir) === ino) return;
    for (let d = dir; d !== root; d = dirname(d)) fsyncDirSync(dirname(d));
    if (this.#synced.size >= this.#max) this.#synced.clear();
    this.#synced.set(dir, ino);
  }

  forget(dir: string): void {
    this.#synced.delete(dir);
  }
}

export function linkDurablySync(job: LinkJob, dirs: SyncDurableDirs): LinkOutcome {
  const temp = join(job.tmpDir, `${process.pid}-${randomUUID()}`);
  let stats: LinkedStats;
  try {
    stats = writeTempSync(temp, job);
  } catch (err) {
    return failed(err);
  }
  const dir = dirname(job.file);
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        dirs.ensure(job.root, dir);
        try {
          linkSync(temp, job.file);
        } catch (err) {
          // The name is taken: by an object, or by a directory of other keys (then none ever can be).
          if (errnoCode(err) === 'EEXIST') return isDirectory(job.file) ? { kind: 'conflict', message: messageOf(err) } : { kind: 'exists' };
          throw err;
        }
        break;
      } catch (err) {
        const code = errnoCode(err);
        if (isKeyShapeClash(code)) return { kind: 'conflict', message: messageOf(err) };
        if (code !== 'ENOENT' || attempt === MAX_LINK_ATTEMPTS) return failed(err);
        dirs.forget(dir);
      }
    }
  } finally {
    unlinkQuietlySync(temp);
  }
  try {
    fsyncDirSync(dir);
  } catch (err) {
    return failed(err);
  }
  return { kind: 'linked', stats };
}

function writeTempSync(temp: string, job: LinkJob): LinkedStats {
  let fd: number;
  try {
    fd = openSync(temp, 'wx');
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
    // Someone removed the temp directory under us: make it again, once.
    mkdirSync(job.tmpDir, { recursive: true });
    fd = openSync(temp, 'wx');
  }
  try {
    for (let written = 0; written < job.data.length;) written += writeSync(fd, job.data, written, job.data.length - written);
    futimesSync(fd, job.mtime, job.mtime);
    fsyncSync(fd);
    const { ino, size, mtimeNs } = fstatSync(fd, { bigint: true });
    return { ino, size, mtimeNs };
  } catch (err) {
    unlinkQuietlySync(temp);
    throw err;
  } finally {
    closeSync(fd);
  }
}

/** fsyncs a directory so the entries linked into it are durable; a file system that cannot (EINVAL) is not ours to sync. */
function fsyncDirSync(dir: string): void {
  if (process.platform === 'win32') return; // directories cannot be opened (nor need syncing) there
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } catch (err) {
    if (errnoCode(err) !== 'EINVAL') throw err;
  } finally {
    closeSync(fd);
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function unlinkQuietlySync(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone, or never made.
  }
}

function failed(err: unknown): LinkOutcome {
  return { kind: 'failed', code: errnoCode(err), message: messageOf(err) };
}
