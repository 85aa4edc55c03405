import { afterAll, describe, expect, it } from 'vitest';
import { namespaceRoutingKey, rank } from '@conifer/cluster';
import { createControlPlane } from '@conifer/control';
import { postgresTestBackend } from '@conifer/control/testing';
import { Conifer } from '@conifer/sdk';
import { TEST_API_KEY, type Child } from './test-support.ts';
import { ClusterFixture, type ClusterShared } from './cluster-support.ts';

/**
 * A cluster as `CONIFER_ROLES` makes one: a gateway and three writers as separate processes on one
 * PostgreSQL database and one object store (local disk), talking over loopback with the cluster
 * secret. Clients write through the gateway while writers are killed (SIGKILL) and paused
 * (SIGSTOP, then SIGCONT): another writer takes each namespace over, and every acknowledged write
 * is there afterwards, once, at an LSN no other acknowledged write has.
 */
const postgres = postgresTestBackend();
const INDEX = 'clustered';
const NAMESPACES = ['n0', 'n1', 'n2', 'n3', 'n4', 'n5'];
const CLIENTS_PER_NAMESPACE = 2;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Ack {
  namespace: string;
  id: string;
  lsn: number;
  /** When the write was sent: a failover is measured by writes sent after the fault. */
  sentAt: number;
  ackedAt: number;
}

describe.skipIf(postgres === undefined)('a cluster of a gateway and three writers (PostgreSQL, local-disk store)', () => {
  const cluster = new ClusterFixture();
  afterAll(() => cluster.close());

  const node = (roles: string, shared: ClusterShared) => cluster.node(roles, shared, { CONIFER_MEMTABLE_MAX_RECORDS: '200', CONIFER_GC_GRACE_MS: '0' });

  it('fails writes over to another writer after SIGKILL and after SIGSTOP, losing and duplicating no acknowledged write', async () => {
    const shared = await cluster.shared();

    const gateway = await node('gateway', shared);
    const writers = [await node('writer', shared), await node('writer,query,indexer', shared), await node('writer', shared)];
    const client = new Conifer({ url: gateway.url, apiKey: TEST_API_KEY });
    await client.createIndex({ name: INDEX, dimension: 4, metric: 'euclidean' });

    // Which writer owns each namespace, as every gateway computes it.
    const control = await createControlPlane({ databaseUrl: shared.databaseUrl });
    cluster.onClose(() => control.close());
    const { projectId } = (await control.authenticate(TEST_API_KEY))!;
    const indexId = (await control.indexes.get(projectId, INDEX)).id;
    const members = (await client.clusterNodes()).nodes;
    expect(members.filter((n) => n.roles.includes('writer'))).toHaveLength(3);
    expect(members.find((n) => n.url === gateway.url)?.roles).toEqual(['gateway']);
    const ownerOf = (namespace: string, among: Child[]) => {
      const nodes = members.filter((n) => among.some((w) => w.url === n.url));
      const winner = rank(namespaceRoutingKey(indexId, namespace), nodes)[0]!;
      return among.find((w) => w.url === winner.url)!;
    };

    // The node-internal endpoint takes the cluster secret and nothing else.
    const internal = await fetch(`${writers[1]!.url}/internal/v1/data`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ op: 'fetch', index: { id: indexId, dimension: 4, metric: 'euclidean' }, namespace: 'n0', input: ['x'] }),
    });
    expect(internal.status).toBe(401);
    // A writer serves no public API.
    expect((await fetch(`${writers[1]!.url}/indexes`, { headers: { 'api-key': TEST_API_KEY } })).status).toBe(404);

    const acks: Ack[] = [];
    const failures: string[] = [];
    let stop = false;
    let seq = 0;
    const writeLoop = async (namespace: string) => {
      const ns = client.index(INDEX).namespace(namespace);
      while (!stop) {
        const id = `${namespace}-${seq++}`;
        const sentAt = Date.now();
        try {
          const { lsn } = await ns.upsert([{ id, values: [seq, 1, 2, 3] }]);
          acks.push({ namespace, id, lsn, sentAt, ackedAt: Date.now() });
        } catch (err) {
          failures.push(err instanceof Error ? err.message : String(err));
          await sleep(50);
        }
      }
    };
    const loops = NAMESPACES.flatMap((ns) => Array.from({ length: CLIENTS_PER_NAMESPACE }, () => writeLoop(ns)));
    /** Time from `after` to the first acknowledgement in `namespaces` of a write sent after it (the in-flight ones do not count). */
    const firstAckAfter = async (namespaces: string[], after: number) => {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const acked = acks.filter((a) => namespaces.includes(a.namespace) && a.sentAt > after);
        if (acked.length > 0) return Math.min(...acked.map((a) => a.ackedAt)) - after;
        if (Date.now() > deadline) return Infinity;
        await sleep(20);
      }
    };
    await sleep(1_500);

    // SIGKILL of a writer: its namespaces move to the next writer in rank.
    const victim = ownerOf('n0', writers);
    const victimNamespaces = NAMESPACES.filter((ns) => ownerOf(ns, writers) === victim);
    const killedAt = Date.now();
    victim.process.kill('SIGKILL');
    expect(victimNamespaces.length).toBeGreaterThan(0);
    const failoverMs = await firstAckAfter(victimNamespaces, killedAt);
    expect(failoverMs).toBeLessThan(5_000);
    await sleep(1_000);

    // SIGSTOP of a writer with writes in flight: once its lease lapses the gateway routes around
    // it and another writer takes over; SIGCONT wakes a zombie whose writes must not be acknowledged.
    const alive = writers.filter((w) => w !== victim);
    const paused = ownerOf('n0', alive);
    const pausedNamespaces = NAMESPACES.filter((ns) => ownerOf(ns, alive) === paused);
    const pausedAt = Date.now();
    paused.process.kill('SIGSTOP');
    expect(pausedNamespaces.length).toBeGreaterThan(0);
    const takeoverMs = await firstAckAfter(pausedNamespaces, pausedAt);
    // Within the lease, the membership refresh, and one request.
    expect(takeoverMs).toBeLessThan(8_000);
    await sleep(500);
    paused.process.kill('SIGCONT');
    await sleep(1_500);
    stop = true;
    await Promise.all(loops);

    // Every acknowledged write is there, and no two acknowledged writes of a namespace share an LSN.
    for (const namespace of NAMESPACES) {
      const mine = acks.filter((a) => a.namespace === namespace);
      expect(mine.length, `writes acknowledged in ${namespace}`).toBeGreaterThan(0);
      expect(new Set(mine.map((a) => a.lsn)).size, `distinct LSNs in ${namespace}`).toBe(mine.length);
      const ids = mine.map((a) => a.id);
      for (let i = 0; i < ids.length; i += 1000) {
        const { records } = await client
          .index(INDEX)
          .namespace(namespace)
          .fetch(ids.slice(i, i + 1000));
        for (const id of ids.slice(i, i + 1000)) expect(records[id], `acknowledged ${id} lost`).toBeDefined();
      }
    }
    // Failed writes were refused as unavailable (503), never as server errors.
    expect(failures.filter((m) => !/unavailable|taken over|unreachable|stopped answering|retry/i.test(m))).toEqual([]);
    console.log(
      `cluster: ${acks.length} writes acknowledged, ${failures.length} refused; first write after SIGKILL of the owner in ${failoverMs} ms, after SIGSTOP in ${takeoverMs} ms`,
    );
  });
});
