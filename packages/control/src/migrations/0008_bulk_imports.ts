import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Bulk imports (`bulk-imports.ts`): one row per import an index was asked to run, its progress and
 * outcome. `status` is free text checked in TypeScript (Pinecone's `Pending`, `InProgress`,
 * `Failed`, `Completed`, `Cancelled`). Ids sort by creation time, so listings page by id.
 */
export const migration0008BulkImports: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('bulk_imports')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('project_id', 'text', (c) => c.notNull())
      .addColumn('index_id', 'text', (c) => c.notNull())
      .addColumn('uri', 'text', (c) => c.notNull())
      .addColumn('error_mode', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('percent_complete', 'double precision', (c) => c.notNull().defaultTo(0))
      .addColumn('records_imported', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('records_skipped', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('error', 'text')
      .addColumn('node_id', 'text')
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn('finished_at', 'timestamptz')
      .execute();
    await db.schema.createIndex('bulk_imports_by_index').on('bulk_imports').columns(['project_id', 'index_id', 'id']).execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('bulk_imports').execute();
  },
};
