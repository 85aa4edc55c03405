import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The lock file in a data directory: the pid of the server using it and that process's start time. */
export const LOCK_FILE = 'conifer.pid';

/** How long a start waits for the holder of a lock to finish exiting before it refuses. */
const HOLDER_EXIT_WAIT_MS = 2_000;

export class DataDirInUseError extends Error {
  readonly dataDir: string;
  readonly pid: number;

  constructor(dataDir: string, pid: number) {
    super(
      `the data directory ${dataDir} is in use by process ${pid} (${path.join(dataDir, LOCK_FILE)}): stop that server first, or give this one its own CONIFER_DATA_DIR`,
    );
    this.name = 'DataDirInUseError';
    this.dataDir = dataDir;
    this.pid = pid;
  }
}

interface Holder {
  pid: number;
  /** The process's start time in clock ticks since boot (Linux), so a reused pid is not taken for it. */
  startedAt: string | undefined;
}

/**
 * Takes a data directory for this process, as PostgreSQL's `postmaster.pid` does: two servers on one
 * directory would each run the embedded database's recovery on files the other has open, and write
 * the same local store and slab cache. A lock left by a process that is gone (SIGKILL, a crash, a
 * reboot) is taken over; one whose process still runs is waited for briefly (a restart right after
 * a stop), then refused with a {@link DataDirInUseError}. Returns the release, which removes the
 * file if it is still this process's.
 */
export async function lockDataDir(dataDir: string): Promise<() => void> {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, LOCK_FILE);
  const mine = `${process.pid}\n${startTimeOf(process.pid) ?? ''}\n`;
  const deadline = Date.now() + HOLDER_EXIT_WAIT_MS;
  for (;;) {
    try {
      writeFileSync(file, mine, { flag: 'wx', mode: 0o644 });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readHolder(file);
    if (holder !== undefined && holder.pid !== process.pid && isRunning(holder)) {
      if (Date.now() >= deadline) throw new DataDirInUseError(dataDir, holder.pid);
      await new Promise((resolve) => setTimeout(resolve, 50));
      continue;
    }
    // Gone (or unreadable, or ours from before an exec): removed, then created again exclusively,
    // so of two servers starting at once only one gets it.
    try {
      unlinkSync(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    try {
      if (readFileSync(file, 'utf8') === mine) unlinkSync(file);
    } catch {
      // Already gone: nothing to release.
    }
  };
}

function readHolder(file: string): Holder | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const [pidLine, startLine] = text.split('\n');
  const pid = Number(pidLine);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return { pid, startedAt: startLine === '' ? undefined : startLine };
}

/** Whether the holder still runs: its pid exists, is not a zombie, and started when the lock says. */
function isRunning(holder: Holder): boolean {
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    // EPERM: it exists, as another user's process.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = procStat(holder.pid);
  if (stat === undefined) return true;
  if (stat.state === 'Z' || stat.state === 'X') return false;
  return holder.startedAt === undefined || holder.startedAt === stat.startedAt;
}

function startTimeOf(pid: number): string | undefined {
  return procStat(pid)?.startedAt;
}

/** State and start time from /proc/<pid>/stat (Linux); undefined elsewhere. */
function procStat(pid: number): { state: string; startedAt: string } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0]!, startedAt: fields[19]! };
}
