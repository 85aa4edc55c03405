/**
 * fashion-mnist as ann-benchmarks uses it (fashion-mnist-784-euclidean): the 60,000 training
 * images are the indexed vectors, the 10,000 test images the queries, each image 28×28 = 784 raw
 * pixel values 0–255 as float32 (not normalized), compared by Euclidean distance.
 *
 * The files come from the Debian package `dataset-fashion-mnist` (tools/setup/bench.sh installs
 * it), in Zalando's IDX format, gzip-compressed; `BENCH_FASHION_MNIST_DIR` points elsewhere.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { mulberry32 } from '@conifer/core';
import { seededBuckets, type Dataset } from './dataset.ts';

export const FASHION_MNIST_DIR = process.env['BENCH_FASHION_MNIST_DIR'] ?? '/usr/share/datasets/fashion-mnist';

export interface IdxArray {
  /** Sizes of each dimension, outermost first (images: [count, rows, columns]). */
  dims: number[];
  data: Uint8Array;
}

/** IDX element type codes (the third byte of the magic number); only unsigned bytes are used here. */
const IDX_UBYTE = 0x08;

/**
 * Parses an IDX file (gzip-compressed or not): magic `00 00 <type> <ndims>`, then `ndims`
 * big-endian uint32 sizes, then the elements row-major. Only unsigned-byte arrays (type 0x08,
 * what MNIST and fashion-mnist ship) are supported. The returned data is a view into the input
 * (or the decompressed copy), not a copy.
 */
export function parseIdx(file: Uint8Array): IdxArray {
  const buf = file[0] === 0x1f && file[1] === 0x8b ? new Uint8Array(gunzipSync(file)) : file;
  if (buf.length < 4 || buf[0] !== 0 || buf[1] !== 0) throw new Error('not an IDX file (bad magic)');
  if (buf[2] !== IDX_UBYTE) throw new Error(`IDX element type 0x${buf[2]!.toString(16)} is not supported (only unsigned bytes, 0x08)`);
  const ndims = buf[3]!;
  const header = 4 + 4 * ndims;
  if (ndims === 0 || buf.length < header) throw new Error('truncated IDX header');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dims = Array.from({ length: ndims }, (_, i) => view.getUint32(4 + 4 * i, false));
  const elements = dims.reduce((a, b) => a * b, 1);
  if (buf.length - header !== elements) throw new Error(`IDX data holds ${buf.length - header} bytes, dims ${dims.join('×')} need ${elements}`);
  return { dims, data: buf.subarray(header) };
}

/** An IDX image file as `count` float32 vectors of rows × columns raw pixel values. */
export function idxImagesToVectors(idx: IdxArray): { vectors: Float32Array; count: number; dimension: number } {
  if (idx.dims.length !== 3) throw new Error(`expected an image array [count, rows, columns], got dims ${idx.dims.join('×')}`);
  const [count, rows, columns] = idx.dims as [number, number, number];
  return { vectors: Float32Array.from(idx.data), count, dimension: rows * columns };
}

function readIdx(dir: string, name: string): IdxArray {
  for (const file of [join(dir, `${name}.gz`), join(dir, name)]) {
    if (existsSync(file)) return parseIdx(readFileSync(file));
  }
  throw new Error(
    `fashion-mnist: ${name}(.gz) not found in ${dir}. Install the Debian package dataset-fashion-mnist ` +
      '(`npm run bench -- --size fashion-mnist` does) or set BENCH_FASHION_MNIST_DIR.',
  );
}

/**
 * The benchmark dataset: train = indexed vectors, the first `queryCount` test images = queries.
 * Buckets for filtered queries are drawn from a seeded PRNG, as for the synthetic sets.
 */
export function loadFashionMnist(queryCount: number, dir = FASHION_MNIST_DIR, seed = 42): Dataset {
  const train = idxImagesToVectors(readIdx(dir, 'train-images-idx3-ubyte'));
  const test = idxImagesToVectors(readIdx(dir, 't10k-images-idx3-ubyte'));
  if (test.dimension !== train.dimension) throw new Error('fashion-mnist: train and test images differ in size');
  const queries = Math.min(queryCount, test.count);
  return {
    name: 'fashion-mnist',
    source: 'fashion-mnist-784-euclidean (ann-benchmarks: train images indexed, test images as queries, raw 0–255 pixels as float32)',
    dimension: train.dimension,
    vectors: train.vectors,
    count: train.count,
    queries: test.vectors.slice(0, queries * test.dimension),
    queryCount: queries,
    buckets: seededBuckets(train.count, mulberry32(seed)),
  };
}
