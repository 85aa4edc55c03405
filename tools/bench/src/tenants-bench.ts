/**
 * Many small tenants in one index, on one server process (the serverless-scale issue's "tenants"
 * figure):
 *
 *   node tools/bench/src/tenants-bench.ts [--namespaces 100000] [--vectors 100] [--dimension 128]
 *                                         [--queries 1000] [--hot 1000] [--budget 3GiB]
 *                                         [--cold-latency s3]
 *
 * 1. write: every namespace gets its `--vectors` records in one REST upsert (8 in flight), while
 *    the server's RSS is sampled every 250 ms (peak and end);
 * 2. cached: `--hot` namespaces are each read once, then `--queries` queries at concurrency 1 go to
 *    random ones among them;
 * 3. cold: the server restarts (SIGTERM, then the same data directory), and `--queries` queries at
 *    concurrency 1 go to namespaces not read since the restart;
 * 4. mixed: `--queries` more to random namespaces of all of them;
 * 5. with `--cold-latency`, the server restarts once more with CONIFER_STORAGE_LATENCY set to it
 *    (simulated bucket latency in front of the same local store), and `--queries` queries go to
 *    namespaces no phase has read yet.
 *
 * Every query is one of the namespace's own vectors (regenerated from its seed), so its top match
 * must be that record: each answer is checked, and a wrong one counts as an error. The server runs
 * as `npm start` does (rate limits off); `--budget` sets CONIFER_MEMORY_BUDGET. Prints JSON.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mulberry32 } from '@conifer/core';
import { JsonClient } from './http-client.ts';
import { positiveIntArg } from './args.ts';
import { metricSeries, processRss, startServer, type ServerProcess } from './server-process.ts';
import { summarize } from './stats.ts';

const namespaces = positiveIntArg('--namespaces', 100_000);
const perNamespace = positiveIntArg('--vectors', 100);
const dimension = positiveIntArg('--dimension', 128);
const queryCount = positiveIntArg('--queries', 1000);
const hot = Math.min(namespaces, positiveIntArg('--hot', 1000));
const budgetAt = process.argv.indexOf('--budget');
const budget = budgetAt === -1 ? undefined : process.argv[budgetAt + 1];
const latencyAt = process.argv.indexOf('--cold-latency');
const coldLatency = latencyAt === -1 ? undefined : process.argv[latencyAt + 1];
const IN_FLIGHT = 8;

const log = (...parts: unknown[]) => console.error(`[tenants-bench ${new Date().toISOString().slice(11, 19)}]`, ...parts);
const mib = (bytes: number | undefined) => (bytes === undefined ? undefined : Math.round(bytes / 2 ** 20));

/** Vector `i` of namespace `n`: uniform in [-1, 1), seeded by both, so queries can regenerate it. */
function vectorOf(n: number, i: number): number[] {
  const random = mulberry32(n * 7919 + i * 104_729 + 1);
  return Array.from({ length: dimension }, () => Math.fround(random() * 2 - 1));
}

/** Samples a process's RSS until stopped; the peak and the last sample. */
function rssSampler(pid: number) {
  let peak = 0;
  let last = 0;
  const timer = setInterval(() => {
    last = processRss(pid) ?? 0;
    peak = Math.max(peak, last);
  }, 250);
  return {
    stop: () => {
      clearInterval(timer);
      last = processRss(pid) ?? last;
      return { peakMiB: mib(Math.max(peak, last)), endMiB: mib(last) };
    },
  };
}

/** The memory series of the server's /metrics (budget, held by kind, open and closed namespaces). */
const memoryMetrics = (url: string) => metricSeries(url, /conifer_memory_\w+|conifer_namespaces_\w+/);

/** Files under `dir` (the local store's objects: this one index's), recursively. */
async function countFiles(dir: string): Promise<number> {
  let n = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) if (entry.isFile()) n++;
  return n;
}

