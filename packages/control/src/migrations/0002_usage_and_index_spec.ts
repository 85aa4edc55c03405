import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Usage metering and the serverless spec of an index.
 *
 * - `usage_daily`: read and write units per index per UTC day. Counters are summed in memory and
 *   added here in the background (`insert … on conflict do update set x = x + excluded.x`), so
 *   several nodes can flush into the same row. Units are fractional (a query costs at least
 *   0.25 RU), hence `double precision`. The index name is kept so reports stay readable after
 *   the index is deleted.
 * - `indexes.cloud` / `indexes.region`: what the client asked for in `spec.serverless`, echoed back
 *   in the Pinecone IndexModel. Conifer runs wherever it is deployed; these are labels.
 */
export const migration0002UsageAndIndexSpec: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('usage_daily')
      .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id'))
      .addColumn('index_id', 'text', (c) => c.notNull())
      .addColumn('index_name', 'text', (c) => c.notNull())
      .addColumn('day', 'date', (c) => c.notNull())
      .addColumn('read_units', 'double precision', (c) => c.notNull().defaultTo(0))
      .addColumn('write_units', 'double precision', (c) => c.notNull().defaultTo(0))
      .addColumn('requests', 'bigint', (c) => c.notNull().defaultTo(0))
      .addPrimaryKeyConstraint('usage_daily_pkey', ['project_id', 'index_id', 'day'])
      .execute();
    await db.schema.createIndex('usage_daily_project_day').on('usage_daily').columns(['project_id', 'day']).execute();
    await db.schema
      .alterTable('indexes')
      .addColumn('cloud', 'text', (c) => c.notNull().defaultTo('aws'))
      .execute();
    await db.schema
      .alterTable('indexes')
      .addColumn('region', 'text', (c) => c.notNull().defaultTo('us-east-1'))
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('indexes').dropColumn('region').execute();
    await db.schema.alterTable('indexes').dropColumn('cloud').execute();
    await db.schema.dropTable('usage_daily').execute();
  },
};
