import { randomUUID } from 'node:crypto';
import { LazyObjectStore, openObjectStore, type ObjectStore, type RetryOptions, type WriteTokenSupport } from '@conifer/storage';
import { startEmulators, type Emulators } from '@conifer/storage/testing/emulators';
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
