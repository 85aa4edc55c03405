/**
 * The benchmark run (see main.ts for the command line).
 *
 * Runs, in one process and one run: exact ground truth (faiss Flat), Conifer's engine over a
 * local-disk store (ingest, freshness, compaction into ANN slabs, query latency / QPS / recall at
 * concurrency 1, 8, 32 for several recall targets, filtered queries at 1/10/50/99% selectivity,
 * event-loop delay) and raw faiss in-process with the same index type (the ceiling). Writes JSON
 * to tools/bench/results/<size>.json and a markdown section into docs/benchmarks.md.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine } from '@conifer/engine';
import { FaissIndex, setThreads } from '@conifer/faiss';
import { FsObjectStore } from '@conifer/storage';
import { gaussianMixture, SIZES, type Dataset, type SizeName } from './dataset.ts';
import { benchHnswlib, benchLanceDB, peersInstalled } from './peers.ts';
import { recallAt, runConcurrent, summarize, type LatencySummary } from './stats.ts';

const K = 10;
let QUERIES = 500;
let size: SizeName = 'S';
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface QueryRow {
  system: string;
  scenario: string;
  concurrency: number;
  recall: number;
  latency: LatencySummary;
}

let log = (...parts: unknown[]) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...parts);

async function groundTruth(ds: Dataset, allowed?: (row: number) => boolean): Promise<Int32Array> {
  const flat = FaissIndex.create(ds.dimension, 'Flat', 'l2');
  try {
    await flat.add(ds.vectors);
    let bitmap: Uint8Array | undefined;
    if (allowed) {
      bitmap = new Uint8Array((ds.count + 7) >> 3);
      for (let r = 0; r < ds.count; r++) if (allowed(r)) bitmap[r >> 3]! |= 1 << (r & 7);
    }
    const { labels } = await flat.search(ds.queries, K, bitmap ? { allowed: bitmap } : {});
    return labels;
  } finally {
    flat.dispose();
  }
}

async function benchConifer(ds: Dataset, truth: Int32Array, filteredTruth: Map<number, Int32Array>, rows: QueryRow[], facts: Record<string, unknown>) {
  const dir = mkdtempSync(join(tmpdir(), 'conifer-bench-'));
  // Trigger 2: every pair of L0 slabs is compacted, so the data reaches the ANN tier at every size.
  const config = { compaction: { trigger: 2, maxMerge: 8 } };
  facts['engineConfig'] = config;
  const engine = new Engine({ store: new FsObjectStore(dir), config });
  const index = { id: 'idx_bench', dimension: ds.dimension, metric: 'euclidean' as const };
  const ns = '';
  const memBefore = memorySnapshot();
  try {
    // Ingest: batches of 1000, 4 in flight, acknowledged vectors per second. The stall probe
    // covers ingest and the flushes / compactions / ANN builds it triggers.
    const writeStall = stallProbe();
    const batches = Math.ceil(ds.count / 1000);
    const ingest = await runConcurrent(batches, 4, async (b) => {
      const records = [];
      for (let r = b * 1000; r < Math.min(ds.count, (b + 1) * 1000); r++) {
        records.push({ id: String(r), values: ds.vectors.subarray(r * ds.dimension, (r + 1) * ds.dimension), metadata: { bucket: ds.buckets[r]! } });
      }
      await engine.upsert(index, ns, records);
    });
    facts['ingestVectorsPerSecond'] = Math.round((ds.count / ingest.wallMs) * 1000);
    facts['ingestBatchAckMs'] = summarize(ingest.latencies, ingest.wallMs);
    log('ingest', facts['ingestVectorsPerSecond'], 'vectors/s');

    const settleStart = performance.now();
    await engine.flush(index, ns);
    facts['settleMs'] = Math.round(performance.now() - settleStart);
    facts['eventLoopStallDuringIngestAndCompactionMs'] = writeStall.stop();
    const internals = await engine.describeNamespace(index, ns);
    facts['slabs'] = internals.slabs.map((s) => `L${s.level} ${s.records} ${s.index}`);
    // After a full GC: what the namespace really holds (slab buffers, faiss indexes, ids, metadata).
    const memAfter = memorySnapshot();
    facts['memoryMiBPerMillionVectors'] = Math.round(((memAfter - memBefore) / 2 ** 20) * (1e6 / ds.count));
    log('settled in', facts['settleMs'], 'ms:', facts['slabs']);

    // Freshness: an upsert is acknowledged, then the next query must find it.
    const fresh: number[] = [];
    for (let i = 0; i < 100; i++) {
      const v = ds.queries.subarray((i % ds.queryCount) * ds.dimension, ((i % ds.queryCount) + 1) * ds.dimension);
      const t = performance.now();
      await engine.upsert(index, ns, [{ id: `fresh-${i}`, values: v }]);
      const got = await engine.query(index, ns, { vector: v, topK: 1 });
      if (got.matches[0]?.id !== `fresh-${i}`) throw new Error('freshness: acknowledged write not visible');
      fresh.push(performance.now() - t);
    }
    await engine.delete(index, ns, { ids: Array.from({ length: 100 }, (_, i) => `fresh-${i}`) });
    facts['freshnessAckToVisibleMs'] = summarize(fresh, fresh.reduce((a, b) => a + b, 0));

    const queryOf = (i: number) => ds.queries.subarray((i % ds.queryCount) * ds.dimension, ((i % ds.queryCount) + 1) * ds.dimension);
    const stall = stallProbe();
    for (const target of [0.9, 0.95, 0.99]) {
      for (const concurrency of [1, 8, 32]) {
        const got: number[][] = new Array(QUERIES);
        const run = await runConcurrent(QUERIES, concurrency, async (i) => {
          const res = await engine.query(index, ns, { vector: queryOf(i), topK: K, recallTarget: target });
          got[i] = res.matches.map((m) => Number(m.id));
        });
        const recall = got.reduce((s, g, i) => s + recallAt(K, truth.subarray((i % ds.queryCount) * K, (i % ds.queryCount + 1) * K), g), 0) / QUERIES;
        rows.push({ system: 'conifer (engine)', scenario: `target ${target}`, concurrency, recall, latency: summarize(run.latencies, run.wallMs) });
        log('conifer target', target, 'c', concurrency, rows.at(-1));
      }
    }
    facts['eventLoopStallMaxMs'] = stall.stop();
    for (const [keep, ftruth] of filteredTruth) {
      const got: number[][] = new Array(QUERIES);
      const run = await runConcurrent(QUERIES, 1, async (i) => {
        const res = await engine.query(index, ns, { vector: queryOf(i), topK: K, filter: { bucket: { $lt: keep } } });
        got[i] = res.matches.map((m) => Number(m.id));
      });
      const recall = got.reduce((s, g, i) => s + recallAt(K, ftruth.subarray((i % ds.queryCount) * K, (i % ds.queryCount + 1) * K), g), 0) / QUERIES;
      rows.push({ system: 'conifer (engine)', scenario: `filter ${keep}%`, concurrency: 1, recall, latency: summarize(run.latencies, run.wallMs) });
      log('conifer filter', keep, rows.at(-1));
    }
  } finally {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchRawFaiss(ds: Dataset, truth: Int32Array, rows: QueryRow[], factory: string) {
  const index = FaissIndex.create(ds.dimension, factory, 'l2');
  try {
    setThreads(cpus().length);
    const nlist = Number(/^IVF(\d+)/.exec(factory)?.[1] ?? 1);
    const sample = ds.vectors.subarray(0, Math.min(ds.count, nlist * 40) * ds.dimension);
    await index.train(sample);
    await index.add(ds.vectors);
    setThreads(1);
    for (const nprobe of [4, 8, 16, 32]) {
      for (const concurrency of [1, 8, 32]) {
        const got: number[][] = new Array(QUERIES);
        const run = await runConcurrent(QUERIES, concurrency, async (i) => {
          const q = ds.queries.subarray((i % ds.queryCount) * ds.dimension, ((i % ds.queryCount) + 1) * ds.dimension);
          got[i] = Array.from((await index.search(q, K, { nprobe })).labels);
        });
        const recall = got.reduce((s, g, i) => s + recallAt(K, truth.subarray((i % ds.queryCount) * K, (i % ds.queryCount + 1) * K), g), 0) / QUERIES;
        rows.push({ system: `faiss in-process (${factory})`, scenario: `nprobe ${nprobe}`, concurrency, recall, latency: summarize(run.latencies, run.wallMs) });
        log('faiss nprobe', nprobe, 'c', concurrency, rows.at(-1));
      }
    }
  } finally {
    index.dispose();
  }
}

/**
 * Longest time the event loop went without running a 1 ms timer: how long a query (or anything
 * else) kept every other request waiting.
 */
