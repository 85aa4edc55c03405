import { randomBytes, randomUUID } from 'node:crypto';
import { S3Client } from '@aws-sdk/client-s3';
import { LazyObjectStore, openObjectStore, type ObjectStore, type WriteTokenSupport } from '@conifer/storage';
import { AzureBlobObjectStore } from '@conifer/storage/azure';
import { GcsObjectStore } from '@conifer/storage/gcs';
import { S3ObjectStore } from '@conifer/storage/s3';
import { objectStoreContract, rejectionKind } from '@conifer/storage/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BACKENDS, EMULATOR_STARTUP_TIMEOUT_MS, startBackends, withEnvironment, type Backend, type BackendName, type Backends } from './emulators.ts';

/**
 * The storage contract suite, unchanged, against every cloud backend users run (S3 on MinIO and on
 * moto, GCS on fake-gcs-server, Azure on the current and the oldest supported Azurite — local
 * processes, or containers where a Docker engine runs), plus what only the clouds have: uploads in
 * parts, write tokens, error mapping of a missing bucket, bad credentials and a dead endpoint, and
 * keys under a URL prefix.
 *
 * The contract runs on stores built the way a server builds its own: `openObjectStore(url)` from
 * the process environment holding only the cloud's standard settings — not from options handed to
 * the constructor, which is how a bug that only the environment triggers went unseen (the GCS client
 * reads `STORAGE_EMULATOR_HOST` itself). No `withRetries`: the contract checks the adapters' own
 * answers.
 */
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

let backends: Backends;
const stores = new Map<BackendName, ObjectStore & WriteTokenSupport>();
const backend = (name: BackendName): Backend => backends.byName.get(name)!;

beforeAll(async () => {
  backends = await startBackends();
  for (const { name, emulator } of backends.byName.values()) {
    stores.set(name, await withEnvironment(emulator.env, () => (openObjectStore(emulator.storageUrl(), { retries: false }) as LazyObjectStore).resolve()));
    console.log(`cloud contract: ${name} is ${emulator.implementation} ${emulator.version} (${emulator.runtime})`);
  }
}, EMULATOR_STARTUP_TIMEOUT_MS);

afterAll(async () => {
  await backends?.stop();
});

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | null | undefined) => (b ? new TextDecoder().decode(b) : b);

for (const name of BACKENDS) {
  objectStoreContract(`${name}, built from the environment`, async () => ({ store: stores.get(name)! }));
}

/** An adapter on the emulator with small part sizes, so that multi-part uploads run on small objects. */
function smallPartStore({ emulator }: Backend): ObjectStore & WriteTokenSupport {
  const options = { multipartThreshold: 1024 * 1024, partSize: 512 * 1024, uploadConcurrency: 3 };
  if (emulator.kind === 's3') {
    // S3 parts are at least 5 MiB; the adapter raises both sizes to that.
    return new S3ObjectStore({
      bucket: emulator.bucket,
      ...options,
      clientConfig: {
        endpoint: emulator.endpoint,
        region: emulator.region,
        forcePathStyle: true,
        maxAttempts: 1,
        credentials: { accessKeyId: emulator.accessKeyId, secretAccessKey: emulator.secretAccessKey },
      },
    });
  }
  if (emulator.kind === 'gcs') {
    return new GcsObjectStore({
      bucket: emulator.bucket,
      ...options,
      storageOptions: { apiEndpoint: emulator.endpoint, projectId: emulator.projectId, retryOptions: { autoRetry: false } },
    });
  }
  return AzureBlobObjectStore.fromConnectionString(emulator.connectionString, emulator.container, options);
}

