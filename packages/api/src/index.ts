export { createAppRouter, appRouter, createCaller, type AppRouter, type RouterInputs, type RouterOutputs } from './router.ts';
export { createContext, type Context } from './trpc.ts';
export { createServices, type Services, type ServiceDeps } from './services.ts';
export {
  createIndexRequestSchema,
  describeRecord,
  resumeIndexDeletions,
  type CreateIndexRequest,
  type ConfigureIndexRequest,
  type IndexInfo,
} from './index-service.ts';
export {
  fetchByMetadataRequestSchema,
  fetchRequestSchema,
  listNamespacesSchema,
  listRequestSchema,
  queryRequestSchema,
  updateRequestSchema,
  type IndexRef,
  type CreateNamespaceRequest,
  type NamespaceDescription,
  type NamespaceRef,
  type NamespacePage,
  type ListNamespacesRequest,
  type UpdateRequest,
  type UpdateResponse,
  type ForwardedUpsertResult,
  type ForwardingDataPlane,
  type UpsertBodyRequest,
  type UpsertInput,
} from './data-service.ts';
export {
  apiKeyRefSchema,
  createApiKeySchema,
  createProjectSchema,
  rateLimitScopeSchema,
  setRateLimitsSchema,
  usageQuerySchema,
  type CallerDescription,
  type RateLimitsView,
  type UsageReport,
} from './admin-service.ts';
export {
  CLUSTER_JOBS_DEFAULT_LIMIT,
  CLUSTER_JOBS_MAX_LIMIT,
  CLUSTER_NAMESPACES_DEFAULT_LIMIT,
  CLUSTER_NAMESPACES_MAX_LIMIT,
  clusterJobsQuerySchema,
  clusterNamespacesQuerySchema,
  type ClusterJobView,
  type ClusterJobsView,
  type ClusterNamespaceView,
  type ClusterNamespacesView,
  type ClusterNodeRef,
  type ClusterNodeView,
  type ClusterView,
  type NamespaceCopy,
  type NamespacePlacement,
  type ServiceDataPlane,
} from './cluster-service.ts';
export {
  PINECONE_RATE_LIMITS,
  NO_RATE_LIMITS,
  RATE_LIMIT_NAMES,
  RateLimiter,
  rateLimitOverridesSchema,
  type RateLimits,
  type RateLimitName,
  type RateLimitOverrides,
  type RateScope,
} from './rate-limits.ts';
export { UNIT_RULES, fetchReadUnits, queryReadUnits, recordBytes, recordsBytes, writeUnits } from './units.ts';
export { apiKeyFromHeaders, assertAdmin, assertCanWrite, type AuthContext, type Role, type HeaderBag } from './auth.ts';
export {
  BODY_TOO_LARGE_MESSAGE,
  malformedJsonMessage,
  INTERNAL_MESSAGE,
  MISSING_KEY_MESSAGE,
  TRPC_CODE_OF,
  coniferCodeOf,
  formatErrorShape,
  toTRPCError,
  type ConiferErrorData,
} from './errors.ts';
export {
  createImportService,
  type BulkImporter,
  type ImportInfo,
  type ImportService,
  type ImportServiceOptions,
  type StartImportInput,
} from './import-service.ts';
export {
  backupRefSchema,
  createBackupSchema,
  listBackupsSchema,
  MAX_BACKUP_DESCRIPTION_LENGTH,
  MAX_BACKUP_NAME_LENGTH,
  type BackupInfo,
  type BackupService,
  type CreateBackupRequest,
} from './backup-service.ts';
export { createIndexFromBackupSchema, listRestoreJobsSchema, restoreJobRefSchema, type RestoreJobInfo, type RestoreService } from './restore-service.ts';
export { ImportRowError, MAX_IMPORT_NAMESPACES, readNamespace, recordOfRow, scanImport, type ImportFile, type ImportNamespace } from './import-parquet.ts';
