interface Entry<V> {
  value: V;
  expiresAt: number;
}

/**
 * Database reads kept in process with a TTL and a size bound (oldest entry evicted first): API key
 * hash → caller, (project, index name) → index.
 *
 * Invalidation is race-free against lookups in flight: a caller takes `generation()` before its
 * database read and passes it to `set`; if anything was invalidated in between, the `set` is
 * dropped, so a read that saw a key just before its revocation cannot re-insert it.
 */
export class TtlCache<K, V> {
  readonly #entries = new Map<K, Entry<V>>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  #generation = 0;

  constructor(options: { ttlMs: number; maxEntries: number }) {
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries;
  }

  /** The cached value, or undefined when absent or expired at `now`. */
  get(key: K, now: number): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined || entry.expiresAt <= now) return undefined;
    return entry.value;
  }

  /**
   * The value even if it expired — up to `maxStaleMs` ago — for when the database cannot be read
   * (a PostgreSQL restart): requests keep being served from what was last read. Invalidated keys
   * are gone, stale or not. Expired entries stay until evicted by size or invalidated.
   */
  stale(key: K, now: number, maxStaleMs: number): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined || now - entry.expiresAt > maxStaleMs) return undefined;
    return entry.value;
  }

  /** Current invalidation generation; take it before reading the database. */
  generation(): number {
    return this.#generation;
  }

  /** Caches a value read at `generation`; ignored if anything was invalidated since. */
  set(key: K, value: V, generation: number, now: number): void {
    if (generation !== this.#generation || this.#maxEntries <= 0) return;
    this.#entries.delete(key);
    while (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value, expiresAt: now + this.#ttlMs });
  }

  /** Drops a key at once and fences off lookups in flight (see the class comment). */
  invalidate(key: K): void {
    this.#generation++;
    this.#entries.delete(key);
  }

  /** Drops everything at once and fences off lookups in flight. */
  clear(): void {
    this.#generation++;
    this.#entries.clear();
  }

  /** Number of entries held (expired ones included until evicted or invalidated). */
  get size(): number {
    return this.#entries.size;
  }
}
