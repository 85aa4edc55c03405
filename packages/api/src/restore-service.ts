import { z } from 'zod';
import { FailedPreconditionError, NotFoundError, indexNameSchema, tagsSchema, type NamespaceMetadataSchema } from '@conifer/core';
import type { ControlPlane, IndexRecord, PortRange, RestoreJob, RestoreJobStatus } from '@conifer/control';
import type { BackupPin } from '@conifer/engine';
import { assertCanWrite, type AuthContext } from './auth.ts';
import { backupEngineOf, backupsLimitSchema, backupsPageOf, backupIdSchema, backupNotFound, SINGLE_NODE_ONLY, type BackupEngine } from './backup-service.ts';
import { handleOf } from './index-service.ts';
import { paginationOf } from './pagination.ts';

/**
 * Restores (Pinecone's `POST /backups/{id}/create-index`, `/restore-jobs`; docs/adr/0010-backups.md):
 * a new index with the backup's dimension, metric, cloud and region, then a job that copies each
 * pinned namespace into it (`Engine.restoreNamespace`) in the background on this node.
 *
 * Every step of a restore is idempotent, so a job a restart interrupted is run again from the
 * start when the node comes back (`resumeRestores`), and a shutdown leaves its jobs open for that.
 * A job that fails (the backup's data unreadable, a namespace written by a client meanwhile) is
 * `Failed` and its half-restored index is deleted: an index from a backup holds all of it or is gone.
 */

export const createIndexFromBackupSchema = z.object({
  id: backupIdSchema,
  name: indexNameSchema,
  tags: tagsSchema.optional(),
  deletionProtection: z.enum(['enabled', 'disabled'], { error: 'must be "enabled" or "disabled"' }).optional(),
});
export const listRestoreJobsSchema = z.object({
  limit: backupsLimitSchema.optional(),
  paginationToken: z.string({ error: 'must be a string' }).optional(),
});
export const restoreJobRefSchema = z.object({ id: backupIdSchema });

/** A restore job as the API answers it. */
export interface RestoreJobInfo {
  restoreJobId: string;
  backupId: string;
  targetIndexName: string;
  targetIndexId: string;
  /** `Pending`, `InProgress`, then `Completed` or `Failed`. */
  status: RestoreJobStatus;
  /** ISO 8601. */
  createdAt: string;
  /** ISO 8601; absent while it runs. */
  completedAt?: string;
  /** 0–100, by the bytes of slabs copied. */
  percentComplete: number;
  /** Why it failed. */
  error?: string;
}

export interface RestoreService {
  createIndexFromBackup(auth: AuthContext, input: z.output<typeof createIndexFromBackupSchema>): Promise<{ restoreJobId: string; indexId: string }>;
  listRestoreJobs(auth: AuthContext, input: z.output<typeof listRestoreJobsSchema>): Promise<{ data: RestoreJobInfo[]; pagination?: { next: string } }>;
  describeRestoreJob(auth: AuthContext, input: { id: string }): Promise<RestoreJobInfo>;
  /** At start: runs again the restore jobs a restart interrupted; returns how many. */
  resumeRestores(): Promise<number>;
  /** Resolves once every restore running in this process has finished (tests). */
  restoresSettled(): Promise<void>;
  /** Shutdown: stops the restores running here, leaving them open for the next start to resume. */
  stopRestores(): Promise<void>;
}

