import { describe, expect, it } from 'vitest';
import { restCall as call, TEST_API_KEY, uniqueIndexName, useServer } from '../test-support.ts';

describe('Pinecone REST API: POST /records/namespaces/{namespace}/search', () => {
  const running = useServer();

  const records = [
    { id: 'p-1', values: [0.5, 0.4], metadata: { genre: 'drama', year: 2020, tags: ['a'] } },
    { id: 'p-2', values: [0.1, 0.9], metadata: { genre: 'comedy', year: 1999 } },
    { id: 'p-3', values: [0.7, 0.2], metadata: { genre: 'drama', year: 2010 } },
    { id: 'p-4', values: [0.3, 0.3] },
  ];

  /** A new index holding `records` in namespace "ns"; its host. */
  async function indexWithRecords(metric = 'cosine', extra: unknown[] = []): Promise<string> {
    const created = await call('POST', `${running().url}/indexes`, { body: { name: uniqueIndexName('search'), dimension: 2, metric } });
    expect(created.status).toBe(201);
    const host = created.body.host as string;
    expect((await call('POST', `${host}/vectors/upsert`, { body: { namespace: 'ns', vectors: [...records, ...extra] } })).status).toBe(200);
    return host;
  }

  const search = (host: string, body: unknown, namespace = 'ns', headers: Record<string, string> = {}) =>
    call('POST', `${host}/records/namespaces/${encodeURIComponent(namespace)}/search`, { body, headers });

  it('searches by vector: hits as /query matches them, each with all its metadata as fields', async () => {
    const host = await indexWithRecords();
    const queried = await call('POST', `${host}/query`, { body: { namespace: 'ns', topK: 3, vector: [0.5, 0.4], includeMetadata: true } });
    const answer = await search(host, { query: { top_k: 3, vector: { values: [0.5, 0.4] } } });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      result: {
        hits: queried.body.matches.map((m: { id: string; score: number; metadata?: unknown }) => ({ _id: m.id, _score: m.score, fields: m.metadata ?? {} })),
      },
      namespace: 'ns',
      usage: { read_units: queried.body.usage.readUnits },
    });
    expect(answer.body.result.hits.map((h: { _id: string }) => h._id)).toEqual(['p-1', 'p-4', 'p-3']);
    expect(answer.body.result.hits[0]).toEqual({ _id: 'p-1', _score: expect.closeTo(1, 6), fields: { genre: 'drama', year: 2020, tags: ['a'] } });
    // A record without metadata has no fields, never a missing `fields`.
    expect(answer.body.result.hits[1]).toEqual({ _id: 'p-4', _score: expect.any(Number), fields: {} });
    expect(answer.headers.get('x-pinecone-max-indexed-lsn')).toMatch(/^\d+$/);
  });

  it('searches by id, selects fields, filters, and searches the default namespace and missing ones', async () => {
    const host = await indexWithRecords();
    const byId = await search(host, { query: { top_k: 2, id: 'p-3' }, fields: ['genre', 'absent'] });
    expect(byId.status).toBe(200);
    expect(byId.body.result.hits).toEqual([
      { _id: 'p-3', _score: expect.closeTo(1, 6), fields: { genre: 'drama' } },
      { _id: 'p-1', _score: expect.any(Number), fields: { genre: 'drama' } },
    ]);
    // An unknown id finds nothing, as /query answers it.
    expect((await search(host, { query: { top_k: 2, id: 'nope' } })).body).toMatchObject({ result: { hits: [] }, usage: { read_units: expect.any(Number) } });

    const filtered = await search(host, { query: { top_k: 10, vector: { values: [0.1, 0.9] }, filter: { year: { $gte: 2000 } } }, fields: ['year'] });
    expect(filtered.body.result.hits).toEqual([
      { _id: 'p-1', _score: expect.any(Number), fields: { year: 2020 } },
      { _id: 'p-3', _score: expect.any(Number), fields: { year: 2010 } },
    ]);
    // No field asked for: no field returned.
    const none = await search(host, { query: { top_k: 1, vector: { values: [0.5, 0.4] } }, fields: [] });
    expect(none.body.result.hits).toEqual([{ _id: 'p-1', _score: expect.any(Number), fields: {} }]);

    await call('POST', `${host}/vectors/upsert`, { body: { vectors: [{ id: 'd', values: [1, 1], metadata: { where: 'default' } }] } });
    const inDefault = await search(host, { query: { top_k: 5, vector: { values: [1, 1] } } }, '__default__');
    expect(inDefault.body).toMatchObject({ result: { hits: [{ _id: 'd', fields: { where: 'default' } }] }, namespace: '__default__' });
    expect((await search(host, { query: { top_k: 5, vector: { values: [1, 1] } } }, 'a/b c')).body).toMatchObject({
      result: { hits: [] },
      namespace: 'a/b c',
    });
  });

  it('runs hybrid searches on dotproduct indexes: sparse_indices and sparse_values beside the dense values', async () => {
    const host = await indexWithRecords('dotproduct', [{ id: 's', values: [0, 0.01], sparseValues: { indices: [7], values: [5] } }]);
    const answer = await search(host, { query: { top_k: 1, vector: { values: [1, 0], sparse_indices: [7], sparse_values: [1] } } });
    expect(answer.body.result.hits).toEqual([{ _id: 's', _score: expect.closeTo(5, 5), fields: {} }]);
    const cosine = await indexWithRecords();
    expect(await search(cosine, { query: { top_k: 1, vector: { values: [1, 0], sparse_indices: [7], sparse_values: [1] } } })).toMatchObject({
      status: 400,
      body: { code: 3, message: 'query.vector.sparse_values: sparse (hybrid) queries need an index with metric dotproduct; this index uses cosine' },
    });
  });

  it('refuses invalid searches with 400, naming the field as the wire names it', async () => {
    const host = await indexWithRecords();
    const refusals: [unknown, string][] = [
      [{}, 'query: must be an object'],
      [{ query: [] }, 'query: must be an object'],
      [{ query: { top_k: 1 } }, 'query: exactly one of query.vector and query.id must be given'],
      [{ query: { top_k: 1, id: 'p-1', vector: { values: [1, 1] } } }, 'query: exactly one of query.vector and query.id must be given'],
      [{ query: { vector: { values: [1, 1] } } }, 'query.top_k: must be a number'],
      [{ query: { top_k: 0, vector: { values: [1, 1] } } }, 'query.top_k: must be 1–10000'],
      [{ query: { top_k: 10001, vector: { values: [1, 1] } } }, 'query.top_k: must be at most 10000'],
      [{ query: { top_k: 1, vector: [1, 1] } }, 'query.vector: must be an object'],
      [
        { query: { top_k: 1, vector: { sparse_indices: [1], sparse_values: [1] } } },
        'query.vector.values: required: this index is dense (a sparse vector alone queries a sparse index)',
      ],
      [{ query: { top_k: 1, vector: { values: [1, 2, 3] } } }, 'query.vector.values: Vector dimension 3 does not match the dimension of the index 2'],
      [{ query: { top_k: 1, vector: { values: [1, 'x'] } } }, 'query.vector.values[1]: must be a finite number within float32 range'],
      [{ query: { top_k: 1, vector: { values: [1, 1], sparse_indices: [1] } } }, 'query.vector.sparse_values: required with query.vector.sparse_indices'],
      [
        { query: { top_k: 1, vector: { values: [1, 1], sparse_indices: [1, 1], sparse_values: [1, 1] } } },
        'query.vector.sparse_indices[1]: index 1 appears twice',
      ],
      [{ query: { top_k: 1, id: '' } }, 'query.id: must be 1–512 characters'],
      [{ query: { top_k: 1, id: 'p-1', filter: { year: { $bad: 1 } } } }, 'query.filter.year.$bad'],
      [{ query: { top_k: 1, id: 'p-1' }, fields: 'genre' }, 'fields: must be an array of strings'],
      [{ query: { top_k: 1, id: 'p-1' }, fields: ['genre', 3] }, 'fields[1]: must be a string'],
    ];
    for (const [body, message] of refusals) {
      const answer = await search(host, body);
      expect({ body, status: answer.status, code: answer.body.code }).toEqual({ body, status: 400, code: 3 });
      expect(answer.body.message).toContain(message);
    }
    expect((await call('POST', `${host}/records/namespaces/%20/search`, { body: { query: { top_k: 1, id: 'a' } } })).body.message).toBe(
      'namespace: must not be blank (only spaces)',
    );
    // The read options of /query, named the same way.
    expect((await search(host, { query: { top_k: 1, id: 'p-1' } }, 'ns', { 'x-conifer-consistency': 'now' })).body).toMatchObject({
      code: 3,
      message: 'x-conifer-consistency: must be "eventual" or "strong"',
    });
    expect((await search(host, { query: { top_k: 1, id: 'p-1' } }, 'ns', { 'x-conifer-consistency': 'strong' })).status).toBe(200);
    expect((await call('GET', `${host}/records/namespaces/ns/search`)).status).toBe(405);
  });

  it('refuses what needs a hosted model with 400 UNIMPLEMENTED saying what is missing, before anything else', async () => {
    const host = await indexWithRecords();
    const refusals: [unknown, string][] = [
      [
        { query: { top_k: 1, inputs: { text: 'drama' } } },
        'query.inputs: searching by text needs an integrated embedding model, which Conifer does not have; send query.vector or query.id',
      ],
      [
        { query: { top_k: 0, inputs: { text: 'drama' }, vector: { values: [1] } } },
        'query.inputs: searching by text needs an integrated embedding model, which Conifer does not have; send query.vector or query.id',
      ],
      [
        { query: { top_k: 1, id: 'p-1', match_terms: { strategy: 'all', terms: ['x'] } } },
        'query.match_terms: matching terms needs a sparse index with integrated embedding, which Conifer does not have; use query.filter on metadata',
      ],
      [
        { query: { top_k: 1, id: 'p-1' }, rerank: { model: 'bge-reranker-v2-m3', rank_fields: ['genre'] } },
        'rerank: reranking needs a hosted reranking model, which Conifer does not have; send the search without rerank',
      ],
    ];
    for (const [body, message] of refusals) {
      expect(await search(host, body)).toMatchObject({ status: 400, body: { code: 12, message, details: [] } });
    }
    // Text records arrive as NDJSON, which is not one JSON value: still this refusal, not "malformed JSON".
    const upsert = await call('POST', `${host}/records/namespaces/ns/upsert`, {
      raw: '{"_id":"a","chunk_text":"x"}\n{"_id":"b","chunk_text":"y"}',
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(upsert).toMatchObject({
      status: 400,
      body: {
        code: 12,
        message:
          'Upserting text records is not supported by Conifer: it needs an integrated embedding model. Embed the text yourself and send vectors to /vectors/upsert.',
      },
    });
  });

  it('takes auth, project isolation and rate limits from /query', async () => {
    const { url } = running();
    const host = await indexWithRecords();
    const body = { query: { top_k: 1, id: 'p-1' } };
    expect(await call('POST', `${host}/records/namespaces/ns/search`, { body, headers: { 'api-key': 'cnf_wrong' } })).toMatchObject({
      status: 401,
      body: { code: 16 },
    });
    const other = await call('POST', `${url}/admin/projects`, { body: { name: uniqueIndexName('other') } });
    expect(await call('POST', `${host}/records/namespaces/ns/search`, { body, headers: { 'api-key': other.body.apiKey } })).toMatchObject({
      status: 404,
      body: { code: 5 },
    });

    const projectId = (await running().server.services!.authenticate(TEST_API_KEY))!.projectId;
    const index = decodeURIComponent(host.split('/').pop()!);
    const limited = await call('PUT', `${url}/admin/projects/${projectId}/indexes/${index}/rate-limits`, { body: { queryPerNamespace: 1 } });
    expect(limited.status).toBe(200);
    const answers = await Promise.all(Array.from({ length: 4 }, () => search(host, body)));
    const throttled = answers.filter((a) => a.status === 429);
    expect(throttled.length).toBeGreaterThan(0);
    expect(throttled[0]!.body).toMatchObject({ code: 8, message: expect.stringContaining('query is limited to 1 requests per second per namespace') });
  });
});
