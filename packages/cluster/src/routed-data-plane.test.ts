import { describe, expect, it } from 'vitest';
import { InternalError } from '@conifer/core';
import type { ClusterNode, Membership, NodeRole } from '@conifer/control';
import type { IndexHandle, NamespaceInternals } from '@conifer/engine';
import type { DataCall } from './internal-protocol.ts';
import { NodeUnreachableError, type NodeClient } from './node-client.ts';
import { NodeDirectory } from './node-directory.ts';
import { namespaceRoutingKey, rank } from './rendezvous.ts';
import { RoutedDataPlane } from './routed-data-plane.ts';

const INDEX: IndexHandle = { id: 'idx_placement', dimension: 2, metric: 'cosine' };

function member(id: string, roles: NodeRole[]): ClusterNode {
  return { id, roles, url: `http://${id}`, state: 'active', startedAt: new Date(0), heartbeatAt: new Date(0), sinceHeartbeatMs: 0, live: true };
}

function internals(writtenLsn: number): NamespaceInternals {
  return {
    name: 'ns',
    writtenLsn,
    flushedLsn: 0,
    manifestVersion: 2,
    writerEpoch: 1,
    owner: true,
    memtable: { records: 0, bytes: 0, grouped: 0 },
    slabs: [],
    compactions: 0,
    flushes: 0,
  };
}

/**
 * A gateway's routing data plane over a fixed membership and a stand-in for the node client: each
 * node answers `describeNamespace` with its own LSN, or refuses the connection, or fails.
 */
function gateway(nodes: ClusterNode[], answers: Record<string, number | 'refused' | 'fails'>) {
  const calls: { url: string; call: DataCall }[] = [];
  const membership = { nodes: async () => nodes } as unknown as Membership;
  const directory = new NodeDirectory({ membership, leaseMs: 3_000, refreshMs: 60_000 });
  const client = {
    async data(url: string, call: DataCall) {
      calls.push({ url, call });
      const answer = answers[url.slice('http://'.length)];
      if (answer === 'refused') throw new NodeUnreachableError(url, false, new Error('ECONNREFUSED'));
      if (answer === 'fails' || answer === undefined) throw new InternalError('describe failed');
      return internals(answer);
    },
  } as unknown as NodeClient;
  return { data: new RoutedDataPlane({ directory, client }), calls };
}

describe('RoutedDataPlane.describePlacement', () => {
  const writers = [member('w1', ['writer']), member('w2', ['writer']), member('w3', ['writer'])];
  const queries = [member('q1', ['query']), member('q2', ['query'])];
  const owner = (ns: string) => rank(namespaceRoutingKey(INDEX.id, ns), writers)[0]!.id;
  const server = (ns: string) => rank(namespaceRoutingKey(INDEX.id, ns), queries)[0]!.id;

  it('names the rendezvous owner and serving query node, each with its own description, the replica first', async () => {
    for (const ns of ['', 'a', 'b', 'c', 'd']) {
      const answers = Object.fromEntries([...writers, ...queries].map((n) => [n.id, n.roles.includes('writer') ? 50 : 45]));
      const { data, calls } = gateway([...writers, ...queries], answers);
      const placement = await data.describePlacement(INDEX, ns);
      expect(placement.writer).toEqual({ node: { id: owner(ns), url: `http://${owner(ns)}` }, internals: internals(50) });
      expect(placement.query).toEqual({ node: { id: server(ns), url: `http://${server(ns)}` }, internals: internals(45) });
      expect(calls.map((c) => [c.url, c.call.op, c.call.role ?? 'writer'])).toEqual([
        [`http://${server(ns)}`, 'describeNamespace', 'query'],
        [`http://${owner(ns)}`, 'describeNamespace', 'writer'],
      ]);
    }
  });

  it('has no query node without query nodes, and names the node that answered when the first refuses', async () => {
    const ns = 'fallthrough';
    const refused = owner(ns);
    const next = rank(namespaceRoutingKey(INDEX.id, ns), writers)[1]!.id;
    const { data } = gateway(writers, { w1: 1, w2: 2, w3: 3, [refused]: 'refused' });
    const placement = await data.describePlacement(INDEX, ns);
    expect(placement.query).toBeNull();
    expect(placement.writer).toMatchObject({ node: { id: next } });
  });

  it('says why a node could not describe the namespace, and null when no writer is live', async () => {
    const ns = 'errors';
    const { data } = gateway([...writers, ...queries], { w1: 'fails', w2: 'fails', w3: 'fails', q1: 'fails', q2: 'fails' });
    const placement = await data.describePlacement(INDEX, ns);
    expect(placement.writer).toEqual({ node: { id: owner(ns), url: `http://${owner(ns)}` }, error: 'describe failed' });
    expect(placement.query).toEqual({ node: { id: server(ns), url: `http://${server(ns)}` }, error: 'describe failed' });
    const none = await gateway(queries, { q1: 1, q2: 1 }).data.describePlacement(INDEX, ns);
    expect(none.writer).toBeNull();
    expect(none.query).toMatchObject({ internals: internals(1) });
  });
});

describe('RoutedDataPlane.upsert', () => {
  it('sends the records to the owning writer (the node client frames them as float32), with the index and namespace', async () => {
    const writers = [member('w1', ['writer'])];
    const sent: { url: string; call: unknown; records: unknown }[] = [];
    const membership = { nodes: async () => writers } as unknown as Membership;
    const directory = new NodeDirectory({ membership, leaseMs: 3_000, refreshMs: 60_000 });
    const client = {
      async upsertRecords(url: string, call: unknown, records: unknown) {
        sent.push({ url, call, records });
        return { upsertedCount: 2, lsn: 7 };
      },
    } as unknown as NodeClient;
    const records = [
      { id: 'a', values: new Float32Array([0.1, -2.5]) },
      { id: 'b', values: [3, 4], metadata: { k: 'v' } },
    ];
    const result = await new RoutedDataPlane({ directory, client }).upsert(INDEX, 'ns', records);
    expect(result).toEqual({ upsertedCount: 2, lsn: 7 });
    expect(sent).toEqual([{ url: writers[0]!.url, call: { index: INDEX, namespace: 'ns' }, records }]);
  });
});
