import { execFile, spawnSync } from 'node:child_process';
import { stat } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FaissIndex,
  bitmapOf,
  blasPinned,
  emptyBitmap,
  faissVersion,
  getThreads,
  isAllowed,
  runsOnCallingThread,
  scanRows,
  setRunOnCallingThread,
  setThreads,
  trimNativeHeap,
} from './index.ts';
import type { FaissMetric, SearchResult, TrainOptions } from './index.ts';
import { mulberry32 } from '@conifer/core';
import { bruteForce, clusteredVectors, normalizeRows, recallAtK, rowOf } from './testing/synthetic.ts';

/** global.gc without starting node with --expose-gc (test-only: flags set at run time). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

const D = 32;
const N = 5000;
const NQ = 100;
const K = 10;

/** Uniform random vectors: no near-ties, so exact search must match brute force exactly. */
function uniformVectors(n: number, d: number, seed: number): Float32Array {
  const random = mulberry32(seed);
  const out = new Float32Array(n * d);
  for (let i = 0; i < out.length; i++) out[i] = random() * 2 - 1;
  return out;
}

/** 5000 base + 100 query vectors from one mixture of 32 Gaussians. */
function clusteredSet(): { base: Float32Array; queries: Float32Array } {
  const all = clusteredVectors(N + NQ, D, { clusters: 32, sigma: 0.5, seed: 7 });
  return { base: all.slice(0, N * D), queries: all.slice(N * D) };
}

async function built(factory: string, metric: FaissMetric, base: Float32Array): Promise<FaissIndex> {
  const index = FaissIndex.create(D, factory, metric);
  if (!index.isTrained) await index.train(base);
  await index.add(base);
  return index;
}

/** Byte equality without vitest's slow element-wise diffing of large arrays. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** Asserts `promise` rejects with an Error whose message matches and whose code is `code`. */
async function expectRejects(promise: Promise<unknown>, message: RegExp, code?: string): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  expect((error as Error).message).toMatch(message);
  if (code !== undefined) expect((error as { code?: string }).code).toBe(code);
  return error as Error;
}

function expectThrows(fn: () => unknown, message: RegExp, code?: string): Error {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(Error);
  expect((error as Error).message).toMatch(message);
  if (code !== undefined) expect((error as { code?: string }).code).toBe(code);
  return error as Error;
}

describe('exact search (Flat) matches brute force', () => {
  const base = uniformVectors(N, D, 1);
  const queries = uniformVectors(50, D, 2);

  for (const metric of ['l2', 'ip'] as const) {
    it(`${metric}: identical top-${K} ids, and distances`, async () => {
      const index = await built('Flat', metric, base);
      const exact = bruteForce(base, queries, D, K, metric);
      // nq >= 20 takes faiss's BLAS path, a single query the direct one: check both.
      const batch = await index.search(queries, K);
      const single = await index.search(queries.subarray(0, D), K);
      for (let q = 0; q < 50; q++) expect(rowOf(batch.labels, q, K)).toEqual(exact[q]);
      expect(rowOf(single.labels, 0, K)).toEqual(exact[0]);
      // Distances: squared L2 / inner product of the returned rows.
      for (let j = 0; j < K; j++) {
        const row = batch.labels[j]!;
        let want = 0;
        for (let x = 0; x < D; x++) {
          const a = queries[x]!;
          const b = base[row * D + x]!;
          want += metric === 'l2' ? (a - b) ** 2 : a * b;
        }
        expect(batch.distances[j]).toBeCloseTo(want, 3);
      }
      index.dispose();
    });
  }

  it('cosine = inner product over normalized vectors', async () => {
    const b = normalizeRows(base.slice(), D);
    const q = normalizeRows(queries.slice(), D);
    const index = await built('Flat', 'ip', b);
    const { labels, distances } = await index.search(q, K);
    expect(rowOf(labels, 0, K)).toEqual(bruteForce(b, q.subarray(0, D), D, K, 'ip')[0]);
    expect(distances[0]).toBeLessThanOrEqual(1.000001);
    index.dispose();
  });
});

