/**
 * One soak run: start the backend and the server, create the indexes, run the clients for the
 * chosen minutes while restarting the server now and then (alternately SIGTERM and SIGKILL, at
 * seeded intervals, none in the final restart-free stretch), sample the server's memory and file
 * descriptors, then check everything against the model — once on the running server, once more
 * after a clean restart — and build the result.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mulberry32 } from '@conifer/core';
import { Conifer } from '@conifer/sdk';
import type { DataApi } from './api.ts';
import { startBackend, type RunningBackend } from './backends.ts';
import { EngineActivity } from './engine-activity.ts';
import { OP_WEIGHTS, SoakClient, type RunChecks } from './client.ts';
import type { SoakOptions } from './options.ts';
import { machine, type Distribution, type ResourceReport, type RestartEvent, type SoakResult } from './report.ts';
import { RestApi } from './rest-api.ts';
import { Sampler } from './sampler.ts';
import { SdkApi } from './sdk-api.ts';
import { freePort, ServerController, type StopKind } from './server.ts';
import { Findings, OP_KINDS, OpStats, type OpKind } from './stats.ts';
import { computeTrend, median, TREND_METHOD, type Sample, type TrendOptions } from './trend.ts';
import { verifyAll, type VerifyTarget } from './verify.ts';
import { INDEXES, Rng } from './workload.ts';

/** Thresholds small enough that flushes, compactions and GC run all the time. */
const ENGINE_TUNING: Record<string, string> = {
  CONIFER_MEMTABLE_MAX_RECORDS: '250',
  CONIFER_MEMTABLE_MAX_AGE_MS: '2000',
  CONIFER_COMPACTION_TRIGGER: '2',
  CONIFER_GC_GRACE_MS: '2000',
  CONIFER_LOG_LEVEL: 'warn',
};

/** Tuning variables of the soak's own environment that reach the server (documented in apps/server/src/config.ts). */
const PASSED_THROUGH = /^CONIFER_(MEMTABLE_|COMPACTION_|GC_|INDEX_|LOG_LEVEL$)/;
/** What a process needs from the environment to run at all. */
const BASE_ENV = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'LC_ALL', 'LD_LIBRARY_PATH', 'TZ'];

const RSS_TREND: TrendOptions = { unit: 'MiB', floorPerMin: 1, warmupS: 30, minFitS: 120, minSamples: 20, phaseWindowS: 30 };
const FD_TREND: TrendOptions = { ...RSS_TREND, unit: 'fds', floorPerMin: 0.5 };

export interface FinalCheckContext {
  apis: readonly DataApi[];
  targets: readonly VerifyTarget[];
}

export interface RunSoakOptions extends SoakOptions {
  /** Changes to the operations' relative frequencies (`OP_WEIGHTS` of client.ts). */
  weights?: Partial<Record<OpKind, number>>;
  /** Runs just before the last end check (tests corrupt the server's data here, behind the model's back). */
  beforeFinalCheck?: (context: FinalCheckContext) => Promise<void>;
}

