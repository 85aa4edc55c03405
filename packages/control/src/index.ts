export { createControlPlane, type ControlPlane, type ControlPlaneOptions } from './control-plane.ts';
export { DEFAULT_CONFIG, type ControlPlaneConfig } from './config.ts';
export { DEFAULT_PROJECT_NAME, type BootstrapOptions, type BootstrapResult } from './bootstrap.ts';
export type { ProjectStore } from './projects.ts';
export type { KeyStore } from './api-keys.ts';
export type { IndexStore } from './indexes.ts';
export type { RateLimitOverrideStore, RateLimitOverrides } from './rate-limit-overrides.ts';
export type { NamespaceSchemaStore } from './namespace-schemas.ts';
export { DeletionProtectedError, IndexPortsExhaustedError } from './errors.ts';
export { MAX_USAGE_DAYS, DEFAULT_USAGE_DAYS, utcDay, type UsageMeter } from './usage.ts';
export { AUDIT_ACTIONS } from './audit.ts';
export {
  NODE_ROLES,
  newNodeId,
  type ClusterNode,
  type Membership,
  type NodeAnnouncement,
  type NodeMemory,
  type NodeRole,
  type NodeState,
} from './membership.ts';
export {
  INDEX_JOB_KINDS,
  INDEX_JOB_STATES,
  type IndexJob,
  type IndexJobKind,
  type IndexJobOutput,
  type IndexJobPlan,
  type IndexJobs,
  type IndexJobState,
} from './index-jobs.ts';
export { IMPORT_STATUSES, type BulkImport, type BulkImports, type ImportErrorMode, type ImportStatus } from './bulk-imports.ts';
export { BACKUP_STATUSES, type Backup, type Backups, type BackupStatus, type CreateBackupInput } from './backups.ts';
export { RESTORE_JOB_STATUSES, type RestoreJob, type RestoreJobs, type RestoreJobStatus } from './restore-jobs.ts';
export { NodeHeartbeat, type NodeHeartbeatOptions } from './node-heartbeat.ts';
export { generateApiKey, hashApiKey, API_KEY_PREFIX } from './keys.ts';
export {
  ROLES,
  type Role,
  type Project,
  type ApiKeyInfo,
  type AuthContext,
  type IndexRecord,
  type IndexStatus,
  type DeletionProtection,
  type CreateIndexInput,
  type CreateIndexOptions,
  type IndexHostPort,
  type PortRange,
  type ConfigureIndexInput,
  type CreateKeyInput,
  type AuditEvent,
  type UsageEntry,
  type UsageRecord,
  type UsageQuery,
} from './types.ts';