function stallProbe(): { stop: () => number } {
  let last = performance.now();
  let worst = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last - 1);
    last = now;
  }, 1);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.round(worst * 10) / 10;
    },
  };
}

/** Heap + array buffers + native allocations (RSS) after a forced GC when --expose-gc is on. */
function memorySnapshot(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss;
}

function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpus().length} vCPU (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}`;
}

function markdown(ds: Dataset, rows: QueryRow[], facts: Record<string, unknown>): string {
  const f = (n: number) => (Number.isFinite(n) ? n.toFixed(n < 10 ? 2 : 0) : '—');
  const lines = [
    `### Synthetic ${size} (${ds.count.toLocaleString('en')} × ${ds.dimension}, Gaussian mixture, ${QUERIES} held-out queries, k=${K})`,
    '',
    `Machine: ${machine()}. Run: ${new Date().toISOString().slice(0, 16)}Z. Command: \`node tools/bench/src/main.ts --size ${size}\`.`,
    '',
    '| system | scenario | concurrency | recall@10 | p50 ms | p99 ms | QPS |',
    '|---|---|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.system} | ${r.scenario} | ${r.concurrency} | ${r.recall.toFixed(3)} | ${f(r.latency.p50)} | ${f(r.latency.p99)} | ${f(r.latency.qps)} |`),
    '',
    'Engine facts:',
    '',
    ...Object.entries(facts).map(([k, v]) => `- ${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`),
    '',
  ];
  return lines.join('\n');
}

