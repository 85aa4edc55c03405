import type { Kysely } from 'kysely';
import type { NamespaceMetadataSchema } from '@conifer/core';
import type { Database } from './schema.ts';
import { TtlCache } from './ttl-cache.ts';

/** Most namespaces whose schema (or lack of one) is kept in the cache. */
const CACHE_ENTRIES = 100_000;

/** What the cache holds for a namespace without a schema (undefined would read as a miss). */
const NONE = null;

/**
 * The metadata schemas namespaces were created with, keyed by index id and namespace name, in the
 * database every node of a cluster shares. Only namespaces created with a `schema` have one; the
 * data plane knows which namespaces exist, this store only what their schema is.
 */
export interface NamespaceSchemaStore {
  /**
   * Creates a namespace with `create` (the data plane's creation, which fails when the namespace
   * exists) and stores its schema, or that it has none, together: the row is written in a
   * transaction that commits only once `create` succeeded, so a failed or refused creation leaves
   * no schema behind, and of two creations of one name at once the row of the one that created it
   * is kept. A row left by a namespace since deleted is replaced (without `schema`: removed).
   * `create` must not use the database: under PGlite the transaction holds its only connection.
   *
   * @example await cp.namespaceSchemas.create(index.id, 'tenant-1', { fields: { genre: { filterable: true } } }, () => engine.createNamespace(handle, 'tenant-1'));
   */
  create<T>(indexId: string, namespace: string, schema: NamespaceMetadataSchema | undefined, create: () => Promise<T>): Promise<T>;
  /** The namespace's schema, read now; undefined when it has none. */
  get(indexId: string, namespace: string): Promise<NamespaceMetadataSchema | undefined>;
  /** The schemas of those of `namespaces` that have one, by name, in one read. */
  getMany(indexId: string, namespaces: readonly string[]): Promise<Map<string, NamespaceMetadataSchema>>;
  /**
   * As `get`, cached for `cacheTtlMs` (the index cache's TTL): for the filters of every data
   * request. A change through this store applies at once on this node, within the TTL on others.
   */
  cached(indexId: string, namespace: string): Promise<NamespaceMetadataSchema | undefined>;
  /** Forgets the namespace's schema (its namespace was deleted). Idempotent. */
  remove(indexId: string, namespace: string): Promise<void>;
}

export function createNamespaceSchemaStore(
  db: Kysely<Database>,
  options: { cacheTtlMs: number; now: () => number; staleIfErrorMs?: number },
): NamespaceSchemaStore {
  const cache = new TtlCache<string, NamespaceMetadataSchema | typeof NONE>({
    ttlMs: options.cacheTtlMs,
    maxEntries: options.cacheTtlMs > 0 ? CACHE_ENTRIES : 0,
  });
  const keyOf = (indexId: string, namespace: string) => `${indexId}\u0000${namespace}`;
  const read = async (indexId: string, namespace: string) =>
    (await db.selectFrom('namespace_schemas').select('schema').where('index_id', '=', indexId).where('namespace', '=', namespace).executeTakeFirst())?.schema;

  return {
    async create(indexId, namespace, schema, create) {
      try {
        return await db.transaction().execute(async (trx) => {
          if (schema === undefined) {
            await trx.deleteFrom('namespace_schemas').where('index_id', '=', indexId).where('namespace', '=', namespace).execute();
          } else {
            // Waits for a creation of the same name under way; its row is kept if it committed and
            // this creation is refused (rolled back).
            await trx
              .insertInto('namespace_schemas')
              .values({ index_id: indexId, namespace, schema: JSON.stringify(schema) })
              .onConflict((oc) => oc.columns(['index_id', 'namespace']).doUpdateSet({ schema: JSON.stringify(schema) }))
              .execute();
          }
          return create();
        });
      } finally {
        cache.invalidate(keyOf(indexId, namespace));
      }
    },

    get: read,

    async getMany(indexId, namespaces) {
      if (namespaces.length === 0) return new Map();
      const rows = await db
        .selectFrom('namespace_schemas')
        .select(['namespace', 'schema'])
        .where('index_id', '=', indexId)
        .where('namespace', 'in', [...new Set(namespaces)])
        .execute();
      return new Map(rows.map((row) => [row.namespace, row.schema]));
    },

    async cached(indexId, namespace) {
      const key = keyOf(indexId, namespace);
      const hit = cache.get(key, options.now());
      if (hit !== undefined) return hit ?? undefined;
      const generation = cache.generation();
      let schema;
      try {
        schema = await read(indexId, namespace);
      } catch (error) {
        const stale = cache.stale(key, options.now(), options.staleIfErrorMs ?? 0);
        if (stale !== undefined) return stale ?? undefined;
        throw error;
      }
      cache.set(key, schema ?? NONE, generation, options.now());
      return schema;
    },

    async remove(indexId, namespace) {
      try {
        await db.deleteFrom('namespace_schemas').where('index_id', '=', indexId).where('namespace', '=', namespace).execute();
      } finally {
        cache.invalidate(keyOf(indexId, namespace));
      }
    },
  };
}
