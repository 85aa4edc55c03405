import { readdirSync, readFileSync } from 'node:fs';
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
  if (!perThread || niceness <= 0) return 0;
  let changed = 0;
  try {
    for (const task of readdirSync('/proc/self/task')) {
      const tid = Number(task);
      if (tid === process.pid || threadName(tid) !== 'V8Worker') continue;
      if (threadNiceness(tid) >= niceness) continue;
      setPriority(tid, niceness);
      changed++;
    }
  } catch {
    // A thread that ended meanwhile, or /proc not mounted: priorities stay as they are.
  }
  return changed;
}

/** A thread's name (Linux `comm`). */
export function threadName(tid: number): string {
  return readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
}

/** A thread's nice value, from field 19 of its stat line (after the parenthesized name). */
export function threadNiceness(tid: number): number {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}
