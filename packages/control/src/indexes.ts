import { sql, type Kysely, type Transaction } from 'kysely';
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  configureIndexSchema,
  createIndexSchema,
  indexShape,
} from '@conifer/core';
import { AUDIT_ACTIONS, recordAudit } from './audit.ts';
import { DeletionProtectedError, IndexPortsExhaustedError } from './errors.ts';
import { newId } from './ids.ts';
import { requireProject } from './projects.ts';
import { toIndexRecord } from './rows.ts';
import type { Database } from './schema.ts';
import { isUniqueViolation } from './sql-errors.ts';
import { mergeTags } from './tags.ts';
import { TtlCache } from './ttl-cache.ts';
import type { ConfigureIndexInput, CreateIndexInput, CreateIndexOptions, IndexHostPort, IndexRecord, PortRange } from './types.ts';

/** Most indexes kept in the by-name cache. */
const INDEX_CACHE_ENTRIES = 10_000;

/** The partial unique index on (project_id, name) of live indexes (see migration 0001). */
const LIVE_NAME_CONSTRAINT = 'indexes_project_name_live';

/** The partial unique index on host_port of live indexes (see migration 0006). */
const LIVE_PORT_CONSTRAINT = 'indexes_host_port_live';

/** Transactions tried by a port assignment that collides on LIVE_PORT_CONSTRAINT. */
const PORT_ATTEMPTS = 3;

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
   * With `options.hostPorts` the index also gets its own port (as `assignHostPort`) in the same
   * transaction: when no port is free (IndexPortsExhaustedError) no index is created.
   *
   * @example await cp.indexes.create(projectId, { name: 'products', dimension: 384, metric: 'cosine' });
   */
  create(projectId: string, input: CreateIndexInput, actorKeyId?: string | null, options?: CreateIndexOptions): Promise<IndexRecord>;
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
  /** Frees the name of a terminating index once its data is gone, and forgets its namespaces' schemas. Idempotent. */
  finishDelete(indexId: string): Promise<void>;
  /** Terminating, not yet deleted indexes of every project: deletions to finish. */
  listTerminating(): Promise<IndexRecord[]>;
  /** The live (ready or terminating) indexes among `ids`, of any project; unknown and deleted ids are left out. For operators' views. */
  byIds(ids: readonly string[]): Promise<IndexRecord[]>;
  /**
   * Gives the live index `indexId` its own port from `range` and returns it; an index that already
   * has one keeps it (even outside `range`). The port is one no index ever held, lowest first, else
   * the free one whose last holder was deleted longest ago. IndexPortsExhaustedError when every
   * port of `range` is held by a live index; NotFoundError for an unknown or deleted index.
   */
  assignHostPort(indexId: string, range: PortRange): Promise<number>;
  /** Every live index that has a port, of every project, by port. */
  hostPorts(): Promise<IndexHostPort[]>;
  /**
   * Gives every live index without a port one (oldest index first), each in its own transaction;
   * returns how many it gave. On IndexPortsExhaustedError the ports given so far are kept.
   */
  assignMissingHostPorts(range: PortRange): Promise<number>;
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
    async create(projectId, input, actorKeyId = null, createOptions = {}) {
      const parsed = createIndexSchema.safeParse(input);
      if (!parsed.success) throw InvalidArgumentError.fromSchema(parsed.error.issues);
      const { name, deletionProtection, tags } = parsed.data;
      const { dimension, metric, vectorType } = indexShape(parsed.data);
      const cloud = label('cloud', input.cloud, 'aws');
      const region = label('region', input.region, 'us-east-1');
      const { hostPorts } = createOptions;
      if (hostPorts !== undefined) checkRange(hostPorts);
      try {
        return await retryingPortCollisions(() =>
          db.transaction().execute(async (trx) => {
            await requireProject(trx, projectId);
            const row = await trx
              .insertInto('indexes')
              .values({
                id: newId('idx'),
                project_id: projectId,
                name,
                dimension,
                metric,
                vector_type: vectorType,
                status: 'ready',
                deletion_protection: deletionProtection,
                tags: JSON.stringify(withoutEmptyValues(tags ?? {})),
                cloud,
                region,
              })
              .returningAll()
              .executeTakeFirstOrThrow();
            if (hostPorts !== undefined) row.host_port = (await assignPort(trx, row.id, hostPorts)).port;
            await recordAudit(trx, { projectId, actorKeyId, action: AUDIT_ACTIONS.indexCreate, target: `index:${name}` });
            return toIndexRecord(row);
          }),
        );
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
      // The index's namespaces are gone with its data; so are their schemas (idempotent, before the name is freed).
      await db.deleteFrom('namespace_schemas').where('index_id', '=', indexId).execute();
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

    async assignHostPort(indexId, range) {
      checkRange(range);
      const { port } = await retryingPortCollisions(() => db.transaction().execute((trx) => assignPort(trx, indexId, range)));
      return port;
    },

    async hostPorts() {
      const rows = await db
        .selectFrom('indexes')
        .select(['project_id', 'name', 'host_port'])
        .where('deleted_at', 'is', null)
        .where('host_port', 'is not', null)
        .$narrowType<{ host_port: number }>()
        .orderBy('host_port')
        .execute();
      return rows.map((row) => ({ projectId: row.project_id, name: row.name, hostPort: row.host_port }));
    },

    async assignMissingHostPorts(range) {
      checkRange(range);
      const missing = await db
        .selectFrom('indexes')
        .select('id')
        .where('deleted_at', 'is', null)
        .where('host_port', 'is', null)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      let given = 0;
      // One transaction each, so indexes given a port before an exhaustion keep it.
      for (const { id } of missing) {
        try {
          const { assigned } = await retryingPortCollisions(() => db.transaction().execute((trx) => assignPort(trx, id, range)));
          if (assigned) given += 1;
        } catch (error) {
          if (!(error instanceof NotFoundError)) throw error; // deleted meanwhile
        }
      }
      return given;
    },
  };
  return {
    ...store,
    create: (...args) => changing(() => store.create(...args)),
    configure: (...args) => changing(() => store.configure(...args)),
    beginDelete: (...args) => changing(() => store.beginDelete(...args)),
    finishDelete: (...args) => changing(() => store.finishDelete(...args)),
    assignHostPort: (...args) => changing(() => store.assignHostPort(...args)),
    assignMissingHostPorts: (...args) => changing(() => store.assignMissingHostPorts(...args)),
  };
}

