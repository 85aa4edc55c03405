import { z } from 'zod';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, indexNameSchema, type VectorType } from '@conifer/core';
import type { Backup, BackupStatus, ControlPlane } from '@conifer/control';
import { sizeOfPin, type BackupPin, type IndexHandle } from '@conifer/engine';
import { assertCanWrite, type AuthContext } from './auth.ts';
import { handleOf, resolveLiveIndex } from './index-service.ts';
import { afterOf, paginationOf } from './pagination.ts';

/**
 * Backups of indexes (Pinecone's `/indexes/{name}/backups`, `/backups`; docs/adr/0010-backups.md).
 * Taking one flushes every namespace of the index and pins the manifest that covers it in the
 * object store (`Engine.backupNamespace`): nothing is copied. It runs while the request waits and
 * answers the backup `Ready` (or the error, the backup `Failed` and its pins released).
 */

export const MAX_BACKUP_NAME_LENGTH = 200;
export const MAX_BACKUP_DESCRIPTION_LENGTH = 1000;
/** Most items one listing page holds (Pinecone's bound); default 10. */
export const BACKUPS_MAX_LIMIT = 100;
export const BACKUPS_DEFAULT_LIMIT = 10;

// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const NO_CONTROL = /^[^\u0000-\u001f\u007f]*$/;
const textSchema = (max: number) =>
  z
    .string({ error: 'must be a string' })
    .max(max, { error: `must be at most ${max} characters` })
    .regex(NO_CONTROL, { error: 'must not contain control characters' });

/** A backup or restore job id as the path carries it: printable ASCII, bounded. */
export const backupIdSchema = z
  .string({ error: 'must be a string' })
  .min(1, { error: 'must not be empty' })
  .max(100, { error: 'must be at most 100 characters' })
  .regex(/^[\x21-\x7e]+$/, { error: 'must be printable ASCII' });

export const createBackupSchema = z.object({
  index: indexNameSchema,
  name: textSchema(MAX_BACKUP_NAME_LENGTH).optional(),
  description: textSchema(MAX_BACKUP_DESCRIPTION_LENGTH).optional(),
});
/** Page size of the backup and restore-job listings. */
export const backupsLimitSchema = z
  .number({ error: 'must be a number' })
  .int({ error: 'must be an integer' })
  .min(1, { error: `must be 1–${BACKUPS_MAX_LIMIT}` })
  .max(BACKUPS_MAX_LIMIT, { error: `must be 1–${BACKUPS_MAX_LIMIT}` });
export const listBackupsSchema = z.object({
  /** Only the backups of this (live) index; all the project's when absent. */
  index: indexNameSchema.optional(),
  /** With `index`: the backups of every index that had the name, deleted ones too (no live index needed). */
  includeDeleted: z.boolean({ error: 'must be a boolean' }).optional(),
  limit: backupsLimitSchema.optional(),
  paginationToken: z.string({ error: 'must be a string' }).optional(),
});
export const backupRefSchema = z.object({ id: backupIdSchema });

/** A page of a backup or restore-job listing: its size (default 10) and the id it starts after. */
export function backupsPageOf(limit: number | undefined, token: string | undefined, issuedBy: string): { size: number; after: string | undefined } {
  const size = limit ?? BACKUPS_DEFAULT_LIMIT;
  if (!Number.isInteger(size) || size < 1 || size > BACKUPS_MAX_LIMIT) throw InvalidArgumentError.at(['limit'], `must be an integer 1–${BACKUPS_MAX_LIMIT}`);
  return { size, after: afterOf(token, issuedBy) };
}

export type CreateBackupRequest = z.output<typeof createBackupSchema>;

