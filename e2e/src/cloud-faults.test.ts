import { UnavailableError } from '@conifer/core';
import { Engine } from '@conifer/engine';
import { withFaults, withRetries, type RetryOptions } from '@conifer/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bareCloudStore, CLOUDS, cloudStore, EMULATOR_STARTUP_TIMEOUT_MS, freshPrefix, newIndex, startEmulators, vec, type Emulators } from './emulators.ts';

/**
 * The data plane over each cloud emulator with faults injected between the engine and the real
 * adapter (`withRetries(withFaults(adapter))`, the order a server would have): transient 5xx,
 * throttling, timeouts, writes that land while the caller sees a timeout, and outages. What the
 * tests then read back is the emulator's real state, through a clean store.
 */
/** Tight retry settings so that outages surface in about two seconds. */
const RETRIES: RetryOptions = { baseDelayMs: 5, maxDelayMs: 50, deadlineMs: 2_000, attemptTimeoutMs: 500 };
/** The bound a client waits for an answer while the store is down. */
const DOWN_BOUND_MS = 5_000;

let emulators: Emulators;
beforeAll(async () => {
  emulators = await startEmulators(CLOUDS);
}, EMULATOR_STARTUP_TIMEOUT_MS);
afterAll(async () => {
  await emulators?.stop();
});

async function failure(promise: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  const error = await promise.then(
    () => new Error('expected the call to fail'),
    (e: unknown) => e,
  );
  return { error, ms: Date.now() - started };
}

describe.each(CLOUDS)('faults on %s', (cloud) => {
  it('acknowledged writes survive transient errors, timeouts and lost acks through flush, compaction and GC', async () => {
    const prefix = freshPrefix('faults');
    const faulty = withFaults(await bareCloudStore(emulators, cloud, prefix), {
      transient: 0.1,
      throttled: 0.03,
      timeout: 0.03,
      lostAck: 0.05,
      timeoutMs: 30,
      seed: 11,
    });
    // At least these three log appends land while the engine sees a timeout.
    faulty.faults.inject('lost-ack', { operation: 'putIfAbsent', key: /\/log\//, times: 3, distinctKeys: true });
    const store = withRetries(faulty, { ...RETRIES, maxAttempts: 20 });
    const index = newIndex();
    const engine = new Engine({ store, config: { memtableMaxRecords: 20, compaction: { trigger: 2, maxMerge: 4 }, gcGraceMs: 0 } });

    const acked = new Map<string, { lsn: number; values: number[] }>();
    const ackedLsns: number[] = [];
    const attempted = new Set<string>();
    const errors: unknown[] = [];
    await Promise.all(
      [0, 1, 2].map(async (w) => {
        for (let i = 0; i < 10; i++) {
          const records = Array.from({ length: 5 }, (_, j) => ({ id: `w${w}-${i}-${j}`, values: vec(50 * w + 5 * i + j) }));
          records.forEach((r) => attempted.add(r.id));
          try {
            const { lsn } = await engine.upsert(index, 'ns', records);
            ackedLsns.push(lsn);
            for (const r of records) acked.set(r.id, { lsn, values: r.values });
          } catch (err) {
            errors.push(err);
          }
        }
      }),
    );
    await engine.flush(index, 'ns');
    const written = await engine.describeNamespace(index, 'ns');
    await engine.close();

    // Faults really happened, retries absorbed them, and the write tokens told lost acks apart.
    const injected = faulty.faults.stats;
    expect(injected.transient + injected.throttled + injected.timeout).toBeGreaterThan(5);
    expect(injected['lost-ack']).toBeGreaterThanOrEqual(3);
    expect(store.retryStats.retries).toBeGreaterThan(5);
    expect(store.retryStats.recoveredConditionalWrites).toBeGreaterThanOrEqual(3);
    for (const err of errors) expect(err).toBeInstanceOf(UnavailableError);
    expect(acked.size).toBeGreaterThan(0);
    // No duplicate LSN among acknowledged writes.
    expect(new Set(ackedLsns).size).toBe(ackedLsns.length);
    expect(written.compactions).toBeGreaterThanOrEqual(1);

    // Read back through a clean store: every acknowledged write, nothing that was never written,
    // and every slab of the manifest whole (a reopen reads and checks each one).
    const reader = new Engine({ store: cloudStore(emulators, cloud, prefix) });
    const fetched = await reader.fetch(index, 'ns', [...attempted]);
    for (const [id, { values }] of acked) expect(fetched.records[id]?.values, id).toEqual(values);
    for (const id of Object.keys(fetched.records)) expect(attempted.has(id)).toBe(true);
    const reopened = await reader.describeNamespace(index, 'ns');
    expect(reopened.writtenLsn).toBe(written.writtenLsn);
    expect(reopened.slabs.map((s) => s.id)).toEqual(written.slabs.map((s) => s.id));
    if (errors.length === 0) {
      expect([...ackedLsns].sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      expect(reopened.writtenLsn).toBe(30);
    }
    await reader.close();
  });

  it('store down: writes fail within a bounded time with UNAVAILABLE, open namespaces stay readable, and it recovers', async () => {
    const prefix = freshPrefix('outage');
    const faulty = withFaults(await bareCloudStore(emulators, cloud, prefix));
    const store = withRetries(faulty, RETRIES);
    const index = newIndex();
    const engine = new Engine({ store });
    await engine.upsert(index, 'ns', [{ id: 'before', values: vec(1) }]);

    for (const mode of ['refuse', 'hang'] as const) {
      faulty.faults.outage(mode);
      const write = await failure(engine.upsert(index, 'ns', [{ id: `during-${mode}`, values: vec(2) }]));
      expect(write.error).toBeInstanceOf(UnavailableError);
      expect((write.error as UnavailableError).code).toBe('UNAVAILABLE');
      expect(write.ms).toBeLessThan(DOWN_BOUND_MS);
      // A namespace this node has open answers reads from memory.
      expect((await engine.fetch(index, 'ns', ['before'])).records.before?.values).toEqual(vec(1));
      // One it has not opened cannot be loaded: the open fails within the same bound, as UNAVAILABLE.
      const open = await failure(engine.fetch(index, `other-${mode}`, ['x']));
      expect(open.error).toBeInstanceOf(UnavailableError);
      expect(open.ms).toBeLessThan(DOWN_BOUND_MS);
      faulty.faults.restore();
      await engine.upsert(index, 'ns', [{ id: `after-${mode}`, values: vec(3) }]);
      expect(await engine.fetch(index, `other-${mode}`, ['x'])).toMatchObject({ records: {} });
    }
    await engine.close();

    const reader = new Engine({ store: cloudStore(emulators, cloud, prefix) });
    const fetched = await reader.fetch(index, 'ns', ['before', 'during-refuse', 'during-hang', 'after-refuse', 'after-hang']);
    // The writes attempted during the outage never reached the store.
    expect(Object.keys(fetched.records).sort()).toEqual(['after-hang', 'after-refuse', 'before']);
    expect((await reader.describeNamespace(index, 'ns')).writtenLsn).toBe(3);
    await reader.close();
  });
});
