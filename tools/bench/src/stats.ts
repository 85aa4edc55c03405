import { percentile } from '@conifer/core';

/** Latency summaries. */
export interface LatencySummary {
  p50: number;
  p99: number;
  mean: number;
  qps: number;
}

/** One row of a results table: a system at one setting and concurrency. */
export interface QueryRow {
  system: string;
  scenario: string;
  concurrency: number;
  recall: number;
  latency: LatencySummary;
}

export function summarize(latenciesMs: number[], wallMs: number): LatencySummary {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
    qps: (sorted.length / wallMs) * 1000,
  };
}

/** p50 and p99 of some calls, and how many there were; zeros for none. */
export interface WindowSummary {
  queries: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * Calls split at `boundaryMs` by when each started (`startsMs`, from the same origin): the
 * summaries of `latenciesMs` of the calls started before it and of those started at or after it.
 */
export function splitAtStart(startsMs: readonly number[], latenciesMs: readonly number[], boundaryMs: number): { before: WindowSummary; after: WindowSummary } {
  const before: number[] = [];
  const after: number[] = [];
  startsMs.forEach((start, i) => (start < boundaryMs ? before : after).push(latenciesMs[i]!));
  const of = (latencies: number[]): WindowSummary => {
    const sorted = latencies.sort((a, b) => a - b);
    return { queries: sorted.length, p50Ms: round2(percentile(sorted, 50) || 0), p99Ms: round2(percentile(sorted, 99) || 0) };
  };
  return { before: of(before), after: of(after) };
}

/**
 * One turn of the event loop. A caller issues its next request only after one, as a network
 * client's next request reaches a server through I/O: a call that completes in microtasks alone
 * (an in-process query over the memtable or a flat slab) would otherwise starve timers and I/O for
 * the whole run.
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Runs `count` calls of `fn(i)` with `concurrency` in flight; returns per-call latencies and wall
 * time. Each call starts after one event-loop turn, which its latency includes: the time it
 * waits there for the other callers' synchronous work is its queueing delay, as a request's
 * would be in a server (latency × QPS ≈ concurrency holds).
 */
export async function runConcurrent(count: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<{ latencies: number[]; wallMs: number }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++;
        if (i >= count) return;
        const t = performance.now();
        await nextTurn();
        await fn(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { latencies, wallMs: performance.now() - started };
}

/**
 * Calls `fn(i)` one at a time, each after one event-loop turn as in {@link runConcurrent}, for as
 * long as `task` (a background phase the calls measure themselves against) is running; then
 * waits for it, so its failure fails the measurement.
 */
export async function runWhile(task: Promise<unknown>, fn: (i: number) => Promise<void>): Promise<{ latencies: number[]; wallMs: number }> {
  let busy = true;
  const settled = task.finally(() => {
    busy = false;
  });
  settled.catch(() => {}); // rethrown below, once the calls stop
  const latencies: number[] = [];
  const started = performance.now();
  for (let i = 0; busy; i++) {
    const t = performance.now();
    await nextTurn();
    await fn(i);
    latencies.push(performance.now() - t);
  }
  const wallMs = performance.now() - started;
  await settled;
  return { latencies, wallMs };
}

/** Two decimals, for ratios and milliseconds in the facts. */
export function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** A namespace's slabs as the facts list them: `L<level> <records> <index>`. */
export function slabSummary(slabs: readonly { level: number; records: number; index: string }[]): string[] {
  return slabs.map((s) => `L${s.level} ${s.records} ${s.index}`);
}

export function recallAt(k: number, truth: ArrayLike<number>, got: ArrayLike<number>): number {
  const want = new Set(
    Array.from(truth)
      .slice(0, k)
      .filter((x) => x >= 0),
  );
  if (want.size === 0) return 1;
  let hits = 0;
  for (const x of Array.from(got).slice(0, k)) if (want.has(x)) hits++;
  return hits / want.size;
}

/**
 * Rows at concurrency 1, 8 and 32 of one system: `requests` calls of `query(i)` (the ids it
 * answered, best first) at each, recall@k against `truth` (query i is row i % queryCount).
 */
export async function concurrencyRows(
  row: { system: string; scenario: string },
  requests: number,
  query: (i: number) => Promise<number[]>,
  truth: { k: number; ids: Int32Array; queryCount: number },
  log: (...parts: unknown[]) => void,
): Promise<QueryRow[]> {
  const rows: QueryRow[] = [];
  for (const concurrency of [1, 8, 32]) {
    const got: number[][] = new Array(requests);
    const run = await runConcurrent(requests, concurrency, async (i) => {
      got[i] = await query(i);
    });
    rows.push({ ...row, concurrency, recall: meanRecall(truth.k, got, truth.ids, truth.queryCount), latency: summarize(run.latencies, run.wallMs) });
    log(`${row.system} c`, concurrency, rows.at(-1));
  }
  return rows;
}

/** Mean recall@k over a run: `got[i]` answered query i, whose truth is row i % queryCount of `truth` (k ids per row). */
export function meanRecall(k: number, got: number[][], truth: Int32Array, queryCount: number): number {
  if (got.length === 0) return NaN;
  return got.reduce((s, g, i) => s + recallAt(k, truth.subarray((i % queryCount) * k, ((i % queryCount) + 1) * k), g), 0) / got.length;
}
