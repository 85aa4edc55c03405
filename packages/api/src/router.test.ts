import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TRPCError } from '@trpc/server';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError, PermissionDeniedError } from '@conifer/core';
import { uniqueIndexName, useStack } from './test-support.ts';

/** The error a call rejected with, asserted to be a TRPCError. */
async function failure(promise: Promise<unknown>): Promise<TRPCError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TRPCError);
  return error as TRPCError;
}

describe('appRouter', () => {
  const stack = useStack();

  describe('authentication', () => {
    it('rejects a missing key', async () => {
      const error = await failure(stack().caller(undefined).indexes.list());
      expect(error.code).toBe('UNAUTHORIZED');
      expect(error.message).toBe('Missing or invalid API key.');
    });

    it('rejects an unknown key, before looking at the input', async () => {
      const error = await failure(stack().caller('cnf_not_a_key').data.upsert({ index: 'x', records: [] }));
      expect(error.code).toBe('UNAUTHORIZED');
    });

    it('accepts the bootstrap key', async () => {
      await expect(stack().caller(stack().adminKey).indexes.list()).resolves.toHaveProperty('indexes');
    });
  });

  describe('indexes', () => {
    it('creates, lists, describes, configures and deletes', async () => {
      const api = stack().caller(stack().adminKey);
      const name = uniqueIndexName();
      const created = await api.indexes.create({ name, dimension: 3, metric: 'euclidean', tags: { team: 'search' } });
      expect(created).toMatchObject({ name, dimension: 3, metric: 'euclidean', status: 'ready', deletionProtection: 'disabled', tags: { team: 'search' } });
      expect(created).not.toHaveProperty('id');

      expect((await api.indexes.list()).indexes.map((i) => i.name)).toContain(name);
      expect(await api.indexes.describe({ name })).toEqual(created);

      const configured = await api.indexes.configure({ name, deletionProtection: 'enabled', tags: { team: '', env: 'prod' } });
      expect(configured).toMatchObject({ deletionProtection: 'enabled', tags: { env: 'prod' } });

      const protectedDelete = await failure(api.indexes.delete({ name }));
      expect(protectedDelete.code).toBe('FORBIDDEN');
      expect(protectedDelete.cause).toBeInstanceOf(PermissionDeniedError);

      await api.indexes.configure({ name, deletionProtection: 'disabled' });
      await api.indexes.delete({ name });
      expect((await failure(api.indexes.describe({ name }))).code).toBe('NOT_FOUND');
    });

    it('refuses a duplicate name with CONFLICT', async () => {
      const api = stack().caller(stack().adminKey);
      const name = uniqueIndexName();
      await api.indexes.create({ name, dimension: 2 });
      expect((await failure(api.indexes.create({ name, dimension: 2 }))).code).toBe('CONFLICT');
    });

    it('validates names and dimensions with messages naming the field', async () => {
      const api = stack().caller(stack().adminKey);
      const badName = await failure(api.indexes.create({ name: 'Not_Valid', dimension: 2 }));
      expect(badName.code).toBe('BAD_REQUEST');
      expect(badName.message).toMatch(/^name: must consist of lowercase/);
      const badDim = await failure(api.indexes.create({ name: uniqueIndexName(), dimension: 20_001 }));
      expect(badDim.message).toBe('dimension: must be at most 20000');
    });

    it('drops the data of a deleted index: a new index of the same name starts empty', async () => {
      const api = stack().caller(stack().adminKey);
      const name = uniqueIndexName();
      await api.indexes.create({ name, dimension: 2 });
      await api.data.upsert({ index: name, records: [{ id: 'a', values: [1, 2] }] });
      await api.indexes.delete({ name });
      await api.indexes.create({ name, dimension: 2 });
      expect(await api.data.fetch({ index: name, ids: ['a'] })).toMatchObject({ records: {} });
      expect((await api.data.stats({ index: name })).totalRecordCount).toBe(0);
    });
  });

  describe('data', () => {
    it('upserts, queries, fetches, updates, lists and deletes records', async () => {
      const api = stack().caller(stack().adminKey);
      const index = uniqueIndexName();
      await api.indexes.create({ name: index, dimension: 3, metric: 'cosine' });

      const upserted = await api.data.upsert({
        index,
        namespace: 'ns1',
        records: [
          { id: 'a', values: [1, 0, 0], metadata: { genre: 'drama', year: 2019 } },
          { id: 'b', values: [0, 1, 0], metadata: { genre: 'comedy' } },
          { id: 'c', values: [0.9, 0.1, 0], metadata: { genre: 'drama' } },
        ],
      });
      expect(upserted.upsertedCount).toBe(3);

      const query = await api.data.query({ index, namespace: 'ns1', vector: [1, 0, 0], topK: 2, filter: { genre: { $eq: 'drama' } }, includeMetadata: true });
      expect(query.matches.map((m) => m.id)).toEqual(['a', 'c']);
      expect(query.matches[0]!.metadata).toEqual({ genre: 'drama', year: 2019 });
      expect(query.matches[0]!.values).toBeUndefined();

      const byId = await api.data.query({ index, namespace: 'ns1', id: 'b', topK: 1, includeValues: true });
      expect(byId.matches[0]).toMatchObject({ id: 'b', values: [0, 1, 0] });

      const fetched = await api.data.fetch({ index, namespace: 'ns1', ids: ['a', 'zzz'] });
      expect(Object.keys(fetched.records)).toEqual(['a']);
      expect(fetched.records.a!.values).toEqual([1, 0, 0]);

      const updated = await api.data.update({ index, namespace: 'ns1', id: 'a', setMetadata: { year: 2020 } });
      expect(updated.matchedRecords).toBe(1);
      expect((await api.data.fetch({ index, namespace: 'ns1', ids: ['a'] })).records.a!.metadata).toEqual({ genre: 'drama', year: 2020 });

      const page1 = await api.data.list({ index, namespace: 'ns1', limit: 2 });
      expect(page1.ids).toEqual(['a', 'b']);
      const page2 = await api.data.list({ index, namespace: 'ns1', limit: 2, paginationToken: page1.pagination!.next });
      expect(page2.ids).toEqual(['c']);
      expect(page2.pagination).toBeUndefined();

      await api.data.delete({ index, namespace: 'ns1', ids: ['b'] });
      await api.data.delete({ index, namespace: 'ns1', filter: { genre: 'drama' } });
      expect((await api.data.list({ index, namespace: 'ns1' })).ids).toEqual([]);
    });

    it('reports stats and namespaces, and deletes a namespace', async () => {
      const api = stack().caller(stack().adminKey);
      const index = uniqueIndexName();
      await api.indexes.create({ name: index, dimension: 2, metric: 'dotproduct' });
      await api.data.upsert({ index, records: [{ id: 'x', values: [1, 1] }] });
      await api.data.upsert({
        index,
        namespace: 'b',
        records: [
          { id: 'y', values: [1, 1] },
          { id: 'z', values: [2, 1] },
        ],
      });

      const stats = await api.data.stats({ index });
      expect(stats).toEqual({
        dimension: 2,
        metric: 'dotproduct',
        vectorType: 'dense',
        totalRecordCount: 3,
        storageBytes: expect.any(Number),
        namespaces: { '': { recordCount: 1 }, b: { recordCount: 2 } },
      });
      expect(stats.storageBytes).toBeGreaterThan(0);
      const { namespaces } = await api.namespaces.list({ index });
      expect(namespaces.map((n) => n.name).sort()).toEqual(['', 'b']);
      expect(await api.namespaces.describe({ index, namespace: 'b' })).toEqual({ name: 'b', recordCount: 2 });
      expect((await api.namespaces.internals({ index, namespace: 'b' })).writtenLsn).toBeGreaterThan(0);

      await api.namespaces.delete({ index, namespace: 'b' });
      expect((await api.data.stats({ index })).namespaces).toEqual({ '': { recordCount: 1 } });
      const missing = await failure(api.namespaces.delete({ index, namespace: 'b' }));
      expect(missing.code).toBe('NOT_FOUND');
    });

    it('treats __default__ as the default namespace', async () => {
      const api = stack().caller(stack().adminKey);
      const index = uniqueIndexName();
      await api.indexes.create({ name: index, dimension: 2 });
      await api.data.upsert({ index, namespace: '__default__', records: [{ id: 'x', values: [1, 1] }] });
      expect(Object.keys((await api.data.fetch({ index, ids: ['x'] })).records)).toEqual(['x']);
    });

    it('refuses blank and unprintable namespace names, naming the field, and creates nothing', async () => {
      const api = stack().caller(stack().adminKey);
      const index = uniqueIndexName();
      await api.indexes.create({ name: index, dimension: 2 });
      const blank = await failure(api.namespaces.create({ index, namespace: '   ' }));
      expect(blank.code).toBe('BAD_REQUEST');
      expect(blank.message).toBe('namespace: must not be blank (only spaces)');
      expect((await failure(api.namespaces.create({ index, namespace: 'bell\u0007' }))).message).toBe(
        'namespace: must contain only printable ASCII characters (space to ~)',
      );
      expect((await failure(api.data.upsert({ index, namespace: ' ', records: [{ id: 'x', values: [1, 1] }] }))).message).toBe(
        'namespace: must not be blank (only spaces)',
      );
      expect((await api.namespaces.list({ index })).namespaces).toEqual([]);
    });

    it('rejects a wrong dimension naming both dimensions, and writes nothing', async () => {
      const api = stack().caller(stack().adminKey);
      const index = uniqueIndexName();
      await api.indexes.create({ name: index, dimension: 3 });
      const records = Array.from({ length: 10 }, (_, i) => ({ id: `r${i}`, values: [1, 2, 3] }));
      records.push({ id: 'bad', values: [1, 2, 3, 4] });
      const error = await failure(api.data.upsert({ index, records }));
      expect(error.code).toBe('BAD_REQUEST');
      expect(error.message).toMatch(/records\[10\]\.values.*4.*3/);
      expect((await api.data.stats({ index })).totalRecordCount).toBe(0);

      const q = await failure(api.data.query({ index, vector: [1, 2], topK: 1 }));
      expect(q.code).toBe('BAD_REQUEST');
      expect(q.message).toMatch(/2.*3/);
    });

    it('names the field and the limit of invalid input', async () => {
      const api = stack().caller(stack().adminKey);
      const index = uniqueIndexName();
      await api.indexes.create({ name: index, dimension: 2 });
      const error = await failure(api.data.query({ index, vector: [1, 1], topK: 10_001 }));
      expect(error.code).toBe('BAD_REQUEST');
      expect(error.message).toBe('topK: must be at most 10000');
      const tooMany = await failure(api.data.upsert({ index, records: Array.from({ length: 1001 }, (_, i) => ({ id: `${i}`, values: [1, 1] })) }));
      expect(tooMany.message).toBe('records: must hold at most 1000 records per request');
    });

    it('answers NOT_FOUND for an unknown index', async () => {
      const api = stack().caller(stack().adminKey);
      const error = await failure(api.data.query({ index: 'no-such-index', vector: [1], topK: 1 }));
      expect(error.code).toBe('NOT_FOUND');
      expect(error.cause).toBeInstanceOf(NotFoundError);
      expect(error.message).toBe('Index no-such-index not found.');
    });
  });

  describe('roles and projects', () => {
    it('lets a read-only key read but not write', async () => {
      const { control, projectId, adminKey } = stack();
      const admin = stack().caller(adminKey);
      const index = uniqueIndexName();
      await admin.indexes.create({ name: index, dimension: 2 });
      await admin.data.upsert({ index, records: [{ id: 'a', values: [1, 1] }] });
      const { key } = await control.keys.create(projectId, { name: 'reader', role: 'read-only' });
      const reader = stack().caller(key);

      expect((await reader.data.fetch({ index, ids: ['a'] })).records.a).toBeDefined();
      expect((await reader.data.query({ index, vector: [1, 1], topK: 1 })).matches).toHaveLength(1);
      for (const write of [
        reader.data.upsert({ index, records: [{ id: 'b', values: [1, 1] }] }),
        reader.data.update({ index, id: 'a', values: [2, 2] }),
        reader.data.delete({ index, deleteAll: true }),
        reader.namespaces.delete({ index, namespace: '' }),
        reader.indexes.create({ name: uniqueIndexName(), dimension: 2 }),
        reader.indexes.configure({ name: index, tags: { a: 'b' } }),
        reader.indexes.delete({ name: index }),
      ]) {
        expect((await failure(write)).code).toBe('FORBIDDEN');
      }
      expect((await admin.data.stats({ index })).totalRecordCount).toBe(1);
    });

    it('keeps projects apart: another project’s index is not found', async () => {
      const { control, adminKey } = stack();
      const index = uniqueIndexName();
      await stack().caller(adminKey).indexes.create({ name: index, dimension: 2 });
      const other = await control.projects.create(uniqueIndexName('project'));
      const { key } = await control.keys.create(other.id, { name: 'other', role: 'admin' });
      const stranger = stack().caller(key);
      expect((await failure(stranger.indexes.describe({ name: index }))).code).toBe('NOT_FOUND');
      expect((await failure(stranger.data.fetch({ index, ids: ['a'] }))).code).toBe('NOT_FOUND');
      expect((await stranger.indexes.list()).indexes).toEqual([]);
    });

    it('rejects a revoked key', async () => {
      const { control, projectId } = stack();
      const { key, info } = await control.keys.create(projectId, { name: 'temp', role: 'read-write' });
      await expect(stack().caller(key).indexes.list()).resolves.toBeDefined();
      await control.keys.revoke(projectId, info.id);
      expect((await failure(stack().caller(key).indexes.list())).code).toBe('UNAUTHORIZED');
    });
  });
});