describe('approximate search: recall and per-call parameters', { timeout: 60_000 }, () => {
  const { base, queries } = clusteredSet();
  const exactL2 = bruteForce(base, queries, D, K, 'l2');
  let ivf: FaissIndex;
  let hnsw: FaissIndex;

  beforeAll(async () => {
    ivf = await built('IVF64,Flat', 'l2', base);
    hnsw = await built('HNSW32', 'l2', base);
  });
  afterAll(() => {
    ivf.dispose();
    hnsw.dispose();
  });

  it('IVF64,Flat: recall@10 >= 0.9 at nprobe 16, clearly lower at nprobe 1', async () => {
    const high = recallAtK((await ivf.search(queries, K, { nprobe: 16 })).labels, exactL2, K);
    const low = recallAtK((await ivf.search(queries, K, { nprobe: 1 })).labels, exactL2, K);
    expect(high).toBeGreaterThanOrEqual(0.9);
    expect(low).toBeLessThan(high - 0.1);
    // Default nprobe is the index's (1).
    const byDefault = recallAtK((await ivf.search(queries, K)).labels, exactL2, K);
    expect(byDefault).toBe(low);
  });

  it('HNSW32: recall@10 >= 0.9 at efSearch 64, clearly lower at efSearch 1', async () => {
    const high = recallAtK((await hnsw.search(queries, K, { efSearch: 64 })).labels, exactL2, K);
    const low = recallAtK((await hnsw.search(queries, K, { efSearch: 1 })).labels, exactL2, K);
    expect(high).toBeGreaterThanOrEqual(0.9);
    expect(low).toBeLessThan(high - 0.1);
  });

  it('HNSW: a search without efSearch uses the index default, whatever ran before', async () => {
    const before = await hnsw.search(queries, K);
    await hnsw.search(queries, K, { efSearch: 256 });
    const after = await hnsw.search(queries, K);
    const explicit16 = await hnsw.search(queries, K, { efSearch: 16 });
    expect(after.labels).toEqual(before.labels);
    expect(after.labels).toEqual(explicit16.labels);
  });

  it('IVF and HNSW with inner product on normalized vectors (cosine)', async () => {
    const b = normalizeRows(base.slice(), D);
    const q = normalizeRows(queries.slice(), D);
    const exact = bruteForce(b, q, D, K, 'ip');
    const ivfIp = await built('IVF64,Flat', 'ip', b);
    const hnswIp = await built('HNSW32', 'ip', b);
    expect(recallAtK((await ivfIp.search(q, K, { nprobe: 16 })).labels, exact, K)).toBeGreaterThanOrEqual(0.9);
    expect(recallAtK((await hnswIp.search(q, K, { efSearch: 64 })).labels, exact, K)).toBeGreaterThanOrEqual(0.9);
    ivfIp.dispose();
    hnswIp.dispose();
  });

  it('64 concurrent searches with mixed parameters all return what sequential searches return', async () => {
    const one = (q: number): Float32Array => queries.subarray(q * D, (q + 1) * D);
    const efs = [8, 16, 64, 128];
    const probes = [1, 4, 16];
    const expected: SearchResult[] = [];
    for (let i = 0; i < 64; i++) {
      expected.push(
        i % 2 === 0 ? await hnsw.search(one(i), K, { efSearch: efs[i % efs.length]! }) : await ivf.search(one(i), K, { nprobe: probes[i % probes.length]! }),
      );
    }
    const concurrent = await Promise.all(
      Array.from({ length: 64 }, (_, i) =>
        i % 2 === 0 ? hnsw.search(one(i), K, { efSearch: efs[i % efs.length]! }) : ivf.search(one(i), K, { nprobe: probes[i % probes.length]! }),
      ),
    );
    concurrent.forEach((result, i) => {
      expect(result.labels).toEqual(expected[i]!.labels);
      expect(result.distances).toEqual(expected[i]!.distances);
    });
  });
});

describe('filtered search with an allowed-rows bitmap', { timeout: 60_000 }, () => {
  const { base, queries } = clusteredSet();
  const random = mulberry32(3);
  const allowedRows = new Set<number>();
  for (let r = 0; r < N; r++) if (random() < 0.1) allowedRows.add(r);
  const allowed = bitmapOf(N, allowedRows);
  const exact = bruteForce(base, queries, D, K, 'l2', (r) => allowedRows.has(r));

  const cases: { factory: string; params: { nprobe?: number; efSearch?: number }; minRecall: number }[] = [
    { factory: 'Flat', params: {}, minRecall: 1 },
    { factory: 'IVF64,Flat', params: { nprobe: 32 }, minRecall: 0.9 },
    { factory: 'HNSW32', params: { efSearch: 128 }, minRecall: 0.9 },
  ];
  for (const { factory, params, minRecall } of cases) {
    it(`${factory}: only allowed rows come back, and the right ones`, async () => {
      const index = await built(factory, 'l2', base);
      const { labels, distances } = await index.search(queries, K, { ...params, allowed });
      for (let i = 0; i < labels.length; i++) {
        const label = labels[i]!;
        if (label === -1) expect(distances[i]).toBe(Infinity);
        else expect(allowedRows.has(label)).toBe(true);
      }
      expect(recallAtK(labels, exact, K)).toBeGreaterThanOrEqual(minRecall);
      if (factory === 'Flat') for (let q = 0; q < NQ; q++) expect(rowOf(labels, q, K)).toEqual(exact[q]);
      index.dispose();
    });
  }

  it('fewer allowed rows than k: the rest is -1; an empty bitmap returns nothing', async () => {
    const index = await built('Flat', 'ip', base);
    const three = bitmapOf(N, [5, 17, 4999]);
    const { labels, distances } = await index.search(queries.subarray(0, D), K, { allowed: three });
    expect([...labels.subarray(0, 3)].sort((a, b) => a - b)).toEqual([5, 17, 4999]);
    expect([...labels.subarray(3)]).toEqual(new Array(K - 3).fill(-1));
    expect([...distances.subarray(3)]).toEqual(new Array(K - 3).fill(-Infinity));
    const none = await index.search(queries.subarray(0, D), K, { allowed: emptyBitmap(N) });
    expect([...none.labels]).toEqual(new Array(K).fill(-1));
    // Rows past the end of a short bitmap are excluded.
    const short = await index.search(queries.subarray(0, D), K, { allowed: new Uint8Array([0xff]) });
    expect([...short.labels].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, -1, -1].sort((a, b) => a - b));
    index.dispose();
  });

  it('bitmap helpers use faiss IDSelectorBitmap layout (LSB first)', () => {
    const bitmap = bitmapOf(20, [0, 9, 19]);
    expect([...bitmap]).toEqual([0b00000001, 0b00000010, 0b00001000]);
    expect(isAllowed(bitmap, 9)).toBe(true);
    expect(isAllowed(bitmap, 10)).toBe(false);
    expect(isAllowed(bitmap, 1000)).toBe(false);
    expect(() => bitmapOf(8, [8])).toThrow(RangeError);
  });
});

