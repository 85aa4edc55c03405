import type { Kysely } from 'kysely';
import { Migrator, type MigrationProvider } from 'kysely/migration';
import { InternalError } from '@conifer/core';
import { MIGRATIONS } from './migrations/index.ts';
import type { Database } from './schema.ts';

/** Serves the in-code migrations of `migrations/` (no file-system scanning, bundler-safe). */
const inCodeProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve({ ...MIGRATIONS }),
};

/**
 * Brings the schema up to date. Safe to call on every start and from several nodes at once:
 * Kysely's Migrator takes an advisory lock and records applied migrations in `kysely_migration`.
 */
export async function migrateToLatest(db: Kysely<Database>): Promise<void> {
  const migrator = new Migrator({ db, provider: inCodeProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new InternalError(`Control-plane migration ${failed} failed.`, { cause: error });
  }
}
