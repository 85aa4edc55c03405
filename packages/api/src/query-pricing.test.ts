import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createControlPlane, type ControlPlane } from '@conifer/control';
import { pgliteTemplateDump } from '@conifer/control/testing';
import { createEngine, type DataPlane, type Engine } from '@conifer/engine';
import { MemoryObjectStore } from '@conifer/storage';
import type { AuthContext } from './auth.ts';
import { createServices, type Services } from './services.ts';

/**
 * A query is priced on the namespace size the engine returns with its matches: no per-slab
 * describe of the namespace on the query path (that is the console's, and costs a row per slab).
 */
describe('query pricing', () => {
  const GiB = 1024 ** 3;
  let control: ControlPlane;
  let engine: Engine;
  let services: Services;
  let auth: AuthContext;
  /** What the data plane reports as the queried namespace's size. */
  let reportedBytes = 0;

  beforeAll(async () => {
    control = await createControlPlane({ pgliteDump: await pgliteTemplateDump() });
    engine = await createEngine({ store: new MemoryObjectStore() });
    const data = new Proxy(engine, {
      get(target, key) {
        if (key === 'describeNamespace') return () => Promise.reject(new Error('a query must not describe the namespace'));
        if (key === 'query') return async (...args: Parameters<DataPlane['query']>) => ({ ...(await target.query(...args)), namespaceBytes: reportedBytes });
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const { project, apiKey } = await control.bootstrap();
    services = createServices({ control, data, operatorProjectId: project.id });
    auth = (await services.authenticate(apiKey!))!;
    await services.createIndex(auth, { name: 'priced', dimension: 2, metric: 'cosine', deletionProtection: 'disabled' });
    await services.upsert(auth, { index: 'priced', namespace: 'ns', records: [{ id: 'a', values: [1, 2] }] });
  });
  afterAll(async () => {
    await engine.close();
    await control.close();
  });

  it('charges 1 RU per GiB of the size the engine reports, at least 0.25, and shapes the response', async () => {
    const before = await control.usage.report(auth.projectId, { index: 'priced' });
    const readUnitsBefore = before.days.reduce((sum, d) => sum + d.readUnits, 0);

    reportedBytes = 3 * GiB;
    const big = await services.query(auth, { index: 'priced', namespace: 'ns', vector: [1, 2], topK: 1, includeValues: false, includeMetadata: false });
    expect(big).toEqual({ matches: [{ id: 'a', score: expect.any(Number) }], namespace: 'ns', usage: { readUnits: 3 }, indexedLsn: 1 });

    reportedBytes = 1000;
    const small = await services.query(auth, { index: 'priced', namespace: 'ns', vector: [1, 2], topK: 1, includeValues: false, includeMetadata: false });
    expect(small.usage).toEqual({ readUnits: 1 }); // 0.25 RU metered, reported rounded up

    const after = await control.usage.report(auth.projectId, { index: 'priced' });
    expect(after.days.reduce((sum, d) => sum + d.readUnits, 0) - readUnitsBefore).toBeCloseTo(3.25, 9);
  });
});
