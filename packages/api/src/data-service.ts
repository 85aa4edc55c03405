import { z } from 'zod';
import {
  listNamespacesSchema,
  type ListNamespacesRequest,
  LIMITS,
  InvalidArgumentError,
  InternalError,
  NotFoundError,
  createNamespaceSchema,
  indexedFieldsOf,
  unindexedFilterField,
  fetchByMetadataSchema,
  fetchSchema,
  listSchema,
  namespaceRefSchema,
  querySchema,
  readOptionsSchema,
  statsSchema,
  updateSchema,
  type DeleteRequest,
  type FetchByMetadataRequest,
  type FetchByMetadataResult,
  type FetchRequest,
  type FetchResult,
  type Filter,
  type IndexStats,
  type ListRequest,
  type ListResult,
  type NamespaceMetadataSchema,
  type QueryRequest,
  type QueryResult,
  type UpsertRequest,
  type UpsertResult,
} from '@conifer/core';
import type { ControlPlane, IndexRecord } from '@conifer/control';
import type { DataPlane, DeleteResult, IndexHandle, NamespaceInternals, NamespaceSummary, ReadOptions, RecordInput } from '@conifer/engine';
import { assertCanWrite, type AuthContext } from './auth.ts';
import { handleOf, resolveLiveIndex } from './index-service.ts';
import { afterOf, paginationOf } from './pagination.ts';
import type { RateLimiter, RateScope } from './rate-limits.ts';
import {
  LIST_READ_UNITS,
  UNIT_RULES,
  estimatedRecordBytes,
  fetchReadUnits,
  queryReadUnits,
  recordBytes,
  recordsBytes,
  reportedUnits,
  writeUnits,
} from './units.ts';

export type IndexRef = z.output<typeof statsSchema>;
export type NamespaceRef = z.output<typeof namespaceRefSchema>;
/** A namespace to create, with the metadata schema it indexes (optional). */
export type CreateNamespaceRequest = z.output<typeof createNamespaceSchema>;

/**
 * A namespace as create, describe and list answer it: name, live records, and, when it was created
 * with one, its metadata `schema` and `indexedFields` (the schema's `filterable: true` fields,
 * Pinecone's `indexed_fields`). Without a schema both are absent: every metadata field is indexed.
 */
export interface NamespaceDescription extends NamespaceSummary {
  schema?: NamespaceMetadataSchema;
  indexedFields?: string[];
}

/** A namespace's summary with its schema (if any) and the fields that schema indexes. */
function describedNamespace(summary: NamespaceSummary, schema: NamespaceMetadataSchema | undefined): NamespaceDescription {
  return schema === undefined ? summary : { ...summary, schema, indexedFields: indexedFieldsOf(schema) };
}

/** `update` plus `dryRun`: count the records that would change, write nothing. */
export const updateRequestSchema = z.intersection(updateSchema, z.object({ dryRun: z.boolean().optional() }));
export type UpdateRequest = z.output<typeof updateRequestSchema>;

/**
 * The reads of the tRPC face: the shared request schema plus the read options (`consistency`,
 * `minLsn`) as input fields. The router hands the options to the service as its `read` argument.
 */
export const queryRequestSchema = z.intersection(querySchema, readOptionsSchema);
export const fetchRequestSchema = z.intersection(fetchSchema, readOptionsSchema);
export const fetchByMetadataRequestSchema = z.intersection(fetchByMetadataSchema, readOptionsSchema);
export const listRequestSchema = z.intersection(listSchema, readOptionsSchema);

export interface UpdateResponse {
  /** Records that matched (and, unless `dryRun`, were changed). */
  matchedRecords: number;
  /** LSN the update was logged at; absent for a dry run, or when nothing matched (nothing was logged). */
  lsn?: number;
}

export { listNamespacesSchema };
export type { ListNamespacesRequest };

export interface NamespacePage {
  namespaces: NamespaceDescription[];
  /** Namespaces matching the prefix, over all pages. */
  totalCount: number;
  /** Absent on the last page. */
  pagination?: { next: string };
}

