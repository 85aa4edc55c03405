import { connect } from 'node:net';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status, type ServiceError } from '@grpc/grpc-js';
import { startServer, tempDataDir, TEST_API_KEY, type RunningServer } from '../test-support.ts';
import { toStruct } from './struct.ts';
import { call, freePortRange, vectorClient, type VectorClient } from './testing.ts';

type Running = RunningServer & { stop(): Promise<void> };

const DIMENSION = 4;
const vector = (i: number): number[] => [1, i, i * i, 1 / (i + 1)].map((x) => Math.fround(x / (1 + i * i)));

async function createIndex(url: string, name: string, apiKey = TEST_API_KEY): Promise<{ host: string }> {
  const response = await fetch(`${url}/indexes`, {
    method: 'POST',
    headers: { 'api-key': apiKey, 'content-type': 'application/json' },
    body: JSON.stringify({ name, dimension: DIMENSION, metric: 'cosine', spec: { serverless: { cloud: 'aws', region: 'us-east-1' } } }),
  });
  expect(response.status).toBe(201);
  return (await response.json()) as { host: string };
}

async function describeIndex(url: string, name: string): Promise<{ host: string }> {
  const response = await fetch(`${url}/indexes/${name}`, { headers: { 'api-key': TEST_API_KEY } });
  expect(response.status).toBe(200);
  return (await response.json()) as { host: string };
}

const grpcError = async (promise: Promise<unknown>): Promise<ServiceError> => {
  try {
    await promise;
  } catch (error) {
    return error as ServiceError;
  }
  throw new Error('the call succeeded');
};

