import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/**
 * CPU priority of the threads that do background work, so the event loop that serves queries
 * wins the CPU whenever it wants it. On a 2-core machine a compaction worker, the V8 helper
 * threads collecting its garbage and the event loop are more runnable threads than cores; at equal
 * priority the scheduler regularly takes the event loop's core for a whole tick (4 ms) in the
 * middle of a 0.3 ms query. A perf trace of queries during a compaction showed exactly that (the
 * event loop preempted by V8Worker and WorkerThread), and nice 10 on those threads cut the query
 * p99 during a compaction at S from 1.8 ms to 0.4 ms (median of five runs; 0.27 ms idle).
 *
 * Linux only: there the nice value belongs to each thread, so one thread can lower its own
 * priority (allowed without privileges) without touching the process's other threads. Elsewhere
 * the same calls would renice the whole process, event loop included, so they do nothing.
 */

const perThread = process.platform === 'linux';

/** Lowers the calling thread's priority to `niceness` (0–19). False where that is not possible. */
export function niceCurrentThread(niceness: number): boolean {
  if (!perThread || niceness <= 0) return false;
  try {
    if (getPriority(0) < niceness) setPriority(0, niceness);
    return true;
  } catch {
    return false;
  }
}

/** The calling thread's nice value, or undefined where threads have none of their own. */
export function currentThreadNiceness(): number | undefined {
  return perThread ? getPriority(0) : undefined;
}

/**
 * Lowers the priority of this process's V8 helper threads ("V8Worker": garbage collection and
 * compilation tasks of every isolate, the compaction workers' included) to `niceness`. They are
 * created with the process, so once is enough. Returns how many threads were changed.
 */
export function niceV8HelperThreads(niceness: number): number {
  return niceThreads(niceness, (tid) => tid !== process.pid && threadName(tid) === 'V8Worker');
}

/** Raises to `niceness` the nice value of this process's threads that `which` picks; how many changed. */
function niceThreads(niceness: number, which: (tid: number) => boolean): number {
  if (!perThread || niceness <= 0) return 0;
  let changed = 0;
  try {
    for (const task of readdirSync('/proc/self/task')) {
      const tid = Number(task);
      if (!which(tid) || threadNiceness(tid) >= niceness) continue;
      setPriority(tid, niceness);
      changed++;
    }
  } catch {
    // A thread that ended meanwhile, or /proc not mounted: the rest keep their priorities.
  }
  return changed;
}

/** What `lowerProcessPriority` changed. */
export interface ProcessPriority {
  /** Threads whose nice value was raised to the target. */
  threads: number;
  /** Whether the process's scheduling group (autogroup) got the target nice value. */
  autogroup: boolean;
}

/**
 * Lowers the priority of the whole process to `niceness`: every thread it has, the threads it
 * starts later (they inherit their creator's), and — where that group is the process's own — its
 * scheduling group. For a process that does only background work (a node whose only role is
 * indexer), so that on a machine it shares with writers or query nodes it takes only the CPU they
 * leave.
 *
 * Threads alone are not enough: Linux's autogroup scheduling puts each session's processes in one
 * group and shares a core fairly between groups whatever the nice values of their threads, so two
 * processes started as sessions of their own (as `npm run cluster` and the cluster benchmark start
 * nodes) split a core evenly even when one runs at nice 10. Only the group's own nice value
 * (`/proc/self/autogroup`) changes that. It is changed only when this process leads its session:
 * otherwise the group is shared with the shell or supervisor that started it, whose other
 * processes must keep their priority.
 */
export function lowerProcessPriority(niceness: number): ProcessPriority {
  const changed: ProcessPriority = { threads: niceThreads(niceness, () => true), autogroup: false };
  if (!perThread || niceness <= 0) return changed;
  try {
    if (leadsOwnSession() && existsSync('/proc/self/autogroup') && autogroupNiceness() < niceness) {
      writeFileSync('/proc/self/autogroup', String(niceness));
      changed.autogroup = autogroupNiceness() >= niceness;
    }
  } catch {
    // Autogroup scheduling compiled out or not writable: thread priorities are all there is.
  }
  return changed;
}

/** Whether this process is its session's leader (its session id, field 6 of its stat line, is its pid). */
function leadsOwnSession(): boolean {
  return Number(statFields('/proc/self/stat')[3]) === process.pid;
}

/** The fields of a `/proc` stat line after the parenthesized name (field 3, the state, first). */
function statFields(path: string): string[] {
  const stat = readFileSync(path, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** The nice value of a process's autogroup (this one's by default): "/autogroup-123 nice 10". */
export function autogroupNiceness(pid: number | 'self' = 'self'): number {
  const match = /nice\s+(-?\d+)/.exec(readFileSync(`/proc/${pid}/autogroup`, 'utf8'));
  return match ? Number(match[1]) : 0;
}

/** A thread's name (Linux `comm`). */
export function threadName(tid: number): string {
  return readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
}

/** A thread's nice value (of this process by default), from field 19 of its stat line. */
export function threadNiceness(tid: number, pid: number | 'self' = 'self'): number {
  return Number(statFields(`/proc/${pid}/task/${tid}/stat`)[16]);
}
