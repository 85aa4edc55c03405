import { TRPCError } from '@trpc/server';
import { describe, expect, it } from 'vitest';
import { uniqueIndexName, useStack } from './test-support.ts';

async function failure(promise: Promise<unknown>): Promise<TRPCError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TRPCError);
  return error as TRPCError;
}

describe('data features', () => {
  const stack = useStack();

  it('fetches by metadata page by page, and updates by filter merging metadata', async () => {
    const api = stack().caller(stack().adminKey);
    const index = uniqueIndexName();
    await api.indexes.create({ name: index, dimension: 2 });
    const records = Array.from({ length: 5 }, (_, i) => ({ id: `r${i}`, values: [i + 1, 1], metadata: { genre: i % 2 === 0 ? 'drama' : 'comedy', n: i } }));
    await api.data.upsert({ index, namespace: 'ns', records });

    const page1 = await api.data.fetchByMetadata({ index, namespace: 'ns', filter: { genre: { $eq: 'drama' } }, limit: 2 });
    expect(page1.records.map((r) => r.id)).toEqual(['r0', 'r2']);
    expect(page1.pagination?.next).toBeDefined();
    const page2 = await api.data.fetchByMetadata({
      index,
      namespace: 'ns',
      filter: { genre: { $eq: 'drama' } },
      limit: 2,
      paginationToken: page1.pagination!.next,
    });
    expect(page2.records.map((r) => r.id)).toEqual(['r4']);
    expect(page2.pagination).toBeUndefined();

    expect(await api.data.update({ index, namespace: 'ns', filter: { genre: 'drama' }, setMetadata: { flag: true }, dryRun: true })).toEqual({
      matchedRecords: 3,
    });
    expect((await api.data.fetch({ index, namespace: 'ns', ids: ['r0'] })).records.r0!.metadata).toEqual({ genre: 'drama', n: 0 });
    const updated = await api.data.update({ index, namespace: 'ns', filter: { genre: 'drama' }, setMetadata: { flag: true } });
    expect(updated.matchedRecords).toBe(3);
    expect(updated.lsn).toBeGreaterThan(0);
    const drama = await api.data.fetchByMetadata({ index, namespace: 'ns', filter: { flag: true } });
    expect(drama.records.map((r) => [r.id, r.metadata])).toEqual([
      ['r0', { genre: 'drama', n: 0, flag: true }],
      ['r2', { genre: 'drama', n: 2, flag: true }],
      ['r4', { genre: 'drama', n: 4, flag: true }],
    ]);
    expect(await api.data.update({ index, namespace: 'ns', id: 'nope', values: [1, 1], dryRun: true })).toEqual({ matchedRecords: 0 });
    expect((await failure(api.data.update({ index, namespace: 'ns', id: 'r1', filter: { n: 1 }, values: [1, 1] }))).message).toBe(
      'id: exactly one of id or filter must be given',
    );
  });

  it('creates, describes, lists (paginated) and deletes namespaces', async () => {
    const api = stack().caller(stack().adminKey);
    const index = uniqueIndexName();
    await api.indexes.create({ name: index, dimension: 2 });
    expect(await api.namespaces.create({ index, namespace: 'empty' })).toEqual({ name: 'empty', recordCount: 0 });
    expect((await failure(api.namespaces.create({ index, namespace: 'empty' }))).code).toBe('CONFLICT');
    expect((await failure(api.namespaces.create({ index, namespace: '__default__' }))).code).toBe('BAD_REQUEST');
    for (const ns of ['b', 'a', 'c']) await api.data.upsert({ index, namespace: ns, records: [{ id: 'x', values: [1, 1] }] });
    expect(await api.namespaces.describe({ index, namespace: 'a' })).toEqual({ name: 'a', recordCount: 1 });
    expect((await failure(api.namespaces.describe({ index, namespace: 'nope' }))).code).toBe('NOT_FOUND');

    const first = await api.namespaces.list({ index, limit: 2 });
    expect(first.namespaces.map((n) => n.name)).toEqual(['a', 'b']);
    expect(first.totalCount).toBe(4);
    const second = await api.namespaces.list({ index, limit: 2, paginationToken: first.pagination!.next });
    expect(second.namespaces).toEqual([
      { name: 'c', recordCount: 1 },
      { name: 'empty', recordCount: 0 },
    ]);
    expect(second.pagination).toBeUndefined();
    expect((await api.namespaces.list({ index, prefix: 'e' })).namespaces.map((n) => n.name)).toEqual(['empty']);
    // Stats list only namespaces holding records.
    expect(Object.keys((await api.data.stats({ index })).namespaces)).toEqual(['a', 'b', 'c']);
    await api.namespaces.delete({ index, namespace: 'empty' });
    expect((await api.namespaces.list({ index })).totalCount).toBe(3);
  });

  it('stores a namespace’s metadata schema, describes it with its indexed fields, and refuses filters on other fields', async () => {
    const api = stack().caller(stack().adminKey);
    const index = uniqueIndexName();
    await api.indexes.create({ name: index, dimension: 2 });
    const schema = { fields: { year: { filterable: true }, genre: { filterable: true }, notes: {} } };
    const stored = { fields: { genre: { filterable: true }, notes: { filterable: false }, year: { filterable: true } } };
    const movies = { name: 'movies', recordCount: 0, schema: stored, indexedFields: ['genre', 'year'] };
    expect(await api.namespaces.create({ index, namespace: 'movies', schema })).toEqual(movies);
    // Refused creations keep the first schema.
    expect((await failure(api.namespaces.create({ index, namespace: 'movies', schema: { fields: { notes: { filterable: true } } } }))).code).toBe('CONFLICT');
    await api.namespaces.create({ index, namespace: 'plain' });
    // A namespace created by an upsert has no schema: every field is indexed.
    await api.data.upsert({ index, namespace: 'written', records: [{ id: 'w', values: [1, 1], metadata: { notes: 'x' } }] });
    expect(await api.namespaces.describe({ index, namespace: 'movies' })).toEqual(movies);
    expect(await api.namespaces.describe({ index, namespace: 'plain' })).toEqual({ name: 'plain', recordCount: 0 });
    expect((await api.namespaces.list({ index })).namespaces).toEqual([movies, { name: 'plain', recordCount: 0 }, { name: 'written', recordCount: 1 }]);

    const records = [
      { id: 'a', values: [1, 1], metadata: { genre: 'drama', year: 2001, notes: 'good' } },
      { id: 'b', values: [1, 2], metadata: { genre: 'comedy', year: 1999, notes: 'bad' } },
    ];
    await api.data.upsert({ index, namespace: 'movies', records });
    expect((await api.namespaces.describe({ index, namespace: 'movies' })).recordCount).toBe(2);
    // Indexed fields filter as ever, in every operation.
    const query = await api.data.query({
      index,
      namespace: 'movies',
      vector: [1, 1],
      topK: 5,
      filter: { $and: [{ genre: 'drama' }, { year: { $gt: 2000 } }] },
    });
    expect(query.matches.map((m) => m.id)).toEqual(['a']);
    expect((await api.data.fetchByMetadata({ index, namespace: 'movies', filter: { genre: 'comedy' } })).records.map((r) => r.id)).toEqual(['b']);

    const refused = (field: string, path = `filter.${field}`) =>
      `${path}: metadata field "${field}" is not in the indexed fields of namespace "movies" (genre, year): only the fields its schema marks "filterable": true can be filtered on`;
    const notes = { notes: 'good' };
    for (const attempt of [
      api.data.query({ index, namespace: 'movies', vector: [1, 1], topK: 5, filter: notes }),
      api.data.fetchByMetadata({ index, namespace: 'movies', filter: notes }),
      api.data.update({ index, namespace: 'movies', filter: notes, setMetadata: { seen: true } }),
      api.data.update({ index, namespace: 'movies', filter: notes, setMetadata: { seen: true }, dryRun: true }),
      api.data.delete({ index, namespace: 'movies', filter: notes }),
    ]) {
      const error = await failure(attempt);
      expect([error.code, error.message]).toEqual(['BAD_REQUEST', refused('notes')]);
    }
    expect(
      (await failure(api.data.query({ index, namespace: 'movies', id: 'a', topK: 1, filter: { $or: [{ genre: 'x' }, { rating: { $gte: 3 } }] } }))).message,
    ).toBe(refused('rating', 'filter.$or[1].rating'));
    // Nothing was changed or deleted by the refused writes; other namespaces filter on any field.
    expect((await api.data.fetch({ index, namespace: 'movies', ids: ['a', 'b'] })).records.a!.metadata).toEqual(records[0]!.metadata);
    expect((await api.data.fetchByMetadata({ index, namespace: 'written', filter: notes })).records).toEqual([]);
    expect((await api.data.fetchByMetadata({ index, namespace: 'written', filter: { notes: 'x' } })).records.map((r) => r.id)).toEqual(['w']);

    // Deleting the namespace takes its schema: recreated by an upsert, it has none.
    await api.namespaces.delete({ index, namespace: 'movies' });
    await api.data.upsert({ index, namespace: 'movies', records });
    expect(await api.namespaces.describe({ index, namespace: 'movies' })).toEqual({ name: 'movies', recordCount: 2 });
    expect((await api.data.fetchByMetadata({ index, namespace: 'movies', filter: notes })).records.map((r) => r.id)).toEqual(['a']);
  });

  it('refuses a schema that is not Pinecone’s MetadataSchema, and creates nothing', async () => {
    const api = stack().caller(stack().adminKey);
    const index = uniqueIndexName();
    await api.indexes.create({ name: index, dimension: 2 });
    const bad = (schema: unknown) => failure(api.namespaces.create({ index, namespace: 'typed', schema: schema as never }));
    expect((await bad({})).message).toBe('schema.fields: must be an object of fields');
    expect((await bad({ fields: { $genre: { filterable: true } } })).message).toBe("schema.fields.$genre: field names must not start with '$'");
    expect((await bad({ fields: { genre: { filterable: 'yes' } } })).message).toBe('schema.fields.genre.filterable: must be a boolean');
    expect((await api.namespaces.list({ index })).totalCount).toBe(0);
  });

  it('forgets the schemas of a deleted index', async () => {
    const { control, services } = stack();
    const api = stack().caller(stack().adminKey);
    const index = uniqueIndexName();
    await api.indexes.create({ name: index, dimension: 2 });
    await api.namespaces.create({ index, namespace: 'ns', schema: { fields: { genre: { filterable: true } } } });
    const record = await control.indexes.get(stack().projectId, index);
    expect(await control.namespaceSchemas.get(record.id, 'ns')).toBeDefined();
    const auth = (await services.authenticate(stack().adminKey))!;
    await services.deleteIndex(auth, { name: index });
    expect(await control.namespaceSchemas.get(record.id, 'ns')).toBeUndefined();
    // A new index of the same name starts without schemas.
    await api.indexes.create({ name: index, dimension: 2 });
    await api.data.upsert({ index, namespace: 'ns', records: [{ id: 'a', values: [1, 1], metadata: { other: 1 } }] });
    expect(await api.namespaces.describe({ index, namespace: 'ns' })).toEqual({ name: 'ns', recordCount: 1 });
    expect((await api.data.fetchByMetadata({ index, namespace: 'ns', filter: { other: 1 } })).records).toHaveLength(1);
  });

  it('scores sparse-dense records on dotproduct indexes as dense·dense + sparse·sparse', async () => {
    const api = stack().caller(stack().adminKey);
    const index = uniqueIndexName();
    await api.indexes.create({ name: index, dimension: 2, metric: 'dotproduct' });
    await api.data.upsert({
      index,
      records: [
        { id: 'a', values: [1, 0], sparseValues: { indices: [7], values: [2] } },
        { id: 'b', values: [1, 0], sparseValues: { indices: [9], values: [0.5] } },
      ],
    });
    const result = await api.data.query({ index, vector: [1, 0], sparseVector: { indices: [7, 9], values: [1, 1] }, topK: 2, includeValues: true });
    expect(result.matches.map((m) => [m.id, m.score])).toEqual([
      ['a', 3],
      ['b', 1.5],
    ]);
    expect(result.matches[0]!.sparseValues).toEqual({ indices: [7], values: [2] });
    await api.data.update({ index, id: 'b', sparseValues: { indices: [7], values: [0.4] } });
    expect((await api.data.fetch({ index, ids: ['b'] })).records.b!.sparseValues).toEqual({ indices: [7], values: [0.4] });

    const cosine = uniqueIndexName();
    await api.indexes.create({ name: cosine, dimension: 2 });
    const error = await failure(api.data.query({ index: cosine, vector: [1, 0], sparseVector: { indices: [1], values: [1] }, topK: 1 }));
    expect(error.code).toBe('BAD_REQUEST');
  });
});

