import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsObjectStore } from './fs-store.ts';
import { MemoryObjectStore } from './memory-store.ts';
import { openObjectStore } from './store-from-url.ts';

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

  it.each(['s3://bucket/prefix', 'gs://bucket', 'az://account/container'])('says the adapter for %s is not available yet', (url) => {
    expect(() => openObjectStore(url)).toThrow(/adapter .* is not available yet/);
  });

  it('rejects unknown schemes, remote file URLs and empty strings', () => {
    expect(() => openObjectStore('ftp://host/x')).toThrow(/unsupported object store URL/);
    expect(() => openObjectStore('file://remote-host/data')).toThrow(/invalid file URL/);
    expect(() => openObjectStore('')).toThrow(/empty/);
  });
});
