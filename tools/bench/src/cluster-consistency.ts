/**
 * Part 3 of the cluster benchmark: reads across gateways.
 *
 * - Read-your-writes: upsert one record through gateway A, then fetch it through gateway B with
 *   the write's `x-pinecone-request-lsn` as `x-conifer-min-lsn`; found or not, latency of the read
 *   and of the pair, and whether the read's `x-pinecone-max-indexed-lsn` covers the write.
 * - Default-mode staleness: upsert through A, then fetch through B with no consistency header
 *   every few ms until the record is there: time from the write's acknowledgement to the first
 *   answer that holds it. Each write comes after a random pause, so that the writes are not in
 *   step with the query node's refresh timer (a loop that writes as soon as it has seen its last
 *   write would always write just after a refresh).
 *
 * Each runs as several independent loops, one namespace each, so the run stays short.
 */
import { mulberry32 } from '@conifer/core';
import { queryOf, type Dataset } from './dataset.ts';
import type { JsonClient, JsonResponse } from './http-client.ts';
import { cpuMeter, type PhaseResult } from './cluster-isolation.ts';
import { Errors } from './cluster-load.ts';
import { recordJson } from './json-body.ts';
import { summarize, type LatencySummary } from './stats.ts';

type Log = (...parts: unknown[]) => void;

export interface ConsistencyOptions {
  host: string;
  gatewayA: JsonClient;
  gatewayB: JsonClient;
  pairs: number;
  pairConcurrency: number;
  stalenessWrites: number;
  stalenessConcurrency: number;
  /** Pause between two default reads of the staleness probe. */
  pollMs: number;
  /** Each staleness write waits a random 0–jitterMs first (uniform, seeded), so writes fall at random points of the replica's refresh cycle. */
  jitterMs: number;
  /** Processes whose CPU use is reported per part. */
  processes: { name: string; pid: number }[];
  log: Log;
}

export interface ReadYourWrites {
  pairs: number;
  concurrency: number;
  found: number;
  foundPercent: number;
  /** Reads whose x-pinecone-max-indexed-lsn was below the write's LSN. */
  indexedLsnBelowWrite: number;
  readMs: LatencySummary;
  pairMs: LatencySummary;
  writeErrors: ReturnType<Errors['toJSON']>;
  readErrors: ReturnType<Errors['toJSON']>;
  wallMs: number;
  cpu: PhaseResult['cpu'];
}

export interface Staleness {
  writes: number;
  concurrency: number;
  pollMs: number;
  jitterMs: number;
  ackToVisibleMs: LatencySummary & { max: number };
  /** Default reads that did not hold the write yet. */
  staleReads: number;
  /** Writes never seen within 10 s. */
  neverVisible: number;
  errors: ReturnType<Errors['toJSON']>;
  wallMs: number;
  cpu: PhaseResult['cpu'];
}

function fetchPath(host: string, namespace: string, id: string): string {
  return `${host}/vectors/fetch?ids=${encodeURIComponent(id)}&namespace=${encodeURIComponent(namespace)}`;
}

function holds(res: JsonResponse, id: string): boolean {
  const vectors = (res.body as { vectors?: Record<string, unknown> } | undefined)?.vectors;
  return vectors !== undefined && id in vectors;
}

