import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { postgresTestBackend } from '@conifer/control/testing';
import { Conifer } from '@conifer/sdk';
import { tempDataDir, TEST_API_KEY } from './test-support.ts';
import { ClusterFixture } from './cluster-support.ts';

/**
 * A restart of the cluster's PostgreSQL (on a server of this test's own: the shared test server
 * must not go down under other suites) while clients write and read through the gateway: the data
 * path keeps serving from the membership, API keys and indexes last read, and the nodes heartbeat
 * again once the database is back.
 */
const postgres = postgresTestBackend();
const PG_TOOLS = fileURLToPath(new URL('../../../tools/postgres/', import.meta.url));
const DOWN_SECONDS = 3;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(postgres === undefined)('a PostgreSQL restart under a cluster', () => {
  const cluster = new ClusterFixture();
  afterAll(() => cluster.close());

  it('keeps writes and reads answering while the database is down, and heartbeats resume after', async () => {
    // A directory start.sh creates itself: the server's system user must be able to reach it.
    const pgDir = path.join(tmpdir(), `conifer-pg-restart-${randomBytes(6).toString('hex')}`);
    const pgEnv = { ...process.env, CONIFER_PG_DIR: pgDir };
    const out = execFileSync('bash', [path.join(PG_TOOLS, 'start.sh')], { env: pgEnv, encoding: 'utf8' });
    cluster.onClose(async () => {
      execFileSync('bash', [path.join(PG_TOOLS, 'stop.sh')], { env: pgEnv });
      await rm(pgDir, { recursive: true, force: true });
    });
    const databaseUrl = /CONIFER_TEST_DATABASE_URL=(\S+)/.exec(out)![1]!;
    const storage = await tempDataDir();
    cluster.onClose(() => rm(storage, { recursive: true, force: true }));
    const node = (roles: string) => cluster.node(roles, { databaseUrl, storage });
    const gateway = await node('gateway');
    await node('writer');
    await node('query');
    const client = new Conifer({ url: gateway.url, apiKey: TEST_API_KEY });
    await client.createIndex({ name: 'steady', dimension: 2, metric: 'euclidean' });
    const ns = client.index('steady').namespace('n');

    let stop = false;
    let ok = 0;
    const failures: string[] = [];
    let seq = 0;
    const loop = async () => {
      while (!stop) {
        const id = `r${seq++}`;
        try {
          const { lsn } = await ns.upsert([{ id, values: [seq, 1] }]);
          const { records } = await ns.fetch([id], { minLsn: lsn });
          expect(records[id]).toBeDefined();
          ok++;
        } catch (err) {
          failures.push(err instanceof Error ? err.message : String(err));
        }
        await sleep(20);
      }
    };
    const running = [loop(), loop()];
    await sleep(1_000);
    const okBefore = ok;
    // Not execFileSync: the clients must keep running on this event loop meanwhile.
    await promisify(execFile)('bash', [path.join(PG_TOOLS, 'restart.sh'), String(DOWN_SECONDS)], { env: pgEnv });
    const okDuringRestart = ok - okBefore;
    await sleep(1_500);
    stop = true;
    await Promise.all(running);

    expect(failures, `gateway output:\n${gateway.stdout().slice(-3000)}\n${gateway.stderr().slice(-3000)}`).toEqual([]);
    expect(okDuringRestart).toBeGreaterThan(DOWN_SECONDS * 10);
    // The database is back: the nodes heartbeat again and the membership reads live nodes.
    const deadline = Date.now() + 10_000;
    let live = 0;
    while (Date.now() < deadline) {
      live = (await client.clusterNodes()).nodes.filter((n) => n.live).length;
      if (live === 3) break;
      await sleep(200);
    }
    expect(live).toBe(3);
    console.log(`postgres restart: ${ok} write+read pairs, ${okDuringRestart} of them while the database was down (${DOWN_SECONDS} s) or restarting, 0 failed`);
  });
});
