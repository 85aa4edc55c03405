/**
 * `npm run bench:profile -- [--size XS|S|M] [--queries N] [--keep-profiles DIR]`: where the server's time goes on the
 * REST path. The server runs as a child process pinned to core 0 (`taskset`), this process and the
 * load generator on core 1, so the server has a core to itself and its profile shows only its own
 * work:
 *
 * 1. upsert profile: a server under `node --cpu-prof` takes the dataset through `POST
 *    /vectors/upsert` (1000 records per request, 4 in flight) and stops (a server without the
 *    profiler then settles); its main thread's CPU profile is split by phase (cpu-profile.ts);
 * 2. query profile: a server over the same data, under `--cpu-prof`, answers `N` queries at
 *    concurrency 32 from the pinned load generator;
 * 3. throughput without a profiler: queries at concurrency 1, 8 and 32, from the load generator
 *    in its own pinned process and from a generator inside this process (as `npm run bench`'s HTTP
 *    rows do).
 *
 * Writes the section `profile-<size>` of docs/benchmarks.md and tools/bench/results/profile-<size>.json.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { breakdown, breakdownTable, monotonicUs, readProfile, topFunctions, type PhaseBreakdown, type Window } from './cpu-profile.ts';
import { isDatasetName, queryOf, type DatasetName } from './dataset.ts';
import { groundTruth } from './ground-truth.ts';
import { JsonClient } from './http-client.ts';
import { ingestOverHttp, INDEX, SERVER_ENV, waitSettledOverHttp } from './http.ts';
import { recordJson, vectorJson } from './json-body.ts';
import { pinProcess, runLoadGenerator, type LoadResult } from './load-generator.ts';
import { machine, writeSection } from './report.ts';
import { loadDataset } from './run.ts';
import { startServer, type ServerProcess } from './server-process.ts';
import { meanRecall, summarize } from './stats.ts';

const args = process.argv.slice(2);
const valueOf = (flag: string) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
const size = valueOf('--size') ?? 'S';
const profiledQueries = Number(valueOf('--queries') ?? 20_000);
/** `--keep-profiles DIR`: copy the raw .cpuprofile files there (open them in Chrome's DevTools). */
const keepProfiles = valueOf('--keep-profiles');
if (!isDatasetName(size) || !['XS', 'S', 'M'].includes(size) || !(profiledQueries > 0)) {
  console.error('usage: http-profile.ts [--size XS|S|M] [--queries N]');
  process.exit(2);
}
const K = 10;
const SERVER_CPU = '0';
const CLIENT_CPU = '1';
const ROOT = join(import.meta.dirname, '..', '..', '..');
const log = (...parts: unknown[]) => console.error(new Date().toISOString().slice(11, 19), ...parts);