const work = await mkdtemp(join(tmpdir(), 'conifer-tenants-bench-'));
const env: Record<string, string> = { CONIFER_INDEX_HOSTS: 'paths', CONIFER_RATE_LIMITS: 'off', ...(budget ? { CONIFER_MEMORY_BUDGET: budget } : {}) };
const start = (more: Record<string, string> = {}) => startServer({ dataDir: join(work, 'data'), env: { ...env, ...more }, timeoutMs: 300_000 });
let server: ServerProcess | undefined;
try {
  server = await start();
  let client = new JsonClient(server.url, server.apiKey);
  const created = (await client.call(
    'POST',
    '/indexes',
    JSON.stringify({ name: 'tenants', dimension, metric: 'euclidean', spec: { serverless: { cloud: 'aws', region: 'us-east-1' } } }),
  )) as { host: string };
  const host = new URL(created.host).pathname.replace(/\/+$/, '');
  const startRss = mib(processRss(server.pid));

  // 1. write
  const writeRss = rssSampler(server.pid);
  const writeStarted = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      for (let n = next++; n < namespaces; n = next++) {
        const vectors = Array.from({ length: perNamespace }, (_, i) => ({ id: `v${i}`, values: vectorOf(n, i) }));
        await client.call('POST', `${host}/vectors/upsert`, JSON.stringify({ namespace: `t${n}`, vectors }));
        if (n % 10_000 === 9_999) log(`wrote ${n + 1} namespaces, RSS ${mib(processRss(server!.pid))} MiB`);
      }
    }),
  );
  const writeSeconds = (performance.now() - writeStarted) / 1000;
  const write = { seconds: Math.round(writeSeconds * 10) / 10, vectorsPerSecond: Math.round((namespaces * perNamespace) / writeSeconds), rss: writeRss.stop() };
  const afterWrite = await memoryMetrics(server.url);
  log(`write: ${JSON.stringify(write)}; ${JSON.stringify(afterWrite)}`);

  const random = mulberry32(0x7e4a47);
  const pick = (n: number) => Math.floor(random() * n);
  let wrong = 0;
  const timedQueries = async (namespaceOf: (q: number) => number) => {
    const latencies: number[] = [];
    const started = performance.now();
    for (let q = 0; q < queryCount; q++) {
      const n = namespaceOf(q);
      const i = pick(perNamespace);
      const body = JSON.stringify({ namespace: `t${n}`, topK: 10, vector: vectorOf(n, i) });
      const t = performance.now();
      const answer = (await client.call('POST', `${host}/query`, body)) as { matches: { id: string }[] };
      latencies.push(performance.now() - t);
      if (answer.matches[0]?.id !== `v${i}`) wrong++;
    }
    const s = summarize(latencies, performance.now() - started);
    return { p50Ms: Math.round(s.p50 * 100) / 100, p99Ms: Math.round(s.p99 * 100) / 100, rssMiB: mib(processRss(server!.pid)) };
  };

  // 2. cached
  const hotSet = Array.from({ length: hot }, () => pick(namespaces));
  for (const n of hotSet) await client.call('POST', `${host}/query`, JSON.stringify({ namespace: `t${n}`, topK: 1, vector: vectorOf(n, 0) }));
  const cached = await timedQueries(() => hotSet[pick(hot)]!);
  log(`cached: ${JSON.stringify(cached)}`);

  // 3. cold, after a restart (a clean stop flushes every open namespace)
  await server.stop();
  const objectsPerNamespace = Math.round(((await countFiles(join(work, 'data', 'objects'))) / namespaces) * 10) / 10;
  server = await start();
  client = new JsonClient(server.url, server.apiKey);
  const restartRss = mib(processRss(server.pid));
  // Namespaces read since the restart: a cold query goes to one that is not.
  const touched = new Set<number>();
  const untouched = () => {
    let n: number;
    do n = pick(namespaces);
    while (touched.has(n) && touched.size < namespaces);
    touched.add(n);
    return n;
  };
  const cold = await timedQueries(untouched);
  log(`cold: ${JSON.stringify(cold)}`);

  // 4. mixed
  const mixed = await timedQueries(() => {
    const n = pick(namespaces);
    touched.add(n);
    return n;
  });
  const afterMixed = await memoryMetrics(server.url);
  log(`mixed: ${JSON.stringify(mixed)}; ${JSON.stringify(afterMixed)}`);

  // 5. cold from a simulated bucket
  let coldFromBucket: Awaited<ReturnType<typeof timedQueries>> | undefined;
  if (coldLatency !== undefined) {
    await server.stop();
    server = await start({ CONIFER_STORAGE_LATENCY: coldLatency });
    client = new JsonClient(server.url, server.apiKey);
    coldFromBucket = await timedQueries(untouched);
    log(`cold (CONIFER_STORAGE_LATENCY=${coldLatency}): ${JSON.stringify(coldFromBucket)}`);
  }

  console.log(
    JSON.stringify(
      {
        namespaces,
        vectorsPerNamespace: perNamespace,
        dimension,
        budget: budget ?? 'default',
        startRssMiB: startRss,
        write,
        rssPerNamespaceKiB: Math.round((((write.rss.peakMiB ?? 0) - (startRss ?? 0)) * 1024) / namespaces),
        memoryAfterWrite: afterWrite,
        objectsPerNamespace,
        cached,
        restartRssMiB: restartRss,
        cold,
        mixed,
        memoryAfterMixed: afterMixed,
        ...(coldFromBucket ? { coldLatency, coldFromBucket } : {}),
        wrongTopMatch: wrong,
      },
      null,
      2,
    ),
  );
} finally {
  await server?.stop();
  await rm(work, { recursive: true, force: true });
}
