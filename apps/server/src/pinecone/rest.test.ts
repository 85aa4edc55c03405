import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { LIMITS } from '@conifer/core';
import { OPENAPI_FILE, renderOpenApi } from '../write-openapi.ts';
import { TEST_API_KEY, uniqueIndexName, useServer } from '../test-support.ts';

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- wire JSON under test
}

/** A raw HTTP call, as curl would make it. */
async function call(
  method: string,
  url: string,
  options: { key?: string | null; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key !== null) headers['api-key'] = options.key ?? TEST_API_KEY;
  let body: string | undefined = options.raw;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  const response = await fetch(url, { method, headers, body });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, text, body: parsed };
}

describe('Pinecone REST API', () => {
  const running = useServer();

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async function createIndex(name: string, extra: Record<string, unknown> = {}): Promise<{ host: string; body: any }> {
    const answer = await call('POST', `${running().url}/indexes`, {
      body: { name, dimension: 2, metric: 'cosine', spec: { serverless: { cloud: 'aws', region: 'us-east-1' } }, ...extra },
    });
    expect(answer.status).toBe(201);
    return { host: answer.body.host as string, body: answer.body };
  }

  describe('control plane', () => {
    it('creates, describes, lists, configures and deletes indexes with Pinecone’s shapes', async () => {
      const { url } = running();
      const name = uniqueIndexName('ctl');
      const { host, body } = await createIndex(name, { tags: { team: 'search' }, spec: { serverless: { cloud: 'gcp', region: 'europe-west4' } } });
      const projectId = (await running().server.services!.authenticate(TEST_API_KEY))!.projectId;
      expect(body).toEqual({
        name,
        dimension: 2,
        metric: 'cosine',
        host: `${url}/projects/${projectId}/indexes/${name}`,
        deletion_protection: 'disabled',
        tags: { team: 'search' },
        spec: { serverless: { cloud: 'gcp', region: 'europe-west4', read_capacity: { mode: 'OnDemand', status: { state: 'Ready' } } } },
        status: { ready: true, state: 'Ready' },
        vector_type: 'dense',
      });
      expect(host.startsWith('http://')).toBe(true);
      expect((await call('GET', `${url}/indexes/${name}`)).body).toEqual(body);
      expect((await call('GET', `${url}/indexes`)).body.indexes).toContainEqual(body);

      const configured = await call('PATCH', `${url}/indexes/${name}`, { body: { deletion_protection: 'enabled', tags: { team: '', env: 'prod' } } });
      expect(configured.status).toBe(202);
      expect(configured.body).toMatchObject({ deletion_protection: 'enabled', tags: { env: 'prod' } });

      const refused = await call('DELETE', `${url}/indexes/${name}`);
      expect(refused.status).toBe(403);
      expect(refused.body).toEqual({
        error: { code: 'FORBIDDEN', message: 'Deletion protection is enabled for this index. Disable deletion protection before retrying.' },
        status: 403,
      });
      await call('PATCH', `${url}/indexes/${name}`, { body: { deletion_protection: 'disabled' } });
      const deleted = await call('DELETE', `${url}/indexes/${name}`);
      expect(deleted.status).toBe(202);
      expect(deleted.text).toBe('');
      expect(await call('GET', `${url}/indexes/${name}`)).toMatchObject({
        status: 404,
        body: { error: { code: 'NOT_FOUND', message: `Index ${name} not found.` }, status: 404 },
      });
    });

    it('answers errors as { error: { code, message }, status }', async () => {
      const { url } = running();
      const name = uniqueIndexName('dup');
      await createIndex(name);
      expect(await call('POST', `${url}/indexes`, { body: { name, dimension: 2 } })).toMatchObject({
        status: 409,
        body: { error: { code: 'ALREADY_EXISTS', message: 'Resource already exists.' }, status: 409 },
      });
      const badName = await call('POST', `${url}/indexes`, { body: { name: 'bad-', dimension: 2 } });
      expect(badName.status).toBe(400);
      expect(badName.body.error.message).toContain('alphanumeric character');
      expect((await call('POST', `${url}/indexes`, { body: { name: 'nodim' } })).body.error.message).toBe('dimension: required for a dense index');
      expect((await call('POST', `${url}/indexes`, { body: { name: 'x', dimension: 2, deletion_protection: 'maybe' } })).body.error.message).toMatch(
        /^deletion_protection: /,
      );
      expect(await call('POST', `${url}/indexes`, { raw: '{oops', headers: { 'content-type': 'application/json' } })).toMatchObject({
        status: 422,
        body: { error: { code: 'UNPROCESSABLE_ENTITY' }, status: 422 },
      });
      // A sparse index has no dimension (sparse-index.test.ts covers them).
      const sparse = await call('POST', `${url}/indexes`, {
        body: { name: 'sp', vector_type: 'sparse', dimension: 3, spec: { serverless: { cloud: 'aws', region: 'us-east-1' } } },
      });
      expect(sparse.status).toBe(400);
      expect(sparse.body.error.message).toBe('dimension: a sparse index has no dimension; omit it');
      expect((await call('POST', `${url}/indexes`, { body: { name: 'pod', dimension: 2, spec: { pod: { environment: 'x' } } } })).status).toBe(400);
      expect(await call('GET', `${url}/indexes`, { key: 'cnf_wrong' })).toMatchObject({
        status: 401,
        body: { error: { code: 'UNAUTHENTICATED' }, status: 401 },
      });
      expect(await call('GET', `${url}/indexes`, { key: null })).toMatchObject({ status: 401 });
      expect(await call('GET', `${url}/collections`)).toMatchObject({ status: 400, body: { error: { code: 'UNIMPLEMENTED' }, status: 400 } });
    });

    it('refuses fields of the wrong type, naming them, instead of ignoring them; null still means absent', async () => {
      const { url } = running();
      const name = uniqueIndexName('types');
      await createIndex(name);
      const refusals: [string, string, unknown, string][] = [
        ['PATCH', `/indexes/${name}`, { spec: 5 }, 'spec: must be an object'],
        ['PATCH', `/indexes/${name}`, { spec: { serverless: [] } }, 'spec.serverless: must be an object'],
        ['PATCH', `/indexes/${name}`, { spec: { serverless: { read_capacity: 'x' } } }, 'spec.serverless.read_capacity: must be an object'],
        ['POST', '/indexes', { name: 'typed', dimension: 2, spec: 'aws' }, 'spec: must be an object'],
        [
          'POST',
          '/indexes',
          { name: 'typed', dimension: 2, spec: { serverless: { read_capacity: { mode: 'Fast' } } } },
          'spec.serverless.read_capacity.mode: must be "OnDemand" (the only mode Conifer offers)',
        ],
        ['POST', '/indexes', { name: 'typed', deployment: 3 }, 'deployment: must be an object'],
        ['POST', '/indexes', { name: 'typed', dimension: 2, schema: [] }, 'schema: must be an object'],
        // A NUL cannot be stored in the control database: this was a 500.
        ['PATCH', `/indexes/${name}`, { tags: { team: 'a\u0000b' } }, 'tags.team: tag values must be valid Unicode without NUL characters'],
        // JSON.parse makes an own __proto__ key, which a record schema dropped: the tag was acknowledged, not stored.
        ['PATCH', `/indexes/${name}`, { tags: JSON.parse('{"__proto__":"x","a":"b"}') }, "tags.__proto__: tag keys must not be '__proto__'"],
        [
          'POST',
          '/indexes',
          { name: 'typed', dimension: 2, tags: JSON.parse('{"__proto__":"x","a":"b"}') },
          "tags.__proto__: tag keys must not be '__proto__'",
        ],
        ['PATCH', `/indexes/${name}`, { tags: 'team=search' }, 'tags: must be an object of strings'],
      ];
      for (const [method, path, body, message] of refusals) {
        expect(await call(method, `${url}${path}`, { body })).toMatchObject({ status: 400, body: { error: { code: 'INVALID_ARGUMENT', message } } });
      }
      expect((await call('GET', `${url}/indexes/typed`)).status).toBe(404);
      expect(await call('PATCH', `${url}/indexes/${name}`, { body: { spec: null, deletion_protection: null, tags: null } })).toMatchObject({
        status: 202,
        body: { deletion_protection: 'disabled' },
      });
    });

    it('speaks the 2026-07 IndexModel to clients that declare that version', async () => {
      const { url } = running();
      const name = uniqueIndexName('v9');
      const headers = { 'x-pinecone-api-version': '2026-07' };
      const created = await call('POST', `${url}/indexes`, {
        headers,
        body: {
          name,
          deployment: { deployment_type: 'managed', cloud: 'aws', region: 'us-east-1' },
          schema: { fields: { _values: { type: 'dense_vector', dimension: 3, metric: 'dotproduct' } } },
        },
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        name,
        status: { ready: true, state: 'Ready' },
        deployment: { deployment_type: 'managed', cloud: 'aws', region: 'us-east-1' },
        schema: { fields: { _values: { type: 'dense_vector', dimension: 3, metric: 'dotproduct' } } },
        read_capacity: { mode: 'OnDemand', status: { state: 'Ready' } },
      });
      expect(created.body).not.toHaveProperty('dimension');
      expect((await call('GET', `${url}/indexes/${name}`)).body).toMatchObject({ dimension: 3, metric: 'dotproduct', vector_type: 'dense' });
    });
  });

  describe('data plane', () => {
    it('round-trips records through upsert, fetch, query, update, list and delete', async () => {
      const { host } = await createIndex(uniqueIndexName('dp'));
      const upsert = await call('POST', `${host}/vectors/upsert`, {
        body: {
          vectors: [
            { id: 'p-1', values: [0.5, 0.4], metadata: { genre: 'drama', year: 2020 } },
            { id: 'p-2', values: [0.1, 0.2] },
            { id: 'q 3', values: [0.3, 0.3] },
          ],
          namespace: '__default__',
        },
      });
      expect(upsert.status).toBe(200);
      expect(upsert.body).toEqual({ upsertedCount: 3 });
      const lsn = Number(upsert.headers.get('x-pinecone-request-lsn'));
      expect(lsn).toBeGreaterThan(0);

      const fetched = await call('GET', `${host}/vectors/fetch?ids=p-1&ids=q%203&ids=missing&namespace=__default__`);
      expect(fetched.body).toEqual({
        vectors: { 'p-1': { id: 'p-1', values: [0.5, 0.4], metadata: { genre: 'drama', year: 2020 } }, 'q 3': { id: 'q 3', values: [0.3, 0.3] } },
        namespace: '__default__',
        usage: { readUnits: 1 },
      });

      const query = await call('POST', `${host}/query`, {
        body: { namespace: '__default__', topK: 1, filter: { genre: { $eq: 'drama' } }, includeMetadata: true, vector: [0.5, 0.4] },
      });
      expect(query.body).toEqual({
        matches: [{ id: 'p-1', score: 1, metadata: { genre: 'drama', year: 2020 } }],
        namespace: '__default__',
        usage: { readUnits: 1 },
      });
      expect((await call('POST', `${host}/query`, { body: { topK: 3, id: 'nope' } })).body).toMatchObject({ matches: [], namespace: '__default__' });

      const update = await call('POST', `${host}/vectors/update`, { body: { id: 'p-1', setMetadata: { flavor: 'x' }, namespace: '__default__' } });
      expect(update.body).toEqual({ matchedRecords: 1 });
      expect(Number(update.headers.get('x-pinecone-request-lsn'))).toBeGreaterThan(lsn);
      expect((await call('GET', `${host}/vectors/fetch?ids=p-1`)).body.vectors['p-1'].metadata).toEqual({ genre: 'drama', year: 2020, flavor: 'x' });

      const page1 = await call('GET', `${host}/vectors/list?prefix=p-&limit=1&namespace=__default__`);
      expect(page1.body).toMatchObject({ vectors: [{ id: 'p-1' }], namespace: '__default__', usage: { readUnits: 1 } });
      const page2 = await call('GET', `${host}/vectors/list?prefix=p-&limit=1&namespace=__default__&paginationToken=${page1.body.pagination.next}`);
      expect(page2.body.vectors).toEqual([{ id: 'p-2' }]);
      expect(page2.body).not.toHaveProperty('pagination');
      expect((await call('GET', `${host}/vectors/list?namespace=`)).body.namespace).toBe('');

      for (const body of [{ ids: ['p-2'] }, { filter: { genre: { $eq: 'drama' } } }, { deleteAll: true }]) {
        const answer = await call('POST', `${host}/vectors/delete`, { body });
        expect(answer.status).toBe(200);
        expect(answer.body).toEqual({});
        expect(answer.headers.get('x-pinecone-request-lsn')).toMatch(/^\d+$/);
      }
      expect((await call('POST', `${host}/describe_index_stats`, { body: {} })).body.totalVectorCount).toBe(0);
    });

    it('answers data-plane errors as { code, message, details }', async () => {
      const { host } = await createIndex(uniqueIndexName('err'));
      expect(await call('POST', `${host}/vectors/upsert`, { body: { vectors: [{ id: 'a', values: [1, 2, 3] }] } })).toMatchObject({
        status: 400,
        body: { code: 3, message: 'vectors[0].values: Vector dimension 3 does not match the dimension of the index 2', details: [] },
      });
      expect((await call('POST', `${host}/vectors/upsert`, { body: { vectors: [] } })).body.message).toBe('vectors: must hold at least 1 record');
      // An own "__proto__" key is refused by name, not stored without it.
      for (const raw of [
        '{"vectors": [{"id": "p", "values": [1, 2], "metadata": {"__proto__": "x", "genre": "drama"}}]}',
        '{"vectors": [{"id": "p", "values": [1, 2], "metadata": {"__proto__": {"a": 1}}}]}',
      ]) {
        expect(await call('POST', `${host}/vectors/upsert`, { raw, headers: { 'content-type': 'application/json' } })).toMatchObject({
          status: 400,
          body: { code: 3, message: "vectors[0].metadata.__proto__: metadata keys must not be '__proto__'" },
        });
      }
      expect((await call('GET', `${host}/vectors/fetch?ids=p`)).body.vectors).toEqual({});
      expect((await call('POST', `${host}/query`, { body: { topK: 0, vector: [1, 1] } })).body).toMatchObject({ code: 3, message: 'topK: must be 1–10000' });
      expect((await call('POST', `${host}/query`, { body: { topK: 1, vector: [1, 1], sparseVector: { indices: [1], values: [1] } } })).status).toBe(400);
      expect((await call('POST', `${host}/describe_index_stats`, { body: { filter: { a: 1 } } })).status).toBe(400);
      expect(await call('POST', `${host}/query`, { raw: '{nope', headers: { 'content-type': 'application/json' } })).toMatchObject({
        status: 400,
        body: { code: 3 },
      });
      expect(await call('GET', `${host}/vectors/list`, { key: 'cnf_wrong' })).toMatchObject({ status: 401, body: { code: 16 } });
      expect(await call('GET', `${host}/namespaces/nope`)).toMatchObject({ status: 404, body: { code: 5, message: 'Namespace nope not found.' } });
      expect(await call('POST', `${host.replace(/indexes\/[^/]+$/, 'indexes/missing')}/query`, { body: { topK: 1, vector: [1, 1] } })).toMatchObject({
        status: 404,
        body: { code: 5, message: 'Index missing not found.' },
      });
      expect(await call('POST', `${host}/bulk/imports`, { body: { uri: 'ftp://b/p' } })).toMatchObject({ status: 400, body: { code: 3 } });
      expect(await call('POST', `${host}/bulk/imports`, { body: {} })).toMatchObject({ status: 400, body: { code: 3, message: 'uri: is required' } });
      expect(await call('GET', `${host}/bulk/imports/imp_nope`)).toMatchObject({ status: 404, body: { code: 5, message: 'Import imp_nope not found.' } });
    });

    it('reads a body sent without a JSON content type, as curl -d sends it', async () => {
      const { host } = await createIndex(uniqueIndexName('curl'));
      const answer = await call('POST', `${host}/vectors/upsert`, {
        raw: '{"vectors":[{"id":"a","values":[1,2]}]}',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(answer).toMatchObject({ status: 200, body: { upsertedCount: 1 } });
    });

    it('manages namespaces, names the default one per API version, and handles any name in the path', async () => {
      const { host } = await createIndex(uniqueIndexName('ns'));
      await call('POST', `${host}/vectors/upsert`, { body: { vectors: [{ id: 'a', values: [1, 2] }] } });
      const created = await call('POST', `${host}/namespaces`, { body: { name: 'a/b c', schema: { fields: { genre: { filterable: true } } } } });
      const described = { name: 'a/b c', record_count: 0, schema: { fields: { genre: { filterable: true } } }, indexed_fields: { fields: ['genre'] } };
      expect(created).toMatchObject({ status: 200, body: described });
      expect((await call('POST', `${host}/namespaces`, { body: { name: 'a/b c' } })).status).toBe(409);
      const path = `${host}/namespaces/${encodeURIComponent('a/b c')}`;
      expect((await call('GET', path)).body).toEqual(described);
      expect((await call('GET', `${host}/namespaces`)).body).toEqual({
        namespaces: [{ name: '__default__', record_count: 1 }, described],
        total_count: 2,
      });
      const old = { 'x-pinecone-api-version': '2025-01' };
      expect((await call('POST', `${host}/describe_index_stats`, { body: {}, headers: old })).body.namespaces).toEqual({ '': { vectorCount: 1 } });
      expect((await call('GET', `${host}/describe_index_stats`)).body.namespaces).toEqual({ __default__: { vectorCount: 1 } });
      expect((await call('GET', `${host}/namespaces/__default__`)).body).toEqual({ name: '__default__', record_count: 1 });
      const deleted = await call('DELETE', path);
      expect(deleted).toMatchObject({ status: 200, body: {} });
      expect((await call('GET', path)).status).toBe(404);
    });
    it('refuses a create-namespace body with a non-object schema, naming it, and creates nothing', async () => {
      const { host } = await createIndex(uniqueIndexName('nsbad'));
      for (const schema of [[null, null], 'fields', 7, null]) {
        expect(await call('POST', `${host}/namespaces`, { body: { name: 'typed', schema } })).toMatchObject({
          status: 400,
          body: { code: 3, message: 'schema: must be an object' },
        });
      }
      expect((await call('POST', `${host}/namespaces`, { body: { name: 'typed', schema: { fields: { genre: true } } } })).body.message).toBe(
        'schema.fields.genre: must be an object',
      );
      expect((await call('POST', `${host}/namespaces`, { body: { name: 'typed', schema: {} } })).body.message).toBe(
        'schema.fields: must be an object of fields',
      );
      expect((await call('POST', `${host}/namespaces`, { body: { name: 'typed', schema: { fields: { $and: { filterable: true } } } } })).body.message).toBe(
        "schema.fields.$and: field names must not start with '$'",
      );
      expect((await call('GET', `${host}/namespaces/typed`)).status).toBe(404);
      expect((await call('GET', `${host}/namespaces`)).body).toEqual({ namespaces: [], total_count: 0 });
    });

    it('stores a namespace schema: describes it with indexed_fields and refuses filters on fields it does not index', async () => {
      const { host } = await createIndex(uniqueIndexName('nsschema'));
      // As stored: unknown keys dropped, a field without `filterable` kept as not filterable.
      const created = await call('POST', `${host}/namespaces`, {
        body: { name: 'movies', schema: { fields: { year: { filterable: true }, genre: { filterable: true }, notes: {} }, extra: 1 } },
      });
      const movies = {
        name: 'movies',
        record_count: 0,
        schema: { fields: { genre: { filterable: true }, notes: { filterable: false }, year: { filterable: true } } },
        indexed_fields: { fields: ['genre', 'year'] },
      };
      expect(created).toMatchObject({ status: 200, body: movies });
      expect((await call('POST', `${host}/namespaces`, { body: { name: 'plain' } })).body).toEqual({ name: 'plain', record_count: 0 });
      const vectors = [
        { id: 'a', values: [1, 1], metadata: { genre: 'drama', year: 2001, notes: 'good' } },
        { id: 'b', values: [1, 2], metadata: { genre: 'comedy', year: 1999, notes: 'bad' } },
      ];
      await call('POST', `${host}/vectors/upsert`, { body: { vectors, namespace: 'movies' } });
      await call('POST', `${host}/vectors/upsert`, { body: { vectors, namespace: 'written' } });
      expect((await call('GET', `${host}/namespaces/movies`)).body).toEqual({ ...movies, record_count: 2 });
      expect((await call('GET', `${host}/namespaces/written`)).body).toEqual({ name: 'written', record_count: 2 });
      expect((await call('GET', `${host}/namespaces`)).body.namespaces).toEqual([
        { ...movies, record_count: 2 },
        { name: 'plain', record_count: 0 },
        { name: 'written', record_count: 2 },
      ]);

      const query = await call('POST', `${host}/query`, {
        body: { namespace: 'movies', vector: [1, 1], topK: 5, filter: { genre: 'drama', year: { $gt: 2000 } } },
      });
      expect(query.body.matches.map((m: { id: string }) => m.id)).toEqual(['a']);
      const refusal = (path: string, field: string) =>
        `${path}: metadata field "${field}" is not in the indexed fields of namespace "movies" (genre, year): only the fields its schema marks "filterable": true can be filtered on`;
      const notes = { notes: { $eq: 'good' } };
      for (const [path, body] of [
        ['/query', { namespace: 'movies', vector: [1, 1], topK: 5, filter: notes }],
        ['/vectors/fetch_by_metadata', { namespace: 'movies', filter: notes }],
        ['/vectors/update', { namespace: 'movies', filter: notes, setMetadata: { seen: true } }],
        ['/vectors/delete', { namespace: 'movies', filter: notes }],
      ] as const) {
        expect(await call('POST', `${host}${path}`, { body })).toMatchObject({ status: 400, body: { code: 3, message: refusal('filter.notes', 'notes') } });
      }
      expect(
        await call('POST', `${host}/query`, {
          body: { namespace: 'movies', id: 'a', topK: 1, filter: { $and: [{ genre: 'drama' }, { rating: { $gt: 1 } }] } },
        }),
      ).toMatchObject({ status: 400, body: { message: refusal('filter.$and[1].rating', 'rating') } });
      // Namespaces without a schema filter on every field.
      const written = await call('POST', `${host}/vectors/fetch_by_metadata`, { body: { namespace: 'written', filter: notes } });
      expect(Object.keys(written.body.vectors)).toEqual(['a']);

      // The schema goes with its namespace.
      expect((await call('DELETE', `${host}/namespaces/movies`)).status).toBe(200);
      await call('POST', `${host}/vectors/upsert`, { body: { vectors, namespace: 'movies' } });
      expect((await call('GET', `${host}/namespaces/movies`)).body).toEqual({ name: 'movies', record_count: 2 });
      expect((await call('POST', `${host}/vectors/fetch_by_metadata`, { body: { namespace: 'movies', filter: notes } })).status).toBe(200);
    });

    it('refuses blank and unprintable namespace names, naming the field; the default namespace keeps its aliases', async () => {
      const { host } = await createIndex(uniqueIndexName('nsname'));
      const refusals: [string, unknown, string][] = [
        ['POST', { name: '   ' }, 'name: must not be blank (only spaces)'],
        ['POST', { name: '' }, 'name: must not be empty'],
        ['POST', {}, 'name: must be a string'],
        ['POST', { name: 'tab\tname' }, 'name: must contain only printable ASCII characters (space to ~)'],
        ['POST', { name: '__default__' }, 'name: the default namespace always exists; give another name'],
      ];
      for (const [method, body, message] of refusals) {
        expect(await call(method, `${host}/namespaces`, { body })).toMatchObject({ status: 400, body: { code: 3, message } });
      }
      expect(await call('POST', `${host}/vectors/upsert`, { body: { vectors: [{ id: 'a', values: [1, 2] }], namespace: '  ' } })).toMatchObject({
        status: 400,
        body: { message: 'namespace: must not be blank (only spaces)' },
      });
      expect(await call('GET', `${host}/namespaces/%20`)).toMatchObject({ status: 400, body: { message: 'namespace: must not be blank (only spaces)' } });
      expect((await call('GET', `${host}/namespaces`)).body.total_count).toBe(0);
      for (const namespace of ['', '__default__']) {
        expect((await call('POST', `${host}/vectors/upsert`, { body: { vectors: [{ id: 'a', values: [1, 2] }], namespace } })).status).toBe(200);
      }
      expect((await call('GET', `${host}/namespaces/__default__`)).body).toEqual({ name: '__default__', record_count: 1 });
      expect((await call('POST', `${host}/namespaces`, { body: { name: ' padded ' } })).status).toBe(200);
      expect(await call('DELETE', `${host}/namespaces/%20padded%20`)).toMatchObject({ status: 200, body: {} });
    });

    it('refuses ids and names the control database cannot hold, naming them (each was a 500)', async () => {
      const { url } = running();
      expect(await call('DELETE', `${url}/admin/api-keys/%00`)).toMatchObject({
        status: 400,
        body: { error: { code: 'INVALID_ARGUMENT', message: 'keyId: must be valid Unicode without NUL characters' } },
      });
      expect((await call('GET', `${url}/admin/usage?index=%00`)).body.error.message).toMatch(/^index: must consist of lowercase alphanumeric/);
      expect((await call('GET', `${url}/admin/projects/%00/rate-limits`)).body.error.message).toBe('projectId: must be valid Unicode without NUL characters');
    });

    it('refuses an empty limit or date in the query string instead of reading it as absent', async () => {
      const { url } = running();
      const { host } = await createIndex(uniqueIndexName('empty'));
      for (const path of ['/vectors/list?limit=', '/namespaces?limit=']) {
        expect(await call('GET', `${host}${path}`)).toMatchObject({ status: 400, body: { code: 3, message: 'limit: must be an integer' } });
      }
      expect((await call('GET', `${url}/admin/usage?to=`)).body.error.message).toBe('to: must be a date YYYY-MM-DD');
      expect((await call('GET', `${url}/admin/usage?index=`)).body.error.message).toMatch(/^index: must be 1–45 characters/);
    });

    it('accepts back every value a fetch returns, the largest float32 included', async () => {
      const { host } = await createIndex(uniqueIndexName('f32'));
      await call('POST', `${host}/vectors/upsert`, {
        body: { vectors: [{ id: 'a', values: [3.4028234663852886e38, -1], sparseValues: { indices: [0], values: [3.4028234663852886e38] } }] },
      });
      const fetched = (await call('GET', `${host}/vectors/fetch?ids=a`)).body.vectors.a;
      expect(fetched).toEqual({ id: 'a', values: [3.4028235e38, -1], sparseValues: { indices: [0], values: [3.4028235e38] } });
      expect((await call('POST', `${host}/vectors/upsert`, { body: { vectors: [fetched] } })).status).toBe(200);
    });

    it('refuses a JSON null body as it refuses any body that is not an object', async () => {
      const { url } = running();
      const { host } = await createIndex(uniqueIndexName('null'));
      const json = { 'content-type': 'application/json' };
      expect(await call('POST', `${host}/describe_index_stats`, { raw: 'null', headers: json })).toMatchObject({
        status: 400,
        body: { code: 3, message: 'request body must be a JSON object' },
      });
      expect(await call('POST', `${url}/admin/api-keys`, { raw: 'null', headers: json })).toMatchObject({
        status: 400,
        body: { error: { code: 'INVALID_ARGUMENT', message: 'request body must be a JSON object' } },
      });
      // Whitespace is not JSON either; no body at all still reads as {}.
      expect(await call('POST', `${host}/describe_index_stats`, { raw: '\r\n', headers: json })).toMatchObject({
        status: 400,
        body: { code: 3, message: expect.stringMatching(/^malformed JSON in request body/) },
      });
      expect((await call('POST', `${host}/describe_index_stats`)).status).toBe(200);
      expect((await call('POST', `${host}/describe_index_stats`, { raw: '', headers: json })).status).toBe(200);
    });

    it('fetches as many ids of the longest length as the limits allow, all in the URL', async () => {
      const { host } = await createIndex(uniqueIndexName('wide'));
      // Every character percent-encoded: the longest URL a fetch within the limits can have.
      const id = (i: number) => `${String(i).padStart(4, '0')}${'/'.repeat(LIMITS.maxIdLength - 4)}`;
      const ids = Array.from({ length: LIMITS.maxIdsPerRequest }, (_, i) => `ids=${encodeURIComponent(id(i))}`).join('&');
      await call('POST', `${host}/vectors/upsert`, { body: { vectors: [{ id: id(7), values: [1, 2] }] } });
      const answer = await call('GET', `${host}/vectors/fetch?${ids}`);
      expect(answer.status).toBe(200);
      expect(Object.keys(answer.body.vectors)).toEqual([id(7)]);
    });
  });

  describe('projects, roles and keys', () => {
    it('keeps projects apart and enforces roles; revocation applies at once', async () => {
      const { url } = running();
      const name = uniqueIndexName('iso');
      const { host } = await createIndex(name);
      await call('POST', `${host}/vectors/upsert`, { body: { vectors: [{ id: 'secret', values: [1, 2] }] } });

      const tenant = await call('POST', `${url}/admin/projects`, { body: { name: uniqueIndexName('tenant') } });
      expect(tenant.status).toBe(201);
      const otherKey = tenant.body.apiKey as string;
      // The other project's key: the index is not found, by name or through its host.
      expect((await call('GET', `${url}/indexes/${name}`, { key: otherKey })).status).toBe(404);
      expect((await call('GET', `${url}/indexes`, { key: otherKey })).body).toEqual({ indexes: [] });
      for (const answer of [
        await call('GET', `${host}/vectors/fetch?ids=secret`, { key: otherKey }),
        await call('POST', `${host}/query`, { key: otherKey, body: { topK: 1, vector: [1, 2] } }),
        await call('POST', `${host}/vectors/delete`, { key: otherKey, body: { deleteAll: true } }),
      ]) {
        expect(answer).toMatchObject({ status: 404, body: { code: 5, message: `Index ${name} not found.` } });
      }
      // The same index name in the other project is a different index.
      await call('POST', `${url}/indexes`, { key: otherKey, body: { name, dimension: 2 } });
      const otherHost = (await call('GET', `${url}/indexes/${name}`, { key: otherKey })).body.host as string;
      expect(otherHost).not.toBe(host);
      expect((await call('GET', `${otherHost}/vectors/fetch?ids=secret`, { key: otherKey })).body.vectors).toEqual({});
      expect((await call('GET', `${host}/vectors/fetch?ids=secret`)).body.vectors.secret.id).toBe('secret');

      const reader = await call('POST', `${url}/admin/api-keys`, { body: { name: 'reader', role: 'read-only' } });
      expect(reader.status).toBe(201);
      expect(reader.body.key).toMatchObject({ name: 'reader', role: 'read-only', revokedAt: null });
      const readKey = reader.body.apiKey as string;
      expect((await call('POST', `${host}/query`, { key: readKey, body: { topK: 1, vector: [1, 2] } })).status).toBe(200);
      expect(await call('POST', `${host}/vectors/upsert`, { key: readKey, body: { vectors: [{ id: 'x', values: [1, 2] }] } })).toMatchObject({
        status: 403,
        body: { code: 7 },
      });
      expect(await call('POST', `${url}/indexes`, { key: readKey, body: { name: uniqueIndexName(), dimension: 2 } })).toMatchObject({
        status: 403,
        body: { error: { code: 'PERMISSION_DENIED' } },
      });
      expect((await call('GET', `${url}/admin/api-keys`, { key: readKey })).status).toBe(403);

      const listed = await call('GET', `${url}/admin/api-keys`);
      expect(listed.body.keys.map((k: { name: string }) => k.name)).toContain('reader');
      expect(listed.text).not.toContain(readKey);
      const revoked = await call('DELETE', `${url}/admin/api-keys/${reader.body.key.id}`);
      expect(revoked.body.revokedAt).not.toBeNull();
      expect((await call('POST', `${host}/query`, { key: readKey, body: { topK: 1, vector: [1, 2] } })).status).toBe(401);
      expect((await call('GET', `${url}/admin/whoami`, { key: otherKey })).body).toMatchObject({ role: 'admin', operator: false });
      expect((await call('POST', `${url}/admin/projects`, { key: otherKey, body: { name: 'nope' } })).status).toBe(403);
      // The cluster's nodes are the operator's business only.
      expect((await call('GET', `${url}/admin/cluster/nodes`, { key: otherKey })).status).toBe(403);
      const cluster = await call('GET', `${url}/admin/cluster/nodes`);
      expect(cluster.status).toBe(200);
      expect(cluster.body.nodes).toContainEqual(expect.objectContaining({ id: running().server.nodeId, state: 'active', live: true }));
    });

    it('reports usage per index and day', async () => {
      const { url } = running();
      const tenant = await call('POST', `${url}/admin/projects`, { body: { name: uniqueIndexName('usage') } });
      const key = tenant.body.apiKey as string;
      const created = await call('POST', `${url}/indexes`, { key, body: { name: 'metered', dimension: 2 } });
      const host = created.body.host as string;
      await call('POST', `${host}/vectors/upsert`, { key, body: { vectors: [{ id: 'a', values: [1, 2] }] } });
      await call('POST', `${host}/query`, { key, body: { topK: 1, vector: [1, 2] } });
      await call('GET', `${host}/vectors/fetch?ids=a`, { key });
      const usage = await call('GET', `${url}/admin/usage?index=metered`, { key });
      expect(usage.status).toBe(200);
      expect(usage.body.days).toEqual([expect.objectContaining({ indexName: 'metered', readUnits: 1.25, writeUnits: 5, requests: 3 })]);
      expect((await call('GET', `${url}/admin/usage?from=bad`, { key })).body.error.message).toBe('from: must be a date YYYY-MM-DD');
    });
  });

  describe('the cluster, as operators see it (one process)', () => {
    const invalid = (message: string) => ({ status: 400, body: { error: { code: 'INVALID_ARGUMENT', message }, status: 400 } });

    it('names this node as the owner of every namespace, with its epoch and LSNs and no replica', async () => {
      const { url, server } = running();
      const name = uniqueIndexName('owned');
      const { host } = await createIndex(name);
      const lsns: Record<string, number> = {};
      for (const namespace of ['', 'films', 'books']) {
        const written = await call('POST', `${host}/vectors/upsert`, { body: { namespace, vectors: [{ id: 'a', values: [1, 2] }] } });
        lsns[namespace] = Number(written.headers.get('x-pinecone-request-lsn'));
      }
      const answer = await call('GET', `${url}/admin/cluster/namespaces?index=${name}`);
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ index: name, singleProcess: true, totalCount: 3 });
      expect(answer.body.namespaces.map((n: { namespace: string }) => n.namespace)).toEqual(['', 'books', 'films']);
      for (const ns of answer.body.namespaces) {
        expect(ns).toEqual({
          namespace: ns.namespace,
          recordCount: 1,
          writer: { id: server.nodeId, url },
          writerEpoch: expect.any(Number),
          manifestVersion: expect.any(Number),
          writtenLsn: lsns[ns.namespace],
          flushedLsn: expect.any(Number),
          takenOver: true,
          query: null,
          appliedLsn: null,
          lagLsn: null,
        });
      }
      expect((await call('GET', `${url}/admin/cluster/namespaces?index=${name}&limit=1`)).body).toMatchObject({
        totalCount: 3,
        namespaces: [{ namespace: '' }],
      });
      expect(await call('GET', `${url}/admin/cluster/namespaces?index=missing-index`)).toMatchObject({
        status: 404,
        body: { error: { code: 'NOT_FOUND', message: 'Index missing-index not found.' } },
      });
    });

    it('lists index-build jobs (none are queued in one process) with their index, filtered by state', async () => {
      const { url, server } = running();
      const name = uniqueIndexName('jobs');
      await createIndex(name);
      const before = await call('GET', `${url}/admin/cluster/jobs`);
      expect(before.status).toBe(200);
      expect(before.body).toEqual({ jobs: [] });
      // The single process builds its own compactions; a job is planned here as a writer of a cluster would.
      const indexId = (await server.control.indexes.get((await server.services!.authenticate(TEST_API_KEY))!.projectId, name)).id;
      const job = await server.control.indexJobs.plan({
        indexId,
        namespace: 'films',
        kind: 'compaction',
        inputs: ['s1', 's2'],
        baseVersion: 3,
        writerEpoch: 1,
      });
      try {
        const listed = await call('GET', `${url}/admin/cluster/jobs?state=pending&state=running&limit=10`);
        expect(listed.body.jobs).toEqual([
          expect.objectContaining({ id: job.id, index: name, namespace: 'films', kind: 'compaction', state: 'pending', attempts: 0, claimedBy: null }),
        ]);
        expect((await call('GET', `${url}/admin/cluster/jobs?state=done`)).body).toEqual({ jobs: [] });
      } finally {
        await server.control.indexJobs.cancel(job.id);
      }
    });

    it('refuses bad parameters naming the field and the bound, and keys of other projects', async () => {
      const { url } = running();
      const jobs = (query: string) => call('GET', `${url}/admin/cluster/jobs?${query}`);
      expect(await jobs('limit=0')).toMatchObject(invalid('limit: must be 1–500'));
      expect(await jobs('limit=501')).toMatchObject(invalid('limit: must be at most 500'));
      expect(await jobs('limit=ten')).toMatchObject(invalid('limit: must be an integer'));
      expect(await jobs('limit=')).toMatchObject(invalid('limit: must be an integer'));
      expect(await jobs('state=stuck')).toMatchObject(invalid('state[0]: must be one of pending, running, done, failed, cancelled'));
      expect(await jobs('state=pending&state=')).toMatchObject(invalid('state[1]: must be one of pending, running, done, failed, cancelled'));
      const namespaces = (query: string) => call('GET', `${url}/admin/cluster/namespaces?${query}`);
      expect(await namespaces('')).toMatchObject(invalid('index: is required: the name of an index'));
      expect(await namespaces('index=Bad_Name')).toMatchObject({ status: 400, body: { error: { message: expect.stringMatching(/^index: must consist of/) } } });
      expect(await namespaces('index=x&limit=1001')).toMatchObject(invalid('limit: must be at most 1000'));

      const tenant = await call('POST', `${url}/admin/projects`, { body: { name: uniqueIndexName('tenant') } });
      const otherKey = tenant.body.apiKey as string;
      await call('POST', `${url}/indexes`, { key: otherKey, body: { name: 'theirs', dimension: 2 } });
      for (const path of ['/admin/cluster/jobs', '/admin/cluster/namespaces?index=theirs']) {
        expect(await call('GET', `${url}${path}`, { key: otherKey })).toMatchObject({
          status: 403,
          body: { error: { code: 'PERMISSION_DENIED', message: 'Reading the cluster needs an admin key of the operator project.' } },
        });
      }
      expect((await call('GET', `${url}/admin/cluster/jobs`, { key: null })).status).toBe(401);
    });
  });

  it('serves the OpenAPI document that is checked in as docs/openapi.json', async () => {
    const served = await call('GET', `${running().url}/openapi.json`, { key: null });
    expect(served.status).toBe(200);
    expect(served.body).toEqual(JSON.parse(renderOpenApi()));
    // Regenerate with `node apps/server/src/write-openapi.ts` when this fails after an API change.
    expect(await readFile(OPENAPI_FILE, 'utf8')).toBe(renderOpenApi());
    const paths = Object.keys(served.body.paths);
    expect(paths).toEqual(
      expect.arrayContaining(['/indexes', '/indexes/{indexName}', '/projects/{projectId}/indexes/{indexName}/query', '/admin/api-keys', '/admin/usage']),
    );
  });
});

describe('Pinecone REST API rate limits', () => {
  const running = useServer({ CONIFER_RATE_QUERY_PER_NAMESPACE: '2', CONIFER_RATE_FETCH_PER_INDEX: '1' });

  it('answers 429 with a message naming the limit', async () => {
    const { url } = running();
    const created = await call('POST', `${url}/indexes`, { body: { name: 'limited', dimension: 2 } });
    const host = created.body.host as string;
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await call('POST', `${host}/query`, { body: { topK: 1, vector: [1, 2] } }));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 429, 429]);
    // When to try again, for clients that back off (the SDK honours it).
    expect(answers.map((a) => a.headers.get('retry-after'))).toEqual([null, null, '1', '1']);
    expect(answers[2]!.body).toEqual({
      code: 8,
      message: 'Too many requests: query is limited to 2 requests per second per namespace (namespace "__default__" of index "limited"). Retry later.',
      details: [],
    });
    expect((await call('GET', `${host}/vectors/fetch?ids=a`)).status).toBe(200);
    expect((await call('GET', `${host}/vectors/fetch?ids=a`)).status).toBe(429);
  });
});
