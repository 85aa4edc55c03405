import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, openSync, readFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';

/**
 * Running emulator processes: free loopback ports, a watchdog so that no emulator outlives the
 * process that started it (even a kill -9 of a test worker), readiness polling, and stop.
 */

/**
 * Runs "$@" and kills it (TERM, then KILL after 5 s) when our stdin reaches end-of-file: when the
 * parent calls stop() — or dies, since the kernel closes the pipe then.
 */
const WATCHDOG = [
  'exec 3<&0',
  '"$@" </dev/null 3<&- &',
  'child=$!',
  '{ cat <&3 >/dev/null 2>&1; kill -TERM "$child" 2>/dev/null;',
  '  i=0; while [ $i -lt 50 ] && kill -0 "$child" 2>/dev/null; do sleep 0.1; i=$((i+1)); done;',
  '  kill -KILL "$child" 2>/dev/null; } &',
  'exec 3<&-',
  'wait "$child"',
].join('\n');

export interface ServiceSpec {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  /** The service's log goes here (stdout and stderr). */
  logFile: string;
  /** Resolves true once the service answers. */
  ready: () => Promise<boolean>;
  /** How long to wait for readiness. Default 60 s. */
  timeoutMs?: number;
  /** Detached: survives this process (for `cli.ts start --detach`); stop it by pid. */
  detached?: boolean;
}

export interface RunningService {
  name: string;
  pid: number;
  logFile: string;
  stop(): Promise<void>;
}

export async function startService(spec: ServiceSpec): Promise<RunningService> {
  const log = openSync(spec.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spec.detached
      ? spawn(spec.command, spec.args, { env: { ...process.env, ...spec.env }, stdio: ['ignore', log, log], detached: true })
      : spawn('/bin/sh', ['-c', WATCHDOG, 'conifer-emulator-watchdog', spec.command, ...spec.args], {
          env: { ...process.env, ...spec.env },
          stdio: ['pipe', log, log],
        });
  } finally {
    closeSync(log);
  }
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
    child.once('error', (err) => {
      exited = { code: -1, signal: null };
      appendError(spec.logFile, err);
      resolve();
    });
  });
  // Neither the process nor its pipe keeps our event loop alive: a test run that forgets to stop
  // an emulator still exits, and the watchdog then stops the emulator.
  child.unref();
  (child.stdin as Socket | null)?.unref();

  const stop = async () => {
    if (exited) return;
    if (spec.detached) child.kill('SIGTERM');
    else child.stdin?.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 8_000);
    await exit;
    clearTimeout(timer);
  };

  const deadline = Date.now() + (spec.timeoutMs ?? 60_000);
  for (;;) {
    if (exited) throw new Error(`${spec.name} exited during startup (${exited.signal ?? `code ${exited.code}`}); log ${spec.logFile}:\n${tail(spec.logFile)}`);
    if (await spec.ready().catch(() => false)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${spec.name} did not become ready within ${spec.timeoutMs ?? 60_000} ms; log ${spec.logFile}:\n${tail(spec.logFile)}`);
    }
    await sleep(100);
  }
  return { name: spec.name, pid: child.pid!, logFile: spec.logFile, stop };
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * `count` consecutive ports of 127.0.0.1 free now, for a server's `CONIFER_INDEX_PORTS`: a random
 * start between 20000 and 32000, below Linux's ephemeral range, so other tests' free ports and
 * client connections do not land in it.
 */
export async function freePortRange(count: number): Promise<{ first: number; last: number }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = 20_000 + Math.floor(Math.random() * (12_000 - count));
    const ports = Array.from({ length: count }, (_, i) => first + i);
    if ((await Promise.all(ports.map(portIsFree))).every(Boolean)) return { first, last: first + count - 1 };
  }
  throw new Error(`no ${count} consecutive free ports between 20000 and 32000 after 50 tries`);
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port }, () => server.close(() => resolve(true)));
  });
}

/** True when an HTTP GET of `url` answers as `accept` wants (by default, 2xx). */
export async function httpReady(url: string, accept: (res: Response) => boolean = (res) => res.ok): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  await res.body?.cancel();
  return accept(res);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function appendError(file: string, err: Error): void {
  try {
    appendFileSync(file, `\n[conifer-emulators] could not start: ${err.message}\n`);
  } catch {
    // the log is best-effort
  }
}
