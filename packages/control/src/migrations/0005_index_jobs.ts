import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * The index-build job queue (docs/adr/0006-cluster-roles.md, "Index builds are jobs in
 * PostgreSQL"): the writer of a namespace plans compactions and ANN-index builds as rows, indexers
 * claim them with `for update skip locked` and heartbeat while they build. Every timestamp is the
 * database's `now()`, so a lapsed claim is judged by one clock.
 *
 * `kind` and `state` are free text checked in TypeScript (`index-jobs.ts`), so a new kind needs no
 * migration. The literal predicates below must match `OPEN_STATES` there: PostgreSQL picks a partial
 * index only when the query's predicate implies the index's.
 */
export const migration0005IndexJobs: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('index_jobs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('index_id', 'text', (c) => c.notNull())
      .addColumn('namespace', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('inputs', 'jsonb', (c) => c.notNull())
      .addColumn('base_version', 'bigint', (c) => c.notNull())
      .addColumn('writer_epoch', 'bigint', (c) => c.notNull())
      .addColumn('params', 'jsonb', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('claimed_by', 'text')
      .addColumn('heartbeat_at', 'timestamptz')
      .addColumn('output', 'jsonb')
      .addColumn('error', 'text')
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .execute();
    // At most one unfinished job per namespace and index: a writer that plans again after a
    // restart finds its job instead of queueing a second build over the same slabs.
    await db.schema
      .createIndex('index_jobs_one_open')
      .on('index_jobs')
      .columns(['index_id', 'namespace'])
      .unique()
      .where(sql<boolean>`state in ('pending', 'running')`)
      .execute();
    // The claim scans unfinished jobs oldest first; finished ones (most rows until pruned) stay out of it.
    await db.schema
      .createIndex('index_jobs_open_by_age')
      .on('index_jobs')
      .columns(['created_at', 'id'])
      .where(sql<boolean>`state in ('pending', 'running')`)
      .execute();
    await db.schema.createIndex('index_jobs_namespace').on('index_jobs').columns(['index_id', 'namespace', 'created_at']).execute();
    // The console's newest-first listing and prune's age cut.
    await db.schema.createIndex('index_jobs_updated_at').on('index_jobs').column('updated_at').execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('index_jobs').execute();
  },
};
