import { describe, expect, it } from 'vitest';
import { Conifer } from './client.ts';
import { ConnectionError } from './errors.ts';
import {
  AlreadyExistsError,
  ConiferError,
  InternalError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  UnauthenticatedError,
  UnavailableError,
} from '@conifer/core';

interface Sent {
  url: string;
  method: string;
  headers: Headers;
  body: unknown;
}

/** A client whose fetch records each request and answers with `respond`. */
function fakeClient(respond: (sent: Sent) => Response | Promise<Response>) {
  const sent: Sent[] = [];
  const fakeFetch: typeof fetch = async (input, init) => {
    const request = {
      url: String(input),
      method: init?.method ?? 'GET',
      headers: new Headers(init?.headers),
      body: init?.body ? JSON.parse(String(init.body)) : undefined,
    };
    sent.push(request);
    return respond(request);
  };
  // One attempt per call: retries are tested against the real server (apps/server sdk-resilience).
  const client = new Conifer({ url: 'http://conifer.test:5080/', apiKey: 'cnf_key', fetch: fakeFetch, retry: false });
  return { client, sent };
}

const ok = (data: unknown) => Response.json({ result: { data } });
const trpcError = (status: number, code: string, message: string) =>
  Response.json({ error: { message, code: -32600, data: { code, httpStatus: status, path: 'x' } } }, { status });

