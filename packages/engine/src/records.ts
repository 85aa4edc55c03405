import {
  float32ArrayToNumbers,
  InvalidArgumentError,
  sparseToWire,
  toSparseF32,
  type FetchedRecord,
  type Metadata,
  type ScoredRecord,
  type SparseF32,
} from '@conifer/core';
import type { Hit, LiveRecord } from '@conifer/router';
import type { IndexHandle } from './data-plane.ts';

/** Where a field sits in a request, as `InvalidArgumentError` paths name it: `['records', 3, 'values']`. */
export type FieldPath = readonly (string | number)[];

export function isSparseIndex(index: IndexHandle): boolean {
  return index.vectorType === 'sparse';
}

/** The dense part of every record of a sparse-only index. */
const NO_VALUES = new Float32Array(0);

/**
 * A record's sparse values on a sparse-only index, where they are the record: required and not
 * empty. `field` names them as the request does.
 */
export function requiredSparse(sparse: { indices: number[]; values: number[] } | undefined, field: FieldPath): SparseF32 {
  const stored = toSparse(sparse);
  if (!stored) throw InvalidArgumentError.at(field, 'required on a sparse index, with at least one index and value');
  return stored;
}

/** A request's sparse values as stored (none when empty). */
export function toSparse(sparse: { indices: number[]; values: number[] } | undefined): SparseF32 | undefined {
  if (!sparse || sparse.indices.length === 0) return undefined;
  return toSparseF32(sparse);
}

/**
 * A request's dense values as stored, checked against the index: its dimension, and no all-zero
 * vector on a cosine index. `field` is where the values sit in the request (errors carry it, so a
 * face that names the field differently can rename it); `into` is a view of a batch's buffer to fill.
 */
export function toVector(index: IndexHandle, values: number[] | Float32Array, field: FieldPath, into?: Float32Array): Float32Array {
  if (isSparseIndex(index)) {
    if (values.length > 0) throw InvalidArgumentError.at(field, `a sparse index stores no dense values; got ${values.length}`);
    return NO_VALUES;
  }
  if (values.length === 0) throw InvalidArgumentError.at(field, `required: this index stores dense vectors of dimension ${index.dimension}`);
  if (values.length !== index.dimension) {
    throw InvalidArgumentError.at(field, `Vector dimension ${values.length} does not match the dimension of the index ${index.dimension}`);
  }
  const vector = into ?? new Float32Array(values.length);
  // Values read straight into float32 (the REST fast path) are copied in one memcpy; numbers with a
  // plain loop rather than `new Float32Array(values)` or `Float32Array.from`: in the server those
  // took the generic iterator path, a tenth of the ingest path.
  if (values instanceof Float32Array) vector.set(values);
  else for (let i = 0; i < values.length; i++) vector[i] = values[i]!;
  if (index.metric === 'cosine' && vector.every((v) => v === 0)) {
    throw InvalidArgumentError.at(field, 'a cosine index cannot take an all-zero vector');
  }
  return vector;
}

/** A stored record as a fetch returns it. */
export function toFetched(record: LiveRecord): FetchedRecord {
  const metadata: Metadata | undefined = record.metadata;
  return {
    id: record.id,
    values: float32ArrayToNumbers(record.values),
    ...(record.sparse ? { sparseValues: sparseToWire(record.sparse) } : {}),
    ...(metadata ? { metadata } : {}),
  };
}

/** A search hit as a query returns it; values and metadata are read only when asked for. */
export function toMatch(hit: Hit, include: { values?: boolean | undefined; metadata?: boolean | undefined }): ScoredRecord {
  const metadata = include.metadata ? hit.metadata() : undefined;
  const sparse = include.values ? hit.sparse() : undefined;
  // Fields set one by one, in this order: spreading conditional literals made objects to discard.
  const match: ScoredRecord = { id: hit.id, score: hit.score };
  if (include.values) match.values = float32ArrayToNumbers(hit.values());
  if (sparse) match.sparseValues = sparseToWire(sparse);
  if (metadata) match.metadata = metadata;
  return match;
}
