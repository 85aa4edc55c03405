import type { FileHandle } from 'node:fs/promises';
import { LRUCache } from 'lru-cache';

/** An open file kept for reads, closed once the cache has dropped it and no read still uses it. */
class KeptHandle {
  #users = 1; // the cache's own reference
  readonly handle: FileHandle;
  readonly size: number;

  constructor(handle: FileHandle, size: number) {
    this.handle = handle;
    this.size = size;
  }

  acquire(): void {
    this.#users++;
  }

  release(): void {
    if (--this.#users === 0) void this.handle.close().catch(() => undefined);
  }
}

/**
 * Open read handles of immutable files (slabs), least recently used out: a ranged read of a slab
 * then costs one read(2) instead of open, fstat, read and close — four trips through the thread
 * pool per probed list of a query. Only for files never rewritten in place: a kept handle reads
 * the inode it opened. Whoever deletes or replaces such a file through this process forgets it
 * first (`forget`); a file another process deleted stays readable through a kept handle, with the
 * same bytes, until it is evicted.
 */
export class ReadHandles {
  readonly #open: LRUCache<string, Promise<KeptHandle | null>>;

  constructor(max = 128) {
    this.#open = new LRUCache({
      max,
      dispose: (kept) => void kept.then((k) => k?.release()).catch(() => undefined),
    });
  }

  /**
   * Runs `read` with the file's kept handle (opened by `opener` on first use; null: no such file)
   * and its size. The handle stays open until `read` settles, even if evicted meanwhile.
   */
  async use<T>(
    file: string,
    opener: () => Promise<{ handle: FileHandle; size: number } | null>,
    read: (handle: FileHandle, size: number) => Promise<T>,
  ): Promise<T | null> {
    let pending = this.#open.get(file);
    if (!pending) {
      pending = opener().then((opened) => (opened ? new KeptHandle(opened.handle, opened.size) : null));
      this.#open.set(file, pending);
      // A missing file or a failed open is not kept: the next read tries again.
      pending.then(
        (kept) => {
          if (!kept && this.#open.peek(file) === pending) this.#open.delete(file);
        },
        () => {
          if (this.#open.peek(file) === pending) this.#open.delete(file);
        },
      );
    }
    const kept = await pending;
    if (!kept) return null;
    kept.acquire();
    try {
      return await read(kept.handle, kept.size);
    } finally {
      kept.release();
    }
  }

  /** Drops the file's kept handle (closed once reads in flight are done). */
  forget(file: string): void {
    this.#open.delete(file);
  }

  /** Drops every kept handle (each closed once its reads in flight are done). */
  clear(): void {
    this.#open.clear();
  }

  /** Files whose handle is kept (or being opened). */
  get size(): number {
    return this.#open.size;
  }
}
