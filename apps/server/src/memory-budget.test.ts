import { rm } from 'node:fs/promises';
import { mulberry32 } from '@conifer/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restCall, spawnServer, tempDataDir, TEST_API_KEY, type Child } from './test-support.ts';

/**
 * The memory budget as an operator sets it: a server process started with CONIFER_MEMORY_BUDGET
 * and CONIFER_NAMESPACE_IDLE_MS, written through the Pinecone REST API. More data than the budget
 * holds goes in; /metrics must show namespaces closed for the budget while the writes run, the
 * memory held within the budget after them, every namespace closed once idle — and every record
 * still answered after all that (reopened from the store).
 */
const BUDGET = 16 * 2 ** 20;
const NAMESPACES = 24;
const PER_NAMESPACE = 2000;
const DIMENSION = 64;

function vectorOf(n: number, i: number): number[] {
  const random = mulberry32(n * 100_003 + i + 1);
  return Array.from({ length: DIMENSION }, () => Math.fround(random() * 2 - 1));
}

/** The value of a /metrics series, 0 when absent. */
function series(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

/** The value of a /metrics series without labels, 0 when absent. */
function plain(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

/** What the writer's open namespaces hold, by /metrics. */
function usedBy(text: string): number {
  return ['memtables', 'slabs', 'fixed', 'compactions'].reduce((n, kind) => n + series(text, 'conifer_memory_used_bytes', `kind="${kind}",role="writer"`), 0);
}

describe('memory budget (CONIFER_MEMORY_BUDGET, CONIFER_NAMESPACE_IDLE_MS)', () => {
  let server: Child;
  let dataDir: string;
  let host: string;
  const metrics = async () => (await fetch(`${server.url}/metrics`)).text();

  beforeAll(async () => {
    dataDir = await tempDataDir();
    server = await spawnServer({
      CONIFER_DATA_DIR: dataDir,
      CONIFER_PORT: '0',
      CONIFER_API_KEY: TEST_API_KEY,
      CONIFER_INDEX_HOSTS: 'paths',
      CONIFER_MEMORY_BUDGET: '16MiB',
      CONIFER_NAMESPACE_IDLE_MS: '3000',
    });
    const created = await restCall('POST', `${server.url}/indexes`, {
      body: { name: 'tenants', dimension: DIMENSION, metric: 'euclidean', spec: { serverless: { cloud: 'aws', region: 'us-east-1' } } },
    });
    expect(created.status).toBe(201);
    host = created.body.host;
  });

  afterAll(async () => {
    server?.process.kill('SIGTERM');
    await server?.exited;
    await rm(dataDir, { recursive: true, force: true });
  });

  it('closes namespaces to stay within the budget and when idle, and answers every record after', async () => {
    expect(await metrics()).toContain(`conifer_memory_budget_bytes ${BUDGET}`);

    // About 1.3 times the budget in vectors alone, written two namespaces at a time.
    for (let n = 0; n < NAMESPACES; n += 2) {
      await Promise.all(
        [n, n + 1].map(async (ns) => {
          // Pinecone's limit: 1,000 records per upsert.
          for (let first = 0; first < PER_NAMESPACE; first += 1000) {
            const vectors = Array.from({ length: 1000 }, (_, i) => ({ id: `v${first + i}`, values: vectorOf(ns, first + i) }));
            const answer = await restCall('POST', `${host}/vectors/upsert`, { body: { namespace: `t${ns}`, vectors } });
            expect(answer.status).toBe(200);
          }
        }),
      );
    }
    // The tick trims every second: within a few, what stays open fits the budget.
    let text = '';
    for (let wait = 0; wait < 50; wait++) {
      text = await metrics();
      const used = usedBy(text);
      if (series(text, 'conifer_namespaces_closed', 'role="writer",reason="budget"') > 0 && used <= BUDGET) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(series(text, 'conifer_namespaces_closed', 'role="writer",reason="budget"')).toBeGreaterThan(0);
    expect(usedBy(text)).toBeLessThanOrEqual(BUDGET);
    expect(series(text, 'conifer_memory_used_bytes', 'kind="fixed",role="writer"')).toBeGreaterThan(0);
    // The process's own memory at start is part of what the budget covers, and reported.
    expect(series(text, 'conifer_memory_used_bytes', 'kind="process",role="node"')).toBeGreaterThan(16 * 2 ** 20);
    // What the closes let go of is reported (0 once the collector has freed it).
    expect(text).toMatch(/^conifer_memory_released_bytes\{role="writer"\} \d+$/m);

    // Quiet for longer than the idle time: every namespace closes.
    for (let wait = 0; wait < 60 && series(text, 'conifer_namespaces_open', 'role="writer"') > 0; wait++) {
      await new Promise((r) => setTimeout(r, 200));
      text = await metrics();
    }
    expect(series(text, 'conifer_namespaces_open', 'role="writer"')).toBe(0);
    expect(series(text, 'conifer_namespaces_closed', 'role="writer",reason="idle"')).toBeGreaterThan(0);

    // Every namespace reopens from the store with all its records.
    const random = mulberry32(7);
    for (let ns = 0; ns < NAMESPACES; ns++) {
      const i = Math.floor(random() * PER_NAMESPACE);
      const answer = await restCall('POST', `${host}/query`, { body: { namespace: `t${ns}`, topK: 1, vector: vectorOf(ns, i) } });
      expect(answer.status).toBe(200);
      expect(answer.body.matches[0].id).toBe(`v${i}`);
    }
    const stats = await restCall('POST', `${host}/describe_index_stats`, { body: {} });
    expect(stats.body.totalVectorCount).toBe(NAMESPACES * PER_NAMESPACE);
    expect(Object.keys(stats.body.namespaces)).toHaveLength(NAMESPACES);
  }, 120_000);

  it('serves a namespace larger than the budget by reading its slabs by range, every answer right', async () => {
    // 60,000 × 64 floats: about 15 MiB of vectors, more than the namespaces' share of the budget.
    const LARGE = 60_000;
    for (let first = 0; first < LARGE; first += 1000) {
      const vectors = Array.from({ length: 1000 }, (_, i) => ({ id: `v${first + i}`, values: vectorOf(1000, first + i) }));
      const answer = await restCall('POST', `${host}/vectors/upsert`, { body: { namespace: 'large', vectors } });
      expect(answer.status).toBe(200);
    }
    // Idle: it closes (flushed), then reopens from the store with its slabs read by range.
    let text = await metrics();
    for (let wait = 0; wait < 60 && series(text, 'conifer_namespaces_open', 'role="writer"') > 0; wait++) {
      await new Promise((r) => setTimeout(r, 200));
      text = await metrics();
    }
    expect(series(text, 'conifer_namespaces_open', 'role="writer"')).toBe(0);
    const readBefore = plain(text, 'conifer_slab_pages_read_bytes');
    const random = mulberry32(11);
    for (let q = 0; q < 40; q++) {
      const i = Math.floor(random() * LARGE);
      const answer = await restCall('POST', `${host}/query`, { body: { namespace: 'large', topK: 1, vector: vectorOf(1000, i), includeValues: true } });
      expect(answer.status).toBe(200);
      expect(answer.body.matches[0].id).toBe(`v${i}`);
      // Values come back as the shortest decimal of each float32: equal once read as float32.
      expect((answer.body.matches[0].values as number[]).map(Math.fround)).toEqual(vectorOf(1000, i));
    }
    const fetched = await restCall('GET', `${host}/vectors/fetch?ids=v17&ids=v59999&namespace=large`);
    expect((fetched.body.vectors.v59999.values as number[]).map(Math.fround)).toEqual(vectorOf(1000, 59_999));
    text = await metrics();
    // Vectors came from the store in pages, and what the namespaces hold stayed within the budget.
    expect(plain(text, 'conifer_slab_pages_read_bytes')).toBeGreaterThan(readBefore);
    expect(usedBy(text)).toBeLessThanOrEqual(BUDGET);
  }, 120_000);
});