describe('gRPC data plane on index ports (CONIFER_INDEX_HOSTS=ports)', () => {
  let server: Running;
  let range: { first: number; last: number };
  let dataDir: string;
  let host: string;
  let client: VectorClient;
  const env = (): Record<string, string> => ({ CONIFER_DATA_DIR: dataDir, CONIFER_INDEX_HOSTS: 'ports', CONIFER_INDEX_PORTS: `${range.first}-${range.last}` });

  beforeAll(async () => {
    range = await freePortRange(8);
    dataDir = await tempDataDir();
    server = await startServer(env());
    ({ host } = await createIndex(server.url, 'docs'));
    client = vectorClient(host.replace(/^http:\/\//, ''));
  }, 60_000);

  afterAll(async () => {
    client?.close();
    await server?.stop();
    // The server was given this directory, so its stop() leaves it.
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  });

  it('describes each index at a port of its own, on the host name the client used', async () => {
    const port = Number(new URL(host).port);
    expect(host).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(port).toBeGreaterThanOrEqual(range.first);
    expect(port).toBeLessThanOrEqual(range.last);
    const other = await createIndex(server.url, 'other');
    expect(other.host).not.toBe(host);
    const viaLocalhost = await fetch(`${server.url.replace('127.0.0.1', 'localhost')}/indexes/docs`, { headers: { 'api-key': TEST_API_KEY } });
    expect(((await viaLocalhost.json()) as { host: string }).host).toBe(`http://localhost:${port}`);
  });

  it('serves an index created through any face (the SDK here) on its port as soon as the create answers', async () => {
    await server.client.createIndex({ name: 'via-sdk', dimension: DIMENSION, metric: 'cosine' });
    const { host: sdkHost } = await describeIndex(server.url, 'via-sdk');
    const sdkClient = vectorClient(sdkHost.replace(/^http:\/\//, ''));
    try {
      const stats = await call<{ dimension: number }>(sdkClient, 'DescribeIndexStats', {}, TEST_API_KEY);
      expect(stats.response.dimension).toBe(DIMENSION);
      expect((await fetch(`${sdkHost}/describe_index_stats`, { headers: { 'api-key': TEST_API_KEY } })).status).toBe(200);
    } finally {
      sdkClient.close();
    }
    await server.client.deleteIndex('via-sdk');
  });

  it('runs a round trip: upsert, query with a filter, fetch, update, list, stats, namespaces, delete', async () => {
    const vectors = Array.from({ length: 20 }, (_, i) => ({
      id: `doc-${String(i).padStart(2, '0')}`,
      values: vector(i),
      metadata: toStruct({ genre: i % 2 === 0 ? 'drama' : 'comedy', year: 2000 + i, tags: ['a', `t${i}`] }),
    }));
    const upsert = await call<{ upsertedCount: number }>(client, 'Upsert', { vectors, namespace: 'ns1' }, TEST_API_KEY);
    expect(upsert.response.upsertedCount).toBe(20);
    expect(Number(upsert.metadata.get('x-pinecone-request-lsn')[0])).toBeGreaterThan(0);

    const query = await call<{ matches: { id: string; score: number; metadata: { fields: Record<string, { stringValue?: string }> } }[]; namespace: string }>(
      client,
      'Query',
      { namespace: 'ns1', topK: 5, vector: vector(4), filter: toStruct({ genre: { $eq: 'drama' } }), includeMetadata: true },
      TEST_API_KEY,
    );
    expect(query.response.namespace).toBe('ns1');
    expect(query.response.matches).toHaveLength(5);
    expect(query.response.matches[0]!.id).toBe('doc-04');
    for (const match of query.response.matches) expect(match.metadata.fields.genre!.stringValue).toBe('drama');
    const scores = query.response.matches.map((m) => m.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);

    // The same query through REST on the same port gives the same matches.
    const rest = await fetch(`${host}/query`, {
      method: 'POST',
      headers: { 'api-key': TEST_API_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ namespace: 'ns1', topK: 5, vector: vector(4), filter: { genre: { $eq: 'drama' } } }),
    });
    expect(rest.status).toBe(200);
    expect(((await rest.json()) as { matches: { id: string }[] }).matches.map((m) => m.id)).toEqual(query.response.matches.map((m) => m.id));

    const byId = await call<{ matches: { id: string }[] }>(client, 'Query', { namespace: 'ns1', topK: 1, id: 'doc-07' }, TEST_API_KEY);
    expect(byId.response.matches[0]!.id).toBe('doc-07');

    const fetched = await call<{ vectors: Record<string, { id: string; values: number[] }> }>(
      client,
      'Fetch',
      { ids: ['doc-01', 'nope'], namespace: 'ns1' },
      TEST_API_KEY,
    );
    expect(Object.keys(fetched.response.vectors)).toEqual(['doc-01']);
    expect(fetched.response.vectors['doc-01']!.values).toEqual(vector(1));

    const updated = await call<{ matchedRecords: number }>(
      client,
      'Update',
      { id: 'doc-01', namespace: 'ns1', setMetadata: toStruct({ genre: 'drama' }) },
      TEST_API_KEY,
    );
    expect(updated.response.matchedRecords).toBe(1);
    const byFilter = await call<{ matchedRecords: number }>(
      client,
      'Update',
      { namespace: 'ns1', filter: toStruct({ year: { $gte: 2015 } }), setMetadata: toStruct({ late: true }) },
      TEST_API_KEY,
    );
    expect(byFilter.response.matchedRecords).toBe(5);
    const dramas = await call<{ vectors: Record<string, unknown> }>(
      client,
      'FetchByMetadata',
      { namespace: 'ns1', filter: toStruct({ genre: 'drama' }), limit: 100 },
      TEST_API_KEY,
    );
    expect(Object.keys(dramas.response.vectors)).toHaveLength(11);

    const page = await call<{ vectors: { id: string }[]; pagination?: { next: string } }>(
      client,
      'List',
      { namespace: 'ns1', prefix: 'doc-1', limit: 4 },
      TEST_API_KEY,
    );
    expect(page.response.vectors.map((v) => v.id)).toEqual(['doc-10', 'doc-11', 'doc-12', 'doc-13']);
    const next = await call<{ vectors: { id: string }[]; pagination?: { next: string } }>(
      client,
      'List',
      { namespace: 'ns1', prefix: 'doc-1', limit: 100, paginationToken: page.response.pagination!.next },
      TEST_API_KEY,
    );
    expect(next.response.vectors.map((v) => v.id)).toEqual(['doc-14', 'doc-15', 'doc-16', 'doc-17', 'doc-18', 'doc-19']);

    await call(client, 'Delete', { ids: ['doc-00', 'doc-01'], namespace: 'ns1' }, TEST_API_KEY);
    const stats = await call<{ namespaces: Record<string, { vectorCount: number }>; dimension: number; totalVectorCount: number; metric: string }>(
      client,
      'DescribeIndexStats',
      {},
      TEST_API_KEY,
      { 'x-conifer-consistency': 'strong' },
    );
    expect(stats.response).toMatchObject({ dimension: DIMENSION, totalVectorCount: 18, metric: 'cosine' });
    expect(stats.response.namespaces.ns1!.vectorCount).toBe(18);

    const created = await call<{ name: string; recordCount: number }>(client, 'CreateNamespace', { name: 'empty' }, TEST_API_KEY);
    expect(created.response).toMatchObject({ name: 'empty', recordCount: 0 });
    const described = await call<{ name: string; recordCount: number }>(client, 'DescribeNamespace', { namespace: 'ns1' }, TEST_API_KEY);
    expect(described.response).toMatchObject({ name: 'ns1', recordCount: 18 });
    const listed = await call<{ namespaces: { name: string }[]; totalCount: number }>(client, 'ListNamespaces', {}, TEST_API_KEY);
    expect(listed.response.namespaces.map((n) => n.name)).toEqual(['empty', 'ns1']);
    await call(client, 'DeleteNamespace', { namespace: 'empty' }, TEST_API_KEY);
    const gone = await grpcError(call(client, 'DescribeNamespace', { namespace: 'empty' }, TEST_API_KEY));
    expect(gone.code).toBe(status.NOT_FOUND);

    await call(client, 'Delete', { deleteAll: true, namespace: 'ns1' }, TEST_API_KEY);
    const after = await call<{ vectors: Record<string, unknown> }>(client, 'Fetch', { ids: ['doc-05'], namespace: 'ns1' }, TEST_API_KEY, {
      'x-conifer-consistency': 'strong',
    });
    expect(after.response.vectors).toEqual({});
  });

  it('answers bad input, bad keys and the wrong address with the status codes Pinecone uses', async () => {
    const wrongKey = await grpcError(call(client, 'Query', { topK: 1, vector: vector(1) }, 'not-a-key-0123456789'));
    expect(wrongKey.code).toBe(status.UNAUTHENTICATED);

    const dimension = await grpcError(call(client, 'Upsert', { vectors: [{ id: 'x', values: [1, 2, 3] }] }, TEST_API_KEY));
    expect(dimension.code).toBe(status.INVALID_ARGUMENT);
    expect(dimension.details).toMatch(/dimension/);
    expect(dimension.details).toMatch(/vectors/);

    const topK = await grpcError(call(client, 'Query', { topK: 0, vector: vector(1) }, TEST_API_KEY));
    expect(topK.code).toBe(status.INVALID_ARGUMENT);
    expect(topK.details).toMatch(/topK/);

    const multi = await grpcError(call(client, 'Query', { topK: 1, queries: [{ values: vector(1) }] }, TEST_API_KEY));
    expect(multi.code).toBe(status.INVALID_ARGUMENT);

    const consistency = await grpcError(call(client, 'Fetch', { ids: ['a'] }, TEST_API_KEY, { 'x-conifer-consistency': 'always' }));
    expect(consistency.code).toBe(status.INVALID_ARGUMENT);
    expect(consistency.details).toMatch(/x-conifer-consistency/);

    // The main port serves no index's data plane, and says where to go.
    const main = vectorClient(server.url.replace(/^http:\/\//, ''));
    try {
      const noIndex = await grpcError(call(main, 'Query', { topK: 1, vector: vector(1) }, TEST_API_KEY));
      expect(noIndex.code).toBe(status.FAILED_PRECONDITION);
      expect(noIndex.details).toMatch(/describe_index/);
    } finally {
      main.close();
    }
    // REST on the main port is unchanged beside it, and counts the gRPC calls with its own.
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/conifer_requests_total\{procedure="\/VectorService\/Query",status="401"\} [1-9]/);
    expect(metrics).toMatch(/conifer_requests_total\{procedure="\/VectorService\/Upsert",status="400"\} [1-9]/);
  });

  it("keeps a project's indexes from another project's keys", async () => {
    const project = await fetch(`${server.url}/admin/projects`, {
      method: 'POST',
      headers: { 'api-key': TEST_API_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'tenant-b' }),
    });
    expect(project.status).toBeLessThan(300);
    const otherKey = ((await project.json()) as { apiKey: string }).apiKey;
    expect(typeof otherKey).toBe('string');
    const denied = await grpcError(call(client, 'Fetch', { ids: ['doc-02'], namespace: 'ns1' }, otherKey));
    expect(denied.code).toBe(status.NOT_FOUND);
    const rest = await fetch(`${host}/vectors/fetch?ids=doc-02&namespace=ns1`, { headers: { 'api-key': otherKey } });
    expect(rest.status).toBe(404);
  });

  it('stores a namespace schema: answers it with indexedFields, refuses filters on other fields, and keeps it across a restart', async () => {
    interface Described {
      name: string;
      recordCount: number;
      schema?: { fields: Record<string, { filterable: boolean }> };
      indexedFields?: { fields: string[] };
    }
    const schema = { fields: { genre: { filterable: true }, year: { filterable: true }, notes: { filterable: false } } };
    const stored = { fields: { genre: { filterable: true }, notes: { filterable: false }, year: { filterable: true } } };
    const created = await call<Described>(client, 'CreateNamespace', { name: 'schema-ns', schema }, TEST_API_KEY);
    // (The test client decodes proto3 `optional` fields with their synthetic oneof names beside them: toMatchObject.)
    expect(created.response).toMatchObject({ name: 'schema-ns', recordCount: 0, schema: stored, indexedFields: { fields: ['genre', 'year'] } });
    // Without a schema, neither field is set.
    const plain = await call<Described>(client, 'CreateNamespace', { name: 'schema-less' }, TEST_API_KEY);
    expect(plain.response).toEqual({ name: 'schema-less', recordCount: 0 });
    // A schema of no fields indexes none.
    const none = await call<Described>(client, 'CreateNamespace', { name: 'schema-none', schema: { fields: {} } }, TEST_API_KEY);
    expect(none.response).toMatchObject({ schema: { fields: {} }, indexedFields: { fields: [] } });

    const vectors = [0, 1, 2].map((i) => ({
      id: `s${i}`,
      values: vector(i),
      metadata: toStruct({ genre: i === 0 ? 'drama' : 'comedy', year: 2000 + i, notes: 'n' }),
    }));
    await call(client, 'Upsert', { vectors, namespace: 'schema-ns' }, TEST_API_KEY);
    const described = await call<Described>(client, 'DescribeNamespace', { namespace: 'schema-ns' }, TEST_API_KEY);
    expect(described.response).toMatchObject({ name: 'schema-ns', recordCount: 3, schema: stored, indexedFields: { fields: ['genre', 'year'] } });
    const listed = await call<{ namespaces: Described[] }>(client, 'ListNamespaces', { prefix: 'schema-' }, TEST_API_KEY);
    expect(listed.response.namespaces.map((n) => [n.name, n.indexedFields?.fields ?? null])).toEqual([
      ['schema-less', null],
      ['schema-none', []],
      ['schema-ns', ['genre', 'year']],
    ]);

    const refused = async (method: string, request: object) => {
      const error = await grpcError(call(client, method, request, TEST_API_KEY));
      expect(error.code).toBe(status.INVALID_ARGUMENT);
      expect(error.details).toBe(
        'filter.notes: metadata field "notes" is not in the indexed fields of namespace "schema-ns" (genre, year): only the fields its schema marks "filterable": true can be filtered on',
      );
    };
    const notes = toStruct({ notes: { $eq: 'n' } });
    await refused('Query', { namespace: 'schema-ns', topK: 3, vector: vector(0), filter: notes });
    await refused('FetchByMetadata', { namespace: 'schema-ns', filter: notes, limit: 10 });
    await refused('Update', { namespace: 'schema-ns', filter: notes, setMetadata: toStruct({ seen: true }) });
    await refused('Delete', { namespace: 'schema-ns', filter: notes });
    const drama = await call<{ matches: { id: string }[] }>(
      client,
      'Query',
      { namespace: 'schema-ns', topK: 3, vector: vector(0), filter: toStruct({ genre: 'drama' }) },
      TEST_API_KEY,
    );
    expect(drama.response.matches.map((m) => m.id)).toEqual(['s0']);

    // The schema is durable: a restarted server describes and enforces it as before.
    client.close();
    await server.stop();
    server = await startServer(env());
    client = vectorClient(host.replace(/^http:\/\//, ''));
    const again = await call<Described>(client, 'DescribeNamespace', { namespace: 'schema-ns' }, TEST_API_KEY);
    expect(again.response).toEqual(described.response);
    const rest = await fetch(`${host}/namespaces/schema-ns`, { headers: { 'api-key': TEST_API_KEY } });
    expect(await rest.json()).toEqual({ name: 'schema-ns', record_count: 3, schema: stored, indexed_fields: { fields: ['genre', 'year'] } });
    await refused('Query', { namespace: 'schema-ns', topK: 3, vector: vector(0), filter: notes });
    await call(client, 'DeleteNamespace', { namespace: 'schema-ns' }, TEST_API_KEY);
    await call(client, 'Upsert', { vectors, namespace: 'schema-ns' }, TEST_API_KEY);
    const recreated = await call<Described>(client, 'DescribeNamespace', { namespace: 'schema-ns' }, TEST_API_KEY);
    expect(recreated.response).toEqual({ name: 'schema-ns', recordCount: 3 });
  }, 60_000);

  it('keeps each index on its port across a restart, and closes the port of a deleted index', async () => {
    await call(client, 'Upsert', { vectors: [{ id: 'kept', values: vector(3) }], namespace: 'ns2' }, TEST_API_KEY);
    const before = (await describeIndex(server.url, 'docs')).host;
    client.close();
    await server.stop();
    server = await startServer(env());
    expect((await describeIndex(server.url, 'docs')).host).toBe(before);
    client = vectorClient(before.replace(/^http:\/\//, ''));
    const fetched = await call<{ vectors: Record<string, unknown> }>(client, 'Fetch', { ids: ['kept'], namespace: 'ns2' }, TEST_API_KEY);
    expect(Object.keys(fetched.response.vectors)).toEqual(['kept']);

    const other = await describeIndex(server.url, 'other');
    const deleted = await fetch(`${server.url}/indexes/other`, { method: 'DELETE', headers: { 'api-key': TEST_API_KEY } });
    expect(deleted.status).toBe(202);
    const port = Number(new URL(other.host).port);
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(true));
    });
    expect(refused).toBe(true);
  }, 60_000);
});

describe('gRPC data plane under rate limits', () => {
  let server: Running;

  beforeAll(async () => {
    const range = await freePortRange(2);
    server = await startServer({ CONIFER_INDEX_HOSTS: 'ports', CONIFER_INDEX_PORTS: `${range.first}-${range.last}`, CONIFER_RATE_QUERY_PER_NAMESPACE: '1' });
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
  });

  it('answers RESOURCE_EXHAUSTED naming the limit, as REST answers 429', async () => {
    const { host } = await createIndex(server.url, 'limited');
    const client = vectorClient(host.replace(/^http:\/\//, ''));
    try {
      const query = () => call(client, 'Query', { namespace: 'n', topK: 1, vector: vector(1) }, TEST_API_KEY);
      const outcomes = await Promise.allSettled([query(), query(), query()]);
      const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected').map((o) => o.reason as ServiceError);
      expect(outcomes.some((o) => o.status === 'fulfilled')).toBe(true);
      expect(refused.length).toBeGreaterThan(0);
      for (const error of refused) {
        expect(error.code).toBe(status.RESOURCE_EXHAUSTED);
        expect(error.details).toMatch(/query/i);
      }
    } finally {
      client.close();
    }
  });
});
