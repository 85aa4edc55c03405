export {
  assertValidKey,
  deletePrefix,
  hasWriteTokens,
  isPreconditionFailed,
  listAll,
  type ListOptions,
  type ListPage,
  type ObjectBody,
  type ObjectMeta,
  type ObjectStore,
  ObjectStoreError,
  type ObjectStoreErrorKind,
  type TokenedMeta,
  type WriteTokenSupport,
} from './object-store.ts';
export { MemoryObjectStore } from './memory-store.ts';
export { FsObjectStore } from './fs-store.ts';
export { openObjectStore, parseCloudUrl, type CloudLocation, type Env, type OpenObjectStoreOptions } from './store-from-url.ts';
export { withRetries, DEFAULT_RETRY_OPTIONS, type RetryOptions, type RetryEvent, type RetryStats, type RetryingObjectStore } from './retrying-store.ts';
export {
  withFaults,
  type FaultPlan,
  type FaultKind,
  type FaultController,
  type FaultStats,
  type FaultyObjectStore,
  type StoreOperation,
} from './faulty-store.ts';
export { parseLatencyModel, S3_LATENCY, withLatency, type LatencyModel } from './latency-store.ts';
export { withParallelReads, type ParallelReadOptions } from './parallel-reads.ts';
export {
  SlabCache,
  withCache,
  isSlabKey,
  DEFAULT_SLAB_CACHE_MEMORY_BYTES,
  DEFAULT_SLAB_CACHE_DISK_BYTES,
  type SlabCacheOptions,
  type SlabCacheStats,
  type CachedObjectStore,
} from './slab-cache.ts';
export { LazyObjectStore } from './lazy-store.ts';
// The cloud adapters are separate entry points (@conifer/storage/s3, /gcs, /azure): each SDK
// takes 0.1–0.6 s to import, and most users of this package need at most one of them.
export type { S3StoreOptions } from './s3-store.ts';
export type { GcsStoreOptions } from './gcs-store.ts';
export type { AzureStoreOptions } from './azure-store.ts';
export type { CloudStoreOptions } from './cloud-common.ts';
