import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Backups and restore jobs (`backups.ts`, `restore-jobs.ts`; docs/adr/0010-backups.md). A backup
 * row says what was asked and how it ended; the namespaces it holds are pins in the object store.
 * Neither table references `indexes`: a backup outlives its source index, and its listing joins
 * the index row (kept, with `deleted_at`) to say when the source was deleted. `status` is free
 * text checked in TypeScript (Pinecone's strings). Listings page by (created_at, id).
 */
export const migration0010Backups: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('backups')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('project_id', 'text', (c) => c.notNull())
      .addColumn('source_index_id', 'text', (c) => c.notNull())
      .addColumn('source_index_name', 'text', (c) => c.notNull())
      .addColumn('name', 'text')
      .addColumn('description', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('cloud', 'text', (c) => c.notNull())
      .addColumn('region', 'text', (c) => c.notNull())
      .addColumn('dimension', 'integer', (c) => c.notNull())
      .addColumn('metric', 'text', (c) => c.notNull())
      .addColumn('vector_type', 'text', (c) => c.notNull().defaultTo('dense'))
      .addColumn('tags', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
      .addColumn('record_count', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('namespace_count', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('size_bytes', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('error', 'text')
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .execute();
    await db.schema.createIndex('backups_by_project').on('backups').columns(['project_id', 'created_at', 'id']).execute();
    await db.schema.createIndex('backups_by_source').on('backups').columns(['source_index_id', 'created_at', 'id']).execute();
    await db.schema
      .createTable('restore_jobs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('project_id', 'text', (c) => c.notNull())
      .addColumn('backup_id', 'text', (c) => c.notNull())
      .addColumn('target_index_id', 'text', (c) => c.notNull())
      .addColumn('target_index_name', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('percent_complete', 'double precision', (c) => c.notNull().defaultTo(0))
      .addColumn('error', 'text')
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn('completed_at', 'timestamptz')
      .execute();
    await db.schema.createIndex('restore_jobs_by_project').on('restore_jobs').columns(['project_id', 'created_at', 'id']).execute();
    await db.schema.createIndex('restore_jobs_by_backup').on('restore_jobs').columns(['backup_id', 'status']).execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('restore_jobs').execute();
    await db.schema.dropTable('backups').execute();
  },
};
