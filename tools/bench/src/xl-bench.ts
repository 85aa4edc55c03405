/**
 * XL: a namespace larger than the node's memory budget, through the real server
 * (`npm run bench -- --size XL [--no-peers] [--no-cold-start] [--no-write]`):
 *
 * 1. the dataset: a seeded Gaussian mixture of 10,000,000 × 128 (`BENCH_XL_COUNT` for a smaller
 *    probe), values on a 1/4096 grid (xl-body.ts), and the exact top 10 of each held-out query
 *    (brute force by chunks);
 * 2. the server as `npm start` runs it, with `CONIFER_MEMORY_BUDGET=3GiB` (`BENCH_XL_BUDGET`) and
 *    rate limits off, everything else default; its RSS sampled every 250 ms from start to end;
 * 3. ingest through REST (`/vectors/upsert`, 1000 records per request, 4 in flight; the bodies
 *    written as the load generator goes), then the wait until flushed and compacted (the writer's
 *    own `compactionDue`);
 * 4. 2,000 unmeasured warm-up queries, then REST `/query` (topK 10, the server's default recall
 *    target) at concurrency 1, 8 and 32, recall@10 against the exact answers;
 * 5. cold (`--no-cold-start` skips): the server restarted three times, the first query after each
 *    (the namespace opens from the store), then the same through a simulated S3 bucket
 *    (`CONIFER_STORAGE_LATENCY=s3`);
 * 6. LanceDB embedded on the same vectors, IVF_FLAT, queried in-process (`--no-peers` skips).
 *
 * Writes tools/bench/results/XL.json and the XL section of docs/benchmarks.md.
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LIMITS } from '@conifer/core';
import { exactNeighbours } from '@conifer/index-builder';
import { gaussianMixture, queryOf, type Dataset } from './dataset.ts';
import { JsonClient } from './http-client.ts';
import { INDEX, waitSettledOverHttp } from './http.ts';
import { vectorJson } from './json-body.ts';
import { benchLanceDB, peersInstalled } from './peers.ts';
import { machine, writeSection } from './report.ts';
import { metricSeries, processRss, serverPreload, startServer, type ServerProcess } from './server-process.ts';
import { concurrencyRows, round2, runConcurrent, type QueryRow } from './stats.ts';
import { GridJsonEncoder, snapToGrid } from './xl-body.ts';

const K = 10;
const ROOT = new URL('../../../', import.meta.url).pathname;
const IN_FLIGHT = 4;
const WARMUP_QUERIES = 2_000;
const mib = (bytes: number) => Math.round(bytes / 2 ** 20);

export interface XlOptions {
  queries: number;
  peers: boolean;
  coldStart: boolean;
  write: boolean;
}

const log = (...parts: unknown[]) => console.error(`[bench XL ${new Date().toISOString().slice(11, 19)}]`, ...parts);

/** The server's RSS, sampled every 250 ms: the peak of each phase and of the whole run. */
class RssSampler {
  readonly #timer: NodeJS.Timeout;
  #pid: number;
  #phase = 'start';
  readonly peaks = new Map<string, number>();

  constructor(pid: number) {
    this.#pid = pid;
    this.#timer = setInterval(() => this.sample(), 250);
  }

  follow(pid: number): void {
    this.#pid = pid;
  }

  phase(name: string): void {
    this.sample();
    this.#phase = name;
  }

