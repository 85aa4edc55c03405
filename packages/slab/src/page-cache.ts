import { LRUCache } from 'lru-cache';

export interface PageCacheStats {
  hits: number;
  misses: number;
  /** Pages whose first read failed its checksum and were read again. */
  refetches: number;
  bytesRead: number;
  evictions: number;
  bytes: number;
  pages: number;
  maxBytes: number;
}

/**
 * The verified body pages of ranged slab readers (format version 2), least recently used first out,
 * within a byte budget shared by every slab of the process (and the policy of what is read by range). A page enters only after its checksum
 * matched, so what it hands out was checked. Budget 0 caches nothing (every read goes to the store).
 */
export interface PageCacheOptions {
  /**
   * Slabs up to this size are held whole even when opened by range: a few ranged reads of their
   * body would cost more round trips than the bytes they save. Default 1 MiB.
   */
  wholeUpTo?: number;
}

/** Evicted pages kept for reuse at most (a run being read takes several at once). */
const FREE_PAGES = 256;

export class PageCache {
  readonly maxBytes: number;
  readonly wholeUpTo: number;
  readonly #lru: LRUCache<string, Uint8Array> | undefined;
  readonly #counters = { hits: 0, misses: 0, refetches: 0, bytesRead: 0, evictions: 0 };
  /**
   * Pages in use by a read (copying out of them), by how many. An evicted page is reused for the
   * next page read — fewer new buffers, so the garbage collector runs far less often under reads
   * by range — but never while a read still uses it: it waits in `#evictedInUse`.
   */
  readonly #pins = new Map<Uint8Array, number>();
  readonly #evictedInUse = new Set<Uint8Array>();
  /** Evicted pages free for reuse, by size (pages are one size but each body's last). */
  readonly #free = new Map<number, Uint8Array[]>();
  #freeCount = 0;

  constructor(maxBytes: number, options: PageCacheOptions = {}) {
    this.maxBytes = maxBytes;
    this.wholeUpTo = options.wholeUpTo ?? 1024 * 1024;
    this.#lru =
      maxBytes > 0
        ? new LRUCache<string, Uint8Array>({
            maxSize: maxBytes,
            sizeCalculation: (page) => Math.max(1, page.byteLength),
            dispose: (page, _key, reason) => {
              if (reason === 'evict') this.#counters.evictions++;
              if (this.#pins.has(page)) this.#evictedInUse.add(page);
              else this.#recycle(page);
            },
          })
        : undefined;
  }

  get(key: string): Uint8Array | undefined {
    const page = this.#lru?.get(key);
    if (page) this.#counters.hits++;
    else this.#counters.misses++;
    return page;
  }

  set(key: string, page: Uint8Array): void {
    this.#lru?.set(key, page);
  }

  /**
   * A buffer for a page of `size` bytes about to be read: an evicted page no read uses when one of
   * that size is free, else a new one. Pages are the same size but a body's last.
   */
  take(size: number): Uint8Array {
    const page = this.#free.get(size)?.pop();
    if (!page) return new Uint8Array(size);
    this.#freeCount--;
    return page;
  }

  /** Marks a page in use: it is not reused until every pin is released. */
  pin(page: Uint8Array): void {
    this.#pins.set(page, (this.#pins.get(page) ?? 0) + 1);
  }

  unpin(page: Uint8Array): void {
    const left = (this.#pins.get(page) ?? 1) - 1;
    if (left > 0) {
      this.#pins.set(page, left);
      return;
    }
    this.#pins.delete(page);
    if (this.#evictedInUse.delete(page)) this.#recycle(page);
  }

  #recycle(page: Uint8Array): void {
    // Only whole buffers: a view would pin memory (the rest of its buffer) the cache no longer counts.
    if (page.byteOffset !== 0 || page.byteLength !== page.buffer.byteLength || this.#freeCount >= FREE_PAGES) return;
    const free = this.#free.get(page.byteLength);
    if (free) free.push(page);
    else this.#free.set(page.byteLength, [page]);
    this.#freeCount++;
  }

  /** Counts bytes read from a store, and pages read twice because the first copy was corrupt. */
  countRead(bytes: number, refetch = false): void {
    this.#counters.bytesRead += bytes;
    if (refetch) this.#counters.refetches++;
  }

  /** Bytes of pages held now. */
  get bytes(): number {
    return this.#lru?.calculatedSize ?? 0;
  }

  stats(): PageCacheStats {
    return { ...this.#counters, bytes: this.bytes, pages: this.#lru?.size ?? 0, maxBytes: this.maxBytes };
  }
}
