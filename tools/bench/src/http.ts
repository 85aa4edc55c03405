/**
 * Conifer through HTTP: the real server as a child process (local-disk store in a temp dir, rate
 * limits off), driven through the Pinecone REST API by a load generator in this process:
 *
 * 1. create the index (POST /indexes, control plane);
 * 2. bulk ingest (POST {host}/vectors/upsert): as many records per request as Pinecone's limits
 *    allow (1000 records, 2 MB body), 4 requests in flight; acknowledged vectors per second, the
 *    bodies encoded beforehand as far as memory allows;
 * 3. wait until the namespace has settled, polling the engine state the console shows (tRPC
 *    `namespaces.internals`) — see settle.ts;
 * 4. 20,000 unmeasured warm-up queries, then queries (POST {host}/query, topK 10, server's default
 *    recall target; at least 2,000 per row) at concurrency 1, 8, 32 over keep-alive connections;
 *    recall@10 against the exact ground truth;
 * 5. the same queries from a load generator in its own process pinned to core 1, the server
 *    pinned to core 0, where the machine has `taskset` and two cores or more;
 * 6. the same queries, and an ingest into an index of its own, through gRPC (grpc.ts) on the
 *    index's port: the server runs with CONIFER_INDEX_HOSTS=ports, as `npm start` does;
 * 7. freshness: upsert one record, then query for it (ack → visible), 100 times;
 * 8. small writes while 32 queries run (writes-under-reads.ts).
 *
 * The load generator shares the machine's cores with the server: on a small machine client-side
 * JSON encoding and parsing take CPU the server would otherwise have.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LIMITS } from '@conifer/core';
import { queryOf, type Dataset } from './dataset.ts';
import { JsonClient } from './http-client.ts';
import { pinProcess, runLoadGenerator } from './load-generator.ts';
import { nextUpsertBody, recordJson, vectorJson } from './json-body.ts';
import { startServer, processRss, type ServerProcess } from './server-process.ts';
import { freePortRange } from '@conifer/emulators';
import { grpcIngest, grpcQueryRows } from './grpc.ts';
import { settled, type InternalsView } from './settle.ts';
import { concurrencyRows, meanRecall, runConcurrent, slabSummary, summarize, type QueryRow } from './stats.ts';
import { writesUnderReads } from './writes-under-reads.ts';

type Log = (...parts: unknown[]) => void;

const K = 10;
export const INDEX = 'bench';
const COMPACTION_TRIGGER = 2;
/**
 * Server knobs: no rate limits, and the engine bench's compaction trigger, so both build the same
 * slabs. Everything else is the default — including the memtable's 30 s age flush, which is what
 * flushes the tail of the ingest (the settle wait includes it).
 */
export const SERVER_ENV = {
  CONIFER_RATE_LIMITS: 'off',
  CONIFER_COMPACTION_TRIGGER: String(COMPACTION_TRIGGER),
};
/**
 * Request bodies are encoded before the clock starts while they fit in this many bytes (all of
 * them up to M; about half at L): a client does not share the server's 2 cores. The rest is
 * encoded by the load generator as it goes, on the CPU the server also needs.
 */
const PRE_ENCODE_BYTES = 4 * 2 ** 30;

export interface HttpBenchOptions {
  queries: number;
  log: Log;
  /** Upper bound for the wait until flushed and compacted. Default 1 hour. */
  settleTimeoutMs?: number;
}

interface QueryResponse {
  matches: { id: string; score: number }[];
}

