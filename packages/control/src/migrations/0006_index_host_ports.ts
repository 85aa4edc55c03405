import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Each index's own TCP port (`indexes.host_port`), so its host can be `http://host:port` with no
 * path: gRPC clients cannot dial a path, and the server tells indexes apart by the port reached.
 * Null for an index created while ports were off (or before this migration).
 *
 * A deleted row keeps its port: that history lets `assignHostPort` hand out the port released
 * longest ago, so a client still holding a deleted index's host is unlikely to reach a new index.
 * Only live rows hold a port, hence the partial unique index; it is also what makes two choices at
 * once that picked the same port fail instead of both winning.
 */
export const migration0006IndexHostPorts: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .alterTable('indexes')
      .addColumn('host_port', 'integer', (c) => c.check(sql`host_port between 1 and 65535`))
      .execute();
    await db.schema.createIndex('indexes_host_port_live').on('indexes').column('host_port').unique().where(sql.ref('deleted_at'), 'is', null).execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('indexes_host_port_live').execute();
    await db.schema.alterTable('indexes').dropColumn('host_port').execute();
  },
};
