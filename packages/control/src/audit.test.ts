import { describe, expect, it } from 'vitest';
import { backends } from './testing/backends.ts';
import { uniqueName, useControlPlane } from './testing/harness.ts';

describe.each(backends())('audit on $name', (backend) => {
  const shared = useControlPlane(backend);

  it('records key and index changes with their actor, newest first', async () => {
    const { cp } = shared;
    const project = await cp.projects.create(uniqueName());
    const { info: admin } = await cp.keys.create(project.id, { name: 'admin', role: 'admin' });
    const { info: temp } = await cp.keys.create(project.id, { name: 'temp', role: 'read-only' }, admin.id);
    await cp.indexes.create(project.id, { name: 'audited', dimension: 2, metric: 'euclidean' }, admin.id);
    await cp.indexes.configure(project.id, 'audited', { tags: { a: 'b' } }, admin.id);
    await cp.indexes.beginDelete(project.id, 'audited', admin.id);
    await cp.keys.revoke(project.id, temp.id, admin.id);
    await cp.audit(project.id, admin.id, 'namespace.delete', 'index:audited/ns:x');

    const events = await cp.recentAudit(project.id, 100);
    expect(events.map((e) => [e.action, e.target, e.actorKeyId])).toEqual([
      ['namespace.delete', 'index:audited/ns:x', admin.id],
      ['key.revoke', `key:${temp.id}`, admin.id],
      ['index.delete', 'index:audited', admin.id],
      ['index.configure', 'index:audited', admin.id],
      ['index.create', 'index:audited', admin.id],
      ['key.create', `key:${temp.id}`, admin.id],
      ['key.create', `key:${admin.id}`, null],
      ['project.create', `project:${project.name}`, null],
    ]);
    for (const e of events) {
      expect(e.projectId).toBe(project.id);
      expect(new Date(e.at).toISOString()).toBe(e.at);
    }
    expect(await cp.recentAudit(project.id, 2)).toEqual(events.slice(0, 2));
  });

  it('keeps projects apart, and rolls back with a failed change', async () => {
    const { cp } = shared;
    const a = await cp.projects.create(uniqueName());
    const b = await cp.projects.create(uniqueName());
    await cp.indexes.create(a.id, { name: 'x', dimension: 2, metric: 'cosine' });
    await expect(cp.indexes.create(a.id, { name: 'x', dimension: 2, metric: 'cosine' })).rejects.toThrow();
    expect((await cp.recentAudit(a.id)).filter((e) => e.action === 'index.create')).toHaveLength(1);
    expect((await cp.recentAudit(b.id)).map((e) => e.action)).toEqual(['project.create']);
  });
});
