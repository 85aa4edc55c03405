import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createControlPlane, newNodeId, type ControlPlane } from '@conifer/control';
import { pgliteTemplateDump } from '@conifer/control/testing';
import { JobQueueCompactions } from './job-queue-compactions.ts';
import type { NodeDirectory } from './node-directory.ts';
import type { RemoteCompactionJob } from '@conifer/engine';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Finished index jobs do not stay forever: a done job's output counts as in flight for GC only
 * until the job is removed after the retention, so an output that was never swapped in (or was
 * compacted away since) becomes collectable, and the table stops growing with every build.
 */
describe('JobQueueCompactions: finished jobs are removed after the retention', () => {
  let cp: ControlPlane;
  beforeAll(async () => {
    cp = await createControlPlane({ pgliteDump: await pgliteTemplateDump() });
  });
  afterAll(() => cp.close());

  /** A job of `namespace` with `inputs`, claimed and completed with the output `out`. */
  async function doneJob(indexId: string, namespace: string, inputs: string[], out: string): Promise<void> {
    const planned = await cp.indexJobs.plan({ indexId, namespace, kind: 'compaction', inputs, baseVersion: 1, writerEpoch: 1, params: { outputId: out } });
    const node = newNodeId();
    const claimed = await cp.indexJobs.claim(node, 60_000);
    expect(claimed?.id).toBe(planned.id);
    expect(await cp.indexJobs.complete(planned.id, node, { slabIds: [out] })).toBe(true);
  }

  it('keeps a done job for the retention, then removes it — and with it its output from the in-flight set — leaving open jobs alone', async () => {
    const directory = {} as NodeDirectory; // not consulted by pruning
    await doneJob('idx-a', 'ns', ['in_1', 'in_2'], 'out_1');
    await cp.indexJobs.plan({
      indexId: 'idx-a',
      namespace: 'ns',
      kind: 'compaction',
      inputs: ['in_3'],
      baseVersion: 2,
      writerEpoch: 1,
      params: { outputId: 'out_2' },
    });

    const keeping = new JobQueueCompactions({ jobs: cp.indexJobs, directory });
    expect(await keeping.pruneIfDue()).toBe(0);
    expect(new Set(await keeping.inflight('idx-a', 'ns'))).toEqual(new Set(['out_1', 'in_3', 'out_2']));

    await sleep(120);
    const pruning = new JobQueueCompactions({ jobs: cp.indexJobs, directory, retentionMs: 100 });
    expect(await pruning.pruneIfDue()).toBe(1);
    // The open job still holds its inputs and output; the done one's output is no longer held.
    expect(new Set(await pruning.inflight('idx-a', 'ns'))).toEqual(new Set(['in_3', 'out_2']));
    expect((await cp.indexJobs.forNamespace('idx-a', 'ns')).map((j) => j.state)).toEqual(['pending']);
    // At most once a minute: asking again right away removes nothing, even with a finished job due.
    await cp.indexJobs.cancel((await cp.indexJobs.forNamespace('idx-a', 'ns'))[0]!.id);
    await sleep(120);
    expect(await pruning.pruneIfDue()).toBe(0);
    expect(await pruning.pruneIfDue(performance.now() + 61_000)).toBe(1);
    expect(await pruning.inflight('idx-a', 'ns')).toEqual([]);
  });

  it('prunes when it plans a build', async () => {
    await doneJob('idx-b', 'ns', ['in_1'], 'out_b');
    await sleep(120);
    const compactions = new JobQueueCompactions({ jobs: cp.indexJobs, directory: {} as NodeDirectory, retentionMs: 100, pollMs: 1 });
    const job = {
      indexId: 'idx-b',
      namespace: 'other',
      prefix: 'idx-b/other/',
      inputs: ['x'],
      outputId: 'out_x',
      baseVersion: 1,
      writerEpoch: 1,
      index: false,
    };
    // Abandoned at once (its namespace closing): the build is withdrawn, the old job pruned.
    await expect(compactions.build(job as unknown as RemoteCompactionJob, () => true)).rejects.toThrow(/abandoned/);
    await expect.poll(() => cp.indexJobs.forNamespace('idx-b', 'ns')).toEqual([]);
  });
});
