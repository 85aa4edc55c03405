import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createControlPlane, type ControlPlane } from '@conifer/control';
import { pgliteTemplateDump } from '@conifer/control/testing';
import { createEngine, type Engine, type IndexHandle, type NamespaceInternals } from '@conifer/engine';
import { MemoryObjectStore } from '@conifer/storage';
import type { NamespacePlacement, ServiceDataPlane } from './cluster-service.ts';
import { createCaller } from './router.ts';
import { createServices } from './services.ts';
import { uniqueIndexName } from './test-support.ts';

async function failure(promise: Promise<unknown>): Promise<TRPCError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TRPCError);
  return error as TRPCError;
}

const NODE = { id: 'node_self', url: 'http://127.0.0.1:5080' };

/**
 * The operators' view of the cluster through the tRPC router, over a real control plane (PGlite)
 * and a real engine: the single process as the server builds it (with its node id), and a
 * stand-in for a cluster gateway's routing data plane that says where each namespace lives.
 */
describe('cluster: nodes, index-build jobs and namespace ownership', () => {
  let control: ControlPlane;
  let engine: Engine;
  let adminKey: string;
  let operatorProjectId: string;
  /** A tenant project's admin key: not an operator. */
  let tenantKey: string;
  /** What the stand-in gateway answers for each namespace (by name). */
  const placements = new Map<string, NamespacePlacement | Error>();

  beforeAll(async () => {
    control = await createControlPlane({ pgliteDump: await pgliteTemplateDump() });
    engine = await createEngine({ store: new MemoryObjectStore() });
    const { project, apiKey } = await control.bootstrap();
    adminKey = apiKey!;
    operatorProjectId = project.id;
    const services = createServices({ control, data: engine, operatorProjectId: project.id, nodeId: NODE.id });
    tenantKey = (await services.createProject((await services.authenticate(adminKey))!, { name: 'tenant' })).apiKey;
    await control.membership.heartbeat({ ...NODE, roles: ['gateway', 'writer', 'query', 'indexer'], state: 'active' });
  });
  afterAll(async () => {
    await engine?.close();
    await control?.close();
  });

  const services = (data: ServiceDataPlane = engine) => createServices({ control, data, operatorProjectId, nodeId: NODE.id });
  const operatorProject = () => operatorProjectId;
  const caller = (key: string, data?: ServiceDataPlane) => createCaller({ services: services(data), apiKey: key });

  /** An index of the operator project with records in `namespaces`; its engine handle. */
  async function indexWith(namespaces: string[]): Promise<{ name: string; handle: IndexHandle; lsns: Map<string, number> }> {
    const name = uniqueIndexName('own');
    const admin = caller(adminKey);
    await admin.indexes.create({ name, dimension: 2, metric: 'euclidean' });
    const lsns = new Map<string, number>();
    for (const ns of namespaces) {
      const { lsn } = await admin.data.upsert({ index: name, namespace: ns, records: [{ id: 'a', values: [1, 2] }] });
      lsns.set(ns, (await admin.data.upsert({ index: name, namespace: ns, records: [{ id: 'b', values: [3, 4] }] })).lsn);
      expect(lsn).toBeLessThan(lsns.get(ns)!);
    }
    const record = await control.indexes.get(operatorProject(), name);
    return { name, handle: { id: record.id, dimension: record.dimension, metric: record.metric }, lsns };
  }

  it('is for operator admin keys only', async () => {
    const tenant = caller(tenantKey);
    for (const call of [tenant.cluster.nodes(), tenant.cluster.jobs({}), tenant.cluster.namespaces({ index: 'any' })]) {
      const error = await failure(call);
      expect(error.code).toBe('FORBIDDEN');
      expect(error.message).toBe('Reading the cluster needs an admin key of the operator project.');
    }
    const { apiKey: readOnlyKey } = await caller(adminKey).keys.create({ name: 'operator-reader', role: 'read-only' });
    expect((await failure(caller(readOnlyKey).cluster.jobs())).code).toBe('FORBIDDEN');
    expect((await caller(adminKey).cluster.nodes()).nodes).toContainEqual(expect.objectContaining({ id: NODE.id, url: NODE.url, live: true }));
  });

  it('lists recent jobs with their index, state, claimer and age, filtered by state', async () => {
    const { handle, name } = await indexWith(['jobs']);
    const planned = await control.indexJobs.plan({
      indexId: handle.id,
      namespace: 'jobs',
      kind: 'compaction',
      inputs: ['s1', 's2'],
      baseVersion: 4,
      writerEpoch: 2,
    });
    const other = await control.indexJobs.plan({ indexId: handle.id, namespace: '', kind: 'index', inputs: ['s3'], baseVersion: 1, writerEpoch: 1 });
    const gone = await control.indexJobs.plan({ indexId: 'idx_gone', namespace: 'x', kind: 'compaction', inputs: ['s4'], baseVersion: 1, writerEpoch: 1 });
    const claimed = await control.indexJobs.claim('node_indexer', 3_000);
    expect(claimed?.id).toBe(planned.id);

    const admin = caller(adminKey);
    const { jobs } = await admin.cluster.jobs();
    expect(jobs.map((j) => j.id)).toEqual(expect.arrayContaining([planned.id, other.id, gone.id]));
    const running = jobs.find((j) => j.id === planned.id)!;
    expect(running).toMatchObject({
      indexId: handle.id,
      index: name,
      projectId: operatorProject(),
      namespace: 'jobs',
      kind: 'compaction',
      state: 'running',
      attempts: 1,
      inputs: ['s1', 's2'],
      baseVersion: 4,
      writerEpoch: 2,
      claimedBy: 'node_indexer',
      error: null,
    });
    expect(running.heartbeatAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(running.ageMs).toBeGreaterThanOrEqual(0);
    expect(running.ageMs).toBeLessThan(60_000);
    // A job of an index that no longer exists keeps its id, without a name.
    expect(jobs.find((j) => j.id === gone.id)).toMatchObject({ indexId: 'idx_gone', index: null, projectId: null, state: 'pending', claimedBy: null });

    expect((await admin.cluster.jobs({ state: ['running'] })).jobs.map((j) => j.id)).toEqual([planned.id]);
    expect((await admin.cluster.jobs({ state: ['pending', 'running'] })).jobs).toHaveLength(3);
    expect((await admin.cluster.jobs({ limit: 1 })).jobs).toHaveLength(1);
  });

  it('refuses bad job queries, naming the field and the bound', async () => {
    const admin = caller(adminKey);
    expect((await failure(admin.cluster.jobs({ limit: 0 }))).message).toBe('limit: must be 1–500');
    expect((await failure(admin.cluster.jobs({ limit: 501 }))).message).toBe('limit: must be at most 500');
    expect((await failure(admin.cluster.jobs({ limit: 1.5 }))).message).toBe('limit: must be an integer');
    const state = await failure(admin.cluster.jobs({ state: ['stuck' as 'pending'] }));
    expect(state.code).toBe('BAD_REQUEST');
    expect(state.message).toBe('state[0]: must be one of pending, running, done, failed, cancelled');
    expect((await failure(admin.cluster.namespaces({ index: 'Bad_Name' }))).message).toMatch(/^index: must consist of lowercase/);
    expect((await failure(admin.cluster.namespaces({} as { index: string }))).message).toBe('index: is required: the name of an index');
    expect((await failure(admin.cluster.namespaces({ index: 'x', limit: 1001 }))).message).toBe('limit: must be at most 1000');
  });

  it('in the single process: this node owns every namespace, with its epoch and LSNs, and no replica', async () => {
    const { name, lsns } = await indexWith(['b-ns', 'a-ns', '']);
    const view = await caller(adminKey).cluster.namespaces({ index: name });
    expect(view).toMatchObject({ index: name, singleProcess: true, totalCount: 3 });
    expect(view.namespaces.map((n) => n.namespace)).toEqual(['', 'a-ns', 'b-ns']);
    for (const ns of view.namespaces) {
      expect(ns).toEqual({
        namespace: ns.namespace,
        recordCount: 2,
        writer: NODE,
        writerEpoch: expect.any(Number),
        manifestVersion: expect.any(Number),
        writtenLsn: lsns.get(ns.namespace),
        flushedLsn: expect.any(Number),
        takenOver: true,
        query: null,
        appliedLsn: null,
        lagLsn: null,
      });
      expect(ns.writerEpoch).toBeGreaterThanOrEqual(1);
    }
    const first = await caller(adminKey).cluster.namespaces({ index: name, limit: 2 });
    expect(first.totalCount).toBe(3);
    expect(first.namespaces.map((n) => n.namespace)).toEqual(['', 'a-ns']);
    // Another project's index, like an unknown one, is not found.
    const tenantIndex = uniqueIndexName('theirs');
    await caller(tenantKey).indexes.create({ name: tenantIndex, dimension: 2, metric: 'cosine' });
    expect((await failure(caller(adminKey).cluster.namespaces({ index: tenantIndex }))).code).toBe('NOT_FOUND');
  });

  it('in a cluster: the owner writer and serving query node the routing data plane names, and the replica lag', async () => {
    const { name, handle } = await indexWith(['fresh', 'stale', 'writer-down', 'no-replica', 'broken']);
    const internals = async (ns: string, writtenLsn: number): Promise<NamespaceInternals> => ({
      ...(await engine.describeNamespace(handle, ns)),
      writtenLsn,
      writerEpoch: 3,
      manifestVersion: 9,
    });
    const w1 = { id: 'node_w1', url: 'http://w1' };
    const q1 = { id: 'node_q1', url: 'http://q1' };
    placements.set('fresh', { writer: { node: w1, internals: await internals('fresh', 40) }, query: { node: q1, internals: await internals('fresh', 40) } });
    placements.set('stale', { writer: { node: w1, internals: await internals('stale', 40) }, query: { node: q1, internals: await internals('stale', 33) } });
    placements.set('writer-down', { writer: { node: w1, error: 'connection refused' }, query: { node: q1, internals: await internals('writer-down', 7) } });
    placements.set('no-replica', { writer: { node: w1, internals: await internals('no-replica', 5) }, query: null });
    placements.set('broken', new Error('membership unreadable'));
    const routed = new Proxy(engine, {
      get(target, key) {
        if (key === 'describePlacement')
          return async (index: IndexHandle, ns: string) => {
            expect(index.id).toBe(handle.id);
            const placement = placements.get(ns)!;
            if (placement instanceof Error) throw placement;
            return placement;
          };
        const value = Reflect.get(target, key, target) as unknown;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    }) as ServiceDataPlane;

    const view = await caller(adminKey, routed).cluster.namespaces({ index: name });
    expect(view.singleProcess).toBe(false);
    const byName = new Map(view.namespaces.map((n) => [n.namespace, n]));
    expect(byName.get('fresh')).toMatchObject({ writer: w1, writerEpoch: 3, manifestVersion: 9, writtenLsn: 40, query: q1, appliedLsn: 40, lagLsn: 0 });
    expect(byName.get('fresh')!.error).toBeUndefined();
    expect(byName.get('stale')).toMatchObject({ writer: w1, writtenLsn: 40, query: q1, appliedLsn: 33, lagLsn: 7 });
    expect(byName.get('writer-down')).toMatchObject({
      writer: w1,
      writerEpoch: null,
      writtenLsn: null,
      takenOver: null,
      query: q1,
      appliedLsn: 7,
      lagLsn: null,
      error: 'node_w1: connection refused',
    });
    expect(byName.get('no-replica')).toMatchObject({ writer: w1, writtenLsn: 5, query: null, appliedLsn: null, lagLsn: null });
    expect(byName.get('broken')).toMatchObject({ recordCount: 2, writer: null, query: null, writtenLsn: null, error: 'membership unreadable' });
  });
});