for (const name of BACKENDS) {
  describe(`${name} adapter beyond the contract`, () => {
    const base = () => `cloud-${randomUUID()}/`;

    it('uploads a large object in parts, conditionally, and reads it whole and by range', async () => {
      const store = smallPartStore(backend(name));
      const k = base();
      const size = backend(name).cloud === 's3' ? 11 * 1024 * 1024 + 5 : 2 * 1024 * 1024 + 300 * 1024 + 7;
      const data = new Uint8Array(randomBytes(size));
      const created = await store.putIfAbsent(`${k}big`, data);
      expect(created.size).toBe(size);
      expect(await rejectionKind(store.putIfAbsent(`${k}big`, data))).toBe('precondition_failed');
      const body = await store.get(`${k}big`);
      expect(body?.etag).toBe(created.etag);
      expect(Buffer.compare(body!.data, data)).toBe(0);
      expect(await store.getRange(`${k}big`, size - 1000, size + 10)).toEqual(data.subarray(size - 1000));
      // Compare-and-swap of a large object.
      const next = new Uint8Array(randomBytes(size));
      const replaced = await store.putIfMatch(`${k}big`, next, created.etag);
      expect((await store.head(`${k}big`))?.etag).toBe(replaced.etag);
      if (backend(name).emulator.implementation !== 'moto') {
        // moto ignores If-Match on CompleteMultipartUpload; MinIO, S3, GCS and Azure do not.
        expect(await rejectionKind(store.putIfMatch(`${k}big`, data, created.etag))).toBe('precondition_failed');
      }
      expect(Buffer.compare((await store.get(`${k}big`))!.data, next)).toBe(0);
      await store.delete(`${k}big`);
    });

    it('reads large bodies whole and by range without a listener-leak warning', async () => {
      // A server reads slab pages by range all day: a warning per read would fill its stderr and
      // read as a leak to an operator (the GCS SDK's stack of pipelines once raised two per read).
      const store = stores.get(name)!;
      const k = `${base()}pages`;
      const data = new Uint8Array(randomBytes(600_000));
      await store.put(k, data);
      const warnings: string[] = [];
      const onWarning = (warning: Error) => {
        if (warning.name === 'MaxListenersExceededWarning') warnings.push(warning.message);
      };
      process.on('warning', onWarning);
      try {
        for (let start = 0; start < 500_000; start += 50_000) {
          expect(Buffer.from((await store.getRange(k, start, start + 100_000))!).equals(data.subarray(start, start + 100_000))).toBe(true);
          const into = [new Uint8Array(60_000), new Uint8Array(40_000)];
          expect(await store.readRangeInto!(k, start, into)).toBe(100_000);
          expect(Buffer.concat(into).equals(data.subarray(start, start + 100_000))).toBe(true);
        }
        expect(Buffer.from((await store.get(k))!.data).equals(data)).toBe(true);
        // Warnings are emitted on the next tick.
        await new Promise((resolve) => setImmediate(resolve));
      } finally {
        process.off('warning', onWarning);
      }
      expect(warnings).toEqual([]);
      await store.delete(k);
    });

    it('records the write token of a conditional write and reads it back', async () => {
      const store = stores.get(name)!;
      const k = base();
      const token = randomUUID();
      const meta = await store.putIfAbsentWithToken(`${k}t`, utf8('x'), token);
      expect(await store.headWithToken(`${k}t`)).toEqual({ meta, token });
      const token2 = randomUUID();
      const meta2 = await store.putIfMatchWithToken(`${k}t`, utf8('y'), meta.etag, token2);
      expect(await store.headWithToken(`${k}t`)).toEqual({ meta: meta2, token: token2 });
      await store.put(`${k}t`, utf8('z'));
      expect((await store.headWithToken(`${k}t`))?.token).toBeUndefined();
      expect(await store.headWithToken(`${k}missing`)).toBeNull();
    });

    it('keeps keys relative to the URL prefix', async () => {
      const { emulator } = backend(name);
      const prefix = `tenants/${randomUUID()}`;
      const scoped = openObjectStore(emulator.storageUrl(prefix), { env: emulator.env, retries: false });
      const root = stores.get(name)!;
      await scoped.put('a/1', utf8('one'));
      await scoped.putIfAbsent('a/2', utf8('two'));
      expect(text((await root.get(`${prefix}/a/1`))?.data)).toBe('one');
      expect((await scoped.list('a/')).objects.map((o) => o.key)).toEqual(['a/1', 'a/2']);
      expect((await scoped.list('', { limit: 1 })).nextStartAfter).toBe('a/1');
      expect((await scoped.list('', { startAfter: 'a/1' })).objects.map((o) => o.key)).toEqual(['a/2']);
      expect((await root.list(`${prefix}/`)).objects.map((o) => o.key)).toEqual([`${prefix}/a/1`, `${prefix}/a/2`]);
    });

    it('reports a missing bucket as permanent, not as a missing object', async () => {
      const { emulator } = backend(name);
      const url = emulator.storageUrl().replace(/^(\w+:\/\/)[^/]+/, '$1no-such-bucket-' + randomUUID().slice(0, 8));
      const store = openObjectStore(url, { env: emulator.env, retries: false });
      expect(await rejectionKind(store.put('k', utf8('x')))).toBe('permanent');
      expect(await rejectionKind(store.list(''))).toBe('permanent');
    });

    it('reports a dead endpoint as transient', async () => {
      const { emulator } = backend(name);
      const dead = 'http://127.0.0.1:9';
      const env =
        emulator.kind === 's3'
          ? { ...emulator.env, AWS_ENDPOINT_URL_S3: dead }
          : emulator.kind === 'gcs'
            ? { ...emulator.env, STORAGE_EMULATOR_HOST: dead }
            : { AZURE_STORAGE_CONNECTION_STRING: emulator.connectionString.replace(/BlobEndpoint=http:\/\/[^/]+/, `BlobEndpoint=${dead}`) };
      const store = openObjectStore(emulator.storageUrl(), { env, retries: false });
      expect(await rejectionKind(store.get('k'))).toBe('transient');
      expect(await rejectionKind(store.putIfAbsent('k', utf8('x')))).toBe('transient');
    });
  });
}

describe('S3 adapter', () => {
  it('rejects wrong credentials as permanent', async () => {
    // MinIO and S3 check signatures; moto does not.
    const s3 = backend('s3 (minio)').emulator;
    if (s3.kind !== 's3') throw new Error('expected an S3 emulator');
    const store = new S3ObjectStore({
      bucket: s3.bucket,
      client: new S3Client({
        endpoint: s3.endpoint,
        region: s3.region,
        forcePathStyle: true,
        maxAttempts: 1,
        credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: 'wrong' },
      }),
    });
    expect(await rejectionKind(store.get('k'))).toBe('permanent');
  });
});
