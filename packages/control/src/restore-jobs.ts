import { sql, type Kysely, type Selectable } from 'kysely';
import { newUuidV7, type Page } from './backups.ts';
import type { Database, RestoreJobsTable } from './schema.ts';

/**
 * Restore jobs (Pinecone's `/restore-jobs`; docs/adr/0010-backups.md): each creates one index from
 * a backup. The node that runs a job updates its row as namespaces are copied; a job still open
 * (Pending or InProgress) when the node starts again was interrupted by a restart and is run again
 * from the start (every step of a restore is idempotent).
 */

export const RESTORE_JOB_STATUSES = ['Pending', 'InProgress', 'Completed', 'Failed'] as const;
export type RestoreJobStatus = (typeof RESTORE_JOB_STATUSES)[number];

const MAX_ERROR_LENGTH = 4_000;
const OPEN: readonly RestoreJobStatus[] = ['Pending', 'InProgress'];

export interface RestoreJob {
  id: string;
  projectId: string;
  backupId: string;
  targetIndexId: string;
  targetIndexName: string;
  status: RestoreJobStatus;
  /** 0–100. */
  percentComplete: number;
  error: string | null;
  createdAt: Date;
  completedAt: Date | null;
}

export interface RestoreJobs {
  create(input: { projectId: string; backupId: string; targetIndexId: string; targetIndexName: string }): Promise<RestoreJob>;
  get(projectId: string, id: string): Promise<RestoreJob | undefined>;
  /** The project's jobs, oldest first. */
  list(projectId: string, page: Page): Promise<RestoreJob[]>;
  /** Ids of the open (Pending or InProgress) jobs restoring from the backup. */
  openOfBackup(backupId: string): Promise<string[]>;
  /** Every open job, of every project, oldest first: those a restart interrupted. */
  listOpen(): Promise<RestoreJob[]>;
  /** Progress of an open job; false once it has finished. */
  progress(id: string, update: { status?: 'InProgress'; percentComplete?: number }): Promise<boolean>;
  /** Finishes an open job; false when it had finished already. */
  finish(id: string, outcome: { status: 'Completed' | 'Failed'; error?: string | undefined }): Promise<boolean>;
}

function toJob(row: Selectable<RestoreJobsTable>): RestoreJob {
  return {
    id: row.id,
    projectId: row.project_id,
    backupId: row.backup_id,
    targetIndexId: row.target_index_id,
    targetIndexName: row.target_index_name,
    status: row.status as RestoreJobStatus,
    percentComplete: Number(row.percent_complete),
    error: row.error,
    createdAt: row.created_at,
    completedAt: row.completed_at,
  };
}

export function createRestoreJobs(db: Kysely<Database>, now: () => number = Date.now): RestoreJobs {
  return {
    async create(input) {
      const row = await db
        .insertInto('restore_jobs')
        .values({
          id: newUuidV7(now()),
          project_id: input.projectId,
          backup_id: input.backupId,
          target_index_id: input.targetIndexId,
          target_index_name: input.targetIndexName,
          status: 'Pending',
          error: null,
          completed_at: null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toJob(row);
    },

    async get(projectId, id) {
      const row = await db.selectFrom('restore_jobs').selectAll().where('id', '=', id).where('project_id', '=', projectId).executeTakeFirst();
      return row === undefined ? undefined : toJob(row);
    },

    async list(projectId, page) {
      let query = db.selectFrom('restore_jobs').selectAll().where('project_id', '=', projectId);
      if (page.after !== undefined) query = query.where('id', '>', page.after);
      const rows = await query.orderBy('id').limit(page.limit).execute();
      return rows.map(toJob);
    },

    async openOfBackup(backupId) {
      const rows = await db.selectFrom('restore_jobs').select('id').where('backup_id', '=', backupId).where('status', 'in', OPEN).orderBy('id').execute();
      return rows.map((r) => r.id);
    },

    async listOpen() {
      const rows = await db.selectFrom('restore_jobs').selectAll().where('status', 'in', OPEN).orderBy('id').execute();
      return rows.map(toJob);
    },

    async progress(id, update) {
      const result = await db
        .updateTable('restore_jobs')
        .set({
          ...(update.status !== undefined ? { status: update.status } : {}),
          ...(update.percentComplete !== undefined ? { percent_complete: Math.min(100, Math.max(0, update.percentComplete)) } : {}),
        })
        .where('id', '=', id)
        .where('status', 'in', OPEN)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async finish(id, outcome) {
      const result = await db
        .updateTable('restore_jobs')
        .set({
          status: outcome.status,
          error: outcome.error === undefined ? null : outcome.error.slice(0, MAX_ERROR_LENGTH),
          completed_at: sql<Date>`now()`,
          ...(outcome.status === 'Completed' ? { percent_complete: 100 } : {}),
        })
        .where('id', '=', id)
        .where('status', 'in', OPEN)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
  };
}
