/**
 * Part 4 of the cluster benchmark: cache affinity and namespace moves, on a cluster of its own (a
 * gateway, a writer and three query nodes). Many small namespaces are written and settled into
 * slabs; after a warm-up (every namespace read, so each query node opens the replicas it wins),
 * concurrency-1 queries go round-robin over the namespaces; then one of the three query nodes is
 * SIGKILLed while the same queries go on for a while.
 *
 * Reported: which query node served each namespace (observed from the nodes' `/metrics`: the one
 * whose node-internal data calls grew around one query) against the rendezvous winner computed
 * from the membership; the share of namespaces whose query node changes with the kill (computed
 * from rank, and observed); latency before and in slices of the time after the kill; and the slab
 * bytes the query nodes served by source (memory / disk cache / store) — exposed only on cloud
 * storage (`conifer_slab_cache_served_bytes`), so null on local disk; beside the slab bytes the queries
 * searched (`conifer_replica_slab_bytes_queried`), they give the share of those served without the store.
 */
import { namespaceRoutingKey, rank } from '@conifer/cluster';
import { LIMITS } from '@conifer/core';
import { queryOf, type Dataset } from './dataset.ts';
import type { JsonClient } from './http-client.ts';
import { metricSum, scrape, type ClusterNode, type LocalCluster } from './cluster-harness.ts';
import { cpuMeter, cpuText, type PhaseResult } from './cluster-isolation.ts';
import { Errors, K, queryLoop, waitSettled } from './cluster-load.ts';
import { nextUpsertBody, vectorJson } from './json-body.ts';
import { round2, summarize, type LatencySummary } from './stats.ts';

type Log = (...parts: unknown[]) => void;

const INTERNAL_DATA = 'procedure="/internal/v1/data"';

export interface MovesOptions {
  cluster: LocalCluster;
  gateway: JsonClient;
  index: string;
  host: string;
  indexId: string;
  namespaces: number;
  recordsPerNamespace: number;
  compactionTrigger: number;
  /** Round-robin queries after the first reads, not measured (latency keeps falling for a while after the replicas open). */
  warmMs: number;
  beforeMs: number;
  afterMs: number;
  /** Slices the time after the kill is cut into for its p99s. */
  slices: number;
  storage: string;
  /** More processes whose CPU use is reported (the store's). */
  extraProcesses: { name: string; pid: number }[];
  log: Log;
}

export interface SlabBytes {
  /** Slab bytes the slab cache served, by source: memory and disk hits, fetches from the store. */
  memory: number;
  disk: number;
  store: number;
  /** Slab bytes the query nodes' queries searched (`conifer_replica_slab_bytes_queried`). */
  queried: number;
  /**
   * Percent of the slab bytes queries searched that did not come from the object store in the
   * window: 100 × (1 − store / queried), at least 0; null when no query searched a slab.
   */
  cacheShare: number | null;
}

export interface MovesResult {
  storage: string;
  namespaces: number;
  recordsPerNamespace: number;
  warmMs: number;
  settleMs: number;
  /** Namespaces per query node, by rendezvous (before the kill). */
  winnersPerNode: Record<string, number>;
  /** Share of namespaces whose observed query node was the rendezvous winner, before and after the kill. */
  servedByWinnerBefore: number;
  servedByWinnerAfter: number;
  victim: string;
  movedComputedPercent: number;
  movedObservedPercent: number;
  /**
   * The share of {@link MOVE_SAMPLE} namespace names whose rendezvous winner was the dead node (so
   * they move): the routing's property without the luck of a few dozen names, whose moved share is
   * the dead node's share of them (about ±6 points at 60).
   */
  movedBySamplePercent: number;
  /** Whether the namespaces that changed query node were exactly those the dead node won. */
  movedAsRanked: boolean;
  /** Namespaces whose query node changed though the dead node did not serve them (should be 0). */
  movedThoughNotOnVictim: number;
  before: { queries: number; latency: LatencySummary; errors: ReturnType<Errors['toJSON']>; cpu: PhaseResult['cpu'] };
  after: { queries: number; latency: LatencySummary; errors: ReturnType<Errors['toJSON']>; cpu: PhaseResult['cpu'] };
  afterSlices: { fromS: number; toS: number; queries: number; p50: number; p99: number; p99VsBefore: number }[];
  /** First query of each moved namespace on its new node (it opens the replica there). */
  firstReadAfterMoveMs: { count: number; p50: number; max: number };
  /** Slab bytes served by the query nodes, by source, in each window (null: metric absent, i.e. local disk). */
  slabBytes: { warmUp: SlabBytes | null; before: SlabBytes | null; after: SlabBytes | null };
}

