import { afterAll, describe, expect, it } from 'vitest';
import { postgresTestBackend } from '@conifer/control/testing';
import { TEST_API_KEY } from './test-support.ts';
import { ClusterFixture } from './cluster-support.ts';

/**
 * A namespace's metadata schema in a cluster: created through one gateway, it is what every other
 * node describes and enforces (the control-plane database they share holds it), and it goes with
 * its namespace whichever node deletes it.
 */
const postgres = postgresTestBackend();

describe.skipIf(postgres === undefined)('namespace schemas across a cluster (PostgreSQL, local-disk store)', () => {
  const cluster = new ClusterFixture();
  afterAll(() => cluster.close());

  it('describes and enforces a schema created through one gateway on another, and forgets it on deletion through either', async () => {
    const shared = await cluster.shared();
    await cluster.node('writer', shared);
    const gatewayA = await cluster.node('gateway', shared);
    const gatewayB = await cluster.node('gateway', shared);
    const headers = { 'api-key': TEST_API_KEY, 'content-type': 'application/json' };
    const created = await fetch(`${gatewayA.url}/indexes`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: 'schemas', dimension: 2, metric: 'cosine', spec: { serverless: { cloud: 'aws', region: 'us-east-1' } } }),
    });
    expect(created.status).toBe(201);
    const path = new URL(((await created.json()) as { host: string }).host).pathname;
    const at = (gateway: { url: string }, route: string, body?: unknown) =>
      fetch(`${gateway.url}${path}${route}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });

    const schema = { fields: { genre: { filterable: true } } };
    const described = { name: 'movies', record_count: 0, schema, indexed_fields: { fields: ['genre'] } };
    expect(await (await at(gatewayA, '/namespaces', { name: 'movies', schema })).json()).toEqual(described);
    expect(await (await at(gatewayB, '/namespaces/movies')).json()).toEqual(described);
    expect(await (await at(gatewayB, '/namespaces')).json()).toEqual({ namespaces: [described], total_count: 1 });

    const filtered = (gateway: { url: string }, field: string) => at(gateway, '/vectors/fetch_by_metadata', { namespace: 'movies', filter: { [field]: 'x' } });
    const refusal = await filtered(gatewayB, 'year');
    expect(refusal.status).toBe(400);
    expect(((await refusal.json()) as { message: string }).message).toBe(
      'filter.year: metadata field "year" is not in the indexed fields of namespace "movies" (genre): only the fields its schema marks "filterable": true can be filtered on',
    );
    expect((await filtered(gatewayB, 'genre')).status).toBe(200);
    expect((await filtered(gatewayA, 'year')).status).toBe(400); // now cached on A

    // Deleted through B: gone for A too (its cache forgets within the index cache's TTL, 1 s).
    expect((await fetch(`${gatewayB.url}${path}/namespaces/movies`, { method: 'DELETE', headers })).status).toBe(200);
    expect((await at(gatewayA, '/vectors/upsert', { namespace: 'movies', vectors: [{ id: 'a', values: [1, 2] }] })).status).toBe(200);
    expect(await (await at(gatewayA, '/namespaces/movies')).json()).toEqual({ name: 'movies', record_count: 1 });
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await filtered(gatewayA, 'year')).status).toBe(200);
  }, 120_000);
});
