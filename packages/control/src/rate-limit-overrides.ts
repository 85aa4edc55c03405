import type { Kysely } from 'kysely';
import { NotFoundError } from '@conifer/core';
import { AUDIT_ACTIONS, recordAudit } from './audit.ts';
import type { Database } from './schema.ts';
import { TtlCache } from './ttl-cache.ts';

/** Rate-limit overrides: limit name → requests (or units) per second; `0` = unlimited. */
export type RateLimitOverrides = Readonly<Record<string, number>>;

/** Most indexes whose merged overrides are kept in the cache. */
const CACHE_ENTRIES = 10_000;

/**
 * Rate-limit overrides of projects and indexes, set by an operator who hosts tenants. The control
 * plane stores them as given (the API layer knows the limit names and checks them); a request's
 * limits are the node's, overridden by its project's, overridden by its index's.
 */
export interface RateLimitOverrideStore {
  /**
   * The overrides of a project, or of one of its live indexes. NotFoundError when either is unknown.
   *
   * @example await cp.rateLimits.get(projectId, 'products') // { queryPerNamespace: 50 }
   */
  get(projectId: string, indexName?: string): Promise<RateLimitOverrides>;
  /**
   * Replaces the overrides of a project, or of one of its live indexes (`{}` removes them), audited
   * in the same transaction. Applies at once on this node, within `cacheTtlMs` on others.
   *
   * @example await cp.rateLimits.set(projectId, undefined, { queryPerNamespace: 100 }, operatorKeyId);
   */
  set(projectId: string, indexName: string | undefined, overrides: RateLimitOverrides, actorKeyId?: string | null): Promise<RateLimitOverrides>;
  /** The project's overrides merged with the index's (the index's win), by index id; cached. */
  forIndex(projectId: string, indexId: string): Promise<RateLimitOverrides>;
}

const NONE: RateLimitOverrides = Object.freeze({});

/**
 * The store over `db`. `forIndex` is on every data request's path, so merged overrides are cached
 * for `cacheTtlMs` (the index cache's TTL); a change through this store empties the cache.
 */
export function createRateLimitOverrideStore(
  db: Kysely<Database>,
  options: { cacheTtlMs: number; now: () => number; staleIfErrorMs?: number },
): RateLimitOverrideStore {
  const cache = new TtlCache<string, RateLimitOverrides>({ ttlMs: options.cacheTtlMs, maxEntries: options.cacheTtlMs > 0 ? CACHE_ENTRIES : 0 });

  const project = (projectId: string) => db.selectFrom('projects').select('rate_limits').where('id', '=', projectId);
  const liveIndex = (projectId: string, name: string) =>
    db.selectFrom('indexes').select('rate_limits').where('project_id', '=', projectId).where('name', '=', name).where('deleted_at', 'is', null);

  return {
    async get(projectId, indexName) {
      const row = await (indexName === undefined ? project(projectId) : liveIndex(projectId, indexName)).executeTakeFirst();
      if (row === undefined) throw notFound(projectId, indexName);
      return row.rate_limits;
    },

    async set(projectId, indexName, overrides, actorKeyId = null) {
      const json = JSON.stringify(overrides);
      try {
        return await db.transaction().execute(async (trx) => {
          const updated =
            indexName === undefined
              ? await trx.updateTable('projects').set({ rate_limits: json }).where('id', '=', projectId).returning('rate_limits').executeTakeFirst()
              : await trx
                  .updateTable('indexes')
                  .set({ rate_limits: json })
                  .where('project_id', '=', projectId)
                  .where('name', '=', indexName)
                  .where('deleted_at', 'is', null)
                  .returning('rate_limits')
                  .executeTakeFirst();
          if (updated === undefined) throw notFound(projectId, indexName);
          await recordAudit(trx, {
            projectId,
            actorKeyId,
            action: indexName === undefined ? AUDIT_ACTIONS.projectRateLimits : AUDIT_ACTIONS.indexRateLimits,
            target: indexName === undefined ? `project:${projectId}` : `index:${indexName}`,
          });
          return updated.rate_limits;
        });
      } finally {
        cache.clear();
      }
    },

    async forIndex(projectId, indexId) {
      const key = `${projectId}\u0000${indexId}`;
      const cached = cache.get(key, options.now());
      if (cached !== undefined) return cached;
      const generation = cache.generation();
      let row;
      try {
        row = await db
          .selectFrom('indexes')
          .innerJoin('projects', 'projects.id', 'indexes.project_id')
          .select(['projects.rate_limits as project', 'indexes.rate_limits as index'])
          .where('indexes.id', '=', indexId)
          .where('indexes.project_id', '=', projectId)
          .executeTakeFirst();
      } catch (error) {
        const stale = cache.stale(key, options.now(), options.staleIfErrorMs ?? 0);
        if (stale !== undefined) return stale;
        throw error;
      }
      const merged = row === undefined ? NONE : Object.freeze({ ...row.project, ...row.index });
      cache.set(key, merged, generation, options.now());
      return merged;
    },
  };
}

function notFound(projectId: string, indexName: string | undefined): NotFoundError {
  return new NotFoundError(indexName === undefined ? `Project ${projectId} not found.` : `Index ${indexName} not found.`);
}
