import { describe, expect, it } from 'vitest';
import { NotFoundError } from '@conifer/core';
import { createControlPlane } from './control-plane.ts';
import { backends } from './testing/backends.ts';
import { uniqueName, useControlPlane } from './testing/harness.ts';

describe.each(backends())('rate-limit overrides on $name', (backend) => {
  const shared = useControlPlane(backend);

  it('stores overrides per project and per index, merges them with the index winning, and audits each change', async () => {
    const { cp } = shared;
    const project = await cp.projects.create(uniqueName());
    const index = await cp.indexes.create(project.id, { name: 'products', dimension: 4, metric: 'cosine' });
    expect(await cp.rateLimits.get(project.id)).toEqual({});
    expect(await cp.rateLimits.forIndex(project.id, index.id)).toEqual({});

    expect(await cp.rateLimits.set(project.id, undefined, { queryPerNamespace: 50, fetchPerIndex: 10 }, null)).toEqual({
      queryPerNamespace: 50,
      fetchPerIndex: 10,
    });
    expect(await cp.rateLimits.set(project.id, 'products', { queryPerNamespace: 5, listPerIndex: 0 }, null)).toEqual({ queryPerNamespace: 5, listPerIndex: 0 });
    expect(await cp.rateLimits.get(project.id)).toEqual({ queryPerNamespace: 50, fetchPerIndex: 10 });
    expect(await cp.rateLimits.get(project.id, 'products')).toEqual({ queryPerNamespace: 5, listPerIndex: 0 });
    expect(await cp.rateLimits.forIndex(project.id, index.id)).toEqual({ queryPerNamespace: 5, fetchPerIndex: 10, listPerIndex: 0 });

    // Replacing with {} removes them; a change applies at once on this node (the cache is emptied).
    await cp.rateLimits.set(project.id, 'products', {}, null);
    expect(await cp.rateLimits.forIndex(project.id, index.id)).toEqual({ queryPerNamespace: 50, fetchPerIndex: 10 });
    const actions = (await cp.recentAudit(project.id)).map((e) => e.action);
    expect(actions.filter((a) => a === 'index.rate_limits')).toHaveLength(2);
    expect(actions).toContain('project.rate_limits');
  });

  it('never lets one project read or change another project’s index by name', async () => {
    const { cp } = shared;
    const a = await cp.projects.create(uniqueName());
    const b = await cp.projects.create(uniqueName());
    const index = await cp.indexes.create(a.id, { name: 'shared-name', dimension: 4, metric: 'cosine' });
    await expect(cp.rateLimits.set(b.id, 'shared-name', { queryPerNamespace: 1 })).rejects.toBeInstanceOf(NotFoundError);
    await expect(cp.rateLimits.get(b.id, 'shared-name')).rejects.toBeInstanceOf(NotFoundError);
    // By id, a foreign project finds nothing to merge.
    await cp.rateLimits.set(a.id, 'shared-name', { queryPerNamespace: 7 });
    expect(await cp.rateLimits.forIndex(b.id, index.id)).toEqual({});
    expect(await cp.rateLimits.forIndex(a.id, index.id)).toEqual({ queryPerNamespace: 7 });
  });

  it('answers NotFoundError for an unknown project or index, and for a deleted index', async () => {
    const { cp } = shared;
    const project = await cp.projects.create(uniqueName());
    await expect(cp.rateLimits.get('prj_missing')).rejects.toBeInstanceOf(NotFoundError);
    await expect(cp.rateLimits.set('prj_missing', undefined, {})).rejects.toBeInstanceOf(NotFoundError);
    await expect(cp.rateLimits.get(project.id, 'nope')).rejects.toBeInstanceOf(NotFoundError);
    const gone = await cp.indexes.create(project.id, { name: 'gone', dimension: 4, metric: 'cosine' });
    await cp.indexes.beginDelete(project.id, 'gone');
    await cp.indexes.finishDelete(gone.id);
    await expect(cp.rateLimits.set(project.id, 'gone', { fetchPerIndex: 1 })).rejects.toBeInstanceOf(NotFoundError);
  });

  it.runIf(backend.sharedAccess)('reaches another node within the cache TTL', async () => {
    const { cp } = shared;
    let clock = 0;
    const other = await createControlPlane({ ...shared.database.options, now: () => clock });
    try {
      const project = await cp.projects.create(uniqueName());
      const index = await cp.indexes.create(project.id, { name: 'products', dimension: 4, metric: 'cosine' });
      expect(await other.rateLimits.forIndex(project.id, index.id)).toEqual({});
      await cp.rateLimits.set(project.id, undefined, { queryPerNamespace: 3 });
      expect(await other.rateLimits.forIndex(project.id, index.id)).toEqual({});
      clock += 1_001;
      expect(await other.rateLimits.forIndex(project.id, index.id)).toEqual({ queryPerNamespace: 3 });
    } finally {
      await other.close();
    }
  });
});
