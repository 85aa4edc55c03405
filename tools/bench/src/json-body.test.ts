import { describe, expect, it } from 'vitest';
import { gaussianMixture } from './dataset.ts';
import { float32Json, nextUpsertBody, vectorJson } from './json-body.ts';

describe('REST request bodies', () => {
  it('writes float32 values that read back as the same float32', () => {
    const ds = gaussianMixture('t', 200, 16, 1, 3);
    for (const x of ds.vectors) expect(Math.fround(Number(float32Json(x)))).toBe(x);
    for (const x of [0, 255, -3, 1e-40, 3.4e38, -1.5e-7]) expect(Math.fround(Number(float32Json(Math.fround(x))))).toBe(Math.fround(x));
    expect(float32Json(255)).toBe('255');
    expect(JSON.parse(vectorJson(Float32Array.from([1, 0.5, -2])))).toEqual([1, 0.5, -2]);
  });

  it('packs as many records as fit the byte and record limits, covering every row once', () => {
    const ds = gaussianMixture('t', 250, 32, 1, 5);
    const maxBytes = 20_000;
    const seen: number[] = [];
    let sizes: number[] = [];
    for (let start = 0; start < ds.count;) {
      const batch = nextUpsertBody(ds, start, ds.count, { maxBytes, maxRecords: 1000 });
      expect(batch.body.length).toBeLessThanOrEqual(maxBytes);
      const parsed = JSON.parse(batch.body) as { vectors: { id: string; values: number[]; metadata: { bucket: number } }[] };
      for (const v of parsed.vectors) {
        seen.push(Number(v.id));
        expect(v.metadata.bucket).toBe(ds.buckets[Number(v.id)]);
        expect(Float32Array.from(v.values)).toEqual(ds.vectors.subarray(Number(v.id) * 32, Number(v.id) * 32 + 32));
      }
      sizes.push(batch.end - batch.start);
      start = batch.end;
    }
    expect(seen).toEqual(Array.from({ length: 250 }, (_, i) => i));
    // Byte-limited: every batch but the last is full enough that one more record would not fit.
    expect(Math.max(...sizes)).toBeLessThan(250);
    sizes = [];
    for (let start = 0; start < ds.count;) {
      const batch = nextUpsertBody(ds, start, ds.count, { maxBytes: 10 ** 7, maxRecords: 100 });
      sizes.push(batch.end - batch.start);
      start = batch.end;
    }
    expect(sizes).toEqual([100, 100, 50]);
    expect(() => nextUpsertBody(ds, 0, ds.count, { maxBytes: 100, maxRecords: 1000 })).toThrow(/exceeds/);
  });
});
