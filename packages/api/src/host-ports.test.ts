import { beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError, ResourceExhaustedError } from '@conifer/core';
import { IndexPortsExhaustedError } from '@conifer/control';
import type { AuthContext } from './auth.ts';
import { uniqueIndexName, useStack } from './test-support.ts';

const RANGE = { first: 6100, last: 6102 };
const index = (name: string) => ({ name, dimension: 2, metric: 'cosine' as const, deletionProtection: 'disabled' as const });

describe('index host ports', () => {
  const stack = useStack({ indexHostPorts: RANGE });
  let auth: AuthContext | undefined;
  beforeAll(async () => {
    auth = (await stack().services.authenticate(stack().adminKey)) ?? undefined;
  });
  const admin = (): AuthContext => auth!;

  it('gives each index its own port, frees it on delete, and refuses a create once all are held', async () => {
    const { services } = stack();
    const [a, b, c, d] = [uniqueIndexName(), uniqueIndexName(), uniqueIndexName(), uniqueIndexName()];
    expect((await services.createIndex(admin(), index(a))).hostPort).toBe(6100);
    expect((await services.createIndex(admin(), index(b))).hostPort).toBe(6101);
    expect((await services.describeIndex(admin(), { name: a })).hostPort).toBe(6100);
    expect((await services.listIndexes(admin())).indexes.map((i) => [i.name, i.hostPort])).toEqual([
      [a, 6100],
      [b, 6101],
    ]);
    expect((await services.createIndex(admin(), index(c))).hostPort).toBe(6102);

    const refused = await services.createIndex(admin(), index(d)).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(IndexPortsExhaustedError);
    expect(refused).toBeInstanceOf(ResourceExhaustedError);
    expect((refused as Error).message).toContain('CONIFER_INDEX_PORTS (6100-6102)');
    await expect(services.describeIndex(admin(), { name: d })).rejects.toBeInstanceOf(NotFoundError);

    await services.deleteIndex(admin(), { name: b });
    expect((await services.createIndex(admin(), index(d))).hostPort).toBe(6101);
  });

  it('gives ports to indexes made without one when asked at start', async () => {
    const { services, control, projectId } = stack();
    for (const { name } of (await services.listIndexes(admin())).indexes) await services.deleteIndex(admin(), { name });
    const old = uniqueIndexName();
    await control.indexes.create(projectId, { name: old, dimension: 2, metric: 'cosine' }); // no range: as before ports
    expect((await services.describeIndex(admin(), { name: old })).hostPort).toBeUndefined();
    expect(await services.assignMissingHostPorts()).toBe(1);
    expect((await services.describeIndex(admin(), { name: old })).hostPort).toBeTypeOf('number');
    expect(await services.assignMissingHostPorts()).toBe(0);
  });
});

describe('index host ports when off', () => {
  const stack = useStack();
  it('gives no port and describes none', async () => {
    const { services, control, projectId, adminKey } = stack();
    const admin = (await services.authenticate(adminKey))!;
    const name = uniqueIndexName();
    const created = await services.createIndex(admin, index(name));
    expect(created).not.toHaveProperty('hostPort');
    expect(await services.assignMissingHostPorts()).toBe(0);
    expect((await control.indexes.get(projectId, name)).hostPort).toBeNull();
  });
});
