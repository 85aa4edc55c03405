/**
 * The cluster benchmark (`npm run bench:cluster`, see cluster-main.ts): Conifer as one process and
 * as a cluster of role processes, on the same machine, dataset and load, in one run.
 *
 * 1. single process (`node apps/server/src/main.ts`, all roles, unpinned as `npm start` runs it):
 *    ingest into `main` (part 5), then query p99 idle vs during a write burst into another
 *    namespace (part 1);
 * 2. cluster: gateways A and B and a query node pinned to CPU 0, two writers and an indexer (which
 *    builds the writers' compactions and ANN indexes) pinned to CPU 1, PostgreSQL of its own
 *    database, a local directory as the shared store: the same ingest and isolation through
 *    gateway A (parts 5 and 1), then read-your-writes and default-read staleness across gateways
 *    (part 3), then writer failover (part 2);
 * 3. a second cluster (a gateway, a writer, three query nodes) on MinIO when it can be started,
 *    else on local disk: cache affinity and namespace moves when a query node dies (part 4).
 *
 * Every process started is stopped (also on error and on SIGINT/SIGTERM) and every temporary
 * directory and database removed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulators, type Emulators } from '@conifer/emulators';
import { gaussianMixture, SIZES, type Dataset } from './dataset.ts';
import { groundTruth } from './ground-truth.ts';
import { JsonClient } from './http-client.ts';
import { SERVER_ENV } from './http.ts';
import { startServer, type ServerProcess } from './server-process.ts';
import { BENCH_API_KEY, canPin, createDatabase, indexId, LocalCluster } from './cluster-harness.ts';
import { defaultStaleness, readYourWrites, type ReadYourWrites, type Staleness } from './cluster-consistency.ts';
import { failover, type FailoverResult } from './cluster-failover.ts';
import { round2 } from './stats.ts';
import { BURST, cpuText, ingestAndIsolation, type IsolationResult } from './cluster-isolation.ts';
import { createIndex, encodeRows, waitSettled } from './cluster-load.ts';
import { moves, type MovesResult } from './cluster-moves.ts';
import { clusterMarkdown, writeClusterReport } from './cluster-report.ts';

type Log = (...parts: unknown[]) => void;

export const CLUSTER_SIZES = ['XS', 'S', 'M'] as const;
export type ClusterSize = (typeof CLUSTER_SIZES)[number];

/** How long and how many: `full` (the documented run), `quick` (development), `tiny` (the test). */
export interface Scale {
  idleMs: number;
  burstMs: number;
  rywPairs: number;
  rywConcurrency: number;
  stalenessWrites: number;
  stalenessConcurrency: number;
  failoverRuns: number;
  failoverClients: number;
  moveNamespaces: number;
  moveRecordsPerNamespace: number;
  movesWarmMs: number;
  movesBeforeMs: number;
  movesAfterMs: number;
  movesSlices: number;
}

export const SCALES = {
  full: {
    idleMs: 15_000,
    burstMs: 30_000,
    rywPairs: 10_000,
    rywConcurrency: 8,
    stalenessWrites: 1_000,
    stalenessConcurrency: 4,
    failoverRuns: 20,
    failoverClients: 4,
    moveNamespaces: 60,
    moveRecordsPerNamespace: 1_000,
    movesWarmMs: 15_000,
    movesBeforeMs: 15_000,
    movesAfterMs: 30_000,
    movesSlices: 3,
  },
  quick: {
    idleMs: 4_000,
    burstMs: 8_000,
    rywPairs: 1_000,
    rywConcurrency: 8,
    stalenessWrites: 100,
    stalenessConcurrency: 4,
    failoverRuns: 3,
    failoverClients: 4,
    moveNamespaces: 30,
    moveRecordsPerNamespace: 400,
    movesWarmMs: 3_000,
    movesBeforeMs: 5_000,
    movesAfterMs: 9_000,
    movesSlices: 3,
  },
  tiny: {
    idleMs: 1_000,
    burstMs: 2_000,
    rywPairs: 100,
    rywConcurrency: 4,
    stalenessWrites: 20,
    stalenessConcurrency: 2,
    failoverRuns: 2,
    failoverClients: 2,
    moveNamespaces: 9,
    moveRecordsPerNamespace: 100,
    movesWarmMs: 500,
    movesBeforeMs: 1_000,
    movesAfterMs: 2_000,
    movesSlices: 2,
  },
} as const satisfies Record<string, Scale>;

