import { randomUUID } from 'node:crypto';
import { LazyObjectStore, openObjectStore, type ObjectStore, type RetryOptions, type WriteTokenSupport } from '@conifer/storage';
import { startEmulators, type Emulator, type Emulators } from '@conifer/emulators';
import type { IndexHandle } from '@conifer/engine';

/**
 * Cloud emulators for the e2e suites: one set per test file (MinIO or moto, fake-gcs-server and
 * Azurite as local processes — containers where a Docker engine runs), and stores on them opened
 * the way a server opens them (`openObjectStore(CONIFER_STORAGE)` with the emulators' settings).
 */
export { startEmulators, type Emulators };

export type Cloud = 's3' | 'gcs' | 'azure';
export const CLOUDS: readonly Cloud[] = ['s3', 'gcs', 'azure'];

/** The first run on a machine installs MinIO and fake-gcs-server (`go install`): minutes, once. */
export const EMULATOR_STARTUP_TIMEOUT_MS = 20 * 60_000;

/** Every backend the cloud suites run against, by the label of its tests. */
export const BACKENDS = ['s3 (minio)', 's3 (moto)', 'gcs (fake-gcs-server)', 'azure (azurite)', 'azure (azurite, oldest)'] as const;
export type BackendName = (typeof BACKENDS)[number];

/** One storage service the cloud suites run against: a cloud and the emulator that serves it. */
export interface Backend {
  name: BackendName;
  cloud: Cloud;
  emulator: Emulator;
}

export interface Backends {
  byName: ReadonlyMap<BackendName, Backend>;
  stop(): Promise<void>;
}

/**
 * Every backend users run: S3 on MinIO and on moto, GCS on fake-gcs-server, and Azure on the
 * current Azurite and on the oldest release the SDK still works with (`AZURITE_OLDEST`, which, like
 * older Blob service versions, ignores List Blobs' `startFrom`). Two sets of emulators, since each
 * set has one emulator per cloud; moto and the old Azurite always run as local processes.
 */
export async function startBackends(): Promise<Backends> {
  const [current, other] = await Promise.all([
    startEmulators(['s3', 'gcs', 'azure'], { s3: 'minio' }),
    startEmulators(['s3', 'azure'], { s3: 'moto', azurite: 'oldest', runtime: 'process' }),
  ]);
  const backend = (name: BackendName, emulator: Emulator | undefined): [BackendName, Backend] => {
    if (!emulator) throw new Error(`the emulator of ${name} did not start`);
    return [name, { name, cloud: emulator.kind, emulator }];
  };
  const byName = new Map([
    backend('s3 (minio)', current.s3),
    backend('gcs (fake-gcs-server)', current.gcs),
    backend('azure (azurite)', current.azure),
    backend('s3 (moto)', other.s3),
    backend('azure (azurite, oldest)', other.azure),
  ]);
  return { byName, stop: async () => void (await Promise.all([current.stop(), other.stop()])) };
}

/**
 * Sets `env` in this process's environment while `fn` runs, then puts back what was there. The
 * cloud SDKs read some settings from `process.env` themselves (the GCS client reads
 * `STORAGE_EMULATOR_HOST` when it is built), so a store built this way sees what a server sees.
 */
export async function withEnvironment<T>(env: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  Object.assign(process.env, env);
  try {
    return await fn();
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/** A fresh prefix, so that tests share the emulators' bucket without seeing each other. */
export function freshPrefix(label: string): string {
  return `e2e-${label}-${randomUUID().slice(0, 8)}`;
}

/** The store `CONIFER_STORAGE=<cloud URL>/<prefix>` gives a server (with `withRetries`). */
export function cloudStore(emulators: Emulators, cloud: Cloud, prefix: string, retries?: RetryOptions): ObjectStore {
  return openObjectStore(emulators[cloud]!.storageUrl(prefix), { env: emulators.env, ...(retries ? { retries } : {}) });
}

/** The bare adapter (no retries), for wrapping in `withFaults` and then `withRetries`. */
export async function bareCloudStore(emulators: Emulators, cloud: Cloud, prefix: string): Promise<ObjectStore & WriteTokenSupport> {
  const lazy = openObjectStore(emulators[cloud]!.storageUrl(prefix), { env: emulators.env, retries: false }) as LazyObjectStore;
  return lazy.resolve();
}

/** Dimension of the cloud suites' test vectors. */
export const DIM = 4;

/** Integer components: exact in float32, distinct for i < 385. */
export const vec = (i: number): number[] => [i % 5, (3 * i) % 7, ((7 * i) % 11) - 5, 1];

/** A fresh index handle (its id is the storage prefix inside the bucket's prefix). */
export const newIndex = (): IndexHandle => ({ id: `idx-${randomUUID().slice(0, 8)}`, dimension: DIM, metric: 'euclidean' });