/** A backup as the API answers it. */
export interface BackupInfo {
  backupId: string;
  sourceIndexName: string;
  sourceIndexId: string;
  /** ISO 8601; present only once the source index has been deleted. */
  sourceIndexDeletedAt?: string;
  name?: string;
  description?: string;
  /** `Initializing` while it is taken, then `Ready`, or `Failed`. */
  status: BackupStatus;
  cloud: string;
  region: string;
  /** 0 for a sparse index. */
  dimension: number;
  metric: string;
  vectorType: VectorType;
  recordCount: number;
  namespaceCount: number;
  /** Bytes of the slabs it references (not copied: see docs/operations.md). */
  sizeBytes: number;
  tags: Record<string, string>;
  /** ISO 8601. */
  createdAt: string;
  /** Why it failed. */
  error?: string;
}

export interface BackupService {
  createBackup(auth: AuthContext, input: CreateBackupRequest): Promise<BackupInfo>;
  listBackups(auth: AuthContext, input: z.output<typeof listBackupsSchema>): Promise<{ data: BackupInfo[]; pagination?: { next: string } }>;
  describeBackup(auth: AuthContext, input: { id: string }): Promise<BackupInfo>;
  /** Deletes a backup and the slabs only it kept; FailedPreconditionError while a restore from it runs. */
  deleteBackup(auth: AuthContext, input: { id: string }): Promise<void>;
  /** At start: marks backups a restart interrupted as Failed and releases their pins; returns how many. */
  failInterruptedBackups(): Promise<number>;
}

/** What takes backups: the node's engine (a cluster gateway has none). */
export interface BackupEngine {
  namespaceNames(index: IndexHandle): Promise<string[]>;
  backupNamespace(index: IndexHandle, namespace: string, backupId: string, schema?: unknown): Promise<BackupPin | undefined>;
  backupPins(indexId: string, backupId: string): Promise<BackupPin[]>;
  releaseBackup(indexId: string, backupId: string): Promise<number>;
  restoreNamespace(target: IndexHandle, pin: BackupPin, onSlab?: (bytes: number) => void): Promise<void>;
  dropIndex(index: IndexHandle): Promise<void>;
}

export function backupEngineOf(data: unknown): BackupEngine | undefined {
  const candidate = data as Partial<BackupEngine> | undefined;
  return typeof candidate?.backupNamespace === 'function' && typeof candidate.restoreNamespace === 'function' ? (candidate as BackupEngine) : undefined;
}

export const SINGLE_NODE_ONLY = 'Backups and restores run on a single-node Conifer only; this node is part of a cluster, where they are not supported yet.';
const INTERRUPTED = 'The backup was interrupted by a restart of the server; take it again.';

export function backupNotFound(id: string): NotFoundError {
  return new NotFoundError(`Backup ${id} not found.`);
}

