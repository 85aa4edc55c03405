import { FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError } from '@conifer/core';
import { createControlPlane, type AuthContext, type ControlPlane } from '@conifer/control';
import { pgliteTemplateDump } from '@conifer/control/testing';
import { createEngine, encodeNamespace, type Engine } from '@conifer/engine';
import { listAll, MemoryObjectStore, type ObjectStore } from '@conifer/storage';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { overlaps } from './import-service.ts';
import { createServices, type Services } from './services.ts';

/**
 * Bulk import through the service layer: Parquet files in an object store (Pinecone's layout)
 * into new namespaces of an index, checked row by row, with abort and continue.
 */

interface Row {
  id: unknown;
  values: unknown;
  metadata?: string | null;
  sparse?: { indices: number[]; values: number[] } | null;
}

type SchemaElement = NonNullable<Parameters<typeof parquetWriteBuffer>[0]['schema']>[number];

/** A Parquet file in Pinecone's import layout. */
export function importFile(
  rows: Row[],
  options: { rowGroupSize?: number; sparse?: boolean; metadata?: boolean; valuesType?: 'FLOAT' | 'INT32' } = {},
): Uint8Array {
  const withMetadata = options.metadata ?? true;
  const schema: SchemaElement[] = [
    { name: 'root', num_children: 2 + (withMetadata ? 1 : 0) + (options.sparse ? 1 : 0) },
    { name: 'id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
    { name: 'values', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
    { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
    { name: 'element', type: options.valuesType ?? 'FLOAT', repetition_type: 'REQUIRED' },
  ];
  const columnData: { name: string; data: unknown[] }[] = [
    { name: 'id', data: rows.map((r) => r.id) },
    { name: 'values', data: rows.map((r) => r.values) },
  ];
  if (options.sparse) {
    schema.push(
      { name: 'sparse_values', repetition_type: 'OPTIONAL', num_children: 2 },
      { name: 'indices', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', type: 'INT64', repetition_type: 'REQUIRED' },
      { name: 'values', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', type: 'FLOAT', repetition_type: 'REQUIRED' },
    );
    columnData.push({ name: 'sparse_values', data: rows.map((r) => (r.sparse ? { indices: r.sparse.indices.map(BigInt), values: r.sparse.values } : null)) });
  }
  if (withMetadata) {
    schema.push({ name: 'metadata', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' });
    columnData.push({ name: 'metadata', data: rows.map((r) => r.metadata ?? null) });
  }
  return new Uint8Array(parquetWriteBuffer({ columnData: columnData as never, schema, rowGroupSize: options.rowGroupSize ?? 1000 }));
}

const rows = (prefix: string, n: number, dimension = 2): Row[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `${prefix}${i}`,
    values: Array.from({ length: dimension }, (_, d) => i + 1 + d),
    metadata: JSON.stringify({ i }),
  }));

let control: ControlPlane;
let engine: Engine;
const engineStore = new MemoryObjectStore();
let services: Services;
let auth: AuthContext;
let readOnly: AuthContext;
const sources = new Map<string, ObjectStore>();

beforeAll(async () => {
  control = await createControlPlane({ pgliteDump: await pgliteTemplateDump() });
  engine = await createEngine({ store: engineStore, config: { tickMs: 3_600_000 } });
  const { project, apiKey } = await control.bootstrap();
  services = createServices({
    control,
    data: engine,
    operatorProjectId: project.id,
    imports: {
      batchRecords: 7,
      openStore: (uri) => {
        const store = sources.get(uri);
        if (!store) throw new Error(`no test source ${uri}`);
        return store;
      },
    },
  });
  auth = (await control.authenticate(apiKey!))!;
  const key = await services.createApiKey(auth, { name: 'reader', role: 'read-only' });
  readOnly = (await control.authenticate(key.apiKey))!;
});

afterAll(async () => {
  await engine.close();
  await control.close();
});

let counter = 0;
async function newIndex(): Promise<string> {
  const name = `imports-${++counter}`;
  await services.createIndex(auth, { name, dimension: 2, metric: 'euclidean', deletionProtection: 'disabled' } as never);
  return name;
}

/** `delayMs`: every ranged read waits this long (an import slow enough to be cancelled under way). */
async function source(files: Record<string, Uint8Array>, delayMs = 0): Promise<string> {
  const memory = new MemoryObjectStore();
  const store: ObjectStore =
    delayMs === 0
      ? memory
      : {
          get: (k) => memory.get(k),
          getRange: async (k, start, end) => {
            await new Promise((r) => setTimeout(r, delayMs));
            return memory.getRange(k, start, end);
          },
          head: (k) => memory.head(k),
          put: (k, d) => memory.put(k, d),
          putIfAbsent: (k, d) => memory.putIfAbsent(k, d),
          putIfMatch: (k, d, t) => memory.putIfMatch(k, d, t),
          delete: (k) => memory.delete(k),
          list: (p, o) => memory.list(p, o),
        };
  for (const [key, data] of Object.entries(files)) await memory.put(key, data);
  const uri = `s3://bucket/import-${++counter}`;
  sources.set(uri, store);
  return uri;
}

async function runImport(index: string, uri: string, onError?: 'abort' | 'continue') {
  const { id } = await services.startImport(auth, { index, uri, ...(onError ? { errorMode: onError } : {}) });
  await services.importsSettled();
  return services.describeImport(auth, { index, id });
}

describe('bulk import (service)', () => {
  it('imports every namespace directory (__default__ is the default namespace), row group by row group', async () => {
    const index = await newIndex();
    const uri = await source({
      '__default__/part-0.parquet': importFile(rows('d', 5)),
      'books/part-0.parquet': importFile(rows('b', 20), { rowGroupSize: 6 }),
      'books/part-1.parquet': importFile(rows('c', 3)),
      'books/notes.log': new Uint8Array([1, 2, 3]),
      'sparse/x.parquet': importFile([{ id: 's1', values: [1, 2], sparse: { indices: [3, 9], values: [0.5, 0.25] } }], { sparse: true }),
    });
    const done = await runImport(index, uri);
    expect(done).toMatchObject({ status: 'Completed', percentComplete: 100, recordsImported: 29, uri });
    expect(done.error).toBeUndefined();
    expect(done.finishedAt).toBeDefined();
    const stats = await services.describeIndexStats(auth, { index });
    expect(Object.fromEntries(Object.entries(stats.namespaces).map(([k, v]) => [k, v.recordCount]))).toEqual({ '': 5, books: 23, sparse: 1 });
    const fetched = await services.fetch(auth, { index, namespace: 'books', ids: ['b19', 'c2'] });
    expect(fetched.records['b19']).toMatchObject({ values: [20, 21], metadata: { i: 19 } });
    const sparse = await services.fetch(auth, { index, namespace: 'sparse', ids: ['s1'] });
    expect(sparse.records['s1']!.sparseValues).toEqual({ indices: [3, 9], values: [0.5, 0.25] });
  });

  it('imports sparse records into a sparse index (values empty), queryable through its postings; dense values are refused', async () => {
    const name = `imports-${++counter}`;
    await services.createIndex(auth, { name, vectorType: 'sparse', deletionProtection: 'disabled' });
    const docs: Row[] = Array.from({ length: 30 }, (_, i) => ({ id: `s${i}`, values: [], sparse: { indices: [i % 5, 10 + i], values: [1, i] } }));
    const uri = await source({ 'words/0.parquet': importFile(docs, { sparse: true, metadata: false, rowGroupSize: 8 }) });
    expect(await runImport(name, uri)).toMatchObject({ status: 'Completed', recordsImported: 30 });
    const query = await services.query(auth, {
      index: name,
      namespace: 'words',
      topK: 3,
      sparseVector: { indices: [2, 37], values: [1, 1] },
      includeValues: false,
      includeMetadata: false,
    });
    // s27: 1 (term 2) + 27 (term 37) = 28; then s2, s7, s12, ... with 1 each, by id.
    expect(query.matches.map((m) => [m.id, m.score])).toEqual([
      ['s27', 28],
      ['s12', 1],
      ['s17', 1],
    ]);
    const dense = await source({ 'bad/0.parquet': importFile([{ id: 'd', values: [1, 2], sparse: { indices: [1], values: [1] } }], { sparse: true }) });
    expect(await runImport(name, dense, 'abort')).toMatchObject({
      status: 'Failed',
      error: 'bad/0.parquet: row 1: field "values": a sparse index stores no dense values; got 2',
    });
  });

  it('abort: the first bad row fails the import and no namespace is created', async () => {
    const index = await newIndex();
    const bad = rows('x', 4);
    bad[2] = { id: 'x2', values: [1, 2, 3] };
    const uri = await source({ 'a/0.parquet': importFile(rows('a', 10)), 'b/0.parquet': importFile(bad) });
    const done = await runImport(index, uri, 'abort');
    expect(done.status).toBe('Failed');
    expect(done.error).toBe('b/0.parquet: row 3: field "values": has 3 dimensions, the index has 2');
    expect((await services.describeIndexStats(auth, { index })).namespaces).toEqual({});
  });

  it('continue: bad rows are skipped and counted, the rest imported', async () => {
    const index = await newIndex();
    const bad = rows('x', 6);
    bad[1] = { id: 'x1', values: [1, 2, 3] };
    bad[3] = { id: 'x3', values: [1, 2], metadata: '{not json' };
    bad[4] = { id: '', values: [1, 2] };
    const uri = await source({ 'ns/0.parquet': importFile(bad) });
    const done = await runImport(index, uri, 'continue');
    expect(done).toMatchObject({ status: 'Completed', recordsImported: 3 });
    expect(done.error).toMatch(/^Completed with 3 records skipped; the first problem: ns\/0\.parquet: row 2: field "values": has 3 dimensions/);
    const list = await services.list(auth, { index, namespace: 'ns', limit: 100 });
    expect(list.ids).toEqual(['x0', 'x2', 'x5']);
  });

  it('names the file and field of a wrong schema and of a corrupt file; continue skips them', async () => {
    const index = await newIndex();
    const noValues = new Uint8Array(
      parquetWriteBuffer({
        columnData: [{ name: 'id', data: ['a'] }],
        schema: [
          { name: 'root', num_children: 1 },
          { name: 'id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
        ],
      }),
    );
    const intValues = importFile([{ id: 'a', values: [1, 2] }], { valuesType: 'INT32' });
    const good = importFile(rows('g', 3));
    const corrupt = good.slice(0, good.length - 10);
    const cases: [Uint8Array, RegExp][] = [
      [noValues, /^n\/0\.parquet: missing the required column "values"/],
      [intValues, /^n\/0\.parquet: column "values" must be a list<float>/],
      [corrupt, /^n\/0\.parquet: not a readable Parquet file/],
      [new Uint8Array([1, 2, 3]), /^n\/0\.parquet: not a readable Parquet file/],
    ];
    for (const [file, message] of cases) {
      const done = await runImport(index, await source({ 'n/0.parquet': file }), 'abort');
      expect(done.status).toBe('Failed');
      expect(done.error).toMatch(message);
    }
    const mixed = await runImport(index, await source({ 'n/0.parquet': corrupt, 'n/1.parquet': good }), 'continue');
    expect(mixed).toMatchObject({ status: 'Completed', recordsImported: 3 });
  });

  it('refuses a namespace that exists: abort fails the import, continue skips that namespace', async () => {
    const index = await newIndex();
    await services.upsert(auth, { index, namespace: 'taken', records: [{ id: 'keep', values: [9, 9] }] });
    const uri = await source({ 'taken/0.parquet': importFile(rows('t', 2)), 'fresh/0.parquet': importFile(rows('f', 2)) });
    const aborted = await runImport(index, uri, 'abort');
    expect(aborted.status).toBe('Failed');
    expect(aborted.error).toMatch(/Namespace taken already exists/);
    expect(Object.keys((await services.describeIndexStats(auth, { index })).namespaces).sort()).toEqual(['taken']);
    const continued = await runImport(index, uri, 'continue');
    expect(continued).toMatchObject({ status: 'Completed', recordsImported: 2 });
    expect((await services.fetch(auth, { index, namespace: 'taken', ids: ['t0', 'keep'] })).records).toHaveProperty('keep');
    expect((await services.fetch(auth, { index, namespace: 'taken', ids: ['t0'] })).records).toEqual({});
  });

  it('lists with pagination, describes, and cancels (no effect once finished); read-only keys cannot start or cancel', async () => {
    const index = await newIndex();
    const uri = await source({ 'p/0.parquet': importFile(rows('p', 2)) });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await runImport(index, uri.replace(/$/, ''), 'continue')).id);
    const first = await services.listImports(auth, { index, limit: 2 });
    expect(first.data.map((d) => d.id)).toEqual(ids.slice(0, 2));
    const second = await services.listImports(auth, { index, limit: 2, paginationToken: first.pagination!.next });
    expect(second.data.map((d) => d.id)).toEqual(ids.slice(2));
    expect(second.pagination).toBeUndefined();
    await services.cancelImport(auth, { index, id: ids[0]! });
    expect((await services.describeImport(auth, { index, id: ids[0]! })).status).toBe('Completed');
    await expect(services.describeImport(auth, { index, id: 'imp_missing' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(services.startImport(readOnly, { index, uri })).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(services.cancelImport(readOnly, { index, id: ids[0]! })).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(services.startImport(auth, { index, uri: 'ftp://x/y' })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(services.startImport(auth, { index, uri: 'file:///tmp/x' })).rejects.toThrow(/CONIFER_IMPORT_FILE_URIS/);
    // Another index does not see them.
    const other = await newIndex();
    expect((await services.listImports(auth, { index: other })).data).toEqual([]);
  });

  it('cancel stops an import under way: Cancelled, no namespace, no slabs left', async () => {
    const index = await newIndex();
    const files: Record<string, Uint8Array> = {};
    for (let f = 0; f < 30; f++) files[`big/${String(f).padStart(2, '0')}.parquet`] = importFile(rows(`r${f}-`, 50), { rowGroupSize: 10 });
    const uri = await source(files, 5);
    const { id } = await services.startImport(auth, { index, uri });
    // Under way: some batches stored as slabs, nothing committed.
    for (let i = 0; i < 2_000 && (await services.describeImport(auth, { index, id })).recordsImported < 14; i++) await new Promise((r) => setTimeout(r, 5));
    const prefix = `${(await control.indexes.get(auth.projectId, index)).id}/${encodeNamespace('big')}/`;
    const slabsOf = async () => {
      const keys: string[] = [];
      for await (const meta of listAll(engineStore, prefix)) keys.push(meta.key);
      return keys;
    };
    expect((await slabsOf()).length).toBeGreaterThan(0);
    await services.cancelImport(auth, { index, id });
    await services.importsSettled();
    const done = await services.describeImport(auth, { index, id });
    expect(done.status).toBe('Cancelled');
    expect((await services.describeIndexStats(auth, { index })).namespaces).toEqual({});
    expect(await slabsOf()).toEqual([]);
    // A new import of the same namespace runs: nothing of the cancelled one is in the way.
    const again = await runImport(index, uri);
    expect(again).toMatchObject({ status: 'Completed', recordsImported: 1500 });
  });

  it("refuses the server's own storage, and anything inside it or holding it", async () => {
    const index = await newIndex();
    const guarded = createServices({
      control,
      data: engine,
      imports: { forbiddenUris: ['s3://conifer/prod/', 'file:///var/lib/conifer'], allowFileUris: true },
    });
    for (const uri of ['s3://conifer/prod', 's3://conifer/prod/indexes/x', 's3://conifer', 'file:///var/lib/conifer/objects', 'file:///var/lib']) {
      await expect(guarded.startImport(auth, { index, uri })).rejects.toThrow(/uri: must not be, or hold, this server's own storage/);
    }
    expect(overlaps('s3://conifer/production', 's3://conifer/prod/')).toBe(false);
  });

  it('a node without an engine of its own (a cluster gateway) refuses imports: 400 FAILED_PRECONDITION', async () => {
    const index = await newIndex();
    const gateway = createServices({ control, data: {} as never });
    await expect(gateway.startImport(auth, { index, uri: 's3://bucket/dir' })).rejects.toBeInstanceOf(FailedPreconditionError);
  });

  it('marks imports a restart interrupted as Failed', async () => {
    const index = await newIndex();
    const record = await control.indexes.get(auth.projectId, index);
    const job = await control.imports.create({ projectId: auth.projectId, indexId: record.id, uri: 's3://b/p', errorMode: 'abort' });
    expect(await services.failInterruptedImports()).toBeGreaterThanOrEqual(1);
    const described = await services.describeImport(auth, { index, id: job.id });
    expect(described.status).toBe('Failed');
    expect(described.error).toMatch(/interrupted by a restart/);
  });
});
