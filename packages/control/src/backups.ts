import { randomBytes } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { Metric, VectorType } from '@conifer/core';
import type { BackupsTable, Database } from './schema.ts';

/**
 * Backups of indexes (Pinecone's `/backups`; docs/adr/0010-backups.md): one row per backup, its
 * status and what it holds. The node that takes a backup writes its pins to the object store while
 * the row is `Initializing`, then marks it `Ready` with the counts; a row still `Initializing` when
 * the node starts again was interrupted by a restart (`failInterrupted`).
 */

export const BACKUP_STATUSES = ['Initializing', 'Ready', 'Failed'] as const;
export type BackupStatus = (typeof BACKUP_STATUSES)[number];

/** Longest `error` kept. */
const MAX_ERROR_LENGTH = 4_000;

export interface Backup {
  id: string;
  projectId: string;
  sourceIndexId: string;
  sourceIndexName: string;
  /** When the source index was deleted; null while it lives. */
  sourceIndexDeletedAt: Date | null;
  name: string | null;
  description: string | null;
  status: BackupStatus;
  cloud: string;
  region: string;
  dimension: number;
  metric: Metric;
  vectorType: VectorType;
  tags: Record<string, string>;
  recordCount: number;
  namespaceCount: number;
  sizeBytes: number;
  error: string | null;
  createdAt: Date;
}

export interface CreateBackupInput {
  projectId: string;
  sourceIndexId: string;
  sourceIndexName: string;
  name?: string | undefined;
  description?: string | undefined;
  cloud: string;
  region: string;
  dimension: number;
  metric: Metric;
  vectorType: VectorType;
  tags: Record<string, string>;
}

/** A page of a listing: rows after the one `after` names (its id), at most `limit`. */
export interface Page {
  limit: number;
  after?: string | undefined;
}

export interface Backups {
  create(input: CreateBackupInput): Promise<Backup>;
  get(projectId: string, id: string): Promise<Backup | undefined>;
  /** The project's backups, oldest first; of one source index (by id, or every index that had the name) when asked. */
  list(projectId: string, page: Page, source?: { id?: string | undefined; name?: string | undefined }): Promise<Backup[]>;
  /** Marks an `Initializing` backup Ready with what it holds; false when it is no longer Initializing. */
  ready(id: string, counts: { recordCount: number; namespaceCount: number; sizeBytes: number }): Promise<boolean>;
  /** Marks an `Initializing` backup Failed; false when it is no longer Initializing. */
  fail(id: string, error: string): Promise<boolean>;
  /** Forgets the backup (its pins are released first). */
  remove(id: string): Promise<void>;
  /** Every backup still `Initializing` (of every project): a restart interrupted them. */
  listInitializing(): Promise<Backup[]>;
}

/**
 * A UUID version 7 (RFC 9562): Pinecone's backup and job ids are UUIDs, and v7's leading
 * millisecond timestamp makes ids sort in creation order.
 */
export function newUuidV7(now: number): string {
  const bytes = randomBytes(16);
  const ms = BigInt(now);
  for (let i = 0; i < 6; i++) bytes[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

type BackupRow = Selectable<BackupsTable> & { source_index_deleted_at: Date | null };

function toBackup(row: BackupRow): Backup {
  return {
    id: row.id,
    projectId: row.project_id,
    sourceIndexId: row.source_index_id,
    sourceIndexName: row.source_index_name,
    sourceIndexDeletedAt: row.source_index_deleted_at,
    name: row.name,
    description: row.description,
    status: row.status as BackupStatus,
    cloud: row.cloud,
    region: row.region,
    dimension: row.dimension,
    metric: row.metric as Metric,
    vectorType: row.vector_type as VectorType,
    tags: row.tags,
    recordCount: Number(row.record_count),
    namespaceCount: Number(row.namespace_count),
    sizeBytes: Number(row.size_bytes),
    error: row.error,
    createdAt: row.created_at,
  };
}

export function createBackups(db: Kysely<Database>, now: () => number = Date.now): Backups {
  // The source index's deletion time comes from its row (kept after deletion, with `deleted_at`).
  const select = () =>
    db
      .selectFrom('backups')
      .leftJoin('indexes', 'indexes.id', 'backups.source_index_id')
      .selectAll('backups')
      .select('indexes.deleted_at as source_index_deleted_at');

  return {
    async create(input) {
      const row = await db
        .insertInto('backups')
        .values({
          id: newUuidV7(now()),
          project_id: input.projectId,
          source_index_id: input.sourceIndexId,
          source_index_name: input.sourceIndexName,
          name: input.name ?? null,
          description: input.description ?? null,
          status: 'Initializing',
          cloud: input.cloud,
          region: input.region,
          dimension: input.dimension,
          metric: input.metric,
          vector_type: input.vectorType,
          tags: JSON.stringify(input.tags),
          error: null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toBackup({ ...row, source_index_deleted_at: null });
    },

    async get(projectId, id) {
      const row = await select().where('backups.id', '=', id).where('backups.project_id', '=', projectId).executeTakeFirst();
      return row === undefined ? undefined : toBackup(row);
    },

    async list(projectId, page, source) {
      let query = select().where('backups.project_id', '=', projectId);
      if (source?.id !== undefined) query = query.where('backups.source_index_id', '=', source.id);
      if (source?.name !== undefined) query = query.where('backups.source_index_name', '=', source.name);
      // UUIDv7 ids sort by creation time: paging by id alone is paging in creation order.
      if (page.after !== undefined) query = query.where('backups.id', '>', page.after);
      const rows = await query.orderBy('backups.id').limit(page.limit).execute();
      return rows.map(toBackup);
    },

    async ready(id, counts) {
      const result = await db
        .updateTable('backups')
        .set({ status: 'Ready', record_count: counts.recordCount, namespace_count: counts.namespaceCount, size_bytes: counts.sizeBytes })
        .where('id', '=', id)
        .where('status', '=', 'Initializing')
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async fail(id, error) {
      const result = await db
        .updateTable('backups')
        .set({ status: 'Failed', error: error.slice(0, MAX_ERROR_LENGTH) })
        .where('id', '=', id)
        .where('status', '=', 'Initializing')
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async remove(id) {
      await db.deleteFrom('backups').where('id', '=', id).execute();
    },

    async listInitializing() {
      const rows = await select().where('backups.status', '=', 'Initializing').orderBy('backups.id').execute();
      return rows.map(toBackup);
    },
  };
}
