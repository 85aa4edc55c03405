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
import { freePort, freePortRange } from '@conifer/emulators';
import { Conifer } from '@conifer/sdk';
import { timedFetch, type DataApi } from './api.ts';
import { startBackend, type RunningBackend } from './backends.ts';
import { OP_WEIGHTS, SoakClient } from './client.ts';
import { EngineActivity } from './engine-activity.ts';
import type { SoakOptions } from './options.ts';
import type { RestartEvent, SoakResult } from './report.ts';
import { restartLoop } from './restarts.ts';
import { RestApi } from './rest-api.ts';
import { buildResult } from './result.ts';
import { Sampler } from './sampler.ts';
import { SdkApi } from './sdk-api.ts';
import { ServerController } from './server.ts';
import { Findings, OpStats, type OpKind } from './stats.ts';
import { verifyAll, type VerifyTarget } from './verify.ts';
import { INDEXES, Rng } from './workload.ts';

type EndCheckResult = SoakResult['endChecks'][number];

/** Thresholds small enough that flushes, compactions and GC run all the time. */
const ENGINE_TUNING: Record<string, string> = {
  CONIFER_MEMTABLE_MAX_RECORDS: '250',
  CONIFER_MEMTABLE_MAX_AGE_MS: '2000',
  CONIFER_COMPACTION_TRIGGER: '2',
  CONIFER_GC_GRACE_MS: '2000',
  CONIFER_LOG_LEVEL: 'warn',
};

/**
 * Variables of the soak's own environment that reach the server (documented in
 * apps/server/src/settings.ts): tuning, and `CONIFER_DATABASE_URL` to run the control plane on
 * PostgreSQL instead of embedded PGlite.
 */
const PASSED_THROUGH = /^CONIFER_(MEMTABLE_|COMPACTION_|GC_|INDEX_|LOG_LEVEL$|DATABASE_URL$)/;
/**
 * What a process needs from the environment to run at all, and the memory allocator's settings
 * (`LD_PRELOAD` of another malloc, `MALLOC_ARENA_MAX`), so a soak can compare allocators.
 */
const BASE_ENV = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'LC_ALL', 'LD_LIBRARY_PATH', 'TZ', 'LD_PRELOAD', 'MALLOC_ARENA_MAX'];

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

