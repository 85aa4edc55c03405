import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Rate-limit overrides per project and per index (`jsonb`, limit name → requests or units per
 * second, `0` = unlimited; `{}` = none). An operator hosting tenants sets them; the node's own
 * limits (off unless configured) apply wherever neither sets a limit.
 */
export const migration0003RateLimits: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .alterTable('projects')
      .addColumn('rate_limits', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
      .execute();
    await db.schema
      .alterTable('indexes')
      .addColumn('rate_limits', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('indexes').dropColumn('rate_limits').execute();
    await db.schema.alterTable('projects').dropColumn('rate_limits').execute();
  },
};
