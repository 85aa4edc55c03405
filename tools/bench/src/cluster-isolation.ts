/**
 * Parts 1 and 5 of the cluster benchmark, run the same way against the single process and against
 * the cluster's gateway: bulk ingest of the dataset into namespace `main` (acknowledged vectors/s),
 * settle, then concurrency-1 queries on `main` while idle and during a full-speed write burst into
 * another namespace of the same index (`burst`), with the CPU time each process used meanwhile.
 * The writes always go through the first endpoint; the queries, in turn, through each endpoint of
 * `variants` (a cluster: the same gateway as the writes, then the other gateway), each variant idle
 * then during a burst of its own, the burst namespace settled in between.
 */
import type { Dataset } from './dataset.ts';
import type { JsonClient } from './http-client.ts';
import { cpuSeconds } from './cluster-harness.ts';
import {
  ingest,
  queryBodies,
  type IngestResult,
  queryLoop,
  waitSettled,
  writeBurstOffThread,
  type EncodedRows,
  type Errors,
  type QueryRun,
} from './cluster-load.ts';
import { meanRecall, round2, summarize, type LatencySummary } from './stats.ts';

type Log = (...parts: unknown[]) => void;

export const MAIN = 'main';
export const BURST = 'burst';
/**
 * Part 5 writes the dataset this many times: the first pass alone lasts a second or two at S, and
 * mostly measures processes warming up; three give the sustained rate, with the flushes and
 * compactions of the first passes running beside the later ones (in the indexer, for a cluster).
 */
export const INGEST_PASSES = 3;

export interface IsolationOptions {
  index: string;
  host: string;
  /** Writes go here (the single process, or gateway A); so do the queries of the first variant. */
  client: JsonClient;
  /** Base URL of `client`, and the API key, for the write burst's own client on its thread. */
  writeUrl: string;
  apiKey: string;
  /**
   * Query paths to measure, each idle and then during its own burst of writes through `client`:
   * the first is `client` itself; a cluster adds its other gateway.
   */
  variants: { label: string; client: JsonClient }[];
  /** Processes whose CPU time is reported per phase. */
  processes: { name: string; pid: number }[];
  idleMs: number;
  burstMs: number;
  queries: number;
  compactionTrigger: number;
  /**
   * The CPU the write burst's client thread is pinned to (the cluster's: the writers' core, where a
   * deployment's write clients would not take the query path's CPU); unpinned when undefined.
   */
  burstClientCpu?: number | undefined;
  log: Log;
  label: string;
}

export interface PhaseResult {
  queries: number;
  recall: number;
  latency: LatencySummary;
  errors: ReturnType<Errors['toJSON']>;
  /** CPU seconds per process during the phase, and per second of the phase (1.0 = one core busy). */
  cpu: Record<string, { seconds: number; cores: number }>;
}

export interface IsolationVariant {
  /** Where the queries went (the writes always go through the first endpoint). */
  label: string;
  idle: PhaseResult;
  burst: PhaseResult;
  burstWrites: { vectors: number; requests: number; wallMs: number; vectorsPerSecond: number; errors: ReturnType<Errors['toJSON']> };
  p99Ratio: number;
  p50Ratio: number;
}

export interface IsolationResult {
  ingest: IngestResult;
  settle: { settleMs: number; slabs: string[]; timedOut: boolean };
  variants: IsolationVariant[];
}

