import { sql, type Kysely, type Selectable } from 'kysely';
import { BASE36_LOWER, randomString } from './ids.ts';
import type { BulkImportsTable, Database } from './schema.ts';

/**
 * Bulk imports of indexes (Pinecone's `/bulk/imports`): what was asked, how far it got, how it
 * ended. The node that runs an import updates its row as batches are stored; a row still open
 * (Pending or InProgress) when the node starts again was interrupted by a restart (`failInterrupted`).
 */

export const IMPORT_STATUSES = ['Pending', 'InProgress', 'Failed', 'Completed', 'Cancelled'] as const;
export type ImportStatus = (typeof IMPORT_STATUSES)[number];
export type ImportErrorMode = 'abort' | 'continue';

/** Longest `error` kept. */
const MAX_ERROR_LENGTH = 4_000;

export interface BulkImport {
  id: string;
  projectId: string;
  indexId: string;
  uri: string;
  errorMode: ImportErrorMode;
  status: ImportStatus;
  /** 0–100. */
  percentComplete: number;
  recordsImported: number;
  /** Rows skipped by `continue` (bad rows, and rows of unreadable files when known). */
  recordsSkipped: number;
  error: string | null;
  nodeId: string | null;
  createdAt: Date;
  finishedAt: Date | null;
}

export interface BulkImports {
  create(input: { projectId: string; indexId: string; uri: string; errorMode: ImportErrorMode; nodeId?: string | undefined }): Promise<BulkImport>;
  get(projectId: string, indexId: string, id: string): Promise<BulkImport | undefined>;
  /** The index's imports in id (creation) order, after `after`, at most `limit`. */
  list(projectId: string, indexId: string, page: { limit: number; after?: string | undefined }): Promise<BulkImport[]>;
  /** Progress of an open import; false once it has finished (cancelled meanwhile). */
  progress(id: string, update: { status?: 'InProgress'; percentComplete?: number; recordsImported?: number; recordsSkipped?: number }): Promise<boolean>;
  /** Finishes an open import; false when it had finished already (cancelled meanwhile). */
  finish(id: string, outcome: { status: 'Failed' | 'Completed' | 'Cancelled'; error?: string | undefined }): Promise<boolean>;
  /** Marks every open import Failed with `error` (a restart interrupted them); returns their ids. */
  failInterrupted(error: string): Promise<string[]>;
}

const OPEN: readonly ImportStatus[] = ['Pending', 'InProgress'];

function newImportId(now: number): string {
  // Time first, so ids sort (and page) in creation order.
  return `imp_${now.toString(36).padStart(9, '0')}${randomString(BASE36_LOWER, 12)}`;
}

function toImport(row: Selectable<BulkImportsTable>): BulkImport {
  return {
    id: row.id,
    projectId: row.project_id,
    indexId: row.index_id,
    uri: row.uri,
    errorMode: row.error_mode === 'continue' ? 'continue' : 'abort',
    status: row.status as ImportStatus,
    percentComplete: Number(row.percent_complete),
    recordsImported: Number(row.records_imported),
    recordsSkipped: Number(row.records_skipped),
    error: row.error,
    nodeId: row.node_id,
    createdAt: row.created_at,
    finishedAt: row.finished_at,
  };
}

export function createBulkImports(db: Kysely<Database>, now: () => number = Date.now): BulkImports {
  return {
    async create(input) {
      const row = await db
        .insertInto('bulk_imports')
        .values({
          id: newImportId(now()),
          project_id: input.projectId,
          index_id: input.indexId,
          uri: input.uri,
          error_mode: input.errorMode,
          status: 'Pending',
          error: null,
          node_id: input.nodeId ?? null,
          finished_at: null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toImport(row);
    },

    async get(projectId, indexId, id) {
      const row = await db
        .selectFrom('bulk_imports')
        .selectAll()
        .where('id', '=', id)
        .where('project_id', '=', projectId)
        .where('index_id', '=', indexId)
        .executeTakeFirst();
      return row === undefined ? undefined : toImport(row);
    },

    async list(projectId, indexId, page) {
      let query = db.selectFrom('bulk_imports').selectAll().where('project_id', '=', projectId).where('index_id', '=', indexId);
      if (page.after !== undefined) query = query.where('id', '>', page.after);
      const rows = await query.orderBy('id').limit(page.limit).execute();
      return rows.map(toImport);
    },

    async progress(id, update) {
      const result = await db
        .updateTable('bulk_imports')
        .set({
          ...(update.status !== undefined ? { status: update.status } : {}),
          ...(update.percentComplete !== undefined ? { percent_complete: Math.min(100, Math.max(0, update.percentComplete)) } : {}),
          ...(update.recordsImported !== undefined ? { records_imported: update.recordsImported } : {}),
          ...(update.recordsSkipped !== undefined ? { records_skipped: update.recordsSkipped } : {}),
        })
        .where('id', '=', id)
        .where('status', 'in', OPEN)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async finish(id, outcome) {
      const result = await db
        .updateTable('bulk_imports')
        .set({
          status: outcome.status,
          error: outcome.error === undefined ? null : outcome.error.slice(0, MAX_ERROR_LENGTH),
          finished_at: sql<Date>`now()`,
          ...(outcome.status === 'Completed' ? { percent_complete: 100 } : {}),
        })
        .where('id', '=', id)
        .where('status', 'in', OPEN)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async failInterrupted(error) {
      const rows = await db
        .updateTable('bulk_imports')
        .set({ status: 'Failed', error: error.slice(0, MAX_ERROR_LENGTH), finished_at: sql<Date>`now()` })
        .where('status', 'in', OPEN)
        .returning('id')
        .execute();
      return rows.map((r) => r.id);
    },
  };
}
