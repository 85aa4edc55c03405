import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsObjectStore } from './fs-store.ts';
import { MemoryObjectStore } from './memory-store.ts';
import { withCache } from './slab-cache.ts';
import { LazyObjectStore } from './lazy-store.ts';
import type { RetryingObjectStore } from './retrying-store.ts';
import { openObjectStore, parseCloudUrl } from './store-from-url.ts';

describe('openObjectStore', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'conifer-url-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('opens a file:// URL as a store rooted at that path, creating it', () => {
    const root = join(dir, 'from url');
    const store = openObjectStore(pathToFileURL(root).href);
    expect(store).toBeInstanceOf(FsObjectStore);
    expect((store as FsObjectStore).root).toBe(root);
  });

  it('opens a plain path, absolute or relative', () => {
    expect((openObjectStore(join(dir, 'plain')) as FsObjectStore).root).toBe(join(dir, 'plain'));
    const relative = openObjectStore(join(dir, 'a', '..', 'rel'));
    expect((relative as FsObjectStore).root).toBe(join(dir, 'rel'));
  });

  it('opens memory:// as a fresh in-memory store', async () => {
    const a = openObjectStore('memory://');
    const b = openObjectStore('memory://');
    expect(a).toBeInstanceOf(MemoryObjectStore);
    await a.put('k', new Uint8Array([1]));
    expect(await b.head('k')).toBeNull();
  });

  it('opens cloud URLs as retrying stores without loading an SDK', () => {
    const env = { AZURE_STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true' };
    for (const url of ['s3://bucket/prefix', 'gs://bucket', 'az://container/p', 'https://acct.blob.core.windows.net/c/p']) {
      const store = openObjectStore(url, { env });
      expect(store).toHaveProperty('retryStats');
      expect((store as RetryingObjectStore).inner).toBeInstanceOf(LazyObjectStore);
      // A bucket is across a network: readers may read ahead (log replay), through every wrapper.
      expect(store.remote).toBe(true);
      expect(withCache(store, { memoryBytes: 1 }).remote).toBe(true);
    }
    expect(openObjectStore('memory://').remote).toBeFalsy();
    expect(withCache(openObjectStore('memory://'), { memoryBytes: 1 }).remote).toBe(false);
    expect(openObjectStore('s3://bucket', { env, retries: false })).toBeInstanceOf(LazyObjectStore);
  });

  it('reads S3 settings: endpoint, path style, region', () => {
    expect(parseCloudUrl('s3://my-bucket/conifer/prod', {})).toEqual({
      kind: 's3',
      bucket: 'my-bucket',
      prefix: 'conifer/prod',
      endpoint: undefined,
      region: undefined,
      forcePathStyle: false,
    });
    const env = { AWS_ENDPOINT_URL: 'http://generic:1', AWS_ENDPOINT_URL_S3: 'http://minio:9000', CONIFER_S3_FORCE_PATH_STYLE: 'true' };
    expect(parseCloudUrl('s3://b', env)).toMatchObject({ bucket: 'b', prefix: '', endpoint: 'http://minio:9000', region: 'us-east-1', forcePathStyle: true });
    expect(parseCloudUrl('s3://b/p/', { AWS_ENDPOINT_URL: 'http://generic:1', AWS_REGION: 'eu-west-3' })).toMatchObject({
      prefix: 'p/',
      endpoint: 'http://generic:1',
      region: 'eu-west-3',
    });
  });

  it('reads GCS settings: emulator host (with or without a scheme), project', () => {
    expect(parseCloudUrl('gs://b/x/y', {})).toEqual({ kind: 'gcs', bucket: 'b', prefix: 'x/y', emulatorHost: undefined, projectId: undefined });
    expect(parseCloudUrl('gs://b', { STORAGE_EMULATOR_HOST: 'localhost:4443', GOOGLE_CLOUD_PROJECT: 'p' })).toMatchObject({
      emulatorHost: 'http://localhost:4443',
      projectId: 'p',
    });
    expect(parseCloudUrl('gs://b', { STORAGE_EMULATOR_HOST: 'http://127.0.0.1:1/' })).toMatchObject({ emulatorHost: 'http://127.0.0.1:1' });
    // The JSON API path some Node examples put in the variable is not part of the endpoint.
    expect(parseCloudUrl('gs://b', { STORAGE_EMULATOR_HOST: 'http://127.0.0.1:1/storage/v1/' })).toMatchObject({ emulatorHost: 'http://127.0.0.1:1' });
    expect(parseCloudUrl('gs://b', { STORAGE_EMULATOR_HOST: 'HTTPS://gcs.test:8443' })).toMatchObject({ emulatorHost: 'HTTPS://gcs.test:8443' });
  });

  it('reads Azure settings: connection string, account for DefaultAzureCredential, account URLs with a SAS', () => {
    expect(parseCloudUrl('az://c/p', { AZURE_STORAGE_CONNECTION_STRING: 'cs' })).toMatchObject({
      container: 'c',
      prefix: 'p',
      connectionString: 'cs',
      accountUrl: undefined,
    });
    expect(parseCloudUrl('az://c', { AZURE_STORAGE_ACCOUNT: 'acct' })).toMatchObject({
      connectionString: undefined,
      accountUrl: 'https://acct.blob.core.windows.net',
    });
    expect(() => parseCloudUrl('az://c', {})).toThrow(/AZURE_STORAGE_CONNECTION_STRING/);
    expect(parseCloudUrl('https://acct.blob.core.windows.net/c/a/b?sv=1&sig=x', {})).toEqual({
      kind: 'azure',
      container: 'c',
      prefix: 'a/b',
      connectionString: undefined,
      accountUrl: 'https://acct.blob.core.windows.net',
      sas: 'sv=1&sig=x',
    });
    expect(() => parseCloudUrl('https://acct.blob.core.windows.net/', {})).toThrow(/names no container/);
  });

  it('rejects a cloud URL without a bucket', () => {
    expect(() => openObjectStore('s3:///prefix', { env: {} })).toThrow(/names no bucket/);
  });

  it('rejects unknown schemes, remote file URLs and empty strings', () => {
    expect(() => openObjectStore('ftp://host/x')).toThrow(/unsupported object store URL/);
    expect(() => openObjectStore('file://remote-host/data')).toThrow(/invalid file URL/);
    expect(() => openObjectStore('')).toThrow(/empty/);
  });
});
