import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { InvalidArgumentError } from '@conifer/core';
import { upsertRequestOf } from '../pinecone/upsert-body.ts';
import { toStruct } from './struct.ts';
import { fastRecordsOf, grpcUpsertInputOf, type UpsertMessage } from './upsert.ts';

/** What the general path makes of a request: the REST body it mirrors, through the shared schema. */
function general(request: UpsertMessage) {
  return upsertRequestOf('idx', {
    namespace: request.namespace,
    vectors: (request.vectors ?? []).map((v) => ({
      id: v.id ?? '',
      values: v.values ?? [],
      ...(v.metadata !== undefined
        ? { metadata: Object.fromEntries(Object.entries(v.metadata.fields ?? {}).map(([k, x]) => [k, x.numberValue ?? x.stringValue ?? x.boolValue ?? null])) }
        : {}),
    })),
  });
}

const float = fc.oneof(fc.float({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, 0));
const id = fc.oneof(fc.string({ minLength: 0, maxLength: 12 }), fc.constantFrom('a\\b', 'é', 'x'.repeat(600), 'ok-1'));
const metadata = fc.option(
  fc.dictionary(fc.string({ minLength: 1, maxLength: 5 }), fc.oneof(fc.string({ maxLength: 5 }), fc.integer(), fc.boolean()), { maxKeys: 3 }).map(toStruct),
  { nil: undefined },
);
const request: fc.Arbitrary<UpsertMessage> = fc.record(
  {
    namespace: fc.option(fc.oneof(fc.string({ maxLength: 6 }), fc.constant('__default__'), fc.constant(' ')), { nil: undefined }),
    vectors: fc.array(fc.record({ id, values: fc.array(float, { minLength: 0, maxLength: 5 }), metadata }, { requiredKeys: ['id', 'values'] }), {
      maxLength: 4,
    }),
  },
  { requiredKeys: ['vectors'] },
);

describe('gRPC upsert fast path', () => {
  it('accepts only what the general path accepts, and builds the same request (values as float32)', () => {
    fc.assert(
      fc.property(request, (message) => {
        const fast = fastRecordsOf(message);
        // The wire reader's form (values as float32) is taken and read exactly as numbers are.
        const asRead = fastRecordsOf({ ...message, vectors: message.vectors?.map((v) => ({ ...v, values: Float32Array.from(v.values ?? []) })) });
        expect(asRead === undefined).toBe(fast === undefined);
        if (asRead !== undefined) expect(asRead).toStrictEqual(fast);
        let expected: ReturnType<typeof general> | InvalidArgumentError;
        try {
          expected = general(message);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidArgumentError);
          expected = error as InvalidArgumentError;
        }
        if (fast === undefined) return;
        expect(expected).not.toBeInstanceOf(InvalidArgumentError);
        const accepted = expected as ReturnType<typeof general>;
        expect(fast.namespace).toBe(accepted.namespace);
        expect(fast.records.map((r) => ({ id: r.id, values: Array.from(r.values as Float32Array), metadata: r.metadata }))).toEqual(
          accepted.records.map((r) => ({ id: r.id, values: Array.from(Float32Array.from(r.values as number[])), metadata: r.metadata })),
        );
      }),
      { numRuns: 1000 },
    );
  });

  it('takes the usual request fast, and words errors as REST does', () => {
    const usual: UpsertMessage = { namespace: 'n', vectors: [{ id: 'a', values: [1, 2], metadata: toStruct({ g: 'x' }) }] };
    expect(fastRecordsOf(usual)).toBeDefined();
    expect(() => grpcUpsertInputOf('idx', { vectors: [{ id: '', values: [1] }] })).toThrow(/vectors\[0\]\.id/);
    expect(() => grpcUpsertInputOf('idx', { vectors: [] })).toThrow(/vectors/);
  });
});
