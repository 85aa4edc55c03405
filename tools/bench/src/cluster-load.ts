/**
 * Load for the cluster benchmark, over the Pinecone REST API (JsonClient, Api-Key header): upsert
 * bodies of the dataset encoded once and sent to any namespace, a bulk ingest, a write burst of a
 * fixed duration, query loops that count errors instead of stopping at the first, and the settle
 * wait. The same functions drive the single process and the cluster's gateway.
 */
import { Worker } from 'node:worker_threads';
import { pinThread } from './cluster-harness.ts';
import { LIMITS } from '@conifer/core';
import { queryOf, type Dataset } from './dataset.ts';
import { HttpError, type JsonClient } from './http-client.ts';
import { nextUpsertBody, vectorJson } from './json-body.ts';
import { settled, type InternalsView } from './settle.ts';
import { nextTurn, slabSummary, summarize, type LatencySummary } from './stats.ts';

export const K = 10;

/**
 * The dataset as upsert bodies (as many rows per request as Pinecone's limits allow: 1000 records,
 * 2 MB), each without its leading `{` so that a namespace can be put in front without re-encoding.
 */
export interface EncodedRows {
  tails: Buffer[];
  rows: number[];
}

export function encodeRows(ds: Dataset): EncodedRows {
  const limits = { maxBytes: LIMITS.maxRequestBytes - 300, maxRecords: LIMITS.maxUpsertRecords };
  const tails: Buffer[] = [];
  const rows: number[] = [];
  for (let cursor = 0; cursor < ds.count;) {
    const batch = nextUpsertBody(ds, cursor, ds.count, limits);
    tails.push(Buffer.from(batch.body.slice(1)));
    rows.push(batch.end - batch.start);
    cursor = batch.end;
  }
  return { tails, rows };
}

/** Upsert body `i` of `encoded`, into `namespace`. */
export function upsertBody(encoded: EncodedRows, i: number, namespace: string): Buffer {
  return Buffer.concat([Buffer.from(`{"namespace":${JSON.stringify(namespace)},`), encoded.tails[i]!]);
}

/** Query bodies of the first `n` held-out queries against `namespace` (topK 10, default recall target). */
export function queryBodies(ds: Dataset, n: number, namespace: string): Buffer[] {
  return Array.from({ length: Math.min(n, ds.queryCount) }, (_, i) =>
    Buffer.from(`{"namespace":${JSON.stringify(namespace)},"topK":${K},"vector":${vectorJson(queryOf(ds, i))}}`),
  );
}

/** What went wrong, counted: statuses and messages, a few kept as examples. */
export class Errors {
  count = 0;
  readonly byKind = new Map<string, number>();
  readonly samples: string[] = [];

  add(kind: string, detail: string): void {
    this.count++;
    this.byKind.set(kind, (this.byKind.get(kind) ?? 0) + 1);
    if (this.samples.length < 5) this.samples.push(`${kind}: ${detail.slice(0, 300)}`);
  }

  /** From a thrown error or a non-2xx status. */
  addError(err: unknown): void {
    if (err instanceof HttpError) this.add(`HTTP ${err.status}`, JSON.stringify(err.body));
    else this.add(err instanceof Error ? err.name : 'error', err instanceof Error ? err.message : String(err));
  }

  toJSON(): { count: number; byKind: Record<string, number>; samples: string[] } {
    return { count: this.count, byKind: Object.fromEntries(this.byKind), samples: this.samples };
  }

  static fromJSON(json: ReturnType<Errors['toJSON']>): Errors {
    const errors = new Errors();
    errors.count = json.count;
    for (const [kind, n] of Object.entries(json.byKind)) errors.byKind.set(kind, n);
    errors.samples.push(...json.samples);
    return errors;
  }
}

/**
 * Bulk ingest of the whole dataset into `namespace`, `passes` times back to back (from the second
 * pass on, the same ids are written again, which the writer logs, flushes and compacts like new
 * ones): `inFlight` requests at a time; acknowledged vectors per second over all passes and per pass.
 */
export async function ingest(
  client: JsonClient,
  host: string,
  encoded: EncodedRows,
  namespace: string,
  options: { inFlight?: number; passes?: number } = {},
): Promise<IngestResult> {
  const { inFlight = 4, passes = 1 } = options;
  const latencies: number[] = [];
  const passVectorsPerSecond: number[] = [];
  let vectors = 0;
  const started = performance.now();
  for (let pass = 0; pass < passes; pass++) {
    let next = 0;
    let passVectors = 0;
    const passStarted = performance.now();
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        for (;;) {
          const i = next++;
          if (i >= encoded.tails.length) return;
          const t = performance.now();
          const res = (await client.call('POST', `${host}/vectors/upsert`, upsertBody(encoded, i, namespace))) as { upsertedCount: number };
          latencies.push(performance.now() - t);
          if (res.upsertedCount !== encoded.rows[i]) throw new Error(`upsert acknowledged ${res.upsertedCount} of ${encoded.rows[i]} records`);
          passVectors += res.upsertedCount;
        }
      }),
    );
    passVectorsPerSecond.push(Math.round((passVectors / (performance.now() - passStarted)) * 1000));
    vectors += passVectors;
  }
  const wallMs = performance.now() - started;
  return {
    vectorsPerSecond: Math.round((vectors / wallMs) * 1000),
    passVectorsPerSecond,
    wallMs: Math.round(wallMs),
    requests: encoded.tails.length * passes,
    requestMs: summarize(latencies, wallMs),
  };
}

/** Acknowledged vectors/s over all passes, and of each. */
export interface IngestResult {
  vectorsPerSecond: number;
  passVectorsPerSecond: number[];
  wallMs: number;
  requests: number;
  requestMs: LatencySummary;
}