describe('rate limits through the services', () => {
  let now = 0;
  const stack = useStack({ rateLimits: { queryPerNamespace: 2, listPerIndex: 1 }, now: () => now });

  it('answers TOO_MANY_REQUESTS past the limit, per namespace, and recovers', async () => {
    const api = stack().caller(stack().adminKey);
    const index = uniqueIndexName();
    await api.indexes.create({ name: index, dimension: 2 });
    await api.data.query({ index, vector: [1, 1], topK: 1 });
    await api.data.query({ index, vector: [1, 1], topK: 1 });
    const error = await failure(api.data.query({ index, vector: [1, 1], topK: 1 }));
    expect(error.code).toBe('TOO_MANY_REQUESTS');
    expect(error.message).toContain('query is limited to 2 requests per second per namespace');
    await api.data.query({ index, namespace: 'other', vector: [1, 1], topK: 1 });
    await api.data.list({ index });
    expect((await failure(api.data.list({ index, namespace: 'x' }))).message).toContain('list is limited to 1 requests per second per index');
    now += 1000;
    await api.data.query({ index, vector: [1, 1], topK: 1 });
  });
});

describe('rate-limit overrides per project and per index', () => {
  let now = 0;
  // The node has limits off (the default); the operator sets them for a tenant.
  const stack = useStack({ now: () => now });

  it('lets only the operator set them; a tenant reads its own and is limited by them, index over project', async () => {
    const operator = stack().caller(stack().adminKey);
    const { project, apiKey } = await operator.projects.create({ name: uniqueIndexName('tenant') });
    const tenant = stack().caller(apiKey);
    const index = uniqueIndexName();
    await tenant.indexes.create({ name: index, dimension: 2 });
    for (let i = 0; i < 50; i++) await tenant.data.query({ index, vector: [1, 1], topK: 1 });

    // Tenants do not set their own limits, not even their admin keys.
    expect((await failure(tenant.rateLimits.set({ limits: { queryPerNamespace: 1000 } }))).code).toBe('FORBIDDEN');
    const reader = stack().caller((await tenant.keys.create({ name: 'r', role: 'read-only' })).apiKey);
    expect((await failure(reader.rateLimits.get({}))).code).toBe('FORBIDDEN');
    // …nor see another project's.
    expect((await failure(tenant.rateLimits.get({ projectId: stack().projectId }))).code).toBe('NOT_FOUND');

    const set = await operator.rateLimits.set({ projectId: project.id, limits: { queryPerNamespace: 3, listPerIndex: 1 } });
    expect(set).toMatchObject({ projectId: project.id, projectOverrides: { queryPerNamespace: 3, listPerIndex: 1 } });
    expect(set.node.queryPerNamespace).toBe(0);
    expect(set.effective).toMatchObject({ queryPerNamespace: 3, listPerIndex: 1, fetchPerIndex: 0 });
    expect(await tenant.rateLimits.get({})).toEqual(set);

    for (let i = 0; i < 3; i++) await tenant.data.query({ index, vector: [1, 1], topK: 1 });
    expect((await failure(tenant.data.query({ index, vector: [1, 1], topK: 1 }))).message).toContain('query is limited to 3 requests per second per namespace');
    // The operator's own project is not affected.
    const own = uniqueIndexName();
    await operator.indexes.create({ name: own, dimension: 2 });
    for (let i = 0; i < 10; i++) await operator.data.query({ index: own, vector: [1, 1], topK: 1 });

    // An index override wins over the project's; 0 lifts a limit.
    const indexView = await operator.rateLimits.set({ projectId: project.id, index, limits: { queryPerNamespace: 0 } });
    expect(indexView).toMatchObject({ index, indexOverrides: { queryPerNamespace: 0 }, effective: { queryPerNamespace: 0, listPerIndex: 1 } });
    for (let i = 0; i < 20; i++) await tenant.data.query({ index, vector: [1, 1], topK: 1 });
    await tenant.data.list({ index });
    expect((await failure(tenant.data.list({ index }))).message).toContain('list is limited to 1 requests per second per index');

    // Bad overrides are refused, naming the limit; nothing is stored.
    const bad = await failure(operator.rateLimits.set({ projectId: project.id, limits: { queryPerNamespace: -5 } }));
    expect(bad.code).toBe('BAD_REQUEST');
    expect(bad.message).toBe('limits.queryPerNamespace: must be a number >= 0 (0 = unlimited)');
    expect((await operator.rateLimits.get({ projectId: project.id })).projectOverrides).toEqual({ queryPerNamespace: 3, listPerIndex: 1 });
    expect((await failure(operator.rateLimits.set({ projectId: 'prj_nope', limits: {} }))).code).toBe('NOT_FOUND');
    expect((await failure(operator.rateLimits.get({ projectId: project.id, index: 'nope' }))).code).toBe('NOT_FOUND');
    now += 1000;
  });
});
