import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Each node's memory budget and what it holds (`NodeMemory` in membership.ts), sent with every
 * heartbeat so operators see every node's memory from any gateway. Null until a node that knows the
 * column beats.
 */
export const migration0011NodeMemory: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('cluster_nodes').addColumn('memory', 'jsonb').execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('cluster_nodes').dropColumn('memory').execute();
  },
};
