import type { Kysely } from 'kysely';
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError, configureIndexSchema, createIndexSchema } from '@conifer/core';
import { AUDIT_ACTIONS, recordAudit } from './audit.ts';
import { DeletionProtectedError } from './errors.ts';
import { newId } from './ids.ts';
import { requireProject } from './projects.ts';
import { toIndexRecord } from './rows.ts';
import type { Database } from './schema.ts';
import { isUniqueViolation } from './sql-errors.ts';
import { mergeTags } from './tags.ts';
import { TtlCache } from './ttl-cache.ts';
import type { ConfigureIndexInput, CreateIndexInput, IndexRecord } from './types.ts';

/** Most indexes kept in the by-name cache. */
const INDEX_CACHE_ENTRIES = 10_000;

/** The partial unique index on (project_id, name) of live indexes (see migration 0001). */
const LIVE_NAME_CONSTRAINT = 'indexes_project_name_live';

/**
 * Indexes of a project, addressed by name. A name is unique among the project's live indexes; an
 * index of another project is invisible (same NotFoundError as a missing one).
 *
 * Deletion has two steps so that a crash in between loses nothing: `beginDelete` marks the index
 * 'terminating' (it keeps its name), the data plane removes its storage prefix, then
 * `finishDelete` frees the name. `listTerminating` finds unfinished deletions after a restart.
 */
export interface IndexStore {
  /**
   * Creates a ready index; AlreadyExistsError when the name is taken in the project (also by an
   * index still terminating).
   *
   * @example await cp.indexes.create(projectId, { name: 'products', dimension: 384, metric: 'cosine' });
   */
  create(projectId: string, input: CreateIndexInput, actorKeyId?: string | null): Promise<IndexRecord>;
  /** A live index by name (ready or terminating); NotFoundError `Index <name> not found.` */
  get(projectId: string, name: string): Promise<IndexRecord>;
  /** Live indexes of the project, by name. */
  list(projectId: string): Promise<IndexRecord[]>;
  /**
   * Changes deletion protection and/or merges tags ("" removes a tag). FailedPreconditionError on
   * a terminating index.
   *
   * @example await cp.indexes.configure(projectId, 'products', { tags: { team: 'search', old: '' } });
   */
  configure(projectId: string, name: string, changes: ConfigureIndexInput, actorKeyId?: string | null): Promise<IndexRecord>;
  /**
   * Marks the index terminating and returns it (idempotent). PermissionDeniedError while deletion
   * protection is enabled.
   */
  beginDelete(projectId: string, name: string, actorKeyId?: string | null): Promise<IndexRecord>;
  /** Frees the name of a terminating index once its data is gone. Idempotent. */
  finishDelete(indexId: string): Promise<void>;
  /** Terminating, not yet deleted indexes of every project: deletions to finish. */
  listTerminating(): Promise<IndexRecord[]>;
  /** The live (ready or terminating) indexes among `ids`, of any project; unknown and deleted ids are left out. For operators' views. */
  byIds(ids: readonly string[]): Promise<IndexRecord[]>;
}

const notFound = (name: string) => new NotFoundError(`Index ${name} not found.`);

function liveIndex(db: Kysely<Database>, projectId: string, name: string) {
  return db.selectFrom('indexes').selectAll().where('project_id', '=', projectId).where('name', '=', name).where('deleted_at', 'is', null);
}

/** The index store over `db`. */
/**
 * The store over `db`. `get` is on every data request's path (an index is addressed by name), so
 * found indexes are cached for `cacheTtlMs`; any change made through this store empties the cache
 * at once, and a change made by another node shows here within the TTL.
 */
