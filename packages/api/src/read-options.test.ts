import { TRPCError } from '@trpc/server';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidArgumentError, UnavailableError } from '@conifer/core';
import { uniqueIndexName, useStack } from './test-support.ts';

async function failure(promise: Promise<unknown>): Promise<TRPCError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TRPCError);
  return error as TRPCError;
}

describe('read options and indexedLsn', () => {
  const stack = useStack();

  afterEach(() => {
    vi.restoreAllMocks();
  });

  async function seeded() {
    const api = stack().caller(stack().adminKey);
    const index = uniqueIndexName();
    await api.indexes.create({ name: index, dimension: 2 });
    await api.data.upsert({ index, namespace: 'ns', records: [{ id: 'a', values: [1, 2], metadata: { kind: 'x' } }] });
    const { lsn } = await api.data.upsert({ index, namespace: 'ns', records: [{ id: 'b', values: [2, 1], metadata: { kind: 'x' } }] });
    await api.data.upsert({ index, namespace: 'other', records: [{ id: 'c', values: [1, 1] }] });
    const scope = { index, namespace: 'ns' };
    const reads = {
      query: (read: object) => api.data.query({ ...scope, vector: [1, 2], topK: 2, ...read }),
      fetch: (read: object) => api.data.fetch({ ...scope, ids: ['a', 'b'], ...read }),
      fetchByMetadata: (read: object) => api.data.fetchByMetadata({ ...scope, filter: { kind: 'x' }, ...read }),
      list: (read: object) => api.data.list({ ...scope, ...read }),
    };
    return { api, index, lsn, reads };
  }

  it('hands consistency and minLsn of each tRPC read to the data plane and answers the namespace’s LSN', async () => {
    const { lsn, reads } = await seeded();
    const { engine } = stack();
    const spies = {
      query: vi.spyOn(engine, 'query'),
      fetch: vi.spyOn(engine, 'fetch'),
      fetchByMetadata: vi.spyOn(engine, 'fetchByMetadata'),
      list: vi.spyOn(engine, 'list'),
    };
    for (const what of ['query', 'fetch', 'fetchByMetadata', 'list'] as const) {
      const spy = spies[what];
      expect((await reads[what]({ consistency: 'strong', minLsn: lsn })).indexedLsn, what).toBe(lsn);
      expect(spy.mock.lastCall?.[3], what).toEqual({ consistency: 'strong', minLsn: lsn });
      expect((await reads[what]({})).indexedLsn, what).toBe(lsn);
      expect(spy.mock.lastCall?.[3], what).toEqual({ consistency: undefined, minLsn: undefined });
      // The request the data plane gets carries no read option.
      expect(spy.mock.lastCall?.[2], what).not.toHaveProperty('consistency');
      expect(spy.mock.lastCall?.[2], what).not.toHaveProperty('minLsn');

      const ahead = await failure(reads[what]({ minLsn: lsn + 1 }));
      expect(ahead.code, what).toBe('SERVICE_UNAVAILABLE');
      expect(ahead.cause, what).toBeInstanceOf(UnavailableError);
    }
  });

  it('refuses a bad consistency or minLsn with BAD_REQUEST naming the field', async () => {
    const { reads } = await seeded();
    const cases: [object, string][] = [
      [{ consistency: 'linearizable' }, 'consistency: must be "eventual" or "strong"'],
      [{ consistency: null }, 'consistency: must be "eventual" or "strong"'],
      [{ minLsn: -1 }, 'minLsn: must be an integer from 0 to 9007199254740991'],
      [{ minLsn: 0.5 }, 'minLsn: must be an integer from 0 to 9007199254740991'],
      [{ minLsn: 2 ** 53 }, 'minLsn: must be an integer from 0 to 9007199254740991'],
      [{ minLsn: '3' }, 'minLsn: must be an integer from 0 to 9007199254740991'],
    ];
    for (const what of ['query', 'fetch', 'fetchByMetadata', 'list'] as const) {
      for (const [read, message] of cases) {
        const error = await failure(reads[what](read));
        expect(error.code, `${what} ${JSON.stringify(read)}`).toBe('BAD_REQUEST');
        expect(error.message, `${what} ${JSON.stringify(read)}`).toBe(message);
        expect(error.cause).toBeInstanceOf(InvalidArgumentError);
      }
    }
  });

  it('services take the read options as their last argument', async () => {
    const { index, lsn } = await seeded();
    const { services, adminKey } = stack();
    const auth = (await services.authenticate(adminKey))!;
    const fetched = await services.fetch(auth, { index, namespace: 'ns', ids: ['b'] }, { consistency: 'strong', minLsn: lsn });
    expect(fetched).toMatchObject({ records: { b: { id: 'b' } }, indexedLsn: lsn });
    await expect(services.list(auth, { index, namespace: 'ns', limit: 10 }, { minLsn: lsn + 1 })).rejects.toBeInstanceOf(UnavailableError);
    // Without them: eventual, no minimum.
    expect((await services.list(auth, { index, namespace: 'other', limit: 10 })).indexedLsn).toBeGreaterThan(0);
  });
});
