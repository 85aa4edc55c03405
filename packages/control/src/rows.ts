import type { Selectable } from 'kysely';
import type { ApiKeysTable, AuditEventsTable, IndexesTable, ProjectsTable } from './schema.ts';
import type { ApiKeyInfo, AuditEvent, IndexRecord, Project } from './types.ts';

/** ISO 8601 of a timestamptz as either driver returns it. */
export function iso(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

function isoOrNull(value: Date | string | null): string | null {
  return value === null ? null : iso(value);
}

/** Row → Project. */
export function toProject(row: Selectable<ProjectsTable>): Project {
  return { id: row.id, name: row.name, createdAt: iso(row.created_at) };
}

/** Row → ApiKeyInfo. Deliberately drops `key_hash`. */
export function toApiKeyInfo(row: Selectable<ApiKeysTable>): ApiKeyInfo {
  return {
    id: row.id,
    projectId: row.project_id,
    name: row.name,
    role: row.role,
    displayPrefix: row.display_prefix,
    createdAt: iso(row.created_at),
    lastUsedAt: isoOrNull(row.last_used_at),
    revokedAt: isoOrNull(row.revoked_at),
  };
}

/** Row → IndexRecord. */
export function toIndexRecord(row: Selectable<IndexesTable>): IndexRecord {
  return {
    id: row.id,
    projectId: row.project_id,
    name: row.name,
    dimension: row.dimension,
    metric: row.metric,
    vectorType: row.vector_type,
    status: row.status,
    deletionProtection: row.deletion_protection,
    tags: { ...row.tags },
    createdAt: iso(row.created_at),
    cloud: row.cloud,
    region: row.region,
    hostPort: row.host_port,
  };
}

/** Row → AuditEvent (the int8 id as a string, whatever the driver returned). */
export function toAuditEvent(row: Selectable<AuditEventsTable>): AuditEvent {
  return {
    id: String(row.id),
    projectId: row.project_id,
    actorKeyId: row.actor_key_id,
    action: row.action,
    target: row.target,
    at: iso(row.at),
  };
}
