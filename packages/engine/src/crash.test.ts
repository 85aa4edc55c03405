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

/** Per "ns/id": versions sent, and the LSN of each acknowledged version. */
interface IdWrites {
  sent: Set<number>;
  acked: Map<number, number>;
}
type Writes = Map<string, IdWrites>;

async function runAndKill(dataDir: string, killAfterAcks: number, versionBase: number): Promise<Writes> {
  const child = spawn(process.execPath, [writerScript, dataDir, String(versionBase)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const writes: Writes = new Map();
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += String(d)));
  let buffer = '';
  let acks = 0;
  await new Promise<void>((resolve, reject) => {
    // 'close', not 'exit': 'exit' can come before the last of the child's stdout has been read, and
    // a "sent" line still in the pipe would make its durable (unacknowledged) write look invented.
    child.on('close', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`writer exited early (${code}): ${stderr}`))));
    child.stdout.on('data', (chunk) => {
      buffer += String(chunk);
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const line of lines) {
        const [kind, version, lsn, id, ns = ''] = line.split(' ');
        const key = `${ns}/${id}`;
        let w = writes.get(key);
        if (!w) writes.set(key, (w = { sent: new Set(), acked: new Map() }));
        if (kind === 'sent') w.sent.add(Number(version));
        else {
          w.acked.set(Number(version), Number(lsn));
          if (++acks === killAfterAcks) child.kill('SIGKILL');
        }
      }
    });
  });
  return writes;
}

/**
 * Every acknowledged id must exist; its stored version must have been written, and if that
 * version was acknowledged it must be the acknowledged one with the highest LSN (concurrent writers
 * of one id are ordered by LSN, not by the client's version counter).
 */
async function verify(dataDir: string, writes: Writes): Promise<number> {
  const engine = new Engine({ store: new FsObjectStore(dataDir) });
  const index = { id: 'idx_crash', dimension: 4, metric: 'euclidean' as const };
  let checked = 0;
  try {
    for (const [key, w] of writes) {
      if (w.acked.size === 0) continue;
      const slash = key.indexOf('/');
      const [ns, id] = [key.slice(0, slash), key.slice(slash + 1)];
      const { records } = await engine.fetch(index, ns, [id]);
      expect(records[id], `acknowledged ${key} is missing`).toBeDefined();
      const stored = records[id]!.values[0]!;
      expect(w.sent.has(stored), `${key} holds version ${stored}, never written`).toBe(true);
      const newest = [...w.acked].reduce((a, b) => (b[1] > a[1] ? b : a));
      const storedLsn = w.acked.get(stored);
      if (storedLsn !== undefined) expect(storedLsn, `${key}: LSN ${storedLsn} shadows acknowledged LSN ${newest[1]}`).toBe(newest[1]);
      checked++;
    }
  } finally {
    await engine.close();
  }
  return checked;
}

describe('kill -9 during concurrent upserts', () => {
  it('keeps every acknowledged write across repeated crashes (including mid-flush and mid-compaction)', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'conifer-crash-'));
    dirs.push(dataDir);
    let checked = 0;
    // Several rounds on the same directory: each restart replays the log left by the crash, and
    // each kill lands at a different point of the flush / compaction / GC cycle.
    for (const [round, killAfter] of [150, 700, 1500, 400].entries()) {
      const writes = await runAndKill(dataDir, killAfter, round * 1_000_000);
      checked += await verify(dataDir, writes);
    }
    expect(checked).toBeGreaterThan(1000);
  }, 120_000);
});
