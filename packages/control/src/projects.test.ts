import { describe, expect, it } from 'vitest';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from '@conifer/core';
import { backends } from './testing/backends.ts';
import { uniqueName, useControlPlane } from './testing/harness.ts';

describe.each(backends())('projects on $name', (backend) => {
  const shared = useControlPlane(backend);

  it('creates, gets and lists projects', async () => {
    const { cp } = shared;
    const name = uniqueName();
    const project = await cp.projects.create(name);
    expect(project).toMatchObject({ name });
    expect(project.id).toMatch(/^prj_[a-z0-9]{20}$/);
    expect(new Date(project.createdAt).toISOString()).toBe(project.createdAt);
    expect(await cp.projects.get(project.id)).toEqual(project);
    expect(await cp.projects.list()).toContainEqual(project);
  });

  it('rejects a duplicate name, an empty name and an unknown id', async () => {
    const { cp } = shared;
    const name = uniqueName();
    await cp.projects.create(name);
    await expect(cp.projects.create(name)).rejects.toThrow(AlreadyExistsError);
    await expect(cp.projects.create('  ')).rejects.toThrow(InvalidArgumentError);
    await expect(cp.projects.get('prj_missing')).rejects.toThrow(NotFoundError);
  });

  it('creates a project with its first admin key in one step', async () => {
    const { cp } = shared;
    const operator = await cp.projects.create(uniqueName());
    const { info: actor } = await cp.keys.create(operator.id, { name: 'ops', role: 'admin' });
    const name = uniqueName();
    const { project, key, keyInfo } = await cp.projects.createWithAdminKey(name, actor.id);
    expect(project).toMatchObject({ name });
    expect(keyInfo).toMatchObject({ projectId: project.id, role: 'admin', name: 'admin', displayPrefix: key.slice(0, 8) });
    expect(await cp.authenticate(key)).toMatchObject({ projectId: project.id, role: 'admin', keyId: keyInfo.id });
    expect((await cp.recentAudit(project.id)).map((e) => [e.action, e.actorKeyId])).toEqual([
      ['key.create', actor.id],
      ['project.create', actor.id],
    ]);
    // A taken name creates neither the project nor a key.
    await expect(cp.projects.createWithAdminKey(name)).rejects.toThrow(AlreadyExistsError);
    expect(await cp.keys.list(project.id)).toHaveLength(1);
    await expect(cp.projects.createWithAdminKey('')).rejects.toThrow(InvalidArgumentError);
  });
});
