import { describe, expect, it } from 'vitest';
import { restCall as call, uniqueIndexName, useServer } from '../test-support.ts';

describe('Pinecone REST API: sparse-only indexes', () => {
  const running = useServer();

  async function createSparse(body: Record<string, unknown> = {}): Promise<{ name: string; host: string; body: Record<string, unknown> }> {
    const name = uniqueIndexName('sparse');
    const created = await call('POST', `${running().url}/indexes`, {
      body: { name, vector_type: 'sparse', metric: 'dotproduct', spec: { serverless: { cloud: 'aws', region: 'us-east-1' } }, ...body },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return { name, host: created.body.host as string, body: created.body };
  }

  it('creates and describes a sparse index: vector_type sparse, dotproduct, no dimension', async () => {
    const { name, body } = await createSparse({ dimension: null });
    expect(body).toMatchObject({ name, vector_type: 'sparse', metric: 'dotproduct' });
    expect(body).not.toHaveProperty('dimension');
    const described = await call('GET', `${running().url}/indexes/${name}`);
    expect(described.body).toMatchObject({ vector_type: 'sparse', metric: 'dotproduct' });
    expect(described.body).not.toHaveProperty('dimension');
    // Metric defaults to dotproduct, the only one a sparse index takes.
    expect((await createSparse({ metric: undefined })).body).toMatchObject({ metric: 'dotproduct' });
    // API 2026-07: a schema whose _sparse_values field is a sparse_vector.
    const newer = await call('POST', `${running().url}/indexes`, {
      headers: { 'X-Pinecone-Api-Version': '2026-07' },
      body: {
        name: uniqueIndexName('sparse'),
        deployment: { deployment_type: 'managed' },
        schema: { fields: { _sparse_values: { type: 'sparse_vector', metric: 'dotproduct' } } },
      },
    });
    expect(newer.status, JSON.stringify(newer.body)).toBe(201);
    expect(newer.body.schema).toEqual({ fields: { _sparse_values: { type: 'sparse_vector', metric: 'dotproduct' } } });
  });

  it.each([
    [{ dimension: 8 }, 'dimension: a sparse index has no dimension; omit it'],
    [{ metric: 'cosine' }, 'metric: a sparse index scores by dotproduct only; got cosine'],
    [{ vector_type: 'lexical' }, "vector_type: must be 'dense' or 'sparse'"],
  ])('refuses %j with a 400 naming the field', async (extra, message) => {
    const answer = await call('POST', `${running().url}/indexes`, {
      body: {
        name: uniqueIndexName('sparse'),
        vector_type: 'sparse',
        metric: 'dotproduct',
        spec: { serverless: { cloud: 'aws', region: 'us-east-1' } },
        ...extra,
      },
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: { code: 'INVALID_ARGUMENT', message } });
  });

  it('upserts, queries (with a filter and by id), fetches, updates, lists, deletes and counts sparse records', async () => {
    const { host } = await createSparse();
    const vectors = [
      { id: 'doc-1', sparseValues: { indices: [10, 45, 16], values: [0.5, 0.5, 0.2] }, metadata: { genre: 'drama' } },
      { id: 'doc-2', values: [], sparseValues: { indices: [10, 99], values: [0.9, 0.1] }, metadata: { genre: 'comedy' } },
      { id: 'doc-3', sparseValues: { indices: [7], values: [1] } },
    ];
    const upserted = await call('POST', `${host}/vectors/upsert`, { body: { namespace: 'ns', vectors } });
    expect(upserted.status, JSON.stringify(upserted.body)).toBe(200);
    expect(upserted.body).toEqual({ upsertedCount: 3 });

    const query = await call('POST', `${host}/query`, {
      body: { namespace: 'ns', topK: 10, sparseVector: { indices: [10, 45], values: [1, 2] }, includeValues: true, includeMetadata: true },
    });
    expect(query.status, JSON.stringify(query.body)).toBe(200);
    // doc-1: 0.5·1 + 0.5·2 = 1.5; doc-2: 0.9·1; doc-3 shares no dimension and is not a match.
    expect(query.body.matches).toEqual([
      {
        id: 'doc-1',
        score: expect.closeTo(1.5, 6),
        values: [],
        sparseValues: { indices: [10, 16, 45], values: [0.5, 0.2, 0.5] },
        metadata: { genre: 'drama' },
      },
      { id: 'doc-2', score: expect.closeTo(0.9, 6), values: [], sparseValues: { indices: [10, 99], values: [0.9, 0.1] }, metadata: { genre: 'comedy' } },
    ]);
    const filtered = await call('POST', `${host}/query`, {
      body: { namespace: 'ns', topK: 10, sparseVector: { indices: [10], values: [1] }, filter: { genre: 'comedy' } },
    });
    expect(filtered.body.matches.map((m: { id: string }) => m.id)).toEqual(['doc-2']);
    const byId = await call('POST', `${host}/query`, { body: { namespace: 'ns', topK: 1, id: 'doc-3' } });
    expect(byId.body.matches).toEqual([{ id: 'doc-3', score: expect.closeTo(1, 6) }]);

    const fetched = await call('GET', `${host}/vectors/fetch?namespace=ns&ids=doc-3`);
    expect(fetched.body.vectors).toEqual({ 'doc-3': { id: 'doc-3', values: [], sparseValues: { indices: [7], values: [1] } } });

    const updated = await call('POST', `${host}/vectors/update`, { body: { namespace: 'ns', id: 'doc-3', sparseValues: { indices: [10], values: [3] } } });
    expect(updated.status).toBe(200);
    const after = await call('POST', `${host}/query`, { body: { namespace: 'ns', topK: 1, sparseVector: { indices: [10], values: [1] } } });
    expect(after.body.matches).toEqual([{ id: 'doc-3', score: expect.closeTo(3, 6) }]);

    const search = await call('POST', `${host}/records/namespaces/ns/search`, {
      body: { query: { top_k: 2, vector: { sparse_indices: [10], sparse_values: [1] } }, fields: ['genre'] },
    });
    expect(search.status, JSON.stringify(search.body)).toBe(200);
    expect(search.body.result.hits).toEqual([
      { _id: 'doc-3', _score: expect.closeTo(3, 6), fields: {} },
      { _id: 'doc-2', _score: expect.closeTo(0.9, 6), fields: { genre: 'comedy' } },
    ]);

    expect((await call('GET', `${host}/vectors/list?namespace=ns`)).body.vectors).toEqual([{ id: 'doc-1' }, { id: 'doc-2' }, { id: 'doc-3' }]);
    const stats = await call('POST', `${host}/describe_index_stats`, { body: {} });
    expect(stats.body).toMatchObject({ totalVectorCount: 3, metric: 'dotproduct', vectorType: 'sparse', namespaces: { ns: { vectorCount: 3 } } });
    expect(stats.body).not.toHaveProperty('dimension');

    expect((await call('POST', `${host}/vectors/delete`, { body: { namespace: 'ns', ids: ['doc-1'] } })).status).toBe(200);
    const remaining = await call('POST', `${host}/query`, { body: { namespace: 'ns', topK: 10, sparseVector: { indices: [10, 45], values: [1, 2] } } });
    expect(remaining.body.matches.map((m: { id: string }) => m.id)).toEqual(['doc-3', 'doc-2']);
  });

  it.each([
    [
      'dense values',
      { vectors: [{ id: 'a', values: [1, 2], sparseValues: { indices: [1], values: [1] } }] },
      'vectors[0].values: a sparse index stores no dense values; got 2',
    ],
    [
      'no sparse values',
      { vectors: [{ id: 'a', sparseValues: { indices: [1], values: [1] } }, { id: 'b' }] },
      'vectors[1].sparseValues: required on a sparse index, with at least one index and value',
    ],
    [
      'empty sparse values',
      { vectors: [{ id: 'a', sparseValues: { indices: [], values: [] } }] },
      'vectors[0].sparseValues: required on a sparse index, with at least one index and value',
    ],
  ])('refuses an upsert with %s, whole, naming the field', async (_, body, message) => {
    const { host } = await createSparse();
    const answer = await call('POST', `${host}/vectors/upsert`, { body });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ code: 3, message });
    expect((await call('POST', `${host}/describe_index_stats`, { body: {} })).body.totalVectorCount).toBe(0);
  });

  it('refuses a dense query on a sparse index and a sparse-only query on a dense one', async () => {
    const { host } = await createSparse();
    const dense = await call('POST', `${host}/query`, { body: { topK: 1, vector: [1, 2] } });
    expect(dense.body).toMatchObject({ code: 3, message: 'vector: a sparse index stores no dense values; got 2' });
    const none = await call('POST', `${host}/query`, { body: { topK: 1, vector: [] } });
    expect(none.body).toMatchObject({ code: 3, message: 'sparseVector: required on a sparse index, with at least one index and value' });
    const created = await call('POST', `${running().url}/indexes`, { body: { name: uniqueIndexName('dense'), dimension: 2, metric: 'dotproduct' } });
    const sparseOnDense = await call('POST', `${created.body.host as string}/query`, { body: { topK: 1, sparseVector: { indices: [1], values: [1] } } });
    expect(sparseOnDense.status).toBe(400);
    expect(sparseOnDense.body).toMatchObject({ code: 3, message: 'vector: required: this index is dense (a sparse vector alone queries a sparse index)' });
  });
});
