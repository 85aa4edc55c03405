import { rm } from 'node:fs/promises';
import { postgresTestBackend } from '@conifer/control/testing';
import { spawnServer, tempDataDir, TEST_API_KEY, type Child } from './test-support.ts';

/** The cluster secret every node of a test cluster shares. */
export const CLUSTER_SECRET = 'cluster-test-secret-0123456789';

/** What the nodes of one test cluster share: a PostgreSQL database and a local-disk store. */
export interface ClusterShared {
  databaseUrl: string;
  storage: string;
}

/**
 * The multi-process cluster tests' fixture: node processes started as an operator starts them
 * (`CONIFER_ROLES` and the cluster settings, nothing else), each cleaned up — woken if paused,
 * killed, its data directory removed — by `close`, in reverse order of creation.
 */
export class ClusterFixture {
  readonly #cleanups: (() => Promise<unknown>)[] = [];

  /** Runs `cleanup` at `close`, before everything registered earlier. */
  onClose(cleanup: () => Promise<unknown>): void {
    this.#cleanups.push(cleanup);
  }

  /** A fresh database on the test PostgreSQL server (`npm test` starts it) and an empty shared store. */
  async shared(): Promise<ClusterShared> {
    const database = await postgresTestBackend()!.create();
    this.onClose(() => database.dispose());
    const storage = await tempDataDir();
    this.onClose(() => rm(storage, { recursive: true, force: true }));
    return { databaseUrl: database.options.databaseUrl!, storage };
  }

  /**
   * Starts `node apps/server/src/main.ts` with `roles` on the shared database and store;
   * `detached` starts it as a session of its own, as `npm run cluster` starts nodes.
   */
  async node(roles: string, shared: ClusterShared, env: Record<string, string> = {}, options: { detached?: boolean } = {}): Promise<Child> {
    const dataDir = await tempDataDir();
    const child = await spawnServer(
      {
        CONIFER_ROLES: roles,
        CONIFER_CLUSTER_SECRET: CLUSTER_SECRET,
        CONIFER_DATA_DIR: dataDir,
        CONIFER_PORT: '0',
        CONIFER_API_KEY: TEST_API_KEY,
        CONIFER_DATABASE_URL: shared.databaseUrl,
        CONIFER_STORAGE: shared.storage,
        ...env,
      },
      options,
    );
    this.onClose(async () => {
      if (child.process.exitCode === null && child.process.signalCode === null) {
        child.process.kill('SIGCONT');
        child.process.kill('SIGKILL');
      }
      await rm(dataDir, { recursive: true, force: true });
    });
    return child;
  }

  async close(): Promise<void> {
    for (const cleanup of this.#cleanups.reverse()) await cleanup().catch(() => undefined);
  }
}
