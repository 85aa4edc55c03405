import { FencedError, InternalError, InvalidArgumentError, NotFoundError } from '@conifer/core';
import { describe, expect, it } from 'vitest';
import { decodeError, encodeError, parseDataCall, serveDataCall, toJson, type LocalDataPlane } from './internal-protocol.ts';

const roundTrip = (err: unknown) => {
  const { status, body } = encodeError(err);
  return decodeError(status, JSON.parse(JSON.stringify(body)));
};

describe('node-internal protocol', () => {
  it('carries an error across as the class it was, with its status, field issues and whether a fenced write was logged', () => {
    const fenced = roundTrip(new FencedError('taken over', { written: false }));
    expect(fenced).toBeInstanceOf(FencedError);
    expect(fenced).toMatchObject({ httpStatus: 503, written: false, message: 'taken over' });
    expect(roundTrip(new FencedError('logged', { written: true }))).toMatchObject({ written: true });
    const invalid = roundTrip(InvalidArgumentError.at(['records', 1, 'values'], 'Vector dimension 2 does not match'));
    expect(invalid).toBeInstanceOf(InvalidArgumentError);
    expect((invalid as InvalidArgumentError).issues).toEqual([{ path: ['records', 1, 'values'], message: 'Vector dimension 2 does not match' }]);
    expect(roundTrip(new NotFoundError('Namespace n not found.'))).toBeInstanceOf(NotFoundError);
  });

  it('never sends an unexpected error’s message, and reads a body without an error as an internal error', () => {
    const { status, body } = encodeError(new Error('connection string postgres://secret@db'));
    expect(status).toBe(500);
    expect(JSON.stringify(body)).not.toContain('secret');
    expect(decodeError(502, '<html>bad gateway</html>')).toBeInstanceOf(InternalError);
  });

  it('refuses a call that is not one, naming the field', () => {
    expect(() => parseDataCall({ op: 'drop', index: { id: 'i', dimension: 2, metric: 'cosine' }, namespace: '' })).toThrow(/op/);
    expect(() => parseDataCall({ op: 'fetch', index: { id: 'i', dimension: 0, metric: 'cosine' }, namespace: '' })).toThrow(/index\.dimension/);
    expect(parseDataCall({ op: 'fetch', index: { id: 'i', dimension: 2, metric: 'cosine' }, namespace: 'n', input: ['a'] }).op).toBe('fetch');
    // A sparse index has dimension 0, and says it is sparse (a node that lost that would treat it as dense).
    const sparse = { id: 'i', dimension: 0, metric: 'dotproduct', vectorType: 'sparse' };
    expect(parseDataCall({ op: 'fetch', index: sparse, namespace: 'n', input: ['a'] }).index).toEqual(sparse);
    expect(() => parseDataCall({ op: 'fetch', index: { ...sparse, dimension: 3 }, namespace: '' })).toThrow(/index\.dimension/);
  });

  it('sends vectors as arrays', () => {
    expect(JSON.parse(toJson({ values: new Float32Array([0.5, 2]) }))).toEqual({ values: [0.5, 2] });
  });

  it('still serves the JSON upsert call of gateways older than the record frame (writers are upgraded first)', async () => {
    const applied: unknown[] = [];
    const writer = { upsert: async (...args: unknown[]) => (applied.push(args), { upsertedCount: 1, lsn: 9 }) } as unknown as LocalDataPlane;
    const index = { id: 'i', dimension: 2, metric: 'cosine' };
    // As an older gateway sent it: the JSON of the call, vectors as arrays.
    const call = parseDataCall(JSON.parse(JSON.stringify({ op: 'upsert', index, namespace: 'n', input: [{ id: 'a', values: [0.5, 2] }] })));
    expect(await serveDataCall(writer, call)).toEqual({ upsertedCount: 1, lsn: 9 });
    expect(applied).toEqual([[index, 'n', [{ id: 'a', values: [0.5, 2] }]]]);
  });
});
