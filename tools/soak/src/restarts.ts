/**
 * The restarts of a run: at seeded intervals until the restart-free last part of the run,
 * alternately SIGTERM (waiting for the drain, flush and exit) and SIGKILL, each followed by a new
 * start of the server on the same data and port.
 */
import { mulberry32 } from '@conifer/core';
import type { SoakOptions } from './options.ts';
import type { RestartEvent } from './report.ts';
import type { ServerController, StopKind } from './server.ts';
import type { Findings } from './stats.ts';
import { Rng } from './workload.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** Restarts the server on schedule and returns at the end of the workload (`options.minutes` after `workloadStart`). */
export async function restartLoop(context: {
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
    // Bounded: a server that stopped answering must still be restarted.
    await Promise.race([context.beforeStop(), sleep(10_000)]);
    const atS = clock();
    const stopped = performance.now();
    const exit = await server.stop(kind);
    const stopMs = performance.now() - stopped;
    if (kind === 'clean' && (exit.code !== 0 || exit.forced)) {
      findings.finding({
        what: 'clean stop failed',
        message: `SIGTERM: exit code ${exit.code}, signal ${exit.signal}${exit.forced ? ', killed after the stop timeout' : ''}`,
        atS,
        generation: server.generation,
      });
    }
    const started = performance.now();
    await startWithRetries(server, findings, clock);
    restarts.push({
      atS: Math.round((atS - workloadStart) * 10) / 10,
      kind,
      stopMs: Math.round(stopMs),
      startMs: Math.round(performance.now() - started),
      exit: exit.signal ?? `code ${exit.code}`,
    });
    options.log(
      `soak: restart ${restarts.length} (${kind === 'clean' ? 'SIGTERM' : 'kill -9'}) at ${(atS - workloadStart).toFixed(0)} s: stopped in ${Math.round(stopMs)} ms, up again in ${Math.round(performance.now() - started)} ms`,
    );
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
      findings.finding({
        what: 'server did not start',
        message: err instanceof Error ? err.message : String(err),
        atS: clock(),
        generation: server.generation,
      });
      if (attempt >= 3) throw err;
    }
  }
}
