import type { Kysely } from 'kysely';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from '@conifer/core';
import { insertKey } from './api-keys.ts';
import { AUDIT_ACTIONS, recordAudit } from './audit.ts';
import { newId } from './ids.ts';
import { generateApiKey } from './keys.ts';
import { toProject } from './rows.ts';
import type { Database } from './schema.ts';
import { isUniqueViolation } from './sql-errors.ts';
import type { ApiKeyInfo, Project } from './types.ts';

/** Longest project name accepted. */
export const MAX_PROJECT_NAME_LENGTH = 128;

/** Projects: the tenants. Every key and index belongs to exactly one. */
export interface ProjectStore {
  /**
   * Creates a project; AlreadyExistsError when the name is taken.
   *
   * @example const project = await cp.projects.create('search-team');
   */
  create(name: string, actorKeyId?: string | null): Promise<Project>;
  /**
   * Creates a project and its first admin key in one transaction; the key's plaintext is returned
   * only here. AlreadyExistsError when the name is taken.
   *
   * @example const { project, key } = await cp.projects.createWithAdminKey('search-team', operatorKeyId);
   */
  createWithAdminKey(name: string, actorKeyId?: string | null): Promise<{ project: Project; key: string; keyInfo: ApiKeyInfo }>;
  /** All projects, oldest first. */
  list(): Promise<Project[]>;
  /** One project by id; NotFoundError when unknown. */
  get(id: string): Promise<Project>;
}

/** The project store over `db`. */
export function createProjectStore(db: Kysely<Database>): ProjectStore {
  return {
    async create(name, actorKeyId = null) {
      checkName(name);
      try {
        return await db.transaction().execute(async (trx) => {
          const row = await trx
            .insertInto('projects')
            .values({ id: newId('prj'), name })
            .returningAll()
            .executeTakeFirstOrThrow();
          await recordAudit(trx, { projectId: row.id, actorKeyId, action: AUDIT_ACTIONS.projectCreate, target: `project:${name}` });
          return toProject(row);
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw new AlreadyExistsError('Resource already exists.');
        throw error;
      }
    },

    async createWithAdminKey(name, actorKeyId = null) {
      checkName(name);
      const key = generateApiKey();
      try {
        return await db.transaction().execute(async (trx) => {
          const row = await trx
            .insertInto('projects')
            .values({ id: newId('prj'), name })
            .returningAll()
            .executeTakeFirstOrThrow();
          await recordAudit(trx, { projectId: row.id, actorKeyId, action: AUDIT_ACTIONS.projectCreate, target: `project:${name}` });
          const keyInfo = await insertKey(trx, { projectId: row.id, name: 'admin', role: 'admin', key, actorKeyId });
          return { project: toProject(row), key, keyInfo };
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw new AlreadyExistsError('Resource already exists.');
        throw error;
      }
    },

    async list() {
      const rows = await db.selectFrom('projects').selectAll().orderBy('created_at').orderBy('id').execute();
      return rows.map(toProject);
    },

    async get(id) {
      return toProject(await requireProject(db, id));
    },
  };
}

function checkName(name: string): void {
  if (name.trim() === '' || name.length > MAX_PROJECT_NAME_LENGTH) {
    throw InvalidArgumentError.at(['name'], `must be 1–${MAX_PROJECT_NAME_LENGTH} characters`);
  }
}

/** The project row, or NotFoundError. Use inside transactions to check a parent exists. */
export async function requireProject(db: Kysely<Database>, id: string) {
  const row = await db.selectFrom('projects').selectAll().where('id', '=', id).executeTakeFirst();
  if (row === undefined) throw new NotFoundError(`Project ${id} not found.`);
  return row;
}
