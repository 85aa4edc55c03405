import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, freePort } from './server-process.ts';

/** The admin console app (apps/console) and its Next.js CLI. */
export const CONSOLE_DIR = join(REPO_ROOT, 'apps/console');
const NEXT_BIN = join(REPO_ROOT, 'node_modules/next/dist/bin/next');
const BUILD_ID = join(CONSOLE_DIR, '.next/BUILD_ID');
const CONSOLE_ENV = { NEXT_TELEMETRY_DISABLED: '1' };

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** True when `.next` is missing or older than the console's sources (the same rule `npm start` uses). */
export function consoleBuildIsStale(): boolean {
  if (!existsSync(BUILD_ID)) return true;
  const built = statSync(BUILD_ID).mtimeMs;
  const inputs = [
    join(CONSOLE_DIR, 'src'),
    join(CONSOLE_DIR, 'next.config.ts'),
    join(CONSOLE_DIR, 'package.json'),
    join(REPO_ROOT, 'packages/sdk/src'),
    join(REPO_ROOT, 'packages/core/src'),
  ];
  return inputs.some((p) => existsSync(p) && newestMtime(p) > built);
}

/** `next build` of the console when its build is missing or stale; returns the seconds it took (0 if fresh). */
export function ensureConsoleBuild(): number {
  if (!consoleBuildIsStale()) return 0;
  const started = Date.now();
  const result = spawnSync(process.execPath, [NEXT_BIN, 'build'], { cwd: CONSOLE_DIR, env: { ...process.env, ...CONSOLE_ENV }, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`next build failed:\n${result.stdout}\n${result.stderr}`);
  return (Date.now() - started) / 1000;
}

export interface ConsoleProcess {
  url: string;
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

/** `next start` of the built console on a free port, talking to the Conifer server at `serverUrl`. */
export async function startConsole(serverUrl: string): Promise<ConsoleProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [NEXT_BIN, 'start', '-p', String(port), '-H', '127.0.0.1'], {
    cwd: CONSOLE_DIR,
    env: { ...process.env, ...CONSOLE_ENV, CONIFER_SERVER_URL: serverUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += String(d)));
  child.stderr!.on('data', (d) => (output += String(d)));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`console exited during start:\n${output}`);
    try {
      const res = await fetch(`${url}/login`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`console did not answer in 30 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
