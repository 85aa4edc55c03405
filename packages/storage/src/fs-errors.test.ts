import { describe, expect, it } from 'vitest';
import { toObjectStoreError } from './fs-errors.ts';
import { ObjectStoreError } from './object-store.ts';

const sysError = (code: string) => Object.assign(new Error(`${code}: simulated`), { code });

describe('toObjectStoreError', () => {
  it.each([
    ['ENOENT', 'not_found'],
    ['EACCES', 'permanent'],
    ['EPERM', 'permanent'],
    ['EROFS', 'permanent'],
    ['ENOSPC', 'permanent'],
    ['EMFILE', 'transient'],
    ['ENFILE', 'transient'],
    ['EAGAIN', 'transient'],
    ['EIO', 'permanent'],
  ])('maps %s to %s, keeping the cause', (code, kind) => {
    const cause = sysError(code);
    const err = toObjectStoreError(cause, 'put', 'a/b');
    expect(err).toBeInstanceOf(ObjectStoreError);
    expect(err.kind).toBe(kind);
    expect(err.key).toBe('a/b');
    expect(err.cause).toBe(cause);
    expect(err.message).toContain('a/b');
    expect(err.retryable).toBe(kind === 'transient');
  });

  it('passes an ObjectStoreError through unchanged', () => {
    const original = new ObjectStoreError('precondition_failed', 'exists');
    expect(toObjectStoreError(original, 'put')).toBe(original);
  });
});
