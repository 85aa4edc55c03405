import fc from 'fast-check';
import { MemoryObjectStore, type ObjectStore } from '@conifer/storage';
import { describe, expect, it } from 'vitest';
import { encodeLogBatch, LogCorruptionError } from './codec.ts';
import type { LogEntry } from './entry.ts';
import { LOG_READ_AHEAD, logKey, readLogRun } from './log-reader.ts';

const PREFIX = 'ns/log/';

/** Log objects of `sizes[i]` entries each, LSNs from 1; the objects at `missing` indexes left out. */
async function writeLog(store: ObjectStore, sizes: number[], missing: ReadonlySet<number> = new Set()): Promise<number[]> {
  const firsts: number[] = [];
  let lsn = 1;
  for (let i = 0; i < sizes.length; i++) {
    const entries: LogEntry[] = Array.from({ length: sizes[i]! }, (_, j) => ({ lsn: lsn + j, op: { kind: 'delete', ids: [`id${lsn + j}`] } }));
    if (!missing.has(i)) await store.putIfAbsent(logKey(PREFIX, lsn), encodeLogBatch(entries));
    firsts.push(lsn);
    lsn += sizes[i]!;
  }
  return firsts;
}

/** The plain reading: one GET after another from `from` until an object is missing. */
async function sequentialRun(store: ObjectStore, from: number, sizes: number[], firsts: number[], missing: ReadonlySet<number>): Promise<number> {
  let next = from;
  for (;;) {
    const i = firsts.indexOf(next);
    if (i < 0 || missing.has(i) || !(await store.head(logKey(PREFIX, next)))) return next;
    next += sizes[i]!;
  }
}

/**
 * `store` with every GET delayed by `ms`, counting GETs, the most in flight at once, and listings;
 * `remote` says what the store says it is.
 */
function slowGets(store: ObjectStore, ms: number, remote = false): { store: ObjectStore; maxInFlight: () => number; gets: () => number; lists: () => number } {
  let inFlight = 0;
  let max = 0;
  let gets = 0;
  let lists = 0;
  const slow = new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'remote') return remote;
      const value: unknown = Reflect.get(target, property, receiver);
      if (property === 'list') lists++;
      if (property !== 'get' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
      return async (...args: unknown[]) => {
        gets++;
        max = Math.max(max, ++inFlight);
        try {
          await new Promise((r) => setTimeout(r, ms));
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } finally {
          inFlight--;
        }
      };
    },
  });
  return { store: slow, maxInFlight: () => max, gets: () => gets, lists: () => lists };
}

describe('readLogRun', () => {
  it('applies exactly what reading one object after another would, in order, wherever the holes are', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 3 }),
        fc.nat(),
        fc.boolean(),
        async (sizes, holes, startAt, readAhead) => {
          const store = new MemoryObjectStore();
          const missing = new Set(holes.map((h) => (sizes.length === 0 ? 0 : h % sizes.length)));
          const firsts = await writeLog(store, sizes, missing);
          const from = sizes.length === 0 ? 1 : firsts[startAt % firsts.length]!;
          const applied: number[] = [];
          // Reading ahead or one object at a time: the same run either way.
          const next = await readLogRun(store, PREFIX, from, (entries) => void applied.push(...entries.map((e) => e.lsn)), { readAhead });
          const expected = await sequentialRun(store, from, sizes, firsts, missing);
          expect(next).toBe(expected);
          expect(applied).toEqual(Array.from({ length: expected - from }, (_, i) => from + i));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reads a backlog from a remote store several objects at a time, from a local one one by one, and one behind with a single GET', async () => {
    const memory = new MemoryObjectStore();
    await writeLog(
      memory,
      Array.from({ length: 60 }, () => 1),
    );
    const slow = slowGets(memory, 5, true);
    const applied: number[] = [];
    expect(await readLogRun(slow.store, PREFIX, 1, (entries) => void applied.push(...entries.map((e) => e.lsn)))).toBe(61);
    expect(applied).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(slow.maxInFlight()).toBe(LOG_READ_AHEAD);

    // A local store: no listing, one at a time.
    const fast = slowGets(memory, 0);
    expect(await readLogRun(fast.store, PREFIX, 1, () => undefined)).toBe(61);
    expect(fast.lists()).toBe(0);
    expect(fast.maxInFlight()).toBe(1);

    // One object behind: one GET for it and one that finds nothing, nothing listed.
    const behind = slowGets(memory, 0, true);
    expect(await readLogRun(behind.store, PREFIX, 60, () => undefined)).toBe(61);
    expect(behind.gets()).toBe(2);
    expect(behind.lists()).toBe(0);
  });

  it('refuses an object whose entries are not the LSNs its key says', async () => {
    const store = new MemoryObjectStore();
    await writeLog(store, [1, 1, 1]);
    await store.putIfAbsent(logKey(PREFIX, 4), encodeLogBatch([{ lsn: 7, op: { kind: 'deleteAll' } }]));
    await expect(readLogRun(store, PREFIX, 1, () => undefined)).rejects.toThrow(LogCorruptionError);
  });
});
