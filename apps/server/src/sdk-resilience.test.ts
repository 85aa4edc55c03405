import { describe, expect, it } from 'vitest';
import { Conifer, ResourceExhaustedError, TimeoutError, UnavailableError } from '@conifer/sdk';
import { freePort, startServer, TEST_API_KEY, uniqueIndexName, useServer } from './test-support.ts';

/**
 * The SDK's retries, time limits and aborts against the real server: its rate limiter answers 429
 * and a read asking for an LSN the node has not reached answers 503, both with `Retry-After: 1`.
 */
describe('SDK retries against real 429s and 503s', () => {
  const running = useServer({ CONIFER_RATE_QUERY_PER_NAMESPACE: '2' });

  async function indexWithRecord(client: Conifer) {
    const name = uniqueIndexName('retry');
    await client.createIndex({ name, dimension: 2 });
    const { lsn } = await client.index(name).upsert([{ id: 'a', values: [1, 2] }]);
    return { ns: client.index(name), lsn };
  }

  it('waits out a rate limit as Retry-After asks, and every query answers', async () => {
    const { url } = running();
    const client = new Conifer({ url, apiKey: TEST_API_KEY });
    const { ns } = await indexWithRecord(client);
    const started = performance.now();
    const answers = await Promise.all(Array.from({ length: 4 }, () => ns.query({ vector: [1, 2], topK: 1 })));
    expect(answers.map((a) => a.matches[0]?.id)).toEqual(['a', 'a', 'a', 'a']);
    // Two queries fit the bucket; the others were refused and retried a second later.
    expect(performance.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('says Retry-After on the tRPC answers it refuses for a while', async () => {
    const { url } = running();
    const client = new Conifer({ url, apiKey: TEST_API_KEY });
    const { ns } = await indexWithRecord(client);
    const answers = await Promise.all(
      Array.from({ length: 3 }, () =>
        fetch(`${url}/trpc/data.query`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'api-key': TEST_API_KEY },
          body: JSON.stringify({ index: ns.name, vector: [1, 2], topK: 1 }),
        }),
      ),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 429]);
    expect(answers.map((a) => a.headers.get('retry-after')).sort()).toEqual(['1', null, null]);
  });

  it('gives the 429 to the caller without retries', async () => {
    const { url } = running();
    const client = new Conifer({ url, apiKey: TEST_API_KEY, retry: false });
    const { ns } = await indexWithRecord(client);
    const outcomes = await Promise.allSettled(Array.from({ length: 4 }, () => ns.query({ vector: [1, 2], topK: 1 })));
    const refused = outcomes.filter((o) => o.status === 'rejected').map((o) => (o as PromiseRejectedResult).reason as Error);
    expect(refused.length).toBe(2);
    for (const error of refused) expect(error).toBeInstanceOf(ResourceExhaustedError);
  });

  it('stops retrying a 503 at the time limit with TimeoutError', async () => {
    const { url } = running();
    const client = new Conifer({ url, apiKey: TEST_API_KEY });
    const { ns, lsn } = await indexWithRecord(client);
    const started = performance.now();
    const error = await ns.fetch(['a'], { minLsn: lsn + 1000, timeoutMs: 400 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toBeInstanceOf(UnavailableError);
    expect(performance.now() - started).toBeLessThan(900);
  });

  it('rejects with the abort reason when the caller aborts', async () => {
    const { url } = running();
    const client = new Conifer({ url, apiKey: TEST_API_KEY });
    const { ns, lsn } = await indexWithRecord(client);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('user gave up')), 200);
    const error = await ns.fetch(['a'], { minLsn: lsn + 1000, signal: controller.signal }).catch((e: unknown) => e);
    expect((error as Error).message).toBe('user gave up');
  });

  it('takes retry options per call, over those of the client', async () => {
    const { url } = running();
    const client = new Conifer({ url, apiKey: TEST_API_KEY });
    const { ns, lsn } = await indexWithRecord(client);
    // One attempt: the 503 comes back at once, not after Retry-After's second.
    let started = performance.now();
    await expect(ns.fetch(['a'], { minLsn: lsn + 1000, retry: false })).rejects.toBeInstanceOf(UnavailableError);
    expect(performance.now() - started).toBeLessThan(900);
    // A client without retries, one call with one retry: it waits the second Retry-After asks.
    const impatient = new Conifer({ url, apiKey: TEST_API_KEY, retry: false });
    started = performance.now();
    await expect(impatient.index(ns.name).fetch(['a'], { minLsn: lsn + 1000, retry: { maxRetries: 1 } })).rejects.toBeInstanceOf(UnavailableError);
    expect(performance.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('answers UnavailableError once the retries are spent', async () => {
    const { url } = running();
    const client = new Conifer({ url, apiKey: TEST_API_KEY, retry: { maxRetries: 1 } });
    const { ns, lsn } = await indexWithRecord(client);
    const error = await ns.fetch(['a'], { minLsn: lsn + 1000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error).not.toBeInstanceOf(TimeoutError);
  });
});

describe('SDK retries of a server that is not up yet', () => {
  it('reaches a server that starts while the call is retrying', async () => {
    const port = await freePort();
    const client = new Conifer({ url: `http://127.0.0.1:${port}`, apiKey: TEST_API_KEY, retry: { maxRetries: 8, initialDelayMs: 250 } });
    const call = client.listIndexes();
    const server = await new Promise<Awaited<ReturnType<typeof startServer>>>((resolve, reject) => {
      setTimeout(() => startServer({ CONIFER_PORT: String(port) }).then(resolve, reject), 300);
    });
    try {
      expect((await call).indexes).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});
