import { float32ArrayToNumbers, InvalidArgumentError, sparseToWire, toSparseF32, type FetchedRecord, type Metadata, type SparseF32 } from '@conifer/core';
import type { LiveRecord } from '@conifer/router';
import type { IndexHandle } from './data-plane.ts';

/** A request's sparse values as stored (none when empty). */
export function toSparse(sparse: { indices: number[]; values: number[] } | undefined): SparseF32 | undefined {
  if (!sparse || sparse.indices.length === 0) return undefined;
  return toSparseF32(sparse);
}

/**
 * A request's dense values as stored, checked against the index: its dimension, and no all-zero
 * vector on a cosine index. `field` names the values in the error; `into` is a view of a batch's
 * buffer to fill.
 */
export function toVector(index: IndexHandle, values: number[] | Float32Array, field: string, into?: Float32Array): Float32Array {
  if (values.length !== index.dimension) {
    throw new InvalidArgumentError(`${field}: Vector dimension ${values.length} does not match the dimension of the index ${index.dimension}`);
  }
  // A plain loop rather than `new Float32Array(values)` or `Float32Array.from`: in the server
  // those took the generic iterator path, a tenth of the ingest path.
  const vector = into ?? new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) vector[i] = values[i]!;
  if (index.metric === 'cosine' && vector.every((v) => v === 0)) {
    throw new InvalidArgumentError(`${field}: a cosine index cannot take an all-zero vector`);
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

/** A page token of list and fetch by metadata: the last id of the page. */
export function encodePaginationToken(lastId: string): string {
  return Buffer.from(JSON.stringify({ after: lastId })).toString('base64url');
}

export function decodePaginationToken(token: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof parsed.after === 'string') return parsed.after;
  } catch {
    // fall through
  }
  throw new InvalidArgumentError('paginationToken: not a token returned by list');
}