describe('Conifer requests', () => {
  it('POSTs every call to /trpc/<procedure> with the Api-Key header', async () => {
    const { client, sent } = fakeClient(() => ok({ indexes: [] }));
    await client.listIndexes();
    await client.describeIndex('docs');
    expect(sent.map((s) => [s.method, s.url])).toEqual([
      ['POST', 'http://conifer.test:5080/trpc/indexes.list'],
      ['POST', 'http://conifer.test:5080/trpc/indexes.describe'],
    ]);
    expect(sent[0]!.headers.get('api-key')).toBe('cnf_key');
    expect(sent[1]!.body).toEqual({ name: 'docs' });
  });

  it('scopes record calls to the index and namespace', async () => {
    const { client, sent } = fakeClient(() => ok({}));
    const ns = client.index('docs').namespace('ns1');
    await ns.upsert([{ id: 'a', values: [1, 2], metadata: { genre: 'drama' } }]);
    await ns.query({ vector: [1, 2], topK: 3, filter: { genre: { $eq: 'drama' } }, includeMetadata: true });
    await ns.fetch(['a']);
    await ns.update({ id: 'a', setMetadata: { year: 2020 } });
    await ns.deleteOne('a');
    await ns.deleteMany(['a', 'b']);
    await ns.deleteMany({ filter: { genre: 'drama' } });
    await ns.deleteAll();
    await ns.listPaginated({ prefix: 'a', limit: 5, paginationToken: 't' });
    await client.index('docs').describeIndexStats();
    await client.index('docs').listNamespaces();
    await client.index('docs').deleteNamespace('ns1');
    await client.index('docs').describeNamespace('ns1');
    await client.index('docs').upsert([{ id: 'z', values: [1, 2] }]);
    await ns.fetchByMetadata({ filter: { genre: 'drama' }, limit: 10 });
    await ns.update({ filter: { genre: 'drama' }, setMetadata: { seen: true }, dryRun: true });
    await client.index('docs').listNamespaces({ prefix: 'n', limit: 2 });
    await client.index('docs').createNamespace('ns2');
    await client.index('docs').namespaceInternals('ns2');

    const calls = sent.map((s) => [s.url.split('/trpc/')[1], s.body]);
    expect(calls).toEqual([
      ['data.upsert', { index: 'docs', namespace: 'ns1', records: [{ id: 'a', values: [1, 2], metadata: { genre: 'drama' } }] }],
      ['data.query', { index: 'docs', namespace: 'ns1', vector: [1, 2], topK: 3, filter: { genre: { $eq: 'drama' } }, includeMetadata: true }],
      ['data.fetch', { index: 'docs', namespace: 'ns1', ids: ['a'] }],
      ['data.update', { index: 'docs', namespace: 'ns1', id: 'a', setMetadata: { year: 2020 } }],
      ['data.delete', { index: 'docs', namespace: 'ns1', ids: ['a'] }],
      ['data.delete', { index: 'docs', namespace: 'ns1', ids: ['a', 'b'] }],
      ['data.delete', { index: 'docs', namespace: 'ns1', filter: { genre: 'drama' } }],
      ['data.delete', { index: 'docs', namespace: 'ns1', deleteAll: true }],
      ['data.list', { index: 'docs', namespace: 'ns1', prefix: 'a', limit: 5, paginationToken: 't' }],
      ['data.stats', { index: 'docs' }],
      ['namespaces.list', { index: 'docs' }],
      ['namespaces.delete', { index: 'docs', namespace: 'ns1' }],
      ['namespaces.describe', { index: 'docs', namespace: 'ns1' }],
      ['data.upsert', { index: 'docs', namespace: '', records: [{ id: 'z', values: [1, 2] }] }],
      ['data.fetchByMetadata', { index: 'docs', namespace: 'ns1', filter: { genre: 'drama' }, limit: 10 }],
      ['data.update', { index: 'docs', namespace: 'ns1', filter: { genre: 'drama' }, setMetadata: { seen: true }, dryRun: true }],
      ['namespaces.list', { index: 'docs', prefix: 'n', limit: 2 }],
      ['namespaces.create', { index: 'docs', namespace: 'ns2' }],
      ['namespaces.internals', { index: 'docs', namespace: 'ns2' }],
    ]);
  });

  it('starts, lists, describes and cancels bulk imports of the index, whatever namespace it targets', async () => {
    const { client, sent } = fakeClient(() => ok({}));
    const docs = client.index('docs');
    await docs.startImport({ uri: 's3://bucket/embeddings', errorMode: 'abort' });
    await docs.namespace('ns1').startImport({ uri: 's3://bucket/more' });
    await docs.listImports();
    await docs.listImports({ limit: 10, paginationToken: 't' });
    await docs.describeImport('imp_1');
    await docs.cancelImport('imp_1');
    expect(sent.map((s) => [s.url.split('/trpc/')[1], s.body])).toEqual([
      ['imports.start', { index: 'docs', uri: 's3://bucket/embeddings', errorMode: 'abort' }],
      ['imports.start', { index: 'docs', uri: 's3://bucket/more' }],
      ['imports.list', { index: 'docs' }],
      ['imports.list', { index: 'docs', limit: 10, paginationToken: 't' }],
      ['imports.describe', { index: 'docs', id: 'imp_1' }],
      ['imports.cancel', { index: 'docs', id: 'imp_1' }],
    ]);
  });

  it('returns an import as the server describes it, and a missing one as NotFoundError', async () => {
    const info = { id: 'imp_1', uri: 's3://b/p', status: 'InProgress', createdAt: '2026-12-04T18:00:00.000Z', percentComplete: 42.5, recordsImported: 1200 };
    const { client } = fakeClient((s) =>
      s.body && (s.body as { id: string }).id === 'imp_1' ? ok(info) : trpcError(404, 'NOT_FOUND', 'Import imp_2 not found.'),
    );
    expect(await client.index('docs').describeImport('imp_1')).toEqual(info);
    const error = await client
      .index('docs')
      .describeImport('imp_2')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as Error).message).toBe('Import imp_2 not found.');
  });

  it('sends the read options of the reads, last argument, with the request', async () => {
    const { client, sent } = fakeClient(() => ok({}));
    const ns = client.index('docs').namespace('ns1');
    await ns.query({ vector: [1, 2], topK: 3 }, { consistency: 'strong', minLsn: 7 });
    await ns.fetch(['a'], { minLsn: 0 });
    await ns.fetchByMetadata({ filter: { genre: 'drama' } }, { consistency: 'eventual' });
    await ns.listPaginated({ limit: 5 }, { consistency: 'strong' });
    await ns.listPaginated(undefined, { minLsn: 3 });
    await ns.fetch(['a'], {});
    expect(sent.map((s) => [s.url.split('/trpc/')[1], s.body])).toEqual([
      ['data.query', { index: 'docs', namespace: 'ns1', vector: [1, 2], topK: 3, consistency: 'strong', minLsn: 7 }],
      ['data.fetch', { index: 'docs', namespace: 'ns1', ids: ['a'], minLsn: 0 }],
      ['data.fetchByMetadata', { index: 'docs', namespace: 'ns1', filter: { genre: 'drama' }, consistency: 'eventual' }],
      ['data.list', { index: 'docs', namespace: 'ns1', limit: 5, consistency: 'strong' }],
      ['data.list', { index: 'docs', namespace: 'ns1', minLsn: 3 }],
      ['data.fetch', { index: 'docs', namespace: 'ns1', ids: ['a'] }],
    ]);
  });

  it('manages projects, API keys, usage and rate limits', async () => {
    const { client, sent } = fakeClient(() => ok({}));
    await client.whoami();
    await client.listProjects();
    await client.createProject('team');
    await client.listApiKeys();
    await client.createApiKey({ name: 'ci', role: 'read-only' });
    await client.revokeApiKey('key_1');
    await client.usage({ from: '2026-11-01', index: 'docs' });
    await client.rateLimits();
    await client.setRateLimits({ projectId: 'prj_1', index: 'docs', limits: { queryPerNamespace: 5 } });
    expect(sent.map((s) => [s.url.split('/trpc/')[1], s.body])).toEqual([
      ['projects.current', undefined],
      ['projects.list', undefined],
      ['projects.create', { name: 'team' }],
      ['keys.list', undefined],
      ['keys.create', { name: 'ci', role: 'read-only' }],
      ['keys.revoke', { id: 'key_1' }],
      ['usage.get', { from: '2026-11-01', index: 'docs' }],
      ['rateLimits.get', {}],
      ['rateLimits.set', { projectId: 'prj_1', index: 'docs', limits: { queryPerNamespace: 5 } }],
    ]);
  });

  it('passes index management options through', async () => {
    const { client, sent } = fakeClient(() => ok({}));
    await client.createIndex({ name: 'docs', dimension: 3, metric: 'dotproduct', tags: { a: 'b' } });
    await client.configureIndex('docs', { deletionProtection: 'enabled' });
    await client.deleteIndex('docs');
    expect(sent.map((s) => [s.url.split('/trpc/')[1], s.body])).toEqual([
      ['indexes.create', { name: 'docs', dimension: 3, metric: 'dotproduct', tags: { a: 'b' } }],
      ['indexes.configure', { deletionProtection: 'enabled', name: 'docs' }],
      ['indexes.delete', { name: 'docs' }],
    ]);
  });

  it('returns the response data', async () => {
    const { client } = fakeClient(() => ok({ matches: [{ id: 'a', score: 0.5 }], namespace: '', usage: { readUnits: 1 }, indexedLsn: 12 }));
    const result = await client.index('docs').query({ vector: [1], topK: 1 });
    expect(result.matches).toEqual([{ id: 'a', score: 0.5 }]);
    expect(result.indexedLsn).toBe(12);
  });
});