/**
 * Gives the live index `indexId` a port in `trx` unless it has one. `assigned`: this call gave it.
 *
 * The choice reads which ports are free, so two choices at once would pick the same port; a
 * transaction-scoped advisory lock makes choosers (of any connection or node) take turns, and since
 * the lock is released only at commit, each sees the ports the one before it gave. Taken after the
 * caller's insert, never before: a create waiting on another's name would otherwise hold the lock
 * that other create is waiting for.
 */
async function assignPort(trx: Transaction<Database>, indexId: string, range: PortRange): Promise<{ port: number; assigned: boolean }> {
  await sql`select pg_advisory_xact_lock(hashtext('conifer.indexes.host_port'))`.execute(trx);
  const row = await trx.selectFrom('indexes').select('host_port').where('id', '=', indexId).where('deleted_at', 'is', null).forUpdate().executeTakeFirst();
  if (row === undefined) throw new NotFoundError(`Index ${indexId} not found.`);
  if (row.host_port !== null) return { port: row.host_port, assigned: false };
  // Ports no row ever held have no deletion time (nulls first), then the one released longest ago;
  // the lowest port breaks ties. A deleted row keeps its port, which is the history read here.
  const { rows } = await sql<{ port: number }>`
    select p.port
    from generate_series(${range.first}::integer, ${range.last}::integer) as p(port)
    left join indexes i on i.host_port = p.port
    group by p.port
    having count(i.id) filter (where i.deleted_at is null) = 0
    order by max(i.deleted_at) nulls first, p.port
    limit 1`.execute(trx);
  const port = rows[0]?.port;
  if (port === undefined) throw new IndexPortsExhaustedError(range);
  await trx.updateTable('indexes').set({ host_port: port }).where('id', '=', indexId).execute();
  return { port, assigned: true };
}

/**
 * Reruns a transaction that lost a port to another on the unique index. The advisory lock of
 * `assignPort` already serializes choosers under read committed; this covers a transaction whose
 * snapshot predates the lock (a stricter default isolation level), which a fresh one fixes.
 */
async function retryingPortCollisions<T>(transaction: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await transaction();
    } catch (error) {
      if (attempt >= PORT_ATTEMPTS || !isUniqueViolation(error, LIVE_PORT_CONSTRAINT)) throw error;
    }
  }
}

/** A range is server configuration: a bad one is a bug of the caller, not of a request. */
function checkRange(range: PortRange): void {
  const { first, last } = range;
  if (!Number.isInteger(first) || !Number.isInteger(last) || first < 1 || last > 65535 || first > last) {
    throw new RangeError(`invalid index port range ${first}-${last}: need 1 <= first <= last <= 65535`);
  }
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
