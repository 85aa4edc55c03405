import type { ListOptions } from './object-store.ts';

/** Page size when the caller gives none; the largest page S3 returns, so every backend agrees. */
export const DEFAULT_LIST_LIMIT = 1000;

/** The page size asked for, checked: a zero, negative or fractional limit is a caller bug. */
export function listLimit(options: ListOptions | undefined): number {
  const limit = options?.limit ?? DEFAULT_LIST_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`list limit must be a positive integer (got ${limit})`);
  return limit;
}

/** Checks the byte range of a `getRange` call; the end is clamped later, against the object's size. */
export function assertValidRange(start: number, end: number): void {
  if (!Number.isSafeInteger(start) || start < 0 || !Number.isSafeInteger(end) || end < 0) {
    throw new RangeError(`byte range must be non-negative integers (got ${start}, ${end})`);
  }
}
