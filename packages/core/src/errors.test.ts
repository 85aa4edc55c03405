import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from './errors.ts';

describe('InvalidArgumentError', () => {
  it('names the field from its path and keeps the path beside the message', () => {
    const error = InvalidArgumentError.at(['records', 3, 'values'], 'Vector dimension 3 does not match the dimension of the index 2');
    expect(error.message).toBe('records[3].values: Vector dimension 3 does not match the dimension of the index 2');
    expect(error.issues).toEqual([{ path: ['records', 3, 'values'], message: 'Vector dimension 3 does not match the dimension of the index 2' }]);
    expect(error.code).toBe('INVALID_ARGUMENT');
  });

  it('renames paths and rebuilds the message, keeping the cause', () => {
    const cause = new Error('underlying');
    const error = InvalidArgumentError.of(
      [
        { path: ['records', 0, 'id'], message: 'must not be empty' },
        { path: ['namespace'], message: 'must be at most 512 bytes' },
      ],
      { cause },
    );
    const renamed = error.withPaths(([root, ...rest]) => [root === 'records' ? 'vectors' : root!, ...rest]);
    expect(renamed.message).toBe('vectors[0].id: must not be empty; namespace: must be at most 512 bytes');
    expect(renamed.issues[0]!.path).toEqual(['vectors', 0, 'id']);
    expect(renamed.cause).toBe(cause);
    expect(error.message).toBe('records[0].id: must not be empty; namespace: must be at most 512 bytes');
  });

  it('is unchanged by a rename when it names no field', () => {
    const error = new InvalidArgumentError('queries: the deprecated multi-query form is not supported');
    expect(error.issues).toEqual([]);
    expect(error.withPaths(() => ['other'])).toBe(error);
  });
});
