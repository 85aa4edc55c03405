import { afterAll, describe, expect, it } from 'vitest';
import { status, type ServiceError } from '@grpc/grpc-js';
import { postgresTestBackend } from '@conifer/control/testing';
import { Conifer } from '@conifer/sdk';
import { call, freePortRange, vectorClient } from './grpc/testing.ts';
import { TEST_API_KEY } from './test-support.ts';
import { ClusterFixture } from './cluster-support.ts';

/**
 * gRPC in a cluster: a gateway with `CONIFER_INDEX_HOSTS=ports` gives each index a port (assigned
 * in the shared control plane) serving REST and Pinecone's VectorService, and routes the calls to
 * the writer that owns each namespace and to query replicas — as the REST path does. A writer or
 * query node refuses `ports` (it serves no public API).
 */
const postgres = postgresTestBackend();

async function retryUnavailable<T>(attempt: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      if ((error as ServiceError).code !== status.UNAVAILABLE || tries >= 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

describe.skipIf(postgres === undefined)('a cluster gateway serving index ports (gRPC and REST)', () => {
  const cluster = new ClusterFixture();
  afterAll(() => cluster.close());

  it('serves an index over gRPC through the gateway, dense and sparse, reading its writes back', async () => {
    const shared = await cluster.shared();
    const range = await freePortRange(8);
    const gateway = await cluster.node('gateway', shared, { CONIFER_INDEX_HOSTS: 'ports', CONIFER_INDEX_PORTS: `${range.first}-${range.last}` });
    await cluster.node('writer,query,indexer', shared, { CONIFER_MEMTABLE_MAX_RECORDS: '20' });
    const client = new Conifer({ url: gateway.url, apiKey: TEST_API_KEY });
    // The gateway routes to the writers it sees in the membership table: wait until it sees this one
    // (a write before that is a retryable UNAVAILABLE, which this bare gRPC client does not retry).
    for (const deadline = Date.now() + 30_000; !(await client.clusterNodes()).nodes.some((n) => n.roles.includes('writer'));) {
      if (Date.now() > deadline) throw new Error('the gateway never saw the writer');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    for (const spec of [
      { name: 'dense', create: { name: 'dense', dimension: 2, metric: 'dotproduct' as const }, vectors: (i: number) => ({ id: `v${i}`, values: [1, i] }) },
      {
        name: 'lexical',
        create: { name: 'lexical', vectorType: 'sparse' as const },
        vectors: (i: number) => ({ id: `v${i}`, sparseValues: { indices: [i % 3, 10 + i], values: [1, i] } }),
      },
    ]) {
      await client.createIndex(spec.create);
      const described = (await (await fetch(`${gateway.url}/indexes/${spec.name}`, { headers: { 'api-key': TEST_API_KEY } })).json()) as { host: string };
      const port = Number(/^http:\/\/127\.0\.0\.1:(\d+)$/.exec(described.host)?.[1]);
      expect(port).toBeGreaterThanOrEqual(range.first);
      expect(port).toBeLessThanOrEqual(range.last);

      const grpc = vectorClient(`127.0.0.1:${port}`);
      try {
        const vectors = Array.from({ length: 50 }, (_, i) => spec.vectors(i));
        // UNAVAILABLE is retryable (Pinecone's clients retry it): the gateway's routing may not have
        // caught up with the membership table for the first write.
        const upserted = await retryUnavailable(() => call<{ upsertedCount: number }>(grpc, 'Upsert', { vectors, namespace: 'ns' }, TEST_API_KEY));
        expect(upserted.response.upsertedCount).toBe(50);
        const lsn = upserted.metadata.get('x-pinecone-request-lsn')[0];
        expect(Number(lsn)).toBeGreaterThan(0);
        // Read your write on a query replica: the write's LSN is the read's minimum.
        const query =
          spec.name === 'dense'
            ? { vector: [0, 1], topK: 2, namespace: 'ns' }
            : { sparseVector: { indices: [2, 15], values: [1, 1] }, topK: 2, namespace: 'ns' };
        const answer = await call<{ matches: { id: string; score: number }[] }>(grpc, 'Query', query, TEST_API_KEY, { 'x-conifer-min-lsn': String(lsn) });
        const matches = answer.response.matches.map((m) => [m.id, m.score]);
        // dense: v49 scores 49, v48 48; sparse: v5 has dimensions 2 and 15 (1 + 5), then v11 (dimension 2 alone) by id.
        expect(matches).toEqual(
          spec.name === 'dense'
            ? [
                ['v49', 49],
                ['v48', 48],
              ]
            : [
                ['v5', 6],
                ['v11', 1],
              ],
        );
        const stats = await call<{ totalVectorCount: number; vectorType: string }>(grpc, 'DescribeIndexStats', {}, TEST_API_KEY);
        expect(stats.response).toMatchObject({ totalVectorCount: 50, vectorType: spec.name === 'dense' ? 'dense' : 'sparse' });
        // REST on the same port reaches the same index.
        const rest = await fetch(`http://127.0.0.1:${port}/vectors/fetch?ids=v1&namespace=ns`, { headers: { 'api-key': TEST_API_KEY } });
        expect(Object.keys(((await rest.json()) as { vectors: object }).vectors)).toEqual(['v1']);
      } finally {
        grpc.close();
      }
    }
  });
});
