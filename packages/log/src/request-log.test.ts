import { MemoryObjectStore, ObjectStoreError, type ObjectStore } from '@conifer/storage';
import { describe, expect, it } from 'vitest';
import { decodeLogBatch, encodeLogBatch, LogCorruptionError } from './codec.ts';
import type { LogEntry } from './entry.ts';
import { RequestLog } from './request-log.ts';
import { logKey } from './log-reader.ts';

const PREFIX = 'idx/ns_/log/';

function put(id: string, values: number[], metadata?: Record<string, string>): LogEntry['op'] {
  return { kind: 'put', records: [{ id, values: Float32Array.from(values), ...(metadata ? { metadata } : {}) }] };
}

describe('log codec', () => {
  it('round-trips every kind of entry exactly', () => {
    const entries: LogEntry[] = [
      { lsn: 7, op: put('a', [0.1, -2, 3.5e10], { genre: 'drama' }) },
      { lsn: 8, op: { kind: 'update', ids: ['a'], values: Float32Array.from([1, 2, 3]), setMetadata: { year: 2020 } } },
      {
        lsn: 9,
        op: {
          kind: 'update',
          ids: ['b', 'c'],
          setMetadata: { x: true },
          sparse: { indices: Uint32Array.from([3, 4294967295]), values: Float32Array.from([0.5, -1]) },
        },
      },
      {
        lsn: 10,
        op: {
          kind: 'put',
          records: [
            { id: 's', values: Float32Array.from([1]), sparse: { indices: Uint32Array.from([7]), values: Float32Array.from([0.25]) } },
            { id: 't', values: Float32Array.from([2]) },
          ],
        },
      },
      { lsn: 11, op: { kind: 'delete', ids: ['a', 'b'] } },
      { lsn: 12, op: { kind: 'deleteAll' } },
    ];
    expect(decodeLogBatch(encodeLogBatch(entries))).toEqual(entries);
  });

  it('detects a corrupted object', () => {
    const bytes = encodeLogBatch([{ lsn: 1, op: put('a', [1, 2]) }]);
    bytes[20] = bytes[20]! ^ 0xff;
    expect(() => decodeLogBatch(bytes)).toThrow(LogCorruptionError);
    expect(() => decodeLogBatch(new TextEncoder().encode('garbage at all'))).toThrow(LogCorruptionError);
  });
});