/** Namespace names whose routing is ranked (not served) for {@link MovesResult.movedBySamplePercent}. */
export const MOVE_SAMPLE = 10_000;

export async function moves(ds: Dataset, options: MovesOptions): Promise<MovesResult> {
  const { cluster, gateway, host, log } = options;
  const names = Array.from({ length: options.namespaces }, (_, n) => `m${n}`);
  const per = options.recordsPerNamespace;

  log(`moves: writing ${names.length} namespaces of ${per} records`);
  const limits = { maxBytes: LIMITS.maxRequestBytes - 300, maxRecords: LIMITS.maxUpsertRecords };
  let nextNs = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (;;) {
        const n = nextNs++;
        if (n >= names.length) return;
        const start = (n * per) % Math.max(1, ds.count - per);
        for (let row = start; row < start + per;) {
          const batch = nextUpsertBody(ds, row, start + per, limits);
          await gateway.call('POST', `${host}/vectors/upsert`, `{"namespace":"${names[n]}",${batch.body.slice(1)}`);
          row = batch.end;
        }
      }
    }),
  );
  const settleStart = performance.now();
  let nextSettle = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (;;) {
        const n = nextSettle++;
        if (n >= names.length) return;
        await waitSettled(gateway, options.index, names[n]!, options.compactionTrigger, ds.dimension, 120_000);
      }
    }),
  );
  const settleMs = Math.round(performance.now() - settleStart);
  log(`moves: settled in ${settleMs} ms`);

  await cluster.resolveIds(gateway);
  const queryNodes = cluster.running('query');
  const winnerOf = (ns: string, among: ClusterNode[]) =>
    rank(
      namespaceRoutingKey(options.indexId, ns),
      among.map((q) => ({ id: q.id!, node: q })),
    )[0]!.node;
  const winners = new Map(names.map((ns) => [ns, winnerOf(ns, queryNodes)]));
  const winnersPerNode = Object.fromEntries(queryNodes.map((q) => [q.name, names.filter((ns) => winners.get(ns) === q).length]));

  const vectors = Array.from({ length: Math.min(ds.queryCount, 200) }, (_, i) => vectorJson(queryOf(ds, i)));
  const body = (ns: string, i: number) => Buffer.from(`{"namespace":"${ns}","topK":${K},"vector":${vectors[i % vectors.length]}}`);
  const queryOnce = (ns: string, i: number) => gateway.call('POST', `${host}/query`, body(ns, i));

  const slabStart = await slabBytesOf(queryNodes);
  log('moves: every namespace read 3 times (each query node opens the replicas it wins)');
  for (let round = 0; round < 3; round++) for (const [n, ns] of names.entries()) await queryOnce(ns, n + round);
  const observedBefore = await observeServers(names, queryNodes, queryOnce);
  const servedByWinnerBefore = names.filter((ns) => observedBefore.get(ns) === winners.get(ns)).length / names.length;
  const slabWarm = await slabBytesOf(queryNodes);

  const roundRobin = (i: number) => ({ path: `${host}/query`, body: body(names[i % names.length]!, i) });
  log(`moves: warm-up, round-robin queries for ${options.warmMs / 1000} s (not measured)`);
  await queryLoop(gateway, roundRobin, (elapsed) => elapsed < options.warmMs, false);
  log(`moves: queries round-robin over the namespaces for ${options.beforeMs / 1000} s`);
  const processes = [...cluster.running().map((n) => ({ name: n.name, pid: n.process.pid })), ...options.extraProcesses];
  const beforeCpu = cpuMeter(processes);
  const beforeRun = await queryLoop(gateway, roundRobin, (elapsed) => elapsed < options.beforeMs, false);
  const before = {
    queries: beforeRun.latencies.length,
    latency: summarize(beforeRun.latencies, beforeRun.wallMs),
    errors: beforeRun.errors.toJSON(),
    cpu: beforeCpu.stop(beforeRun.wallMs),
  };
  const slabBefore = await slabBytesOf(queryNodes);
  log(
    `moves: before the kill p50 ${before.latency.p50.toFixed(2)} ms, p99 ${before.latency.p99.toFixed(2)} ms, ${before.errors.count} errors; CPU ${cpuText(before.cpu)}`,
  );

  const victim = queryNodes[0]!;
  const survivors = queryNodes.filter((q) => q !== victim);
  const movedComputed = names.filter((ns) => winners.get(ns) === victim);
  log(`moves: SIGKILL ${victim.name}, which wins ${movedComputed.length} of ${names.length} namespaces`);
  await cluster.kill(victim);
  const afterCpu = cpuMeter(processes.filter((p) => p.pid !== victim.process.pid));
  const moved = new Set(movedComputed);
  const firstReads: number[] = [];
  const seen = new Set<string>();
  const afterRun = await queryLoop(
    gateway,
    (i) => {
      const ns = names[i % names.length]!;
      return { path: `${host}/query`, body: body(ns, i) };
    },
    (elapsed) => elapsed < options.afterMs,
    false,
  );
  // The first query of each moved namespace after the kill: the one that opened it on its new node.
  afterRun.latencies.forEach((ms, i) => {
    const ns = names[i % names.length]!;
    if (moved.has(ns) && !seen.has(ns)) {
      seen.add(ns);
      firstReads.push(ms);
    }
  });
  const slabAfter = await slabBytesOf(survivors);
  const after = {
    queries: afterRun.latencies.length,
    latency: summarize(afterRun.latencies, afterRun.wallMs),
    errors: afterRun.errors.toJSON(),
    cpu: afterCpu.stop(afterRun.wallMs),
  };
  const sliceMs = options.afterMs / options.slices;
  const afterSlices = Array.from({ length: options.slices }, (_, s) => {
    const inSlice = afterRun.latencies.filter((_, i) => afterRun.startedAt[i]! >= s * sliceMs && afterRun.startedAt[i]! < (s + 1) * sliceMs);
    const sum = summarize(inSlice, sliceMs);
    return {
      fromS: round2((s * sliceMs) / 1000),
      toS: round2(((s + 1) * sliceMs) / 1000),
      queries: inSlice.length,
      p50: sum.p50,
      p99: sum.p99,
      p99VsBefore: round2(sum.p99 / before.latency.p99),
    };
  });
  log(
    `moves: after the kill p99 ${after.latency.p99.toFixed(2)} ms over ${options.afterMs / 1000} s (${after.errors.count} errors); by slice: ` +
      afterSlices.map((s) => `${s.fromS}–${s.toS} s ${s.p99.toFixed(2)} ms`).join(', ') +
      `; CPU ${cpuText(after.cpu)}`,
  );

  const observedAfter = await observeServers(names, survivors, queryOnce);
  const winnersAfter = new Map(names.map((ns) => [ns, winnerOf(ns, survivors)]));
  const servedByWinnerAfter = names.filter((ns) => observedAfter.get(ns) === winnersAfter.get(ns)).length / names.length;
  const movedObserved = names.filter((ns) => observedAfter.get(ns) !== observedBefore.get(ns));
  const sample = Array.from({ length: MOVE_SAMPLE }, (_, i) => `sample-${i}`);
  const movedBySample = sample.filter((ns) => winnerOf(ns, queryNodes) === victim).length;
  const movedSet = new Set(movedObserved);
  firstReads.sort((a, b) => a - b);
  log(
    `moves: ${movedComputed.length} of ${names.length} namespaces moved by rank, ${movedObserved.length} observed; ` +
      `served by the rendezvous winner: ${round2(servedByWinnerBefore * 100)}% before, ${round2(servedByWinnerAfter * 100)}% after; ` +
      `${movedBySample} of ${MOVE_SAMPLE} sample names ranked to the dead node`,
  );
  return {
    storage: options.storage,
    namespaces: names.length,
    recordsPerNamespace: per,
    warmMs: options.warmMs,
    settleMs,
    winnersPerNode,
    servedByWinnerBefore: round2(servedByWinnerBefore * 100),
    servedByWinnerAfter: round2(servedByWinnerAfter * 100),
    victim: victim.name,
    movedComputedPercent: round2((movedComputed.length / names.length) * 100),
    movedObservedPercent: round2((movedObserved.length / names.length) * 100),
    movedThoughNotOnVictim: movedObserved.filter((ns) => observedBefore.get(ns) !== victim).length,
    movedBySamplePercent: round2((movedBySample / MOVE_SAMPLE) * 100),
    movedAsRanked: movedSet.size === movedComputed.length && movedComputed.every((ns) => movedSet.has(ns)),
    before,
    after,
    afterSlices,
    firstReadAfterMoveMs: {
      count: firstReads.length,
      p50: round2(firstReads[Math.floor(firstReads.length / 2)] ?? NaN),
      max: round2(firstReads.at(-1) ?? NaN),
    },
    slabBytes: { warmUp: diff(slabStart, slabWarm), before: diff(slabWarm, slabBefore), after: diff(pick(slabBefore, survivors), slabAfter) },
  };
}

