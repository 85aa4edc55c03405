import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConiferContainer } from '@conifer/emulators';

/**
 * What every container configuration must survive: a stop and start, and a SIGKILL (`docker kill`)
 * under four concurrent upsert streams, without losing a write it acknowledged.
 */
export function durabilitySuite(label: string, start: () => Promise<ConiferContainer>): void {
  describe(`${label}: durability across restarts`, () => {
    let conifer: ConiferContainer;

    beforeAll(async () => {
      conifer = await start();
    });
    afterAll(async () => {
      await conifer?.stop();
    });

    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers of several shapes, checked by the tests
    async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
      const response = await fetch(`${conifer.url()}${path}`, {
        method,
        headers: { 'api-key': conifer.apiKey, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
      const text = await response.text();
      return { status: response.status, json: text ? JSON.parse(text) : undefined };
    }

    /** The data-plane path of `index` (its host's path: the port in the host changes on restart). */
    async function dataPath(index: string): Promise<string> {
      const described = await call('GET', `/indexes/${index}`);
      expect(described.status).toBe(200);
      return new URL(described.json.host as string).pathname;
    }

    async function missingOf(index: string, ids: string[]): Promise<string[]> {
      const path = await dataPath(index);
      const missing: string[] = [];
      for (let i = 0; i < ids.length; i += 100) {
        const chunk = ids.slice(i, i + 100);
        const fetched = await call('GET', `${path}/vectors/fetch?${chunk.map((id) => `ids=${encodeURIComponent(id)}`).join('&')}`);
        expect(fetched.status).toBe(200);
        missing.push(...chunk.filter((id) => !(id in fetched.json.vectors)));
      }
      return missing;
    }

    const vector = (n: number) => Array.from({ length: 8 }, (_, d) => Math.sin(n * 8 + d));

    /** Creates `name` (8 dimensions) and answers its data-plane path. */
    async function createIndex(name: string): Promise<string> {
      const created = await call('POST', '/indexes', { name, dimension: 8, metric: 'euclidean', spec: { serverless: { cloud: 'aws', region: 'us-east-1' } } });
      expect(created.status).toBe(201);
      return dataPath(name);
    }

    it('keeps every acknowledged write across a stop and start of the container', async () => {
      const path = await createIndex('restarted');
      const ids: string[] = [];
      for (let batch = 0; batch < 20; batch++) {
        const vectors = Array.from({ length: 50 }, (_, i) => ({ id: `r${batch * 50 + i}`, values: vector(batch * 50 + i) }));
        const written = await call('POST', `${path}/vectors/upsert`, { vectors });
        expect(written.status).toBe(200);
        ids.push(...vectors.map((v) => v.id));
      }
      await conifer.restart();
      expect(await missingOf('restarted', ids)).toEqual([]);
    });

    it('loses no acknowledged write when the container is killed (SIGKILL) mid-upsert', async () => {
      const path = await createIndex('killed');
      const acknowledged: string[] = [];
      let stopped = false;
      let failures = 0;
      // Four writers in flight; each records only what the server acknowledged with a 200.
      const writers = Array.from({ length: 4 }, async (_, w) => {
        for (let n = 0; !stopped; n++) {
          const vectors = Array.from({ length: 20 }, (_, i) => ({ id: `w${w}-${n}-${i}`, values: vector(n * 20 + i) }));
          try {
            const written = await call('POST', `${path}/vectors/upsert`, { vectors });
            if (written.status === 200 && written.json.upsertedCount === vectors.length) acknowledged.push(...vectors.map((v) => v.id));
          } catch {
            failures++;
            return;
          }
        }
      });
      while (acknowledged.length < 2_000) await new Promise((resolve) => setTimeout(resolve, 50));
      await conifer.kill();
      await Promise.all(writers);
      stopped = true;
      expect(failures, 'writes in flight when the container died').toBeGreaterThan(0);
      await conifer.restart();
      expect(await missingOf('killed', acknowledged)).toEqual([]);
      console.log(`container kill: ${acknowledged.length} acknowledged writes before SIGKILL, all found after the restart; ${failures} in flight failed`);
    });
  });
}
