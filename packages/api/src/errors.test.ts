import { TRPCError } from '@trpc/server';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InternalError, InvalidArgumentError, NotFoundError, ResourceExhaustedError, upsertSchema } from '@conifer/core';
import { BODY_TOO_LARGE_MESSAGE, INTERNAL_MESSAGE, formatErrorShape, toTRPCError } from './errors.ts';

const wrap = (cause: unknown, code: TRPCError['code'] = 'INTERNAL_SERVER_ERROR') => new TRPCError({ code, cause });

describe('toTRPCError', () => {
  it('gives a ConiferError the tRPC code of its Conifer code', () => {
    const mapped = toTRPCError(wrap(new NotFoundError('Index docs not found.')));
    expect(mapped.code).toBe('NOT_FOUND');
    expect(mapped.message).toBe('Index docs not found.');
    expect(toTRPCError(wrap(new ResourceExhaustedError('slow down'))).code).toBe('TOO_MANY_REQUESTS');
  });

  it('renders input-validation failures with field and limit', () => {
    const result = upsertSchema.safeParse({ index: 'docs', records: [{ id: '', values: [1] }] });
    expect(result.success).toBe(false);
    const mapped = toTRPCError(wrap(result.error, 'BAD_REQUEST'));
    expect(mapped.code).toBe('BAD_REQUEST');
    expect(mapped.message).toBe('records[0].id: must be 1–512 characters');
  });

  it('explains malformed JSON', () => {
    let syntax: unknown;
    try {
      JSON.parse('{oops');
    } catch (e) {
      syntax = e;
    }
    expect(toTRPCError(wrap(syntax, 'BAD_REQUEST')).message).toMatch(/^malformed JSON in request body/);
  });

  it('reports tRPC’s body limit as a 400 naming the limit', () => {
    const mapped = toTRPCError(new TRPCError({ code: 'PAYLOAD_TOO_LARGE' }));
    expect(mapped.code).toBe('BAD_REQUEST');
    expect(mapped.message).toBe(BODY_TOO_LARGE_MESSAGE);
    expect(BODY_TOO_LARGE_MESSAGE).toBe('request body is larger than the 2 MB limit (2097152 bytes)');
  });
});

describe('formatErrorShape', () => {
  it('puts the Conifer code and HTTP status in data', () => {
    const shape = formatErrorShape({ error: wrap(new NotFoundError('Index docs not found.')), path: 'data.query' });
    expect(shape).toEqual({ message: 'Index docs not found.', code: -32004, data: { code: 'NOT_FOUND', httpStatus: 404, path: 'data.query' } });
  });

  it('never leaks the message or stack of an unexpected error', () => {
    const shape = formatErrorShape({ error: wrap(new Error('connect ECONNREFUSED 10.0.0.7:5432')), path: undefined });
    expect(shape.message).toBe(INTERNAL_MESSAGE);
    expect(shape.data).toEqual({ code: 'INTERNAL', httpStatus: 500 });
    expect(JSON.stringify(shape)).not.toContain('ECONNREFUSED');
    expect(formatErrorShape({ error: wrap(new InternalError('slab 17 corrupt')), path: 'x' }).message).toBe(INTERNAL_MESSAGE);
  });

  it('maps zod issues to INVALID_ARGUMENT', () => {
    const error = z.object({ topK: z.number().max(10) }).safeParse({ topK: 11 }).error;
    const shape = formatErrorShape({ error: wrap(error, 'BAD_REQUEST'), path: 'data.query' });
    expect(shape.data.code).toBe('INVALID_ARGUMENT');
    expect(shape.data.httpStatus).toBe(400);
    expect(shape.message).toMatch(/^topK: /);
    expect(shape.data.issues).toEqual([{ path: ['topK'], message: expect.any(String) as string }]);
  });

  it('puts the field issues of bad input in data, from schemas and from services alike', () => {
    const result = upsertSchema.safeParse({
      index: 'docs',
      records: [
        { id: 'a', values: [1] },
        { id: '', values: [1] },
      ],
    });
    const fromSchema = formatErrorShape({ error: wrap(result.error, 'BAD_REQUEST'), path: 'data.upsert' });
    expect(fromSchema.data.issues).toEqual([{ path: ['records', 1, 'id'], message: 'must be 1–512 characters' }]);
    const fromService = formatErrorShape({ error: wrap(InvalidArgumentError.at(['from'], 'must be a date YYYY-MM-DD')), path: 'usage.get' });
    expect(fromService).toMatchObject({ message: 'from: must be a date YYYY-MM-DD', data: { code: 'INVALID_ARGUMENT', httpStatus: 400 } });
    expect(fromService.data.issues).toEqual([{ path: ['from'], message: 'must be a date YYYY-MM-DD' }]);
    // An error about the request as a whole names no field: no issues on the wire.
    expect(formatErrorShape({ error: wrap(new InvalidArgumentError('request body must be a JSON object')), path: 'x' }).data.issues).toBeUndefined();
  });

  it('maps tRPC’s own errors', () => {
    expect(formatErrorShape({ error: new TRPCError({ code: 'UNAUTHORIZED', message: 'no' }), path: 'x' }).data.code).toBe('UNAUTHENTICATED');
    expect(formatErrorShape({ error: new TRPCError({ code: 'NOT_FOUND', message: 'No procedure' }), path: 'x' }).data).toMatchObject({
      code: 'NOT_FOUND',
      httpStatus: 404,
    });
  });
});