describe('serialize / deserialize', { timeout: 60_000 }, () => {
  const { base, queries } = clusteredSet();

  for (const factory of ['Flat', 'IVF64,Flat', 'HNSW32', 'IVF16,SQ8']) {
    it(`${factory}: round trip gives identical metadata, results and bytes`, async () => {
      const index = await built(factory, 'l2', base);
      const params = factory.startsWith('IVF') ? { nprobe: 4 } : factory === 'HNSW32' ? { efSearch: 32 } : {};
      const bytes = index.serialize();
      const copy = FaissIndex.deserialize(bytes);
      expect([copy.d, copy.ntotal, copy.isTrained, copy.metric, copy.kind]).toEqual([index.d, index.ntotal, index.isTrained, index.metric, index.kind]);
      const a = await index.search(queries, K, params);
      const b = await copy.search(queries, K, params);
      expect(b.labels).toEqual(a.labels);
      expect(b.distances).toEqual(a.distances);
      // Searches with other parameters do not leak into the serialized form.
      expect(sameBytes(copy.serialize(), bytes)).toBe(true);
      expect(sameBytes(index.serialize(), bytes)).toBe(true);
      // A serialized copy can be extended (rows continue after ntotal).
      await copy.add(queries.subarray(0, D));
      expect(copy.ntotal).toBe(N + 1);
      const self = await copy.search(queries.subarray(0, D), 1, factory.startsWith('IVF') ? { nprobe: 16 } : {});
      expect(self.labels[0]).toBe(N);
      index.dispose();
      copy.dispose();
    });
  }

  it('accepts a Uint8Array view at an offset into a larger buffer', async () => {
    const index = await built('Flat', 'l2', base.subarray(0, 10 * D));
    const bytes = index.serialize();
    const padded = new Uint8Array(bytes.length + 13);
    padded.set(bytes, 7);
    const copy = FaissIndex.deserialize(padded.subarray(7, 7 + bytes.length));
    expect(copy.ntotal).toBe(10);
    expect(copy.reconstruct(9)).toEqual(base.slice(9 * D, 10 * D));
    const asyncCopy = await FaissIndex.deserializeAsync(padded.subarray(7, 7 + bytes.length));
    expect(asyncCopy.ntotal).toBe(10);
    expect(asyncCopy.reconstruct(9)).toEqual(base.slice(9 * D, 10 * D));
  });
});

describe('deserializeAsync', { timeout: 60_000 }, () => {
  const { base, queries } = clusteredSet();

  for (const [factory, metric] of [
    ['Flat', 'l2'],
    ['IVF64,Flat', 'l2'],
    ['IVF16,SQ8', 'ip'],
    ['HNSW32', 'l2'],
  ] as const) {
    it(`${factory} (${metric}): the same index as deserialize()`, async () => {
      const index = await built(factory, metric, base);
      const bytes = index.serialize();
      index.dispose();
      const sync = FaissIndex.deserialize(bytes);
      const copy = await FaissIndex.deserializeAsync(bytes);
      expect(copy).toBeInstanceOf(FaissIndex);
      expect([copy.d, copy.ntotal, copy.isTrained, copy.metric, copy.kind]).toEqual([sync.d, sync.ntotal, sync.isTrained, sync.metric, sync.kind]);
      const params = factory.startsWith('IVF') ? { nprobe: 4 } : factory === 'HNSW32' ? { efSearch: 32 } : {};
      const a = await sync.search(queries, K, params);
      const b = await copy.search(queries, K, params);
      expect(b.labels).toEqual(a.labels);
      expect(b.distances).toEqual(a.distances);
      expect(sameBytes(copy.serialize(), bytes)).toBe(true);
      // Independent of the bytes once settled, and of the other copy.
      bytes.fill(0);
      sync.dispose();
      expect((await copy.search(queries, K, params)).labels).toEqual(a.labels);
      copy.dispose();
    });
  }

  it('rejects what deserialize() throws on, with the same message and code', async () => {
    const ivf = await built('IVF16,Flat', 'l2', base);
    const bytes = ivf.serialize();
    ivf.dispose();
    const random = mulberry32(5);
    const trailing = new Uint8Array(bytes.length + 8);
    trailing.set(bytes);
    const badHeader = bytes.slice();
    badHeader[0] = 0x58;
    const cases: unknown[] = [
      Uint8Array.from({ length: 4096 }, () => Math.floor(random() * 256)),
      ...[4, 20, 100, bytes.length >> 1, bytes.length - 1].map((cut) => bytes.subarray(0, cut)),
      trailing,
      badHeader,
      new Uint8Array(0),
      'abc',
      new Int8Array(16),
    ];
    for (const input of cases) {
      const thrown = expectThrows(() => FaissIndex.deserialize(input as Uint8Array), /./);
      const rejected = await expectRejects(FaissIndex.deserializeAsync(input as Uint8Array), /./);
      expect(rejected.constructor).toBe(thrown.constructor);
      expect(rejected.message).toBe(thrown.message);
      expect((rejected as { code?: string }).code).toBe((thrown as { code?: string }).code);
    }
    // Spot checks of what those are.
    await expectRejects(FaissIndex.deserializeAsync(trailing), /trailing bytes/, 'ERR_FAISS');
    await expectRejects(FaissIndex.deserializeAsync(new Uint8Array(0)), /empty buffer/, 'ERR_FAISS');
    const typeError = await expectRejects(FaissIndex.deserializeAsync('abc' as unknown as Uint8Array), /Uint8Array/);
    expect(typeError).toBeInstanceOf(TypeError);
  });

  it('rejects when the buffer is detached while it is being read', async () => {
    const index = await built('Flat', 'l2', base.subarray(0, 100 * D));
    const bytes = index.serialize();
    index.dispose();
    const reading = FaissIndex.deserializeAsync(bytes);
    // Moved, not freed: `moved` keeps the memory alive (the contract forbids this; the test only
    // checks that the result of a read from a buffer in flux is refused).
    const buffer = bytes.buffer as ArrayBuffer;
    const moved = structuredClone(buffer, { transfer: [buffer] });
    expect(bytes.length).toBe(0);
    await expectRejects(reading, /detached or resized while deserializeAsync\(\) was reading/, 'ERR_FAISS');
    expect(moved.byteLength).toBeGreaterThan(0);
  });

  it('keeps the event loop running while a 50 MB index is read, and the bytes alive', async () => {
    const d = 128;
    const n = 100_000;
    let bytes: Uint8Array;
    let last: Float32Array;
    {
      const vectors = new Float32Array(n * d);
      for (let i = 0; i < vectors.length; i += 61) vectors[i] = (i % 1009) / 1009;
      last = vectors.slice((n - 1) * d);
      const index = FaissIndex.create(d, 'Flat', 'l2');
      await index.add(vectors);
      bytes = index.serialize();
      index.dispose();
    }
    expect(bytes.length).toBeGreaterThan(50e6);

    // Start from an I/O callback (the continuation of an fs callback runs in libuv's poll phase):
    // the check phase, which runs setImmediate callbacks, comes next in the same loop iteration,
    // while a completed pool job is only seen by the next poll. So an immediate queued right
    // after the call runs before the promise settles however fast the read is — unless the read
    // blocked the loop (as deserialize() wrapped in a promise would: it resolves first, below).
    await new Promise((resolve) => stat(fileURLToPath(import.meta.url), resolve));
    const events: string[] = [];
    const reading = FaissIndex.deserializeAsync(bytes.slice()).then((index) => {
      events.push('resolved');
      return index;
    });
    setImmediate(() => events.push('immediate'));
    // The only reference to that copy of the bytes is the addon's: collecting garbage now must
    // not free it under the reader.
    collectGarbage();
    const copy = await reading;
    expect(events).toEqual(['immediate', 'resolved']);
    expect(copy.ntotal).toBe(n);
    expect(copy.reconstruct(n - 1)).toEqual(last);

    await new Promise((resolve) => stat(fileURLToPath(import.meta.url), resolve));
    const syncEvents: string[] = [];
    const syncReading = Promise.resolve()
      .then(() => FaissIndex.deserialize(bytes))
      .then((index) => {
        syncEvents.push('resolved');
        return index;
      });
    setImmediate(() => syncEvents.push('immediate'));
    (await syncReading).dispose();
    expect(syncEvents).toEqual(['resolved']);
    copy.dispose();
  });
});