export interface ClusterBenchOptions {
  /** A synthetic size, or rows × dimension of its own (the test). */
  size: ClusterSize | { name: string; count: number; dimension: number };
  scale: keyof typeof SCALES;
  /** PostgreSQL server (a database of its own is created per cluster and dropped after). */
  adminDatabaseUrl: string;
  /** Part 4's store: MinIO (falls back to local disk when it cannot start) or a local directory. */
  movesStore: 'minio' | 'local';
  /** Distinct held-out queries. */
  queries: number;
  write: boolean;
  quiet?: boolean;
  /** Stop everything on SIGINT / SIGTERM (the command line; not under a test runner). */
  handleSignals?: boolean;
  /** More settings for every server process (the test shrinks memtables). */
  serverEnv?: Record<string, string>;
  command?: string;
}

export interface ClusterBenchResult {
  dataset: { name: string; count: number; dimension: number; queries: number };
  scale: string;
  pinned: boolean;
  serverEnv: Record<string, string>;
  allocator: string;
  single: IsolationResult;
  cluster: IsolationResult;
  burstSettle: { settleMs: number; slabs: string[]; timedOut: boolean };
  ingestRatio: number;
  readYourWrites: ReadYourWrites;
  staleness: Staleness;
  failover: FailoverResult;
  moves: MovesResult;
  topology: { main: { name: string; roles: string; cpu: string }[]; moves: { name: string; roles: string; cpu: string }[] };
  wallMs: number;
}

const INDEX = 'bench';

