import { afterEach, describe, expect, it, vi } from 'vitest';
import { restCall as call, uniqueIndexName, useServer } from '../test-support.ts';

describe('Pinecone REST API: read consistency headers', () => {
  const running = useServer();

  afterEach(() => {
    vi.restoreAllMocks();
  });

  async function createIndex(): Promise<string> {
    const answer = await call('POST', `${running().url}/indexes`, { body: { name: uniqueIndexName('fresh'), dimension: 2, metric: 'euclidean' } });
    expect(answer.status).toBe(201);
    return answer.body.host as string;
  }

  /** The four record reads of a namespace, each as (headers) → answer. */
  const reads = (host: string, namespace: string) => ({
    query: (headers: Record<string, string> = {}) => call('POST', `${host}/query`, { headers, body: { namespace, topK: 3, vector: [1, 1] } }),
    fetch: (headers: Record<string, string> = {}) => call('GET', `${host}/vectors/fetch?ids=a&ids=b&namespace=${namespace}`, { headers }),
    fetchByMetadata: (headers: Record<string, string> = {}) =>
      call('POST', `${host}/vectors/fetch_by_metadata`, { headers, body: { namespace, filter: { kind: { $eq: 'x' } } } }),
    list: (headers: Record<string, string> = {}) => call('GET', `${host}/vectors/list?namespace=${namespace}`, { headers }),
  });

  async function write(host: string, path: string, body: unknown): Promise<number> {
    const answer = await call('POST', `${host}${path}`, { body });
    expect(answer.status).toBe(200);
    const lsn = Number(answer.headers.get('x-pinecone-request-lsn'));
    expect(Number.isSafeInteger(lsn) && lsn > 0).toBe(true);
    return lsn;
  }

  it('answers every read with x-pinecone-max-indexed-lsn, the LSN of the namespace’s last write', async () => {
    const host = await createIndex();
    const first = await write(host, '/vectors/upsert', { namespace: 'ns', vectors: [{ id: 'a', values: [1, 1], metadata: { kind: 'x' } }] });
    const second = await write(host, '/vectors/upsert', { namespace: 'ns', vectors: [{ id: 'b', values: [2, 2], metadata: { kind: 'x' } }] });
    expect(second).toBeGreaterThan(first);
    // Another namespace's writes are not this namespace's LSN.
    await write(host, '/vectors/upsert', {
      namespace: 'other',
      vectors: [
        { id: 'z', values: [1, 1] },
        { id: 'y', values: [1, 1] },
      ],
    });
    await write(host, '/vectors/upsert', { namespace: 'other', vectors: [{ id: 'x', values: [1, 1] }] });

    for (const [name, read] of Object.entries(reads(host, 'ns'))) {
      const answer = await read();
      expect(answer.status, name).toBe(200);
      expect(answer.headers.get('x-pinecone-max-indexed-lsn'), name).toBe(String(second));
    }
    expect((await reads(host, 'ns').fetch()).body.vectors).toHaveProperty('b');

    // A delete moves it on too.
    const deleted = await write(host, '/vectors/delete', { namespace: 'ns', ids: ['a'] });
    for (const [name, read] of Object.entries(reads(host, 'ns'))) {
      expect((await read()).headers.get('x-pinecone-max-indexed-lsn'), name).toBe(String(deleted));
    }
    // Writes answer their own LSN, not the read header.
    const update = await call('POST', `${host}/vectors/update`, { body: { namespace: 'ns', id: 'b', setMetadata: { kind: 'y' } } });
    expect(Number(update.headers.get('x-pinecone-request-lsn'))).toBeGreaterThan(deleted);
    expect(update.headers.get('x-pinecone-max-indexed-lsn')).toBeNull();
  });

  it('reads with x-conifer-min-lsn at or below the last write, and answers 503 above it', async () => {
    const host = await createIndex();
    const lsn = await write(host, '/vectors/upsert', { namespace: 'ns', vectors: [{ id: 'a', values: [1, 1], metadata: { kind: 'x' } }] });
    for (const [name, read] of Object.entries(reads(host, 'ns'))) {
      for (const minLsn of [0, lsn]) {
        const answer = await read({ 'x-conifer-min-lsn': String(minLsn) });
        expect(answer.status, `${name} at ${minLsn}`).toBe(200);
        expect(answer.headers.get('x-pinecone-max-indexed-lsn'), name).toBe(String(lsn));
      }
      const ahead = await read({ 'x-conifer-min-lsn': String(lsn + 1) });
      expect(ahead.status, name).toBe(503);
      expect(ahead.body, name).toEqual({ code: 14, message: expect.stringContaining(`short of the ${lsn + 1} asked for`), details: [] });
      expect(ahead.headers.get('x-pinecone-max-indexed-lsn'), name).toBeNull();
    }
  });

  it('refuses a malformed x-conifer-min-lsn or x-conifer-consistency with a 400 naming the header', async () => {
    const host = await createIndex();
    await write(host, '/vectors/upsert', { namespace: 'ns', vectors: [{ id: 'a', values: [1, 1] }] });
    const engine = running().server.engine!;
    const spies = [vi.spyOn(engine, 'query'), vi.spyOn(engine, 'fetch'), vi.spyOn(engine, 'fetchByMetadata'), vi.spyOn(engine, 'list')];
    const minLsnMessage = 'x-conifer-min-lsn: must be a decimal integer of 1–15 digits (the x-pinecone-request-lsn of a write)';
    const refusals: [Record<string, string>, string][] = [
      ...['', 'abc', '-1', '1.5', '1e3', '+5', '0x10', ' 7 x', '1, 2', '1000000000000000', '99999999999999999999'].map(
        (value): [Record<string, string>, string] => [{ 'x-conifer-min-lsn': value }, minLsnMessage],
      ),
      ...['', 'STRONG', 'linearizable', 'strong, eventual'].map((value): [Record<string, string>, string] => [
        { 'x-conifer-consistency': value },
        'x-conifer-consistency: must be "eventual" or "strong"',
      ]),
    ];
    for (const [name, read] of Object.entries(reads(host, 'ns'))) {
      for (const [headers, message] of refusals) {
        const answer = await read(headers);
        expect(answer.status, `${name} ${JSON.stringify(headers)}`).toBe(400);
        expect(answer.body, `${name} ${JSON.stringify(headers)}`).toEqual({ code: 3, message, details: [] });
      }
    }
    // The header is checked before the body is read: named even beside a body that is not JSON.
    const both = await call('POST', `${host}/query`, { headers: { 'x-conifer-min-lsn': 'x', 'content-type': 'application/json' }, raw: '{oops' });
    expect(both).toMatchObject({ status: 400, body: { code: 3, message: minLsnMessage } });
    // Refused before reaching the data plane.
    for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    // Fifteen digits, leading zeros included, are an LSN (out of reach here).
    expect((await reads(host, 'ns').fetch({ 'x-conifer-min-lsn': '999999999999999' })).status).toBe(503);
    expect((await reads(host, 'ns').fetch({ 'x-conifer-min-lsn': '000000000000001' })).status).toBe(200);
  });

  it('passes x-conifer-consistency and x-conifer-min-lsn on to the data plane', async () => {
    const host = await createIndex();
    const lsn = await write(host, '/vectors/upsert', { namespace: 'ns', vectors: [{ id: 'a', values: [1, 1], metadata: { kind: 'x' } }] });
    const engine = running().server.engine!;
    const spies = {
      query: vi.spyOn(engine, 'query'),
      fetch: vi.spyOn(engine, 'fetch'),
      fetchByMetadata: vi.spyOn(engine, 'fetchByMetadata'),
      list: vi.spyOn(engine, 'list'),
    };
    const namespaceReads = reads(host, 'ns');
    for (const name of ['query', 'fetch', 'fetchByMetadata', 'list'] as const) {
      const spy = spies[name];
      const strong = await namespaceReads[name]({ 'x-conifer-consistency': 'strong', 'x-conifer-min-lsn': String(lsn) });
      expect(strong.status, name).toBe(200);
      expect(strong.headers.get('x-pinecone-max-indexed-lsn'), name).toBe(String(lsn));
      expect(spy.mock.lastCall?.[3], name).toEqual({ consistency: 'strong', minLsn: lsn });

      expect((await namespaceReads[name]({ 'x-conifer-consistency': 'eventual' })).status, name).toBe(200);
      expect(spy.mock.lastCall?.[3], name).toEqual({ consistency: 'eventual', minLsn: undefined });

      expect((await namespaceReads[name]()).status, name).toBe(200);
      expect(spy.mock.lastCall?.[3], name).toEqual({ consistency: undefined, minLsn: undefined });
    }
    expect((await namespaceReads.fetch({ 'x-conifer-consistency': 'strong' })).body.vectors).toHaveProperty('a');
  });

  it('answers the LSN of a namespace never written as 0', async () => {
    const host = await createIndex();
    const answer = await reads(host, 'empty').list({ 'x-conifer-consistency': 'strong' });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-pinecone-max-indexed-lsn')).toBe('0');
    expect((await reads(host, 'empty').query({ 'x-conifer-min-lsn': '1' })).status).toBe(503);
  });
});
