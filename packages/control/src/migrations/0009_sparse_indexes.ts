import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Sparse-only indexes (`vector_type = 'sparse'`): they have no dimension, stored as 0, so the
 * dimension check of 0001 becomes one that relates the two columns. Existing indexes are dense.
 */
export const migration0009SparseIndexes: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .alterTable('indexes')
      .addColumn('vector_type', 'text', (c) =>
        c
          .notNull()
          .defaultTo('dense')
          .check(sql`vector_type in ('dense', 'sparse')`),
      )
      .execute();
    await db.schema.alterTable('indexes').dropConstraint('indexes_dimension_check').execute();
    await db.schema
      .alterTable('indexes')
      .addCheckConstraint('indexes_dimension_of_vector_type', sql`(vector_type = 'dense' and dimension > 0) or (vector_type = 'sparse' and dimension = 0)`)
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db
      .deleteFrom('indexes' as never)
      .where(sql`vector_type`, '=', 'sparse')
      .execute();
    await db.schema.alterTable('indexes').dropConstraint('indexes_dimension_of_vector_type').execute();
    await db.schema
      .alterTable('indexes')
      .addCheckConstraint('indexes_dimension_check', sql`dimension > 0`)
      .execute();
    await db.schema.alterTable('indexes').dropColumn('vector_type').execute();
  },
};
