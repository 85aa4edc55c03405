import { afterAll, describe, expect, it } from 'vitest';
import { namespaceRoutingKey, rank } from '@conifer/cluster';
import { createControlPlane } from '@conifer/control';
import { postgresTestBackend } from '@conifer/control/testing';
import { Conifer, type ClusterNamespace } from '@conifer/sdk';
import { TEST_API_KEY } from './test-support.ts';
import { ClusterFixture, type ClusterShared } from './cluster-support.ts';

/**
 * The operators' view of a cluster of processes (a gateway, two writers, one query node on one
 * PostgreSQL database and one store): `GET /admin/cluster/namespaces` names, for each namespace,
 * the writer that owns it by rendezvous over the live writers, the query node serving it, the
 * writer's epoch and LSN and the replica's lag; `GET /admin/cluster/jobs` answers.
 */
const postgres = postgresTestBackend();
const INDEX = 'owned';
// Node ids are random, so which writer owns a namespace is too: with 24 namespaces over two writers,
// one writer owning all of them (which the test rules out below) has odds of 2 in 2^24; with 8 it
// was 1 in 128 and happened.
const NAMESPACES = ['', ...Array.from({ length: 23 }, (_, i) => `ns-${i}`)];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(postgres === undefined)('cluster console: namespace ownership and replica lag across processes (PostgreSQL, local-disk store)', () => {
  const cluster = new ClusterFixture();
  afterAll(() => cluster.close());

  const node = (roles: string, shared: ClusterShared) => cluster.node(roles, shared);

  it('names each namespace’s owner writer and serving query node, with the writer’s LSN and the replica’s lag', async () => {
    const shared = await cluster.shared();

    const gateway = await node('gateway', shared);
    const writers = [await node('writer', shared), await node('writer', shared)];
    const query = await node('query', shared);
    const client = new Conifer({ url: gateway.url, apiKey: TEST_API_KEY });
    await client.createIndex({ name: INDEX, dimension: 2, metric: 'euclidean' });
    const ns = client.index(INDEX);
    const lsns = new Map<string, number>();
    for (const name of NAMESPACES) lsns.set(name, (await ns.namespace(name).upsert([{ id: 'r', values: [1, 2] }])).lsn!);

    const control = await createControlPlane({ databaseUrl: shared.databaseUrl });
    cluster.onClose(() => control.close());
    const { projectId } = (await control.authenticate(TEST_API_KEY))!;
    const indexId = (await control.indexes.get(projectId, INDEX)).id;
    const members = (await client.clusterNodes()).nodes.filter((n) => n.live);
    const liveWriters = members.filter((n) => writers.some((w) => w.url === n.url));
    const queryNode = members.find((n) => n.url === query.url)!;
    expect(liveWriters).toHaveLength(2);
    const ownerOf = (name: string) => rank(namespaceRoutingKey(indexId, name), liveWriters)[0]!;

    // The gateway routes on the membership it last read (refreshed every second): wait until it has every node.
    let view: { singleProcess: boolean; totalCount: number; namespaces: ClusterNamespace[] } | undefined;
    for (let attempt = 0; attempt < 50; attempt++) {
      view = await client.clusterNamespaces({ index: INDEX });
      if (view.namespaces.every((n) => n.writer?.id === ownerOf(n.namespace).id && n.query !== null)) break;
      await sleep(100);
    }
    // The first writes may have reached a writer before the gateway saw the other one; one more
    // write per namespace, routed on the full membership, reaches each owner, which takes over.
    for (const name of NAMESPACES) lsns.set(name, (await ns.namespace(name).upsert([{ id: 'r', values: [1, 2] }])).lsn!);
    view = await client.clusterNamespaces({ index: INDEX });
    expect(view!.singleProcess).toBe(false);
    expect(view!.totalCount).toBe(NAMESPACES.length);
    const owners = new Set<string>();
    for (const row of view!.namespaces) {
      const owner = ownerOf(row.namespace);
      owners.add(owner.id);
      expect(row, row.namespace).toMatchObject({
        recordCount: 1,
        writer: { id: owner.id, url: owner.url },
        query: { id: queryNode.id, url: queryNode.url },
        takenOver: true,
      });
      expect(row.error).toBeUndefined();
      expect(row.writerEpoch).toBeGreaterThanOrEqual(1);
      expect(row.writtenLsn).toBeGreaterThanOrEqual(lsns.get(row.namespace)!);
      expect(row.appliedLsn).not.toBeNull();
      expect(row.lagLsn).toBe(Math.max(0, row.writtenLsn! - row.appliedLsn!));
      expect(row.lagLsn).toBeGreaterThanOrEqual(0);
    }
    // Two dozen namespaces over two writers: both own some (rendezvous spreads them).
    expect(owners.size).toBe(2);

    // Once the replica has read everything (a strong read refreshes it), it trails by nothing.
    await ns.namespace('ns-0').fetch(['r'], { consistency: 'strong' });
    const a = (await client.clusterNamespaces({ index: INDEX })).namespaces.find((n) => n.namespace === 'ns-0')!;
    expect(a).toMatchObject({ appliedLsn: a.writtenLsn, lagLsn: 0 });

    // No indexer: writers build their own compactions; the queue answers all the same.
    expect((await client.clusterJobs()).jobs).toEqual([]);
  });
});