describe('RequestLog', () => {
  function openLog(store: ObjectStore, nextLsn = 1) {
    const applied: LogEntry[] = [];
    const log = new RequestLog({ store, prefix: PREFIX, nextLsn, apply: (e) => applied.push(e) });
    return { log, applied };
  }

  it('assigns gapless increasing LSNs and applies before acknowledging', async () => {
    const store = new MemoryObjectStore();
    const { log, applied } = openLog(store);
    const acks = await Promise.all(Array.from({ length: 50 }, (_, i) => log.append(put(`id${i}`, [i])).then((a) => ({ ...a, seen: applied.length }))));
    expect(acks.map((a) => a.lsn).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    for (const ack of acks) expect(ack.seen).toBeGreaterThanOrEqual(ack.lsn);
    expect(applied.map((e) => e.lsn)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('group-commits concurrent appends into few objects', async () => {
    const store = new MemoryObjectStore();
    const { log } = openLog(store);
    await Promise.all(Array.from({ length: 200 }, (_, i) => log.append(put(`id${i}`, [i]))));
    // The first append is written alone; everything queued behind it shares the next object(s).
    expect(log.objectsWritten).toBeLessThanOrEqual(3);
    const keys = (await store.list(PREFIX)).objects.map((o) => o.key);
    expect(keys[0]).toBe(logKey(PREFIX, 1));
  });

  it('replays what a previous run wrote, in order, exactly once', async () => {
    const store = new MemoryObjectStore();
    const first = openLog(store);
    for (let i = 0; i < 5; i++) await first.log.append(put(`id${i}`, [i]));
    const second = openLog(store);
    expect(await second.log.catchUp()).toBe(5);
    expect(second.applied.map((e) => e.lsn)).toEqual([1, 2, 3, 4, 5]);
    expect((await second.log.append(put('next', [9]))).lsn).toBe(6);
  });

  it('never overwrites: a writer that loses an LSN race catches up and takes the next LSN', async () => {
    const store = new MemoryObjectStore();
    const a = openLog(store);
    const b = openLog(store);
    await a.log.append(put('from-a', [1]));
    const ack = await b.log.append(put('from-b', [2]));
    expect(ack.lsn).toBe(2);
    expect(b.applied.map((e) => e.lsn)).toEqual([1, 2]);
    const reader = openLog(store);
    await reader.log.catchUp();
    expect(reader.applied.map((e) => (e.op.kind === 'put' ? e.op.records[0]!.id : ''))).toEqual(['from-a', 'from-b']);
  });

  it('rejects appends with a clear error when the store fails, and recovers', async () => {
    const memory = new MemoryObjectStore();
    let down = false;
    const flaky: ObjectStore = {
      ...memory,
      get: (k) => memory.get(k),
      list: (p, o) => memory.list(p, o),
      putIfAbsent: (k, d) => (down ? Promise.reject(new ObjectStoreError('transient', 'store down')) : memory.putIfAbsent(k, d)),
    } as ObjectStore;
    const { log } = openLog(flaky);
    await log.append(put('a', [1]));
    down = true;
    await expect(log.append(put('b', [2]))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    down = false;
    expect((await log.append(put('c', [3]))).lsn).toBe(2);
  });

  it('refuses to replay across a hole in the log', async () => {
    const store = new MemoryObjectStore();
    await store.putIfAbsent(logKey(PREFIX, 1), encodeLogBatch([{ lsn: 1, op: put('a', [1]) }]));
    await store.putIfAbsent(logKey(PREFIX, 3), encodeLogBatch([{ lsn: 3, op: put('c', [1]) }]));
    const { log } = openLog(store);
    await expect(log.catchUp()).rejects.toThrow(/gap/);
  });

  it('does not report a gap when another writer fills it between the read and the listing', async () => {
    const memory = new MemoryObjectStore();
    await memory.putIfAbsent(logKey(PREFIX, 1), encodeLogBatch([{ lsn: 1, op: put('a', [1]) }]));
    // A wrapper, because the interleaving cannot be forced on a real store: the first read of
    // LSN 2 finds nothing, then the other writer appends LSNs 2 and 3 before the listing runs.
    let raced = false;
    const racing = {
      get: async (k) => {
        const object = await memory.get(k);
        if (!object && k === logKey(PREFIX, 2) && !raced) {
          raced = true;
          await memory.putIfAbsent(logKey(PREFIX, 2), encodeLogBatch([{ lsn: 2, op: put('b', [2]) }]));
          await memory.putIfAbsent(logKey(PREFIX, 3), encodeLogBatch([{ lsn: 3, op: put('c', [3]) }]));
        }
        return object;
      },
      putIfAbsent: (k, d) => memory.putIfAbsent(k, d),
      list: (p, o) => memory.list(p, o),
    } as ObjectStore;
    const { log, applied } = openLog(racing);
    expect(await log.catchUp()).toBe(3);
    expect(raced).toBe(true);
    expect(applied.map((e) => e.lsn)).toEqual([1, 2, 3]);
  });

  it('does not take objects the manifest covers for a gap, even from a store whose listing returns them', async () => {
    const memory = new MemoryObjectStore();
    const writer = openLog(memory);
    for (let i = 0; i < 4; i++) await writer.log.append(put(`id${i}`, [i]));
    // A fake, and the only way to reach this: every adapter now drops keys at or before
    // `startAfter` itself, so no real store hands the log its covered objects any more.
    const ignoresStartAfter = {
      get: (k) => memory.get(k),
      putIfAbsent: (k, d) => memory.putIfAbsent(k, d),
      list: (p, o) => memory.list(p, o?.limit === undefined ? {} : { limit: o.limit }),
    } as ObjectStore;
    // Reopened after a flush that covered LSNs 1–4: the objects are still there, waiting for truncation.
    const reopened = openLog(ignoresStartAfter, 5);
    expect(await reopened.log.catchUp()).toBe(0);
    expect((await reopened.log.append(put('next', [9]))).lsn).toBe(5);
    // A real hole is still found behind the covered objects.
    await memory.putIfAbsent(logKey(PREFIX, 7), encodeLogBatch([{ lsn: 7, op: put('late', [1]) }]));
    await expect(openLog(ignoresStartAfter, 6).log.catchUp()).rejects.toThrow(/gap in the request log: .*06 is missing but .*07 exists/);
  });

  it('truncates only objects fully covered', async () => {
    const store = new MemoryObjectStore();
    const { log } = openLog(store);
    for (let i = 0; i < 4; i++) await log.append(put(`id${i}`, [i]));
    expect(await log.truncateThrough(2)).toBe(2);
    const keys = (await store.list(PREFIX)).objects.map((o) => o.key);
    expect(keys).toEqual([logKey(PREFIX, 3), logKey(PREFIX, 4)]);
  });
});
