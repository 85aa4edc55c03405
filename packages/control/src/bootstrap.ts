import type { Kysely } from 'kysely';
import { FailedPreconditionError, InvalidArgumentError } from '@conifer/core';
import { insertKey } from './api-keys.ts';
import { newId } from './ids.ts';
import { generateApiKey, hashApiKey } from './keys.ts';
import { toProject } from './rows.ts';
import type { Database } from './schema.ts';
import type { Project } from './types.ts';

/** The project every fresh install starts with. */
export const DEFAULT_PROJECT_NAME = 'default';
/** Name given to keys created by bootstrap. */
export const BOOTSTRAP_KEY_NAME = 'bootstrap';

export interface BootstrapOptions {
  /** An operator-chosen admin key (e.g. from CONIFER_API_KEY); any non-empty string. */
  apiKey?: string | undefined;
}

export interface BootstrapResult {
  project: Project;
  /** Plaintext of the admin key created by this call; absent when none was created. */
  apiKey?: string;
}

/**
 * Makes sure the "default" project exists and can be administered. Idempotent:
 * - with `apiKey`: stores it as an admin key of the default project unless a key with that hash
 *   exists already (FailedPreconditionError if that key was revoked);
 * - without: creates an admin key when the project has no active one.
 * The plaintext is returned only by the call that created the key. The project row is locked for
 * the duration, so concurrent bootstraps (several nodes starting) create one key, not several.
 */
export async function bootstrap(db: Kysely<Database>, options: BootstrapOptions = {}): Promise<BootstrapResult> {
  const given = options.apiKey;
  if (given !== undefined && given.length === 0) throw new InvalidArgumentError('apiKey must not be empty');
  return db.transaction().execute(async (trx) => {
    await trx
      .insertInto('projects')
      .values({ id: newId('prj'), name: DEFAULT_PROJECT_NAME })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    const projectRow = await trx.selectFrom('projects').selectAll().where('name', '=', DEFAULT_PROJECT_NAME).forUpdate().executeTakeFirstOrThrow();
    const project = toProject(projectRow);

    let key: string;
    if (given !== undefined) {
      const existing = await trx.selectFrom('api_keys').select(['revoked_at']).where('key_hash', '=', hashApiKey(given)).executeTakeFirst();
      if (existing !== undefined) {
        if (existing.revoked_at !== null) throw new FailedPreconditionError('The bootstrap API key has been revoked.');
        return { project };
      }
      key = given;
    } else {
      const admin = await trx
        .selectFrom('api_keys')
        .select('id')
        .where('project_id', '=', project.id)
        .where('role', '=', 'admin')
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      if (admin !== undefined) return { project };
      key = generateApiKey();
    }
    await insertKey(trx, { projectId: project.id, name: BOOTSTRAP_KEY_NAME, role: 'admin', key, actorKeyId: null });
    return { project, apiKey: key };
  });
}
