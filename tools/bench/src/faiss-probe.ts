/**
 * Latency/recall probe (not a test): single-query search latency through the binding, one
 * query at a time (await each), for Flat, IVF1024,Flat (nprobe 8) and HNSW32 on clustered
 * synthetic data; recall@10 against the Flat results.
 *
 *   node tools/bench/src/faiss-probe.ts [n=100000] [d=128] [queries=1000] [clusters=256]
 */
import { FaissIndex, faissVersion, setThreads, type SearchParams } from '@conifer/faiss';
import { percentile } from '@conifer/core';
import { clusteredVectors, recallAtK } from '@conifer/faiss/testing';

const [n = 100_000, d = 128, nq = 1000, clusters = 256] = process.argv.slice(2).map(Number);
const k = 10;

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const value = await fn();
  return [value, performance.now() - start];
}

const all = clusteredVectors(n + nq, d, { clusters, sigma: 0.5, seed: 42 });
const base = all.subarray(0, n * d);
const queries = all.subarray(n * d);
console.log(`faiss ${faissVersion()}; ${n}×${d}, ${clusters} clusters, ${nq} queries, k=${k}`);

setThreads(2); // builds may use both cores; searches always run on one
const configs: { factory: string; params: SearchParams }[] = [
  { factory: 'Flat', params: {} },
  { factory: 'IVF1024,Flat', params: { nprobe: 8 } },
  { factory: 'IVF1024,Flat', params: { nprobe: 1 } },
  { factory: 'HNSW32', params: {} },
  { factory: 'HNSW32', params: { efSearch: 64 } },
];
let truth: number[][] = [];
const built = new Map<string, { index: FaissIndex; buildMs: number }>();
for (const { factory, params } of configs) {
  let entry = built.get(factory);
  if (entry === undefined) {
    const index = FaissIndex.create(d, factory, 'l2');
    const [, buildMs] = await timed(async () => {
      if (!index.isTrained) await index.train(base);
      await index.add(base);
    });
    entry = { index, buildMs };
    built.set(factory, entry);
  }
  const { index, buildMs } = entry;
  const latencies: number[] = [];
  const labels = new Int32Array(nq * k);
  for (let q = 0; q < nq; q++) {
    const [result, ms] = await timed(() => index.search(queries.subarray(q * d, (q + 1) * d), k, params));
    latencies.push(ms);
    labels.set(result.labels, q * k);
  }
  if (factory === 'Flat') {
    truth = Array.from({ length: nq }, (_, q) => Array.from(labels.subarray(q * k, (q + 1) * k)));
  }
  latencies.sort((a, b) => a - b);
  // Throughput with 8 searches in flight (libuv pool, UV_THREADPOOL_SIZE default 4).
  const [, batchMs] = await timed(async () => {
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < nq) {
          const q = next++;
          await index.search(queries.subarray(q * d, (q + 1) * d), k, params);
        }
      }),
    );
  });
  console.log(
    [
      `${factory}${JSON.stringify(params)}`.padEnd(30),
      `build ${(buildMs / 1000).toFixed(1)} s`,
      `p50 ${percentile(latencies, 50).toFixed(3)} ms`,
      `p99 ${percentile(latencies, 99).toFixed(3)} ms`,
      `recall@10 ${recallAtK(labels, truth, k).toFixed(3)}`,
      `${Math.round(nq / (batchMs / 1000))} q/s with 8 in flight`,
    ].join('  '),
  );
}
for (const { index } of built.values()) index.dispose();
