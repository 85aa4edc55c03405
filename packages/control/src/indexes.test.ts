import { describe, expect, it } from 'vitest';
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError } from '@conifer/core';
import type { ControlPlane } from './control-plane.ts';
import { DeletionProtectedError } from './errors.ts';
import { backends } from './testing/backends.ts';
import { uniqueName, useControlPlane, withFreshControlPlane } from './testing/harness.ts';
import { createControlPlane } from './control-plane.ts';
import type { CreateIndexInput } from './types.ts';

const spec = (name: string, extra: Partial<CreateIndexInput> = {}): CreateIndexInput => ({
  name,
  dimension: 8,
  metric: 'cosine',
  ...extra,
});

async function errorOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe.each(backends())('indexes on $name', (backend) => {
  const shared = useControlPlane(backend);
  const newProject = async (cp: ControlPlane) => (await cp.projects.create(uniqueName())).id;

  it('creates, gets and lists an index', async () => {
    const { cp } = shared;
    const projectId = await newProject(cp);
    const created = await cp.indexes.create(projectId, spec('products', { metric: 'dotproduct', tags: { team: 'search' } }));
    expect(created).toMatchObject({
      projectId,
      name: 'products',
      dimension: 8,
      metric: 'dotproduct',
      status: 'ready',
      deletionProtection: 'disabled',
      tags: { team: 'search' },
      cloud: 'aws',
      region: 'us-east-1',
    });
    expect(created.id).toMatch(/^idx_[a-z0-9]{20}$/);
    expect(new Date(created.createdAt).toISOString()).toBe(created.createdAt);
    expect(await cp.indexes.get(projectId, 'products')).toEqual(created);
    const other = await cp.indexes.create(projectId, spec('alpha'));
    expect(await cp.indexes.list(projectId)).toEqual([other, created]);
  });

  it('rejects a taken name with AlreadyExistsError', async () => {
    const { cp } = shared;
    const projectId = await newProject(cp);
    await cp.indexes.create(projectId, spec('dup'));
    const error = await errorOf(cp.indexes.create(projectId, spec('dup', { dimension: 16 })));
    expect(error).toBeInstanceOf(AlreadyExistsError);
    expect(error.message).toBe('Resource already exists.');
    expect(await cp.indexes.list(projectId)).toHaveLength(1);
  });

  it('validates input', async () => {
    const { cp } = shared;
    const projectId = await newProject(cp);
    await expect(cp.indexes.create(projectId, spec('Bad_Name'))).rejects.toThrow(InvalidArgumentError);
    await expect(cp.indexes.create(projectId, spec('ok', { dimension: 0 }))).rejects.toThrow(InvalidArgumentError);
    await expect(cp.indexes.create(projectId, spec('ok', { metric: 'hamming' as 'cosine' }))).rejects.toThrow(InvalidArgumentError);
    await expect(cp.indexes.configure(projectId, 'ok', { tags: { 'bad key': 'x' } })).rejects.toThrow(InvalidArgumentError);
    await expect(cp.indexes.create('prj_missing', spec('ok'))).rejects.toThrow(NotFoundError);
    await expect(cp.indexes.create(projectId, spec('ok', { cloud: 'AWS!' }))).rejects.toThrow("cloud: must be 1–64 characters of a-z, 0-9 and '-'");
  });

  it('keeps the cloud and region labels the client chose', async () => {
    const { cp } = shared;
    const projectId = await newProject(cp);
    const created = await cp.indexes.create(projectId, spec('labelled', { cloud: 'gcp', region: 'europe-west4' }));
    expect(created).toMatchObject({ cloud: 'gcp', region: 'europe-west4' });
    expect(await cp.indexes.get(projectId, 'labelled')).toMatchObject({ cloud: 'gcp', region: 'europe-west4' });
  });

  it('isolates projects: another project sees exactly "not found", and may reuse the name', async () => {
    const { cp } = shared;
    const a = await newProject(cp);
    const b = await newProject(cp);
    const indexA = await cp.indexes.create(a, spec('shared-name', { tags: { owner: 'a' } }));

    const missing = await errorOf(cp.indexes.get(b, 'no-such-index'));
    const foreign = await errorOf(cp.indexes.get(b, 'shared-name'));
    expect(foreign).toBeInstanceOf(NotFoundError);
    expect(foreign.message).toBe('Index shared-name not found.');
    expect(missing.message).toBe('Index no-such-index not found.');
    expect(foreign.constructor).toBe(missing.constructor);
    expect(await cp.indexes.list(b)).toEqual([]);
    await expect(cp.indexes.configure(b, 'shared-name', { tags: { owner: 'b' } })).rejects.toThrow(new NotFoundError('Index shared-name not found.'));
    await expect(cp.indexes.beginDelete(b, 'shared-name')).rejects.toThrow(new NotFoundError('Index shared-name not found.'));
    expect(await cp.indexes.get(a, 'shared-name')).toEqual(indexA);

    const indexB = await cp.indexes.create(b, spec('shared-name', { dimension: 4 }));
    expect(indexB.id).not.toBe(indexA.id);
    expect((await cp.indexes.get(a, 'shared-name')).dimension).toBe(8);
    expect((await cp.indexes.get(b, 'shared-name')).dimension).toBe(4);
  });

  it('merges tags and removes those set to ""', async () => {
    const { cp } = shared;
    const projectId = await newProject(cp);
    await cp.indexes.create(projectId, spec('tagged', { tags: { a: '1', b: '2' } }));
    const configured = await cp.indexes.configure(projectId, 'tagged', { tags: { b: '', c: '3', a: 'one' } });
    expect(configured.tags).toEqual({ a: 'one', c: '3' });
    expect((await cp.indexes.get(projectId, 'tagged')).tags).toEqual({ a: 'one', c: '3' });
    const unchanged = await cp.indexes.configure(projectId, 'tagged', {});
    expect(unchanged.tags).toEqual({ a: 'one', c: '3' });
    expect(unchanged.deletionProtection).toBe('disabled');
  });

  it('stores tags given as "" at creation as absent', async () => {
    const { cp } = shared;
    const projectId = await newProject(cp);
    const created = await cp.indexes.create(projectId, spec('t', { tags: { keep: 'x', drop: '' } }));
    expect(created.tags).toEqual({ keep: 'x' });
  });

  it('refuses to delete a protected index until protection is disabled', async () => {
    const { cp } = shared;
    const projectId = await newProject(cp);
    await cp.indexes.create(projectId, spec('precious', { deletionProtection: 'enabled' }));
    const error = await errorOf(cp.indexes.beginDelete(projectId, 'precious'));
    expect(error).toBeInstanceOf(PermissionDeniedError);
    expect(error).toBeInstanceOf(DeletionProtectedError);
    expect(error.message).toBe('Deletion protection is enabled for this index. Disable deletion protection before retrying.');
    expect((await cp.indexes.get(projectId, 'precious')).status).toBe('ready');

    await cp.indexes.configure(projectId, 'precious', { deletionProtection: 'disabled' });
    expect((await cp.indexes.beginDelete(projectId, 'precious')).status).toBe('terminating');
  });

  it('deletes in two steps, then lets the name be reused', async () => {
    const { cp } = shared;
    const projectId = await newProject(cp);
    const original = await cp.indexes.create(projectId, spec('cycle'));

    const terminating = await cp.indexes.beginDelete(projectId, 'cycle');
    expect(terminating).toEqual({ ...original, status: 'terminating' });
    expect(await cp.indexes.beginDelete(projectId, 'cycle')).toEqual(terminating); // idempotent
    expect(await cp.indexes.get(projectId, 'cycle')).toEqual(terminating);
    expect((await cp.indexes.listTerminating()).map((i) => i.id)).toContain(original.id);
    await expect(cp.indexes.create(projectId, spec('cycle'))).rejects.toThrow(AlreadyExistsError);
    await expect(cp.indexes.configure(projectId, 'cycle', { tags: { a: 'b' } })).rejects.toThrow(FailedPreconditionError);

    await cp.indexes.finishDelete(original.id);
    await cp.indexes.finishDelete(original.id); // idempotent
    expect((await cp.indexes.listTerminating()).map((i) => i.id)).not.toContain(original.id);
    await expect(cp.indexes.get(projectId, 'cycle')).rejects.toThrow(new NotFoundError('Index cycle not found.'));
    expect(await cp.indexes.list(projectId)).toEqual([]);

    const recreated = await cp.indexes.create(projectId, spec('cycle', { dimension: 3 }));
    expect(recreated.id).not.toBe(original.id);
    expect(await cp.indexes.get(projectId, 'cycle')).toEqual(recreated);
  });

  it('finds live indexes of any project by id, leaving out unknown and deleted ones', async () => {
    const { cp } = shared;
    const [p1, p2] = [await newProject(cp), await newProject(cp)];
    const a = await cp.indexes.create(p1, spec('by-id-a'));
    const b = await cp.indexes.create(p2, spec('by-id-b'));
    const gone = await cp.indexes.create(p2, spec('by-id-gone'));
    await cp.indexes.beginDelete(p2, 'by-id-gone');
    await cp.indexes.finishDelete(gone.id);
    const found = await cp.indexes.byIds([b.id, a.id, 'idx_missing', gone.id, a.id]);
    expect(found.map((i) => [i.projectId, i.name]).sort()).toEqual(
      [
        [p1, 'by-id-a'],
        [p2, 'by-id-b'],
      ].sort(),
    );
    expect(await cp.indexes.byIds([])).toEqual([]);
  });

  it('finishDelete refuses a ready index and an unknown id', async () => {
    const { cp } = shared;
    const projectId = await newProject(cp);
    const ready = await cp.indexes.create(projectId, spec('alive'));
    await expect(cp.indexes.finishDelete(ready.id)).rejects.toThrow(FailedPreconditionError);
    await expect(cp.indexes.finishDelete('idx_missing')).rejects.toThrow(NotFoundError);
    expect((await cp.indexes.get(projectId, 'alive')).status).toBe('ready');
  });

  it('lets exactly one of many concurrent creates of a name win', async () => {
    const { cp } = shared;
    const projectId = await newProject(cp);
    const attempts = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => cp.indexes.create(projectId, spec('race', { dimension: i + 1 }))));
    const won = attempts.filter((a) => a.status === 'fulfilled');
    const lost = attempts.filter((a) => a.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(7);
    for (const l of lost) expect(l.reason).toBeInstanceOf(AlreadyExistsError);
    const listed = await cp.indexes.list(projectId);
    expect(listed).toEqual([won[0]!.value]);
  });

  it('applies concurrent tag changes without losing any', async () => {
    const { cp } = shared;
    const projectId = await newProject(cp);
    await cp.indexes.create(projectId, spec('busy'));
    await Promise.all(Array.from({ length: 6 }, (_, i) => cp.indexes.configure(projectId, 'busy', { tags: { [`k${i}`]: `v${i}` } })));
    expect(Object.keys((await cp.indexes.get(projectId, 'busy')).tags).sort()).toEqual(['k0', 'k1', 'k2', 'k3', 'k4', 'k5']);
  });

  it.runIf(backend.sharedAccess)("caches an index by name: its own changes apply at once, another node's within the TTL", async () => {
    let now = Date.parse('2026-05-01T00:00:00Z');
    await withFreshControlPlane(
      backend,
      async (cp, database) => {
        const projectId = await newProject(cp);
        await cp.indexes.create(projectId, spec('cached'));
        expect((await cp.indexes.get(projectId, 'cached')).tags).toEqual({});
        await cp.indexes.configure(projectId, 'cached', { tags: { mine: 'yes' } });
        expect((await cp.indexes.get(projectId, 'cached')).tags).toEqual({ mine: 'yes' }); // at once
        const otherNode = await createControlPlane(database.options);
        try {
          await otherNode.indexes.configure(projectId, 'cached', { tags: { theirs: 'yes' } });
          await otherNode.indexes.beginDelete(projectId, 'cached');
        } finally {
          await otherNode.close();
        }
        expect((await cp.indexes.get(projectId, 'cached')).status).toBe('ready'); // still cached here
        now += 1_000;
        const seen = await cp.indexes.get(projectId, 'cached');
        expect(seen).toMatchObject({ status: 'terminating', tags: { mine: 'yes', theirs: 'yes' } });
        await cp.indexes.finishDelete(seen.id);
        await expect(cp.indexes.get(projectId, 'cached')).rejects.toThrow(NotFoundError); // at once
      },
      { now: () => now },
    );
  });
});
