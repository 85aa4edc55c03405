import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FsObjectStore } from '@conifer/storage';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from './engine.ts';

/**
 * Durability under kill -9: a child process upserts from 8 concurrent writers (with flushes,
 * compactions and GC running constantly) and is killed with SIGKILL. On reopen, every write the
 * child acknowledged must be there, and for overwritten ids the surviving version must be at least
 * the newest acknowledged one (a write that was durable but not yet acknowledged may also survive).
 */
const writerScript = fileURLToPath(new URL('./testing/crash-writer.ts', import.meta.url));
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function runAndKill(dataDir: string, killAfterAcks: number, versionBase: number): Promise<Map<string, { version: number; ns: string }>> {
  const child = spawn(process.execPath, [writerScript, dataDir, String(versionBase)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const acked = new Map<string, { version: number; ns: string }>();
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += String(d)));
  let buffer = '';
  let count = 0;
  await new Promise<void>((resolve, reject) => {
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`writer exited early (${code}): ${stderr}`))));
    child.stdout.on('data', (chunk) => {
      buffer += String(chunk);
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const line of lines) {
        const [, id, version, ns = ''] = line.split(' ');
        const v = Number(version);
        const key = `${ns}/${id}`;
        if ((acked.get(key)?.version ?? 0) < v) acked.set(key, { version: v, ns });
        if (++count === killAfterAcks) child.kill('SIGKILL');
      }
    });
  });
  return acked;
}

async function verify(dataDir: string, acked: Map<string, { version: number; ns: string }>): Promise<void> {
  const engine = new Engine({ store: new FsObjectStore(dataDir) });
  const index = { id: 'idx_crash', dimension: 4, metric: 'euclidean' as const };
  try {
    const byNs = new Map<string, string[]>();
    for (const key of acked.keys()) {
      const [ns, id] = [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)];
      byNs.set(ns, [...(byNs.get(ns) ?? []), id]);
    }
    for (const [ns, ids] of byNs) {
      for (let i = 0; i < ids.length; i += 1000) {
        const chunk = ids.slice(i, i + 1000);
        const { records } = await engine.fetch(index, ns, chunk);
        for (const id of chunk) {
          const record = records[id];
          expect(record, `acknowledged ${ns}/${id} is missing`).toBeDefined();
          expect(record!.values[0]).toBeGreaterThanOrEqual(acked.get(`${ns}/${id}`)!.version);
        }
      }
    }
  } finally {
    await engine.close();
  }
}

describe('kill -9 during concurrent upserts', () => {
  it('keeps every acknowledged write across repeated crashes (including mid-flush and mid-compaction)', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'conifer-crash-'));
    dirs.push(dataDir);
    const allAcked = new Map<string, { version: number; ns: string }>();
    // Several rounds on the same directory: each restart replays the log left by the crash, and
    // each kill lands at a different point of the flush / compaction / GC cycle.
    for (const [round, killAfter] of [150, 700, 1500, 400].entries()) {
      const acked = await runAndKill(dataDir, killAfter, round * 1_000_000);
      for (const [k, v] of acked) allAcked.set(k, v);
      await verify(dataDir, acked);
    }
    expect(allAcked.size).toBeGreaterThan(100);
  }, 120_000);
});