export function infoOfBackup(row: Backup): BackupInfo {
  return {
    backupId: row.id,
    sourceIndexName: row.sourceIndexName,
    sourceIndexId: row.sourceIndexId,
    ...(row.sourceIndexDeletedAt ? { sourceIndexDeletedAt: row.sourceIndexDeletedAt.toISOString() } : {}),
    ...(row.name !== null ? { name: row.name } : {}),
    ...(row.description !== null ? { description: row.description } : {}),
    status: row.status,
    cloud: row.cloud,
    region: row.region,
    dimension: row.dimension,
    metric: row.metric,
    vectorType: row.vectorType,
    recordCount: row.recordCount,
    namespaceCount: row.namespaceCount,
    sizeBytes: row.sizeBytes,
    tags: { ...row.tags },
    createdAt: row.createdAt.toISOString(),
    ...(row.error !== null ? { error: row.error } : {}),
  };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function createBackupService(deps: { control: ControlPlane; data: unknown }): BackupService {
  const { control } = deps;
  const engine = backupEngineOf(deps.data);

  function requireEngine(): BackupEngine {
    if (!engine) throw new FailedPreconditionError(SINGLE_NODE_ONLY);
    return engine;
  }

  /** Pins every namespace; the pins are released and the row Failed if any step fails. */
  async function take(engine: BackupEngine, row: Backup, handle: IndexHandle): Promise<Backup> {
    try {
      const names = await engine.namespaceNames(handle);
      const schemas = await control.namespaceSchemas.getMany(handle.id, names);
      const pins: BackupPin[] = [];
      for (const name of names) {
        const pin = await engine.backupNamespace(handle, name, row.id, schemas.get(name));
        if (pin) pins.push(pin);
      }
      // An index whose deletion began while it was pinned may have had pinned slabs removed (its
      // deletion read the pins before ours were written); one still ready now is deleted after,
      // by a deletion that sees every pin.
      const [current] = await control.indexes.byIds([handle.id]);
      if (!current || current.status === 'terminating') throw new FailedPreconditionError('The index was deleted while it was backed up.');
      const counts = {
        recordCount: pins.reduce((n, p) => n + p.records, 0),
        namespaceCount: pins.length,
        sizeBytes: pins.reduce((n, p) => n + sizeOfPin(p), 0),
      };
      if (!(await control.backups.ready(row.id, counts))) throw new Error('the backup was marked failed while it was taken');
      return { ...row, ...counts, status: 'Ready' };
    } catch (err) {
      await engine.releaseBackup(handle.id, row.id).catch(() => undefined);
      await control.backups.fail(row.id, messageOf(err)).catch(() => undefined);
      throw err;
    }
  }

  return {
    async createBackup(auth, input) {
      assertCanWrite(auth, 'creating a backup');
      const record = await resolveLiveIndex(control, auth, input.index);
      const engine = requireEngine();
      const row = await control.backups.create({
        projectId: auth.projectId,
        sourceIndexId: record.id,
        sourceIndexName: record.name,
        name: input.name,
        description: input.description,
        cloud: record.cloud,
        region: record.region,
        dimension: record.dimension,
        metric: record.metric,
        vectorType: record.vectorType,
        tags: record.tags,
      });
      const taken = await take(engine, row, handleOf(record));
      await control.audit(auth.projectId, auth.keyId, 'backup.create', `index:${record.name}/backup:${row.id}`).catch(() => undefined);
      return infoOfBackup(taken);
    },

    async listBackups(auth, input) {
      const { size, after } = backupsPageOf(input.limit, input.paginationToken, 'list backups');
      let source: { id?: string; name?: string } | undefined;
      if (input.index !== undefined) {
        source = input.includeDeleted ? { name: input.index } : { id: (await resolveLiveIndex(control, auth, input.index)).id };
      }
      const rows = await control.backups.list(auth.projectId, { limit: size + 1, after }, source);
      const page = rows.slice(0, size);
      return { data: page.map(infoOfBackup), ...paginationOf(rows.length > size ? page[page.length - 1]!.id : undefined) };
    },

    async describeBackup(auth, input) {
      const row = await control.backups.get(auth.projectId, input.id);
      if (!row) throw backupNotFound(input.id);
      return infoOfBackup(row);
    },

    async deleteBackup(auth, input) {
      assertCanWrite(auth, 'deleting a backup');
      const row = await control.backups.get(auth.projectId, input.id);
      if (!row) throw backupNotFound(input.id);
      const engine = requireEngine();
      const pending = await control.restoreJobs.openOfBackup(row.id);
      if (pending.length > 0) {
        throw new FailedPreconditionError(`Unable to delete backup. There are pending restore jobs for this backup: ${JSON.stringify(pending)}`);
      }
      if (row.status === 'Initializing') throw new FailedPreconditionError(`Backup ${row.id} is still being created; delete it once it is Ready or Failed.`);
      // Pins first: a crash in between leaves a row whose deletion is simply asked again.
      await engine.releaseBackup(row.sourceIndexId, row.id);
      await control.backups.remove(row.id);
      await control.audit(auth.projectId, auth.keyId, 'backup.delete', `backup:${row.id}`).catch(() => undefined);
    },

    async failInterruptedBackups() {
      if (!engine) return 0;
      const rows = await control.backups.listInitializing();
      for (const row of rows) {
        await engine.releaseBackup(row.sourceIndexId, row.id);
        await control.backups.fail(row.id, INTERRUPTED);
      }
      return rows.length;
    },
  };
}