async function upsertOne(client: JsonClient, host: string, namespace: string, id: string, values: Float32Array): Promise<number> {
  const res = await client.send('POST', `${host}/vectors/upsert`, `{"namespace":${JSON.stringify(namespace)},"vectors":[${recordJson(id, values)}]}`);
  if (res.status !== 200) throw new Error(`upsert: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  const lsn = Number(res.headers['x-pinecone-request-lsn']);
  if (!Number.isSafeInteger(lsn) || lsn <= 0)
    throw new Error(`upsert answered no x-pinecone-request-lsn (got ${String(res.headers['x-pinecone-request-lsn'])})`);
  return lsn;
}

export async function readYourWrites(ds: Dataset, options: ConsistencyOptions): Promise<ReadYourWrites> {
  const { host, gatewayA, gatewayB, log } = options;
  const writeErrors = new Errors();
  const readErrors = new Errors();
  const readMs: number[] = [];
  const pairMs: number[] = [];
  let found = 0;
  let below = 0;
  let next = 0;
  const started = performance.now();
  let reported = 0;
  let done = 0;
  const cpu = cpuMeter(options.processes);
  await Promise.all(
    Array.from({ length: options.pairConcurrency }, async (_, loop) => {
      const namespace = `ryw-${loop}`;
      for (;;) {
        const i = next++;
        if (i >= options.pairs) return;
        const id = `p${i}`;
        const t0 = performance.now();
        let lsn: number;
        try {
          lsn = await upsertOne(gatewayA, host, namespace, id, queryOf(ds, i));
        } catch (err) {
          writeErrors.addError(err);
          done++;
          continue;
        }
        const t1 = performance.now();
        try {
          const res = await gatewayB.send('GET', fetchPath(host, namespace, id), undefined, { 'x-conifer-min-lsn': String(lsn) });
          const t2 = performance.now();
          if (res.status !== 200) {
            readErrors.add(`HTTP ${res.status}`, JSON.stringify(res.body));
          } else {
            readMs.push(t2 - t1);
            pairMs.push(t2 - t0);
            if (holds(res, id)) found++;
            if (Number(res.headers['x-pinecone-max-indexed-lsn']) < lsn) below++;
          }
        } catch (err) {
          readErrors.addError(err);
        }
        // Progress by pairs finished (`i` is the pair this loop started; others are still in flight).
        done++;
        if (done - reported >= options.pairs / 5) {
          reported = done;
          log(`read-your-writes: ${done} pairs done, ${found} found, ${readErrors.count} read errors (${Math.round(performance.now() - started)} ms)`);
        }
      }
    }),
  );
  const wall = performance.now() - started;
  return {
    pairs: options.pairs,
    concurrency: options.pairConcurrency,
    found,
    foundPercent: Math.round((found / options.pairs) * 10_000) / 100,
    indexedLsnBelowWrite: below,
    readMs: summarize(readMs, wall),
    pairMs: summarize(pairMs, wall),
    writeErrors: writeErrors.toJSON(),
    readErrors: readErrors.toJSON(),
    wallMs: Math.round(wall),
    cpu: cpu.stop(wall),
  };
}

export async function defaultStaleness(ds: Dataset, options: ConsistencyOptions): Promise<Staleness> {
  const { host, gatewayA, gatewayB } = options;
  const errors = new Errors();
  const lags: number[] = [];
  let stale = 0;
  let never = 0;
  let next = 0;
  const started = performance.now();
  const cpu = cpuMeter(options.processes);
  const jitter = mulberry32(7);
  await Promise.all(
    Array.from({ length: options.stalenessConcurrency }, async (_, loop) => {
      const namespace = `stale-${loop}`;
      for (;;) {
        const i = next++;
        if (i >= options.stalenessWrites) return;
        const id = `s${i}`;
        // A random pause first: a loop that writes right after it saw its previous write would
        // write just after each refresh of the replica, and measure a full refresh interval.
        await new Promise((r) => setTimeout(r, Math.floor(jitter() * options.jitterMs)));
        try {
          await upsertOne(gatewayA, host, namespace, id, queryOf(ds, i));
        } catch (err) {
          errors.addError(err);
          continue;
        }
        const acked = performance.now();
        for (;;) {
          const res = await gatewayB.send('GET', fetchPath(host, namespace, id)).catch((err: unknown) => {
            errors.addError(err);
            return undefined;
          });
          if (res !== undefined && res.status !== 200) errors.add(`HTTP ${res.status}`, JSON.stringify(res.body));
          if (res !== undefined && res.status === 200 && holds(res, id)) {
            lags.push(performance.now() - acked);
            break;
          }
          stale++;
          if (performance.now() - acked > 10_000) {
            never++;
            break;
          }
          await new Promise((r) => setTimeout(r, options.pollMs));
        }
      }
    }),
  );
  const wall = performance.now() - started;
  const summary = summarize(lags, wall);
  return {
    writes: options.stalenessWrites,
    concurrency: options.stalenessConcurrency,
    pollMs: options.pollMs,
    jitterMs: options.jitterMs,
    ackToVisibleMs: { ...summary, max: Math.max(0, ...lags) },
    staleReads: stale,
    neverVisible: never,
    errors: errors.toJSON(),
    wallMs: Math.round(wall),
    cpu: cpu.stop(wall),
  };
}
