import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withFaults } from './faulty-store.ts';
import { FsObjectStore } from './fs-store.ts';
import { MemoryObjectStore } from './memory-store.ts';
import { hasWriteTokens, ObjectStoreError, type ObjectStore, type ObjectStoreErrorKind } from './object-store.ts';
import { withRetries } from './retrying-store.ts';
import { objectStoreContract } from './testing/contract.ts';

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | null | undefined) => (b ? new TextDecoder().decode(b) : b);
const fast = { baseDelayMs: 1, maxDelayMs: 5 };

async function rejection(promise: Promise<unknown>): Promise<ObjectStoreError> {
  const err: unknown = await promise.then(
    () => new Error('expected the call to fail'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ObjectStoreError);
  return err as ObjectStoreError;
}

// The whole contract holds through retries over a store that fails often — including writes that
// land while the caller sees a timeout, which the write tokens resolve. Not lost acks of putIfMatch:
// see "cannot see its own landed putIfMatch once another writer replaced it" below.
objectStoreContract('withRetries(withFaults(memory))', async () => {
  const lostAcks = withFaults(new MemoryObjectStore(), { lostAck: 0.1, timeoutMs: 2, seed: 3, operations: ['put', 'putIfAbsent', 'delete'] });
  const faulty = withFaults(lostAcks, { transient: 0.1, throttled: 0.03, timeout: 0.03, timeoutMs: 2, seed: 7 });
  return { store: withRetries(faulty, { ...fast, maxAttempts: 50 }) };
});

describe('withRetries', () => {
  it('retries transient and throttled failures until the call succeeds', async () => {
    const faulty = withFaults(new MemoryObjectStore());
    const store = withRetries(faulty, fast);
    faulty.faults.inject('transient', { times: 3 });
    faulty.faults.inject('throttled', { times: 2 });
    await store.put('k', utf8('v'));
    expect(text((await store.get('k'))?.data)).toBe('v');
    expect(store.retryStats.retries).toBe(5);
  });

  it('passes precondition_failed, invalid_key and other errors through at once', async () => {
    const inner = new MemoryObjectStore();
    const store = withRetries(inner, fast);
    await store.putIfAbsent('k', utf8('1'));
    expect((await rejection(store.putIfAbsent('k', utf8('2')))).kind).toBe('precondition_failed');
    expect((await rejection(store.get('a//b'))).kind).toBe('invalid_key');
    await expect(store.list('', { limit: 0 })).rejects.toThrow(RangeError);
    expect(store.retryStats.retries).toBe(0);
  });

  it('gives up after maxAttempts with the last error’s kind', async () => {
    const faulty = withFaults(new MemoryObjectStore());
    faulty.faults.outage();
    const store = withRetries(faulty, { ...fast, maxAttempts: 4 });
    const err = await rejection(store.get('k'));
    expect(err.kind).toBe('transient');
    expect(err.message).toMatch(/gave up after 4 attempt/);
    expect(faulty.faults.stats.outage).toBe(4);
    expect(store.retryStats.exhausted).toBe(1);
  });

  it('bounds a call by its deadline even when every attempt hangs', async () => {
    const faulty = withFaults(new MemoryObjectStore());
    faulty.faults.outage('hang');
    const store = withRetries(faulty, { ...fast, deadlineMs: 300, attemptTimeoutMs: 100 });
    const started = Date.now();
    const err = await rejection(store.putIfAbsent('k', utf8('v')));
    const took = Date.now() - started;
    expect(err.kind).toBe('transient');
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(2_000);
    expect(store.retryStats.attemptTimeouts).toBeGreaterThanOrEqual(2);
    faulty.faults.restore();
    // The store is back: the same call now succeeds.
    await store.putIfAbsent('k', utf8('v'));
  });

  it('turns a precondition failure against its own landed write into success (write token)', async () => {
    const inner = new MemoryObjectStore();
    const faulty = withFaults(inner);
    const store = withRetries(faulty, fast);
    faulty.faults.inject('lost-ack', { operation: 'putIfAbsent' });
    const meta = await store.putIfAbsent('log/1', utf8('ours'));
    expect(store.retryStats.recoveredConditionalWrites).toBe(1);
    expect(await inner.head('log/1')).toEqual(meta);
    expect(text((await inner.get('log/1'))?.data)).toBe('ours');

    const v1 = await store.put('manifest', utf8('v1'));
    faulty.faults.inject('lost-ack', { operation: 'putIfMatch' });
    const v2 = await store.putIfMatch('manifest', utf8('v2'), v1.etag);
    expect(await inner.head('manifest')).toEqual(v2);
    expect(store.retryStats.recoveredConditionalWrites).toBe(2);
  });

  it('still reports a real conflict after an ambiguous attempt', async () => {
    const inner = new MemoryObjectStore();
    const faulty = withFaults(inner);
    const store = withRetries(faulty, fast);
    // Our first attempt times out without landing; meanwhile another writer takes the key.
    faulty.faults.inject('timeout', { operation: 'putIfAbsent' });
    const ours = store.putIfAbsent('log/1', utf8('ours'));
    await inner.putIfAbsent('log/1', utf8('theirs'));
    expect((await rejection(ours)).kind).toBe('precondition_failed');
    expect(text((await inner.get('log/1'))?.data)).toBe('theirs');
  });

  it('cannot see its own landed putIfMatch once another writer replaced it (documented limit)', async () => {
    const inner = new MemoryObjectStore();
    const faulty = withFaults(inner);
    const store = withRetries(faulty, { baseDelayMs: 300, maxDelayMs: 300, random: () => 0.99 });
    const v1 = await store.put('counter', utf8('1'));
    faulty.faults.inject('lost-ack', { operation: 'putIfMatch' });
    const ours = store.putIfMatch('counter', utf8('2'), v1.etag);
    // Our write has landed (its answer is lost); before the retry, another writer replaces it.
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(text((await inner.get('counter'))?.data)).toBe('2');
    await inner.putIfMatch('counter', utf8('3'), (await inner.head('counter'))!.etag);
    // The token now in the object is theirs: the outcome of ours cannot be told apart from a loss.
    expect((await rejection(ours)).kind).toBe('precondition_failed');
  });

  it('recovers a landed conditional write on a store without write tokens by comparing bytes', async () => {
    const root = await mkdtemp(join(tmpdir(), 'conifer-retry-'));
    try {
      const fs = new FsObjectStore(root);
      expect(hasWriteTokens(fs)).toBe(false);
      const faulty = withFaults(fs);
      const store = withRetries(faulty, fast);
      faulty.faults.inject('lost-ack', { operation: 'putIfAbsent' });
      await store.putIfAbsent('k', utf8('ours'));
      expect(store.retryStats.recoveredConditionalWrites).toBe(1);
      // Different bytes there: a real conflict, also after an ambiguous attempt.
      await fs.put('j', utf8('theirs'));
      faulty.faults.inject('transient', { operation: 'putIfAbsent' });
      expect((await rejection(store.putIfAbsent('j', utf8('ours')))).kind).toBe('precondition_failed');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('tells onRetry about each retry with a growing, capped backoff', async () => {
    const faulty = withFaults(new MemoryObjectStore());
    const delays: number[] = [];
    const store = withRetries(faulty, { baseDelayMs: 10, maxDelayMs: 40, random: () => 0.999, onRetry: (e) => delays.push(e.delayMs) });
    faulty.faults.inject('transient', { times: 5 });
    await store.head('k');
    expect(delays).toEqual([9, 19, 39, 39, 39]);
  });

  it('keeps write tokens working through withFaults (the capability passes through)', () => {
    const store: ObjectStore = withFaults(new MemoryObjectStore());
    expect(hasWriteTokens(store)).toBe(true);
    expect(hasWriteTokens(withFaults(withoutTokens(new MemoryObjectStore())))).toBe(false);
  });
});

describe('withFaults', () => {
  it('fails every call during an outage and none after restore', async () => {
    const faulty = withFaults(new MemoryObjectStore());
    await faulty.put('k', utf8('v'));
    faulty.faults.outage();
    expect(faulty.faults.down).toBe(true);
    for (const call of [faulty.get('k'), faulty.put('k', utf8('w')), faulty.list(''), faulty.delete('k')]) {
      expect((await rejection(call)).kind).toBe('transient');
    }
    faulty.faults.restore();
    expect(text((await faulty.get('k'))?.data)).toBe('v');
    expect(faulty.faults.stats.outage).toBe(4);
  });

  it('lost-ack applies the write but fails the call; a read lost-ack is a plain timeout', async () => {
    const inner = new MemoryObjectStore();
    const faulty = withFaults(inner);
    faulty.faults.inject('lost-ack', { times: 2 });
    expect((await rejection(faulty.put('k', utf8('v')))).kind).toBe('transient');
    expect(text((await inner.get('k'))?.data)).toBe('v');
    expect((await rejection(faulty.get('k'))).kind).toBe('transient');
  });

  it('draws random faults reproducibly from the seed, only for the chosen operations and keys', async () => {
    const run = async () => {
      const faulty = withFaults(new MemoryObjectStore(), { transient: 0.5, seed: 42, operations: ['get'], keys: /^slabs\// });
      const outcomes: boolean[] = [];
      for (let i = 0; i < 40; i++)
        outcomes.push(
          await faulty.get(`slabs/${i}`).then(
            () => true,
            () => false,
          ),
        );
      for (let i = 0; i < 10; i++) await faulty.get(`log/${i}`);
      await faulty.put('slabs/x', utf8('x'));
      return outcomes;
    };
    const a = await run();
    expect(a).toEqual(await run());
    expect(a.filter((ok) => !ok).length).toBeGreaterThan(5);
    expect(a.filter((ok) => ok).length).toBeGreaterThan(5);
  });

  it('an injected error kind carries its meaning: throttled is retryable, transient too', async () => {
    const faulty = withFaults(new MemoryObjectStore());
    faulty.faults.inject('throttled');
    const kinds: ObjectStoreErrorKind[] = [(await rejection(faulty.head('k'))).kind];
    expect(kinds).toEqual(['throttled']);
  });
});

/** The same store seen through the plain contract only. */
function withoutTokens(store: ObjectStore): ObjectStore {
  return {
    get: (key) => store.get(key),
    getRange: (key, start, end) => store.getRange(key, start, end),
    head: (key) => store.head(key),
    put: (key, data) => store.put(key, data),
    putIfAbsent: (key, data) => store.putIfAbsent(key, data),
    putIfMatch: (key, data, etag) => store.putIfMatch(key, data, etag),
    delete: (key) => store.delete(key),
    list: (prefix, options) => store.list(prefix, options),
  };
}
