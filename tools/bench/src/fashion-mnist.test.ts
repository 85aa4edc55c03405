import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { idxImagesToVectors, loadFashionMnist, parseIdx } from './fashion-mnist.ts';

/** A ubyte IDX file: magic 00 00 08 <ndims>, big-endian uint32 sizes, then the bytes. */
function idx(dims: number[], data: number[]): Uint8Array {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(data)]);
}

describe('IDX parser', () => {
  it('reads dims and data, plain and gzip-compressed', () => {
    const file = idx([2, 2, 3], [0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]);
    for (const input of [file, gzipSync(file)]) {
      const parsed = parseIdx(input);
      expect(parsed.dims).toEqual([2, 2, 3]);
      expect(Array.from(parsed.data)).toEqual([0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]);
    }
  });

  it('turns images into float32 vectors of raw pixel values', () => {
    const { vectors, count, dimension } = idxImagesToVectors(parseIdx(idx([2, 1, 2], [0, 128, 255, 7])));
    expect(count).toBe(2);
    expect(dimension).toBe(2);
    expect(vectors).toEqual(Float32Array.from([0, 128, 255, 7]));
  });

  it('refuses bad magic, other element types and truncated data', () => {
    expect(() => parseIdx(Uint8Array.from([1, 0, 8, 1, 0, 0, 0, 0]))).toThrow(/magic/);
    const ints = idx([1], [0]);
    ints[2] = 0x0c;
    expect(() => parseIdx(ints)).toThrow(/not supported/);
    expect(() => parseIdx(idx([3], [1, 2]))).toThrow(/need 3/);
    expect(() => idxImagesToVectors(parseIdx(idx([3], [1, 2, 3])))).toThrow(/image array/);
  });

  it('loads train as vectors and the first test images as queries, with seeded buckets', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-idx-'));
    try {
      writeFileSync(join(dir, 'train-images-idx3-ubyte.gz'), gzipSync(idx([3, 1, 2], [1, 2, 3, 4, 5, 6])));
      writeFileSync(join(dir, 't10k-images-idx3-ubyte'), idx([2, 1, 2], [7, 8, 9, 10]));
      const ds = loadFashionMnist(1, dir);
      expect(ds.count).toBe(3);
      expect(ds.dimension).toBe(2);
      expect(ds.queryCount).toBe(1);
      expect(ds.queries).toEqual(Float32Array.from([7, 8]));
      expect(ds.buckets).toEqual(loadFashionMnist(5, dir).buckets);
      expect(loadFashionMnist(5, dir).queryCount).toBe(2);
      expect(() => loadFashionMnist(1, join(dir, 'missing'))).toThrow(/dataset-fashion-mnist/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
