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
});
