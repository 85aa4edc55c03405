import type { ColumnType, Generated, GeneratedAlways } from 'kysely';
import type { Metric, NamespaceMetadataSchema, VectorType } from '@conifer/core';
import type { DeletionProtection, IndexStatus, Role } from './types.ts';

/**
 * The control-plane tables as Kysely sees them. Every query in this package is checked against
 * this interface; `migrations/` creates the same shape in SQL (PostgreSQL, also under PGlite).
 *
 * Timestamps are `timestamptz`: both `pg` and PGlite return them as `Date`.
 */
export interface Database {
  projects: ProjectsTable;
  api_keys: ApiKeysTable;
  indexes: IndexesTable;
  audit_events: AuditEventsTable;
  usage_daily: UsageDailyTable;
  cluster_nodes: ClusterNodesTable;
  index_jobs: IndexJobsTable;
  bulk_imports: BulkImportsTable;
  namespace_schemas: NamespaceSchemasTable;
  backups: BackupsTable;
  restore_jobs: RestoreJobsTable;
}

/** A timestamp the database fills in (`default now()`), never updated afterwards. */
type CreatedAt = ColumnType<Date, Date | undefined, never>;

/** jsonb rate-limit overrides (limit name → per second); written as a JSON string. */
type RateLimitsColumn = ColumnType<Record<string, number>, string | undefined, string>;

export interface ProjectsTable {
  id: string;
  name: string;
  created_at: CreatedAt;
  rate_limits: RateLimitsColumn;
}