export function serverEnv(options: { backend: RunningBackend; dataDir: string; port: number; indexPorts?: string; apiKey: string }): Record<string, string> {
  const own = (names: (name: string) => boolean) =>
    Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => names(e[0]) && e[1] !== undefined));
  return {
    ...own((name) => BASE_ENV.includes(name)),
    ...ENGINE_TUNING,
    ...own((name) => PASSED_THROUGH.test(name)),
    CONIFER_HOST: '127.0.0.1',
    CONIFER_PORT: String(options.port),
    // Each index on a port of its own, as `npm start` serves them, from a range free now: the
    // default (the 200 ports after CONIFER_PORT) could meet other processes' ports on a busy machine.
    ...(options.indexPorts !== undefined && process.env['CONIFER_INDEX_PORTS'] === undefined ? { CONIFER_INDEX_PORTS: options.indexPorts } : {}),
    CONIFER_DATA_DIR: options.dataDir,
    CONIFER_API_KEY: options.apiKey,
    CONIFER_STORAGE: options.backend.storage,
    CONIFER_RATE_LIMITS: 'off',
    ...options.backend.env,
  };
}

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
    const range = await freePortRange(16);
    const apiKey = `soak-admin-${randomBytes(12).toString('hex')}`;
    const env = serverEnv({ backend, dataDir, port, indexPorts: `${range.first}-${range.last}`, apiKey });
    serverTuning = Object.fromEntries(
      Object.entries(env)
        .filter(
          ([k]) =>
            (k.startsWith('CONIFER_') && !['CONIFER_API_KEY', 'CONIFER_DATA_DIR', 'CONIFER_STORAGE', 'CONIFER_PORT', 'CONIFER_HOST'].includes(k)) ||
            k === 'LD_PRELOAD' ||
            k === 'MALLOC_ARENA_MAX',
        )
        // The database URL may hold a password: the result says only that PostgreSQL was used.
        .map(([k, v]) => (k === 'CONIFER_DATABASE_URL' ? [k, 'postgresql (given)'] : [k, v])),
    );
    const srv = new ServerController({
      port,
      env,
      logFile: join(runDir, 'server.log'),
      onUnexpectedExit: (detail) => findings.finding({ what: 'server process exited on its own', message: detail, atS: clock(), generation: srv.generation }),
      onUp: (generation) => generationStarts.set(generation, clock()),
    });
    server = srv;
    await srv.start();

    const admin = new Conifer({ url: srv.url, apiKey, fetch: timedFetch });
    for (const index of INDEXES) await admin.createIndex({ name: index.name, dimension: index.dimension, metric: index.metric });
    const apis: DataApi[] = [
      new SdkApi(srv.url, apiKey),
      new RestApi(
        apiKey,
        await RestApi.resolveHosts(
          srv.url,
          apiKey,
          INDEXES.map((i) => i.name),
        ),
      ),
    ];

    const engine = new EngineActivity(admin, () =>
      clients.flatMap((c) => c.namespaces.filter((_, i) => c.models[i]!.existence().includes(true)).map((ns) => ({ index: ns.index.name, name: ns.name }))),
    );
    activity = engine;
    clients = Array.from(
      { length: options.clients },
      (_, i) =>
        new SoakClient(i, {
          server: srv,
          apis,
          stats,
          findings,
          clock,
          rng: new Rng(mulberry32(options.seed * 7919 + i + 1)),
          weights: { ...OP_WEIGHTS, ...options.weights },
        }),
    );
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
        const done = await endCheck(phase, targets, apis, findings, () => ({ atS: clock(), generation: srv.generation }));
        if (done) {
          endChecks.push(done);
          log(
            `soak: ${phase}: ${done.counts.recordsChecked} records, ${done.counts.deletedIdsChecked} deleted ids, ${done.counts.namespacesChecked + done.counts.deletedNamespacesChecked} namespaces, ${done.counts.queriesChecked} queries checked; ${done.mismatches} mismatches`,
          );
        }
      };
      if (!options.finalRestart) await options.beforeFinalCheck?.({ apis, targets });
      await check('end');
      if (options.finalRestart) {
        const exit = await srv.stop('clean');
        if (exit.code !== 0 || exit.forced)
          findings.finding({
            what: 'clean stop before the last check failed',
            message: `exit code ${exit.code}, signal ${exit.signal}${exit.forced ? ', killed after the stop timeout' : ''}`,
            atS: clock(),
            generation: srv.generation,
          });
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
  const result = buildResult({
    options,
    startedAt,
    backend,
    clients,
    stats,
    findings,
    restarts,
    endChecks,
    sampler,
    server,
    generationStarts,
    workloadS,
    totalS: clock(),
    failures,
    serverTuning,
    activity: activity?.totals ?? { flushes: 0, compactions: 0 },
  });
  if (options.keep === 'always' || (options.keep === 'on-failure' && !result.passed)) log(`soak: run directory kept: ${runDir} (server.log, data/)`);
  else await rm(runDir, { recursive: true, force: true });
  return result;
}

function progressLine(elapsedS: number, stats: OpStats, restarts: RestartEvent[], findings: Findings, sampler: Sampler): string {
  const ops = Object.values(stats.summary()).reduce((sum, o) => sum + o.count, 0);
  const last = sampler.resources[sampler.resources.length - 1];
  return `soak: ${elapsedS.toFixed(0)} s: ${ops} operations, ${restarts.length} restarts, ${findings.mismatchCount} mismatches, ${findings.findingCount} findings${last ? `, server RSS ${(last.rssBytes / 2 ** 20).toFixed(0)} MiB, ${last.fds} fds` : ''}`;
}

/** One full check of every namespace; undefined when it could not finish (a finding). */
async function endCheck(
  phase: string,
  targets: readonly VerifyTarget[],
  apis: readonly DataApi[],
  findings: Findings,
  now: () => { atS: number; generation: number },
): Promise<EndCheckResult | undefined> {
  const before = findings.mismatchCount;
  try {
    const counts = await verifyAll(targets, apis, (target, problems) => {
      for (const p of problems)
        findings.mismatch({
          phase,
          check: p.check,
          index: target.spec.index.name,
          namespace: target.spec.name,
          ...(p.id !== undefined ? { id: p.id } : {}),
          expected: p.expected,
          observed: p.observed,
          ...now(),
        });
    });
    return { phase, counts, mismatches: findings.mismatchCount - before };
  } catch (err) {
    findings.finding({ what: `${phase} check could not finish`, message: err instanceof Error ? err.message : String(err), ...now() });
    return undefined;
  }
}