function infoOf(row: RestoreJob): RestoreJobInfo {
  return {
    restoreJobId: row.id,
    backupId: row.backupId,
    targetIndexName: row.targetIndexName,
    targetIndexId: row.targetIndexId,
    status: row.status,
    createdAt: row.createdAt.toISOString(),
    ...(row.completedAt ? { completedAt: row.completedAt.toISOString() } : {}),
    percentComplete: Math.round(row.percentComplete * 10) / 10,
    ...(row.error !== null ? { error: row.error } : {}),
  };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Thrown to stop a restore at a shutdown: the job stays open. */
class Stopped extends Error {}

export function createRestoreService(deps: {
  control: ControlPlane;
  data: unknown;
  indexHostPorts?: PortRange | undefined;
  afterIndexesChange?: (() => Promise<void>) | undefined;
  /** Where background failures go besides the job's row. */
  onRestoreError?: ((error: unknown, jobId: string) => void) | undefined;
}): RestoreService {
  const { control } = deps;
  const engine = backupEngineOf(deps.data);
  const running = new Map<string, { controller: AbortController; done: Promise<void> }>();

  function start(engine: BackupEngine, job: RestoreJob): void {
    if (running.has(job.id)) return;
    const controller = new AbortController();
    const done = run(engine, job, controller.signal).finally(() => running.delete(job.id));
    running.set(job.id, { controller, done });
  }

  async function run(engine: BackupEngine, job: RestoreJob, signal: AbortSignal): Promise<void> {
    try {
      await control.restoreJobs.progress(job.id, { status: 'InProgress' });
      const backup = await control.backups.get(job.projectId, job.backupId);
      if (!backup || backup.status !== 'Ready') throw new Error(`backup ${job.backupId} is gone or not Ready`);
      const pins = await engine.backupPins(backup.sourceIndexId, backup.id);
      if (pins.length !== backup.namespaceCount) throw new Error(`backup ${backup.id} lists ${backup.namespaceCount} namespaces, ${pins.length} are stored`);
      const target = await liveTarget(job);
      const total = Math.max(
        1,
        pins.reduce((n, p) => n + p.slabs.reduce((m, s) => m + Math.max(1, s.bytes), 0), 0),
      );
      let copied = 0;
      let lastUpdate = 0;
      for (const pin of pins) {
        await engine.restoreNamespace(handleOf(target), pin, (bytes) => {
          if (signal.aborted) throw new Stopped();
          copied += Math.max(1, bytes);
          const now = Date.now();
          if (now - lastUpdate < 500) return;
          lastUpdate = now;
          void control.restoreJobs.progress(job.id, { percentComplete: Math.min(99, (100 * copied) / total) }).catch(() => undefined);
        });
        await restoreSchema(target, pin);
        if (signal.aborted) throw new Stopped();
      }
      await control.restoreJobs.finish(job.id, { status: 'Completed' });
    } catch (err) {
      if (err instanceof Stopped || signal.aborted) return; // left open: the next start resumes it
      deps.onRestoreError?.(err, job.id);
      await removeTarget(engine, job).catch((e: unknown) => deps.onRestoreError?.(e, job.id));
      await control.restoreJobs.finish(job.id, { status: 'Failed', error: messageOf(err) }).catch((e: unknown) => deps.onRestoreError?.(e, job.id));
    }
  }

  async function liveTarget(job: RestoreJob): Promise<IndexRecord> {
    const [target] = await control.indexes.byIds([job.targetIndexId]);
    if (!target || target.status === 'terminating') throw new Error(`index ${job.targetIndexName} was deleted during the restore`);
    return target;
  }

  /** The namespace's metadata schema, as the source had it (written again on a resumed job: idempotent). */
  async function restoreSchema(target: IndexRecord, pin: BackupPin): Promise<void> {
    if (pin.schema === undefined) return;
    await control.namespaceSchemas.create(target.id, pin.namespace, pin.schema as NamespaceMetadataSchema, () => Promise.resolve());
  }

  /** A failed restore's index goes: deletion protection asked for it protects a complete index only. */
  async function removeTarget(engine: BackupEngine, job: RestoreJob): Promise<void> {
    const [target] = await control.indexes.byIds([job.targetIndexId]);
    if (!target) return;
    if (target.deletionProtection === 'enabled') await control.indexes.configure(target.projectId, target.name, { deletionProtection: 'disabled' });
    const record = await control.indexes.beginDelete(target.projectId, target.name);
    await engine.dropIndex(handleOf(record));
    await control.indexes.finishDelete(record.id);
    await deps.afterIndexesChange?.();
  }

  return {
    async createIndexFromBackup(auth, input) {
      assertCanWrite(auth, 'creating an index from a backup');
      const backup = await control.backups.get(auth.projectId, input.id);
      if (!backup) throw backupNotFound(input.id);
      if (!engine) throw new FailedPreconditionError(SINGLE_NODE_ONLY);
      if (backup.status !== 'Ready') throw new FailedPreconditionError(`Backup ${backup.id} is ${backup.status}; only a Ready backup can be restored.`);
      const record = await control.indexes.create(
        auth.projectId,
        {
          name: input.name,
          // A sparse index has no dimension (stored as 0).
          dimension: backup.vectorType === 'sparse' ? undefined : backup.dimension,
          metric: backup.metric,
          vectorType: backup.vectorType,
          deletionProtection: input.deletionProtection,
          tags: input.tags ?? {},
          cloud: backup.cloud,
          region: backup.region,
        },
        auth.keyId,
        { hostPorts: deps.indexHostPorts },
      );
      await deps.afterIndexesChange?.();
      const job = await control.restoreJobs.create({ projectId: auth.projectId, backupId: backup.id, targetIndexId: record.id, targetIndexName: record.name });
      start(engine, job);
      await control.audit(auth.projectId, auth.keyId, 'backup.restore', `backup:${backup.id}/index:${record.name}`).catch(() => undefined);
      return { restoreJobId: job.id, indexId: record.id };
    },

    async listRestoreJobs(auth, input) {
      const { size, after } = backupsPageOf(input.limit, input.paginationToken, 'list restore jobs');
      const rows = await control.restoreJobs.list(auth.projectId, { limit: size + 1, after });
      const page = rows.slice(0, size);
      return { data: page.map(infoOf), ...paginationOf(rows.length > size ? page[page.length - 1]!.id : undefined) };
    },

    async describeRestoreJob(auth, input) {
      const row = await control.restoreJobs.get(auth.projectId, input.id);
      if (!row) throw new NotFoundError(`Restore job ${input.id} not found.`);
      return infoOf(row);
    },

    async resumeRestores() {
      if (!engine) return 0;
      const open = await control.restoreJobs.listOpen();
      for (const job of open) start(engine, job);
      return open.length;
    },

    async restoresSettled() {
      await Promise.all([...running.values()].map((r) => r.done));
    },

    async stopRestores() {
      const all = [...running.values()];
      for (const r of all) r.controller.abort();
      await Promise.all(all.map((r) => r.done));
    },
  };
}
