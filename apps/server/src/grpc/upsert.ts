import { isPlainValidMetadata, LIMITS, metadataSchema, namespaceSchema, type Metadata } from '@conifer/core';
import type { UpsertInput } from '@conifer/api';
import type { RecordInput } from '@conifer/engine';
import { upsertRequestOf } from '../pinecone/upsert-body.ts';
import { fromStruct, type StructMessage } from './struct.ts';

/** A decoded `Vector` of an `UpsertRequest`. */
export interface VectorMessage {
  id?: string;
  /** Numbers from the generic decoder; a Float32Array from the wire reader (upsert-wire.ts). */
  values?: number[] | Float32Array;
  sparseValues?: { indices?: number[]; values?: number[] };
  metadata?: StructMessage;
}

/** A decoded `UpsertRequest`. */
export interface UpsertMessage {
  vectors?: VectorMessage[];
  namespace?: string;
}

/** Ids the fast reader takes: the REST fast path's (ASCII without control characters or backslash). */
const PLAIN_ID = /^[\x20-\x5b\x5d-\x7f]+$/;

/**
 * The service layer's upsert for a gRPC `UpsertRequest`. The usual shape (dense values, plain ids,
 * valid metadata) is copied straight into one Float32Array, as the REST fast path does; anything
 * else — and every error — goes through the REST body it mirrors and the shared schema, so a 400
 * is worded alike on both faces.
 */
export function grpcUpsertInputOf(index: string, request: UpsertMessage): UpsertInput {
  const fast = fastRecordsOf(request);
  if (fast !== undefined) return { index, namespace: fast.namespace, records: fast.records };
  const vectors = (request.vectors ?? []).map((vector) => ({
    id: vector.id ?? '',
    values: Array.from(vector.values ?? []),
    ...(vector.sparseValues !== undefined ? { sparseValues: { indices: vector.sparseValues.indices ?? [], values: vector.sparseValues.values ?? [] } } : {}),
    ...(vector.metadata !== undefined ? { metadata: fromStruct(vector.metadata) } : {}),
  }));
  return upsertRequestOf(index, { namespace: request.namespace, vectors });
}

/** The records of the usual request shape; undefined where the general path must decide. */
export function fastRecordsOf(request: UpsertMessage): { namespace: string; records: RecordInput[] } | undefined {
  const vectors = request.vectors ?? [];
  if (vectors.length === 0 || vectors.length > LIMITS.maxUpsertRecords) return undefined;
  const namespace = namespaceSchema.safeParse(request.namespace);
  if (!namespace.success) return undefined;
  // Values the wire reader already holds as float32 are used as they are; numbers are copied.
  let total = 0;
  for (const vector of vectors) {
    const length = vector.values?.length ?? 0;
    if (length < LIMITS.minDimension || length > LIMITS.maxDimension || vector.sparseValues !== undefined) return undefined;
    const id = vector.id ?? '';
    if (id.length < LIMITS.minIdLength || id.length > LIMITS.maxIdLength || !PLAIN_ID.test(id)) return undefined;
    if (!(vector.values instanceof Float32Array)) total += length;
  }
  const floats = new Float32Array(total);
  const records: RecordInput[] = new Array(vectors.length);
  let at = 0;
  for (let r = 0; r < vectors.length; r++) {
    const vector = vectors[r]!;
    const values = vector.values!;
    let view: Float32Array;
    if (values instanceof Float32Array) {
      if (!allFinite(values)) return undefined;
      view = values;
    } else {
      for (let i = 0; i < values.length; i++) {
        if (!Number.isFinite(values[i]!)) return undefined;
      }
      view = floats.subarray(at, at + values.length);
      view.set(values);
      at += values.length;
    }
    let metadata: Metadata | undefined;
    if (vector.metadata !== undefined) {
      const json = fromStruct(vector.metadata);
      if (isPlainValidMetadata(json)) {
        metadata = json;
      } else {
        const parsed = metadataSchema.safeParse(json);
        if (!parsed.success) return undefined;
        metadata = parsed.data;
      }
    }
    records[r] = metadata === undefined ? { id: vector.id!, values: view } : { id: vector.id!, values: view, metadata };
  }
  return { namespace: namespace.data, records };
}

/** No NaN or infinity among the values (a loop of its own: it sees only Float32Arrays). */
function allFinite(values: Float32Array): boolean {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) return false;
  }
  return true;
}