/**
 * A forwarded upsert's outcome (see {@link ForwardingDataPlane}): applied, with the bytes of its
 * records for rate limits and metering, or not applied because the body's namespace is another.
 */
export type ForwardedUpsertResult = { upsertedCount: number; lsn: number; recordBytes: number } | { misroutedTo: string };

/**
 * A data plane that takes an upsert's body as the client sent it (a cluster gateway's): the writer
 * owning `namespace` parses and validates it as the REST API would, and applies it only if the body
 * names that namespace.
 */
export interface ForwardingDataPlane {
  /** `body`: the request body's bytes, in the chunks they arrived in. */
  upsertBody(index: IndexHandle, indexName: string, namespace: string, body: readonly Uint8Array[]): Promise<ForwardedUpsertResult>;
}

/**
 * An upsert as the service takes it: the schema's request, whose vectors may also arrive already
 * as float32 (a REST body read straight into a Float32Array).
 */
export type UpsertInput = Omit<UpsertRequest, 'records'> & { records: RecordInput[] };

/** A Pinecone upsert body, unparsed, and where it goes. */
export interface UpsertBodyRequest {
  index: string;
  /** The namespace the body names, as read from its text (already through the namespace schema). */
  namespace: string;
  /** The body's bytes, in the chunks they arrived in. */
  body: readonly Uint8Array[];
}

export interface DataService {
  upsert(auth: AuthContext, input: UpsertInput): Promise<UpsertResult>;
  /**
   * Present when the data plane forwards bodies (a cluster gateway): an upsert whose body is parsed
   * and validated by the writer that applies it. Same checks, limits and metering as `upsert`,
   * except that the bytes of its records are charged to the byte rate limit once the writer has
   * counted them (the limit refuses the requests after the one that exhausts it).
   */
  upsertBody?(auth: AuthContext, input: UpsertBodyRequest): Promise<UpsertResult>;
  /**
   * The reads take how fresh they must be (`read`: consistency, minLsn; default eventual, no
   * minimum) and say which LSN of the namespace they reflect (`indexedLsn`).
   */
  query(auth: AuthContext, input: QueryRequest, read?: ReadOptions): Promise<QueryResult>;
  fetch(auth: AuthContext, input: FetchRequest, read?: ReadOptions): Promise<FetchResult>;
  /** Records whose metadata matches a filter, in id order, one page at a time. */
  fetchByMetadata(auth: AuthContext, input: FetchByMetadataRequest, read?: ReadOptions): Promise<FetchByMetadataResult>;
  /** By id, or every record matching `filter`; values replaced, metadata merged. */
  update(auth: AuthContext, input: UpdateRequest): Promise<UpdateResponse>;
  delete(auth: AuthContext, input: DeleteRequest): Promise<DeleteResult>;
  list(auth: AuthContext, input: ListRequest, read?: ReadOptions): Promise<ListResult>;
  /** Dimension, metric and record counts of the namespaces that hold records. */
  describeIndexStats(auth: AuthContext, input: IndexRef): Promise<IndexStats>;
  listNamespaces(auth: AuthContext, input: ListNamespacesRequest): Promise<NamespacePage>;
  /**
   * Creates an empty namespace, with the metadata schema it indexes when `schema` is given (stored
   * with it; a filter on a field the schema does not index is then refused). AlreadyExistsError
   * when it exists.
   */
  createNamespace(auth: AuthContext, input: CreateNamespaceRequest): Promise<NamespaceDescription>;
  /** Name, record count and schema. NotFoundError when the namespace was never created or written. */
  describeNamespace(auth: AuthContext, input: NamespaceRef): Promise<NamespaceDescription>;
  /** Unknown namespace → NotFoundError. Its schema goes with it. */
  deleteNamespace(auth: AuthContext, input: NamespaceRef): Promise<void>;
  describeNamespaceInternals(auth: AuthContext, input: NamespaceRef): Promise<NamespaceInternals>;
}

/** Storage of a namespace as the console describes it (index stats; queries use the engine's own count). */
function describedBytes(internals: NamespaceInternals): number {
  return internals.memtable.bytes + internals.slabs.reduce((sum, slab) => sum + slab.bytes, 0);
}

