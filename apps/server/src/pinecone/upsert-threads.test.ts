import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { TEST_API_KEY, uniqueIndexName, useServer } from '../test-support.ts';
import { MIN_THREAD_BODY_BYTES, sharedUpsertParser } from './upsert-parser.ts';

/**
 * Large upsert bodies read on parser threads, through the real server configured as an operator
 * would (`CONIFER_UPSERT_PARSE_THREADS`): what is stored, the 400s and their atomicity must be
 * those of the event loop's reading.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- wire JSON under test
async function call(method: string, url: string, body?: string): Promise<{ status: number; body: any }> {
  const response = await fetch(url, { method, headers: { 'api-key': TEST_API_KEY, 'content-type': 'application/json' }, body });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

const DIMENSION = 128;
const valueOf = (record: number, d: number) => Math.round(Math.sin(record * DIMENSION + d) * 1e6) / 1e3; // bodies under the 2 MB limit

function records(count: number, from = 0): { id: string; values: number[]; metadata?: Record<string, unknown> }[] {
  return Array.from({ length: count }, (_, k) => {
    const i = from + k;
    return { id: `r${i}`, values: Array.from({ length: DIMENSION }, (_, d) => valueOf(i, d)), ...(i % 7 === 0 ? { metadata: { i, even: i % 2 === 0 } } : {}) };
  });
}

describe('upsert bodies read on parser threads (CONIFER_UPSERT_PARSE_THREADS=2)', () => {
  const running = useServer({ CONIFER_UPSERT_PARSE_THREADS: '2' });

  async function createIndex(): Promise<string> {
    const name = uniqueIndexName('threads');
    const created = await call(
      'POST',
      `${running().url}/indexes`,
      JSON.stringify({ name, dimension: DIMENSION, metric: 'euclidean', spec: { serverless: { cloud: 'aws', region: 'us-east-1' } } }),
    );
    expect(created.status).toBe(201);
    return created.body.host as string;
  }

  it('stores large bodies sent at once exactly as float32, with their metadata', async () => {
    expect(sharedUpsertParser().threads).toBe(2);
    const host = await createIndex();
    const bodies = [0, 1, 2, 3].map((b) => JSON.stringify({ namespace: 'ns', vectors: records(1000, b * 1000) }));
    expect(Math.min(...bodies.map((b) => b.length))).toBeGreaterThan(MIN_THREAD_BODY_BYTES);
    const answers = await Promise.all(bodies.map((b) => call('POST', `${host}/vectors/upsert`, b)));
    for (const answer of answers) expect(answer).toMatchObject({ status: 200, body: { upsertedCount: 1000 } });

    const fetched = await call('GET', `${host}/vectors/fetch?namespace=ns&ids=r0&ids=r1&ids=r2999&ids=r3997`);
    expect(Object.keys(fetched.body.vectors).sort()).toEqual(['r0', 'r1', 'r2999', 'r3997']);
    for (const [id, record] of Object.entries(fetched.body.vectors as Record<string, { values: number[]; metadata?: unknown }>)) {
      const i = Number(id.slice(1));
      // The wire carries each float32 in its shortest decimal form.
      expect(record.values.map((v) => Math.fround(v))).toEqual(Array.from({ length: DIMENSION }, (_, d) => Math.fround(valueOf(i, d))));
      expect(record.metadata).toEqual(i % 7 === 0 ? { i, even: i % 2 === 0 } : undefined);
    }
    const stats = await call('POST', `${host}/describe_index_stats`, '{}');
    expect(stats.body.namespaces.ns.vectorCount).toBe(4000);
  });

  it('answers a bad large body with the 400 of a bad small one, and writes none of it', async () => {
    const host = await createIndex();
    const bad = (count: number) => {
      const vectors = records(count, 10_000);
      (vectors[count - 1]!.values as unknown[])[5] = 'x';
      return JSON.stringify({ vectors });
    };
    const large = await call('POST', `${host}/vectors/upsert`, bad(1000));
    const small = await call('POST', `${host}/vectors/upsert`, bad(1));
    expect(large.status).toBe(400);
    expect(large.body.message).toBe(`vectors[999].values[5]: ${String(small.body.message).split('values[5]: ')[1]}`);
    expect(small.body.message).toMatch(/^vectors\[0\]\.values\[5\]: /);
    const fetched = await call('GET', `${host}/vectors/fetch?ids=r10000&ids=r10998`);
    expect(fetched.body.vectors).toEqual({});
  });

  it('refuses a thread count outside [0, 64] at startup, naming the setting', () => {
    expect(() => loadConfig({ CONIFER_UPSERT_PARSE_THREADS: '65' })).toThrow(/CONIFER_UPSERT_PARSE_THREADS: must be an integer from 0 to 64/);
  });
});
