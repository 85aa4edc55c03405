import { randomBytes, randomUUID } from 'node:crypto';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
// `.js`: tools/emulators is another TypeScript project; see testing/emulators.ts.
import { startEmulators, type Emulators } from '../../../tools/emulators/src/index.js';
import { AzureBlobObjectStore } from './azure-store.ts';
import { GcsObjectStore } from './gcs-store.ts';
import { LazyObjectStore } from './lazy-store.ts';
import { ObjectStoreError, type ObjectStore, type ObjectStoreErrorKind, type WriteTokenSupport } from './object-store.ts';
import { S3ObjectStore } from './s3-store.ts';
import { openObjectStore } from './store-from-url.ts';
import { objectStoreContract } from './testing/contract.ts';

/**
 * The storage contract suite, unchanged, against the three cloud adapters on their emulators
 * (MinIO or moto, fake-gcs-server, Azurite — started here as local processes, or containers where
 * a Docker engine runs), plus what only the clouds have: uploads in parts, write tokens, error
 * mapping of a missing bucket, bad credentials and a dead endpoint, and keys under a URL prefix.
 *
 * The adapters are opened through `openObjectStore(url, { env })`, as a server would, but without
 * `withRetries`: the contract checks the adapters' own answers.
 */
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

type Cloud = 's3' | 'gcs' | 'azure';
const CLOUDS: Cloud[] = ['s3', 'gcs', 'azure'];

let emulators: Emulators;
const stores = new Map<Cloud, ObjectStore & WriteTokenSupport>();

beforeAll(async () => {
  // The first run on a machine installs MinIO and fake-gcs-server (`go install`): minutes, once.
  emulators = await startEmulators(CLOUDS);
  for (const cloud of CLOUDS) {
    const emulator = emulators[cloud]!;
    stores.set(cloud, (await (openObjectStore(emulator.storageUrl(), { env: emulators.env, retries: false }) as LazyObjectStore).resolve()));
  }
}, 20 * 60_000);

afterAll(async () => {
  await emulators?.stop();
});

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | null | undefined) => (b ? new TextDecoder().decode(b) : b);

async function rejectionKind(promise: Promise<unknown>): Promise<ObjectStoreErrorKind> {
  const err: unknown = await promise.then(
    () => new Error('expected the call to fail'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ObjectStoreError);
  return (err as ObjectStoreError).kind;
}

for (const cloud of CLOUDS) {
  objectStoreContract(`${cloud} (emulator)`, async () => ({ store: stores.get(cloud)! }));
}

/** An adapter on the emulator with small part sizes, so that multi-part uploads run on small objects. */
function smallPartStore(cloud: Cloud): ObjectStore & WriteTokenSupport {
  const options = { multipartThreshold: 1024 * 1024, partSize: 512 * 1024, uploadConcurrency: 3 };
  if (cloud === 's3') {
    const s3 = emulators.s3!;
    // S3 parts are at least 5 MiB; the adapter raises both sizes to that.
    return new S3ObjectStore({
      bucket: s3.bucket,
      ...options,
      clientConfig: { endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, maxAttempts: 1, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } },
    });
  }
  if (cloud === 'gcs') {
    const gcs = emulators.gcs!;
    return new GcsObjectStore({ bucket: gcs.bucket, ...options, storageOptions: { apiEndpoint: gcs.endpoint, projectId: gcs.projectId, retryOptions: { autoRetry: false } } });
  }
  const azure = emulators.azure!;
  return AzureBlobObjectStore.fromConnectionString(azure.connectionString, azure.container, options);
}

for (const cloud of CLOUDS) {
  describe(`${cloud} adapter beyond the contract`, () => {
    const base = () => `cloud-${randomUUID()}/`;

    it('uploads a large object in parts, conditionally, and reads it whole and by range', async () => {
      const store = smallPartStore(cloud);
      const k = base();
      const size = cloud === 's3' ? 11 * 1024 * 1024 + 5 : 2 * 1024 * 1024 + 300 * 1024 + 7;
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
      if (!(cloud === 's3' && emulators.s3!.implementation === 'moto')) {
        // moto ignores If-Match on CompleteMultipartUpload; MinIO, S3, GCS and Azure do not.
        expect(await rejectionKind(store.putIfMatch(`${k}big`, data, created.etag))).toBe('precondition_failed');
      }
      expect(Buffer.compare((await store.get(`${k}big`))!.data, next)).toBe(0);
      await store.delete(`${k}big`);
    });

    it('records the write token of a conditional write and reads it back', async () => {
      const store = stores.get(cloud)!;
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
      const emulator = emulators[cloud]!;
      const prefix = `tenants/${randomUUID()}`;
      const scoped = openObjectStore(emulator.storageUrl(prefix), { env: emulators.env, retries: false });
      const root = stores.get(cloud)!;
      await scoped.put('a/1', utf8('one'));
      await scoped.putIfAbsent('a/2', utf8('two'));
      expect(text((await root.get(`${prefix}/a/1`))?.data)).toBe('one');
      expect((await scoped.list('a/')).objects.map((o) => o.key)).toEqual(['a/1', 'a/2']);
      expect((await scoped.list('', { limit: 1 })).nextStartAfter).toBe('a/1');
      expect((await scoped.list('', { startAfter: 'a/1' })).objects.map((o) => o.key)).toEqual(['a/2']);
      expect((await root.list(`${prefix}/`)).objects.map((o) => o.key)).toEqual([`${prefix}/a/1`, `${prefix}/a/2`]);
    });

    it('reports a missing bucket as permanent, not as a missing object', async () => {
      const emulator = emulators[cloud]!;
      const url = emulator.storageUrl().replace(/^(\w+:\/\/)[^/]+/, '$1no-such-bucket-' + randomUUID().slice(0, 8));
      const store = openObjectStore(url, { env: emulators.env, retries: false });
      expect(await rejectionKind(store.put('k', utf8('x')))).toBe('permanent');
      expect(await rejectionKind(store.list(''))).toBe('permanent');
    });

    it('reports a dead endpoint as transient', async () => {
      const env: Record<string, string> = {
        s3: { ...emulators.s3!.env, AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9' },
        gcs: { ...emulators.gcs!.env, STORAGE_EMULATOR_HOST: 'http://127.0.0.1:9' },
        azure: { AZURE_STORAGE_CONNECTION_STRING: emulators.azure!.connectionString.replace(/BlobEndpoint=http:\/\/[^/]+/, 'BlobEndpoint=http://127.0.0.1:9') },
      }[cloud];
      const store = openObjectStore(emulators[cloud]!.storageUrl(), { env, retries: false });
      expect(await rejectionKind(store.get('k'))).toBe('transient');
      expect(await rejectionKind(store.putIfAbsent('k', utf8('x')))).toBe('transient');
    });
  });
}

describe('S3 adapter', () => {
  it('rejects wrong credentials as permanent', async () => {
    const s3 = emulators.s3!;
    const store = new S3ObjectStore({
      bucket: s3.bucket,
      client: new S3Client({ endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, maxAttempts: 1, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: 'wrong' } }),
    });
    // moto does not check signatures; MinIO and S3 do.
    if (s3.implementation === 'minio') expect(await rejectionKind(store.get('k'))).toBe('permanent');
  });
});
