import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Projects, API keys, indexes and audit events. PostgreSQL only (PGlite is PostgreSQL), so
 * checks, partial indexes, jsonb and identity columns are used freely.
 */
export const migration0001Initial: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('projects')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .execute();

    await db.schema
      .createTable('api_keys')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('admin', 'read-write', 'read-only')`))
      .addColumn('key_hash', 'text', (c) => c.notNull().unique())
      .addColumn('display_prefix', 'text', (c) => c.notNull())
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn('last_used_at', 'timestamptz')
      .addColumn('revoked_at', 'timestamptz')
      .execute();
    await db.schema.createIndex('api_keys_project_id').on('api_keys').column('project_id').execute();

    await db.schema
      .createTable('indexes')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('dimension', 'integer', (c) => c.notNull().check(sql`dimension > 0`))
      .addColumn('metric', 'text', (c) => c.notNull().check(sql`metric in ('cosine', 'euclidean', 'dotproduct')`))
      .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('ready', 'terminating')`))
      .addColumn('deletion_protection', 'text', (c) => c.notNull().check(sql`deletion_protection in ('enabled', 'disabled')`))
      .addColumn('tags', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn('deleted_at', 'timestamptz')
      .execute();
    // A name is held only by a live (not yet deleted) index, so it can be reused after deletion.
    await db.schema
      .createIndex('indexes_project_name_live')
      .on('indexes')
      .columns(['project_id', 'name'])
      .unique()
      .where(sql.ref('deleted_at'), 'is', null)
      .execute();

    await db.schema
      .createTable('audit_events')
      .addColumn('id', 'bigint', (c) => c.generatedAlwaysAsIdentity().primaryKey())
      .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id'))
      .addColumn('actor_key_id', 'text', (c) => c.references('api_keys.id'))
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('target', 'text', (c) => c.notNull())
      .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .execute();
    await db.schema.createIndex('audit_events_project_id').on('audit_events').columns(['project_id', 'id']).execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('audit_events').execute();
    await db.schema.dropTable('indexes').execute();
    await db.schema.dropTable('api_keys').execute();
    await db.schema.dropTable('projects').execute();
  },
};
