import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GRID, GridJsonEncoder, snapToGrid } from './xl-body.ts';

describe('GridJsonEncoder', () => {
  const encoder = new GridJsonEncoder();

  it('writes bodies that parse back to exactly the rows’ float32 values, ids and buckets', () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: -100, max: 100, noNaN: true, noDefaultInfinity: true }), { minLength: 4 * 3, maxLength: 4 * 3 }),
        fc.uint8Array({ minLength: 4, maxLength: 4, max: 99 }),
        (values, buckets) => {
          const vectors = Float32Array.from(values);
          snapToGrid(vectors);
          const body = JSON.parse(encoder.upsertBody(vectors, buckets, 3, 1, 4, 4096).toString('latin1')) as {
            vectors: { id: string; values: number[]; metadata: { bucket: number } }[];
          };
          expect(body.vectors.map((v) => v.id)).toEqual(['1', '2', '3']);
          expect(body.vectors.map((v) => v.metadata.bucket)).toEqual([buckets[1], buckets[2], buckets[3]]);
          expect(Float32Array.from(body.vectors.flatMap((v) => v.values))).toEqual(vectors.subarray(3));
        },
      ),
    );
  });

  it('puts values on the 1/4096 grid and encodes off-table values on the spot', () => {
    const vectors = Float32Array.of(0.1, -70.00001, 1e-9);
    snapToGrid(vectors);
    expect(Array.from(vectors, (v) => v * GRID).every(Number.isInteger)).toBe(true);
    const parsed = JSON.parse(encoder.upsertBody(vectors, Uint8Array.of(5), 3, 0, 1, 4096).toString('latin1')) as { vectors: { values: number[] }[] };
    expect(Float32Array.from(parsed.vectors[0]!.values)).toEqual(vectors);
  });

  it('refuses rows that do not fit the request limit', () => {
    expect(() => encoder.upsertBody(new Float32Array(1000 * 128), new Uint8Array(1000), 128, 0, 1000, 100_000)).toThrow(/request limit/);
  });
});
