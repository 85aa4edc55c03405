import type { FastifyRequest } from 'fastify';
import { DEFAULT_NAMESPACE_ALIAS, type FetchedRecord, type IndexStats, type ScoredRecord, type VectorType } from '@conifer/core';
import type { IndexInfo } from '@conifer/api';

/**
 * Pinecone wire shapes and the small conversions between them and the service layer's types.
 * Control-plane JSON is snake_case, data-plane JSON camelCase (protobuf JSON), namespace
 * descriptions snake_case again — exactly as the official clients read them.
 */

/** Where each index's data plane lives, relative to the server's public URL. */
export function indexHostPath(projectId: string, indexName: string): string {
  return `/projects/${encodeURIComponent(projectId)}/indexes/${encodeURIComponent(indexName)}`;
}

/**
 * The server's base URL as the client should see it: `CONIFER_PUBLIC_URL` when set, otherwise the
 * scheme and `Host` the request came in with (so a client that reached us as
 * `http://127.0.0.1:5080` gets hosts on that same address). Always with a scheme: the Pinecone
 * client would prepend `https://` to a host without one.
 */
export function publicBaseUrl(request: FastifyRequest, configured: string | undefined): string {
  if (configured !== undefined) return configured.replace(/\/+$/, '');
  return `${request.protocol}://${request.host}`;
}

/** API version the client declared (`X-Pinecone-Api-Version`), e.g. "2026-04"; undefined when absent. */
export function apiVersion(request: FastifyRequest): string | undefined {
  const value = request.headers['x-pinecone-api-version'];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * How responses name the default namespace: `"__default__"` from API 2025-04 on (and when no
 * version is declared), `""` for older clients (5.x sends 2025-01 and `""`).
 */
export function defaultNamespaceName(request: FastifyRequest): string {
  return defaultNamespaceNameFor(apiVersion(request));
}

/** The default namespace's name for a client of API `version` (REST header or gRPC metadata). */
export function defaultNamespaceNameFor(version: string | undefined): string {
  return version !== undefined && version < '2025-04' ? '' : DEFAULT_NAMESPACE_ALIAS;
}

/** A namespace name for a response: the default namespace as the client's API version names it. */
export function wireNamespaceName(request: FastifyRequest, name: string): string {
  return name === '' ? defaultNamespaceName(request) : name;
}

/** The namespace a response echoes: what the request said, or the default's wire name. */
export function echoNamespace(request: FastifyRequest, requested: unknown): string {
  return typeof requested === 'string' ? requested : defaultNamespaceName(request);
}

/** `dimension` as the wire carries it: a sparse index has none, and Pinecone leaves the field out. */
export function dimensionField(shape: { vectorType: VectorType; dimension: number }): { dimension?: number } {
  return shape.vectorType === 'dense' ? { dimension: shape.dimension } : {};
}

/**
 * describe_index_stats as REST and gRPC answer it (camelCase in both); `wireName` names a
 * namespace as the client expects the default one.
 */
export function toWireStats(stats: IndexStats, wireName: (name: string) => string) {
  return {
    namespaces: Object.fromEntries(Object.entries(stats.namespaces).map(([name, ns]) => [wireName(name), { vectorCount: ns.recordCount }])),
    ...dimensionField(stats),
    indexFullness: 0,
    totalVectorCount: stats.totalRecordCount,
    metric: stats.metric,
    vectorType: stats.vectorType,
  };
}

/** IndexModel of API 2025-04 … 2026-04 (clients 6.x–8.x). */
export interface IndexModel {
  name: string;
  /** Absent for a sparse index. */
  dimension?: number;
  metric: string;
  host: string;
  deletion_protection: string;
  tags: Record<string, string>;
  spec: { serverless: { cloud: string; region: string; read_capacity: { mode: 'OnDemand'; status: { state: 'Ready' } } } };
  status: { ready: boolean; state: 'Ready' | 'Terminating' };
  vector_type: VectorType;
}

export function toIndexModel(index: IndexInfo, host: string): IndexModel {
  const ready = index.status === 'ready';
  return {
    name: index.name,
    ...dimensionField(index),
    metric: index.metric,
    host,
    deletion_protection: index.deletionProtection,
    tags: index.tags,
    spec: { serverless: { cloud: index.cloud, region: index.region, read_capacity: { mode: 'OnDemand', status: { state: 'Ready' } } } },
    status: { ready, state: ready ? 'Ready' : 'Terminating' },
    vector_type: index.vectorType,
  };
}

/**
 * IndexModel of API 2026-07 (client 9.x): no dimension/metric/spec/vector_type; a `deployment`
 * and a `schema` whose reserved `_values` field describes the dense vectors (`_sparse_values` the
 * sparse ones of a sparse index).
 */
export interface IndexModel202607 {
  name: string;
  host: string;
  status: { ready: boolean; state: 'Ready' | 'Terminating' };
  deployment: { deployment_type: 'managed'; cloud: string; region: string };
  schema: {
    fields: { _values: { type: 'dense_vector'; dimension: number; metric: string } } | { _sparse_values: { type: 'sparse_vector'; metric: string } };
  };
  read_capacity: { mode: 'OnDemand'; status: { state: 'Ready' } };
  tags: Record<string, string>;
  deletion_protection: string;
}

export function toIndexModel202607(index: IndexInfo, host: string): IndexModel202607 {
  const ready = index.status === 'ready';
  return {
    name: index.name,
    host,
    status: { ready, state: ready ? 'Ready' : 'Terminating' },
    deployment: { deployment_type: 'managed', cloud: index.cloud, region: index.region },
    schema: {
      fields:
        index.vectorType === 'sparse'
          ? { _sparse_values: { type: 'sparse_vector', metric: index.metric } }
          : { _values: { type: 'dense_vector', dimension: index.dimension, metric: index.metric } },
    },
    read_capacity: { mode: 'OnDemand', status: { state: 'Ready' } },
    tags: index.tags,
    deletion_protection: index.deletionProtection,
  };
}

/** True when the client speaks the 2026-07 control-plane shapes (client 9.x). */
export function speaks202607(request: FastifyRequest): boolean {
  const version = apiVersion(request);
  return version !== undefined && version >= '2026-07';
}

/** A record as the data plane returns it (`Vector`): id, values, optional sparseValues and metadata. */
export function toWireVector(record: FetchedRecord): Record<string, unknown> {
  return {
    id: record.id,
    values: record.values,
    ...(record.sparseValues !== undefined ? { sparseValues: record.sparseValues } : {}),
    ...(record.metadata !== undefined ? { metadata: record.metadata } : {}),
  };
}

/**
 * A query match (`ScoredVector`), its fields in this order. Set one by one rather than spread
 * from conditional literals: each match of each answer would make up to three objects to discard.
 */
export function toWireMatch(match: ScoredRecord): Record<string, unknown> {
  const wire: Record<string, unknown> = { id: match.id, score: match.score };
  if (match.values !== undefined) wire['values'] = match.values;
  if (match.sparseValues !== undefined) wire['sparseValues'] = match.sparseValues;
  if (match.metadata !== undefined) wire['metadata'] = match.metadata;
  return wire;
}

/** Records keyed by id, as own properties (an id such as "__proto__" stays an ordinary key). */
export function vectorsById(records: Iterable<FetchedRecord>): Record<string, Record<string, unknown>> {
  return Object.fromEntries([...records].map((r) => [r.id, toWireVector(r)]));
}
