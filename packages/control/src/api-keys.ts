import type { Kysely } from 'kysely';
import { InvalidArgumentError, NotFoundError } from '@conifer/core';
import { AUDIT_ACTIONS, recordAudit } from './audit.ts';
import { newId } from './ids.ts';
import { displayPrefix, generateApiKey, hashApiKey } from './keys.ts';
import { requireProject } from './projects.ts';
import { toApiKeyInfo } from './rows.ts';
import type { Database } from './schema.ts';
import { ROLES, type ApiKeyInfo, type CreateKeyInput, type Role } from './types.ts';

/** Longest key name accepted. */
export const MAX_KEY_NAME_LENGTH = 128;

/** API keys of a project. Lists never carry the key or its hash. */
export interface KeyStore {
  /**
   * Creates a key and returns its plaintext — the only time it is ever available.
   *
   * @example const { key, info } = await cp.keys.create(projectId, { name: 'ci', role: 'read-only' });
   */
  create(projectId: string, input: CreateKeyInput, actorKeyId?: string | null): Promise<{ key: string; info: ApiKeyInfo }>;
  /** Every key of the project, revoked ones included, oldest first. */
  list(projectId: string): Promise<ApiKeyInfo[]>;
  /**
   * Revokes a key; takes effect at once for this ControlPlane's `authenticate`. Idempotent.
   * NotFoundError when the key does not exist in that project.
   */
  revoke(projectId: string, keyId: string, actorKeyId?: string | null): Promise<ApiKeyInfo>;
}

/** The key store over `db`; `onRevoked(hash)` runs after each revocation commits. */
export function createKeyStore(db: Kysely<Database>, onRevoked: (keyHash: string) => void): KeyStore {
  return {
    async create(projectId, input, actorKeyId = null) {
      if (input.name.trim() === '' || input.name.length > MAX_KEY_NAME_LENGTH) {
        throw InvalidArgumentError.at(['name'], `must be 1–${MAX_KEY_NAME_LENGTH} characters`);
      }
      if (!(ROLES as readonly string[]).includes(input.role)) {
        throw InvalidArgumentError.at(['role'], `must be one of ${ROLES.join(', ')}`);
      }
      const key = generateApiKey();
      const info = await db.transaction().execute(async (trx) => {
        await requireProject(trx, projectId);
        return insertKey(trx, { projectId, name: input.name, role: input.role, key, actorKeyId });
      });
      return { key, info };
    },

    async list(projectId) {
      const rows = await db.selectFrom('api_keys').selectAll().where('project_id', '=', projectId).orderBy('created_at').orderBy('id').execute();
      return rows.map(toApiKeyInfo);
    },

    async revoke(projectId, keyId, actorKeyId = null) {
      const row = await db.transaction().execute(async (trx) => {
        const current = await trx.selectFrom('api_keys').selectAll().where('id', '=', keyId).where('project_id', '=', projectId).forUpdate().executeTakeFirst();
        if (current === undefined) throw new NotFoundError(`API key ${keyId} not found.`);
        if (current.revoked_at !== null) return current;
        const revoked = await trx.updateTable('api_keys').set({ revoked_at: new Date() }).where('id', '=', keyId).returningAll().executeTakeFirstOrThrow();
        await recordAudit(trx, { projectId, actorKeyId, action: AUDIT_ACTIONS.keyRevoke, target: `key:${keyId}` });
        return revoked;
      });
      onRevoked(row.key_hash);
      return toApiKeyInfo(row);
    },
  };
}

/**
 * Stores a key (hashed) and audits it, inside the caller's transaction. The plaintext only passes
 * through here to be hashed and cut to its display prefix.
 */
export async function insertKey(
  trx: Kysely<Database>,
  options: { projectId: string; name: string; role: Role; key: string; actorKeyId: string | null },
): Promise<ApiKeyInfo> {
  const id = newId('key');
  const row = await trx
    .insertInto('api_keys')
    .values({
      id,
      project_id: options.projectId,
      name: options.name,
      role: options.role,
      key_hash: hashApiKey(options.key),
      display_prefix: displayPrefix(options.key),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await recordAudit(trx, {
    projectId: options.projectId,
    actorKeyId: options.actorKeyId,
    action: AUDIT_ACTIONS.keyCreate,
    target: `key:${id}`,
  });
  return toApiKeyInfo(row);
}
