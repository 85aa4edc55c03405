import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, NotFoundError, PermissionDeniedError, type ImportDescription, type Index } from '@conifer/sdk';
import { uniqueIndexName, useServer } from './test-support.ts';

/**
 * Bulk import through the SDK and the tRPC router of a real server (`imports.*`): the calls, their
 * answers and their errors as SDK classes. What an import writes is tested in
 * packages/api (import-service, router) and e2e (bulk-import, console).
 */
describe('SDK bulk import against the server', () => {
  const running = useServer({ CONIFER_IMPORT_FILE_URIS: 'true' });
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'conifer-sdk-import-'));
    await mkdir(path.join(dir, 'docs'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function finished(index: Index, id: string): Promise<ImportDescription> {
    for (let i = 0; i < 200; i++) {
      const described = await index.describeImport(id);
      if (described.status !== 'Pending' && described.status !== 'InProgress') return described;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`import ${id} did not finish`);
  }

  it('starts, describes, lists and cancels; a directory without Parquet files fails saying so', async () => {
    const { client } = running();
    const name = uniqueIndexName('imports');
    await client.createIndex({ name, dimension: 2 });
    const index = client.index(name);
    const uri = pathToFileURL(dir).href;
    const { id } = await index.startImport({ uri, errorMode: 'abort' });
    const done = await finished(index, id);
    expect(done).toMatchObject({ id, uri, status: 'Failed', recordsImported: 0 });
    expect(done.error).toMatch(/^no Parquet files under file:\/\//);
    expect(done.finishedAt).toBeDefined();
    expect(await index.listImports()).toEqual({ data: [done] });
    await index.cancelImport(id);
    expect((await index.describeImport(id)).status).toBe('Failed');
  });

  it('answers refusals as the SDK error classes, with the server messages', async () => {
    const { client, clientWithKey } = running();
    const name = uniqueIndexName('imports');
    await client.createIndex({ name, dimension: 2 });
    const index = client.index(name);
    const scheme = await index.startImport({ uri: 'ftp://example.com/x' }).catch((e: unknown) => e);
    expect(scheme).toBeInstanceOf(InvalidArgumentError);
    expect((scheme as InvalidArgumentError).message).toMatch(/^uri: must be s3:\/\/bucket\/prefix/);
    const mode = await index.startImport({ uri: 's3://b/p', errorMode: 'skip' as 'abort' }).catch((e: unknown) => e);
    expect(mode).toBeInstanceOf(InvalidArgumentError);
    expect((mode as InvalidArgumentError).issues).toEqual([{ path: ['errorMode'], message: 'must be "abort" or "continue"' }]);
    await expect(index.describeImport('imp_missing')).rejects.toThrow(NotFoundError);
    await expect(client.index('no-such-index').listImports()).rejects.toThrow(NotFoundError);

    const { apiKey } = await client.createApiKey({ name: 'import-reader', role: 'read-only' });
    const reader = clientWithKey(apiKey).index(name);
    expect(await reader.listImports()).toEqual({ data: [] });
    await expect(reader.startImport({ uri: 's3://b/p' })).rejects.toThrow(PermissionDeniedError);
  });
});
