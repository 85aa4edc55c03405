export type {
  IndexHandle,
  SparseInput,
  RecordInput,
  QueryInput,
  UpdateInput,
  FetchByMetadataInput,
  DeleteInput,
  ListInput,
  QueryMatches,
  FetchedRecords,
  IdPage,
  RecordPage,
  UpdateResult,
  DeleteResult,
  NamespaceSummary,
  NamespaceInternals,
  DataPlane,
  ReadOptions,
  Reflects,
} from './data-plane.ts';
export { Engine, createEngine, type EngineOptions } from './engine.ts';
export { ReplicaEngine, type ReplicaEngineOptions } from './replica-engine.ts';
export { residentBytes, type ResidentMemory, type ResidentStats } from './resident-set.ts';
export { DEFAULT_ENGINE_CONFIG, maxSlabShare, pageCacheShare, resolveEngineConfig, type EngineConfig } from './config.ts';
export { PageCache, type PageCacheStats } from '@conifer/slab';
export { encodeNamespace, decodeNamespace, slabKey } from './layout.ts';
export { NoIndexerError, type RemoteCompactions, type RemoteCompactionJob } from './remote-compactions.ts';
export type { ImportOptions, StagedImport } from './bulk-import.ts';
export { sizeOfPin, type BackupPin } from './backup-pins.ts';
