import { ObjectStoreError, type ObjectStoreErrorKind } from './object-store.ts';

/** The `code` of a Node.js system error (`ENOENT`, `EEXIST`, ...), if `err` is one. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  return typeof err.code === 'string' ? err.code : undefined;
}

/** An error's message, or what a thrown non-error says. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Whether a write failed because a key would be both an object and a directory of other keys
 * ("a" and "a/b"): a segment of its path is a file, or its name is a directory.
 */
export function isKeyShapeClash(code: string | undefined): boolean {
  return code === 'ENOTDIR' || code === 'EISDIR' || code === 'EEXIST' || code === 'ENOTEMPTY';
}

/**
 * How each file-system error reads through the object-store contract. Retrying helps only with
 * resource exhaustion that passes by itself; a full disk, a read-only mount or missing permissions
 * need an operator.
 */
const KIND_BY_CODE: Record<string, ObjectStoreErrorKind> = {
  ENOENT: 'not_found',
  EACCES: 'permanent',
  EPERM: 'permanent',
  EROFS: 'permanent',
  ENOSPC: 'permanent',
  EDQUOT: 'permanent',
  ENAMETOOLONG: 'invalid_key',
  EMFILE: 'transient',
  ENFILE: 'transient',
  EAGAIN: 'transient',
  EBUSY: 'transient',
  EINTR: 'transient',
  ENOMEM: 'transient',
  ETIMEDOUT: 'transient',
};

/** Wraps a file-system error as an `ObjectStoreError`; one already wrapped passes through. */
export function toObjectStoreError(err: unknown, action: string, key?: string): ObjectStoreError {
  if (err instanceof ObjectStoreError) return err;
  const code = errnoCode(err);
  const kind = (code && KIND_BY_CODE[code]) || 'permanent';
  return new ObjectStoreError(kind, `${action}${key === undefined ? '' : ` ${key}`} failed: ${messageOf(err)}`, { key, cause: err });
}