export async function runClusterBench(options: ClusterBenchOptions): Promise<ClusterBenchResult> {
  const log: Log = options.quiet ? () => undefined : (...parts) => console.log(`[bench:cluster ${new Date().toISOString().slice(11, 19)}]`, ...parts);
  const scale: Scale = SCALES[options.scale];
  const started = performance.now();
  const size = typeof options.size === 'string' ? { name: options.size, ...SIZES[options.size] } : options.size;
  const ds: Dataset = gaussianMixture(size.name, size.count, size.dimension, Math.min(options.queries, 1000));
  const truth = (await groundTruth(ds, [])).truth;
  const encoded = encodeRows(ds);
  log(`dataset ${size.name}: ${ds.count} × ${ds.dimension}, ${ds.queryCount} held-out queries; scale ${options.scale}`);

  const serverEnv = { ...SERVER_ENV, ...options.serverEnv };
  const compactionTrigger = Number(serverEnv.CONIFER_COMPACTION_TRIGGER ?? 4);
  const pinned = canPin();
  if (!pinned) log('taskset or a second CPU is missing: nodes run unpinned');
  const root = mkdtempSync(join(tmpdir(), 'conifer-bench-cluster-'));

  // Whatever is running when the run fails or is interrupted: stopped in reverse order.
  const cleanups: (() => Promise<unknown>)[] = [];
  const killers: (() => void)[] = [];
  const cleanup = async () => {
    while (cleanups.length > 0) await cleanups.pop()!().catch((err: unknown) => log('cleanup failed:', err));
  };
  const killAll = () => killers.forEach((k) => k());
  process.on('exit', killAll);
  const onSignal = (signal: string) => {
    log(`${signal}: stopping every process started`);
    void cleanup().finally(() => {
      rmSync(root, { recursive: true, force: true });
      process.exit(130);
    });
  };
  if (options.handleSignals) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }

  try {
    // 1. The single process, as `npm start` runs it: all roles, both cores.
    log('single process: starting (all roles, unpinned)');
    const singleDir = join(root, 'single');
    const single: ServerProcess = await startServer({ dataDir: singleDir, env: serverEnv });
    const singleProcess = single;
    killers.push(() => singleProcess.child.kill('SIGKILL'));
    cleanups.push(async () => {
      await singleProcess.stop(15_000);
      rmSync(singleDir, { recursive: true, force: true });
    });
    const singleClient = new JsonClient(single.url, BENCH_API_KEY);
    const singleHost = await createIndex(singleClient, INDEX, ds.dimension);
    const singleResult = await ingestAndIsolation(ds, truth, encoded, {
      index: INDEX,
      host: singleHost,
      client: singleClient,
      writeUrl: single.url,
      apiKey: BENCH_API_KEY,
      variants: [{ label: 'the same endpoint', client: singleClient }],
      processes: [{ name: 'single process', pid: single.pid }],
      idleMs: scale.idleMs,
      burstMs: scale.burstMs,
      queries: options.queries,
      compactionTrigger,
      log,
      label: 'single process',
    });
    singleClient.close();
    await cleanups.pop()!();

    // 2. The cluster: gateways and the query node on CPU 0, writers and the indexer on CPU 1.
    const mainDb = await createDatabase(options.adminDatabaseUrl);
    cleanups.push(() => mainDb.drop());
    const cluster = new LocalCluster({
      dir: join(root, 'cluster'),
      databaseUrl: mainDb.url,
      storage: join(root, 'cluster', 'objects'),
      env: serverEnv,
      pin: pinned,
      log,
    });
    killers.push(() => cluster.killAllNow());
    cleanups.push(() => cluster.stop());
    const gatewayA = await cluster.start('gateway', 'gateway', 0);
    const gatewayB = await cluster.start('gateway', 'gateway', 0);
    await cluster.start('writer', 'writer', 1);
    await cluster.start('writer', 'writer', 1);
    await cluster.start('indexer', 'indexer', 1);
    await cluster.start('query', 'query', 0);
    const a = new JsonClient(gatewayA.url, BENCH_API_KEY);
    const b = new JsonClient(gatewayB.url, BENCH_API_KEY);
    cleanups.push(async () => {
      a.close();
      b.close();
    });
    await cluster.awaitMembership(a, 'writer');
    await cluster.awaitMembership(a, 'query');
    await cluster.awaitMembership(a, 'indexer');
    const host = await createIndex(a, INDEX, ds.dimension);
    const topologyMain = cluster.running().map((n) => ({ name: n.name, roles: n.roles, cpu: n.cpu === undefined ? 'any' : String(n.cpu) }));
    const clusterResult = await ingestAndIsolation(ds, truth, encoded, {
      index: INDEX,
      host,
      client: a,
      writeUrl: gatewayA.url,
      apiKey: BENCH_API_KEY,
      variants: [
        { label: 'gateway A (gateway-1, the writes too)', client: a },
        { label: 'gateway B (gateway-2; writes via A)', client: b },
      ],
      processes: cluster.running().map((n) => ({ name: `${n.name} (${n.process.pid})`, pid: n.process.pid })),
      idleMs: scale.idleMs,
      burstMs: scale.burstMs,
      queries: options.queries,
      compactionTrigger,
      burstClientCpu: pinned ? 1 : undefined,
      log,
      label: 'cluster',
    });
    log(`cluster: waiting until namespace ${BURST} has settled before the next parts`);
    const burstSettle = await waitSettled(a, INDEX, BURST, compactionTrigger, ds.dimension, 300_000);
    log(`cluster: ${BURST} settled in ${burstSettle.settleMs} ms${burstSettle.timedOut ? ' (timed out)' : ''}`);

    const consistency = {
      host,
      gatewayA: a,
      gatewayB: b,
      pairs: scale.rywPairs,
      pairConcurrency: scale.rywConcurrency,
      stalenessWrites: scale.stalenessWrites,
      stalenessConcurrency: scale.stalenessConcurrency,
      pollMs: 5,
      jitterMs: 100,
      processes: cluster.running().map((n) => ({ name: `${n.name} (${n.process.pid})`, pid: n.process.pid })),
      log,
    };
    log(`read-your-writes: ${scale.rywPairs} pairs (upsert via gateway A, fetch via gateway B with x-conifer-min-lsn), ${scale.rywConcurrency} loops`);
    const ryw = await readYourWrites(ds, consistency);
    log(
      `read-your-writes: ${ryw.found}/${ryw.pairs} found (${ryw.foundPercent}%), read p50 ${ryw.readMs.p50.toFixed(2)} ms, p99 ${ryw.readMs.p99.toFixed(2)} ms; CPU ${cpuText(ryw.cpu)}`,
    );
    log(`staleness: ${scale.stalenessWrites} writes via A, default reads via B every ${consistency.pollMs} ms until visible`);
    const staleness = await defaultStaleness(ds, consistency);
    log(
      `staleness: ack → visible p50 ${staleness.ackToVisibleMs.p50.toFixed(1)} ms, p99 ${staleness.ackToVisibleMs.p99.toFixed(1)} ms, max ${staleness.ackToVisibleMs.max.toFixed(1)} ms; CPU ${cpuText(staleness.cpu)}`,
    );

    log(`failover: ${scale.failoverRuns} runs of SIGKILL of the owning writer (${scale.failoverClients} client loops writing)`);
    const failed = await failover({
      cluster,
      host,
      index: INDEX,
      indexId: await indexId(mainDb.url, INDEX),
      gatewayA: a,
      gatewayB: b,
      dimension: ds.dimension,
      runs: scale.failoverRuns,
      writers: scale.failoverClients,
      writerCpu: 1,
      writerEnv: {},
      log,
    });
    log(`failover: max ${failed.maxMs} ms, median ${failed.medianMs} ms; ${failed.acknowledged} acknowledged, ${failed.lost} lost`);
    // Stop the main cluster (and its database) before the next one.
    while (cleanups.length > 0) await cleanups.pop()!();

    // 3. Cache affinity and moves, on a cluster of its own.
    let emulators: Emulators | undefined;
    let storage = join(root, 'moves', 'objects');
    let storageLabel = 'local disk (a directory)';
    let storageEnv: Record<string, string> = {};
    if (options.movesStore === 'minio') {
      try {
        emulators = await startEmulators(['s3'], { runtime: 'process', s3: 'minio', bucket: 'conifer-bench', log: (line) => log(line) });
        const s3 = emulators.s3!;
        storage = s3.storageUrl('cluster/');
        storageEnv = emulators.env;
        storageLabel = `MinIO ${s3.version} (local process)`;
        const started = emulators;
        cleanups.push(() => started.stop());
      } catch (err) {
        log(`moves: MinIO did not start (${err instanceof Error ? err.message : String(err)}); running part 4 on local disk`);
      }
    }
    const movesDb = await createDatabase(options.adminDatabaseUrl);
    cleanups.push(() => movesDb.drop());
    const movesCluster = new LocalCluster({
      dir: join(root, 'moves'),
      databaseUrl: movesDb.url,
      storage,
      env: { ...serverEnv, ...storageEnv },
      pin: pinned,
      log,
    });
    killers.push(() => movesCluster.killAllNow());
    cleanups.push(() => movesCluster.stop());
    const movesGateway = await movesCluster.start('gateway', 'gateway', 0);
    // Memtables of half a namespace, so each namespace is flushed twice and compacted into one slab.
    await movesCluster.start('writer', 'writer', 1, { CONIFER_MEMTABLE_MAX_RECORDS: String(Math.max(1, Math.floor(scale.moveRecordsPerNamespace / 2))) });
    for (let i = 0; i < 3; i++) await movesCluster.start('query', 'query', 0);
    const g = new JsonClient(movesGateway.url, BENCH_API_KEY);
    cleanups.push(async () => g.close());
    await movesCluster.awaitMembership(g, 'query');
    const movesHost = await createIndex(g, INDEX, ds.dimension);
    const topologyMoves = movesCluster.running().map((n) => ({ name: n.name, roles: n.roles, cpu: n.cpu === undefined ? 'any' : String(n.cpu) }));
    const moved = await moves(ds, {
      cluster: movesCluster,
      gateway: g,
      index: INDEX,
      host: movesHost,
      indexId: await indexId(movesDb.url, INDEX),
      namespaces: scale.moveNamespaces,
      recordsPerNamespace: Math.min(scale.moveRecordsPerNamespace, ds.count),
      compactionTrigger,
      warmMs: scale.movesWarmMs,
      beforeMs: scale.movesBeforeMs,
      afterMs: scale.movesAfterMs,
      slices: scale.movesSlices,
      storage: storageLabel,
      extraProcesses: (emulators?.s3?.pids ?? []).map((pid) => ({ name: 'minio', pid })),
      log,
    });
    await cleanup();

    const result: ClusterBenchResult = {
      dataset: { name: size.name, count: ds.count, dimension: ds.dimension, queries: ds.queryCount },
      scale: options.scale,
      pinned,
      serverEnv,
      allocator: process.env['LD_PRELOAD']?.includes('jemalloc') ? 'jemalloc (LD_PRELOAD, as npm start)' : 'glibc malloc',
      single: singleResult,
      cluster: clusterResult,
      burstSettle,
      ingestRatio: round2(clusterResult.ingest.vectorsPerSecond / singleResult.ingest.vectorsPerSecond),
      readYourWrites: ryw,
      staleness,
      failover: failed,
      moves: moved,
      topology: { main: topologyMain, moves: topologyMoves },
      wallMs: Math.round(performance.now() - started),
    };
    const command = options.command ?? `npm run bench:cluster -- --size ${size.name}`;
    if (options.write) {
      writeClusterReport(result, command);
      log('wrote docs/benchmarks.md and tools/bench/results');
    } else if (!options.quiet) {
      console.log(`\n${clusterMarkdown(result, command)}`);
    }
    log(`done in ${Math.round(result.wallMs / 1000)} s`);
    return result;
  } finally {
    await cleanup();
    process.off('exit', killAll);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    rmSync(root, { recursive: true, force: true });
  }
}
