import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Pinecone, type Index } from '@pinecone-database/pinecone';
import { pineconeParquet } from '@conifer/emulators';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloudStore, EMULATOR_STARTUP_TIMEOUT_MS, freshPrefix, startEmulators, type Cloud, type Emulators } from './emulators.ts';
import { startServer, tempDataDir, type ServerProcess } from './server-process.ts';

/**
 * Pinecone's bulk import through the real server process and the official TypeScript client
 * (`startImport`, `describeImport`, `listImports`, `cancelImport`): Parquet files in Pinecone's
 * layout, from a local directory (`file://`, allowed by `CONIFER_IMPORT_FILE_URIS=true`) and from
 * each cloud's emulator (`s3://` MinIO, `gs://` fake-gcs-server, `az://` Azurite, read with the
 * server's own settings).
 */
const DIM = 4;
const spec = { serverless: { cloud: 'aws' as const, region: 'us-east-1' } };
const vec = (i: number): number[] => [i + 1, i % 7, (3 * i) % 11, 1];

/** A Parquet file of `n` records `<prefix><i>` (values `vec(start + i)`, metadata `{i}`). */
function importFile(prefix: string, n: number, start = 0, options: { badRow?: number } = {}): Uint8Array {
  const ids = Array.from({ length: n }, (_, i) => `${prefix}${i}`);
  const values = ids.map((_, i) => (i === options.badRow ? [1, 2] : vec(start + i)));
  const metadata = ids.map((_, i) => JSON.stringify({ i: start + i, tag: i % 2 === 0 ? 'even' : 'odd' }));
  return pineconeParquet({ ids, values, metadata });
}

/** Polls until the import has finished. */
async function finished(index: Index, started: string | undefined, timeoutMs = 120_000) {
  if (started === undefined) throw new Error('startImport answered no id');
  const id = started;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const described = await index.describeImport(id);
    if (described.status !== 'Pending' && described.status !== 'InProgress') return described;
    if (Date.now() > deadline) throw new Error(`import ${id} still ${described.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('bulk import from a local directory (file://), official client 8.2.0', () => {
  let server: ServerProcess;
  let dataDir: string;
  let importDir: string;
  let pc: Pinecone;
  // Index hosts as paths: a restarted server listens on other ports.
  const env = { CONIFER_IMPORT_FILE_URIS: 'true', CONIFER_INDEX_HOSTS: 'paths' };

  beforeAll(async () => {
    dataDir = await tempDataDir();
    importDir = await tempDataDir();
    dirs.push(dataDir, importDir);
    await mkdir(join(importDir, 'good', '__default__'), { recursive: true });
    await mkdir(join(importDir, 'good', 'docs'), { recursive: true });
    await writeFile(join(importDir, 'good', '__default__', 'part-0.parquet'), importFile('d', 300));
    await writeFile(join(importDir, 'good', 'docs', 'part-0.parquet'), importFile('a', 1_200, 0));
    await writeFile(join(importDir, 'good', 'docs', 'part-1.parquet'), importFile('b', 800, 1_200));
    await writeFile(join(importDir, 'good', 'docs', 'README.txt'), 'ignored');
    await mkdir(join(importDir, 'bad', 'rows'), { recursive: true });
    await writeFile(join(importDir, 'bad', 'rows', 'part-0.parquet'), importFile('r', 100, 0, { badRow: 41 }));
    await mkdir(join(importDir, 'big', 'many'), { recursive: true });
    for (let f = 0; f < 40; f++) await writeFile(join(importDir, 'big', 'many', `part-${f}.parquet`), importFile(`m${f}-`, 2_000, f * 2_000));
    server = await startServer({ dataDir, env });
    pc = new Pinecone({ apiKey: server.apiKey, controllerHostUrl: server.url, maxRetries: 0 });
    await pc.createIndex({ name: 'imports', dimension: DIM, metric: 'cosine', spec, waitUntilReady: true });
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('imports every namespace directory; the records are queryable, fetchable and listable', async () => {
    const index = pc.index('imports');
    const id = (await index.startImport({ uri: pathToFileURL(join(importDir, 'good')).href, errorMode: 'abort' })).id!;
    expect(id).toMatch(/^imp_/);
    const done = await finished(index, id);
    expect(done).toMatchObject({ id, status: 'Completed', percentComplete: 100, recordsImported: 2_300 });
    expect(done.createdAt).toBeInstanceOf(Date);
    expect(done.finishedAt).toBeInstanceOf(Date);
    expect(done.error).toBeUndefined();

    const stats = await index.describeIndexStats();
    expect(stats.namespaces?.['docs']?.recordCount).toBe(2_000);
    expect(stats.namespaces?.['__default__']?.recordCount).toBe(300);
    const fetched = await index.namespace('docs').fetch({ ids: ['a5', 'b799'] });
    expect(fetched.records['a5']).toMatchObject({ values: vec(5), metadata: { i: 5, tag: 'odd' } });
    expect(fetched.records['b799']).toMatchObject({ values: vec(1_999), metadata: { i: 1_999 } });
    const query = await index.namespace('docs').query({ vector: vec(700), topK: 3, filter: { tag: 'even' } });
    expect(query.matches[0]?.id).toBe('a700');
    const listed = await index.namespace('__default__').listPaginated({ prefix: 'd1', limit: 5 });
    expect(listed.vectors?.map((v) => v.id)).toEqual(['d1', 'd10', 'd100', 'd101', 'd102']);

    // Cancelling a finished import has no effect.
    await index.cancelImport(id);
    expect((await index.describeImport(id)).status).toBe('Completed');
  });

  it('abort fails on the first bad row naming file, row and field; continue skips it; an existing namespace is refused', async () => {
    const index = pc.index('imports');
    const uri = pathToFileURL(join(importDir, 'bad')).href;
    const aborted = await finished(index, (await index.startImport({ uri, errorMode: 'abort' })).id);
    expect(aborted.status).toBe('Failed');
    expect(aborted.error).toBe('rows/part-0.parquet: row 42: field "values": has 2 dimensions, the index has 4');
    expect((await index.describeIndexStats()).namespaces?.['rows']).toBeUndefined();

    const continued = await finished(index, (await index.startImport({ uri, errorMode: 'continue' })).id);
    expect(continued).toMatchObject({ status: 'Completed', recordsImported: 99 });
    expect((await index.describeIndexStats()).namespaces?.['rows']?.recordCount).toBe(99);

    const again = await finished(index, (await index.startImport({ uri, errorMode: 'abort' })).id);
    expect(again.status).toBe('Failed');
    expect(again.error).toMatch(/Namespace rows already exists/);
  });

  it('cancels an import under way: nothing of it stays', async () => {
    const index = pc.index('imports');
    const id = (await index.startImport({ uri: pathToFileURL(join(importDir, 'big')).href })).id!;
    await index.cancelImport(id);
    const done = await finished(index, id);
    expect(done.status).toBe('Cancelled');
    expect((await index.describeIndexStats()).namespaces?.['many']).toBeUndefined();
  });

  it('lists imports with pagination', async () => {
    const index = pc.index('imports');
    const all = await index.listImports();
    expect(all.data?.length).toBe(5);
    const first = await index.listImports(2);
    expect(first.data?.map((d) => d.id)).toEqual(all.data?.slice(0, 2).map((d) => d.id));
    const second = await index.listImports(2, first.pagination?.next);
    expect(second.data?.map((d) => d.id)).toEqual(all.data?.slice(2, 4).map((d) => d.id));
  });

  it('after a restart the imported namespaces are read from storage and take new writes that win', async () => {
    await server.stop();
    server = await startServer({ dataDir, env });
    pc = new Pinecone({ apiKey: server.apiKey, controllerHostUrl: server.url, maxRetries: 0 });
    // The client caches index hosts per key for the process: name the new one.
    const host = (await pc.describeIndex('imports')).host;
    const docs = pc.index('imports', `http://${host.replace(/^https?:\/\//, '')}`).namespace('docs');
    expect((await docs.fetch({ ids: ['a5'] })).records['a5']?.values).toEqual(vec(5));
    await docs.upsert({ records: [{ id: 'a5', values: [9, 9, 9, 9], metadata: { i: -1 } }] });
    const fetched = await docs.fetch({ ids: ['a5', 'a6'] });
    expect(fetched.records['a5']).toMatchObject({ values: [9, 9, 9, 9], metadata: { i: -1 } });
    expect(fetched.records['a6']?.values).toEqual(vec(6));
  });
});