export async function benchHttp(ds: Dataset, truth: Int32Array, options: HttpBenchOptions): Promise<{ rows: QueryRow[]; facts: Record<string, unknown> }> {
  const { log, queries } = options;
  const dir = mkdtempSync(join(tmpdir(), 'conifer-bench-http-'));
  const facts: Record<string, unknown> = { httpServerEnv: SERVER_ENV };
  const rows: QueryRow[] = [];
  let server: ServerProcess | undefined;
  let client: JsonClient | undefined;
  let data: JsonClient | undefined;
  try {
    const started = performance.now();
    // Each index on a port of its own, as `npm start` serves them: REST and gRPC there.
    const ports = await freePortRange(4);
    server = await startServer({ dataDir: dir, env: { ...SERVER_ENV, CONIFER_INDEX_HOSTS: 'ports', CONIFER_INDEX_PORTS: `${ports.first}-${ports.last}` } });
    facts['httpServerStartMs'] = Math.round(performance.now() - started);
    client = new JsonClient(server.url, server.apiKey);
    const createIndex = async (name: string) =>
      (
        (await client!.call(
          'POST',
          '/indexes',
          JSON.stringify({ name, dimension: ds.dimension, metric: 'euclidean', spec: { serverless: { cloud: 'aws', region: 'us-east-1' } } }),
        )) as { host: string }
      ).host;
    const indexUrl = await createIndex(INDEX);
    // The data plane is at the index's host; requests name paths relative to it.
    data = new JsonClient(indexUrl, server.apiKey);
    const host = '';
    log('http: server up at', server.url, 'index host', indexUrl);

    await ingestOverHttp(data, host, ds, facts, log);
    await waitSettledOverHttp(client, ds.dimension, facts, options.settleTimeoutMs ?? 3_600_000);
    const rss = processRss(server.pid);
    if (rss !== undefined) facts['httpServerRssMiBAfterSettle'] = Math.round(rss / 2 ** 20);
    log('http: settled in', facts['httpSettleMs'], 'ms:', facts['httpSlabs']);

    // Query bodies are encoded before the clock starts (as a client holding its vectors would).
    const bodies = Array.from({ length: Math.min(queries, ds.queryCount) }, (_, i) => Buffer.from(`{"topK":${K},"vector":${vectorJson(queryOf(ds, i))}}`));
    const query = async (i: number): Promise<number[]> => {
      const res = (await data!.call('POST', `${host}/query`, bodies[i % bodies.length])) as QueryResponse;
      return res.matches.map((m) => Number(m.id));
    };
    // Warm-up (not measured): opens the 32 keep-alive connections the runs below reuse, and runs
    // the server's request path often enough for its JIT, as the engine rows' warm-up does.
    await runConcurrent(HTTP_WARMUP_QUERIES, 32, async (i) => void (await query(i)));
    const requests = httpQueryRequests(queries);
    rows.push(
      ...(await concurrencyRows(
        { system: 'conifer (HTTP)', scenario: 'REST /query, default target' },
        requests,
        query,
        { k: K, ids: truth, queryCount: ds.queryCount },
        log,
      )),
    );
    rows.push(...(await pinnedQueryRows(server, indexUrl, ds, truth, queries, log)));
    // The same server through gRPC: queries on the same index, ingest into one of its own.
    rows.push(...(await grpcQueryRows(indexUrl, server.apiKey, ds, truth, requests, log)));
    // REST beside gRPC: the first REST ingest above went to a fresh server, gRPC's goes to one that
    // holds that index. So REST bulk-writes once more, into an index of its own, and settles before
    // gRPC's ingest starts: the two protocols are compared on one server in the same state.
    const besideUrl = await createIndex(`${INDEX}-rest`);
    const beside = new JsonClient(besideUrl, server.apiKey);
    try {
      const besideFacts: Record<string, unknown> = {};
      await ingestOverHttp(beside, '', ds, besideFacts, log);
      facts['httpIngestBesideGrpcVectorsPerSecond'] = besideFacts['httpIngestVectorsPerSecond'];
      await waitSettledOverHttp(client, ds.dimension, besideFacts, options.settleTimeoutMs ?? 3_600_000, `${INDEX}-rest`);
    } finally {
      beside.close();
    }
    facts['grpcIngestVectorsPerSecond'] = await grpcIngest(await createIndex(`${INDEX}-grpc`), server.apiKey, ds);
    log('grpc: ingest', facts['grpcIngestVectorsPerSecond'], 'vectors/s; REST beside it', facts['httpIngestBesideGrpcVectorsPerSecond']);
    // Last: its writes (and the server's age flush of them) would change the namespace under the queries above.
    facts['httpFreshnessAckToVisibleMs'] = await freshness(data, host, ds);
    log('http: freshness', facts['httpFreshnessAckToVisibleMs']);
    // Small writes while 32 queries keep the server busy (writes-under-reads.ts).
    facts['httpWritesUnderReads'] = await writesUnderReads(
      {
        query,
        upsert: (records) =>
          data!.call('POST', `${host}/vectors/upsert`, `{"vectors":[${records.map((r) => recordJson(r.id, r.values, r.bucket)).join(',')}]}`),
      },
      ds,
    );
    log('http: writes under reads', facts['httpWritesUnderReads']);
    return { rows, facts };
  } finally {
    client?.close();
    data?.close();
    if (server) {
      await server.stop();
      const lines = server
        .output()
        .split('\n')
        .filter((l) => l.trim() !== '' && !l.startsWith('Conifer listening on'));
      if (lines.length > 0) {
        facts['httpServerLogLines'] = lines.length;
        log(`http: the server logged ${lines.length} warning/error line(s):\n${lines.slice(0, 20).join('\n')}`);
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Bulk ingest: the largest requests the limits allow, 4 in flight. */
export async function ingestOverHttp(client: JsonClient, host: string, ds: Dataset, facts: Record<string, unknown>, log: Log): Promise<void> {
  const limits = { maxBytes: LIMITS.maxRequestBytes, maxRecords: LIMITS.maxUpsertRecords };
  let cursor = 0;
  // Bodies as Buffers: a string built by concatenation is a rope of one small string per value,
  // and holding thousands of them would keep the GC busy for the whole ingest.
  const encode = (): { body: Buffer; start: number; end: number } => {
    const batch = nextUpsertBody(ds, cursor, ds.count, limits);
    cursor = batch.end;
    return { body: Buffer.from(batch.body), start: batch.start, end: batch.end };
  };
  const ready: ({ body: Buffer; start: number; end: number } | undefined)[] = [];
  let held = 0;
  const encodeStart = performance.now();
  while (cursor < ds.count && held < PRE_ENCODE_BYTES) {
    const batch = encode();
    ready.push(batch);
    held += batch.body.length;
  }
  let encodeMs = performance.now() - encodeStart;
  facts['httpIngestPreEncodedRows'] = cursor;
  let next = 0;
  const sizes: number[] = [];
  const run = await runConcurrent(4, 4, async () => {
    for (;;) {
      let batch = ready[next];
      if (batch !== undefined) {
        ready[next++] = undefined; // sent: let the GC have it
      } else if (cursor < ds.count) {
        const t = performance.now();
        batch = encode();
        encodeMs += performance.now() - t;
      } else {
        return;
      }
      const res = (await client.call('POST', `${host}/vectors/upsert`, batch.body)) as { upsertedCount: number };
      if (res.upsertedCount !== batch.end - batch.start) throw new Error(`upsert acknowledged ${res.upsertedCount} of ${batch.end - batch.start} records`);
      sizes.push(batch.end - batch.start);
    }
  });
  facts['httpIngestVectorsPerSecond'] = Math.round((ds.count / run.wallMs) * 1000);
  facts['httpIngestRecordsPerRequest'] = { min: Math.min(...sizes), max: Math.max(...sizes), requests: sizes.length };
  facts['httpIngestClientEncodeMs'] = Math.round(encodeMs);
  log('http: ingest', facts['httpIngestVectorsPerSecond'], 'vectors/s', facts['httpIngestRecordsPerRequest']);
}

/** Polls the namespace's engine state (what the console shows) until it has settled. */
export async function waitSettledOverHttp(
  client: JsonClient,
  dimension: number,
  facts: Record<string, unknown>,
  timeoutMs: number,
  index = INDEX,
): Promise<void> {
  const path = `/trpc/namespaces.internals?input=${encodeURIComponent(JSON.stringify({ index, namespace: '' }))}`;
  const started = performance.now();
  let previous: InternalsView | undefined;
  for (;;) {
    const now = ((await client.call('GET', path)) as { result: { data: InternalsView } }).result.data;
    if (settled(previous, now, COMPACTION_TRIGGER, dimension)) {
      facts['httpSettleMs'] = Math.round(performance.now() - started);
      facts['httpSlabs'] = slabSummary(now.slabs);
      return;
    }
    if (performance.now() - started > timeoutMs) throw new Error(`http: not settled after ${timeoutMs} ms: ${JSON.stringify(now)}`);
    previous = now;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Upsert one record, then query for it: time from sending the write to the answer that holds it. */
async function freshness(client: JsonClient, host: string, ds: Dataset): Promise<ReturnType<typeof summarize>> {
  const times: number[] = [];
  const ids: string[] = [];
  for (let i = 0; i < 100; i++) {
    const id = `fresh-${i}`;
    const v = queryOf(ds, i);
    const t = performance.now();
    await client.call('POST', `${host}/vectors/upsert`, `{"vectors":[${recordJson(id, v)}]}`);
    const res = (await client.call('POST', `${host}/query`, `{"topK":${K},"vector":${vectorJson(v)}}`)) as QueryResponse;
    times.push(performance.now() - t);
    // topK 10, not 1: a dataset may hold an exact duplicate of the query (distance 0 too).
    if (!res.matches.some((m) => m.id === id)) throw new Error('http freshness: acknowledged write not visible to the next query');
    ids.push(id);
  }
  await client.call('POST', `${host}/vectors/delete`, JSON.stringify({ ids }));
  return summarize(
    times,
    times.reduce((a, b) => a + b, 0),
  );
}

/**
 * Queries sent, unmeasured, before the first HTTP row: the server's request path (HTTP parsing,
 * routing, validation, auth, the search, serialisation) is far more JavaScript than the engine's
 * search. A server pinned to one core, freshly written or restarted, took some 15,000–25,000
 * queries to reach its steady cost per query: until then V8's background threads compile and
 * collect on the same core, and the event loop runs code not yet optimised (docs/benchmarks.md,
 * "How long a server warms up"). The engine rows come after thousands of queries of their own.
 */
const HTTP_WARMUP_QUERIES = 20_000;

/**
 * Requests per HTTP row: every query of the set at least once, and at least 2,000, so a
 * concurrency-1 row lasts long enough to be steady (the set is cycled; recall counts each answer).
 */
function httpQueryRequests(queries: number): number {
  return Math.max(queries, 2_000);
}

/**
 * The same queries from a load generator in a process of its own pinned to core 1, the server
 * pinned to core 0 (`taskset`): the server's figures without a client taking its CPU. Nothing
 * on a machine without `taskset` or with one core.
 */
async function pinnedQueryRows(server: ServerProcess, indexUrl: string, ds: Dataset, truth: Int32Array, queries: number, log: Log): Promise<QueryRow[]> {
  if (cpus().length < 2 || !hasTaskset()) return [];
  const dir = mkdtempSync(join(tmpdir(), 'conifer-bench-load-'));
  const bodiesFile = join(dir, 'queries.jsonl');
  writeFileSync(
    bodiesFile,
    Array.from({ length: Math.min(queries, ds.queryCount) }, (_, i) => `{"topK":${K},"vector":${vectorJson(queryOf(ds, i))}}`).join('\n'),
  );
  const rows: QueryRow[] = [];
  pinProcess(server.pid, '0');
  try {
    // REST, then gRPC on the same index through the same kind of client (Node's own, bodies
    // encoded before the clock), each concurrency in turn.
    const ways = [
      { protocol: 'rest', system: 'conifer (HTTP)', scenario: 'REST /query, default target, client pinned to core 1, server to core 0' },
      { protocol: 'grpc', system: 'conifer (gRPC)', scenario: 'gRPC Query, default target, client pinned to core 1 (node:http2), server to core 0' },
    ] as const;
    for (const way of ways) {
      for (const concurrency of [1, 8, 32]) {
        // Each protocol's first run warms the server's path for it as the unpinned rows' warm-up
        // does (the gRPC path has not run before it): without that, the JIT's work lands in its c1 row.
        const result = await runLoadGenerator(
          {
            url: indexUrl,
            apiKey: server.apiKey,
            path: '/query',
            bodiesFile,
            requests: httpQueryRequests(queries),
            concurrency,
            warmup: concurrency === 1 ? HTTP_WARMUP_QUERIES : 64,
            protocol: way.protocol,
          },
          '1',
        );
        rows.push({
          system: way.system,
          scenario: way.scenario,
          concurrency,
          recall: meanRecall(K, result.matchIds, truth, ds.queryCount),
          latency: summarize(result.latencies, result.wallMs),
        });
        log(`${way.protocol} query (pinned) c`, concurrency, rows.at(-1));
      }
    }
  } finally {
    pinProcess(server.pid, `0-${cpus().length - 1}`);
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
