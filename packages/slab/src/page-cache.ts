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

export class PageCache {
  readonly maxBytes: number;
  readonly wholeUpTo: number;
  readonly #lru: LRUCache<string, Uint8Array> | undefined;
  readonly #counters = { hits: 0, misses: 0, refetches: 0, bytesRead: 0, evictions: 0 };

  constructor(maxBytes: number, options: PageCacheOptions = {}) {
    this.maxBytes = maxBytes;
    this.wholeUpTo = options.wholeUpTo ?? 1024 * 1024;
    this.#lru =
      maxBytes > 0
        ? new LRUCache<string, Uint8Array>({
            maxSize: maxBytes,
            sizeCalculation: (page) => Math.max(1, page.byteLength),
            dispose: (_page, _key, reason) => {
              if (reason === 'evict') this.#counters.evictions++;
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