/** Each cloud's emulator (MinIO, fake-gcs-server, Azurite): the server reads the source with its own settings. */
describe.each<{ cloud: Cloud; label: string }>([
  { cloud: 's3', label: 'MinIO (s3://)' },
  { cloud: 'gcs', label: 'fake-gcs-server (gs://)' },
  { cloud: 'azure', label: 'Azurite (az://)' },
])('bulk import from $label', ({ cloud }) => {
  let emulators: Emulators;
  let server: ServerProcess;

  beforeAll(async () => {
    emulators = await startEmulators([cloud], { s3: 'minio' });
  }, EMULATOR_STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await server?.stop();
    await emulators?.stop();
  });

  it('imports Parquet files from a bucket the server reaches with its own settings', async () => {
    const emulator = emulators[cloud]!;
    const importPrefix = freshPrefix('import');
    const source = cloudStore(emulators, cloud, importPrefix);
    await source.put('docs/part-0.parquet', importFile('s', 1_500));
    await source.put('__default__/part-0.parquet', importFile('t', 10));
    const dataDir = await tempDataDir();
    dirs.push(dataDir);
    server = await startServer({ dataDir, env: { ...emulators.env, CONIFER_STORAGE: emulator.storageUrl(freshPrefix('server')) } });
    const pc = new Pinecone({ apiKey: server.apiKey, controllerHostUrl: server.url, maxRetries: 0 });
    await pc.createIndex({ name: `from-${cloud}`, dimension: DIM, metric: 'cosine', spec, waitUntilReady: true });
    const index = pc.index(`from-${cloud}`);
    const done = await finished(index, (await index.startImport({ uri: emulator.storageUrl(importPrefix) })).id);
    expect(done).toMatchObject({ status: 'Completed', recordsImported: 1_510 });
    expect((await index.namespace('docs').fetch({ ids: ['s1499'] })).records['s1499']?.values).toEqual(vec(1_499));
    expect((await index.describeIndexStats()).namespaces?.['__default__']?.recordCount).toBe(10);
  });
});
