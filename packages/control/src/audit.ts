import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';
import { toAuditEvent } from './rows.ts';
import type { AuditEvent } from './types.ts';

/** Action names recorded by the control plane itself. Callers may record others. */
export const AUDIT_ACTIONS = {
  projectCreate: 'project.create',
  keyCreate: 'key.create',
  keyRevoke: 'key.revoke',
  indexCreate: 'index.create',
  indexConfigure: 'index.configure',
  indexDelete: 'index.delete',
  projectRateLimits: 'project.rate_limits',
  indexRateLimits: 'index.rate_limits',
} as const;

export interface AuditEntry {
  projectId: string;
  /** The key that acted; null for the system (bootstrap, background work). */
  actorKeyId: string | null;
  action: string;
  /** What was acted on, e.g. `index:products` or `key:key_…`. */
  target: string;
}

/**
 * Appends one audit event. Pass the transaction of the change it records, so that the event and
 * the change commit together.
 */
export async function recordAudit(db: Kysely<Database>, entry: AuditEntry): Promise<void> {
  await db
    .insertInto('audit_events')
    .values({ project_id: entry.projectId, actor_key_id: entry.actorKeyId, action: entry.action, target: entry.target })
    .execute();
}

/** Most events `recentAudit` returns in one call. */
export const MAX_AUDIT_PAGE = 1000;

/** The newest `limit` events of a project (clamped to 1–1000), newest first. */
export async function recentAudit(db: Kysely<Database>, projectId: string, limit: number): Promise<AuditEvent[]> {
  const rows = await db
    .selectFrom('audit_events')
    .selectAll()
    .where('project_id', '=', projectId)
    .orderBy('id', 'desc')
    .limit(Number.isFinite(limit) ? Math.min(MAX_AUDIT_PAGE, Math.max(1, Math.floor(limit))) : MAX_AUDIT_PAGE)
    .execute();
  return rows.map(toAuditEvent);
}
