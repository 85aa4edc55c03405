/**
 * The result of a run, assembled from what the run collected: operations, restarts, checks,
 * findings, and the resource samples with their distributions and trend verdicts.
 */
import type { RunningBackend } from './backends.ts';
import type { RunChecks, SoakClient } from './client.ts';
import type { SoakOptions } from './options.ts';
import { machine, type Distribution, type ResourceReport, type RestartEvent, type SoakResult } from './report.ts';
import type { Sampler } from './sampler.ts';
import type { ServerController } from './server.ts';
import { OP_KINDS, type Findings, type OpStats } from './stats.ts';
import { computeTrend, median, TREND_METHOD, type Sample, type TrendOptions } from './trend.ts';

const RSS_TREND: TrendOptions = { unit: 'MiB', floorPerMin: 1, warmupS: 30, minFitS: 120, minSamples: 20, phaseWindowS: 30 };
const FD_TREND: TrendOptions = { ...RSS_TREND, unit: 'fds', floorPerMin: 0.5 };

const round1 = (x: number) => Math.round(x * 10) / 10;
const MiB = (bytes: number) => round1(bytes / 2 ** 20);

function distribution(values: readonly number[]): Distribution {
  if (values.length === 0) return { min: NaN, median: NaN, max: NaN };
  return { min: Math.min(...values), median: median(values), max: Math.max(...values) };
}

export function buildResult(context: {
  options: SoakOptions;
  startedAt: Date;
  backend: RunningBackend;
  clients: SoakClient[];
  stats: OpStats;
  findings: Findings;
  restarts: RestartEvent[];
  endChecks: SoakResult['endChecks'];
  sampler: Sampler | undefined;
  server: ServerController | undefined;
  generationStarts: Map<number, number>;
  workloadS: number;
  totalS: number;
  failures: string[];
  serverTuning: Record<string, string>;
  activity: { flushes: number; compactions: number };
}): SoakResult {
  const { options, stats, findings, sampler } = context;
  const operations = stats.summary();
  const resources = sampler?.resources ?? [];
  const storage = sampler?.storage ?? [];
  const rssSamples: Sample[] = resources.map((s) => ({ t: s.t, epoch: s.epoch, value: s.rssBytes / 2 ** 20 }));
  const fdSamples: Sample[] = resources.map((s) => ({ t: s.t, epoch: s.epoch, value: s.fds }));
  const withHeap = resources.flatMap((s) => (s.heap !== undefined ? [{ ...s, heap: s.heap }] : []));
  const heapSeries = (value: (s: (typeof withHeap)[number]) => number): Sample[] =>
    withHeap.map((s) => ({ t: s.t, epoch: s.epoch, value: value(s) / 2 ** 20 }));
  const report = (samples: Sample[], trend: TrendOptions, round: (x: number) => number): ResourceReport => {
    const d = distribution(samples.map((s) => s.value));
    return { unit: trend.unit, min: round(d.min), median: round(d.median), max: round(d.max), trend: computeTrend(samples, context.generationStarts, trend) };
  };
  const runChecks = context.clients.reduce<RunChecks>(
    (sum, c) => ({
      readBacks: sum.readBacks + c.checks.readBacks,
      recordsCompared: sum.recordsCompared + c.checks.recordsCompared,
      queriesChecked: sum.queriesChecked + c.checks.queriesChecked,
      listsChecked: sum.listsChecked + c.checks.listsChecked,
      afterRestart: sum.afterRestart + c.checks.afterRestart,
    }),
    { readBacks: 0, recordsCompared: 0, queriesChecked: 0, listsChecked: 0, afterRestart: 0 },
  );
  const withLast = (values: number[]) => ({ ...distribution(values), last: values[values.length - 1] ?? NaN });
  const emulator = resources.flatMap((s) => (s.emulatorRssBytes !== undefined ? [MiB(s.emulatorRssBytes)] : []));
  return {
    backend: options.backend,
    storage: context.backend.description,
    command: options.command,
    machine: machine(),
    startedAt: context.startedAt.toISOString(),
    seed: options.seed,
    clients: options.clients,
    plannedMinutes: options.minutes,
    workloadS: round1(context.workloadS),
    totalS: round1(context.totalS),
    serverEnv: context.serverTuning,
    operations,
    totalOperations: OP_KINDS.reduce((sum, k) => sum + operations[k].count, 0),
    byFace: { ...stats.byFace },
    engineActivity: context.activity,
    restarts: {
      clean: context.restarts.filter((r) => r.kind === 'clean').length,
      kill: context.restarts.filter((r) => r.kind === 'kill').length,
      events: context.restarts,
    },
    runChecks,
    endChecks: context.endChecks,
    mismatchCount: findings.mismatchCount,
    mismatches: findings.mismatches,
    findingCount: findings.findingCount,
    serverErrors: findings.serverErrorCount,
    findings: findings.findings,
    serverLog: context.server?.logSummary ?? { errors: 0, warnings: 0, firstErrors: [] },
    rss: report(rssSamples, RSS_TREND, round1),
    fds: report(fdSamples, FD_TREND, (x) => x),
    ...(withHeap.length > 0
      ? {
          memory: {
            heapUsed: report(
              heapSeries((s) => s.heap.heapUsedBytes),
              RSS_TREND,
              round1,
            ),
            external: report(
              heapSeries((s) => s.heap.externalBytes),
              RSS_TREND,
              round1,
            ),
            nativeRest: report(
              heapSeries((s) => s.rssBytes - s.heap.heapTotalBytes - s.heap.externalBytes),
              RSS_TREND,
              round1,
            ),
          },
        }
      : {}),
    ...(emulator.length > 0 ? { emulatorRss: { unit: 'MiB', ...distribution(emulator) } } : {}),
    ...(storage.length > 0
      ? {
          stored: {
            objects: withLast(storage.map((s) => s.objects)),
            objectMiB: withLast(storage.map((s) => MiB(s.objectBytes))),
            dataDirMiB: withLast(storage.map((s) => MiB(s.dataDirBytes))),
          },
        }
      : {}),
    trendMethod: TREND_METHOD,
    samples: {
      resources: resources.map((s) => [round1(s.t), s.epoch, MiB(s.rssBytes), s.fds]),
      storage: storage.map((s) => [round1(s.t), s.objects, MiB(s.objectBytes)]),
      heap: withHeap.map((s) => [round1(s.t), s.epoch, MiB(s.heap.heapUsedBytes), MiB(s.heap.heapTotalBytes), MiB(s.heap.externalBytes)]),
    },
    passed: context.failures.length === 0 && context.endChecks.length > 0,
    failures: context.endChecks.length === 0 && context.failures.length === 0 ? ['no end check ran'] : context.failures,
  };
}