describe('Conifer errors', () => {
  it.each([
    [400, 'INVALID_ARGUMENT', InvalidArgumentError],
    [401, 'UNAUTHENTICATED', UnauthenticatedError],
    [403, 'PERMISSION_DENIED', PermissionDeniedError],
    [404, 'NOT_FOUND', NotFoundError],
    [409, 'ALREADY_EXISTS', AlreadyExistsError],
    [503, 'UNAVAILABLE', UnavailableError],
    [500, 'INTERNAL', InternalError],
  ] as const)('rebuilds HTTP %i / %s as its class with the server message', async (status, code, cls) => {
    const { client } = fakeClient(() => trpcError(status, code, `server says ${code}`));
    const error = await client.listIndexes().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(cls);
    expect(error).toBeInstanceOf(ConiferError);
    expect((error as ConiferError).code).toBe(code);
    expect((error as Error).message).toBe(`server says ${code}`);
  });

  it('keeps the field issues of bad input, and ignores issues of an unexpected shape', async () => {
    const issues = [{ path: ['records', 2, 'values'], message: 'must have 3 dimensions (got 2)' }];
    const answer = (data: unknown) => () =>
      Response.json({ error: { message: 'records[2].values: must have 3 dimensions (got 2)', code: -32600, data } }, { status: 400 });
    const typed = await fakeClient(answer({ code: 'INVALID_ARGUMENT', httpStatus: 400, issues }))
      .client.listIndexes()
      .catch((e: unknown) => e);
    expect(typed).toBeInstanceOf(InvalidArgumentError);
    expect((typed as InvalidArgumentError).issues).toEqual(issues);
    const odd = await fakeClient(answer({ code: 'INVALID_ARGUMENT', httpStatus: 400, issues: [{ path: 'records', message: 1 }] }))
      .client.listIndexes()
      .catch((e: unknown) => e);
    expect(odd).toBeInstanceOf(InvalidArgumentError);
    expect((odd as InvalidArgumentError).issues).toEqual([]);
  });

  it('throws ConnectionError when the request never gets an answer', async () => {
    const { client } = fakeClient(() => {
      throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:5080') });
    });
    const error = await client.listIndexes().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as Error).message).toBe('Could not reach the Conifer server at http://conifer.test:5080 (fetch failed: connect ECONNREFUSED 127.0.0.1:5080)');
  });

  it('classes a response that is not from Conifer by its HTTP status', async () => {
    const { client } = fakeClient(() => new Response('<html>Bad Gateway</html>', { status: 502, headers: { 'content-type': 'text/html' } }));
    const error = await client.listIndexes().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as Error).message).toContain('HTTP 502');
  });
});
