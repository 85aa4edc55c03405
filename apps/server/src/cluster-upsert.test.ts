import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from '@conifer/core';
import { postgresTestBackend } from '@conifer/control/testing';
import { encodeRecordFrame } from '@conifer/cluster';
import { CLUSTER_SECRET, ClusterFixture } from './cluster-support.ts';
import { freePort, startServer, TEST_API_KEY, type RunningServer } from './test-support.ts';

/**
 * Upserts through a cluster gateway, which forwards the body unparsed to the owning writer (routed
 * by the namespace read from the body's text): every bad body gets exactly the answer the single
 * process gives and writes nothing; a body whose namespace the gateway cannot read as JSON.parse
 * does still lands in the namespace it names; the byte rate limit and the usage meter still count.
 */
const postgres = postgresTestBackend();
const INDEX = 'forwarded';

interface Answer {
  status: number;
  body: unknown;
}

describe.skipIf(postgres === undefined)('upserts through a cluster gateway (PostgreSQL, local-disk store, two writers)', () => {
  const cluster = new ClusterFixture();
  let single: RunningServer & { stop(): Promise<void> };
  let gateway: string;
  let limitedGateway: string;
  let writers: string[] = [];
  const hosts = new Map<string, string>();

  const post = async (base: string, path: string, body: string): Promise<Answer> => {
    const res = await fetch(`${base}${hosts.get(base)}${path}`, {
      method: 'POST',
      headers: { 'api-key': TEST_API_KEY, 'content-type': 'application/json' },
      body,
    });
    return { status: res.status, body: await res.json() };
  };
  /** An upsert whose headers declare a body over the limit; only the headers are sent. */
  const declaredTooLarge = (base: string): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const request = httpRequest(
        `${base}${hosts.get(base)}/vectors/upsert`,
        { method: 'POST', headers: { 'api-key': TEST_API_KEY, 'content-type': 'application/json', 'content-length': String(LIMITS.maxRequestBytes + 1) } },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (c: Buffer) => chunks.push(c));
          response.on('end', () => {
            request.destroy();
            resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown });
          });
        },
      );
      request.on('error', reject);
      request.flushHeaders();
    });
  const count = async (base: string): Promise<number> => {
    const stats = (await post(base, '/describe_index_stats', '{}')).body as { totalVectorCount: number };
    return stats.totalVectorCount;
  };

  /** Forwarded upserts the writers answered, by status (from their /metrics). */
  const forwarded = async (): Promise<Record<string, number>> => {
    const out: Record<string, number> = {};
    for (const writer of writers) {
      const text = await (await fetch(`${writer}/metrics`)).text();
      for (const m of text.matchAll(/^conifer_requests_total\{procedure="\/internal\/v1\/upsert",status="(\d+)"\} (\d+)$/gm)) {
        out[m[1]!] = (out[m[1]!] ?? 0) + Number(m[2]);
      }
    }
    return out;
  };

  beforeAll(async () => {
    single = await startServer();
    const shared = await cluster.shared();
    // Writers first: a gateway's first view of the membership then holds them. One listens on every
    // interface and says where it is reached (CONIFER_ADVERTISE_URL), as on a multi-host network.
    const port = await freePort();
    const advertised = `http://127.0.0.1:${port}`;
    writers = [
      (await cluster.node('writer', shared)).url,
      (await cluster.node('writer', shared, { CONIFER_HOST: '0.0.0.0', CONIFER_PORT: String(port), CONIFER_ADVERTISE_URL: advertised })).url,
    ];
    gateway = (await cluster.node('gateway', shared)).url;
    limitedGateway = (await cluster.node('gateway', shared, { CONIFER_RATE_UPSERT_BYTES_PER_NAMESPACE: '2000' })).url;
    for (const base of [single.url, gateway]) {
      const res = await fetch(`${base}/indexes`, {
        method: 'POST',
        headers: { 'api-key': TEST_API_KEY, 'content-type': 'application/json' },
        body: JSON.stringify({ name: INDEX, dimension: 2, metric: 'euclidean', spec: { serverless: { cloud: 'aws', region: 'us-east-1' } } }),
      });
      expect(res.status).toBe(201);
      hosts.set(base, new URL(((await res.json()) as { host: string }).host).pathname);
    }
    hosts.set(limitedGateway, hosts.get(gateway)!);
    const members = (await (await fetch(`${gateway}/admin/cluster/nodes`, { headers: { 'api-key': TEST_API_KEY } })).json()) as {
      nodes: { url: string; roles: string[] }[];
    };
    expect(members.nodes.filter((n) => n.roles.includes('writer')).map((n) => n.url)).toContain(advertised);
  }, 60_000);
  afterAll(async () => {
    await single?.stop();
    await cluster.close();
  });

  it('answers every bad body exactly as the single process does, and writes nothing', async () => {
    const record = (id: string) => ({ id, values: [1, 2] });
    const bad = [
      '{"vectors": [',
      '[]',
      'null',
      '   ',
      '{}',
      '{"vectors": []}',
      JSON.stringify({ vectors: [{ id: 'a', values: [1] }], namespace: 'dims' }),
      JSON.stringify({ vectors: Array.from({ length: 1001 }, (_, i) => record(`r${i}`)), namespace: 'many' }),
      JSON.stringify({ vectors: [record('a')], namespace: 5 }),
      JSON.stringify({ vectors: [record('a')], namespace: null }),
      JSON.stringify({ vectors: [record('a')], namespace: 'n'.repeat(600) }),
      JSON.stringify({ vectors: [record('a')], namespace: '  ' }),
      JSON.stringify({ vectors: [record('good'), { id: '', values: [1, 2] }], namespace: 'partial' }),
      JSON.stringify({ vectors: [record('good'), { id: 'b', values: ['x', 2] }] }),
      JSON.stringify({ vectors: [record('good'), { id: 'c', values: [1, 2], metadata: { nested: { no: 1 } } }], namespace: 'meta' }),
    ];
    for (const body of bad) {
      const fromSingle = await post(single.url, '/vectors/upsert', body);
      const fromCluster = await post(gateway, '/vectors/upsert', body);
      expect(fromSingle.status, body.slice(0, 80)).toBeGreaterThanOrEqual(400);
      expect(fromSingle.status, body.slice(0, 80)).toBeLessThan(500);
      expect(fromCluster, body.slice(0, 80)).toEqual(fromSingle);
    }
    // A body declared over the 2 MB limit is refused from its Content-Length, before it is sent
    // (a client still writing it when the server answers may see the connection close instead).
    const tooLarge = await declaredTooLarge(single.url);
    expect(tooLarge.status).toBe(400);
    expect(JSON.stringify(tooLarge.body)).toContain('2 MB limit');
    expect(await declaredTooLarge(gateway)).toEqual(tooLarge);
    expect(await count(gateway)).toBe(0);
    expect(await count(single.url)).toBe(0);
    // The writers parsed and refused the 8 whose namespace the gateway could read (absent or a
    // valid name); the gateway parsed the other 7 itself (not an object; a namespace that is not a
    // valid one).
    expect((await forwarded())['400']).toBe(8);
  });

  it('lands a body in the namespace it names even when the gateway reads another, and meters it', async () => {
    // JSON.parse reads the escaped key as "namespace"; the gateway's reading of the text does not.
    const escaped = '{"vectors": [{"id": "e1", "values": [1, 2]}], "\\u006eamespace": "escaped-ns"}';
    const before = (await forwarded())['200'] ?? 0;
    const answer = await post(gateway, '/vectors/upsert', escaped);
    expect(answer).toEqual({ status: 200, body: { upsertedCount: 1 } });
    // Twice through a writer: refused as misrouted (routed as the default namespace), then applied.
    expect((await forwarded())['200']).toBe(before + 2);
    const fetched = await fetch(`${gateway}${hosts.get(gateway)}/vectors/fetch?ids=e1&namespace=escaped-ns`, { headers: { 'api-key': TEST_API_KEY } });
    expect(Object.keys(((await fetched.json()) as { vectors: object }).vectors)).toEqual(['e1']);
    const inDefault = await fetch(`${gateway}${hosts.get(gateway)}/vectors/fetch?ids=e1`, { headers: { 'api-key': TEST_API_KEY } });
    expect(((await inDefault.json()) as { vectors: object }).vectors).toEqual({});

    // A large body with its namespace in the middle, beyond where the gateway looks: the same.
    const middle = JSON.stringify({
      vectors: [{ id: 'big', values: [5, 6], metadata: { text: 'a'.repeat(20_000) } }],
      namespace: 'middle-ns',
      note: 'b'.repeat(20_000),
    });
    expect(await post(gateway, '/vectors/upsert', middle)).toEqual({ status: 200, body: { upsertedCount: 1 } });
    expect((await forwarded())['200']).toBe(before + 4);

    // A metadata field called namespace does not route the write either.
    const nested = JSON.stringify({ namespace: 'outer', vectors: [{ id: 'm1', values: [3, 4], metadata: { namespace: 'inner' } }] });
    expect(await post(gateway, '/vectors/upsert', nested)).toEqual({ status: 200, body: { upsertedCount: 1 } });
    const stats = (await post(gateway, '/describe_index_stats', '{}')).body as { namespaces: Record<string, { vectorCount: number }> };
    expect(stats.namespaces).toEqual({ 'escaped-ns': { vectorCount: 1 }, 'middle-ns': { vectorCount: 1 }, outer: { vectorCount: 1 } });

    // Write units were metered from the bytes the writer counted (id + 2 floats, per record).
    const usage = await fetch(`${gateway}/admin/usage?index=${INDEX}`, { headers: { 'api-key': TEST_API_KEY } });
    expect(usage.status).toBe(200);
    expect(JSON.stringify(await usage.json())).toMatch(/"writeUnits":[1-9]/);
  });

  it('charges the bytes of forwarded upserts to the byte rate limit', async () => {
    // 2,000 bytes/s: a 1,000-record body (about 13 kB of records) is let through on a full
    // bucket and leaves it in debt, so the next one is refused, naming the limit.
    const body = JSON.stringify({ namespace: 'limited', vectors: Array.from({ length: 1000 }, (_, i) => ({ id: `id-${i}`, values: [i, i] })) });
    expect((await post(limitedGateway, '/vectors/upsert', body)).status).toBe(200);
    const refused = await post(limitedGateway, '/vectors/upsert', body);
    expect(refused.status).toBe(429);
    expect(JSON.stringify(refused.body)).toContain('upsert');
  });

  it('refuses a records upsert that is not a whole frame (400 naming it, nothing written), and any caller without the cluster secret', async () => {
    const index = { id: 'records-check', dimension: 2, metric: 'euclidean' };
    const header = Buffer.from(JSON.stringify({ index, namespace: 'frames' })).toString('base64url');
    const send = (body: Uint8Array, authorization: string) =>
      fetch(`${writers[0]}/internal/v1/upsert-records`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/octet-stream', 'x-conifer-call': header },
        body,
      });
    const whole = Buffer.concat(
      encodeRecordFrame([
        { id: 'a', values: [1, 2] },
        { id: 'b', values: [3, 4] },
      ]),
    );
    for (const cut of [2, whole.length - 4]) {
      const res = await send(whole.subarray(0, cut), `Bearer ${CLUSTER_SECRET}`);
      expect(res.status).toBe(400);
      expect(JSON.stringify(await res.json())).toContain('record frame');
    }
    const stranger = await send(whole, `Bearer ${TEST_API_KEY}`);
    expect(stranger.status).toBe(401);
    // Nothing of it was written: the whole frame, sent properly, is the namespace's first write.
    const applied = await send(whole, `Bearer ${CLUSTER_SECRET}`);
    expect(applied.status).toBe(200);
    expect(((await applied.json()) as { result: { upsertedCount: number; lsn: number } }).result).toMatchObject({ upsertedCount: 2, lsn: 1 });
  });
});
