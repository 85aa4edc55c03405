/**
 * The real Conifer server as a child process (`node apps/server/src/main.ts`, what `npm start`
 * runs), for the e2e tests and the HTTP benchmark: a package never imports an app, so it is started
 * by path. It listens on a free port of 127.0.0.1 (CONIFER_PORT=0; the URL is read from its
 * "Conifer listening on" line, so another program on a port cannot pass for it) and is ready once
 * /healthz answers. A start that fails kills the child.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tools/emulators/src/ → ../../..). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface ServerProcessOptions {
  dataDir: string;
  /** The admin API key (CONIFER_API_KEY). */
  apiKey: string;
  /** More settings, over the defaults (CONIFER_LOG_LEVEL=warn) and this process's environment. */
  env?: Record<string, string> | undefined;
  /** How long to wait for /healthz. Default 120 s. */
  timeoutMs?: number | undefined;
  /**
   * Runs the server in a process group of its own, so a Ctrl-C at the terminal reaches only the
   * parent, which then stops it once (a second signal would make the server exit without flushing).
   */
  detached?: boolean | undefined;
}

export interface ServerProcess {
  url: string;
  apiKey: string;
  child: ChildProcess;
  pid: number;
  /** Everything the server printed (stdout and stderr). */
  output: () => string;
  /** Resolves with the exit code / signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM (drain, flush), then SIGKILL if it has not exited within `graceMs` (default 60 s). */
  stop: (graceMs?: number) => Promise<void>;
}

export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'apps/server/src/main.ts')], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      CONIFER_HOST: '127.0.0.1',
      CONIFER_PORT: '0',
      CONIFER_DATA_DIR: options.dataDir,
      CONIFER_API_KEY: options.apiKey,
      CONIFER_LOG_LEVEL: 'warn',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += String(d)));
  child.stderr!.on('data', (d) => (output += String(d)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const running = () => child.exitCode === null && child.signalCode === null;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const deadline = Date.now() + timeoutMs;
  let url: string | undefined;
  try {
    for (;;) {
      if (!running()) throw new Error(`server exited during start:\n${output}`);
      url ??= /Conifer listening on (http:\/\/\S+)/.exec(output)?.[1];
      if (url !== undefined && (await healthy(url))) break;
      if (Date.now() > deadline) throw new Error(`server did not become healthy in ${timeoutMs / 1000} s:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    if (running()) child.kill('SIGKILL');
    throw err;
  }
  return {
    url,
    apiKey: options.apiKey,
    child,
    pid: child.pid!,
    output: () => output,
    exited,
    stop: async (graceMs = 60_000) => {
      if (!running()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => running() && child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/healthz`);
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}
