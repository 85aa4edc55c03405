import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, NotFoundError, upsertSchema } from '@conifer/core';
import { parseWith, withWireFields } from './errors.ts';

describe('wire field names', () => {
  const renames = { records: 'vectors' };

  it('renames the root of a field path and rebuilds the message from path and reason', () => {
    const engineError = InvalidArgumentError.at(['records', 3, 'values'], 'Vector dimension 2 does not match the dimension of the index 3');
    const wire = withWireFields(engineError, renames) as InvalidArgumentError;
    expect(wire).toBeInstanceOf(InvalidArgumentError);
    expect(wire.message).toBe('vectors[3].values: Vector dimension 2 does not match the dimension of the index 3');
    expect(wire.issues).toEqual([{ path: ['vectors', 3, 'values'], message: 'Vector dimension 2 does not match the dimension of the index 3' }]);
  });

  it('leaves other fields, field-less errors and other errors alone', () => {
    const namespace = InvalidArgumentError.at(['namespace'], 'must be at most 512 bytes');
    expect((withWireFields(namespace, renames) as Error).message).toBe('namespace: must be at most 512 bytes');
    // Only the root is renamed: a metadata key called "records" stays what it is.
    const nested = InvalidArgumentError.at(['filter', 'records'], 'unknown operator');
    expect((withWireFields(nested, renames) as InvalidArgumentError).issues[0]!.path).toEqual(['filter', 'records']);
    const plain = new InvalidArgumentError('records[0] is mentioned only in the text');
    expect(withWireFields(plain, renames)).toBe(plain);
    const notFound = new NotFoundError('Index x not found.');
    expect(withWireFields(notFound, renames)).toBe(notFound);
  });

  it('names schema failures the way the wire does, naming the limit', () => {
    const input = { index: 'docs', namespace: '', records: [{ id: 'a', values: new Array(20_001).fill(0) }] };
    let error: unknown;
    try {
      parseWith(upsertSchema, input, renames);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidArgumentError);
    const { message, issues } = error as InvalidArgumentError;
    expect(message).toMatch(/^vectors\[0\]\.values: .*\d/);
    expect(issues[0]!.path).toEqual(['vectors', 0, 'values']);
  });
});
