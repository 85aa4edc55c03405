import type { z } from 'zod';
import type {
  DeleteRequest,
  FetchRequest,
  FetchResult,
  IndexStats,
  ListRequest,
  ListResult,
  QueryRequest,
  QueryResult,
  UpdateRequest,
  UpsertRequest,
  UpsertResult,
  namespaceRefSchema,
  statsSchema,
} from '@conifer/core';
import type { ControlPlane } from '@conifer/control';
import type { DataPlane, DeleteResult, IndexHandle, NamespaceInternals, NamespaceSummary, UpdateResult } from '@conifer/engine';
import { assertCanWrite, type AuthContext } from './auth.ts';
import { handleOf, resolveLiveIndex } from './index-service.ts';

export type IndexRef = z.output<typeof statsSchema>;
export type NamespaceRef = z.output<typeof namespaceRefSchema>;

export interface DataService {
  upsert(auth: AuthContext, input: UpsertRequest): Promise<UpsertResult>;
  query(auth: AuthContext, input: QueryRequest): Promise<QueryResult>;
  fetch(auth: AuthContext, input: FetchRequest): Promise<FetchResult>;
  update(auth: AuthContext, input: UpdateRequest): Promise<UpdateResult>;
  delete(auth: AuthContext, input: DeleteRequest): Promise<DeleteResult>;
  list(auth: AuthContext, input: ListRequest): Promise<ListResult>;
  describeIndexStats(auth: AuthContext, input: IndexRef): Promise<IndexStats>;
  listNamespaces(auth: AuthContext, input: IndexRef): Promise<{ namespaces: NamespaceSummary[] }>;
  /** Unknown namespace → NotFoundError. */
  deleteNamespace(auth: AuthContext, input: NamespaceRef): Promise<void>;
  describeNamespaceInternals(auth: AuthContext, input: NamespaceRef): Promise<NamespaceInternals>;
}

/**
 * Record reads and writes. Each call resolves the index by name in the caller's project (an index
 * of another project is simply not found), checks the key's role for writes, and hands the
 * already-validated request to the data plane.
 */
export function createDataService(deps: { control: ControlPlane; data: DataPlane }): DataService {
  const { control, data } = deps;
  const handle = async (auth: AuthContext, index: string): Promise<IndexHandle> => handleOf(await resolveLiveIndex(control, auth, index));

  return {
    async upsert(auth, { index, namespace, records }) {
      assertCanWrite(auth, 'upsert');
      return data.upsert(await handle(auth, index), namespace, records);
    },

    async query(auth, { index, namespace, ...query }) {
      return data.query(await handle(auth, index), namespace, query);
    },

    async fetch(auth, { index, namespace, ids }) {
      return data.fetch(await handle(auth, index), namespace, ids);
    },

    async update(auth, { index, namespace, ...update }) {
      assertCanWrite(auth, 'update');
      return data.update(await handle(auth, index), namespace, update);
    },

    async delete(auth, { index, namespace, ...del }) {
      assertCanWrite(auth, 'delete');
      return data.delete(await handle(auth, index), namespace, del);
    },

    async list(auth, { index, namespace, ...list }) {
      return data.list(await handle(auth, index), namespace, list);
    },

    async describeIndexStats(auth, { index }) {
      const h = await handle(auth, index);
      const summaries = await data.listNamespaces(h);
      // fromEntries defines own properties, so a namespace named "__proto__" stays a plain key.
      const namespaces: IndexStats['namespaces'] = Object.fromEntries(summaries.map((ns) => [ns.name, { recordCount: ns.recordCount }]));
      const totalRecordCount = summaries.reduce((sum, ns) => sum + ns.recordCount, 0);
      return { dimension: h.dimension, metric: h.metric, totalRecordCount, namespaces };
    },

    async listNamespaces(auth, { index }) {
      return { namespaces: await data.listNamespaces(await handle(auth, index)) };
    },

    async deleteNamespace(auth, { index, namespace }) {
      assertCanWrite(auth, 'deleting a namespace');
      await data.deleteNamespace(await handle(auth, index), namespace);
      await control.audit(auth.projectId, auth.keyId, 'namespace.delete', `index:${index}/ns:${namespace}`);
    },

    async describeNamespaceInternals(auth, { index, namespace }) {
      return data.describeNamespace(await handle(auth, index), namespace);
    },
  };
}