export function createIndexStore(db: Kysely<Database>, options: { cacheTtlMs: number; now: () => number; staleIfErrorMs?: number }): IndexStore {
  const cache = new TtlCache<string, IndexRecord>({ ttlMs: options.cacheTtlMs, maxEntries: options.cacheTtlMs > 0 ? INDEX_CACHE_ENTRIES : 0 });
  const cacheKey = (projectId: string, name: string) => `${projectId}\u0000${name}`;
  /** Runs a change, then forgets every cached index (changes are rare; reads in flight are fenced). */
  async function changing<T>(change: () => Promise<T>): Promise<T> {
    try {
      return await change();
    } finally {
      cache.clear();
    }
  }
  const store: IndexStore = {
    async create(projectId, input, actorKeyId = null) {
      const parsed = createIndexSchema.safeParse(input);
      if (!parsed.success) throw InvalidArgumentError.fromSchema(parsed.error.issues);
      const { name, dimension, metric, deletionProtection, tags } = parsed.data;
      const cloud = label('cloud', input.cloud, 'aws');
      const region = label('region', input.region, 'us-east-1');
      try {
        return await db.transaction().execute(async (trx) => {
          await requireProject(trx, projectId);
          const row = await trx
            .insertInto('indexes')
            .values({
              id: newId('idx'),
              project_id: projectId,
              name,
              dimension,
              metric,
              status: 'ready',
              deletion_protection: deletionProtection,
              tags: JSON.stringify(withoutEmptyValues(tags ?? {})),
              cloud,
              region,
            })
            .returningAll()
            .executeTakeFirstOrThrow();
          await recordAudit(trx, { projectId, actorKeyId, action: AUDIT_ACTIONS.indexCreate, target: `index:${name}` });
          return toIndexRecord(row);
        });
      } catch (error) {
        if (isUniqueViolation(error, LIVE_NAME_CONSTRAINT)) throw new AlreadyExistsError('Resource already exists.');
        throw error;
      }
    },

    async get(projectId, name) {
      const key = cacheKey(projectId, name);
      const cached = cache.get(key, options.now());
      if (cached !== undefined) return cached;
      const generation = cache.generation();
      let row;
      try {
        row = await liveIndex(db, projectId, name).executeTakeFirst();
      } catch (error) {
        const stale = cache.stale(key, options.now(), options.staleIfErrorMs ?? 0);
        if (stale !== undefined) return stale;
        throw error;
      }
      if (row === undefined) throw notFound(name);
      const record = Object.freeze(toIndexRecord(row));
      cache.set(key, record, generation, options.now());
      return record;
    },

    async list(projectId) {
      const rows = await db.selectFrom('indexes').selectAll().where('project_id', '=', projectId).where('deleted_at', 'is', null).orderBy('name').execute();
      return rows.map(toIndexRecord);
    },

    async configure(projectId, name, changes, actorKeyId = null) {
      const parsed = configureIndexSchema.safeParse({ name, ...changes });
      if (!parsed.success) throw InvalidArgumentError.fromSchema(parsed.error.issues);
      const { deletionProtection, tags } = parsed.data;
      return db.transaction().execute(async (trx) => {
        const current = await liveIndex(trx, projectId, name).forUpdate().executeTakeFirst();
        if (current === undefined) throw notFound(name);
        if (current.status === 'terminating') throw new FailedPreconditionError(`Index ${name} is being deleted.`);
        const row = await trx
          .updateTable('indexes')
          .set({
            deletion_protection: deletionProtection ?? current.deletion_protection,
            tags: JSON.stringify(mergeTags(current.tags, tags ?? {})),
          })
          .where('id', '=', current.id)
          .returningAll()
          .executeTakeFirstOrThrow();
        await recordAudit(trx, { projectId, actorKeyId, action: AUDIT_ACTIONS.indexConfigure, target: `index:${name}` });
        return toIndexRecord(row);
      });
    },

    async beginDelete(projectId, name, actorKeyId = null) {
      return db.transaction().execute(async (trx) => {
        const current = await liveIndex(trx, projectId, name).forUpdate().executeTakeFirst();
        if (current === undefined) throw notFound(name);
        if (current.deletion_protection === 'enabled') {
          throw new DeletionProtectedError();
        }
        if (current.status === 'terminating') return toIndexRecord(current);
        const row = await trx.updateTable('indexes').set({ status: 'terminating' }).where('id', '=', current.id).returningAll().executeTakeFirstOrThrow();
        await recordAudit(trx, { projectId, actorKeyId, action: AUDIT_ACTIONS.indexDelete, target: `index:${name}` });
        return toIndexRecord(row);
      });
    },

    async finishDelete(indexId) {
      const done = await db
        .updateTable('indexes')
        .set({ deleted_at: new Date() })
        .where('id', '=', indexId)
        .where('status', '=', 'terminating')
        .where('deleted_at', 'is', null)
        .executeTakeFirst();
      if (done.numUpdatedRows > 0n) return;
      const row = await db.selectFrom('indexes').select(['status', 'deleted_at']).where('id', '=', indexId).executeTakeFirst();
      if (row === undefined) throw new NotFoundError(`Index ${indexId} not found.`);
      if (row.deleted_at === null) throw new FailedPreconditionError(`Index ${indexId} is not being deleted.`);
    },

    async listTerminating() {
      const rows = await db
        .selectFrom('indexes')
        .selectAll()
        .where('status', '=', 'terminating')
        .where('deleted_at', 'is', null)
        .orderBy('created_at')
        .execute();
      return rows.map(toIndexRecord);
    },

    async byIds(ids) {
      if (ids.length === 0) return [];
      const rows = await db
        .selectFrom('indexes')
        .selectAll()
        .where('id', 'in', [...new Set(ids)])
        .where('deleted_at', 'is', null)
        .orderBy('id')
        .execute();
      return rows.map(toIndexRecord);
    },
  };
  return {
    ...store,
    create: (...args) => changing(() => store.create(...args)),
    configure: (...args) => changing(() => store.configure(...args)),
    beginDelete: (...args) => changing(() => store.beginDelete(...args)),
    finishDelete: (...args) => changing(() => store.finishDelete(...args)),
  };
}

/** Longest cloud or region label accepted. */
export const MAX_LABEL_LENGTH = 64;

/** A cloud/region label: 1–64 characters of a-z, 0-9 and '-' (as Pinecone names them). */
function label(field: string, value: string | undefined, fallback: string): string {
  if (value === undefined) return fallback;
  if (!/^[a-z0-9][a-z0-9-]*$/.test(value) || value.length > MAX_LABEL_LENGTH) {
    throw InvalidArgumentError.at([field], `must be 1–${MAX_LABEL_LENGTH} characters of a-z, 0-9 and '-'`);
  }
  return value;
}

function withoutEmptyValues(tags: Record<string, string>): Record<string, string> {
  return mergeTags({}, tags);
}
