import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startServerProcess } from '@conifer/emulators';
import { DataDirInUseError, LOCK_FILE, lockDataDir } from './data-dir-lock.ts';

const dirs: string[] = [];
const children: ChildProcess[] = [];
const tempDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'conifer-lock-'));
  dirs.push(dir);
  return dir;
};
/** A process that only waits, standing in for another server. */
const sleeper = async () => {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  children.push(child);
  await new Promise((resolve) => child.once('spawn', resolve));
  return child;
};
const startTime = (pid: number) => {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return text.slice(text.lastIndexOf(')') + 2).split(' ')[19];
};
const holdFor = (dir: string, pid: number, startedAt: string | undefined) => writeFileSync(path.join(dir, LOCK_FILE), `${pid}\n${startedAt ?? ''}\n`);

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('lockDataDir', () => {
  it('takes a free directory, and its release removes the lock', async () => {
    const dir = tempDir();
    const release = await lockDataDir(dir);
    expect(readFileSync(path.join(dir, LOCK_FILE), 'utf8').split('\n')[0]).toBe(String(process.pid));
    release();
    expect(existsSync(path.join(dir, LOCK_FILE))).toBe(false);
  });

  it.runIf(process.platform === 'linux')('refuses a directory another running process holds, naming it; takes it over once that process is gone', async () => {
    const dir = tempDir();
    const other = await sleeper();
    holdFor(dir, other.pid!, startTime(other.pid!));
    const refused = await lockDataDir(dir).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(DataDirInUseError);
    expect((refused as Error).message).toContain(`in use by process ${other.pid}`);
    other.kill('SIGKILL');
    await new Promise((resolve) => other.once('exit', resolve));
    const release = await lockDataDir(dir);
    expect(readFileSync(path.join(dir, LOCK_FILE), 'utf8').split('\n')[0]).toBe(String(process.pid));
    release();
  });

  it.runIf(process.platform === 'linux')('takes over a lock whose pid now belongs to a process that started later (a reused pid)', async () => {
    const dir = tempDir();
    const other = await sleeper();
    holdFor(dir, other.pid!, '1');
    const release = await lockDataDir(dir);
    release();
  });

  it('waits for a holder that is exiting', async () => {
    const dir = tempDir();
    const other = await sleeper();
    holdFor(dir, other.pid!, process.platform === 'linux' ? startTime(other.pid!) : undefined);
    setTimeout(() => other.kill('SIGKILL'), 300);
    const release = await lockDataDir(dir);
    release();
  });

  it('leaves a lock that is no longer its own', async () => {
    const dir = tempDir();
    const release = await lockDataDir(dir);
    holdFor(dir, 1, undefined);
    release();
    expect(readFileSync(path.join(dir, LOCK_FILE), 'utf8')).toBe('1\n\n');
  });
});

describe('one server per data directory (real processes)', () => {
  it('a second server on the same CONIFER_DATA_DIR exits with a clear message and the first keeps serving', async () => {
    const dataDir = tempDir();
    const first = await startServerProcess({ dataDir, apiKey: 'lock-test-key-0123456789abcdef' });
    try {
      const second = spawn(process.execPath, [path.join(import.meta.dirname, 'main.ts')], {
        env: { ...process.env, CONIFER_DATA_DIR: dataDir, CONIFER_PORT: '0', CONIFER_API_KEY: 'lock-test-key-0123456789abcdef' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(second);
      let stderr = '';
      second.stderr!.on('data', (d) => (stderr += String(d)));
      const code = await new Promise((resolve) => second.once('exit', resolve));
      expect(code).toBe(1);
      expect(stderr).toContain(`conifer: the data directory ${dataDir} is in use by process ${first.pid}`);
      expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
    } finally {
      await first.stop();
    }
    // A clean stop releases it.
    expect(existsSync(path.join(dataDir, LOCK_FILE))).toBe(false);
  }, 60_000);
});
