import type { AuthContext } from './types.ts';

interface Entry {
  context: AuthContext;
  expiresAt: number;
}

/**
 * Key hash → AuthContext, in process, with a TTL and a size bound (oldest entry evicted first).
 *
 * Invalidation is race-free against lookups in flight: a caller takes `generation()` before its
 * database read and passes it to `set`; if any key was invalidated in between, the `set` is
 * dropped, so a read that saw a key just before its revocation cannot re-insert it.
 */
export class AuthCache {
  readonly #entries = new Map<string, Entry>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  #generation = 0;

  constructor(options: { ttlMs: number; maxEntries: number }) {
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries;
  }

  /** The cached context for a hash, or undefined when absent or expired at `now`. */
  get(hash: string, now: number): AuthContext | undefined {
    const entry = this.#entries.get(hash);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now) {
      this.#entries.delete(hash);
      return undefined;
    }
    return entry.context;
  }

  /** Current invalidation generation; take it before reading the database. */
  generation(): number {
    return this.#generation;
  }

  /** Caches a context read at `generation`; ignored if anything was invalidated since. */
  set(hash: string, context: AuthContext, generation: number, now: number): void {
    if (generation !== this.#generation || this.#maxEntries <= 0) return;
    this.#entries.delete(hash);
    while (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
    this.#entries.set(hash, { context, expiresAt: now + this.#ttlMs });
  }

  /** Drops a hash at once and fences off lookups in flight (see the class comment). */
  invalidate(hash: string): void {
    this.#generation++;
    this.#entries.delete(hash);
  }

  /** Number of entries held (expired ones included until touched). */
  get size(): number {
    return this.#entries.size;
  }
}
