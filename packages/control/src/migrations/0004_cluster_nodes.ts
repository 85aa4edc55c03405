import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Cluster membership (docs/adr/0006-cluster-roles.md): one row per running node, its roles, the
 * URL other nodes reach it at, and its state. `heartbeat_at` is stamped by the database's clock on
 * every heartbeat, so liveness never depends on node clocks agreeing.
 */
export const migration0004ClusterNodes: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('cluster_nodes')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('roles', 'jsonb', (c) => c.notNull())
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('started_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn('heartbeat_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('cluster_nodes').execute();
  },
};