/**
 * Writes at full speed into `namespace` for `durationMs`: `inFlight` upserts at a time, cycling
 * through the dataset's bodies (after the first pass the same ids are written again, which the
 * writer logs, flushes and compacts like any write). Errors are counted, not thrown.
 */
export async function writeBurst(
  client: JsonClient,
  host: string,
  encoded: EncodedRows,
  namespace: string,
  durationMs: number,
  inFlight = 4,
): Promise<{ vectors: number; requests: number; wallMs: number; vectorsPerSecond: number; errors: Errors }> {
  const errors = new Errors();
  let next = 0;
  let vectors = 0;
  let requests = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() - started < durationMs) {
        const i = next++ % encoded.tails.length;
        try {
          const res = (await client.call('POST', `${host}/vectors/upsert`, upsertBody(encoded, i, namespace))) as { upsertedCount: number };
          vectors += res.upsertedCount;
          requests++;
        } catch (err) {
          errors.addError(err);
          await new Promise((r) => setTimeout(r, 10));
        }
      }
    }),
  );
  const wallMs = performance.now() - started;
  return { vectors, requests, wallMs: Math.round(wallMs), vectorsPerSecond: Math.round((vectors / wallMs) * 1000), errors };
}

type BurstResult = Awaited<ReturnType<typeof writeBurst>>;

/**
 * {@link writeBurst} on a worker thread (write-burst-worker.ts), pinned to `cpu` when given;
 * resolves once the thread has its copy of the bodies with a `start` that begins the burst and
 * resolves with its result.
 */
export async function writeBurstOffThread(
  url: string,
  apiKey: string,
  host: string,
  encoded: EncodedRows,
  namespace: string,
  durationMs: number,
  options: { inFlight?: number; cpu?: number | undefined } = {},
): Promise<{ start: () => Promise<BurstResult> }> {
  const worker = new Worker(new URL('./write-burst-worker.ts', import.meta.url), {
    workerData: { url, apiKey, host, tails: encoded.tails, rows: encoded.rows, namespace, durationMs, inFlight: options.inFlight ?? 4 },
  });
  const { tid } = await new Promise<{ tid: number | undefined }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  if (options.cpu !== undefined) {
    if (tid === undefined) throw new Error('the write burst thread cannot be pinned: no thread id');
    pinThread(tid, options.cpu);
  }
  return {
    start: () =>
      new Promise<BurstResult>((resolve, reject) => {
        worker.once('message', (result: Omit<BurstResult, 'errors'> & { errors: ReturnType<Errors['toJSON']> }) => {
          void worker.terminate();
          resolve({ ...result, errors: Errors.fromJSON(result.errors) });
        });
        worker.once('error', reject);
        worker.postMessage('start');
      }),
  };
}

export interface QueryRun {
  latencies: number[];
  /** When each query started, ms after the run started. */
  startedAt: number[];
  /** Row ids answered, per query (for recall), when `keepIds`. */
  got: number[][];
  errors: Errors;
  wallMs: number;
}

/**
 * Concurrency-1 queries (one event-loop turn before each, as the main benchmark's loops) while
 * `busy()` says so; `bodyOf(i)` picks query i's body and path. Errors are counted (their latency
 * too) and the loop goes on.
 */
export async function queryLoop(
  client: JsonClient,
  bodyOf: (i: number) => { path: string; body: Buffer },
  busy: (elapsedMs: number) => boolean,
  keepIds = true,
): Promise<QueryRun> {
  const run: QueryRun = { latencies: [], startedAt: [], got: [], errors: new Errors(), wallMs: 0 };
  const started = performance.now();
  for (let i = 0; busy(performance.now() - started); i++) {
    const t = performance.now();
    await nextTurn();
    const { path, body } = bodyOf(i);
    try {
      const res = (await client.call('POST', path, body)) as { matches: { id: string }[] };
      if (keepIds) run.got.push(res.matches.map((m) => Number(m.id)));
    } catch (err) {
      run.errors.addError(err);
      if (keepIds) run.got.push([]);
    }
    run.latencies.push(performance.now() - t);
    run.startedAt.push(t - started);
  }
  run.wallMs = performance.now() - started;
  return run;
}

/** Polls a namespace's engine state (tRPC `namespaces.internals`, answered by its writer) until it has settled. */
export async function waitSettled(
  client: JsonClient,
  index: string,
  namespace: string,
  trigger: number,
  dimension: number,
  timeoutMs: number,
): Promise<{ settleMs: number; slabs: string[]; timedOut: boolean }> {
  const path = `/trpc/namespaces.internals?input=${encodeURIComponent(JSON.stringify({ index, namespace }))}`;
  const started = performance.now();
  let previous: InternalsView | undefined;
  for (;;) {
    const now = ((await client.call('GET', path)) as { result: { data: InternalsView } }).result.data;
    const elapsed = performance.now() - started;
    if (settled(previous, now, trigger, dimension) || elapsed > timeoutMs) {
      return { settleMs: Math.round(elapsed), slabs: slabSummary(now.slabs), timedOut: elapsed > timeoutMs };
    }
    previous = now;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Creates an index through the control plane (`POST /indexes`); returns its data-plane path. */
export async function createIndex(client: JsonClient, name: string, dimension: number): Promise<string> {
  const created = (await client.call(
    'POST',
    '/indexes',
    JSON.stringify({ name, dimension, metric: 'euclidean', spec: { serverless: { cloud: 'aws', region: 'us-east-1' } } }),
  )) as { host: string };
  return new URL(created.host).pathname.replace(/\/+$/, '');
}
