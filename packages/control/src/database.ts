import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import { InvalidArgumentError } from '@conifer/core';
import { DEFAULT_CONFIG } from './config.ts';
import type { Database } from './schema.ts';

export interface DatabaseOptions {
  /** `postgres://…` or `postgresql://…`: use a real PostgreSQL server (wins over `dataDir`). */
  databaseUrl?: string | undefined;
  /** PGlite data directory (created if missing); in-memory PGlite when absent. */
  dataDir?: string | undefined;
  /** Size of the `pg` pool. Default `DEFAULT_CONFIG.postgresPoolSize`. */
  poolSize?: number | undefined;
  /**
   * In-memory PGlite only: start from this dump of a data directory (PGlite's `dumpDataDir`)
   * instead of running initdb, which takes seconds (tests start many databases from one).
   */
  pgliteDump?: Blob | undefined;
}

/**
 * Opens the control-plane database: PostgreSQL through a `pg` Pool when `databaseUrl` is given,
 * otherwise embedded PGlite (persisted to `dataDir`, or in memory). Same SQL dialect either way.
 *
 * PGlite has a single connection: `kysely-pglite-dialect` hands it to one Kysely connection at a
 * time, so a transaction owns it until commit and other queries queue behind it (never
 * interleave). Inside a transaction, always use the transaction object, never the outer `db`,
 * or the queue deadlocks.
 *
 * @example const db = await openDatabase({ dataDir: '.conifer/control' });
 */
export async function openDatabase(options: DatabaseOptions): Promise<Kysely<Database>> {
  if (options.databaseUrl !== undefined) {
    if (!/^postgres(ql)?:\/\//.test(options.databaseUrl)) {
      throw new InvalidArgumentError('databaseUrl must start with postgres:// or postgresql://');
    }
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize ?? DEFAULT_CONFIG.postgresPoolSize });
    // An idle client that loses its connection emits 'error' on the pool; without a listener
    // that would crash the process. The broken client is discarded and the next query reconnects.
    pool.on('error', () => {});
    // A client checked out when the server goes away (a restart, a failover) emits 'error' on
    // itself, not on the pool: the query in flight fails, and the listener keeps the process up.
    pool.on('connect', (client) => client.on('error', () => {}));
    return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  }
  if (options.pgliteDump !== undefined && options.dataDir !== undefined) {
    throw new InvalidArgumentError('pgliteDump applies to an in-memory database only, not with dataDir');
  }
  if (options.dataDir !== undefined) {
    await mkdir(options.dataDir, { recursive: true });
    if (!existsSync(path.join(options.dataDir, 'PG_VERSION'))) await createInChildProcess(options.dataDir);
  }
  const pglite = await PGlite.create({
    dataDir: options.dataDir,
    postgresqlconf: PGLITE_SETTINGS,
    ...(options.pgliteDump !== undefined ? { loadDataDir: options.pgliteDump } : {}),
  });
  return new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
}

/**
 * The embedded control plane's Postgres settings. Its tables are small (projects, indexes, keys,
 * usage), and the default buffer pool (128 MB) is touched as it is used: in the embedded server
 * that pool is resident memory beside the node's memory budget, which it does not count.
 */
const PGLITE_SETTINGS = ['shared_buffers=16MB'];

/** Runs initdb for `dataDir` in a child process (`pglite-init.ts` says why). */
function createInChildProcess(dataDir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    // The server's runtime flags, but not its debugger: a second inspector would find the port taken.
    const execArgv = process.execArgv.filter((flag) => !flag.startsWith('--inspect'));
    const child = fork(fileURLToPath(new URL('./pglite-init.ts', import.meta.url)), [dataDir], { execArgv, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`creating the embedded database in ${dataDir} failed (exit ${code ?? signal})`)),
    );
  });
}
