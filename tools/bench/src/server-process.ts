/**
 * The real Conifer server as a child process (`node apps/server/src/main.ts`, what `npm start`
 * runs), as e2e tests start it: a package never imports an app. Listens on a free port of
 * 127.0.0.1 (CONIFER_PORT=0; the URL is read from its "listening on" line) and is ready once
 * /healthz answers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface ServerProcess {
  url: string;
  apiKey: string;
  pid: number;
  /** Everything the server printed (warnings and errors at log level warn). */
  output: () => string;
  /** SIGTERM (drain, flush), then SIGKILL if it has not exited within `graceMs`. */
  stop: (graceMs?: number) => Promise<void>;
}

export async function startServer(options: { dataDir: string; env?: Record<string, string>; timeoutMs?: number }): Promise<ServerProcess> {
  const apiKey = 'bench-admin-key-0123456789abcdef';
  const child: ChildProcess = spawn(process.execPath, [join(ROOT, 'apps/server/src/main.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      CONIFER_HOST: '127.0.0.1',
      CONIFER_PORT: '0',
      CONIFER_DATA_DIR: options.dataDir,
      CONIFER_API_KEY: apiKey,
      CONIFER_LOG_LEVEL: 'warn',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += String(d)));
  child.stderr!.on('data', (d) => (output += String(d)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  let url: string | undefined;
  try {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`server exited during start:\n${output}`);
      url ??= /Conifer listening on (http:\/\/\S+)/.exec(output)?.[1];
      if (url !== undefined && (await healthy(url))) break;
      if (Date.now() > deadline) throw new Error(`server did not become healthy in time:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    kill();
    throw err;
  }
  return {
    url,
    apiKey,
    pid: child.pid!,
    output: () => output,
    stop: async (graceMs = 60_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(kill, graceMs);
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

/** Resident set size of a process in bytes (Linux /proc), or undefined elsewhere. */
export function processRss(pid: number): number | undefined {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}