function writeMarkdown(section: string) {
  const file = join(ROOT, 'docs/benchmarks.md');
  const begin = `<!-- bench:${size}:begin -->`;
  const end = `<!-- bench:${size}:end -->`;
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const block = `${begin}\n${section}${end}`;
  text = text.includes(begin) ? text.replace(new RegExp(`${begin}[\\s\\S]*?${end}`), block) : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, text);
}

export interface BenchOptions {
  size: SizeName;
  queries: number;
  /** Also run the peers (raw faiss in-process). */
  peers: boolean;
  /** Write docs/benchmarks.md and tools/bench/results. */
  write: boolean;
  quiet?: boolean;
}

export async function runBench(options: BenchOptions): Promise<{ rows: QueryRow[]; facts: Record<string, unknown> }> {
  size = options.size;
  QUERIES = options.queries;
  if (options.quiet) log = () => undefined;
  const { count, dimension } = SIZES[size];
  log(`dataset ${size}: ${count} × ${dimension}`);
  const ds = gaussianMixture(size, count, dimension, Math.min(QUERIES, 1000));
  const truth = await groundTruth(ds);
  const filteredTruth = new Map<number, Int32Array>();
  for (const keep of [1, 10, 50, 99]) filteredTruth.set(keep, await groundTruth(ds, (r) => ds.buckets[r]! < keep));
  log('ground truth ready');
  const rows: QueryRow[] = [];
  const facts: Record<string, unknown> = {};
  await benchConifer(ds, truth, filteredTruth, rows, facts);
  if (options.peers) {
    const nlist = Math.min(65_536, Math.max(16, 2 ** Math.round(Math.log2(4 * Math.sqrt(count)))));
    await benchRawFaiss(ds, truth, rows, dimension > 512 ? `IVF${nlist},SQ8` : `IVF${nlist},Flat`);
    if (peersInstalled()) {
      const lance = await benchLanceDB(ds, truth, nlist, QUERIES, log);
      rows.push(...lance.rows);
      facts['lancedbBuildMs'] = lance.buildMs;
      const hnsw = await benchHnswlib(ds, truth, QUERIES, log);
      rows.push(...hnsw.rows);
      facts['hnswlibBuildMs'] = hnsw.buildMs;
    } else {
      facts['peers'] = 'LanceDB and hnswlib-node not installed (npm run bench installs them into tools/bench/peers)';
    }
  }
  if (options.write) {
    mkdirSync(join(ROOT, 'tools/bench/results'), { recursive: true });
    writeFileSync(join(ROOT, `tools/bench/results/${size}.json`), JSON.stringify({ size, machine: machine(), rows, facts }, null, 2));
    writeMarkdown(markdown(ds, rows, facts));
    log('wrote docs/benchmarks.md and tools/bench/results');
  }
  return { rows, facts };
}