describe('reconstruct, add, metadata', { timeout: 60_000 }, () => {
  const { base } = clusteredSet();

  it('reports d, ntotal, isTrained, metric and kind', async () => {
    const flat = FaissIndex.create(D, 'Flat', 'ip');
    expect([flat.d, flat.ntotal, flat.isTrained, flat.metric, flat.kind]).toEqual([D, 0, true, 'ip', 'flat']);
    const ivf = FaissIndex.create(D, 'IVF16,Flat', 'l2');
    expect([ivf.isTrained, ivf.kind]).toEqual([false, 'ivf']);
    await ivf.train(base);
    expect(ivf.isTrained).toBe(true);
    expect(FaissIndex.create(D, 'HNSW16', 'l2').kind).toBe('hnsw');
    expect(FaissIndex.create(D, 'PCA16,Flat', 'l2').kind).toBe('other');
    expect(faissVersion()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('ids are sequential row numbers across several add() calls', async () => {
    const index = FaissIndex.create(D, 'Flat', 'l2');
    await index.add(base.subarray(0, 100 * D));
    await index.add(base.subarray(100 * D, 250 * D));
    expect(index.ntotal).toBe(250);
    const { labels, distances } = await index.search(base.subarray(200 * D, 201 * D), 1);
    expect(labels[0]).toBe(200);
    expect(distances[0]).toBe(0);
  });

  for (const factory of ['Flat', 'IVF16,Flat', 'HNSW16']) {
    it(`${factory}: reconstruct(id) returns the stored vector`, async () => {
      const index = await built(factory, 'l2', base);
      for (const id of [0, 1234, N - 1]) expect(index.reconstruct(id)).toEqual(base.slice(id * D, (id + 1) * D));
      index.dispose();
    });
  }
});

/** The list an IVF index put row `row` in. */
function listOfRow(index: FaissIndex, row: number): number {
  const { offsets, rows } = index.ivfLayout();
  const at = rows.indexOf(row);
  let list = 0;
  while (offsets[list + 1]! <= at) list++;
  return list;
}

describe('add with known lists', { timeout: 60_000 }, () => {
  const { base } = clusteredSet();

  it('assigns only the rows whose list is not given: the same index as assigning them all', async () => {
    const original = await built('IVF32,Flat', 'l2', base);
    const layout = original.ivfLayout();
    const listOf = new Int32Array(N);
    for (let list = 0; list < 32; list++) for (let at = layout.offsets[list]!; at < layout.offsets[list + 1]!; at++) listOf[layout.rows[at]!] = list;
    // Every other row known, the rest left to the quantizer.
    const known = listOf.map((list, row) => (row % 2 === 0 ? list : -1));
    const again = FaissIndex.deserialize(original.serialize());
    again.reset();
    await again.add(base, { lists: known });
    expect(sameBytes(again.serialize(), original.serialize())).toBe(true);
  });

  it('assigns the unknown rows in batches: more of them than one batch holds', async () => {
    const d = 8;
    const many = uniformVectors(40_000, d, 11);
    const whole = FaissIndex.create(d, 'IVF16,Flat', 'l2');
    await whole.train(many.subarray(0, 4000 * d));
    const empty = whole.serialize();
    await whole.add(many);
    const known = new Int32Array(40_000).fill(-1);
    known[0] = listOfRow(whole, 0);
    const batched = FaissIndex.deserialize(empty);
    await batched.add(many, { lists: known });
    expect(sameBytes(batched.serialize(), whole.serialize())).toBe(true);
  });

  it('puts a row in the list it is given, nearest or not', async () => {
    const index = await built('IVF16,Flat', 'l2', base.subarray(0, 1000 * D));
    index.reset();
    await index.add(base.subarray(0, 3 * D), { lists: Int32Array.of(5, 5, -1) });
    const { offsets, rows } = index.ivfLayout();
    expect(Array.from(rows.subarray(offsets[5]!, offsets[6]!)).slice(0, 2)).toEqual([0, 1]);
    expect(index.ntotal).toBe(3);
  });

  it('rejects lists of the wrong length, lists outside the index, and lists for a non-IVF index', async () => {
    const ivf = await built('IVF16,Flat', 'l2', base.subarray(0, 1000 * D));
    const two = base.subarray(0, 2 * D);
    await expect(ivf.add(two, { lists: Int32Array.of(1) })).rejects.toThrow(/lists has 1 entries, one per vector is 2/);
    await expect(ivf.add(two, { lists: Int32Array.of(1, 16) })).rejects.toThrow(/lists\[1\] is 16: must be -1 or a list in \[0, 16\)/);
    await expect(ivf.add(two, { lists: Int32Array.of(-2, 0) })).rejects.toThrow(RangeError);
    await expect(FaissIndex.create(D, 'Flat', 'l2').add(two, { lists: Int32Array.of(0, 0) })).rejects.toThrow(TypeError);
    expect(ivf.ntotal).toBe(1000);
  });
});

describe('reset', { timeout: 60_000 }, () => {
  const { base, queries } = clusteredSet();

  it('empties an index but keeps its training: re-adding gives the same index without training', async () => {
    const original = await built('IVF32,Flat', 'l2', base);
    const donor = FaissIndex.deserialize(original.serialize());
    donor.reset();
    expect([donor.ntotal, donor.isTrained]).toEqual([0, true]);
    await donor.add(base);
    expect(sameBytes(donor.serialize(), original.serialize())).toBe(true);
    const a = await donor.search(queries, K, { nprobe: 4 });
    const b = await original.search(queries, K, { nprobe: 4 });
    expect(a.labels).toEqual(b.labels);
    original.dispose();
    donor.dispose();
  });

  it('is refused after dispose', async () => {
    const index = await built('Flat', 'l2', base);
    index.reset();
    expect(index.ntotal).toBe(0);
    index.dispose();
    expectThrows(() => index.reset(), /disposed/, 'ERR_FAISS_DISPOSED');
  });
});

describe('ivfLayout', { timeout: 60_000 }, () => {
  const { base, queries } = clusteredSet();

  it('exposes centroids and list membership: scanning the probed lists reproduces the IVF search', async () => {
    const index = await built('IVF32,Flat', 'l2', base);
    const { centroids, offsets, rows } = index.ivfLayout();
    expect(centroids.length).toBe(32 * D);
    expect(offsets.length).toBe(33);
    expect([...rows].sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i));
    for (let q = 0; q < 20; q++) {
      const query = queries.subarray(q * D, (q + 1) * D);
      const lists = scanRows(centroids, D, query, 4, 'l2').labels;
      const probed = Int32Array.from([...lists].flatMap((l) => [...rows.subarray(offsets[l]!, offsets[l + 1]!)]));
      const mine = scanRows(base, D, query, K, 'l2', { rows: probed }).labels;
      const theirs = (await index.search(query, K, { nprobe: 4 })).labels;
      expect(new Set(mine)).toEqual(new Set(theirs));
    }
    index.dispose();
  });

  it('holds the same lists after several add() calls (each reserving its lists, read in place from views) as after one', async () => {
    const once = await built('IVF32,Flat', 'l2', base);
    const parts = FaissIndex.create(D, 'IVF32,Flat', 'l2');
    await parts.train(base);
    // Views at offsets into one buffer, as a compaction passes its merged vectors.
    for (const [from, to] of [
      [0, 1],
      [1, 1000],
      [1000, N],
    ] as const)
      await parts.add(base.subarray(from * D, to * D));
    expect(parts.ntotal).toBe(N);
    const a = once.ivfLayout();
    const b = parts.ivfLayout();
    expect(b.offsets).toEqual(a.offsets);
    // Within a list, rows keep the order they were added in: the same for both.
    expect(b.rows).toEqual(a.rows);
    const query = queries.subarray(0, D);
    expect((await parts.search(query, K, { nprobe: 4 })).labels).toEqual((await once.search(query, K, { nprobe: 4 })).labels);
    once.dispose();
    parts.dispose();
  });

  it('is a TypeError for other index types', () => {
    const flat = FaissIndex.create(D, 'Flat', 'l2');
    expect(() => flat.ivfLayout()).toThrow(TypeError);
    flat.dispose();
  });
});

describe('train options (IVF clustering parameters)', { timeout: 60_000 }, () => {
  const { base, queries } = clusteredSet();
  const nlist = 64;

  /** Serialized IVF index trained on the first n rows of base: equal bytes = same centroids. */
  async function trainedBytes(n: number, options?: TrainOptions): Promise<string> {
    const index = FaissIndex.create(D, `IVF${nlist},Flat`, 'l2');
    await index.train(base.subarray(0, n * D), options);
    const bytes = Buffer.from(index.serialize()).toString('base64');
    index.dispose();
    return bytes;
  }

  it('reach faiss: niter and maxPointsPerCentroid change the centroids, their defaults do not', async () => {
    // faiss's k-means is deterministic (fixed seed, one thread): same options, same bytes.
    const n = 40 * nlist;
    const byDefault = await trainedBytes(n);
    expect(await trainedBytes(n)).toBe(byDefault);
    // faiss's IVF defaults: 10 iterations (IndexIVF sets cp.niter = 10; plain k-means has 25),
    // at most 256 and at least 39 points per centroid.
    expect(await trainedBytes(n, { niter: 10, maxPointsPerCentroid: 256, minPointsPerCentroid: 39 })).toBe(byDefault);
    expect(await trainedBytes(n, { niter: 2 })).not.toBe(byDefault);
    expect(await trainedBytes(n, { niter: 25 })).not.toBe(byDefault);
    expect(await trainedBytes(n, { maxPointsPerCentroid: 20 })).not.toBe(byDefault); // subsamples
    expect(await trainedBytes(n, { minPointsPerCentroid: 16 })).toBe(byDefault); // only the warning
  });

  it('minPointsPerCentroid below n / nlist: no faiss WARNING on stderr (checked in a child process)', () => {
    // faiss prints the warning with fprintf(stderr) from native code, so run both trainings in a
    // child and look at its stderr between markers (writes to a pipe are synchronous in Node).
    const script = `
      import { FaissIndex } from ${JSON.stringify(fileURLToPath(new URL('./index.ts', import.meta.url)))};
      const d = 8, nlist = 16;
      const vectors = new Float32Array(16 * nlist * d).map((_, i) => Math.sin(i * 12.9898) * 43758.5453 % 1);
      for (const options of [undefined, { minPointsPerCentroid: 16, niter: 5 }]) {
        process.stderr.write('<' + JSON.stringify(options ?? null) + '>\\n');
        const index = FaissIndex.create(d, 'IVF' + nlist + ',Flat', 'l2');
        await index.train(vectors, options);
        if (!index.isTrained) throw new Error('not trained');
      }
      process.stderr.write('<end>\\n');
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(child.status, child.stderr).toBe(0);
    const [, withDefaults, withOptions] = child.stderr.split(/<[^>]*>\n/);
    expect(withDefaults).toMatch(/^WARNING clustering 256 points to 16 centroids: please provide at least 624/);
    expect(withOptions).toBe('');
  });

  it('a small sample with fewer iterations still gives a good index', async () => {
    const index = FaissIndex.create(D, `IVF${nlist},Flat`, 'l2');
    await index.train(base.subarray(0, 16 * nlist * D), { minPointsPerCentroid: 16, niter: 10 });
    expect(index.isTrained).toBe(true);
    await index.add(base);
    const exact = bruteForce(base, queries, D, K, 'l2');
    expect(recallAtK((await index.search(queries, K, { nprobe: 16 })).labels, exact, K)).toBeGreaterThanOrEqual(0.9);
    index.dispose();
  });

  it('validation: types, ranges, and IVF indexes only', async () => {
    const ivf = FaissIndex.create(D, `IVF${nlist},Flat`, 'l2');
    const sample = base.subarray(0, 40 * nlist * D);
    const loose = (options: unknown): Promise<void> => ivf.train(sample, options as TrainOptions);
    await expectRejects(loose({ niter: '5' }), /^niter must be a number$/);
    await expectRejects(loose({ minPointsPerCentroid: null, maxPointsPerCentroid: true }), /^maxPointsPerCentroid must be a number$/);
    for (const [options, message] of [
      [{ minPointsPerCentroid: 0 }, /^minPointsPerCentroid must be an integer in \[1, 1048576\], got 0$/],
      [{ minPointsPerCentroid: 2.5 }, /^minPointsPerCentroid must be an integer/],
      [{ maxPointsPerCentroid: 2 ** 20 + 1 }, /^maxPointsPerCentroid must be an integer in \[1, 1048576\]/],
      [{ niter: 0 }, /^niter must be an integer in \[1, 1000\], got 0$/],
      [{ niter: NaN }, /^niter must be an integer/],
      [{ minPointsPerCentroid: 64, maxPointsPerCentroid: 32 }, /^minPointsPerCentroid \(64\) must not exceed maxPointsPerCentroid \(32\)$/],
    ] as const) {
      const error = await expectRejects(loose(options), message);
      expect(error).toBeInstanceOf(RangeError);
    }
    expect(ivf.isTrained).toBe(false); // nothing ran
    await ivf.train(sample, { niter: undefined }); // undefined = not given
    expect(ivf.isTrained).toBe(true);
    ivf.dispose();

    for (const [factory, kind] of [
      ['Flat', 'flat'],
      ['HNSW16', 'hnsw'],
      ['PCA16,IVF16,Flat', 'other'],
    ] as const) {
      const index = FaissIndex.create(D, factory, 'l2');
      const error = await expectRejects(
        index.train(sample, { maxPointsPerCentroid: 100, niter: 3 }),
        new RegExp(`^maxPointsPerCentroid: only IVF indexes take clustering options; this index is ${kind}$`),
      );
      expect(error).toBeInstanceOf(RangeError);
      await expectRejects(index.train(sample, { niter: 3 }), /^niter: only IVF indexes take clustering options/);
      await index.train(sample, {}); // no options: fine for any index
      index.dispose();
    }
  });
});

describe('threads and the event loop', { timeout: 60_000 }, () => {
  it('setThreads sets the build thread count and validates it; OpenBLAS is pinned', async () => {
    expect(blasPinned()).toBe(true);
    expect(getThreads()).toBe(1);
    setThreads(2);
    expect(getThreads()).toBe(2);
    const { base, queries } = clusteredSet();
    const index = await built('IVF64,Flat', 'l2', base);
    expect((await index.search(queries, K, { nprobe: 64 })).labels).toEqual((await (await built('Flat', 'l2', base)).search(queries, K)).labels);
    setThreads(1);
    expect(() => setThreads(0)).toThrow(RangeError);
    expect(() => setThreads(1.5)).toThrow(RangeError);
    expect(getThreads()).toBe(1);
  });

  it('runs train, add and search on the calling thread when asked, with the same results and errors', async () => {
    const { base, queries } = clusteredSet();
    let turned = false;
    setImmediate(() => (turned = true));
    const pooled = await built('IVF64,Flat', 'l2', base);
    expect(turned).toBe(true); // the pool: the event loop turned meanwhile
    const expected = await pooled.search(queries, K, { nprobe: 8 });
    expect(runsOnCallingThread()).toBe(false);
    setRunOnCallingThread(true);
    try {
      expect(runsOnCallingThread()).toBe(true);
      const index = FaissIndex.create(D, 'IVF64,Flat', 'l2');
      // Settled by the time the call returns: awaiting it takes microtasks only, so an immediate
      // queued before it has not run yet (on the pool it would: the result comes in a later turn).
      let turned = false;
      setImmediate(() => (turned = true));
      await index.train(base);
      expect(turned).toBe(false);
      await index.add(base);
      const got = await index.search(queries, K, { nprobe: 8 });
      expect(Array.from(got.labels)).toEqual(Array.from(expected.labels));
      expect(Array.from(got.distances)).toEqual(Array.from(expected.distances));
      // Errors still reject the promise (never a throw, never a crash).
      const untrained = FaissIndex.create(D, 'IVF64,Flat', 'l2');
      await expect(untrained.add(base)).rejects.toThrow(/not trained/);
      await expect(index.search(new Float32Array(3), K)).rejects.toThrow();
    } finally {
      setRunOnCallingThread(false);
    }
    expect(() => setRunOnCallingThread(1 as unknown as boolean)).toThrow(TypeError);
  });

  it('trimNativeHeap returns the C heap memory faiss freed to the OS (glibc)', async () => {
    const glibc = Boolean((process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime);
    // IVF lists are many vectors of ~100 KB: allocated in the C heap (not mmap'd), so freeing them
    // leaves free pages in an arena that only malloc_trim gives back.
    const index = FaissIndex.create(32, 'IVF64,Flat', 'l2');
    const vectors = uniformVectors(50_000, 32, 21);
    await index.train(vectors);
    await index.add(vectors);
    index.dispose();
    expect(trimNativeHeap()).toBe(glibc);
  });

  it('the event loop stays responsive while a long search runs', async () => {
    const d = 128;
    const index = FaissIndex.create(d, 'Flat', 'l2');
    await index.add(uniformVectors(100_000, d, 11));
    const queries = uniformVectors(1000, d, 12);
    const histogram = monitorEventLoopDelay({ resolution: 5 });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    histogram.enable();
    const started = performance.now();
    const { labels } = await index.search(queries, K);
    const elapsed = performance.now() - started;
    histogram.disable();
    clearInterval(timer);
    expect(labels.length).toBe(1000 * K);
    // Blocking the loop would delay timers by the whole search; here they keep firing (the
    // bound leaves room for the scheduler of a busy 2-core machine; typical max is < 15 ms).
    expect(elapsed).toBeGreaterThan(100);
    expect(ticks).toBeGreaterThan(elapsed / 5 / 4);
    expect(histogram.max / 1e6).toBeLessThan(elapsed / 3);
    index.dispose();
  });
});

describe('errors never kill the process', { timeout: 60_000 }, () => {
  const { base, queries } = clusteredSet();
  let flat: FaissIndex;
  beforeAll(async () => {
    flat = await built('Flat', 'l2', base);
  });

  it('bad factory strings, dimensions and metrics', () => {
    expectThrows(() => FaissIndex.create(D, 'NoSuchIndex', 'l2'), /faiss: .*NoSuchIndex/, 'ERR_FAISS');
    expectThrows(() => FaissIndex.create(D, 'IVF,Flat', 'l2'), /faiss: /, 'ERR_FAISS');
    expectThrows(() => FaissIndex.create(D, '', 'l2'), /factory/);
    expectThrows(() => FaissIndex.create(0, 'Flat', 'l2'), /d must be an integer/);
    expectThrows(() => FaissIndex.create(2.5, 'Flat', 'l2'), /d must be an integer/);
    expectThrows(() => FaissIndex.create(D, 'Flat', 'cosine' as FaissMetric), /metric must be 'l2' or 'ip'/);
  });

  it('vectors whose length is not a multiple of d, or of the wrong type', async () => {
    await expectRejects(flat.add(new Float32Array(D + 1)), /multiple of d \(32\)/);
    await expectRejects(flat.add(new Float32Array(0)), /positive multiple of d/);
    await expectRejects(flat.search(new Float32Array(D - 1), K), /queries.length \(31\)/);
    await expectRejects(flat.train(new Float32Array(3)), /multiple of d/);
    await expectRejects(flat.add(new Float64Array(D) as unknown as Float32Array), /must be a Float32Array/);
    await expectRejects(flat.search([1, 2, 3] as unknown as Float32Array, K), /must be a Float32Array/);
    const wrongBitmap = new Int8Array(4) as unknown as Uint8Array;
    await expectRejects(flat.search(queries.subarray(0, D), K, { allowed: wrongBitmap }), /Uint8Array/);
  });

  it('k = 0, k not an integer, k > ntotal', async () => {
    await expectRejects(flat.search(queries.subarray(0, D), 0), /k must be an integer/);
    await expectRejects(flat.search(queries.subarray(0, D), 1.5), /k must be an integer/);
    await expectRejects(flat.search(queries.subarray(0, D), NaN), /k must be an integer/);
    const small = await built('Flat', 'l2', base.subarray(0, 3 * D));
    const { labels, distances } = await small.search(queries.subarray(0, D), 5);
    expect([...labels.subarray(3)]).toEqual([-1, -1]);
    expect([...distances.subarray(3)]).toEqual([Infinity, Infinity]);
    const empty = FaissIndex.create(D, 'HNSW32', 'l2');
    expect([...(await empty.search(queries.subarray(0, D), 2)).labels]).toEqual([-1, -1]);
  });

  it('parameters that do not apply to the index type', async () => {
    await expectRejects(flat.search(queries.subarray(0, D), K, { nprobe: 4 }), /nprobe applies to IVF/);
    await expectRejects(flat.search(queries.subarray(0, D), K, { efSearch: 4 }), /efSearch applies to HNSW/);
    await expectRejects(flat.search(queries.subarray(0, D), K, { efSearch: 0 }), /efSearch must be an integer/);
  });

  it('untrained IVF: add and search reject with a faiss error', async () => {
    const ivf = FaissIndex.create(D, 'IVF16,Flat', 'l2');
    await expectRejects(ivf.add(base), /not trained/, 'ERR_FAISS');
    await expectRejects(ivf.search(queries, K), /faiss: index is not trained/, 'ERR_FAISS');
    await expectRejects(ivf.train(base.subarray(0, 4 * D)), /faiss: /, 'ERR_FAISS'); // fewer points than lists
  });

  it('corrupt, truncated or empty serialized bytes', async () => {
    const ivf = await built('IVF16,Flat', 'l2', base);
    const bytes = ivf.serialize();
    const random = mulberry32(5);
    const noise = Uint8Array.from({ length: 4096 }, () => Math.floor(random() * 256));
    expectThrows(() => FaissIndex.deserialize(noise), /faiss: /, 'ERR_FAISS');
    for (const cut of [4, 20, 100, bytes.length >> 1, bytes.length - 1]) {
      expectThrows(() => FaissIndex.deserialize(bytes.subarray(0, cut)), /faiss: /, 'ERR_FAISS');
    }
    const trailing = new Uint8Array(bytes.length + 8);
    trailing.set(bytes);
    expectThrows(() => FaissIndex.deserialize(trailing), /trailing bytes/, 'ERR_FAISS');
    const badHeader = bytes.slice();
    badHeader[0] = 0x58;
    expectThrows(() => FaissIndex.deserialize(badHeader), /faiss: /, 'ERR_FAISS');
    expectThrows(() => FaissIndex.deserialize(new Uint8Array(0)), /empty buffer/, 'ERR_FAISS');
    expectThrows(() => FaissIndex.deserialize('abc' as unknown as Uint8Array), /must be a Uint8Array/);
  });

  it('a filter on an index type faiss cannot filter (PQ, Refine) rejects instead of crashing', async () => {
    const pq = await built('PQ4np', 'l2', base); // np: no polysemous training (slow)
    await expectRejects(pq.search(queries, K, { allowed: bitmapOf(N, [1]) }), /faiss: /, 'ERR_FAISS');
    expect((await pq.search(queries, K)).labels.length).toBe(NQ * K);
    pq.dispose();
  });

  it('reconstruct outside [0, ntotal)', () => {
    expectThrows(() => flat.reconstruct(N), /out of range/);
    expectThrows(() => flat.reconstruct(-1), /id must be an integer/);
    expectThrows(() => flat.reconstruct(0.5), /id must be an integer/);
  });

  it('serialize while train() runs is refused (ERR_FAISS_BUSY), then works', async () => {
    const big = clusteredVectors(50_000, D, { clusters: 256, seed: 9 });
    const ivf = FaissIndex.create(D, 'IVF512,Flat', 'l2');
    const training = ivf.train(big);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expectThrows(() => ivf.serialize(), /busy/, 'ERR_FAISS_BUSY');
    await training;
    expect(ivf.serialize().length).toBeGreaterThan(512 * D * 4);
    ivf.dispose();
  });

  it('dispose: later calls throw, dispose twice is fine, in-flight searches finish', async () => {
    const index = await built('Flat', 'l2', base);
    const inFlight = index.search(queries, K);
    index.dispose();
    index.dispose();
    expect(index.disposed).toBe(true);
    expect((await inFlight).labels.length).toBe(NQ * K);
    expectThrows(() => index.ntotal, /disposed/, 'ERR_FAISS_DISPOSED');
    expectThrows(() => index.serialize(), /disposed/, 'ERR_FAISS_DISPOSED');
    expectThrows(() => index.reconstruct(0), /disposed/, 'ERR_FAISS_DISPOSED');
    await expectRejects(index.search(queries, K), /disposed/, 'ERR_FAISS_DISPOSED');
    await expectRejects(index.add(base), /disposed/, 'ERR_FAISS_DISPOSED');
  });

  it('the process is still healthy afterwards', async () => {
    const { labels } = await flat.search(queries.subarray(0, D), 1);
    expect(labels[0]).toBeGreaterThanOrEqual(0);
  });
});

describe('native memory', { timeout: 120_000 }, () => {
  it('indexes that are never disposed are freed by the garbage collector', async () => {
    // 40 indexes of 20 MB each, dropped without dispose(): RSS must stay far below 800 MB.
    const script = `
      import { FaissIndex } from ${JSON.stringify(fileURLToPath(new URL('./index.ts', import.meta.url)))};
      const vectors = new Float32Array(20_000 * 256).fill(0.5);
      let peak = 0;
      for (let i = 0; i < 40; i++) {
        const index = FaissIndex.create(256, 'Flat', 'l2');
        await index.add(vectors);
        await new Promise((resolve) => setImmediate(resolve));
        peak = Math.max(peak, process.memoryUsage().rss);
      }
      console.log(JSON.stringify({ peakMb: Math.round(peak / 2 ** 20) }));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
    const { peakMb } = JSON.parse(stdout.trim()) as { peakMb: number };
    expect(peakMb).toBeLessThan(500);
  });
});
