import { describe, expect, it } from 'vitest';
import { newUuidV7 } from './backups.ts';
import { backends } from './testing/backends.ts';
import { uniqueName, useControlPlane } from './testing/harness.ts';

describe('newUuidV7', () => {
  it('is a version 7 UUID whose text sorts by creation time', () => {
    const a = newUuidV7(1_700_000_000_000);
    const b = newUuidV7(1_700_000_000_001);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a < b).toBe(true);
  });
});

describe.each(backends())('backups and restore jobs on $name', (backend) => {
  const shared = useControlPlane(backend);

  async function projectWithIndex() {
    const project = await shared.cp.projects.create(uniqueName());
    const index = await shared.cp.indexes.create(project.id, { name: uniqueName('idx'), dimension: 3, metric: 'cosine', tags: { team: 'a' } });
    return { project, index };
  }

  it('creates a backup Initializing, then Ready with its counts; lists it by project and by index, in creation order', async () => {
    const { project, index } = await projectWithIndex();
    const input = {
      projectId: project.id,
      sourceIndexId: index.id,
      sourceIndexName: index.name,
      cloud: index.cloud,
      region: index.region,
      dimension: index.dimension,
      metric: index.metric,
      vectorType: index.vectorType,
      tags: index.tags,
    };
    const first = await shared.cp.backups.create({ ...input, name: 'nightly', description: 'before the migration' });
    expect(first).toMatchObject({
      status: 'Initializing',
      name: 'nightly',
      description: 'before the migration',
      tags: { team: 'a' },
      sourceIndexDeletedAt: null,
    });
    expect(await shared.cp.backups.ready(first.id, { recordCount: 12, namespaceCount: 2, sizeBytes: 3_000_000_000 })).toBe(true);
    expect(await shared.cp.backups.ready(first.id, { recordCount: 1, namespaceCount: 1, sizeBytes: 1 })).toBe(false);
    const second = await shared.cp.backups.create(input);
    expect(await shared.cp.backups.fail(second.id, 'the store was down')).toBe(true);

    expect(await shared.cp.backups.get(project.id, first.id)).toMatchObject({ status: 'Ready', recordCount: 12, namespaceCount: 2, sizeBytes: 3_000_000_000 });
    expect(await shared.cp.backups.get(project.id, second.id)).toMatchObject({ status: 'Failed', error: 'the store was down', name: null });
    expect(await shared.cp.backups.get('prj_other', first.id)).toBeUndefined();
    expect((await shared.cp.backups.list(project.id, { limit: 10 })).map((b) => b.id)).toEqual([first.id, second.id]);
    expect((await shared.cp.backups.list(project.id, { limit: 10, after: first.id }, { id: index.id })).map((b) => b.id)).toEqual([second.id]);
    expect(await shared.cp.backups.list(project.id, { limit: 10 }, { id: 'idx_none' })).toEqual([]);
    expect((await shared.cp.backups.list(project.id, { limit: 10 }, { name: index.name })).map((b) => b.id)).toEqual([first.id, second.id]);
  });

  it('says when the source index was deleted; finds Initializing backups; removes a backup', async () => {
    const { project, index } = await projectWithIndex();
    const backup = await shared.cp.backups.create({
      projectId: project.id,
      sourceIndexId: index.id,
      sourceIndexName: index.name,
      cloud: 'aws',
      region: 'us-east-1',
      dimension: 3,
      metric: 'cosine',
      vectorType: 'dense',
      tags: {},
    });
    expect((await shared.cp.backups.listInitializing()).map((b) => b.id)).toContain(backup.id);
    await shared.cp.indexes.beginDelete(project.id, index.name);
    await shared.cp.indexes.finishDelete(index.id);
    expect((await shared.cp.backups.get(project.id, backup.id))!.sourceIndexDeletedAt).toBeInstanceOf(Date);
    await shared.cp.backups.remove(backup.id);
    expect(await shared.cp.backups.get(project.id, backup.id)).toBeUndefined();
  });

  it('tracks a restore job from Pending to Completed; finishing twice is refused; open jobs are found by backup', async () => {
    const { project, index } = await projectWithIndex();
    const job = await shared.cp.restoreJobs.create({ projectId: project.id, backupId: 'b-1', targetIndexId: index.id, targetIndexName: index.name });
    expect(job).toMatchObject({ status: 'Pending', percentComplete: 0, completedAt: null });
    expect(await shared.cp.restoreJobs.openOfBackup('b-1')).toEqual([job.id]);
    expect((await shared.cp.restoreJobs.listOpen()).map((j) => j.id)).toContain(job.id);
    expect(await shared.cp.restoreJobs.progress(job.id, { status: 'InProgress', percentComplete: 40.5 })).toBe(true);
    expect(await shared.cp.restoreJobs.get(project.id, job.id)).toMatchObject({ status: 'InProgress', percentComplete: 40.5 });
    expect(await shared.cp.restoreJobs.finish(job.id, { status: 'Completed' })).toBe(true);
    expect(await shared.cp.restoreJobs.finish(job.id, { status: 'Failed', error: 'late' })).toBe(false);
    expect(await shared.cp.restoreJobs.progress(job.id, { percentComplete: 1 })).toBe(false);
    const done = (await shared.cp.restoreJobs.get(project.id, job.id))!;
    expect(done).toMatchObject({ status: 'Completed', percentComplete: 100, error: null });
    expect(done.completedAt).toBeInstanceOf(Date);
    expect(await shared.cp.restoreJobs.openOfBackup('b-1')).toEqual([]);
    const failed = await shared.cp.restoreJobs.create({ projectId: project.id, backupId: 'b-1', targetIndexId: index.id, targetIndexName: index.name });
    await shared.cp.restoreJobs.finish(failed.id, { status: 'Failed', error: 'boom' });
    expect((await shared.cp.restoreJobs.list(project.id, { limit: 1 })).map((j) => j.id)).toEqual([job.id]);
    expect((await shared.cp.restoreJobs.list(project.id, { limit: 5, after: job.id })).map((j) => [j.id, j.status, j.error])).toEqual([
      [failed.id, 'Failed', 'boom'],
    ]);
  });
});
