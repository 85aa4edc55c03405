import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * The metadata schema a namespace was created with (Pinecone's `schema`: which metadata fields are
 * indexed), one row per namespace that has one, keyed by index id and namespace name. A namespace
 * created without a schema, or implicitly by an upsert, has no row. Rows go with their namespace
 * (deleted by the service) and with their index (`finishDelete`; the cascade covers a removed row).
 */
export const migration0007NamespaceSchemas: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('namespace_schemas')
      .addColumn('index_id', 'text', (c) => c.notNull().references('indexes.id').onDelete('cascade'))
      .addColumn('namespace', 'text', (c) => c.notNull())
      .addColumn('schema', 'jsonb', (c) => c.notNull())
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addPrimaryKeyConstraint('namespace_schemas_pkey', ['index_id', 'namespace'])
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('namespace_schemas').execute();
  },
};