  sample(): void {
    const bytes = processRss(this.#pid);
    if (bytes === undefined) return;
    this.peaks.set(this.#phase, Math.max(this.peaks.get(this.#phase) ?? 0, bytes));
  }

  stop(): { peakMiB: number; byPhaseMiB: Record<string, number> } {
    clearInterval(this.#timer);
    this.sample();
    return {
      peakMiB: mib(Math.max(...this.peaks.values())),
      byPhaseMiB: Object.fromEntries([...this.peaks].map(([phase, bytes]) => [phase, mib(bytes)])),
    };
  }
}

/** The memory series of the server's /metrics (budget, held by kind, moves of slab vectors). */
const memoryMetrics = (url: string) => metricSeries(url, /conifer_memory_\w+|conifer_slab_vectors_moves|conifer_slab_pages_read_bytes/);

export async function runXlBench(options: XlOptions): Promise<void> {
  const count = Number(process.env['BENCH_XL_COUNT'] ?? 10_000_000);
  const budget = process.env['BENCH_XL_BUDGET'] ?? '3GiB';
  const dimension = 128;
  const facts: Record<string, unknown> = { budget };
  const rows: QueryRow[] = [];

  let t = performance.now();
  const ds = gaussianMixture('XL', count, dimension, options.queries);
  snapToGrid(ds.vectors);
  snapToGrid(ds.queries);
  log(`dataset ${count} × ${dimension} in ${Math.round(performance.now() - t)} ms`);
  t = performance.now();
  const truth = await exactNeighbours(ds.vectors, dimension, 'l2', ds.queries, K, 262_144);
  log(`ground truth in ${Math.round(performance.now() - t)} ms`);

  const dir = mkdtempSync(join(tmpdir(), 'conifer-bench-xl-'));
  const env = { CONIFER_RATE_LIMITS: 'off', CONIFER_INDEX_HOSTS: 'paths', CONIFER_MEMORY_BUDGET: budget };
  facts['serverEnv'] = env;
  facts['serverAllocator'] = serverPreload() ?? 'glibc malloc';
  let server: ServerProcess | undefined;
  let client: JsonClient | undefined;
  const start = async (more: Record<string, string> = {}) => {
    server = await startServer({ dataDir: dir, env: { ...env, ...more }, timeoutMs: 300_000 });
    client?.close();
    client = new JsonClient(server.url, server.apiKey);
    return { server, client };
  };
  try {
    const up = await start();
    const rss = new RssSampler(up.server.pid);
    facts['rssAtStartMiB'] = mib(processRss(up.server.pid) ?? 0);
    const created = (await up.client.call(
      'POST',
      '/indexes',
      JSON.stringify({ name: INDEX, dimension, metric: 'euclidean', spec: { serverless: { cloud: 'aws', region: 'us-east-1' } } }),
    )) as { host: string };
    const host = new URL(created.host).pathname.replace(/\/+$/, '');

    // 3. ingest, then settle
    rss.phase('ingest');
    await ingest(up.client, host, ds, facts);
    rss.phase('settle');
    await waitSettledOverHttp(up.client, dimension, facts, 4 * 3_600_000);
    log('settled in', facts['httpSettleMs'], 'ms:', facts['httpSlabs']);
    facts['memoryAfterSettle'] = await memoryMetrics(up.server.url);

    // 4. warm queries
    rss.phase('queries');
    rows.push(...(await queryRows(up.client, host, ds, truth, options.queries, 'REST /query, default target, warm')));
    facts['memoryAfterQueries'] = await memoryMetrics(up.server.url);

    // 5. cold
    if (options.coldStart) {
      for (const latency of [undefined, 's3'] as const) {
        const firsts: number[] = [];
        for (let round = 0; round < 3; round++) {
          await server!.stop();
          const again = await start(latency ? { CONIFER_STORAGE_LATENCY: latency } : {});
          rss.follow(again.server.pid);
          rss.phase(latency ? 'cold (simulated S3)' : 'cold');
          const body = Buffer.from(`{"topK":${K},"vector":${vectorJson(queryOf(ds, round))}}`);
          const started = performance.now();
          await again.client.call('POST', `${host}/query`, body);
          firsts.push(round2(performance.now() - started));
        }
        facts[latency ? 'coldFirstQueryS3LatencyMs' : 'coldFirstQueryMs'] = firsts;
        log(latency ? 'cold, simulated S3:' : 'cold, local disk:', firsts, 'ms');
      }
    }
    await server!.stop();
    server = undefined;
    facts['rss'] = rss.stop();
    log('rss', facts['rss']);
  } finally {
    client?.close();
    await server?.stop();
    // BENCH_XL_KEEP=1 leaves the store for probes (a server started on it with CONIFER_DATA_DIR).
    if (process.env['BENCH_XL_KEEP'] === '1') log('data directory kept:', dir);
    else rmSync(dir, { recursive: true, force: true });
  }

  const command = `npm run bench -- --size XL${options.peers ? '' : ' --no-peers'}${options.coldStart ? '' : ' --no-cold-start'}`;
  const result = {
    size: 'XL',
    at: `${new Date().toISOString().slice(0, 16)}Z`,
    dataset: { name: ds.name, source: ds.source, count, dimension, queries: options.queries },
    machine: machine(),
    command,
    rows,
    facts,
  };
  console.log(JSON.stringify(result, null, 2));
  // Conifer's figures are written before the peers run, so a peer's failure does not lose them.
  if (options.write) writeXlReport(result);

  // 6. LanceDB on the same vectors
  if (options.peers && peersInstalled()) {
    const nlist = 2 ** Math.round(Math.log2(Math.sqrt(count)));
    const lance = await benchLanceDB(ds, truth, nlist, options.queries, log);
    rows.push(...lance.rows);
    facts['lancedbBuildMs'] = lance.buildMs;
    console.log(JSON.stringify(result, null, 2));
    if (options.write) writeXlReport(result);
  }
}

type XlResult = {
  at: string;
  dataset: { count: number; dimension: number; queries: number };
  machine: string;
  command: string;
  rows: QueryRow[];
  facts: Record<string, unknown>;
};

/** tools/bench/results/XL.json and the XL section of docs/benchmarks.md. */
export function writeXlReport(result: XlResult): void {
  mkdirSync(join(ROOT, 'tools/bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'tools/bench/results/XL.json'), JSON.stringify(result, null, 2) + '\n');
  writeSection('XL', markdownOf(result));
}

/** Every record through REST upserts of 1000, IN_FLIGHT at once, the bodies written as it goes. */
async function ingest(client: JsonClient, host: string, ds: Dataset, facts: Record<string, unknown>): Promise<void> {
  const encoder = new GridJsonEncoder();
  const perRequest = LIMITS.maxUpsertRecords;
  let cursor = 0;
  let encodeMs = 0;
  let lastLog = performance.now();
  const run = await runConcurrent(IN_FLIGHT, IN_FLIGHT, async () => {
    while (cursor < ds.count) {
      const from = cursor;
      const to = Math.min(ds.count, from + perRequest);
      cursor = to;
      const t = performance.now();
      const body = encoder.upsertBody(ds.vectors, ds.buckets, ds.dimension, from, to, LIMITS.maxRequestBytes);
      encodeMs += performance.now() - t;
      const res = (await client.call('POST', `${host}/vectors/upsert`, body)) as { upsertedCount: number };
      if (res.upsertedCount !== to - from) throw new Error(`upsert acknowledged ${res.upsertedCount} of ${to - from} records`);
      if (performance.now() - lastLog > 30_000) {
        lastLog = performance.now();
        log(`ingest: ${cursor} records sent`);
      }
    }
  });
  facts['ingestVectorsPerSecond'] = Math.round((ds.count / run.wallMs) * 1000);
  facts['ingestClientEncodeMs'] = Math.round(encodeMs);
  log('ingest', facts['ingestVectorsPerSecond'], 'vectors/s; client encoding', facts['ingestClientEncodeMs'], 'ms');
}

async function queryRows(client: JsonClient, host: string, ds: Dataset, truth: Int32Array, queries: number, scenario: string): Promise<QueryRow[]> {
  const bodies = Array.from({ length: Math.min(queries, ds.queryCount) }, (_, i) => Buffer.from(`{"topK":${K},"vector":${vectorJson(queryOf(ds, i))}}`));
  const query = async (i: number): Promise<number[]> =>
    ((await client.call('POST', `${host}/query`, bodies[i % bodies.length])) as { matches: { id: string }[] }).matches.map((m) => Number(m.id));
  await runConcurrent(WARMUP_QUERIES, 32, async (i) => void (await query(i)));
  return concurrencyRows({ system: 'conifer (HTTP)', scenario }, Math.max(queries, 2_000), query, { k: K, ids: truth, queryCount: ds.queryCount }, log);
}

function markdownOf(result: XlResult): string {
  const f = result.facts;
  const rss = f['rss'] as { peakMiB: number; byPhaseMiB: Record<string, number> } | undefined;
  const lines = [
    `### Synthetic XL, a namespace larger than the memory budget (${result.dataset.count.toLocaleString('en-US')} × ${result.dataset.dimension}, ${result.dataset.queries} held-out queries, k=10)`,
    '',
    `\`${result.command}\` on ${result.machine}, ${result.at}; the server with \`CONIFER_MEMORY_BUDGET=${String(f['budget'])}\`, everything else default, on ${f['serverAllocator'] === 'glibc malloc' || f['serverAllocator'] === undefined ? "glibc's malloc" : `\`${String(f['serverAllocator'])}\` (as \`npm start\` runs it)`}.`,
    '',
    '| | measured |',
    '|---|---|',
    `| ingest through REST (1000 records per request, 4 in flight) | ${String(f['ingestVectorsPerSecond'])} vectors/s (client encoding ${String(f['ingestClientEncodeMs'])} ms) |`,
    `| settle (flushes and compactions after the last ack) | ${String(f['httpSettleMs'])} ms; slabs: ${(f['httpSlabs'] as string[] | undefined)?.join(', ') ?? '–'} |`,
    `| server RSS at start / peak | ${String(f['rssAtStartMiB'])} / ${rss?.peakMiB ?? '–'} MiB (by phase: ${
      rss
        ? Object.entries(rss.byPhaseMiB)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')
        : '–'
    }) |`,
    ...(f['coldFirstQueryMs'] ? [`| first query after a restart, local disk (3 restarts) | ${(f['coldFirstQueryMs'] as number[]).join(', ')} ms |`] : []),
    ...(f['coldFirstQueryS3LatencyMs']
      ? [`| first query after a restart, simulated S3 (3 restarts) | ${(f['coldFirstQueryS3LatencyMs'] as number[]).join(', ')} ms |`]
      : []),
    ...(f['lancedbBuildMs'] ? [`| LanceDB: table and IVF_FLAT index built in | ${String(f['lancedbBuildMs'])} ms |`] : []),
    '',
    '| system | scenario | concurrency | recall@10 | p50 ms | p99 ms | QPS |',
    '|---|---|---:|---:|---:|---:|---:|',
    ...result.rows.map(
      (r) =>
        `| ${r.system} | ${r.scenario} | ${r.concurrency} | ${r.recall.toFixed(3)} | ${r.latency.p50.toFixed(2)} | ${r.latency.p99.toFixed(2)} | ${Math.round(r.latency.qps)} |`,
    ),
    '',
  ];
  return lines.join('\n');
}
