import { afterAll, describe, expect, it } from 'vitest';
import { namespaceRoutingKey, rank } from '@conifer/cluster';
import { createControlPlane } from '@conifer/control';
import { postgresTestBackend } from '@conifer/control/testing';
import { Conifer } from '@conifer/sdk';
import { TEST_API_KEY } from './test-support.ts';
import { ClusterFixture, type ClusterShared } from './cluster-support.ts';

/**
 * The read path of a cluster: two gateways, one writer and two query nodes as separate processes
 * on one PostgreSQL database and one store. A write through one gateway is read back through the
 * other with its LSN as the minimum (read-your-writes), every read says the LSN it reflects, a
 * default read catches up by itself, and reads keep answering when a query node is killed.
 */
const postgres = postgresTestBackend();
const INDEX = 'replicated';
const PAIRS = 150;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(postgres === undefined)('cluster reads: gateways, a writer and query replicas (PostgreSQL, local-disk store)', () => {
  const cluster = new ClusterFixture();
  afterAll(() => cluster.close());

  const node = (roles: string, shared: ClusterShared) => cluster.node(roles, shared, { CONIFER_MEMTABLE_MAX_RECORDS: '50', CONIFER_GC_GRACE_MS: '0' });

  it('reads a write through another gateway with its LSN, says what it reflects, and survives losing a query node', async () => {
    const shared = await cluster.shared();

    const gatewayA = await node('gateway', shared);
    const gatewayB = await node('gateway', shared);
    await node('writer', shared);
    const queries = [await node('query', shared), await node('query', shared)];
    const client = new Conifer({ url: gatewayA.url, apiKey: TEST_API_KEY });
    await client.createIndex({ name: INDEX, dimension: 2, metric: 'euclidean' });
    const described = (await (await fetch(`${gatewayA.url}/indexes/${INDEX}`, { headers: { 'api-key': TEST_API_KEY } })).json()) as { host: string };
    const host = new URL(described.host).pathname;
    const headers = { 'api-key': TEST_API_KEY, 'content-type': 'application/json' };
    const upsert = async (namespace: string, id: string) => {
      const res = await fetch(`${gatewayA.url}${host}/vectors/upsert`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ namespace, vectors: [{ id, values: [1, 2] }] }),
      });
      expect(res.status).toBe(200);
      return Number(res.headers.get('x-pinecone-request-lsn'));
    };
    const fetchFromB = (namespace: string, id: string, extra: Record<string, string> = {}) =>
      fetch(`${gatewayB.url}${host}/vectors/fetch?ids=${id}&namespace=${namespace}`, { headers: { 'api-key': TEST_API_KEY, ...extra } });

    // Read-your-writes across gateways: every pair, each read with the write's LSN as its minimum.
    let stalenessChecks = 0;
    for (let i = 0; i < PAIRS; i++) {
      const namespace = `ns${i % 5}`;
      const lsn = await upsert(namespace, `r${i}`);
      const res = await fetchFromB(namespace, `r${i}`, { 'x-conifer-min-lsn': String(lsn) });
      expect(res.status).toBe(200);
      expect(Object.keys(((await res.json()) as { vectors: object }).vectors)).toEqual([`r${i}`]);
      expect(Number(res.headers.get('x-pinecone-max-indexed-lsn'))).toBeGreaterThanOrEqual(lsn);
    }

    // A default read catches up by itself within the refresh interval and a store round trip.
    const lags: number[] = [];
    for (let i = 0; i < 30; i++) {
      const id = `late${i}`;
      await upsert('lag', id);
      const written = Date.now();
      for (;;) {
        const res = await fetchFromB('lag', id);
        if (Object.keys(((await res.json()) as { vectors: object }).vectors).length > 0) break;
        stalenessChecks++;
        expect(Date.now() - written).toBeLessThan(3_000);
        await sleep(5);
      }
      lags.push(Date.now() - written);
    }
    lags.sort((a, b) => a - b);

    // A strong read needs no LSN to see the latest write.
    const lsn = await upsert('strong', 'now');
    const strong = await fetchFromB('strong', 'now', { 'x-conifer-consistency': 'strong' });
    expect(Object.keys(((await strong.json()) as { vectors: object }).vectors)).toEqual(['now']);
    expect(Number(strong.headers.get('x-pinecone-max-indexed-lsn'))).toBe(lsn);

    // Queries search the slabs their query node's replica holds, and the node counts those bytes.
    const queried = async () => {
      let sum = 0;
      for (const q of queries) {
        const text = await (await fetch(`${q.url}/metrics`)).text();
        sum += Number(/^conifer_replica_slab_bytes_queried (\d+)$/m.exec(text)?.[1] ?? Number.NaN);
      }
      return sum;
    };
    // (60 records: the memtable holds 50, so a slab is flushed.)
    for (let i = 0; i < 60; i++) await upsert('slabbed', `s${i}`);
    const before = await queried();
    const query = await fetch(`${gatewayB.url}${host}/query`, {
      method: 'POST',
      headers: { ...headers, 'x-conifer-consistency': 'strong' },
      body: JSON.stringify({ namespace: 'slabbed', vector: [1, 2], topK: 3 }),
    });
    expect(query.status).toBe(200);
    expect(await queried()).toBeGreaterThan(before);

    // A sparse-only index through the cluster: the writer flushes slabs with postings, the query
    // nodes' replicas answer from them (the index's vector type travels with every node call).
    await client.createIndex({ name: 'lexical', vectorType: 'sparse' });
    const sparseHost = new URL(
      ((await (await fetch(`${gatewayA.url}/indexes/lexical`, { headers: { 'api-key': TEST_API_KEY } })).json()) as { host: string }).host,
    ).pathname;
    const sparseVectors = Array.from({ length: 60 }, (_, i) => ({ id: `w${i}`, sparseValues: { indices: [i % 7, 100 + i], values: [1, i] } }));
    const sparseUpsert = await fetch(`${gatewayA.url}${sparseHost}/vectors/upsert`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ vectors: sparseVectors }),
    });
    expect(sparseUpsert.status).toBe(200);
    const sparseQuery = await fetch(`${gatewayB.url}${sparseHost}/query`, {
      method: 'POST',
      headers: { ...headers, 'x-conifer-consistency': 'strong' },
      body: JSON.stringify({ sparseVector: { indices: [3, 152], values: [1, 1] }, topK: 2 }),
    });
    expect(sparseQuery.status).toBe(200);
    // w52: 1 (dimension 3) + 52 (dimension 152); then the lowest id among the other dimension-3 rows.
    expect(((await sparseQuery.json()) as { matches: { id: string; score: number }[] }).matches).toEqual([
      { id: 'w52', score: 53 },
      { id: 'w10', score: 1 },
    ]);

    // Killing the query node that serves ns0: its reads fall through to the other one, with no error.
    const control = await createControlPlane({ databaseUrl: shared.databaseUrl });
    cluster.onClose(() => control.close());
    const { projectId } = (await control.authenticate(TEST_API_KEY))!;
    const indexId = (await control.indexes.get(projectId, INDEX)).id;
    const members = (await client.clusterNodes()).nodes.filter((n) => queries.some((q) => q.url === n.url));
    const servesNs0 = queries.find((q) => q.url === rank(namespaceRoutingKey(indexId, 'ns0'), members)[0]!.url)!;
    servesNs0.process.kill('SIGKILL');
    await servesNs0.exited;
    let errors = 0;
    for (let i = 0; i < 50; i++) {
      const res = await fetchFromB(`ns${i % 5}`, `r${i}`);
      if (res.status !== 200) errors++;
      else expect(Object.keys(((await res.json()) as { vectors: object }).vectors)).toEqual([`r${i}`]);
    }
    expect(errors).toBe(0);
    console.log(
      `cluster reads: ${PAIRS}/${PAIRS} read-your-writes pairs across gateways; default-read staleness p50 ${lags[15]} ms, max ${lags[29]} ms over 30 writes (${stalenessChecks} stale reads seen)`,
    );
  });
});
