/**
 * The libraries Conifer is compared with, loaded from tools/bench/peers (installed on demand by
 * `npm run bench`; absent in CI). Each is tuned over its own recall knob, so rows can be compared at
 * equal recall: LanceDB (embedded) with the same index type as Conifer's (IVF_FLAT) over nprobes,
 * hnswlib-node (HNSW, M=16) over ef.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { queryOf, type Dataset } from './dataset.ts';
import { meanRecall, runConcurrent, summarize, type QueryRow } from './stats.ts';

const PEERS = fileURLToPath(new URL('../peers/node_modules/', import.meta.url));

export type PeerRow = QueryRow;

export function peersInstalled(): boolean {
  return existsSync(join(PEERS, '@lancedb/lancedb')) && existsSync(join(PEERS, 'hnswlib-node'));
}

type Log = (...parts: unknown[]) => void;
const K = 10;

function recallOf(got: number[][], truth: Int32Array, ds: Dataset): number {
  return meanRecall(K, got, truth, ds.queryCount);
}

interface LanceQuery {
  limit(n: number): LanceQuery;
  nprobes(n: number): LanceQuery;
  select(columns: string[]): LanceQuery;
  toArray(): Promise<{ id: number }[]>;
}
interface LanceTable {
  add(data: unknown): Promise<unknown>;
  createIndex(column: string, options: { config: unknown }): Promise<void>;
  vectorSearch(vector: Float32Array | number[]): LanceQuery;
}
interface LanceModule {
  connect(uri: string): Promise<{ createTable(name: string, data: unknown): Promise<LanceTable> }>;
  Index: { ivfFlat(options: { numPartitions: number; distanceType: 'l2' }): unknown };
}

export async function benchLanceDB(ds: Dataset, truth: Int32Array, nlist: number, queries: number, log: Log): Promise<{ rows: PeerRow[]; buildMs: number }> {
  const lancedb = (await import(join(PEERS, '@lancedb/lancedb/dist/index.js'))) as LanceModule;
  const arrow = (await import(join(PEERS, 'apache-arrow/Arrow.node.js'))) as typeof import('apache-arrow');
  const dir = mkdtempSync(join(tmpdir(), 'conifer-bench-lance-'));
  const rows: PeerRow[] = [];
  try {
    const started = performance.now();
    const db = await lancedb.connect(dir);
    const vectorType = new arrow.FixedSizeList(ds.dimension, new arrow.Field('item', new arrow.Float32(), true));
    // In batches: Arrow's JS buffers hold at most 4 GiB (10M × 128 floats is 5 GB).
    const batchOf = (first: number, count: number) =>
      new arrow.Table({
        id: arrow.makeVector(Int32Array.from({ length: count }, (_, i) => first + i)),
        vector: arrow.makeVector(
          arrow.makeData({
            type: vectorType,
            length: count,
            nullCount: 0,
            child: arrow.makeData({
              type: new arrow.Float32(),
              length: count * ds.dimension,
              data: ds.vectors.subarray(first * ds.dimension, (first + count) * ds.dimension),
            }),
          }),
        ),
      });
    const LANCE_BATCH = 1_000_000;
    const lance = await db.createTable('bench', batchOf(0, Math.min(LANCE_BATCH, ds.count)));
    for (let first = LANCE_BATCH; first < ds.count; first += LANCE_BATCH) await lance.add(batchOf(first, Math.min(LANCE_BATCH, ds.count - first)));
    await lance.createIndex('vector', { config: lancedb.Index.ivfFlat({ numPartitions: nlist, distanceType: 'l2' }) });
    const buildMs = Math.round(performance.now() - started);
    log('lancedb built in', buildMs, 'ms');
    for (const nprobes of [4, 8, 16, 32]) {
      for (const concurrency of [1, 8, 32]) {
        const got: number[][] = new Array(queries);
        const run = await runConcurrent(queries, concurrency, async (i) => {
          const res = await lance.vectorSearch(queryOf(ds, i)).limit(K).nprobes(nprobes).select(['id']).toArray();
          got[i] = res.map((r) => Number(r.id));
        });
        rows.push({
          system: `LanceDB embedded (IVF_FLAT ${nlist})`,
          scenario: `nprobes ${nprobes}`,
          concurrency,
          recall: recallOf(got, truth, ds),
          latency: summarize(run.latencies, run.wallMs),
        });
        log('lancedb', nprobes, concurrency, rows.at(-1)!.recall, rows.at(-1)!.latency.p50);
      }
    }
    return { rows, buildMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface HnswIndex {
  initIndex(maxElements: number, m?: number, efConstruction?: number): void;
  addPoint(point: number[], label: number): void;
  setEf(ef: number): void;
  searchKnn(query: number[], k: number): { neighbors: number[] };
}

export async function benchHnswlib(ds: Dataset, truth: Int32Array, queries: number, log: Log): Promise<{ rows: PeerRow[]; buildMs: number }> {
  const mod = (await import(join(PEERS, 'hnswlib-node/lib/index.js'))) as {
    default?: { HierarchicalNSW: new (space: string, dim: number) => HnswIndex };
    HierarchicalNSW?: new (space: string, dim: number) => HnswIndex;
  };
  const HierarchicalNSW = (mod.HierarchicalNSW ?? mod.default!.HierarchicalNSW)!;
  const started = performance.now();
  const index = new HierarchicalNSW('l2', ds.dimension);
  index.initIndex(ds.count, 16, 200);
  for (let r = 0; r < ds.count; r++) index.addPoint(Array.from(ds.vectors.subarray(r * ds.dimension, (r + 1) * ds.dimension)), r);
  const buildMs = Math.round(performance.now() - started);
  log('hnswlib built in', buildMs, 'ms');
  const rows: PeerRow[] = [];
  // searchKnn is synchronous: it runs on the event loop, so only concurrency 1 is meaningful.
  for (const ef of [16, 32, 64, 128]) {
    index.setEf(ef);
    const got: number[][] = new Array(queries);
    const run = await runConcurrent(queries, 1, async (i) => {
      got[i] = index.searchKnn(Array.from(queryOf(ds, i)), K).neighbors;
    });
    rows.push({
      system: 'hnswlib-node (HNSW M=16)',
      scenario: `ef ${ef}`,
      concurrency: 1,
      recall: recallOf(got, truth, ds),
      latency: summarize(run.latencies, run.wallMs),
    });
    log('hnswlib', ef, rows.at(-1)!.recall, rows.at(-1)!.latency.p50);
  }
  return { rows, buildMs };
}
