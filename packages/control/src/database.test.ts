import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '@conifer/core';
import { openDatabase } from './database.ts';
import { migrateToLatest } from './migrate.ts';

describe('openDatabase', () => {
  it('accepts only postgres:// URLs', async () => {
    await expect(openDatabase({ databaseUrl: 'mysql://localhost/x' })).rejects.toThrow(InvalidArgumentError);
  });

  it('migrates an empty PGlite, and a second run is a no-op', async () => {
    const db = await openDatabase({});
    try {
      await migrateToLatest(db);
      await migrateToLatest(db);
      const tables = await db.introspection.getTables();
      expect(tables.map((t) => t.name).sort()).toEqual([
        'api_keys',
        'audit_events',
        'backups',
        'bulk_imports',
        'cluster_nodes',
        'index_jobs',
        'indexes',
        'namespace_schemas',
        'projects',
        'restore_jobs',
        'usage_daily',
      ]);
    } finally {
      await db.destroy();
    }
  });
});
