import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@conifer/emulators';

/** Repository root (e2e/src/ → ../..). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export { freePort };

export async function tempDataDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'conifer-e2e-'));
}

export interface ServerProcess {
  url: string;
  apiKey: string;
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code / signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `node apps/server/src/main.ts` as a real child process (the same entry point `npm start`
 * runs) and waits until /healthz answers.
 */
export async function startServer(options: { dataDir: string; apiKey?: string; env?: Record<string, string> }): Promise<ServerProcess> {
  const port = await freePort();
  const apiKey = options.apiKey ?? 'e2e-admin-key-0123456789';
  const child = spawn(process.execPath, [join(REPO_ROOT, 'apps/server/src/main.ts')], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      CONIFER_HOST: '127.0.0.1',
      CONIFER_PORT: String(port),
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
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`server exited during start:\n${output}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not become healthy in 60 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, apiKey, child, output: () => output, exited };
}