export async function ingestAndIsolation(ds: Dataset, truth: Int32Array, encoded: EncodedRows, options: IsolationOptions): Promise<IsolationResult> {
  const { client, host, log, label } = options;
  log(`${label}: ingest of ${ds.count} vectors into ${MAIN}, ${INGEST_PASSES} times (${encoded.tails.length} requests each, 4 in flight)`);
  const ingested = await ingest(client, host, encoded, MAIN, { passes: INGEST_PASSES });
  log(
    `${label}: ingest ${ingested.vectorsPerSecond} vectors/s (passes: ${ingested.passVectorsPerSecond.join(', ')}); waiting until ${MAIN} has settled (flushed, compacted, indexed)`,
  );
  const settle = await waitSettled(client, options.index, MAIN, options.compactionTrigger, ds.dimension, 600_000);
  log(`${label}: settled in ${settle.settleMs} ms: ${settle.slabs.join(', ')}${settle.timedOut ? ' (timed out)' : ''}`);

  const bodies = queryBodies(ds, options.queries, MAIN);
  const bodyOf = (i: number) => ({ path: `${host}/query`, body: bodies[i % bodies.length]! });
  const variants: IsolationVariant[] = [];
  for (const variant of options.variants) {
    const name = `${label}, queries via ${variant.label}`;
    // Warm-up, not measured: a query node opens its replica of the namespace at its first read.
    let warmed = 0;
    await queryLoop(variant.client, bodyOf, () => warmed++ < Math.max(200, bodies.length), false);

    log(`${name}: idle queries for ${options.idleMs / 1000} s`);
    const idleCpu = cpuMeter(options.processes);
    const idleRun = await queryLoop(variant.client, bodyOf, (elapsed) => elapsed < options.idleMs);
    const idle = phase(idleRun, idleCpu.stop(idleRun.wallMs), ds, truth);
    log(`${name}: idle p50 ${idle.latency.p50.toFixed(2)} ms, p99 ${idle.latency.p99.toFixed(2)} ms, ${idle.errors.count} errors; CPU ${cpuText(idle.cpu)}`);

    log(`${name}: queries during a ${options.burstMs / 1000} s write burst into namespace ${BURST} (writes via ${options.variants[0]!.label})`);
    // The writes come from a thread of their own, so the query loop's timings exclude their pauses.
    const burster = await writeBurstOffThread(options.writeUrl, options.apiKey, host, encoded, BURST, options.burstMs, { cpu: options.burstClientCpu });
    const burstCpu = cpuMeter(options.processes);
    let writing = true;
    const writes = burster.start().finally(() => {
      writing = false;
    });
    const burstRun = await queryLoop(variant.client, bodyOf, () => writing);
    const burstWrites = await writes;
    const burst = phase(burstRun, burstCpu.stop(burstRun.wallMs), ds, truth);
    log(
      `${name}: during the burst p50 ${burst.latency.p50.toFixed(2)} ms, p99 ${burst.latency.p99.toFixed(2)} ms, ${burst.errors.count} query errors; ` +
        `${burstWrites.vectorsPerSecond} vectors/s written, ${burstWrites.errors.count} write errors; CPU ${cpuText(burst.cpu)}`,
    );
    variants.push({
      label: variant.label,
      idle,
      burst,
      burstWrites: { ...burstWrites, errors: burstWrites.errors.toJSON() },
      p99Ratio: round2(burst.latency.p99 / idle.latency.p99),
      p50Ratio: round2(burst.latency.p50 / idle.latency.p50),
    });
    if (variants.length < options.variants.length) {
      // The next variant starts idle: the burst's flushes and compactions finished first.
      const after = await waitSettled(client, options.index, BURST, options.compactionTrigger, ds.dimension, 300_000);
      log(`${label}: ${BURST} settled ${after.settleMs} ms after the burst${after.timedOut ? ' (timed out)' : ''}`);
    }
  }
  return { ingest: ingested, settle, variants };
}

/** `name cores` per process, for the log. */
export function cpuText(cpu: PhaseResult['cpu']): string {
  return Object.entries(cpu)
    .map(([name, c]) => `${name} ${c.cores}`)
    .join(', ');
}

function phase(run: QueryRun, cpu: PhaseResult['cpu'], ds: Dataset, truth: Int32Array): PhaseResult {
  return {
    queries: run.latencies.length,
    recall: meanRecall(10, run.got, truth, ds.queryCount),
    latency: summarize(run.latencies, run.wallMs),
    errors: run.errors.toJSON(),
    cpu,
  };
}

/** CPU seconds each process uses from now until stop(). */
export function cpuMeter(processes: { name: string; pid: number }[]): { stop: (wallMs: number) => PhaseResult['cpu'] } {
  const before = processes.map((p) => cpuSeconds(p.pid));
  const self = process.cpuUsage();
  return {
    stop(wallMs) {
      const out: PhaseResult['cpu'] = {};
      processes.forEach((p, i) => {
        const a = before[i];
        const b = cpuSeconds(p.pid);
        if (a !== undefined && b !== undefined) out[p.name] = { seconds: round2(b - a), cores: round2((b - a) / (wallMs / 1000)) };
      });
      const used = process.cpuUsage(self);
      const seconds = (used.user + used.system) / 1e6;
      out['load generator'] = { seconds: round2(seconds), cores: round2(seconds / (wallMs / 1000)) };
      return out;
    },
  };
}
