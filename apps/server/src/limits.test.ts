import { beforeAll, describe, expect, it } from 'vitest';
import { ConiferError, InvalidArgumentError, NotFoundError, UnauthenticatedError, type Conifer, type RecordToUpsert } from '@conifer/sdk';
import { uniqueIndexName, useServer, type RunningServer } from './test-support.ts';

/**
 * Bad input, one test per limit: each asserts the HTTP status the server sent, the error class
 * the SDK threw, and that the message names the field and the limit.
 */

const DIM = 3;
const vec = (seed = 1): number[] => [seed, 0.5, 0.25];

/** Runs `call`, expecting an SDK error of `cls`; checks the HTTP status and returns the message. */
async function rejected(server: RunningServer, call: Promise<unknown>, cls: new (...args: never[]) => ConiferError, status: number): Promise<string> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(cls);
  expect((error as ConiferError).httpStatus).toBe(status);
  expect(server.lastStatus()).toBe(status);
  return (error as Error).message;
}

describe('request limits', () => {
  const running = useServer();
  let index: string;
  let client: Conifer;
  const bad = (call: Promise<unknown>) => rejected(running(), call, InvalidArgumentError, 400);

  beforeAll(async () => {
    client = running().client;
    index = uniqueIndexName('limits');
    await client.createIndex({ name: index, dimension: DIM, metric: 'cosine' });
  });

  describe('upsert', () => {
    it('at most 1000 records per request', async () => {
      const records = Array.from({ length: 1001 }, (_, i) => ({ id: `r${i}`, values: vec() }));
      expect(await bad(client.index(index).upsert(records))).toBe('records: must hold at most 1000 records per request');
    });

    it('ids of at most 512 characters', async () => {
      expect(await bad(client.index(index).upsert([{ id: 'x'.repeat(513), values: vec() }]))).toBe('records[0].id: must be at most 512 characters');
    });

    it('no empty ids', async () => {
      expect(await bad(client.index(index).upsert([{ id: '', values: vec() }]))).toBe('records[0].id: must be 1–512 characters');
    });

    it('at most 20000 dimensions', async () => {
      const message = await bad(client.index(index).upsert([{ id: 'a', values: new Array<number>(20_001).fill(0.5) }]));
      expect(message).toBe('records[0].values: must have at most 20000 dimensions (got 20001)');
    });

    it('no NaN (JSON sends it as null)', async () => {
      const message = await bad(client.index(index).upsert([{ id: 'a', values: [0.1, Number.NaN, 0.3] }]));
      expect(message).toBe('records[0].values[1]: must be a finite number within float32 range');
    });

    it('no Infinity', async () => {
      const message = await bad(client.index(index).upsert([{ id: 'a', values: [Number.POSITIVE_INFINITY, 0.2, 0.3] }]));
      expect(message).toBe('records[0].values[0]: must be a finite number within float32 range');
    });

    it('no Infinity sent as a JSON number that overflows (1e999)', async () => {
      const { status, body } = await running().rawPost('data.upsert', `{"index":"${index}","records":[{"id":"a","values":[0.1,1e999,0.3]}]}`);
      expect(status).toBe(400);
      expect(body.error?.data.code).toBe('INVALID_ARGUMENT');
      expect(body.error?.message).toBe('records[0].values[1]: must be a finite number within float32 range');
    });

    it('no numbers beyond float32 range', async () => {
      const message = await bad(client.index(index).upsert([{ id: 'a', values: [1e39, 0.2, 0.3] }]));
      expect(message).toBe('records[0].values[0]: must be a finite number within float32 range');
    });

    it('no non-number values', async () => {
      const values = [0.1, 'x', 0.3] as unknown as number[];
      expect(await bad(client.index(index).upsert([{ id: 'a', values }]))).toBe('records[0].values[1]: must be a finite number within float32 range');
      const notArray = 'nope' as unknown as number[];
      expect(await bad(client.index(index).upsert([{ id: 'a', values: notArray }]))).toBe('records[0].values: must be an array of numbers');
    });

    it('metadata of at most 40 KB', async () => {
      const message = await bad(client.index(index).upsert([{ id: 'a', values: vec(), metadata: { text: 'x'.repeat(41 * 1024) } }]));
      expect(message).toMatch(/^records\[0\]\.metadata: must be at most 40960 bytes as JSON \(got \d+\)$/);
    });

    it('no nested metadata', async () => {
      const metadata = { author: { name: 'x' } } as unknown as RecordToUpsert['metadata'];
      const message = await bad(client.index(index).upsert([{ id: 'a', values: vec(), metadata }]));
      expect(message).toMatch(
        /^records\[0\]\.metadata\.author: must be a string, number, boolean or list of strings \(null and nested objects are not supported\)/,
      );
    });

    it('no null metadata values', async () => {
      const metadata = { year: null } as unknown as RecordToUpsert['metadata'];
      const message = await bad(client.index(index).upsert([{ id: 'a', values: vec(), metadata }]));
      expect(message).toMatch(/^records\[0\]\.metadata\.year: .*null and nested objects are not supported/);
    });

    it('the index dimension, naming both dimensions', async () => {
      const message = await bad(client.index(index).upsert([{ id: 'a', values: [1, 2, 3, 4] }]));
      expect(message).toBe('records[0].values: Vector dimension 4 does not match the dimension of the index 3');
    });
  });

  describe('no partial writes', () => {
    const good = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `good-${i}`, values: vec(i + 1) }));

    it('999 good records and 1 of the wrong dimension write nothing', async () => {
      const ns = client.index(index).namespace('partial-dim');
      await bad(ns.upsert([...good(999), { id: 'bad', values: [1, 2] }]));
      expect((await ns.listPaginated()).ids).toEqual([]);
      expect((await client.index(index).describeIndexStats()).namespaces['partial-dim']).toBeUndefined();
    });

    it('999 good records and 1 with an invalid id write nothing', async () => {
      const ns = client.index(index).namespace('partial-id');
      await bad(ns.upsert([...good(500), { id: 'y'.repeat(513), values: vec() }, ...good(499).map((r) => ({ ...r, id: `late-${r.id}` }))]));
      expect((await ns.listPaginated()).ids).toEqual([]);
    });
  });

  describe('query', () => {
    it('topK of at least 1', async () => {
      expect(await bad(client.index(index).query({ vector: vec(), topK: 0 }))).toBe('topK: must be 1–10000');
    });

    it('topK of at most 10000', async () => {
      expect(await bad(client.index(index).query({ vector: vec(), topK: 10_001 }))).toBe('topK: must be at most 10000');
    });

    it('$in with at most 10000 values', async () => {
      const values = Array.from({ length: 10_001 }, (_, i) => `g${i}`);
      const message = await bad(client.index(index).query({ vector: vec(), topK: 1, filter: { genre: { $in: values } } }));
      expect(message).toBe('filter.genre.$in: $in takes at most 10000 values (got 10001)');
    });

    it('known filter operators only', async () => {
      const filter = { genre: { $regex: 'dr.*' } } as never;
      expect(await bad(client.index(index).query({ vector: vec(), topK: 1, filter }))).toBe('filter.genre.$regex: unknown operator $regex');
      const topLevel = { $not: { genre: 'drama' } } as never;
      expect(await bad(client.index(index).query({ vector: vec(), topK: 1, filter: topLevel }))).toMatch(/^filter\.\$not: unknown or misplaced operator \$not/);
    });

    it('the index dimension, naming both dimensions', async () => {
      const message = await bad(client.index(index).query({ vector: [1, 2], topK: 1 }));
      expect(message).toBe('vector: Vector dimension 2 does not match the dimension of the index 3');
    });
  });

  describe('HTTP', () => {
    it('a body over 2 MB is a 400 naming the limit', async () => {
      // 1000 records × 300 dimensions of 17-digit numbers ≈ 5.4 MB of JSON.
      const records = Array.from({ length: 1000 }, (_, i) => ({ id: `big-${i}`, values: Array.from({ length: 300 }, () => Math.random()) }));
      const message = await bad(client.index(index).upsert(records));
      expect(message).toBe('request body is larger than the 2 MB limit (2097152 bytes)');

      const { status, body } = await running().rawPost('data.upsert', JSON.stringify({ index, records }));
      expect(status).toBe(400);
      expect(body.error?.data.code).toBe('INVALID_ARGUMENT');
      expect(body.error?.message).toBe('request body is larger than the 2 MB limit (2097152 bytes)');
    });

    it('malformed JSON is a 400', async () => {
      const { status, body } = await running().rawPost('data.upsert', '{"index": "x", "records": [');
      expect(status).toBe(400);
      expect(body.error?.data.code).toBe('INVALID_ARGUMENT');
      expect(body.error?.message).toMatch(/^malformed JSON in request body/);
    });
  });

  describe('not found', () => {
    it('unknown index → 404', async () => {
      const message = await rejected(running(), client.index('no-such-index').query({ vector: vec(), topK: 1 }), NotFoundError, 404);
      expect(message).toBe('Index no-such-index not found.');
      await rejected(running(), client.describeIndex('no-such-index'), NotFoundError, 404);
      await rejected(running(), client.index('no-such-index').upsert([{ id: 'a', values: vec() }]), NotFoundError, 404);
    });

    it('unknown namespace on deleteNamespace → 404', async () => {
      const message = await rejected(running(), client.index(index).deleteNamespace('never-written'), NotFoundError, 404);
      expect(message).toBe('Namespace never-written not found.');
    });
  });

  describe('authentication', () => {
    it('missing key → 401', async () => {
      const message = await rejected(running(), running().clientWithKey('').listIndexes(), UnauthenticatedError, 401);
      expect(message).toBe('Missing or invalid API key.');
    });

    it('bad key → 401', async () => {
      const message = await rejected(running(), running().clientWithKey('cnf_wrong_key_000000000000').index(index).fetch(['a']), UnauthenticatedError, 401);
      expect(message).toBe('Missing or invalid API key.');
      const { status } = await running().rawPost('data.fetch', JSON.stringify({ index, ids: ['a'] }), { 'api-key': 'cnf_wrong' });
      expect(status).toBe(401);
    });
  });
});