export function serverEnv(options: { backend: RunningBackend; dataDir: string; port: number; apiKey: string }): Record<string, string> {
  const own = (names: (name: string) => boolean) => Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => names(e[0]) && e[1] !== undefined));
  return {
    ...own((name) => BASE_ENV.includes(name)),
    ...ENGINE_TUNING,
    ...own((name) => PASSED_THROUGH.test(name)),
    CONIFER_HOST: '127.0.0.1',
    CONIFER_PORT: String(options.port),
    CONIFER_DATA_DIR: options.dataDir,
    CONIFER_API_KEY: options.apiKey,
    CONIFER_STORAGE: options.backend.storage,
    CONIFER_RATE_LIMITS: 'off',
    ...options.backend.env,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

export async function runSoak(options: RunSoakOptions): Promise<SoakResult> {
  const { log } = options;
  const startedAt = new Date();
  const t0 = performance.now();
  const clock = () => (performance.now() - t0) / 1000;
  const runDir = await mkdtemp(join(tmpdir(), 'conifer-soak-'));
  const dataDir = join(runDir, 'data');
  await mkdir(dataDir);
  const findings = new Findings((line) => log(`soak: ${line}`));
  const stats = new OpStats();
  const failures: string[] = [];
  const restarts: RestartEvent[] = [];
  const generationStarts = new Map<number, number>();
  const endChecks: SoakResult['endChecks'] = [];
  let clients: SoakClient[] = [];
  let workloadS = 0;
  let sampler: Sampler | undefined;
  let server: ServerController | undefined;
  let serverTuning: Record<string, string> = {};
  let activity: EngineActivity | undefined;

  log(`soak: backend ${options.backend}, ${options.minutes} min, ${options.clients} clients, seed ${options.seed}; run directory ${runDir}`);
  const backend = await startBackend(options.backend, { dataDir, prefix: `soak-${randomUUID().slice(0, 8)}`, log });
  log(`soak: storage ${backend.storage} (${backend.description})`);
  try {
    const port = await freePort();
    const apiKey = `soak-admin-${randomBytes(12).toString('hex')}`;
    const env = serverEnv({ backend, dataDir, port, apiKey });
    serverTuning = Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('CONIFER_') && !['CONIFER_API_KEY', 'CONIFER_DATA_DIR', 'CONIFER_STORAGE', 'CONIFER_PORT', 'CONIFER_HOST'].includes(k)));
    const srv = new ServerController({
      port,
      env,
      logFile: join(runDir, 'server.log'),
      onUnexpectedExit: (detail) => findings.finding({ what: 'server process exited on its own', message: detail, atS: clock(), generation: srv.generation }),
      onUp: (generation) => generationStarts.set(generation, clock()),
    });
    server = srv;
    await srv.start();

    const admin = new Conifer({ url: srv.url, apiKey });
    for (const index of INDEXES) await admin.createIndex({ name: index.name, dimension: index.dimension, metric: index.metric });
    const apis: DataApi[] = [new SdkApi(srv.url, apiKey), new RestApi(apiKey, await RestApi.resolveHosts(srv.url, apiKey, INDEXES.map((i) => i.name)))];

    const engine = new EngineActivity(admin, () =>
      clients.flatMap((c) => c.namespaces.filter((_, i) => c.models[i]!.existence().includes(true)).map((ns) => ({ index: ns.index.name, name: ns.name }))),
    );
    activity = engine;
    clients = Array.from({ length: options.clients }, (_, i) => new SoakClient(i, { server: srv, apis, stats, findings, clock, rng: new Rng(mulberry32(options.seed * 7919 + i + 1)), weights: { ...OP_WEIGHTS, ...options.weights } }));
    sampler = new Sampler({ server: srv, backend, dataDir, clock, everyMs: options.sampleEveryS * 1000, storageEveryMs: 10_000 });
    sampler.start();

    let stop = false;
    const workloadStart = clock();
    const running = Promise.all(clients.map((c) => c.run(() => stop)));
    const progress = setInterval(() => log(progressLine(clock() - workloadStart, stats, restarts, findings, sampler!)), 30_000);
    const polling = setInterval(() => void engine.poll(), 10_000);
    let aborted = false;
    try {
      await restartLoop({ server: srv, options, clock, workloadStart, restarts, findings, beforeStop: () => engine.poll() });
    } catch (err) {
      aborted = true;
      failures.push(`run aborted: ${err instanceof Error ? err.message : String(err)}`);
      srv.abandon();
    } finally {
      stop = true;
      clearInterval(progress);
      clearInterval(polling);
    }
    await running;
    await srv.settled();
    workloadS = clock() - workloadStart;
    if (!aborted) await engine.poll();
    await sampler.stop();
    log(progressLine(workloadS, stats, restarts, findings, sampler));

    if (!aborted) {
      const targets = clients.flatMap((c) => c.namespaces.map((spec, i) => ({ spec, model: c.models[i]! })));
      const check = async (phase: string) => {
        const before = findings.mismatchCount;
        try {
          const counts = await verifyAll(targets, apis, (target, problems) => {
            for (const p of problems) findings.mismatch({ phase, check: p.check, index: target.spec.index.name, namespace: target.spec.name, ...(p.id !== undefined ? { id: p.id } : {}), expected: p.expected, observed: p.observed, atS: clock(), generation: srv.generation });
          });
          endChecks.push({ phase, counts, mismatches: findings.mismatchCount - before });
          log(`soak: ${phase}: ${counts.recordsChecked} records, ${counts.deletedIdsChecked} deleted ids, ${counts.namespacesChecked + counts.deletedNamespacesChecked} namespaces, ${counts.queriesChecked} queries checked; ${findings.mismatchCount - before} mismatches`);
        } catch (err) {
          findings.finding({ what: `${phase} check could not finish`, message: err instanceof Error ? err.message : String(err), atS: clock(), generation: srv.generation });
        }
      };
      if (!options.finalRestart) await options.beforeFinalCheck?.({ apis, targets });
      await check('end');
      if (options.finalRestart) {
        const exit = await srv.stop('clean');
        if (exit.code !== 0 || exit.forced) findings.finding({ what: 'clean stop before the last check failed', message: `exit code ${exit.code}, signal ${exit.signal}${exit.forced ? ', killed after the stop timeout' : ''}`, atS: clock(), generation: srv.generation });
        await srv.start();
        await options.beforeFinalCheck?.({ apis, targets });
        await check('end after restart');
      }
    }
  } catch (err) {
    failures.push(`run failed: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    await sampler?.stop();
    await server?.close().catch(() => undefined);
    await backend.stop().catch(() => undefined);
  }

  if (findings.mismatchCount > 0) failures.push(`${findings.mismatchCount} mismatches with the model`);
  if (findings.findingCount > 0) failures.push(`${findings.findingCount} findings (${findings.serverErrorCount} HTTP 5xx)`);
  const result = buildResult({ options, startedAt, backend, clients, stats, findings, restarts, endChecks, sampler, server, generationStarts, workloadS, totalS: clock(), failures, serverTuning, activity: activity?.totals ?? { flushes: 0, compactions: 0 } });
  if (options.keep === 'always' || (options.keep === 'on-failure' && !result.passed)) log(`soak: run directory kept: ${runDir} (server.log, data/)`);
  else await rm(runDir, { recursive: true, force: true });
  return result;
}

async function restartLoop(context: {
  server: ServerController;
  options: SoakOptions;
  clock: () => number;
  workloadStart: number;
  restarts: RestartEvent[];
  findings: Findings;
  beforeStop: () => Promise<void>;
}): Promise<void> {
  const { server, options, clock, workloadStart, restarts, findings } = context;
  const rng = new Rng(mulberry32(options.seed ^ 0x5eed));
  const interval = () => options.restartEveryS[0] + rng.float() * (options.restartEveryS[1] - options.restartEveryS[0]);
  const end = workloadStart + options.minutes * 60;
  const restartsUntil = workloadStart + options.minutes * 60 * (1 - options.steadyFraction);
  let kind: StopKind = rng.chance(0.5) ? 'clean' : 'kill';
  for (let next = workloadStart + interval(); next < restartsUntil; next = clock() + interval()) {
    await sleep((next - clock()) * 1000);
    await server.settled();
    await context.beforeStop();
    const atS = clock();
    const stopped = performance.now();
    const exit = await server.stop(kind);
    const stopMs = performance.now() - stopped;
    if (kind === 'clean' && (exit.code !== 0 || exit.forced)) {
      findings.finding({ what: 'clean stop failed', message: `SIGTERM: exit code ${exit.code}, signal ${exit.signal}${exit.forced ? ', killed after the stop timeout' : ''}`, atS, generation: server.generation });
    }
    const started = performance.now();
    await startWithRetries(server, findings, clock);
    restarts.push({ atS: round1(atS - workloadStart), kind, stopMs: Math.round(stopMs), startMs: Math.round(performance.now() - started), exit: exit.signal ?? `code ${exit.code}` });
    options.log(`soak: restart ${restarts.length} (${kind === 'clean' ? 'SIGTERM' : 'kill -9'}) at ${(atS - workloadStart).toFixed(0)} s: stopped in ${Math.round(stopMs)} ms, up again in ${Math.round(performance.now() - started)} ms`);
    kind = kind === 'clean' ? 'kill' : 'clean';
  }
  await sleep((end - clock()) * 1000);
}

async function startWithRetries(server: ServerController, findings: Findings, clock: () => number): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await server.start();
      return;
    } catch (err) {
      findings.finding({ what: 'server did not start', message: err instanceof Error ? err.message : String(err), atS: clock(), generation: server.generation });
      if (attempt >= 3) throw err;
    }
  }
}

function progressLine(elapsedS: number, stats: OpStats, restarts: RestartEvent[], findings: Findings, sampler: Sampler): string {
  const ops = Object.values(stats.summary()).reduce((sum, o) => sum + o.count, 0);
  const last = sampler.resources[sampler.resources.length - 1];
  return `soak: ${elapsedS.toFixed(0)} s: ${ops} operations, ${restarts.length} restarts, ${findings.mismatchCount} mismatches, ${findings.findingCount} findings${last ? `, server RSS ${(last.rssBytes / 2 ** 20).toFixed(0)} MiB, ${last.fds} fds` : ''}`;
}

const round1 = (x: number) => Math.round(x * 10) / 10;
const MiB = (bytes: number) => round1(bytes / 2 ** 20);

function distribution(values: readonly number[]): Distribution {
  if (values.length === 0) return { min: NaN, median: NaN, max: NaN };
  return { min: Math.min(...values), median: median(values), max: Math.max(...values) };
}

function buildResult(context: {
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
    restarts: { clean: context.restarts.filter((r) => r.kind === 'clean').length, kill: context.restarts.filter((r) => r.kind === 'kill').length, events: context.restarts },
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
    },
    passed: context.failures.length === 0 && context.endChecks.length > 0,
    failures: context.endChecks.length === 0 && context.failures.length === 0 ? ['no end check ran'] : context.failures,
  };
}
