import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InvalidArgumentError, NotFoundError, indexRefSchema } from '@conifer/core';
import { createBackupSchema, createIndexFromBackupSchema, type BackupInfo, type RestoreJobInfo, type Services } from '@conifer/api';
import { parseWith } from './errors.ts';
import { authOf, bodyOf, queryInt, queryParam } from './plugin-support.ts';
import { dimensionField } from './wire.ts';

/** Wire (snake_case) names of the request fields, for validation messages. */
const WIRE_FIELDS = { deletionProtection: 'deletion_protection' };

/** BackupModel (API 2026-04). */
function backupModel(b: BackupInfo): Record<string, unknown> {
  return {
    backup_id: b.backupId,
    source_index_name: b.sourceIndexName,
    source_index_id: b.sourceIndexId,
    ...(b.sourceIndexDeletedAt !== undefined ? { source_index_deleted_at: b.sourceIndexDeletedAt } : {}),
    ...(b.name !== undefined ? { name: b.name } : {}),
    ...(b.description !== undefined ? { description: b.description } : {}),
    status: b.status,
    cloud: b.cloud,
    region: b.region,
    // A sparse index's backup has no dimension, as its index has none.
    ...dimensionField(b),
    metric: b.metric,
    record_count: b.recordCount,
    namespace_count: b.namespaceCount,
    size_bytes: b.sizeBytes,
    tags: b.tags,
    created_at: b.createdAt,
  };
}

/** RestoreJobModel (API 2026-04). */
function restoreJobModel(j: RestoreJobInfo): Record<string, unknown> {
  return {
    restore_job_id: j.restoreJobId,
    backup_id: j.backupId,
    target_index_name: j.targetIndexName,
    target_index_id: j.targetIndexId,
    status: j.status,
    created_at: j.createdAt,
    ...(j.completedAt !== undefined ? { completed_at: j.completedAt } : {}),
    percent_complete: j.percentComplete,
  };
}

/** An index name from the path; a malformed one cannot exist, so it is "not found". */
function indexNameOf(request: FastifyRequest): string {
  const { name } = request.params as { name: string };
  const parsed = indexRefSchema.safeParse({ name });
  if (!parsed.success) throw new NotFoundError(`Index ${name} not found.`);
  return parsed.data.name;
}

/** A backup or job id from the path; a malformed one cannot exist, so it is "not found". */
function idOf(request: FastifyRequest, what: 'Backup' | 'Restore job'): string {
  const { id } = request.params as { id: string };
  if (id.length === 0 || id.length > 100 || !/^[\x21-\x7e]+$/.test(id)) throw new NotFoundError(`${what} ${id} not found.`);
  return id;
}

function pageOf(request: FastifyRequest): { limit: number | undefined; paginationToken: string | undefined } {
  return { limit: queryInt(request, 'limit'), paginationToken: queryParam(request, 'paginationToken') || undefined };
}

function includeDeletedOf(request: FastifyRequest): boolean {
  const value = queryParam(request, 'include_deleted');
  // Absent is false; an empty value is not a boolean (the OpenAPI document says so too).
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw InvalidArgumentError.at(['include_deleted'], 'must be true or false');
}

/** An optional string field of the body: null (generated clients send it for unset fields) is absent. */
function optional(body: Record<string, unknown>, field: string): unknown {
  const value = body[field];
  return value === null ? undefined : value;
}

/**
 * Pinecone's backups and restore jobs on the control plane (docs/adr/0010-backups.md): create and
 * list an index's backups, list/describe/delete backups, create an index from one, and follow the
 * restore jobs. Registered by `registerControlPlane`, whose error shape and authentication apply.
 */
export function registerBackups(app: FastifyInstance, options: { services: Services }): void {
  const { services } = options;

  app.post('/indexes/:name/backups', async (request, reply) => {
    const index = indexNameOf(request);
    const body = bodyOf(request);
    const input = parseWith(createBackupSchema, { index, name: optional(body, 'name'), description: optional(body, 'description') });
    const backup = await services.createBackup(authOf(request), input);
    return reply.code(201).send(backupModel(backup));
  });

  app.get('/indexes/:name/backups', async (request) => {
    const page = await services.listBackups(authOf(request), { index: indexNameOf(request), includeDeleted: includeDeletedOf(request), ...pageOf(request) });
    return { data: page.data.map(backupModel), ...(page.pagination ? { pagination: page.pagination } : {}) };
  });

  app.get('/backups', async (request) => {
    const page = await services.listBackups(authOf(request), pageOf(request));
    return { data: page.data.map(backupModel), ...(page.pagination ? { pagination: page.pagination } : {}) };
  });

  app.get('/backups/:id', async (request) => backupModel(await services.describeBackup(authOf(request), { id: idOf(request, 'Backup') })));

  app.delete('/backups/:id', async (request, reply) => {
    await services.deleteBackup(authOf(request), { id: idOf(request, 'Backup') });
    return reply.code(202).send();
  });

  app.post('/backups/:id/create-index', async (request, reply) => {
    const id = idOf(request, 'Backup');
    const body = bodyOf(request);
    const input = parseWith(
      createIndexFromBackupSchema,
      { id, name: body.name, tags: optional(body, 'tags'), deletionProtection: optional(body, 'deletion_protection') },
      WIRE_FIELDS,
    );
    const created = await services.createIndexFromBackup(authOf(request), input);
    return reply.code(202).send({ restore_job_id: created.restoreJobId, index_id: created.indexId });
  });

  app.get('/restore-jobs', async (request) => {
    const page = await services.listRestoreJobs(authOf(request), pageOf(request));
    return { data: page.data.map(restoreJobModel), ...(page.pagination ? { pagination: page.pagination } : {}) };
  });

  app.get('/restore-jobs/:id', async (request) => restoreJobModel(await services.describeRestoreJob(authOf(request), { id: idOf(request, 'Restore job') })));
}