const byName = (a: NamespaceSummary, b: NamespaceSummary): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * Record reads and writes. Each call resolves the index by name in the caller's project (an index
 * of another project is simply not found), checks the key's role for writes and the rate limits,
 * hands the already-validated request to the data plane, and meters its read or write units.
 */
export function createDataService(deps: { control: ControlPlane; data: DataPlane & Partial<ForwardingDataPlane>; limiter: RateLimiter }): DataService {
  const { control, data, limiter } = deps;

  async function target(auth: AuthContext, index: string, namespace?: string): Promise<{ record: IndexRecord; handle: IndexHandle; scope: RateScope }> {
    const record = await resolveLiveIndex(control, auth, index);
    const overrides = await control.rateLimits.forIndex(record.projectId, record.id);
    return { record, handle: handleOf(record), scope: { indexId: record.id, indexName: record.name, namespace, overrides } };
  }

  function meter(record: IndexRecord, units: { readUnits?: number; writeUnits?: number }): void {
    control.usage.record({ projectId: record.projectId, indexId: record.id, indexName: record.name, ...units });
  }

  async function countMatches(handle: IndexHandle, namespace: string, input: UpdateRequest): Promise<number> {
    if (input.id !== undefined) return Object.keys((await data.fetch(handle, namespace, [input.id])).records).length;
    let count = 0;
    let after: string | undefined;
    do {
      const page = await data.fetchByMetadata(handle, namespace, { filter: input.filter!, limit: LIMITS.maxFetchByMetadataLimit, after });
      count += page.records.length;
      after = page.next;
    } while (after !== undefined);
    return count;
  }

  /**
   * Refuses a filter naming a metadata field the namespace's schema does not index (a namespace
   * without a schema indexes every field). The schema is read through the control plane's cache.
   */
  async function assertIndexed(record: IndexRecord, namespace: string, filter: Filter | undefined): Promise<void> {
    if (filter === undefined) return;
    const schema = await control.namespaceSchemas.cached(record.id, namespace);
    if (schema === undefined) return;
    const found = unindexedFilterField(filter, (field) => Object.hasOwn(schema.fields, field) && schema.fields[field]!.filterable);
    if (found === undefined) return;
    const indexed = indexedFieldsOf(schema);
    throw InvalidArgumentError.at(
      ['filter', ...found.path],
      `metadata field "${found.field}" is not in the indexed fields of namespace "${namespace}" (${indexed.length === 0 ? 'none' : indexed.join(', ')}): ` +
        'only the fields its schema marks "filterable": true can be filtered on',
    );
  }

  const forwarding = data.upsertBody?.bind(data);
  async function upsertBody(auth: AuthContext, { index, namespace, body }: UpsertBodyRequest): Promise<UpsertResult> {
    assertCanWrite(auth, 'upsert');
    // A body whose namespace the gateway misread is routed again, once, by the writer's reading.
    for (let routed = namespace, rerouted = false; ; rerouted = true) {
      const { record, handle, scope } = await target(auth, index, routed);
      limiter.take('upsertPerNamespace', scope);
      limiter.check('upsertBytesPerNamespace', scope);
      const result = await forwarding!(handle, record.name, routed, body);
      if ('misroutedTo' in result) {
        if (rerouted) throw new InternalError(`an upsert routed by namespace "${routed}" was refused as misrouted twice`);
        routed = result.misroutedTo;
        continue;
      }
      limiter.charge('upsertBytesPerNamespace', scope, result.recordBytes);
      meter(record, { writeUnits: writeUnits(result.recordBytes) });
      return { upsertedCount: result.upsertedCount, lsn: result.lsn };
    }
  }

  return {
    ...(forwarding ? { upsertBody } : {}),
    async upsert(auth, { index, namespace, records }) {
      assertCanWrite(auth, 'upsert');
      const { record, handle, scope } = await target(auth, index, namespace);
      const bytes = recordsBytes(records);
      limiter.take('upsertPerNamespace', scope);
      limiter.take('upsertBytesPerNamespace', scope, bytes);
      const result = await data.upsert(handle, namespace, records);
      meter(record, { writeUnits: writeUnits(bytes) });
      return result;
    },

    async query(auth, { index, namespace, ...query }, read) {
      const { record, handle, scope } = await target(auth, index, namespace);
      await assertIndexed(record, namespace, query.filter);
      limiter.take('queryPerNamespace', scope);
      limiter.check('queryReadUnitsPerIndex', scope);
      const { matches, namespaceBytes: bytes, indexedLsn } = await data.query(handle, namespace, query, read);
      const units = queryReadUnits(bytes);
      limiter.charge('queryReadUnitsPerIndex', scope, units);
      meter(record, { readUnits: units });
      return { matches, namespace, usage: { readUnits: reportedUnits(units) }, indexedLsn };
    },

    async fetch(auth, { index, namespace, ids }, read) {
      const { record, handle, scope } = await target(auth, index, namespace);
      limiter.take('fetchPerIndex', scope);
      const { records, indexedLsn } = await data.fetch(handle, namespace, ids, read);
      const units = fetchReadUnits(Object.keys(records).length);
      meter(record, { readUnits: units });
      return { records, namespace, usage: { readUnits: reportedUnits(units) }, indexedLsn };
    },

    async fetchByMetadata(auth, { index, namespace, filter, limit, paginationToken }, read) {
      const { record, handle, scope } = await target(auth, index, namespace);
      await assertIndexed(record, namespace, filter);
      limiter.take('fetchPerIndex', scope);
      const after = afterOf(paginationToken, 'fetch by metadata');
      const { records, next, indexedLsn } = await data.fetchByMetadata(handle, namespace, { filter, limit, after }, read);
      const units = fetchReadUnits(records.length);
      meter(record, { readUnits: units });
      return { records, namespace, ...paginationOf(next), usage: { readUnits: reportedUnits(units) }, indexedLsn };
    },

    async update(auth, { index, namespace, dryRun, ...update }) {
      assertCanWrite(auth, 'update');
      const { record, handle, scope } = await target(auth, index, namespace);
      await assertIndexed(record, namespace, update.filter);
      limiter.take('updatePerNamespace', scope);
      if (update.filter !== undefined) {
        limiter.take('updateByFilterPerNamespace', scope);
        limiter.take('updateByFilterPerIndex', scope);
      }
      if (dryRun === true) {
        const matchedRecords = await countMatches(handle, namespace, { ...update, index, namespace });
        meter(record, { readUnits: fetchReadUnits(matchedRecords) });
        return { matchedRecords };
      }
      const result = await data.update(handle, namespace, update);
      if (result.matchedRecords > 0) {
        // New fields once per matched record, plus the (estimated) existing record.
        const changed = recordBytes({ values: update.values, sparseValues: update.sparseValues, metadata: update.setMetadata });
        const existing = estimatedRecordBytes(update.id, record.dimension);
        meter(record, { writeUnits: writeUnits(result.matchedRecords * (changed + existing)) });
      }
      return { matchedRecords: result.matchedRecords, lsn: result.lsn };
    },

    async delete(auth, { index, namespace, ...del }) {
      assertCanWrite(auth, 'delete');
      const { record, handle, scope } = await target(auth, index, namespace);
      await assertIndexed(record, namespace, del.filter);
      limiter.take('deletePerNamespace', scope);
      if (del.filter !== undefined) {
        limiter.take('deleteByFilterPerNamespace', scope);
        limiter.take('deleteByFilterPerIndex', scope);
      }
      if (del.ids !== undefined) {
        limiter.take('deleteRecordsPerNamespace', scope, del.ids.length);
        limiter.take('deleteRecordsPerIndex', scope, del.ids.length);
      }
      const result = await data.delete(handle, namespace, del);
      let units: number = UNIT_RULES.deleteAllWriteUnits;
      if (del.ids !== undefined) units = writeUnits(del.ids.reduce((sum, id) => sum + estimatedRecordBytes(id, record.dimension), 0));
      else if (del.filter !== undefined) units = writeUnits((result.deletedCount ?? 0) * estimatedRecordBytes(undefined, record.dimension));
      meter(record, { writeUnits: units });
      return result;
    },

    async list(auth, { index, namespace, prefix, limit, paginationToken }, read) {
      const { record, handle, scope } = await target(auth, index, namespace);
      limiter.take('listPerIndex', scope);
      const after = afterOf(paginationToken, 'list');
      const { ids, next, indexedLsn } = await data.list(handle, namespace, { prefix, limit, after }, read);
      meter(record, { readUnits: LIST_READ_UNITS });
      return { ids, namespace, ...paginationOf(next), usage: { readUnits: LIST_READ_UNITS }, indexedLsn };
    },

    async describeIndexStats(auth, { index }) {
      const { handle, scope } = await target(auth, index);
      limiter.take('describeIndexStatsPerIndex', scope);
      const summaries = (await data.listNamespaces(handle)).filter((ns) => ns.recordCount > 0).sort(byName);
      // fromEntries defines own properties, so a namespace named "__proto__" stays a plain key.
      const namespaces: IndexStats['namespaces'] = Object.fromEntries(summaries.map((ns) => [ns.name, { recordCount: ns.recordCount }]));
      const totalRecordCount = summaries.reduce((sum, ns) => sum + ns.recordCount, 0);
      const internals = await Promise.all(summaries.map((ns) => data.describeNamespace(handle, ns.name)));
      const storageBytes = internals.reduce((sum, i) => sum + describedBytes(i), 0);
      return { dimension: handle.dimension, metric: handle.metric, vectorType: handle.vectorType ?? 'dense', totalRecordCount, storageBytes, namespaces };
    },

    async listNamespaces(auth, { index, prefix, limit, paginationToken }) {
      const { record, handle } = await target(auth, index);
      const all = (await data.listNamespaces(handle)).filter((ns) => prefix === undefined || ns.name.startsWith(prefix)).sort(byName);
      const after = afterOf(paginationToken, 'list namespaces');
      const rest = after === undefined ? all : all.filter((ns) => ns.name > after);
      const page = rest.slice(0, limit);
      const schemas = await control.namespaceSchemas.getMany(
        record.id,
        page.map((ns) => ns.name),
      );
      return {
        namespaces: page.map((ns) => describedNamespace(ns, schemas.get(ns.name))),
        totalCount: all.length,
        ...paginationOf(rest.length > limit ? page[page.length - 1]!.name : undefined),
      };
    },

    async createNamespace(auth, { index, namespace, schema }) {
      assertCanWrite(auth, 'creating a namespace');
      if (namespace === '') throw InvalidArgumentError.at(['name'], 'the default namespace always exists; give another name');
      const { record, handle } = await target(auth, index, namespace);
      // The schema's row commits only if the namespace is created (and replaces any a deleted namesake left).
      await control.namespaceSchemas.create(record.id, namespace, schema, () => data.createNamespace(handle, namespace));
      await control.audit(auth.projectId, auth.keyId, 'namespace.create', `index:${index}/ns:${namespace}`);
      return describedNamespace({ name: namespace, recordCount: 0 }, schema);
    },

    async describeNamespace(auth, { index, namespace }) {
      const { record, handle } = await target(auth, index, namespace);
      const summary = await data.namespaceStats(handle, namespace);
      return describedNamespace(summary, await control.namespaceSchemas.get(record.id, namespace));
    },

    async deleteNamespace(auth, { index, namespace }) {
      assertCanWrite(auth, 'deleting a namespace');
      const { record, handle } = await target(auth, index, namespace);
      try {
        await data.deleteNamespace(handle, namespace);
      } catch (error) {
        // A schema whose namespace is gone (a deletion that failed part-way) goes on the retry.
        if (error instanceof NotFoundError) await control.namespaceSchemas.remove(record.id, namespace);
        throw error;
      }
      await control.namespaceSchemas.remove(record.id, namespace);
      meter(record, { writeUnits: UNIT_RULES.deleteAllWriteUnits });
      await control.audit(auth.projectId, auth.keyId, 'namespace.delete', `index:${index}/ns:${namespace}`);
    },

    async describeNamespaceInternals(auth, { index, namespace }) {
      const { handle } = await target(auth, index, namespace);
      return data.describeNamespace(handle, namespace);
    },
  };
}
