import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { vectorServiceDefinition } from './data-plane.ts';
import { fromStruct, toStruct, type StructMessage } from './struct.ts';

/** JSON objects as metadata and filters hold them (`__proto__` included, as an ordinary key). */
const jsonObject = fc
  .dictionary(fc.oneof(fc.string({ maxLength: 8 }), fc.constant('__proto__')), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 })
  .map((object) => JSON.parse(JSON.stringify(object)) as Record<string, unknown>);

describe('google.protobuf.Struct conversion', () => {
  it('gives back the JSON object after the protobuf encoding and decoding the server uses', () => {
    // A client's metadata on the wire: JSON → Struct → bytes → decoded as the server decodes it → JSON.
    const upsert = vectorServiceDefinition().Upsert!;
    fc.assert(
      fc.property(jsonObject, (object) => {
        const bytes = upsert.requestSerialize({ vectors: [{ id: 'x', values: [1], metadata: toStruct(object) }] });
        const decoded = upsert.requestDeserialize(bytes) as { vectors: { metadata: StructMessage }[] };
        expect(fromStruct(decoded.vectors[0]!.metadata)).toStrictEqual(object);
      }),
      { numRuns: 300 },
    );
  });
});
