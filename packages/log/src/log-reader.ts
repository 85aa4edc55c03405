import type { ObjectStore } from '@conifer/storage';
import { decodeLogBatch, LogCorruptionError } from './codec.ts';
import type { LogEntry } from './entry.ts';

const LSN_DIGITS = 20;

/** The key of the log object whose first entry is `lsn`. */
export function logKey(prefix: string, lsn: number): string {
  return prefix + String(lsn).padStart(LSN_DIGITS, '0');
}

/** The first LSN of the log object `key`. */
export function lsnOfKey(prefix: string, key: string): number {
  return Number(key.slice(prefix.length));
}

/** Objects read one GET at a time before a run is treated as a backlog and listed. */
const SEQUENTIAL_READS = 2;

/** Log objects fetched at once when reading a backlog. */
export const LOG_READ_AHEAD = 8;
/** Keys listed per page when reading a backlog. */
const LIST_PAGE = 1000;

/**
 * Reads the log objects under `prefix` from LSN `from` on, in LSN order, for as long as they follow
 * each other without a hole, handing each object's entries (checked to be `from`, `from + 1`, …) to
 * `apply`. Returns the LSN after the last entry applied: where the run stopped, at an object that
 * does not exist (the caller decides whether that is the end of the log or a hole).
 *
 * The first objects are read one GET at a time, so a reader one object behind pays nothing more
 * than before. Past that it is reading a backlog — a new owner replaying the tail since the last
 * flush, a replica opening a namespace — where one GET at a time makes the wait a store round trip
 * per object: on a remote store (`ObjectStore.remote`: a bucket) it lists the keys that follow and
 * fetches them `LOG_READ_AHEAD` at a time, applying them still strictly in order.
 */
export async function readLogRun(
  store: ObjectStore,
  prefix: string,
  from: number,
  apply: (entries: LogEntry[]) => void | Promise<void>,
  options: { readAhead?: boolean } = {},
): Promise<number> {
  // A local disk answers a GET in microseconds, and its listing (a directory read and a stat per
  // key) costs more than reading ahead saves; a bucket answers in milliseconds.
  const readAhead = options.readAhead ?? store.remote === true;
  let next = from;
  const take = async (key: string, data: Uint8Array): Promise<void> => {
    const entries = decodeLogBatch(data);
    entries.forEach((entry, i) => {
      if (entry.lsn !== next + i) throw new LogCorruptionError(`log object ${key} holds LSN ${entry.lsn} where ${next + i} was expected`);
    });
    await apply(entries);
    next += entries.length;
  };
  for (;;) {
    for (let i = 0; i < SEQUENTIAL_READS; i++) {
      const key = logKey(prefix, next);
      const object = await store.get(key);
      if (!object) return next;
      await take(key, object.data);
    }
    if (!readAhead) continue;
    // A backlog: the keys that follow, fetched several at a time and applied in order.
    const page = await store.list(prefix, { startAfter: logKey(prefix, next - 1), limit: LIST_PAGE });
    const keys = page.objects.map((o) => o.key).filter((key) => lsnOfKey(prefix, key) >= next);
    for (let at = 0; at < keys.length; at += LOG_READ_AHEAD) {
      const window = keys.slice(at, at + LOG_READ_AHEAD);
      const objects = await Promise.all(window.map((key) => store.get(key)));
      for (let i = 0; i < window.length; i++) {
        const object = objects[i];
        // A hole, or an object gone since the listing: stop where the run breaks.
        if (!object || lsnOfKey(prefix, window[i]!) !== next) return next;
        await take(window[i]!, object.data);
      }
    }
    // Listed through (or the listing did not show what a GET will): read on from where it stands.
  }
}

/** Reads of a missing log object, with a later one listed, before the log is declared to have a hole. */
const GAP_CHECKS = 3;

/** The durable entries from LSN `from` on, read but not yet applied. */
export interface LogTail {
  from: number;
  entries: LogEntry[];
}

/**
 * Reads every durable entry from LSN `from` on (readLogRun), then makes sure no log object lies
 * beyond the first missing one. A later object after a missing one means a hole in the log —
 * unless another writer appended the missing one, and more, between the read and the listing: the
 * run is read on, and the log refused only if the hole is still there. `explainGap` may name the
 * reason (the namespace was taken over) instead of corruption.
 */
export async function readLogTail(
  store: ObjectStore,
  prefix: string,
  from: number,
  explainGap?: (() => Promise<Error | undefined>) | undefined,
): Promise<LogTail> {
  const entries: LogEntry[] = [];
  let next = from;
  for (let check = 1; ; check++) {
    next = await readLogRun(store, prefix, next, (run) => {
      for (const entry of run) entries.push(entry);
    });
    const later = await firstObjectAfter(store, prefix, next);
    if (later === undefined) return { from, entries };
    if (check === GAP_CHECKS) {
      const explained = await explainGap?.();
      if (explained) throw explained;
      throw new LogCorruptionError(`gap in the request log: ${logKey(prefix, next)} is missing but ${later} exists`);
    }
  }
}

/**
 * The key of the first log object that starts after `lsn`, if any. Objects at lower LSNs are
 * covered by the manifest and only wait for truncation; they are skipped by LSN here rather than
 * trusted to be left out by the listing's `startAfter`.
 */
export async function firstObjectAfter(store: ObjectStore, prefix: string, lsn: number): Promise<string | undefined> {
  let startAfter = logKey(prefix, lsn);
  for (;;) {
    const page = await store.list(prefix, { startAfter, limit: 100 });
    const later = page.objects.find((o) => lsnOfKey(prefix, o.key) > lsn);
    if (later !== undefined) return later.key;
    if (page.nextStartAfter === undefined) return undefined;
    startAfter = page.nextStartAfter;
  }
}
