import { InternalError, UnavailableError } from '@conifer/core';
import { ObjectStoreError } from '@conifer/storage';

/**
 * What a client sees of a storage failure: a retryable one (throttled, transient, timeout) is a
 * 503 UNAVAILABLE it may retry; a broken store (permissions, missing bucket) is a 500.
 */
export function toClientError(err: unknown): unknown {
  if (!(err instanceof ObjectStoreError)) return err;
  if (err.retryable) return new UnavailableError('object store unavailable; retry the request', { cause: err });
  return new InternalError(`object store error (${err.kind})`, { cause: err });
}

/** Runs a store call, turning its failure into what a client should see. */
export async function storeCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toClientError(err);
  }
}
