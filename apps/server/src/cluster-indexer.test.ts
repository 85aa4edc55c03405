import { existsSync, readdirSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createControlPlane } from '@conifer/control';
import { autogroupNiceness, threadNiceness } from '@conifer/index-builder';
import { postgresTestBackend } from '@conifer/control/testing';
import { Conifer } from '@conifer/sdk';
import { TEST_API_KEY } from './test-support.ts';
import { ClusterFixture, type ClusterShared } from './cluster-support.ts';

/**
 * The index builder as a role: a writer without it queues its compactions in PostgreSQL, and
 * indexer processes build them. An indexer killed between storing its output and reporting
 * (the failpoint `indexer:before-complete`) leaves the job to another once its heartbeat lapses;
 * the writer commits the swap and nothing written is lost.
 */
const postgres = postgresTestBackend();
const INDEX = 'built';

/** The nice values of every thread of process `pid`. */
const threadsNiceness = (pid: number) => readdirSync(`/proc/${pid}/task`).map((tid) => threadNiceness(Number(tid), pid));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(postgres === undefined)('cluster indexers: compactions built by other processes (PostgreSQL, local-disk store)', () => {
  const cluster = new ClusterFixture();
  afterAll(() => cluster.close());

  const node = (roles: string, shared: ClusterShared, env: Record<string, string> = {}, options: { detached?: boolean } = {}) =>
    cluster.node(roles, shared, { CONIFER_MEMTABLE_MAX_RECORDS: '40', CONIFER_COMPACTION_TRIGGER: '2', CONIFER_GC_GRACE_MS: '0', ...env }, options);

  it('builds a writer’s compactions on indexer nodes, and finishes the job of one killed mid-job on another', async () => {
    const shared = await cluster.shared();
    const control = await createControlPlane({ databaseUrl: shared.databaseUrl });
    cluster.onClose(() => control.close());

    const gateway = await node('gateway', shared);
    await node('writer', shared);
    // The first indexer dies the first time it is about to report a finished build.
    const doomed = await node('indexer', shared, { CONIFER_FAILPOINTS: 'indexer:before-complete@1' });
    const client = new Conifer({ url: gateway.url, apiKey: TEST_API_KEY });
    await client.createIndex({ name: INDEX, dimension: 4, metric: 'euclidean' });
    const ns = client.index(INDEX).namespace('n');
    const ids: string[] = [];
    const write = async (from: number, count: number) => {
      for (let i = from; i < from + count; i += 20) {
        const batch = Array.from({ length: 20 }, (_, j) => ({ id: `r${i + j}`, values: [i + j, 1, 2, 3] }));
        await ns.upsert(batch);
        ids.push(...batch.map((r) => r.id));
      }
    };
    await write(0, 200);
    // Flushes of 40 records and a trigger of 2 queue a compaction, which the doomed indexer takes.
    expect(await doomed.exited).not.toBe(0);
    expect(doomed.stderr()).toContain('failpoint indexer:before-complete@1: SIGKILL');

    // Another indexer claims the job once the dead one's heartbeat lapses, and finishes it.
    const rescuer = await node('indexer', shared);
    const deadline = Date.now() + 30_000;
    let jobs = await control.indexJobs.list({ limit: 50 });
    while (!jobs.some((j) => j.state === 'done' && j.attempts >= 2) && Date.now() < deadline) {
      await sleep(200);
      jobs = await control.indexJobs.list({ limit: 50 });
    }
    const retried = jobs.find((j) => j.state === 'done' && j.attempts >= 2);
    expect(retried, JSON.stringify(jobs, null, 1)).toBeDefined();
    const members = (await client.clusterNodes()).nodes;
    expect(members.find((m) => m.id === retried!.claimedBy)?.url).toBe(rescuer.url);

    // More writes keep compacting through the queue; the writer commits every swap it gets.
    await write(200, 200);
    const settle = Date.now() + 30_000;
    let described = await client.index(INDEX).namespaceInternals('n');
    while (described.compactions < 2 && Date.now() < settle) {
      await sleep(200);
      described = await client.index(INDEX).namespaceInternals('n');
    }
    expect(described.compactions).toBeGreaterThanOrEqual(2);
    const done = (await control.indexJobs.list({ limit: 100 })).filter((j) => j.state === 'done');
    expect(done.length).toBeGreaterThanOrEqual(2);
    // Everything written is there.
    for (let i = 0; i < ids.length; i += 100) {
      const { records } = await ns.fetch(ids.slice(i, i + 100));
      expect(Object.keys(records)).toHaveLength(Math.min(100, ids.length - i));
    }
    console.log(`cluster indexers: ${done.length} jobs built by indexers; the killed one's job finished on attempt ${retried!.attempts}`);
  });

  it.runIf(process.platform === 'linux')(
    'runs an indexer-only node at the compaction niceness (19 unless set), its scheduling group too when it leads its own session; a writer keeps its priority',
    async () => {
      const shared = await cluster.shared();
      const env = { CONIFER_COMPACTION_NICENESS: '12' };
      const writer = await node('writer', shared, env, { detached: true });
      const indexer = await node('indexer', shared, env, { detached: true });
      expect(Math.min(...threadsNiceness(indexer.process.pid!))).toBeGreaterThanOrEqual(12);
      expect(threadNiceness(writer.process.pid!, writer.process.pid!)).toBe(threadNiceness(process.pid)); // the writer's event loop
      if (existsSync('/proc/self/autogroup')) {
        expect(autogroupNiceness(indexer.process.pid!)).toBe(12);
        expect(autogroupNiceness(writer.process.pid!)).toBe(0);
      }
      // Unless told otherwise, an indexer-only node takes the lowest priority.
      const byDefault = await node('indexer', shared, {}, { detached: true });
      expect(Math.min(...threadsNiceness(byDefault.process.pid!))).toBe(19);
      if (existsSync('/proc/self/autogroup')) expect(autogroupNiceness(byDefault.process.pid!)).toBe(19);
      // Inside the starter's session (the test runner's here) the shared group keeps its priority.
      const inSession = await node('indexer', shared, env);
      expect(Math.min(...threadsNiceness(inSession.process.pid!))).toBeGreaterThanOrEqual(12);
      if (existsSync('/proc/self/autogroup')) expect(autogroupNiceness(inSession.process.pid!)).toBe(autogroupNiceness(process.pid));
    },
  );
});
