import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { ControlPlaneOptions } from '../control-plane.ts';
import { BASE36_LOWER, randomString } from '../ids.ts';
import { pgliteTemplateDump, seedPgliteDataDir } from './pglite-template.ts';

export { pgliteTemplateDir, pgliteTemplateDump, seedPgliteDataDir } from './pglite-template.ts';

/** Set to a PostgreSQL URL (see tools/postgres/start.sh) to also run the suites on PostgreSQL. */
export const POSTGRES_URL_ENV = 'CONIFER_TEST_DATABASE_URL';

/** One empty database for a test suite, and how to throw it away. */
export interface TestDatabase {
  options: ControlPlaneOptions;
  dispose(): Promise<void>;
}

/** A database backend the control-plane suites run against (Kysely's habit: one suite, every dialect). */
export interface Backend {
  name: string;
  /** Closing and reopening with the same options finds the data again. */
  persistent: boolean;
  /** Two ControlPlanes may be open on the same database at once (like two server nodes). */
  sharedAccess: boolean;
  create(): Promise<TestDatabase>;
}

const pgliteMemory: Backend = {
  name: 'pglite-memory',
  persistent: false,
  sharedAccess: false,
  // From the migrated template (./pglite-template.ts), not a fresh initdb of its own.
  create: async () => ({ options: { pgliteDump: await pgliteTemplateDump() }, dispose: () => Promise.resolve() }),
};

const pgliteDir: Backend = {
  name: 'pglite-dir',
  persistent: true,
  sharedAccess: false,
  async create() {
    const dir = await mkdtemp(join(tmpdir(), 'conifer-control-'));
    // A copy of the migrated template (./pglite-template.ts), not a fresh initdb of its own.
    await seedPgliteDataDir(join(dir, 'data'));
    return { options: { dataDir: join(dir, 'data') }, dispose: () => rm(dir, { recursive: true, force: true }) };
  },
};

function postgres(adminUrl: string): Backend {
  return {
    name: 'postgres',
    persistent: true,
    sharedAccess: true,
    async create() {
      // A fresh database per suite, so runs (and parallel test files) never see each other's rows.
      const name = `conifer_test_${randomString(BASE36_LOWER, 12)}`;
      await withClient(adminUrl, (client) => client.query(`create database ${name}`));
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      return {
        options: { databaseUrl: url.toString() },
        async dispose() {
          await withClient(adminUrl, (client) => client.query(`drop database if exists ${name} with (force)`));
        },
      };
    },
  };
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh PostgreSQL database when CONIFER_TEST_DATABASE_URL is set (for tests of several server processes), else undefined. */
export function postgresTestBackend(): Backend | undefined {
  const url = process.env[POSTGRES_URL_ENV];
  return url ? postgres(url) : undefined;
}

/** PGlite in memory and on disk always; PostgreSQL too when CONIFER_TEST_DATABASE_URL is set. */
export function backends(): Backend[] {
  const url = process.env[POSTGRES_URL_ENV];
  return url ? [pgliteMemory, pgliteDir, postgres(url)] : [pgliteMemory, pgliteDir];
}
