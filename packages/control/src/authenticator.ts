import type { Kysely } from 'kysely';
import { TtlCache } from './ttl-cache.ts';
import type { ControlPlaneConfig } from './config.ts';
import { MAX_API_KEY_LENGTH, hashApiKey, hashesEqual } from './keys.ts';
import type { Database } from './schema.ts';
import type { AuthContext } from './types.ts';

/** Resolves API keys to callers, with an in-process cache and throttled `last_used_at` writes. */
export interface Authenticator {
  /** The caller behind `rawKey`, or null for an unknown or revoked key. */
  authenticate(rawKey: string): Promise<AuthContext | null>;
  /**
   * The caller behind `rawKey` when the cache holds it and nothing is due for it (its
   * `last_used_at` write), at once; undefined otherwise — ask {@link authenticate}. What a request
   * path takes first: most requests come with a key it has just seen, and need no promise.
   */
  cached(rawKey: string): AuthContext | undefined;
  /** Forgets a key hash at once (called after a revocation commits). */
  invalidate(keyHash: string): void;
}

/**
 * An authenticator over `db`. A hit in the cache costs no database round trip; `last_used_at` is
 * written at most once per `lastUsedWriteIntervalMs` per key (also remembering the value read from
 * the database, so a restart or another node does not cause extra writes).
 */
export function createAuthenticator(
  db: Kysely<Database>,
  config: Pick<ControlPlaneConfig, 'authCacheTtlMs' | 'authCacheMaxEntries' | 'lastUsedWriteIntervalMs' | 'staleIfErrorMs'>,
  now: () => number,
): Authenticator {
  const cache = new TtlCache<string, AuthContext>({ ttlMs: config.authCacheTtlMs, maxEntries: config.authCacheMaxEntries });
  /** keyId → when last_used_at was last written (or read), insertion-ordered for eviction. */
  const lastUsedWrites = new Map<string, number>();

  function rememberLastUsed(keyId: string, at: number): void {
    lastUsedWrites.delete(keyId);
    while (lastUsedWrites.size >= Math.max(1, config.authCacheMaxEntries)) {
      const oldest = lastUsedWrites.keys().next();
      if (oldest.done) break;
      lastUsedWrites.delete(oldest.value);
    }
    lastUsedWrites.set(keyId, at);
  }

  /** Whether `keyId`'s last_used_at was written (or read) recently enough that no write is due at `at`. */
  function lastUsedFresh(keyId: string, at: number): boolean {
    const last = lastUsedWrites.get(keyId);
    return last !== undefined && at - last < config.lastUsedWriteIntervalMs;
  }

  async function touch(keyId: string): Promise<void> {
    const at = now();
    if (lastUsedFresh(keyId, at)) return;
    rememberLastUsed(keyId, at); // before the write, so concurrent requests do not all write
    try {
      await db
        .updateTable('api_keys')
        .set({ last_used_at: new Date(at) })
        .where('id', '=', keyId)
        .where('revoked_at', 'is', null)
        .execute();
    } catch {
      // Bookkeeping only: a database that cannot be written must not fail an authenticated request.
    }
  }

  return {
    async authenticate(rawKey) {
      if (rawKey.length === 0 || rawKey.length > MAX_API_KEY_LENGTH) return null;
      const hash = hashApiKey(rawKey);
      const cached = cache.get(hash, now());
      if (cached !== undefined) {
        await touch(cached.keyId);
        return cached;
      }
      const generation = cache.generation();
      let row;
      try {
        row = await db
          .selectFrom('api_keys')
          .select(['id', 'project_id', 'role', 'key_hash', 'last_used_at'])
          .where('key_hash', '=', hash)
          .where('revoked_at', 'is', null)
          .executeTakeFirst();
      } catch (error) {
        const stale = cache.stale(hash, now(), config.staleIfErrorMs);
        if (stale !== undefined) return stale;
        throw error;
      }
      if (row === undefined || !hashesEqual(row.key_hash, hash)) return null;
      // Frozen: the same object is handed to every request that hits the cache.
      const context: AuthContext = Object.freeze({ projectId: row.project_id, keyId: row.id, role: row.role });
      cache.set(hash, context, generation, now());
      if (row.last_used_at !== null && !lastUsedWrites.has(row.id)) rememberLastUsed(row.id, row.last_used_at.getTime());
      await touch(row.id);
      return context;
    },

    cached(rawKey) {
      if (rawKey.length === 0 || rawKey.length > MAX_API_KEY_LENGTH) return undefined;
      const at = now();
      const hit = cache.get(hashApiKey(rawKey), at);
      if (hit === undefined) return undefined;
      return lastUsedFresh(hit.keyId, at) ? hit : undefined;
    },

    invalidate(keyHash) {
      cache.invalidate(keyHash);
    },
  };
}