/** A Parquet file in Pinecone's import layout: `n` records `<prefix><i>` of two dimensions. */
function parquetOf(prefix: string, n: number): Uint8Array {
  const ids = Array.from({ length: n }, (_, i) => `${prefix}${i}`);
  return new Uint8Array(
    parquetWriteBuffer({
      columnData: [
        { name: 'id', data: ids },
        { name: 'values', data: ids.map((_, i) => [i, 1]) },
      ],
      schema: [
        { name: 'root', num_children: 2 },
        { name: 'id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
        { name: 'values', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        { name: 'element', type: 'FLOAT', repetition_type: 'REQUIRED' },
      ],
    }),
  );
}

describe('appRouter imports', () => {
  const stack = useStack({ imports: { allowFileUris: true, batchRecords: 4 } });
  let dir: string;
  let uri: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'conifer-router-import-'));
    await mkdir(join(dir, 'books'));
    await writeFile(join(dir, 'books', 'part-0.parquet'), parquetOf('b', 10));
    uri = pathToFileURL(dir).href;
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('starts, lists, describes and cancels an import of an index', async () => {
    const { services, adminKey } = stack();
    const api = stack().caller(adminKey);
    const index = uniqueIndexName();
    await api.indexes.create({ name: index, dimension: 2 });
    const { id } = await api.imports.start({ index, uri, errorMode: 'abort' });
    expect(id).toMatch(/^imp_/);
    await services.importsSettled();
    const done = await api.imports.describe({ index, id });
    expect(done).toMatchObject({ id, uri, status: 'Completed', percentComplete: 100, recordsImported: 10 });
    expect(done.finishedAt).toBeDefined();
    expect(done.error).toBeUndefined();
    expect(await api.imports.list({ index })).toEqual({ data: [done] });
    expect(await api.namespaces.describe({ index, namespace: 'books' })).toEqual({ name: 'books', recordCount: 10 });
    // A finished import is not cancelled again (Pinecone's spec): no error, no change.
    await expect(api.imports.cancel({ index, id })).resolves.toBeUndefined();
    expect((await api.imports.describe({ index, id })).status).toBe('Completed');

    // Pages of one, in creation order.
    const second = await api.imports.start({ index, uri });
    await services.importsSettled();
    const page1 = await api.imports.list({ index, limit: 1 });
    expect(page1.data.map((i) => i.id)).toEqual([id]);
    const page2 = await api.imports.list({ index, limit: 1, paginationToken: page1.pagination!.next });
    expect(page2.data.map((i) => i.id)).toEqual([second.id]);
    // `continue` (the default) skips a namespace that exists, and says so.
    expect(page2.data[0]).toMatchObject({ status: 'Completed', recordsImported: 0 });
  });

  it('validates input naming the field, and answers the service errors with their codes', async () => {
    const api = stack().caller(stack().adminKey);
    const index = uniqueIndexName();
    await api.indexes.create({ name: index, dimension: 2 });
    const badMode = await failure(api.imports.start({ index, uri, errorMode: 'skip' as 'abort' }));
    expect(badMode.code).toBe('BAD_REQUEST');
    expect(badMode.message).toBe('errorMode: must be "abort" or "continue"');
    expect((await failure(api.imports.start({ index, uri: '' }))).message).toBe('uri: must be a non-empty string');
    expect((await failure(api.imports.start({ index, uri: 's3://b/\u0007' }))).message).toBe('uri: must not contain control characters');
    const scheme = await failure(api.imports.start({ index, uri: 'ftp://example.com/x' }));
    expect(scheme.code).toBe('BAD_REQUEST');
    expect(scheme.message).toMatch(/^uri: must be s3:\/\/bucket\/prefix/);
    expect((await failure(api.imports.list({ index, limit: 0 }))).message).toBe('limit: must be an integer 1–100');
    const missing = await failure(api.imports.describe({ index, id: 'imp_nothing' }));
    expect(missing.code).toBe('NOT_FOUND');
    expect(missing.message).toBe('Import imp_nothing not found.');
    expect((await failure(api.imports.cancel({ index, id: 'bad\u0000id' }))).code).toBe('BAD_REQUEST');
    expect((await failure(api.imports.list({ index: 'no-such-index' }))).code).toBe('NOT_FOUND');
  });

  it('lets a read-only key list and describe imports, not start or cancel them', async () => {
    const { control, projectId, adminKey, services } = stack();
    const admin = stack().caller(adminKey);
    const index = uniqueIndexName();
    await admin.indexes.create({ name: index, dimension: 2 });
    const { id } = await admin.imports.start({ index, uri });
    await services.importsSettled();
    const { key } = await control.keys.create(projectId, { name: 'import-reader', role: 'read-only' });
    const reader = stack().caller(key);
    expect((await reader.imports.list({ index })).data.map((i) => i.id)).toEqual([id]);
    expect((await reader.imports.describe({ index, id })).status).toBe('Completed');
    for (const write of [reader.imports.start({ index, uri }), reader.imports.cancel({ index, id })]) {
      const error = await failure(write);
      expect(error.code).toBe('FORBIDDEN');
      expect(error.cause).toBeInstanceOf(PermissionDeniedError);
    }
  });
});
