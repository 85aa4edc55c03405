import { describe, expect, it } from 'vitest';
import { createControlPlane } from './control-plane.ts';
import { newNodeId, type NodeAnnouncement } from './membership.ts';
import { NodeHeartbeat } from './node-heartbeat.ts';
import { backends, pgliteTemplateDump } from './testing/backends.ts';
import { useControlPlane } from './testing/harness.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function node(roles: NodeAnnouncement['roles'] = ['gateway', 'writer', 'query', 'indexer']): NodeAnnouncement {
  return { id: newNodeId(), roles, url: 'http://127.0.0.1:5080', state: 'active' };
}

describe.each(backends())('cluster membership on $name', (backend) => {
  const shared = useControlPlane(backend);

  it('keeps one row per node, refreshed by each heartbeat, live while younger than the lease', async () => {
    const { cp } = shared;
    const writer = node(['writer']);
    const query = { ...node(['query', 'gateway']), url: 'http://10.0.0.7:5080' };
    await cp.membership.heartbeat(writer);
    await cp.membership.heartbeat(query);
    const first = (await cp.membership.nodes(60_000)).filter((n) => n.id === writer.id || n.id === query.id);
    expect(first.map((n) => [n.id, n.roles, n.url, n.state, n.live])).toEqual([
      [writer.id, ['writer'], writer.url, 'active', true],
      [query.id, ['query', 'gateway'], 'http://10.0.0.7:5080', 'active', true],
    ]);

    await sleep(300);
    await cp.membership.heartbeat({ ...writer, state: 'draining' });
    const later = await cp.membership.nodes(200);
    const w = later.find((n) => n.id === writer.id)!;
    const q = later.find((n) => n.id === query.id)!;
    // Judged by the database's clock: the writer just beat, the query node has been silent ~300 ms.
    expect(w).toMatchObject({ state: 'draining', live: true });
    expect(w.heartbeatAt.getTime()).toBeGreaterThan(first[0]!.heartbeatAt.getTime());
    expect(w.startedAt).toEqual(first[0]!.startedAt);
    expect(q.live).toBe(false);
    expect(q.sinceHeartbeatMs).toBeGreaterThanOrEqual(250);

    await cp.membership.leave(writer.id);
    expect((await cp.membership.nodes(60_000)).map((n) => n.id)).not.toContain(writer.id);
    // Prune removes only rows older than asked.
    const fresh = node();
    await cp.membership.heartbeat(fresh);
    expect(await cp.membership.prune(200)).toBeGreaterThanOrEqual(1);
    const ids = (await cp.membership.nodes(60_000)).map((n) => n.id);
    expect(ids).toContain(fresh.id);
    expect(ids).not.toContain(query.id);
  });

  it("carries each heartbeat's memory, as of that heartbeat", async () => {
    const { cp } = shared;
    let used = 1000;
    const heartbeat = new NodeHeartbeat(cp.membership, node(), {
      everyMs: 40,
      memory: () => ({ budgetBytes: 2 ** 30, usedBytes: used, openNamespaces: 3, closedNamespaces: 1 }),
    });
    const silent = node(['writer']);
    await cp.membership.heartbeat(silent);
    await heartbeat.start();
    try {
      const memoryOf = async (id: string) => (await cp.membership.nodes(60_000)).find((n) => n.id === id)?.memory;
      expect(await memoryOf(heartbeat.node.id)).toEqual({ budgetBytes: 2 ** 30, usedBytes: 1000, openNamespaces: 3, closedNamespaces: 1 });
      used = 5000;
      await expect.poll(async () => (await memoryOf(heartbeat.node.id))?.usedBytes, { timeout: 5_000, interval: 20 }).toBe(5000);
      expect(await memoryOf(silent.id)).toBeUndefined(); // a node that did not say
    } finally {
      await heartbeat.stop();
    }
  });

  it('beats on a timer, announces draining at once, and leaves on stop', async () => {
    const { cp } = shared;
    const errors: unknown[] = [];
    const heartbeat = new NodeHeartbeat(cp.membership, node(), { everyMs: 50, onError: (e) => errors.push(e) });
    await heartbeat.start();
    const id = heartbeat.node.id;
    const at = async () => (await cp.membership.nodes(60_000)).find((n) => n.id === id);
    const first = (await at())!.heartbeatAt.getTime();
    await sleep(250);
    expect((await at())!.heartbeatAt.getTime()).toBeGreaterThan(first);
    await heartbeat.drain();
    expect((await at())!.state).toBe('draining');
    await sleep(120);
    expect((await at())!.state).toBe('draining'); // later beats keep the state
    await heartbeat.stop();
    await heartbeat.stop();
    expect(await at()).toBeUndefined();
    expect(errors).toEqual([]);
  });
});

describe.each(backends().filter((b) => b.sharedAccess))('membership across nodes on $name', (backend) => {
  it('two control planes on one database see each other', async () => {
    const database = await backend.create();
    const a = await createControlPlane(database.options);
    const b = await createControlPlane(database.options);
    try {
      const na = node(['writer']);
      const nb = node(['query']);
      await a.membership.heartbeat(na);
      await b.membership.heartbeat(nb);
      for (const cp of [a, b]) expect((await cp.membership.nodes(60_000)).map((n) => n.id).sort()).toEqual([na.id, nb.id].sort());
    } finally {
      await a.close();
      await b.close();
      await database.dispose();
    }
  });
});

it('forgets nodes silent for longer than asked, checking on its own cadence', async () => {
  const cp = await createControlPlane({ pgliteDump: await pgliteTemplateDump() });
  const heartbeat = new NodeHeartbeat(cp.membership, node(), { everyMs: 30, forgetAfterMs: 200, forgetCheckMs: 60 });
  try {
    const dead = node();
    await cp.membership.heartbeat(dead);
    await heartbeat.start();
    const ids = async () => (await cp.membership.nodes(60_000)).map((n) => n.id);
    expect(await ids()).toContain(dead.id);
    await expect.poll(ids, { timeout: 5_000, interval: 50 }).not.toContain(dead.id);
    expect(await ids()).toContain(heartbeat.node.id); // its own row is fresh: never forgotten
  } finally {
    await heartbeat.stop();
    await cp.close();
  }
});

it('a heartbeat that fails is reported and the timer goes on', async () => {
  const cp = await createControlPlane({ pgliteDump: await pgliteTemplateDump() });
  let failures = 0;
  let calls = 0;
  const flaky = {
    ...cp.membership,
    heartbeat: async (n: NodeAnnouncement) => {
      calls++;
      // Fault injection: the database refusing a few heartbeats (a restart), which a live
      // PGlite cannot be made to do on demand.
      if (calls >= 2 && calls <= 3) throw new Error('connection refused');
      await cp.membership.heartbeat(n);
    },
  };
  const heartbeat = new NodeHeartbeat(flaky, node(), { everyMs: 30, onError: () => failures++ });
  try {
    await heartbeat.start();
    await sleep(250);
    expect(failures).toBe(2);
    expect(calls).toBeGreaterThan(4);
    expect((await cp.membership.nodes(60_000)).map((n) => n.id)).toContain(heartbeat.node.id);
  } finally {
    await heartbeat.stop();
    await cp.close();
  }
});
