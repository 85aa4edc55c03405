import type { IndexDescription, Metric, VectorType } from '@conifer/core';

/** What a key may do; the gateway maps each route to the least role it needs. */
export const ROLES = ['admin', 'read-write', 'read-only'] as const;
export type Role = (typeof ROLES)[number];

export type IndexStatus = IndexDescription['status'];
export type DeletionProtection = IndexDescription['deletionProtection'];

export interface Project {
  id: string;
  name: string;
  /** ISO 8601. */
  createdAt: string;
}

/** An API key as listed: never the key itself, nor its hash. */
export interface ApiKeyInfo {
  id: string;
  projectId: string;
  name: string;
  role: Role;
  /** First 8 characters of the key (`cnf_xxxx`), enough to recognise it. */
  displayPrefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** Who is calling, as resolved from an API key by `authenticate`. */
export interface AuthContext {
  projectId: string;
  keyId: string;
  role: Role;
}

/** An index as the control plane knows it: the Pinecone description plus its ids. */
export interface IndexRecord extends IndexDescription {
  /** Stable, random, `[a-z0-9_]`: the data plane's storage prefix. */
  id: string;
  projectId: string;
  /** Cloud label from `spec.serverless.cloud` (default 'aws'). */
  cloud: string;
  /** Region label from `spec.serverless.region` (default 'us-east-1'). */
  region: string;
  /** The index's own TCP port (its host is `http://host:<port>`); null while it has none. */
  hostPort: number | null;
}

/** Inclusive range of TCP ports the indexes' own ports are taken from. */
export interface PortRange {
  first: number;
  last: number;
}

/** A live index's own port, as the server listens for it. */
export interface IndexHostPort {
  projectId: string;
  name: string;
  hostPort: number;
}

export interface CreateIndexOptions {
  /** Give the new index its own port from this range, in the create's transaction. None: no port. */
  hostPorts?: PortRange | undefined;
}

export interface CreateIndexInput {
  name: string;
  /** Required for a dense index; none for a sparse one. */
  dimension?: number | undefined;
  /** Default cosine, or dotproduct for a sparse index. */
  metric?: Metric | undefined;
  /** Default 'dense'. */
  vectorType?: VectorType | undefined;
  /** Default 'disabled'. */
  deletionProtection?: DeletionProtection | undefined;
  /** Default {}. */
  tags?: Record<string, string> | undefined;
  /** Cloud label (`spec.serverless.cloud`). Default 'aws'. */
  cloud?: string | undefined;
  /** Region label (`spec.serverless.region`). Default 'us-east-1'. */
  region?: string | undefined;
}

export interface ConfigureIndexInput {
  deletionProtection?: DeletionProtection | undefined;
  /** Merged into the current tags; a tag whose value is "" is removed. */
  tags?: Record<string, string> | undefined;
}

export interface CreateKeyInput {
  name: string;
  role: Role;
}

export interface AuditEvent {
  /** Monotonic per database (identity column), as a string. */
  id: string;
  projectId: string;
  actorKeyId: string | null;
  action: string;
  target: string;
  at: string;
}

/** Units to add to an index's counters for today (UTC). */
export interface UsageEntry {
  projectId: string;
  indexId: string;
  indexName: string;
  readUnits?: number | undefined;
  writeUnits?: number | undefined;
}

/** One row of a usage report: one index on one UTC day. */
export interface UsageRecord {
  /** UTC day, `YYYY-MM-DD`. */
  day: string;
  indexId: string;
  /** Name of the index when the units were recorded. */
  indexName: string;
  readUnits: number;
  writeUnits: number;
  /** Metered requests (reads and writes). */
  requests: number;
}

export interface UsageQuery {
  /** First UTC day included, `YYYY-MM-DD`. Default: 30 days before `to`. */
  from?: string | undefined;
  /** Last UTC day included, `YYYY-MM-DD`. Default: today. */
  to?: string | undefined;
  /** Only this index (by name). */
  index?: string | undefined;
}
