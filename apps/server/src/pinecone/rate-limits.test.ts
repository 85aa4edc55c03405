import { describe, expect, it } from 'vitest';
import { TEST_API_KEY, uniqueIndexName, useServer } from '../test-support.ts';

/** A JSON call with an API key, as curl would make it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function call(method: string, url: string, key: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(url, {
    method,
    headers: { 'api-key': key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

describe('rate limits over REST, on a server started with the defaults', () => {
  const running = useServer();

  it('are off by default; the operator sets a tenant’s per project and per index; the tenant gets 429s naming the limit', async () => {
    const { url } = running();
    const operator = TEST_API_KEY;
    const created = await call('POST', `${url}/admin/projects`, operator, { name: uniqueIndexName('tenant') });
    const { apiKey: tenant, project } = created.body as { apiKey: string; project: { id: string } };
    const index = await call('POST', `${url}/indexes`, tenant, { name: 'docs', dimension: 2 });
    const host = index.body.host as string;
    await call('POST', `${host}/vectors/upsert`, tenant, { vectors: [{ id: 'a', values: [1, 2] }] });

    // Off: far more than Pinecone's 100 queries per second per namespace pass.
    const burst = await Promise.all(Array.from({ length: 300 }, () => call('POST', `${host}/query`, tenant, { topK: 1, vector: [1, 2] })));
    expect(burst.every((r) => r.status === 200)).toBe(true);
    const view = await call('GET', `${url}/admin/projects/${project.id}/rate-limits`, tenant);
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({ projectId: project.id, projectOverrides: {}, node: { queryPerNamespace: 0 }, effective: { queryPerNamespace: 0 } });

    // The tenant cannot raise (or set) its own limits; the operator can.
    const refused = await call('PUT', `${url}/admin/projects/${project.id}/rate-limits`, tenant, { queryPerNamespace: 5 });
    expect(refused).toMatchObject({ status: 403, body: { error: { code: 'PERMISSION_DENIED' } } });
    const set = await call('PUT', `${url}/admin/projects/${project.id}/rate-limits`, operator, { queryPerNamespace: 5, fetchPerIndex: 2 });
    expect(set).toMatchObject({
      status: 200,
      body: { projectOverrides: { queryPerNamespace: 5, fetchPerIndex: 2 }, effective: { queryPerNamespace: 5, fetchPerIndex: 2 } },
    });

    const started = performance.now();
    const limited = await Promise.all(Array.from({ length: 40 }, () => call('POST', `${host}/query`, tenant, { topK: 1, vector: [1, 2] })));
    const throttled = limited.filter((r) => r.status === 429);
    // One second's worth at once, plus what refilled while the burst ran.
    expect(limited.length - throttled.length).toBeLessThanOrEqual(5 + Math.ceil(5 * ((performance.now() - started) / 1000)));
    expect(throttled.length).toBeGreaterThan(0);
    expect(throttled[0]!.body).toMatchObject({ code: 8, message: expect.stringContaining('query is limited to 5 requests per second per namespace') });

    // An index override wins over the project's.
    const onIndex = await call('PUT', `${url}/admin/projects/${project.id}/indexes/docs/rate-limits`, operator, { fetchPerIndex: 0 });
    expect(onIndex.body).toMatchObject({ index: 'docs', indexOverrides: { fetchPerIndex: 0 }, effective: { fetchPerIndex: 0, queryPerNamespace: 5 } });
    const fetches = await Promise.all(Array.from({ length: 10 }, () => call('GET', `${host}/vectors/fetch?ids=a`, tenant)));
    expect(fetches.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect((await call('GET', `${url}/admin/projects/${project.id}/indexes/docs/rate-limits`, tenant)).body).toEqual(onIndex.body);

    // Bad input: a 400 naming the limit, and nothing changes.
    for (const [body, message] of [
      [{ queryPerNamespace: -1 }, 'queryPerNamespace: must be a number >= 0 (0 = unlimited)'],
      [{ queryPerNamespace: '9' }, 'queryPerNamespace: must be a number >= 0 (0 = unlimited)'],
      [{ queriesPerSecond: 9 }, expect.stringContaining('unknown rate limit; known: queryPerNamespace')],
      [[1], 'request body must be a JSON object'],
    ] as const) {
      const answer = await call('PUT', `${url}/admin/projects/${project.id}/rate-limits`, operator, body);
      expect(answer).toMatchObject({ status: 400, body: { error: { code: 'INVALID_ARGUMENT', message } } });
    }
    expect((await call('GET', `${url}/admin/projects/${project.id}/rate-limits`, operator)).body.projectOverrides).toEqual({
      queryPerNamespace: 5,
      fetchPerIndex: 2,
    });
    // Another project's limits are not the tenant's business; unknown ones are 404.
    expect((await call('GET', `${url}/admin/projects/prj_nope/rate-limits`, operator)).status).toBe(404);
    expect((await call('GET', `${url}/admin/projects/prj_nope/rate-limits`, tenant)).status).toBe(404);
    expect((await call('PUT', `${url}/admin/projects/${project.id}/indexes/nope/rate-limits`, operator, {})).status).toBe(404);
    // `{}` removes the overrides.
    await call('PUT', `${url}/admin/projects/${project.id}/rate-limits`, operator, {});
    expect((await call('GET', `${url}/admin/projects/${project.id}/rate-limits`, tenant)).body.projectOverrides).toEqual({});

    // The same through the TypeScript SDK.
    const sdk = running().client;
    expect((await sdk.setRateLimits({ projectId: project.id, index: 'docs', limits: { listPerIndex: 4 } })).effective.listPerIndex).toBe(4);
    expect(await running().clientWithKey(tenant).rateLimits({ index: 'docs' })).toMatchObject({ indexOverrides: { listPerIndex: 4 } });
    await expect(running().clientWithKey(tenant).setRateLimits({ limits: {} })).rejects.toThrow(/operator project/);
  });
});

describe('rate limits over REST, on a server started with CONIFER_RATE_LIMITS=on', () => {
  const running = useServer({ CONIFER_RATE_LIMITS: 'on', CONIFER_RATE_LIST_PER_INDEX: '3' });

  it('applies Pinecone’s limits, and single variables over them', async () => {
    const { url } = running();
    const index = await call('POST', `${url}/indexes`, TEST_API_KEY, { name: uniqueIndexName('on'), dimension: 2 });
    const host = index.body.host as string;
    const started = performance.now();
    const lists = await Promise.all(Array.from({ length: 20 }, () => call('GET', `${host}/vectors/list`, TEST_API_KEY)));
    const passed = lists.filter((r) => r.status === 200).length;
    expect(passed).toBeLessThanOrEqual(3 + Math.ceil(3 * ((performance.now() - started) / 1000)));
    expect(passed + lists.filter((r) => r.status === 429).length).toBe(20);
    const whoami = await call('GET', `${url}/admin/whoami`, TEST_API_KEY);
    const view = await call('GET', `${url}/admin/projects/${whoami.body.project.id}/rate-limits`, TEST_API_KEY);
    expect(view.body.node).toMatchObject({ queryPerNamespace: 100, listPerIndex: 3 });
  });
});