/** API keys. The plaintext key is never stored: only its sha256 and its first 8 characters. */
export interface ApiKeysTable {
  id: string;
  project_id: string;
  name: string;
  role: Role;
  /** sha256 hex of the whole key; unique. */
  key_hash: string;
  /** First 8 characters of the key, shown in listings. */
  display_prefix: string;
  created_at: CreatedAt;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

export interface IndexesTable {
  id: string;
  project_id: string;
  name: string;
  /** 0 for a sparse index (migration 0009). */
  dimension: number;
  metric: Metric;
  vector_type: ColumnType<VectorType, VectorType | undefined, VectorType>;
  status: IndexStatus;
  deletion_protection: DeletionProtection;
  /** jsonb; written as a JSON string, read back as an object by both drivers. */
  tags: ColumnType<Record<string, string>, string | undefined, string>;
  /** `spec.serverless.cloud` as the client gave it (a label; default 'aws'). */
  cloud: ColumnType<string, string | undefined, string>;
  /** `spec.serverless.region` as the client gave it (a label; default 'us-east-1'). */
  region: ColumnType<string, string | undefined, string>;
  rate_limits: RateLimitsColumn;
  created_at: CreatedAt;
  /** Set by `finishDelete`; a deleted row no longer holds its name nor its port. */
  deleted_at: Date | null;
  /** The index's own TCP port (migration 0006); kept after deletion as the port's history. */
  host_port: number | null;
}

/**
 * Read and write units per index per UTC day (`date`). Written only by the usage meter, which adds
 * its in-memory sums to the row (`on conflict do update`), so several nodes share a row safely.
 */
export interface UsageDailyTable {
  project_id: string;
  index_id: string;
  /** Name of the index when the units were recorded (kept after the index is deleted). */
  index_name: string;
  /** Written as 'YYYY-MM-DD'; read back with `to_char` (the drivers would turn a date into a local-time Date). */
  day: ColumnType<Date, string, string>;
  read_units: ColumnType<number, number | undefined, number>;
  write_units: ColumnType<number, number | undefined, number>;
  /** `bigint`: `pg` returns int8 as a string, PGlite as a number. */
  requests: ColumnType<string | number, number | undefined, number>;
}

export interface AuditEventsTable {
  /** `bigint generated always as identity`: `pg` returns int8 as a string, PGlite as a number. */
  id: GeneratedAlways<string | number>;
  project_id: string;
  actor_key_id: string | null;
  action: string;
  target: string;
  at: Generated<Date>;
}

/** One running node of a cluster (`membership.ts`). */
export interface ClusterNodesTable {
  id: string;
  /** `jsonb` array of role names. */
  roles: ColumnType<string[], string, string>;
  url: string;
  /** 'active' or 'draining'. */
  state: string;
  started_at: Generated<Date>;
  /** Set to the database's `now()` on every heartbeat. */
  heartbeat_at: Generated<Date>;
  /** `jsonb` NodeMemory of the last heartbeat, or null. */
  memory: ColumnType<unknown, string | null | undefined, string | null>;
}

/**
 * One planned compaction or index build of a namespace (`index-jobs.ts`). jsonb columns are written
 * as JSON strings and read back parsed by both drivers.
 */
export interface IndexJobsTable {
  id: string;
  index_id: string;
  namespace: string;
  /** 'compaction' or 'index'. */
  kind: string;
  /** jsonb array of the input slab ids. */
  inputs: ColumnType<unknown, string, string>;
  /** bigint: the manifest version the job was planned against (`pg` returns int8 as a string, PGlite as a number). */
  base_version: ColumnType<string | number, number, number>;
  /** bigint: the planning writer's epoch. */
  writer_epoch: ColumnType<string | number, number, number>;
  /** jsonb, opaque to the queue. */
  params: ColumnType<unknown, string, string>;
  /** 'pending', 'running', 'done', 'failed' or 'cancelled'. */
  state: string;
  /** Claims so far. */
  attempts: Generated<number>;
  claimed_by: string | null;
  /** The database's `now()` at the claim and at every heartbeat since. */
  heartbeat_at: Date | null;
  /** jsonb the claimer reported with `done`. */
  output: ColumnType<unknown, string | null | undefined, string | null>;
  error: string | null;
  created_at: CreatedAt;
  /** The database's `now()` at the last change of state or claimer (not at heartbeats). */
  updated_at: Generated<Date>;
}

/** The metadata schema a namespace was created with (`namespace-schemas.ts`, migration 0007). */
export interface NamespaceSchemasTable {
  index_id: string;
  namespace: string;
  /** jsonb `{ fields: { <name>: { filterable } } }`; written as a JSON string, read back parsed by both drivers. */
  schema: ColumnType<NamespaceMetadataSchema, string, string>;
  created_at: CreatedAt;
}

/** One bulk import of an index (`bulk-imports.ts`). */
export interface BulkImportsTable {
  id: string;
  project_id: string;
  index_id: string;
  uri: string;
  /** 'abort' or 'continue'. */
  error_mode: string;
  /** 'Pending', 'InProgress', 'Failed', 'Completed' or 'Cancelled'. */
  status: string;
  percent_complete: Generated<number>;
  /** bigint (`pg` returns int8 as a string, PGlite as a number). */
  records_imported: ColumnType<string | number, number | undefined, number>;
  records_skipped: ColumnType<string | number, number | undefined, number>;
  error: string | null;
  /** The node running the import. */
  node_id: string | null;
  created_at: CreatedAt;
  finished_at: Date | null;
}

/** Backups of indexes (migration 0010, `backups.ts`); what they hold is in the object store. */
export interface BackupsTable {
  id: string;
  project_id: string;
  source_index_id: string;
  source_index_name: string;
  name: string | null;
  description: string | null;
  /** 'Initializing', 'Ready' or 'Failed'. */
  status: string;
  cloud: string;
  region: string;
  dimension: number;
  metric: string;
  vector_type: ColumnType<string, string | undefined, string>;
  /** jsonb: the source index's tags when the backup was taken; written as a JSON string. */
  tags: ColumnType<Record<string, string>, string, string>;
  record_count: ColumnType<string | number, number | undefined, number>;
  namespace_count: Generated<number>;
  size_bytes: ColumnType<string | number, number | undefined, number>;
  error: string | null;
  created_at: CreatedAt;
}

/** Restores of backups into new indexes (migration 0010, `restore-jobs.ts`). */
export interface RestoreJobsTable {
  id: string;
  project_id: string;
  backup_id: string;
  target_index_id: string;
  target_index_name: string;
  /** 'Pending', 'InProgress', 'Completed' or 'Failed'. */
  status: string;
  percent_complete: Generated<number>;
  error: string | null;
  created_at: CreatedAt;
  completed_at: Date | null;
}