/** Per namespace, the query node whose node-internal data calls grew around one query of it. */
async function observeServers(
  names: string[],
  nodes: ClusterNode[],
  queryOnce: (ns: string, i: number) => Promise<unknown>,
): Promise<Map<string, ClusterNode | undefined>> {
  const count = async () => Promise.all(nodes.map(async (q) => metricSum(await scrape(q.url), 'conifer_requests_total', [INTERNAL_DATA])));
  const out = new Map<string, ClusterNode | undefined>();
  for (const [i, ns] of names.entries()) {
    const before = await count();
    await queryOnce(ns, i);
    const after = await count();
    const grew = nodes.filter((_, n) => after[n]! > before[n]!);
    out.set(ns, grew.length === 1 ? grew[0] : undefined);
  }
  return out;
}

type SlabSnapshot = Map<ClusterNode, { memory: number; disk: number; store: number; queried: number } | null>;

async function slabBytesOf(nodes: ClusterNode[]): Promise<SlabSnapshot> {
  const out: SlabSnapshot = new Map();
  for (const q of nodes) {
    const samples = await scrape(q.url);
    const has = [...samples.keys()].some((k) => k.startsWith('conifer_slab_cache_served_bytes'));
    const of = (source: string) => metricSum(samples, 'conifer_slab_cache_served_bytes', [`source="${source}"`]);
    const queried = metricSum(samples, 'conifer_replica_slab_bytes_queried');
    out.set(q, has ? { memory: of('memory'), disk: of('disk'), store: of('store'), queried } : null);
  }
  return out;
}

function pick(snapshot: SlabSnapshot, nodes: ClusterNode[]): SlabSnapshot {
  return new Map(nodes.map((n) => [n, snapshot.get(n) ?? null]));
}

function diff(from: SlabSnapshot, to: SlabSnapshot): SlabBytes | null {
  let memory = 0;
  let disk = 0;
  let store = 0;
  let queried = 0;
  for (const [node, b] of to) {
    const a = from.get(node);
    if (!a || !b) return null;
    memory += b.memory - a.memory;
    disk += b.disk - a.disk;
    store += b.store - a.store;
    queried += b.queried - a.queried;
  }
  return { memory, disk, store, queried, cacheShare: queried === 0 ? null : round2(Math.max(0, 1 - store / queried) * 100) };
}
