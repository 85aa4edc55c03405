import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  AlreadyExistsError,
  Conifer,
  ConnectionError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  UnavailableError,
  type CallOptions,
  type ReadOptions,
} from '@conifer/sdk';
import { freePort, uniqueIndexName, useServer } from './test-support.ts';

describe('server over the SDK', () => {
  const running = useServer();

  it('runs the full index and record lifecycle', async () => {
    const { client } = running();
    const name = uniqueIndexName('docs');

    const created = await client.createIndex({ name, dimension: 3, metric: 'cosine', tags: { team: 'search' } });
    expect(created).toMatchObject({ name, dimension: 3, metric: 'cosine', status: 'ready', deletionProtection: 'disabled', tags: { team: 'search' } });
    await expect(client.createIndex({ name, dimension: 3 })).rejects.toBeInstanceOf(AlreadyExistsError);
    expect((await client.listIndexes()).indexes.map((i) => i.name)).toContain(name);
    expect(await client.describeIndex(name)).toEqual(created);

    const ns = client.index(name).namespace('ns1');
    expect(
      await ns.upsert([
        { id: 'a', values: [0.1, 0.2, 0.3], metadata: { genre: 'drama', year: 2019 } },
        { id: 'b', values: [0.3, 0.2, 0.1], metadata: { genre: 'comedy' } },
        { id: 'c', values: [0.1, 0.25, 0.3], metadata: { genre: 'drama', tags: ['x', 'y'] } },
      ]),
    ).toMatchObject({ upsertedCount: 3 });
    await client.index(name).upsert([{ id: 'd', values: [1, 1, 1] }]);

    const { matches } = await ns.query({ vector: [0.1, 0.2, 0.3], topK: 5, filter: { genre: { $eq: 'drama' } }, includeMetadata: true });
    expect(matches.map((m) => m.id)).toEqual(['a', 'c']);
    expect(matches[0]!.score).toBeCloseTo(1, 5);
    expect(matches[0]!.metadata).toEqual({ genre: 'drama', year: 2019 });

    const fetched = await ns.fetch(['a', 'missing']);
    expect(Object.keys(fetched.records)).toEqual(['a']);
    // Values come back as sent (shortest decimal of the stored float32).
    expect(fetched.records.a!.values).toEqual([0.1, 0.2, 0.3]);

    expect(await ns.update({ id: 'a', setMetadata: { year: 2020 } })).toMatchObject({ matchedRecords: 1 });
    expect((await ns.fetch(['a'])).records.a!.metadata).toEqual({ genre: 'drama', year: 2020 });

    const page = await ns.listPaginated({ limit: 2 });
    expect(page.ids).toEqual(['a', 'b']);
    expect((await ns.listPaginated({ limit: 2, paginationToken: page.pagination!.next })).ids).toEqual(['c']);
    expect((await ns.listPaginated({ prefix: 'b' })).ids).toEqual(['b']);

    expect(await client.index(name).describeIndexStats()).toEqual({
      dimension: 3,
      vectorType: 'dense',
      metric: 'cosine',
      totalRecordCount: 4,
      storageBytes: expect.any(Number),
      namespaces: { '': { recordCount: 1 }, ns1: { recordCount: 3 } },
    });
    expect((await client.index(name).listNamespaces()).namespaces).toEqual(
      expect.arrayContaining([
        { name: '', recordCount: 1 },
        { name: 'ns1', recordCount: 3 },
      ]),
    );
    expect(await client.index(name).describeNamespace('ns1')).toEqual({ name: 'ns1', recordCount: 3 });
    expect((await client.index(name).namespaceInternals('ns1')).writtenLsn).toBeGreaterThan(0);

    await ns.deleteOne('b');
    await ns.deleteMany({ filter: { year: { $eq: 2020 } } });
    expect((await ns.listPaginated()).ids).toEqual(['c']);
    await ns.deleteMany(['c']);
    expect((await ns.listPaginated()).ids).toEqual([]);
    await client.index(name).deleteAll();
    expect((await client.index(name).fetch(['d'])).records).toEqual({});

    await ns.upsert([{ id: 'e', values: [1, 2, 3] }]);
    await client.index(name).deleteNamespace('ns1');
    expect((await client.index(name).describeIndexStats()).totalRecordCount).toBe(0);

    const configured = await client.configureIndex(name, { deletionProtection: 'enabled', tags: { env: 'prod', team: '' } });
    expect(configured).toMatchObject({ deletionProtection: 'enabled', tags: { env: 'prod' } });
    await expect(client.deleteIndex(name)).rejects.toBeInstanceOf(PermissionDeniedError);
    await client.configureIndex(name, { deletionProtection: 'disabled' });
    await client.deleteIndex(name);
    await expect(client.describeIndex(name)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('tells the SDK which field of bad input is at fault, from the schemas, the engine and the control plane', async () => {
    const { client } = running();
    const name = uniqueIndexName('fields');
    await client.createIndex({ name, dimension: 3 });
    const ns = client.index(name).namespace('ns1');
    const issuesOf = async (call: Promise<unknown>) => {
      const error = await call.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidArgumentError);
      return (error as InvalidArgumentError).issues;
    };
    expect(
      await issuesOf(
        ns.upsert([
          { id: 'a', values: [1, 2, 3] },
          { id: '', values: [1, 2, 3] },
        ]),
      ),
    ).toEqual([{ path: ['records', 1, 'id'], message: 'must be 1–512 characters' }]);
    expect(
      await issuesOf(
        ns.upsert([
          { id: 'a', values: [1, 2, 3] },
          { id: 'b', values: [1, 2] },
        ]),
      ),
    ).toEqual([{ path: ['records', 1, 'values'], message: 'Vector dimension 2 does not match the dimension of the index 3' }]);
    expect(await issuesOf(client.createIndex({ name: uniqueIndexName('cloud'), dimension: 3, cloud: 'Not A Cloud' }))).toEqual([
      { path: ['cloud'], message: "must consist of a-z, 0-9 and '-'" },
    ]);
    // Shaped like a date (the schema passes it), but no such day: the control plane names the field.
    expect(await issuesOf(client.usage({ from: '2026-02-30' }))).toEqual([{ path: ['from'], message: 'must be a date YYYY-MM-DD' }]);
    // Nothing of the rejected batches was written.
    expect((await ns.fetch(['a', 'b'])).records).toEqual({});
  });

  describe('read consistency', () => {
    afterEach(() => {
      vi.restoreAllMocks();
    });

    it('passes consistency and minLsn of every read to the data plane and returns the LSN each read reflects', async () => {
      const { client, server } = running();
      const name = uniqueIndexName('fresh');
      await client.createIndex({ name, dimension: 2, metric: 'euclidean' });
      const ns = client.index(name).namespace('ns');
      await ns.upsert([{ id: 'a', values: [1, 2], metadata: { kind: 'x' } }]);
      const { lsn } = await ns.upsert([{ id: 'b', values: [2, 1], metadata: { kind: 'x' } }]);
      // Another namespace's later write is not this namespace's LSN.
      await client
        .index(name)
        .namespace('other')
        .upsert([{ id: 'z', values: [1, 1] }]);
      const engine = server.engine!;
      const reads = {
        query: { spy: vi.spyOn(engine, 'query'), read: (read?: ReadOptions & CallOptions) => ns.query({ vector: [1, 2], topK: 2 }, read) },
        fetch: { spy: vi.spyOn(engine, 'fetch'), read: (read?: ReadOptions & CallOptions) => ns.fetch(['a', 'b'], read) },
        fetchByMetadata: {
          spy: vi.spyOn(engine, 'fetchByMetadata'),
          read: (read?: ReadOptions & CallOptions) => ns.fetchByMetadata({ filter: { kind: 'x' } }, read),
        },
        list: { spy: vi.spyOn(engine, 'list'), read: (read?: ReadOptions & CallOptions) => ns.listPaginated({}, read) },
      };
      for (const [what, { spy, read }] of Object.entries(reads)) {
        expect((await read({ consistency: 'strong', minLsn: lsn })).indexedLsn, what).toBe(lsn);
        expect(spy.mock.lastCall?.[3], what).toEqual({ consistency: 'strong', minLsn: lsn });
        expect((await read({ consistency: 'eventual', minLsn: 0 })).indexedLsn, what).toBe(lsn);
        expect(spy.mock.lastCall?.[3], what).toEqual({ consistency: 'eventual', minLsn: 0 });
        expect((await read()).indexedLsn, what).toBe(lsn);
        expect(spy.mock.lastCall?.[3], what).toEqual({ consistency: undefined, minLsn: undefined });

        // Without retries: a retried 503 would only end the same way, seconds later.
        const ahead = await read({ minLsn: lsn + 1, retry: false }).catch((e: unknown) => e);
        expect(ahead, what).toBeInstanceOf(UnavailableError);
        expect((ahead as Error).message, what).toContain(`short of the ${lsn + 1} asked for`);
      }
      expect(Object.keys((await ns.fetch(['a', 'b'], { minLsn: lsn })).records)).toEqual(['a', 'b']);
    });

    it('refuses read options out of range, naming the field', async () => {
      const { client, server } = running();
      const name = uniqueIndexName('fresh');
      await client.createIndex({ name, dimension: 2 });
      const ns = client.index(name);
      const spy = vi.spyOn(server.engine!, 'fetch');
      const issuesOf = async (read: ReadOptions) => {
        const error = await ns.fetch(['a'], read).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidArgumentError);
        return (error as InvalidArgumentError).issues;
      };
      expect(await issuesOf({ consistency: 'linearizable' as 'strong' })).toEqual([{ path: ['consistency'], message: 'must be "eventual" or "strong"' }]);
      const lsnIssue = [{ path: ['minLsn'], message: 'must be an integer from 0 to 9007199254740991' }];
      for (const minLsn of [-1, 1.5, Number.MAX_SAFE_INTEGER + 1, '5' as unknown as number])
        expect(await issuesOf({ minLsn }), String(minLsn)).toEqual(lsnIssue);
      expect(spy).not.toHaveBeenCalled();
    });
  });

  it('joins the cluster membership while it runs, with every role, and leaves it on close', async () => {
    const { client, server, url } = running();
    const { leaseMs, nodes } = await client.clusterNodes();
    expect(leaseMs).toBe(server.control.config.nodeLeaseMs);
    const self = nodes.find((n) => n.id === server.nodeId);
    expect(self).toMatchObject({ url, state: 'active', live: true, roles: ['gateway', 'writer', 'query', 'indexer'] });
    expect(self!.sinceHeartbeatMs).toBeLessThan(leaseMs);
  });

  it('accepts the key as a bearer token too', async () => {
    const { url } = running();
    const response = await fetch(`${url}/trpc/indexes.list`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer cnf_test_admin_key_0123456789abcdef' },
    });
    expect(response.status).toBe(200);
  });

  it('answers /healthz', async () => {
    const response = await fetch(`${running().url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('exports request metrics by procedure and status', async () => {
    const { client, url } = running();
    await client.listIndexes();
    await expect(client.describeIndex('nope')).rejects.toBeInstanceOf(NotFoundError);
    await fetch(`${url}/trpc/no.such.procedure`, { method: 'POST', headers: { 'content-type': 'application/json' } });
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toMatch(/conifer_requests_total\{procedure="indexes.list",status="200"\} \d+/);
    expect(text).toMatch(/conifer_requests_total\{procedure="indexes.describe",status="404"\} \d+/);
    expect(text).toMatch(/conifer_requests_total\{procedure="unknown",status="404"\} \d+/);
    expect(text).toMatch(/conifer_request_duration_seconds_bucket\{le="0.1",procedure="indexes.list",status="200"\} \d+/);
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('answers unknown routes with a JSON 404', async () => {
    const response = await fetch(`${running().url}/nope`);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: 'NOT_FOUND' }, status: 404 });
  });

  it('answers a known path asked with another method with 405 and Allow, before reading any body', async () => {
    const { url } = running();
    const answer = async (method: string, path: string, headers: Record<string, string> = {}) => {
      const response = await fetch(`${url}${path}`, { method, headers });
      return { status: response.status, allow: response.headers.get('allow'), body: method === 'HEAD' ? undefined : await response.json() };
    };
    expect(await answer('PUT', '/indexes/docs')).toEqual({
      status: 405,
      allow: 'DELETE, GET, HEAD, PATCH',
      body: { error: { code: 'NOT_FOUND', message: 'Method PUT is not allowed on /indexes/docs; allowed: DELETE, GET, HEAD, PATCH.' }, status: 405 },
    });
    expect(await answer('OPTIONS', '/projects/p/indexes/docs/describe_index_stats')).toMatchObject({ status: 405, allow: 'GET, HEAD, POST' });
    // QUERY declares a body: without a content type Fastify would refuse it with a 400 while parsing.
    expect(await answer('QUERY', '/admin/api-keys/key_1')).toMatchObject({ status: 405, allow: 'DELETE' });
    // Every GET route answers HEAD too (here: 401, the key is missing), so HEAD is never 405 there.
    expect(await answer('HEAD', '/indexes')).toMatchObject({ status: 401 });
    expect((await answer('PATCH', '/nope')).status).toBe(404);
  });
});

describe('SDK without a server', () => {
  it('throws ConnectionError when nothing listens', async () => {
    const port = await freePort();
    const client = new Conifer({ url: `http://127.0.0.1:${port}`, apiKey: 'whatever' });
    const error = await client.listIndexes().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as Error).message).toContain(`127.0.0.1:${port}`);
  });
});
