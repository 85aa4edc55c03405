import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '@conifer/core';
import { openDatabase } from './database.ts';
import { migrateToLatest } from './migrate.ts';
import { MIGRATIONS } from './migrations/index.ts';
import { pgliteTemplateDir, pgliteTemplateDump, seedPgliteDataDir } from './testing/pglite-template.ts';

async function appliedMigrations(db: Awaited<ReturnType<typeof openDatabase>>): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db);
  return rows.map((r) => r.name);
}

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

  // Every other suite copies a template instead (testing/pglite-template.ts): the first start of
  // an embedded server, initdb in a child process on an empty directory, is tested here.
  it('creates a PGlite data directory on first open (initdb in a child process) and finds its data on reopen', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'conifer-database-test-'));
    try {
      const dataDir = path.join(dir, 'control');
      const db = await openDatabase({ dataDir });
      await migrateToLatest(db);
      await sql`insert into projects (id, name, created_at) values ('p1', 'one', now())`.execute(db);
      await db.destroy();
      expect(existsSync(path.join(dataDir, 'PG_VERSION'))).toBe(true);
      const again = await openDatabase({ dataDir });
      try {
        const { rows } = await sql<{ name: string }>`select name from projects`.execute(again);
        expect(rows.map((r) => r.name)).toEqual(['one']);
        expect(await appliedMigrations(again)).toEqual(Object.keys(MIGRATIONS));
      } finally {
        await again.destroy();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the test template holds every migration and no rows, in a directory and as a dump', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'conifer-database-test-'));
    try {
      await seedPgliteDataDir(path.join(dir, 'control'));
      // A directory that exists is left alone (a restart's), not given a copy inside it.
      await seedPgliteDataDir(path.join(dir, 'control'));
      expect(existsSync(path.join(dir, 'control', path.basename(await pgliteTemplateDir())))).toBe(false);
      for (const db of [await openDatabase({ dataDir: path.join(dir, 'control') }), await openDatabase({ pgliteDump: await pgliteTemplateDump() })]) {
        try {
          expect(await appliedMigrations(db)).toEqual(Object.keys(MIGRATIONS));
          const { rows } = await sql<{ n: number }>`select count(*)::int as n from projects`.execute(db);
          expect(rows[0]!.n).toBe(0);
        } finally {
          await db.destroy();
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a dump together with a data directory', async () => {
    await expect(openDatabase({ dataDir: '/nonexistent', pgliteDump: new Blob([]) })).rejects.toThrow(/pgliteDump/);
  });
});
