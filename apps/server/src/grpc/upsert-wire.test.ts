import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { loadPackageDefinition, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { DB_DATA_PROTO, PROTO_OPTIONS, vectorServiceDefinition } from './data-plane.ts';
import { toStruct } from './struct.ts';
import type { UpsertMessage, VectorMessage } from './upsert.ts';
import { genericStructDecoder, readUpsertRequest } from './upsert-wire.ts';

/** The generic protobuf codec of `Upsert`, as proto-loader makes it (the reader's reference). */
const generic = (loadPackageDefinition(loadSync(DB_DATA_PROTO, PROTO_OPTIONS)) as unknown as { VectorService: { service: ServiceDefinition } }).VectorService
  .service['Upsert']!;
const encode = (message: UpsertMessage): Buffer => generic.requestSerialize(message);
const decodeGeneric = (bytes: Buffer): UpsertMessage => generic.requestDeserialize(bytes) as UpsertMessage;
/** The Struct decoder the server gives the reader. */
const decodeStruct = genericStructDecoder(decodeGeneric);

/** A decoded request with its values as plain numbers, for comparing the two decoders. */
const plain = (message: UpsertMessage) => ({
  ...message,
  vectors: message.vectors?.map((v: VectorMessage) => ({ ...v, ...(v.values !== undefined ? { values: Array.from(v.values) } : {}) })),
});

const float32 = fc.float({ noDefaultInfinity: false });
const text = fc.oneof(fc.string({ maxLength: 8 }), fc.string({ unit: 'grapheme', maxLength: 4 }), fc.constantFrom('', 'a\\b', '\u007f', 'é', 'ok-1'));
const vector: fc.Arbitrary<VectorMessage> = fc.record(
  {
    id: text,
    values: fc.array(float32, { maxLength: 6 }),
    metadata: fc.dictionary(fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }).map((o) => toStruct(JSON.parse(JSON.stringify(o)))),
    sparseValues: fc.record({ indices: fc.array(fc.nat(1000), { maxLength: 3 }), values: fc.array(float32, { maxLength: 3 }) }),
  },
  { requiredKeys: [] },
);
const request: fc.Arbitrary<UpsertMessage> = fc.record({ vectors: fc.array(vector, { maxLength: 4 }), namespace: text }, { requiredKeys: [] });

/** The usual request: ASCII ids, dense values, metadata or none, an ASCII namespace. */
const usual: fc.Arbitrary<UpsertMessage> = fc.record({
  namespace: fc.stringMatching(/^[a-z0-9-]{0,10}$/),
  vectors: fc.array(
    fc.record(
      {
        id: fc.stringMatching(/^[ -~]{1,12}$/),
        values: fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 8 }),
        metadata: fc
          .dictionary(
            fc.string({ maxLength: 4 }),
            fc.oneof(
              fc.string({ maxLength: 4 }),
              fc.double({ noNaN: true }),
              fc.boolean(),
              fc.constant(null),
              fc.array(fc.string({ maxLength: 3 }), { maxLength: 3 }),
            ),
          )
          .map(toStruct),
      },
      { requiredKeys: ['id', 'values'] },
    ),
    { minLength: 1, maxLength: 5 },
  ),
});

describe('the gRPC upsert wire reader', () => {
  it('reads what the generic decoder reads, or declines', () => {
    fc.assert(
      fc.property(request, (message) => {
        const bytes = encode(message);
        const read = readUpsertRequest(bytes, decodeStruct);
        if (read !== undefined) expect(plain(read)).toStrictEqual(plain(decodeGeneric(bytes)));
      }),
      { numRuns: 2000 },
    );
  });

  it('takes the usual request, values as float32 and flat metadata read from the bytes', () => {
    const unused = () => {
      throw new Error('flat metadata went to the generic decoder');
    };
    fc.assert(
      fc.property(usual, (message) => {
        const bytes = encode(message);
        const read = readUpsertRequest(bytes, unused);
        expect(read).toBeDefined();
        expect(plain(read!)).toStrictEqual(plain(decodeGeneric(bytes)));
        for (const v of read!.vectors!) expect(v.values).toBeInstanceOf(Float32Array);
      }),
      { numRuns: 1000 },
    );
  });

  it('never reads damaged bytes as something the generic decoder does not', () => {
    // A byte changed, bytes cut off or inserted: the reader declines, or agrees with the generic decoder.
    const damaged = usual.chain((message) => {
      const bytes = encode(message);
      return fc.oneof(
        fc.tuple(fc.nat(bytes.length - 1), fc.nat(255)).map(([at, byte]) => Buffer.from(bytes).fill(byte, at, at + 1)),
        fc.nat(bytes.length - 1).map((length) => bytes.subarray(0, length)),
        fc
          .tuple(fc.nat(bytes.length), fc.uint8Array({ minLength: 1, maxLength: 3 }))
          .map(([at, extra]) => Buffer.concat([bytes.subarray(0, at), extra, bytes.subarray(at)])),
      );
    });
    let agreed = 0;
    fc.assert(
      fc.property(damaged, (bytes) => {
        const read = readUpsertRequest(bytes, decodeStruct);
        if (read === undefined) return;
        expect(plain(read)).toStrictEqual(plain(decodeGeneric(bytes)));
        agreed++;
      }),
      { numRuns: 2000 },
    );
    // Some damage leaves a valid usual request (a changed value byte); those are read, not declined.
    expect(agreed).toBeGreaterThan(0);
  });

  it('is what the server decodes upserts with', () => {
    const bytes = encode({ namespace: 'n', vectors: [{ id: 'a', values: [1, 2], metadata: toStruct({ g: 'x' }) }] });
    const decoded = vectorServiceDefinition().Upsert!.requestDeserialize(bytes) as UpsertMessage;
    expect(decoded.vectors![0]!.values).toBeInstanceOf(Float32Array);
    expect(plain(decoded)).toStrictEqual(plain(decodeGeneric(bytes)));
    // A sparse vector is declined by the reader and decoded generically.
    const sparse = encode({ vectors: [{ id: 'a', sparseValues: { indices: [1], values: [0.5] } }] });
    expect(vectorServiceDefinition().Upsert!.requestDeserialize(sparse)).toStrictEqual(decodeGeneric(sparse));
  });
});
