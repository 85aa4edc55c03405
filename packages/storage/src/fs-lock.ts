import { randomUUID } from 'node:crypto';
import { link, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { errnoCode, toObjectStoreError } from './fs-errors.ts';
import { ObjectStoreError } from './object-store.ts';

/**
 * A lock file shared by every process using the same directory: whoever creates it with O_EXCL
 * holds it. It is held only for a few metadata operations (a stat and a rename), so one older than
 * `staleMs` belongs to a process that died or froze, and is broken.
 *
 * Breaking is the delicate part: two waiters may both judge the same file stale. Each moves it
 * aside with an atomic rename and checks that what it moved is the inode it judged; if it moved a
 * newer holder's lock instead, it links that back. A holder also re-checks ownership right before
 * its critical step (`assertHeld`). What remains is a holder frozen for longer than `staleMs`
 * between that check and its next syscall.
 */
export interface FileLockOptions {
  /** Age after which a lock file counts as abandoned. */
  staleMs?: number;
  /** Give up (with a `transient` error) after waiting this long. */
  timeoutMs?: number;
}

export const DEFAULT_LOCK_STALE_MS = 30_000;

export interface HeldLock {
  /** Throws `transient` if the lock was broken as stale while we held it. */
  assertHeld(): Promise<void>;
  release(): Promise<void>;
}

export async function acquireFileLock(lockPath: string, options: FileLockOptions = {}): Promise<HeldLock> {
  const staleMs = options.staleMs ?? DEFAULT_LOCK_STALE_MS;
  const deadline = Date.now() + (options.timeoutMs ?? 2 * staleMs);
  let backoffMs = 1;
  for (;;) {
    const ino = await tryCreate(lockPath);
    if (ino !== undefined) return heldLock(lockPath, ino);
    await breakIfStale(lockPath, staleMs);
    if (Date.now() > deadline) throw new ObjectStoreError('transient', `timed out waiting for lock ${lockPath}`);
    // Jitter keeps waiters from different processes from retrying in lockstep.
    await sleep(backoffMs * (0.5 + Math.random()));
    backoffMs = Math.min(backoffMs * 2, 25);
  }
}

/** The lock file's inode when we created it, `undefined` when someone else holds it. */
async function tryCreate(lockPath: string): Promise<bigint | undefined> {
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(lockPath, 'wx');
      try {
        // The holder's pid, for whoever finds a stale lock while debugging.
        await handle.writeFile(`${process.pid}\n`);
        return (await handle.stat({ bigint: true })).ino;
      } finally {
        await handle.close();
      }
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'EEXIST') return undefined;
      if (code === 'ENOENT' && attempt === 0) {
        await mkdir(dirname(lockPath), { recursive: true });
        continue;
      }
      throw toObjectStoreError(err, 'lock', lockPath);
    }
  }
}

async function breakIfStale(lockPath: string, staleMs: number): Promise<void> {
  const judged = await statOrNull(lockPath);
  if (!judged || Date.now() - Number(judged.mtimeMs) < staleMs) return;
  const aside = `${lockPath}.stale-${randomUUID()}`;
  try {
    await rename(lockPath, aside);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return; // another waiter broke it first
    throw toObjectStoreError(err, 'break stale lock', lockPath);
  }
  const moved = await statOrNull(aside);
  if (moved && moved.ino !== judged.ino) {
    // We moved a fresh lock taken after our stat: give it back. EEXIST means yet another process
    // has taken the lock meanwhile; the fresh holder will find out in assertHeld.
    await link(aside, lockPath).catch(() => undefined);
  }
  await unlink(aside).catch(() => undefined);
}

function heldLock(lockPath: string, ino: bigint): HeldLock {
  return {
    async assertHeld() {
      const current = await statOrNull(lockPath);
      if (current?.ino !== ino) throw new ObjectStoreError('transient', `lock ${lockPath} was broken as stale while held`);
    },
    async release() {
      // Only remove our own file: if ours was broken, the one there now is someone else's.
      const current = await statOrNull(lockPath);
      if (current?.ino === ino) await unlink(lockPath).catch(() => undefined);
    },
  };
}

async function statOrNull(path: string) {
  try {
    return await stat(path, { bigint: true });
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return null;
    throw toObjectStoreError(err, 'stat', path);
  }
}