async function profiledServer(dataDir: string, profileDir: string): Promise<ServerProcess> {
  mkdirSync(profileDir, { recursive: true });
  const server = await startServer({ dataDir, env: { ...SERVER_ENV, NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir}` } });
  pinProcess(server.pid, SERVER_CPU);
  return server;
}

type Hotspot = ReturnType<typeof topFunctions>[number];

async function stopAndRead(
  server: ServerProcess,
  profileDir: string,
  mode: 'query' | 'upsert',
  window: Window,
): Promise<PhaseBreakdown & { hotspots: Hotspot[] }> {
  await server.stop();
  const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no CPU profile in ${profileDir}`);
  const profile = readProfile(join(profileDir, file));
  if (keepProfiles) {
    mkdirSync(keepProfiles, { recursive: true });
    copyFileSync(join(profileDir, file), join(keepProfiles, `${mode}.cpuprofile`));
  }
  return { ...breakdown(profile, mode, window), hotspots: topFunctions(profile, mode, 12, window) };
}

function hotspotTable(hotspots: Hotspot[], busyMs: number): string {
  return [
    '| function (self time) | phase | share of busy time |',
    '|---|---|---:|',
    ...hotspots.map((h) => `| \`${h.name.replaceAll('|', '\\|')}\` | ${h.phase} | ${((100 * h.ms) / busyMs).toFixed(1)}% |`),
  ].join('\n');
}

/** Record i's vector, as ingested. */
const queryOfRecord = (i: number): Float32Array => ds.vectors.subarray(i * ds.dimension, (i + 1) * ds.dimension);

pinProcess(process.pid, CLIENT_CPU);
const ds = loadDataset(size as DatasetName, 500);
log(`dataset ${ds.name}: ${ds.count} × ${ds.dimension}`);
const { truth } = await groundTruth(ds, []);
const work = mkdtempSync(join(tmpdir(), 'conifer-profile-'));
const dataDir = join(work, 'data');
const facts: Record<string, unknown> = { serverCpu: SERVER_CPU, clientCpu: CLIENT_CPU };
try {
  // 1. Upserts.
  const upsertServer = await profiledServer(dataDir, join(work, 'upsert'));
  const upsertClient = new JsonClient(upsertServer.url, upsertServer.apiKey);
  const created = (await upsertClient.call(
    'POST',
    '/indexes',
    JSON.stringify({ name: INDEX, dimension: ds.dimension, metric: 'euclidean', spec: { serverless: { cloud: 'aws', region: 'us-east-1' } } }),
  )) as { host: string };
  const host = new URL(created.host).pathname.replace(/\/+$/, '');
  const ingestFrom = monotonicUs();
  await ingestOverHttp(upsertClient, host, ds, facts, log);
  const ingestWindow = { fromUs: ingestFrom, toUs: monotonicUs() };
  upsertClient.close();
  // Stopped as soon as the last upsert is acknowledged: the profile holds the ingest and the
  // shutdown's flush, not the settle wait's polling. A server without the profiler settles.
  const upsertRequests = (facts['httpIngestRecordsPerRequest'] as { requests: number }).requests;
  const upsert = await stopAndRead(upsertServer, join(work, 'upsert'), 'upsert', ingestWindow);
  log('upsert profile', upsert);
  const settling = await startServer({ dataDir, env: SERVER_ENV });
  const settleClient = new JsonClient(settling.url, settling.apiKey);
  // A restarted node takes a namespace over (and compacts it) on its first write: write the first
  // record again, unchanged.
  await settleClient.call('POST', `${host}/vectors/upsert`, `{"vectors":[${recordJson('0', queryOfRecord(0), ds.buckets[0])}]}`);
  await waitSettledOverHttp(settleClient, ds.dimension, facts, 3_600_000);
  settleClient.close();
  await settling.stop();

  // 2. Queries under the profiler.
  const bodiesFile = join(work, 'queries.jsonl');
  writeFileSync(bodiesFile, Array.from({ length: ds.queryCount }, (_, i) => `{"topK":${K},"vector":${vectorJson(queryOf(ds, i))}}`).join('\n'));
  const job = (server: ServerProcess, concurrency: number, requests: number) => ({
    url: server.url,
    apiKey: server.apiKey,
    path: `${host}/query`,
    bodiesFile,
    requests,
    concurrency,
    warmup: 64,
  });
  const queryServer = await profiledServer(dataDir, join(work, 'query'));
  const queryFrom = monotonicUs();
  const profiled = await runLoadGenerator(job(queryServer, 32, profiledQueries), CLIENT_CPU);
  const query = await stopAndRead(queryServer, join(work, 'query'), 'query', { fromUs: queryFrom, toUs: monotonicUs() });
  facts['profiledQueries'] = { requests: profiledQueries, concurrency: 32, qps: Math.round((profiledQueries / profiled.wallMs) * 1000) };
  log('query profile', query);

  // 3. Throughput both ways, no profiler.
  const server = await startServer({ dataDir, env: SERVER_ENV });
  pinProcess(server.pid, SERVER_CPU);
  const rows: { client: string; concurrency: number; recall: number; latency: ReturnType<typeof summarize> }[] = [];
  const record = (client: string, concurrency: number, result: LoadResult) => {
    rows.push({ client, concurrency, recall: meanRecall(K, result.matchIds, truth, ds.queryCount), latency: summarize(result.latencies, result.wallMs) });
    log(client, concurrency, rows.at(-1));
  };
  for (const concurrency of [1, 8, 32]) {
    const requests = concurrency === 1 ? 2_000 : 10_000;
    record(
      `load generator in its own process, pinned to core ${CLIENT_CPU}`,
      concurrency,
      await runLoadGenerator(job(server, concurrency, requests), CLIENT_CPU),
    );
    record('load generator unpinned (both cores)', concurrency, await runLoadGenerator(job(server, concurrency, requests)));
  }
  await server.stop();

  const json = {
    size,
    machine: machine(),
    command: `npm run bench:profile -- --size ${size}`,
    date: new Date().toISOString(),
    upsert: { ...upsert, requests: upsertRequests },
    query: { ...query, requests: profiledQueries },
    rows,
    facts,
  };
  mkdirSync(join(ROOT, 'tools/bench/results'), { recursive: true });
  writeFileSync(join(ROOT, `tools/bench/results/profile-${size}.json`), `${JSON.stringify(json, null, 2)}\n`);
  writeSection(`profile-${size}`, markdownOf(json));
  log('written: docs/benchmarks.md section profile-' + size);
} finally {
  rmSync(work, { recursive: true, force: true });
}

function markdownOf(r: {
  upsert: PhaseBreakdown & { requests: number; hotspots: Hotspot[] };
  query: PhaseBreakdown & { requests: number; hotspots: Hotspot[] };
  rows: { client: string; concurrency: number; recall: number; latency: ReturnType<typeof summarize> }[];
  facts: Record<string, unknown>;
  machine: string;
  command: string;
  date: string;
}): string {
  const qpsRows = r.rows.map(
    (row) =>
      `| ${row.client} | ${row.concurrency} | ${row.recall.toFixed(3)} | ${row.latency.p50.toFixed(2)} | ${row.latency.p99.toFixed(2)} | ${Math.round(row.latency.qps)} |`,
  );
  return [
    `### Server path profile, ${ds.name} (${ds.count.toLocaleString('en')} × ${ds.dimension})`,
    '',
    `Machine: ${r.machine}. Run: ${r.date.slice(0, 16)}Z. Command: \`${r.command}\`. The server is pinned to core ${SERVER_CPU}, the load generator to core ${CLIENT_CPU}; CPU time of the server's main thread (its event loop), by phase, from \`node --cpu-prof\` (tools/bench/src/cpu-profile.ts says which code belongs to which phase). On one core the server has no upsert parser threads (\`CONIFER_UPSERT_PARSE_THREADS\` defaults to cores − 1): its event loop reads every body, as here.`,
    '',
    `**Query** (\`POST /query\`, topK ${K}, concurrency 32, ${r.query.requests.toLocaleString('en')} requests (warm-up included, server start excluded), ${(r.facts['profiledQueries'] as { qps: number }).qps} QPS under the profiler; main thread busy ${((100 * r.query.busyMs) / (r.query.busyMs + r.query.idleMs)).toFixed(0)}% of the time):`,
    '',
    breakdownTable(r.query, r.query.requests),
    '',
    hotspotTable(r.query.hotspots, r.query.busyMs),
    '',
    `**Upsert** (\`POST /vectors/upsert\`, 1000 records per request, 4 in flight, ${r.upsert.requests} requests, ${r.facts['httpIngestVectorsPerSecond']} vectors/s under the profiler; from the first request to the last acknowledgement, so the flushes that ran meanwhile count; main thread busy ${((100 * r.upsert.busyMs) / (r.upsert.busyMs + r.upsert.idleMs)).toFixed(0)}% of the time):`,
    '',
    breakdownTable(r.upsert, r.upsert.requests),
    '',
    hotspotTable(r.upsert.hotspots, r.upsert.busyMs),
    '',
    'Query throughput over the same data without the profiler, the load generator pinned to its own core and unpinned:',
    '',
    '| client | concurrency | recall@10 | p50 ms | p99 ms | QPS |',
    '|---|---:|---:|---:|---:|---:|',
    ...qpsRows,
    '',
  ].join('\n');
}
