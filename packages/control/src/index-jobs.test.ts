import { InvalidArgumentError } from '@conifer/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createControlPlane, type ControlPlane } from './control-plane.ts';
import type { IndexJobPlan } from './index-jobs.ts';
import { newNodeId } from './membership.ts';
import { backends } from './testing/backends.ts';
import { uniqueName, useControlPlane } from './testing/harness.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const LONG_LEASE = 60_000;

function planOf(overrides: Partial<IndexJobPlan> = {}): IndexJobPlan {
  return {
    indexId: uniqueName('idx'),
    namespace: '',
    kind: 'compaction',
    inputs: ['slab_a', 'slab_b'],
    baseVersion: 7,
    writerEpoch: 2,
    params: { targetRows: 1000 },
    ...overrides,
  };
}

/** Tests share a database and `claim` takes any namespace's job: each test leaves nothing open. */
async function cancelOpen(cp: ControlPlane): Promise<void> {
  for (const job of await cp.indexJobs.list({ states: ['pending', 'running'], limit: 1000 })) await cp.indexJobs.cancel(job.id);
}

describe.each(backends())('index jobs on $name', (backend) => {
  const shared = useControlPlane(backend, { config: { indexJobMaxAttempts: 2 } });
  afterEach(() => cancelOpen(shared.cp));

  it('plans one open job per namespace: planning again returns it', async () => {
    const jobs = shared.cp.indexJobs;
    const plan = planOf();
    const first = await jobs.plan(plan);
    expect(first).toMatchObject({
      indexId: plan.indexId,
      namespace: '',
      kind: 'compaction',
      inputs: ['slab_a', 'slab_b'],
      baseVersion: 7,
      writerEpoch: 2,
      params: { targetRows: 1000 },
      state: 'pending',
      attempts: 0,
      claimedBy: null,
      heartbeatAt: null,
      output: null,
      error: null,
    });
    expect(first.id).toMatch(/^job_[0-9a-z]{20}$/);
    // A writer restarted with a newer plan gets the open job back, to compare and maybe cancel.
    const again = await jobs.plan({ ...plan, inputs: ['slab_c'], baseVersion: 9 });
    expect(again).toEqual(first);
    const other = await jobs.plan({ ...plan, namespace: 'b', kind: 'index' });
    expect(other.id).not.toBe(first.id);
    expect((await jobs.forNamespace(plan.indexId, '')).map((j) => j.id)).toEqual([first.id]);

    expect(await jobs.cancel(first.id)).toBe(true);
    expect(await jobs.cancel(first.id)).toBe(false);
    const next = await jobs.plan({ ...plan, inputs: ['slab_c'] });
    expect(next.id).not.toBe(first.id);
    expect((await jobs.forNamespace(plan.indexId, '')).map((j) => [j.id, j.state])).toEqual([
      [first.id, 'cancelled'],
      [next.id, 'pending'],
    ]);
  });

  it('refuses a malformed plan', async () => {
    const jobs = shared.cp.indexJobs;
    for (const bad of [{ kind: 'reindex' as 'index' }, { inputs: [] }, { inputs: ['a', ''] }, { baseVersion: -1 }, { writerEpoch: 1.5 }, { indexId: '' }]) {
      await expect(jobs.plan(planOf(bad))).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    await expect(jobs.claim(newNodeId(), -1)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(jobs.list({ limit: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('claims the oldest job; only its claimer heartbeats and completes it', async () => {
    const jobs = shared.cp.indexJobs;
    const [a, b] = [newNodeId(), newNodeId()];
    const older = await jobs.plan(planOf());
    // Jobs are claimed oldest first by their planning time, which on PGlite has millisecond
    // resolution: two plans in the same millisecond have no order.
    await sleep(5);
    const newer = await jobs.plan(planOf({ kind: 'index', inputs: ['slab_x'] }));
    const claimed = (await jobs.claim(a, LONG_LEASE))!;
    expect(claimed).toMatchObject({ id: older.id, state: 'running', claimedBy: a, attempts: 1 });
    expect(claimed.heartbeatAt).toBeInstanceOf(Date);

    expect(await jobs.heartbeat(older.id, b)).toBe(false);
    expect(await jobs.complete(older.id, b, { slabIds: ['slab_bad'] })).toBe(false);
    expect(await jobs.fail(older.id, b, 'not mine')).toBe(false);
    await sleep(20);
    expect(await jobs.heartbeat(older.id, a)).toBe(true);
    expect((await jobs.get(older.id))!.heartbeatAt!.getTime()).toBeGreaterThan(claimed.heartbeatAt!.getTime());

    expect(await jobs.running(older.indexId, '')).toEqual(['slab_a', 'slab_b']);
    expect(await jobs.complete(older.id, a, { slabIds: ['slab_ab'], rows: 12 })).toBe(true);
    expect(await jobs.complete(older.id, a, { slabIds: ['slab_ab'] })).toBe(false);
    expect(await jobs.heartbeat(older.id, a)).toBe(false);
    const done = (await jobs.get(older.id))!;
    expect(done).toMatchObject({ state: 'done', claimedBy: a, output: { slabIds: ['slab_ab'], rows: 12 } });
    // Outputs stay in flight until pruned: the writer may not have swapped them in yet.
    expect(await jobs.running(older.indexId, '')).toEqual(['slab_ab']);

    expect((await jobs.claim(b, LONG_LEASE))!.id).toBe(newer.id);
    expect(await jobs.claim(b, LONG_LEASE)).toBeUndefined();
    expect(await jobs.running(newer.indexId, '')).toEqual(['slab_x']);
  });

  it('a lapsed claim is taken by the next claimer, and the old claimer is refused', async () => {
    const jobs = shared.cp.indexJobs;
    const [a, b] = [newNodeId(), newNodeId()];
    const job = await jobs.plan(planOf());
    expect((await jobs.claim(a, 200))!.id).toBe(job.id);
    expect(await jobs.claim(b, 200)).toBeUndefined(); // still fresh
    await sleep(350); // judged by the database's clock
    expect(await jobs.claim(b, LONG_LEASE)).toBeUndefined(); // not lapsed for a longer lease
    const taken = (await jobs.claim(b, 200))!;
    expect(taken).toMatchObject({ id: job.id, claimedBy: b, attempts: 2, state: 'running' });
    expect(await jobs.heartbeat(job.id, a)).toBe(false);
    expect(await jobs.complete(job.id, a, { slabIds: ['late'] })).toBe(false);
    expect(await jobs.heartbeat(job.id, b)).toBe(true);

    // The second claim was the last attempt: when it lapses too the job fails instead.
    await sleep(350);
    expect(await jobs.claim(a, 200)).toBeUndefined();
    const failed = (await jobs.get(job.id))!;
    expect(failed).toMatchObject({ state: 'failed', attempts: 2, claimedBy: b });
    expect(failed.error).toContain('heartbeat lapsed');
    expect(await jobs.complete(job.id, b, { slabIds: ['late'] })).toBe(false);
  });

  it('a failed build is retried until its attempts are used up', async () => {
    const jobs = shared.cp.indexJobs;
    const [a, b] = [newNodeId(), newNodeId()];
    const job = await jobs.plan(planOf());
    await jobs.claim(a, LONG_LEASE);
    expect(await jobs.fail(job.id, a, 'out of memory')).toBe(true);
    expect(await jobs.get(job.id)).toMatchObject({ state: 'pending', attempts: 1, claimedBy: null, heartbeatAt: null, error: 'out of memory' });
    expect(await jobs.fail(job.id, a, 'again')).toBe(false); // no longer claimed
    expect((await jobs.claim(b, LONG_LEASE))!).toMatchObject({ id: job.id, attempts: 2 });
    expect(await jobs.fail(job.id, b, 'x'.repeat(10_000))).toBe(true);
    const failed = (await jobs.get(job.id))!;
    expect(failed).toMatchObject({ state: 'failed', attempts: 2, claimedBy: b });
    expect(failed.error!.length).toBeLessThan(10_000);
    expect(await jobs.claim(a, LONG_LEASE)).toBeUndefined();
    expect(await jobs.running(job.indexId, '')).toEqual([]);
    // A finished job frees the namespace for a new plan.
    expect((await jobs.plan({ ...planOf(), indexId: job.indexId })).id).not.toBe(job.id);
  });

  it('a cancelled build stops at its next heartbeat', async () => {
    const jobs = shared.cp.indexJobs;
    const a = newNodeId();
    const job = await jobs.plan(planOf());
    await jobs.claim(a, LONG_LEASE);
    expect(await jobs.cancel(job.id)).toBe(true);
    expect(await jobs.heartbeat(job.id, a)).toBe(false);
    expect(await jobs.complete(job.id, a, { slabIds: ['s'] })).toBe(false);
    expect((await jobs.get(job.id))!.state).toBe('cancelled');
    expect(await jobs.get('job_missing')).toBeUndefined();
  });

  it('lists newest changes first, by state, and prunes only old finished jobs', async () => {
    const jobs = shared.cp.indexJobs;
    const a = newNodeId();
    const indexId = uniqueName('idx');
    const done = await jobs.plan(planOf({ indexId, namespace: 'done' }));
    await jobs.claim(a, LONG_LEASE);
    await jobs.complete(done.id, a, { slabIds: ['out'] });
    // Changes are ordered by their time, which on PGlite has millisecond resolution: two changes in
    // the same millisecond have no order (the listing then breaks the tie by id).
    await sleep(5);
    const open = await jobs.plan(planOf({ indexId, namespace: 'open' }));
    const listed = await jobs.list({ limit: 2 });
    expect(listed.map((j) => j.id)).toEqual([open.id, done.id]);
    expect((await jobs.list({ states: ['done'], limit: 100 })).map((j) => j.id)).toContain(done.id);
    expect((await jobs.list({ states: ['done'], limit: 100 })).map((j) => j.id)).not.toContain(open.id);
    expect(await jobs.list({ states: [], limit: 100 })).toEqual([]);

    expect(await jobs.prune(LONG_LEASE)).toBe(0);
    await sleep(150);
    expect(await jobs.prune(100)).toBeGreaterThanOrEqual(1);
    expect(await jobs.get(done.id)).toBeUndefined();
    expect(await jobs.get(open.id)).toBeDefined();
  });

  it('concurrent claimers never share a job, and concurrent plans agree', async () => {
    const jobs = shared.cp.indexJobs;
    const indexId = uniqueName('idx');
    for (let round = 0; round < 5; round++) {
      const planned = await Promise.all(['a', 'b', 'c'].map((namespace) => jobs.plan(planOf({ indexId, namespace }))));
      const claims = await Promise.all(Array.from({ length: 8 }, (_, i) => jobs.claim(`node_${i}`, LONG_LEASE)));
      const got = claims.filter((j) => j !== undefined);
      expect(got.map((j) => j.id).sort()).toEqual(planned.map((j) => j.id).sort());
      for (const job of got) expect(await jobs.complete(job.id, job.claimedBy!, { slabIds: [] })).toBe(true);
    }
    const replans = await Promise.all(Array.from({ length: 8 }, () => jobs.plan(planOf({ indexId, namespace: 'same' }))));
    expect(new Set(replans.map((j) => j.id)).size).toBe(1);
  });
});

describe.each(backends().filter((b) => b.sharedAccess))('index jobs across nodes on $name', (backend) => {
  it('claimers on separate control planes split the queue without duplicates', async () => {
    const database = await backend.create();
    const planes = await Promise.all(Array.from({ length: 4 }, () => createControlPlane(database.options)));
    try {
      const [writer] = planes as [ControlPlane];
      for (let round = 0; round < 5; round++) {
        const planned = await Promise.all(['a', 'b', 'c'].map((namespace) => writer.indexJobs.plan(planOf({ namespace }))));
        const claims = await Promise.all(Array.from({ length: 8 }, (_, i) => planes[i % planes.length]!.indexJobs.claim(`node_${i}`, LONG_LEASE)));
        const got = claims.filter((j) => j !== undefined);
        expect(got.map((j) => j.id).sort()).toEqual(planned.map((j) => j.id).sort());
        for (const job of got) expect(await writer.indexJobs.complete(job.id, job.claimedBy!, { slabIds: [`out_${job.id}`] })).toBe(true);
      }
      expect(await writer.indexJobs.list({ states: ['pending', 'running'], limit: 10 })).toEqual([]);
    } finally {
      await Promise.all(planes.map((cp) => cp.close()));
      await database.dispose();
    }
  });
});
