import { z } from 'zod';
import { NotFoundError, checkIndexKind, createIndexFields, type IndexDescription, type configureIndexSchema } from '@conifer/core';
import type { ControlPlane, IndexRecord, PortRange } from '@conifer/control';
import type { DataPlane, IndexHandle } from '@conifer/engine';
import { assertCanWrite, type AuthContext } from './auth.ts';

const labelSchema = z
  .string({ error: 'must be a string' })
  .max(64, { error: 'must be at most 64 characters' })
  .regex(/^[a-z0-9][a-z0-9-]*$/, { error: "must consist of a-z, 0-9 and '-'" });

/** `createIndexSchema` plus the serverless spec's cloud and region (labels, echoed back). */
export const createIndexRequestSchema = createIndexFields.extend({ cloud: labelSchema.optional(), region: labelSchema.optional() }).superRefine(checkIndexKind);

/** As a face hands it over: defaults are the control plane's. */
export type CreateIndexRequest = z.input<typeof createIndexRequestSchema>;

/** An index as the API describes it: the Pinecone description plus its spec labels. */
export interface IndexInfo extends IndexDescription {
  cloud: string;
  region: string;
  /** The index's own TCP port (its host is `http://host:<port>`); absent while it has none. */
  hostPort?: number;
}
export type ConfigureIndexRequest = z.output<typeof configureIndexSchema>;

/** The Pinecone-shaped description of an index record (drops the internal ids). */
export function describeRecord(record: IndexRecord): IndexInfo {
  return {
    name: record.name,
    dimension: record.dimension,
    metric: record.metric,
    vectorType: record.vectorType,
    status: record.status,
    deletionProtection: record.deletionProtection,
    tags: { ...record.tags },
    createdAt: record.createdAt,
    cloud: record.cloud,
    region: record.region,
    ...(record.hostPort !== null && { hostPort: record.hostPort }),
  };
}

/** What the data plane needs to know about an index. */
export function handleOf(record: IndexRecord): IndexHandle {
  return { id: record.id, dimension: record.dimension, metric: record.metric, vectorType: record.vectorType };
}

export function indexNotFound(name: string): NotFoundError {
  return new NotFoundError(`Index ${name} not found.`);
}

/**
 * The live index named `name` in the caller's project. An index being deleted is already gone
 * for data requests: `NotFoundError`, like an index that never existed.
 */
export async function resolveLiveIndex(control: ControlPlane, auth: AuthContext, name: string): Promise<IndexRecord> {
  const record = await control.indexes.get(auth.projectId, name);
  if (record.status === 'terminating') throw indexNotFound(name);
  return record;
}

export interface IndexService {
  createIndex(auth: AuthContext, input: CreateIndexRequest): Promise<IndexInfo>;
  listIndexes(auth: AuthContext): Promise<{ indexes: IndexInfo[] }>;
  describeIndex(auth: AuthContext, input: { name: string }): Promise<IndexInfo>;
  configureIndex(auth: AuthContext, input: ConfigureIndexRequest): Promise<IndexInfo>;
  /** Marks the index terminating, drops its data, then forgets it. Protected index → PermissionDeniedError. */
  deleteIndex(auth: AuthContext, input: { name: string }): Promise<void>;
}

/**
 * Index management: the control plane's records (which audits its own changes), plus dropping the
 * data on delete. With `indexHostPorts` each new index gets its own port before the create answers.
 */
export function createIndexService(deps: {
  control: ControlPlane;
  data: DataPlane;
  indexHostPorts?: PortRange | undefined;
  /** After an index was created or deleted, whatever face asked (the server opens or closes its port). */
  afterIndexesChange?: (() => Promise<void>) | undefined;
}): IndexService {
  const { control, data } = deps;
  const changed = async () => deps.afterIndexesChange?.();
  return {
    async createIndex(auth, input) {
      assertCanWrite(auth, 'creating an index');
      const record = await control.indexes.create(
        auth.projectId,
        {
          name: input.name,
          dimension: input.dimension,
          metric: input.metric,
          vectorType: input.vectorType,
          deletionProtection: input.deletionProtection,
          tags: input.tags ?? {},
          cloud: input.cloud,
          region: input.region,
        },
        auth.keyId,
        // In the insert's transaction: an exhausted range leaves no index behind.
        { hostPorts: deps.indexHostPorts },
      );
      await changed();
      return describeRecord(record);
    },

    async listIndexes(auth) {
      const records = await control.indexes.list(auth.projectId);
      return { indexes: records.map(describeRecord) };
    },

    async describeIndex(auth, input) {
      return describeRecord(await control.indexes.get(auth.projectId, input.name));
    },

    async configureIndex(auth, input) {
      assertCanWrite(auth, 'configuring an index');
      await resolveLiveIndex(control, auth, input.name);
      const changes = { deletionProtection: input.deletionProtection, tags: input.tags };
      const record = await control.indexes.configure(auth.projectId, input.name, changes, auth.keyId);
      return describeRecord(record);
    },

    async deleteIndex(auth, input) {
      assertCanWrite(auth, 'deleting an index');
      const record = await control.indexes.beginDelete(auth.projectId, input.name, auth.keyId);
      await data.dropIndex(handleOf(record));
      await control.indexes.finishDelete(record.id);
      await changed();
    },
  };
}

/**
 * Finishes deletions that a crash interrupted: every index still marked terminating has its data
 * dropped and its record removed. Run once at start-up; safe to run again.
 */
export async function resumeIndexDeletions(deps: { control: ControlPlane; data: DataPlane }): Promise<number> {
  const pending = await deps.control.indexes.listTerminating();
  for (const record of pending) {
    await deps.data.dropIndex(handleOf(record));
    await deps.control.indexes.finishDelete(record.id);
  }
  return pending.length;
}
