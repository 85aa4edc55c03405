import { Errors, Pinecone } from '@pinecone-database/pinecone';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** A running Conifer the suite talks to: a server process, or a container. */
export interface CompatTarget {
  url: string;
  apiKey: string;
  /** How the target's index hosts address the data plane (`CONIFER_INDEX_HOSTS`); default `paths`. */
  indexHosts?: 'ports' | 'paths';
  stop(): Promise<void>;
}

const { PineconeAuthorizationError, PineconeBadRequestError, PineconeConflictError, PineconeNotFoundError, PineconeUnmappedHttpError } = Errors;

/**
 * Compatibility suite: the official Pinecone TypeScript client 8.2.0, pointed at a real Conifer (a
 * server process or the image as a container) by changing only `controllerHostUrl` and the API key, drives every serverless
 * operation — and the error cases must surface as the client's own typed errors.
 */

const spec = { serverless: { cloud: 'aws' as const, region: 'us-east-1' } };

/** The error a promise rejected with. */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

/**
 * Defines the suite against the Conifer `start` brings up, with Pinecone's own rate limits on
 * (`CONIFER_RATE_LIMITS=on`: the target must be started with it).
 */
export function pineconeCompatSuite(label: string, start: () => Promise<CompatTarget>): void {
  describe(`official Pinecone client 8.2.0 against ${label}`, () => {
    let server: CompatTarget;
    let pc: Pinecone;

    /** A client of the same server with another API key. */
    const clientWithKey = (apiKey: string) => new Pinecone({ apiKey, controllerHostUrl: server.url, maxRetries: 0 });

    /** Raw REST call with the admin key (the admin API is Conifer's own). */
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async function admin(method: string, path: string, body?: unknown): Promise<any> {
      const response = await fetch(`${server.url}${path}`, {
        method,
        headers: { 'api-key': server.apiKey, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      return response.json();
    }

    beforeAll(async () => {
      server = await start();
      pc = new Pinecone({ apiKey: server.apiKey, controllerHostUrl: server.url, maxRetries: 0 });
    });

    afterAll(async () => {
      await server?.stop();
    });

    describe('control plane', () => {
      it('creates, describes and lists a serverless index', async () => {
        const created = await pc.createIndex({ name: 'acc', dimension: 2, metric: 'cosine', spec, waitUntilReady: true, tags: { t: 'v' } });
        expect(created).toMatchObject({
          name: 'acc',
          dimension: 2,
          metric: 'cosine',
          vectorType: 'dense',
          tags: { t: 'v' },
          status: { ready: true, state: 'Ready' },
        });
        expect(created!.host).toMatch(
          server.indexHosts === 'ports' ? /^http:\/\/127\.0\.0\.1:\d+$/ : /^http:\/\/127\.0\.0\.1:\d+\/projects\/prj_\w+\/indexes\/acc$/,
        );
        if (server.indexHosts === 'ports') expect(created!.host).not.toBe(server.url);
        const described = await pc.describeIndex('acc');
        expect((described.spec as { serverless?: unknown }).serverless).toMatchObject({
          cloud: 'aws',
          region: 'us-east-1',
          readCapacity: { mode: 'OnDemand' },
        });
        expect(described.deletionProtection).toBe('disabled');
        expect((await pc.listIndexes()).indexes!.map((i) => i.name)).toContain('acc');
        // suppressConflicts swallows the 409; without it the client raises its conflict error.
        await pc.createIndex({ name: 'acc', dimension: 2, spec, suppressConflicts: true });
        expect(await rejection(pc.createIndex({ name: 'acc', dimension: 2, spec }))).toBeInstanceOf(PineconeConflictError);
      });

      it('reports invalid names and missing indexes with the client’s error classes', async () => {
        const bad = await rejection(pc.createIndex({ name: 'bad-name-', dimension: 2, spec }));
        expect(bad).toBeInstanceOf(PineconeBadRequestError);
        expect(bad.message).toContain('alphanumeric character');
        expect(await rejection(pc.describeIndex('missing'))).toBeInstanceOf(PineconeNotFoundError);
        expect(await rejection(pc.deleteIndex('missing'))).toBeInstanceOf(PineconeNotFoundError);
        // Unsupported operations are a 400 naming the feature (a 5xx would make the client retry).
        const collections = await rejection(pc.listCollections());
        expect(collections).toBeInstanceOf(PineconeBadRequestError);
        expect(collections.message).toContain('Collections are not supported by Conifer.');
      });

      it('configures tags and deletion protection, and deletes', async () => {
        await pc.createIndex({ name: 'cfg', dimension: 3, metric: 'euclidean', spec, tags: { a: '1', b: '2' } });
        await pc.configureIndex({ name: 'cfg', tags: { c: '3' } });
        expect((await pc.describeIndex('cfg')).tags).toEqual({ a: '1', b: '2', c: '3' });
        await pc.configureIndex({ name: 'cfg', tags: { a: '', b: 'changed' } });
        expect((await pc.describeIndex('cfg')).tags).toEqual({ b: 'changed', c: '3' });
        await pc.configureIndex({ name: 'cfg', deletionProtection: 'enabled' });
        expect((await pc.describeIndex('cfg')).tags).toEqual({ b: 'changed', c: '3' });
        const refused = await rejection(pc.deleteIndex('cfg'));
        expect(refused).toBeInstanceOf(PineconeBadRequestError);
        expect(refused.message).toContain('Deletion protection is enabled for this index');
        await pc.configureIndex({ name: 'cfg', deletionProtection: 'disabled' });
        await pc.deleteIndex('cfg');
        expect(await rejection(pc.describeIndex('cfg'))).toBeInstanceOf(PineconeNotFoundError);
      });
    });

    describe('data plane', () => {
      const records = [
        { id: 'p-1', values: [0.5, 0.4], metadata: { genre: 'drama', year: 2020 } },
        { id: 'p-2', values: [0.1, 0.9], metadata: { genre: 'comedy', year: 1999 } },
        { id: 'p-3', values: [0.7, 0.2], metadata: { genre: 'drama', year: 2010 } },
        { id: 'p-4', values: [0.3, 0.3], metadata: { genre: 'documentary', year: 1990 } },
        { id: 'q-1', values: [0.2, 0.8], metadata: { genre: 'comedy', year: 2021 } },
      ];

      beforeAll(async () => {
        await pc.createIndex({ name: 'data', dimension: 2, metric: 'cosine', spec, waitUntilReady: true });
      });

      it('upserts, counts, fetches exactly what was written, and queries', async () => {
        const idx = pc.index({ name: 'data', namespace: 'ns1' });
        await idx.upsert({ records });
        expect((await idx.describeIndexStats()).namespaces!['ns1']!.recordCount).toBe(5);

        const fetched = await idx.fetch({ ids: ['p-1', 'missing'] });
        expect(Object.keys(fetched.records)).toEqual(['p-1']);
        expect(fetched.records['p-1']!.values).toEqual([0.5, 0.4]);
        expect(fetched.records['p-1']!.metadata).toEqual({ genre: 'drama', year: 2020 });
        expect(fetched.usage!.readUnits).toBeDefined();

        const filtered = await idx.query({ vector: [0.5, 0.4], topK: 2, includeMetadata: true, filter: { year: { $gte: 2010 } } });
        expect(filtered.matches.map((m) => m.id)).toEqual(['p-1', 'p-3']);
        expect(filtered.matches[0]!.score).toBeCloseTo(1, 5);
        expect(filtered.matches[0]!.metadata).toEqual({ genre: 'drama', year: 2020 });
        expect(filtered.usage?.readUnits).toBeGreaterThan(0);

        expect((await idx.query({ id: 'p-1', topK: 4 })).matches).toHaveLength(4);
        expect((await idx.query({ id: 'nope', topK: 2 })).matches).toEqual([]);
        expect((await idx.query({ vector: [0.11, 0.22], topK: 11 })).matches).toHaveLength(5);
        const withValues = await idx.query({ vector: [0.11, 0.22], topK: 2, includeValues: true, includeMetadata: true });
        expect(withValues.matches[0]!.values).toHaveLength(2);
      });

      it('lists ids with prefix and pagination, omitting pagination on the last page', async () => {
        const idx = pc.index({ name: 'data', namespace: 'ns1' });
        const all = await idx.listPaginated();
        expect(all.vectors!.map((v) => v.id)).toEqual(['p-1', 'p-2', 'p-3', 'p-4', 'q-1']);
        expect(all.pagination).toBeUndefined();
        expect(all.namespace).toBe('ns1');
        expect((await idx.listPaginated({ prefix: 'q-' })).vectors!.map((v) => v.id)).toEqual(['q-1']);
        const first = await idx.listPaginated({ prefix: 'p-', limit: 3 });
        expect(first.vectors).toHaveLength(3);
        expect(first.pagination?.next).toBeDefined();
        const second = await idx.listPaginated({ prefix: 'p-', limit: 5, paginationToken: first.pagination!.next });
        expect(second.vectors!.map((v) => v.id)).toEqual(['p-4']);
        expect(second.pagination).toBeUndefined();
      });

      it('updates by id and by filter, merging metadata, and fetches by metadata', async () => {
        const idx = pc.index({ name: 'data', namespace: 'ns1' });
        await idx.update({ id: 'p-1', values: [0.4, 0.5], metadata: { flavor: 'x' } });
        const one = (await idx.fetch({ ids: ['p-1'] })).records['p-1']!;
        expect(one.values).toEqual([0.4, 0.5]);
        expect(one.metadata).toMatchObject({ genre: 'drama', year: 2020, flavor: 'x' });

        await idx.update({ filter: { genre: { $eq: 'drama' } }, metadata: { f: 'y' } });
        const drama = await idx.fetchByMetadata({ filter: { genre: { $eq: 'drama' } } });
        expect(Object.keys(drama.records).sort()).toEqual(['p-1', 'p-3']);
        for (const record of Object.values(drama.records)) expect(record.metadata).toMatchObject({ genre: 'drama', f: 'y' });
        expect(drama.pagination).toBeUndefined();
        const page = await idx.fetchByMetadata({ filter: { genre: { $in: ['drama', 'comedy'] } }, limit: 2 });
        expect(Object.keys(page.records)).toHaveLength(2);
        expect(page.pagination?.next).toBeDefined();
      });

      it('deletes by id, by filter and all', async () => {
        const idx = pc.index({ name: 'data', namespace: 'ns1' });
        await idx.deleteOne({ id: 'p-1' });
        await idx.deleteMany({ ids: ['p-2'] });
        await idx.deleteMany({ filter: { year: { $lt: 2000 } } });
        expect((await idx.listPaginated()).vectors!.map((v) => v.id)).toEqual(['p-3', 'q-1']);
        await idx.deleteAll();
        expect((await idx.listPaginated()).vectors).toEqual([]);
      });

      it('uses "__default__" as the default namespace', async () => {
        const idx = pc.index({ name: 'data' });
        await idx.upsert({ records: [{ id: 'd', values: [1, 2] }] });
        expect((await idx.listPaginated()).namespace).toBe('__default__');
        const stats = await idx.describeIndexStats();
        expect(stats.namespaces!['__default__']!.recordCount).toBe(1);
        expect(stats.totalRecordCount).toBe(1);
        expect(stats.dimension).toBe(2);
        expect(Object.keys((await pc.index({ name: 'data', namespace: '__default__' }).fetch({ ids: ['d'] })).records)).toEqual(['d']);
      });

      it('rejects a vector of the wrong dimension with PineconeBadRequestError', async () => {
        const idx = pc.index({ name: 'data', namespace: 'ns1' });
        const error = await rejection(idx.upsert({ records: [{ id: 'bad', values: [1, 2, 3] }] }));
        expect(error).toBeInstanceOf(PineconeBadRequestError);
        expect(error.message).toContain('Vector dimension 3 does not match the dimension of the index 2');
        expect(await rejection(idx.query({ vector: [1, 2, 3], topK: 1 }))).toBeInstanceOf(PineconeBadRequestError);
        expect(await rejection(pc.index({ name: 'missing' }).fetch({ ids: ['a'] }))).toBeInstanceOf(PineconeNotFoundError);
      });

      it('searches records by vector and by id (searchRecords), refusing text search with PineconeBadRequestError', async () => {
        const idx = pc.index({ name: 'data', namespace: 'search' });
        await idx.upsert({ records });
        const byVector = await idx.searchRecords({ query: { topK: 2, vector: { values: [0.5, 0.4] }, filter: { genre: { $eq: 'drama' } } } });
        expect(byVector.result.hits.map((h) => h._id)).toEqual(['p-1', 'p-3']);
        expect(byVector.result.hits[0]!._score).toBeCloseTo(1, 5);
        // Without `fields`, every metadata field.
        expect(byVector.result.hits[0]!.fields).toEqual({ genre: 'drama', year: 2020 });
        expect(byVector.usage.readUnits).toBeGreaterThan(0);

        const byId = await idx.searchRecords({ query: { topK: 3, id: 'q-1' }, fields: ['year'] });
        expect(byId.result.hits.map((h) => h._id)).toEqual(['q-1', 'p-2', 'p-4']);
        expect(byId.result.hits.map((h) => h.fields)).toEqual([{ year: 2021 }, { year: 1999 }, { year: 1990 }]);
        // The namespace given to the call wins over the index's, as the client documents.
        const elsewhere = await pc.index({ name: 'data' }).searchRecords({ namespace: 'search', query: { topK: 1, id: 'p-3' } });
        expect(elsewhere.result.hits.map((h) => h._id)).toEqual(['p-3']);

        const text = await rejection(idx.searchRecords({ query: { topK: 1, inputs: { text: 'a drama' } } }));
        expect(text).toBeInstanceOf(PineconeBadRequestError);
        expect(text.message).toContain('query.inputs: searching by text needs an integrated embedding model');
        const upsertText = await rejection(idx.upsertRecords({ records: [{ _id: 't', chunk_text: 'text' }] }));
        expect(upsertText).toBeInstanceOf(PineconeBadRequestError);
        expect(upsertText.message).toContain('Upserting text records is not supported by Conifer');
        const dimension = await rejection(idx.searchRecords({ query: { topK: 1, vector: { values: [1, 2, 3] } } }));
        expect(dimension).toBeInstanceOf(PineconeBadRequestError);
        expect(dimension.message).toContain('query.vector.values: Vector dimension 3 does not match the dimension of the index 2');
      });

      it('creates, lists, describes and deletes namespaces', async () => {
        const idx = pc.index({ name: 'data' });
        const created = await idx.createNamespace({ name: 'made', schema: { fields: { test: { filterable: true } } } });
        expect(created.name).toBe('made');
        expect(created.schema).toEqual({ fields: { test: { filterable: true } } });
        expect(created.indexedFields).toEqual({ fields: ['test'] });
        expect(await idx.describeNamespace('made')).toMatchObject({
          name: 'made',
          schema: { fields: { test: { filterable: true } } },
          indexedFields: { fields: ['test'] },
        });
        // A filter on a field the schema does not index is refused; one it indexes is served.
        const made = pc.index({ name: 'data', namespace: 'made' });
        const unindexed = await rejection(made.query({ vector: [1, 1], topK: 1, filter: { other: { $eq: 1 } } }));
        expect(unindexed).toBeInstanceOf(PineconeBadRequestError);
        expect(unindexed.message).toContain('metadata field "other" is not in the indexed fields of namespace "made"');
        expect((await made.query({ vector: [1, 1], topK: 1, filter: { test: { $eq: 1 } } })).matches).toEqual([]);
        expect(await rejection(idx.createNamespace({ name: 'made' }))).toBeInstanceOf(PineconeConflictError);
        await pc.index({ name: 'data', namespace: 'written' }).upsert({ records: [{ id: 'w', values: [1, 1] }] });
        const listed = await idx.listNamespaces();
        const names = listed.namespaces!.map((n) => n.name);
        expect(names).toEqual(expect.arrayContaining(['made', 'written', '__default__']));
        expect(listed.totalCount).toBe(names.length);
        expect(await idx.describeNamespace('written')).toMatchObject({ name: 'written', recordCount: 1 });
        const paged = await idx.listNamespaces({ limit: 1 });
        expect(paged.namespaces).toHaveLength(1);
        expect(paged.pagination?.next).toBeDefined();
        await idx.deleteNamespace('made');
        expect((await idx.listNamespaces()).namespaces!.map((n) => n.name)).not.toContain('made');
        expect(await rejection(idx.describeNamespace('made'))).toBeInstanceOf(PineconeNotFoundError);
      });
    });

    describe('sparse-dense (hybrid) on a dotproduct index', () => {
      it('scores dense·dense + sparse·sparse and round-trips sparse values', async () => {
        await pc.createIndex({ name: 'hybrid', dimension: 2, metric: 'dotproduct', spec, waitUntilReady: true });
        const idx = pc.index({ name: 'hybrid', namespace: 'h' });
        await idx.upsert({
          records: [
            { id: 'a', values: [1, 0], sparseValues: { indices: [7], values: [2] } },
            { id: 'b', values: [1, 0], sparseValues: { indices: [9], values: [0.5] } },
            { id: 'c', values: [0.5, 0] },
          ],
        });
        const result = await idx.query({ vector: [1, 0], sparseVector: { indices: [7, 9], values: [1, 1] }, topK: 3, includeValues: true });
        expect(result.matches.map((m) => [m.id, m.score])).toEqual([
          ['a', 3],
          ['b', 1.5],
          ['c', 0.5],
        ]);
        expect(result.matches[0]!.sparseValues).toEqual({ indices: [7], values: [2] });
        // The same through searchRecords: the sparse part beside the dense values.
        const searched = await idx.searchRecords({ query: { topK: 3, vector: { values: [1, 0], sparseIndices: [7, 9], sparseValues: [1, 1] } } });
        expect(searched.result.hits.map((h) => [h._id, h._score])).toEqual([
          ['a', 3],
          ['b', 1.5],
          ['c', 0.5],
        ]);
        await idx.update({ id: 'b', sparseValues: { indices: [0, 1], values: [0.5, 0.4] } });
        expect((await idx.fetch({ ids: ['b'] })).records['b']!.sparseValues).toEqual({ indices: [0, 1], values: [0.5, 0.4] });
        // Sparse queries need a dotproduct index.
        const error = await rejection(pc.index({ name: 'acc' }).query({ vector: [1, 0], sparseVector: { indices: [1], values: [1] }, topK: 1 }));
        expect(error).toBeInstanceOf(PineconeBadRequestError);
      });
    });

    describe('sparse-only index', () => {
      it('creates it without a dimension, upserts and queries sparse vectors, and counts them', async () => {
        await pc.createIndex({ name: 'lexical', vectorType: 'sparse', metric: 'dotproduct', spec, waitUntilReady: true });
        const described = await pc.describeIndex('lexical');
        expect(described).toMatchObject({ vectorType: 'sparse', metric: 'dotproduct' });
        expect(described.dimension ?? undefined).toBeUndefined();
        const idx = pc.index({ name: 'lexical', namespace: 'words' });
        await idx.upsert({
          records: [
            { id: 'a', sparseValues: { indices: [1, 5], values: [0.5, 2] }, metadata: { lang: 'en' } },
            { id: 'b', sparseValues: { indices: [5, 9], values: [1, 1] }, metadata: { lang: 'fr' } },
            { id: 'c', sparseValues: { indices: [3], values: [4] } },
          ],
        });
        // Client 8.2's types want a dense vector or an id; at run time it sends a sparse-only query
        // as Pinecone documents for sparse indexes (an empty vector it refuses itself).
        type Query = Parameters<typeof idx.query>[0];
        const result = await idx.query({ sparseVector: { indices: [5, 1], values: [1, 2] }, topK: 5, includeMetadata: true } as Query);
        // a: 0.5·2 + 2·1 = 3; b: 1·1; c shares no term.
        expect(result.matches.map((m) => [m.id, m.score])).toEqual([
          ['a', 3],
          ['b', 1],
        ]);
        const filtered = await idx.query({ sparseVector: { indices: [5], values: [1] }, topK: 5, filter: { lang: { $eq: 'fr' } } } as Query);
        expect(filtered.matches.map((m) => m.id)).toEqual(['b']);
        const searched = await idx.searchRecords({ query: { topK: 1, vector: { sparseIndices: [3], sparseValues: [1] } } });
        expect(searched.result.hits.map((h) => [h._id, h._score])).toEqual([['c', 4]]);
        await idx.update({ id: 'c', sparseValues: { indices: [5], values: [10] } });
        expect((await idx.fetch({ ids: ['c'] })).records['c']!.sparseValues).toEqual({ indices: [5], values: [10] });
        await idx.deleteOne({ id: 'a' });
        const stats = await idx.describeIndexStats();
        expect(stats).toMatchObject({ totalRecordCount: 2, namespaces: { words: { recordCount: 2 } } });
        expect(await rejection(idx.query({ vector: [1, 0], topK: 1 }))).toBeInstanceOf(PineconeBadRequestError);
      });
    });

    describe('keys, roles, projects and limits', () => {
      it('rejects a wrong key with PineconeAuthorizationError', async () => {
        const stranger = clientWithKey('cnf_not_a_real_key');
        expect(await rejection(stranger.listIndexes())).toBeInstanceOf(PineconeAuthorizationError);
        const host = (await pc.describeIndex('acc')).host;
        expect(await rejection(stranger.index({ host }).fetch({ ids: ['a'] }))).toBeInstanceOf(PineconeAuthorizationError);
      });

      it('lets a read-only key read but not write (403), and revocation applies at once', async () => {
        const { apiKey, key } = await admin('POST', '/admin/api-keys', { name: 'reader', role: 'read-only' });
        const reader = clientWithKey(apiKey);
        const idx = reader.index({ name: 'acc' });
        expect((await idx.query({ vector: [1, 1], topK: 1 })).matches).toBeDefined();
        const refused = await rejection(idx.upsert({ records: [{ id: 'x', values: [1, 1] }] }));
        expect(refused).toBeInstanceOf(PineconeBadRequestError); // the client maps 403 to its bad-request class
        expect(refused.message).toContain('read-only');
        expect(await rejection(reader.createIndex({ name: 'nope', dimension: 2, spec }))).toBeInstanceOf(PineconeBadRequestError);
        await admin('DELETE', `/admin/api-keys/${key.id}`);
        expect(await rejection(idx.query({ vector: [1, 1], topK: 1 }))).toBeInstanceOf(PineconeAuthorizationError);
      });

      it('isolates projects: another project’s key gets 404 for our indexes, never their data', async () => {
        await pc.index({ name: 'acc', namespace: 'private' }).upsert({ records: [{ id: 'secret', values: [1, 1] }] });
        const { apiKey } = await admin('POST', '/admin/projects', { name: 'tenant-b' });
        const other = clientWithKey(apiKey);
        expect((await other.listIndexes()).indexes ?? []).toEqual([]);
        expect(await rejection(other.describeIndex('acc'))).toBeInstanceOf(PineconeNotFoundError);
        expect(await rejection(other.index({ name: 'acc' }).fetch({ ids: ['secret'] }))).toBeInstanceOf(PineconeNotFoundError);
        // Even with our index's host in hand.
        const host = (await pc.describeIndex('acc')).host;
        const viaHost = other.index({ host, namespace: 'private' });
        expect(await rejection(viaHost.fetch({ ids: ['secret'] }))).toBeInstanceOf(PineconeNotFoundError);
        expect(await rejection(viaHost.query({ vector: [1, 1], topK: 1 }))).toBeInstanceOf(PineconeNotFoundError);
        expect(await rejection(viaHost.deleteAll())).toBeInstanceOf(PineconeNotFoundError);
        // Its own index of the same name is its own.
        await other.createIndex({ name: 'acc', dimension: 2, spec });
        expect(Object.keys((await other.index({ name: 'acc', namespace: 'private' }).fetch({ ids: ['secret'] })).records)).toEqual([]);
        expect(Object.keys((await pc.index({ name: 'acc', namespace: 'private' }).fetch({ ids: ['secret'] })).records)).toEqual(['secret']);
      });

      it('answers 429 past a rate limit, which the client raises as PineconeUnmappedHttpError', async () => {
        // Pinecone's limit (CONIFER_RATE_LIMITS=on): 5 updates by metadata per second per namespace.
        const idx = pc.index({ name: 'acc', namespace: 'limited' });
        await idx.upsert({ records: [{ id: 'a', values: [1, 1], metadata: { g: 'x' } }] });
        const outcomes: (Error | undefined)[] = [];
        for (let i = 0; i < 10; i++)
          outcomes.push(
            await idx.update({ filter: { g: { $eq: 'x' } }, metadata: { n: i } }).then(
              () => undefined,
              (e: Error) => e,
            ),
          );
        expect(outcomes.slice(0, 5)).toEqual([undefined, undefined, undefined, undefined, undefined]);
        const limited = outcomes.find((e) => e !== undefined);
        expect(limited).toBeInstanceOf(PineconeUnmappedHttpError);
        expect(limited!.message).toContain('Status: 429');
        expect(limited!.message).toContain('update by metadata is limited to 5 requests per second per namespace');
      });

      it('meters read and write units', async () => {
        const usage = await admin('GET', '/admin/usage?index=data');
        expect(usage.days).toHaveLength(1);
        expect(usage.days[0].readUnits).toBeGreaterThan(5);
        expect(usage.days[0].writeUnits).toBeGreaterThanOrEqual(25);
      });
    });

    describe('raw REST, as curl would call it', () => {
      it('serves the control plane, the data plane and the OpenAPI document', async () => {
        const headers = { 'Api-Key': server.apiKey, 'Content-Type': 'application/json' };
        const created = await fetch(`${server.url}/indexes`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ name: 'curl', dimension: 2, metric: 'dotproduct' }),
        });
        expect(created.status).toBe(201);
        const { host } = (await created.json()) as { host: string };
        const upsert = await fetch(`${host}/vectors/upsert`, { method: 'POST', headers, body: JSON.stringify({ vectors: [{ id: 'a', values: [0.1, 0.2] }] }) });
        expect(upsert.status).toBe(200);
        expect(await upsert.json()).toEqual({ upsertedCount: 1 });
        expect(upsert.headers.get('x-pinecone-request-lsn')).toMatch(/^\d+$/);
        const query = await fetch(`${host}/query`, { method: 'POST', headers, body: JSON.stringify({ topK: 1, vector: [1, 1], includeValues: true }) });
        expect(await query.json()).toEqual({
          matches: [{ id: 'a', score: expect.closeTo(0.3, 6), values: [0.1, 0.2] }],
          namespace: '__default__',
          usage: { readUnits: 1 },
        });
        const fetched = await fetch(`${host}/vectors/fetch?ids=a&ids=b`, { headers });
        expect(await fetched.json()).toEqual({ vectors: { a: { id: 'a', values: [0.1, 0.2] } }, namespace: '__default__', usage: { readUnits: 1 } });
        const missing = await fetch(`${server.url}/indexes/nope`, { headers });
        expect(missing.status).toBe(404);
        expect(await missing.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'Index nope not found.' }, status: 404 });
        const badDim = await fetch(`${host}/query`, { method: 'POST', headers, body: JSON.stringify({ topK: 1, vector: [1] }) });
        expect(badDim.status).toBe(400);
        expect(await badDim.json()).toMatchObject({ code: 3, details: [] });
        const openapi = await fetch(`${server.url}/openapi.json`);
        expect(((await openapi.json()) as { openapi: string }).openapi).toBe('3.1.0');
      });
    });
  });
}
