import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { postgresTestBackend } from '@conifer/control/testing';
import { Conifer } from '@conifer/sdk';
import { spawnServer, tempDataDir, TEST_API_KEY, type Child } from './test-support.ts';

// A fresh database on the test PostgreSQL server that `npm test` starts (tools/postgres/start.sh).
const postgres = postgresTestBackend();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Three server processes on one PostgreSQL database, as the nodes of a cluster are.
describe.skipIf(postgres === undefined)('cluster membership across server processes (PostgreSQL)', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  async function node(databaseUrl: string, storage: string): Promise<Child> {
    const dataDir = await tempDataDir();
    const child = await spawnServer({
      CONIFER_DATA_DIR: dataDir,
      CONIFER_PORT: '0',
      CONIFER_API_KEY: TEST_API_KEY,
      CONIFER_DATABASE_URL: databaseUrl,
      CONIFER_STORAGE: storage,
    });
    cleanups.push(async () => {
      if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    });
    return child;
  }

  it('each node sees the other; SIGTERM leaves at once, SIGKILL stops being live after the lease', async () => {
    const database = await postgres!.create();
    cleanups.push(() => database.dispose());
    const databaseUrl = database.options.databaseUrl!;
    const storage = await tempDataDir();
    cleanups.push(() => rm(storage, { recursive: true, force: true }));

    const a = await node(databaseUrl, storage);
    const b = await node(databaseUrl, storage);
    const c = await node(databaseUrl, storage);
    const client = new Conifer({ url: a.url, apiKey: TEST_API_KEY });
    const byUrl = async () => new Map((await client.clusterNodes()).nodes.map((n) => [n.url, n]));

    const all = await byUrl();
    for (const child of [a, b, c]) expect(all.get(child.url)).toMatchObject({ state: 'active', live: true });
    // Another node answers with the same membership.
    const fromB = await new Conifer({ url: b.url, apiKey: TEST_API_KEY }).clusterNodes();
    expect(fromB.nodes.map((n) => n.id).sort()).toEqual([...all.values()].map((n) => n.id).sort());

    b.process.kill('SIGTERM');
    expect(await b.exited).toBe(0);
    expect((await byUrl()).has(b.url)).toBe(false);

    c.process.kill('SIGKILL');
    await c.exited;
    const { leaseMs } = await client.clusterNodes();
    expect((await byUrl()).get(c.url)?.live).toBe(true); // still within its lease
    await sleep(leaseMs + 500);
    const after = await byUrl();
    expect(after.get(c.url)).toMatchObject({ live: false });
    expect(after.get(c.url)!.sinceHeartbeatMs).toBeGreaterThanOrEqual(leaseMs);
    expect(after.get(a.url)).toMatchObject({ live: true });
  });
});
