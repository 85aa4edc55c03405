import { describe, expect, it } from 'vitest';
import { NotFoundError, ResourceExhaustedError } from '@conifer/core';
import type { ControlPlane } from './control-plane.ts';
import { IndexPortsExhaustedError } from './errors.ts';
import { backends } from './testing/backends.ts';
import { uniqueName, useControlPlane, withFreshControlPlane } from './testing/harness.ts';
import type { CreateIndexInput, PortRange } from './types.ts';

const spec = (name: string): CreateIndexInput => ({ name, dimension: 4, metric: 'cosine' });

/**
 * A range no other test of the suite uses: ports are global to the database (and a deleted
 * index's port is history that steers later choices), so tests sharing one isolate by range.
 */
let nextFirst = 20_000;
function freshRange(size: number): PortRange {
  const range = { first: nextFirst, last: nextFirst + size - 1 };
  nextFirst += 1_000;
  return range;
}

/**
 * `deleted_at` has millisecond precision: waiting for the clock to move on keeps two deletions from
 * tying, so "released longest ago" has one answer.
 */
async function nextMillisecond(): Promise<void> {
  const start = Date.now();
  while (Date.now() <= start) await new Promise((resolve) => setTimeout(resolve, 1));
}

async function deleteIndex(cp: ControlPlane, projectId: string, name: string): Promise<void> {
  const record = await cp.indexes.beginDelete(projectId, name);
  await cp.indexes.finishDelete(record.id);
  await nextMillisecond();
}

describe.each(backends())('index host ports on $name', (backend) => {
  const shared = useControlPlane(backend);
  const newProject = async (cp: ControlPlane) => (await cp.projects.create(uniqueName())).id;

  it('gives ports no index held yet lowest first, then the one released longest ago', async () => {
    const { cp } = shared;
    const projectId = await newProject(cp);
    const range = freshRange(4);
    const hostPorts = { hostPorts: range };
    const create = async (name: string) => (await cp.indexes.create(projectId, spec(name), null, hostPorts)).hostPort;
    const { first } = range;

    expect(await create('a')).toBe(first);
    expect(await create('b')).toBe(first + 1);
    await deleteIndex(cp, projectId, 'a');
    expect(await create('c')).toBe(first + 2); // never held beats released
    await deleteIndex(cp, projectId, 'c');
    await deleteIndex(cp, projectId, 'b');
    expect(await create('d')).toBe(first + 3);
    expect(await create('e')).toBe(first); // released first (by a)
    expect(await create('f')).toBe(first + 2); // then c's, though b's port is lower
    expect(await create('g')).toBe(first + 1);
    expect((await cp.indexes.get(projectId, 'g')).hostPort).toBe(first + 1);
    expect((await cp.indexes.list(projectId)).map((i) => [i.name, i.hostPort])).toEqual([
      ['d', first + 3],
      ['e', first],
      ['f', first + 2],
      ['g', first + 1],
    ]);
  });

  it('leaves an index created without a range portless', async () => {
    const { cp } = shared;
    const projectId = await newProject(cp);
    const created = await cp.indexes.create(projectId, spec('plain'));
    expect(created.hostPort).toBeNull();
    expect((await cp.indexes.get(projectId, 'plain')).hostPort).toBeNull();
  });

  it('refuses a create when every port is held, naming the setting, and leaves no index behind', async () => {
    const { cp } = shared;
    const projectId = await newProject(cp);
    const range = freshRange(2);
    await cp.indexes.create(projectId, spec('one'), null, { hostPorts: range });
    await cp.indexes.create(projectId, spec('two'), null, { hostPorts: range });

    const error = await cp.indexes.create(projectId, spec('three'), null, { hostPorts: range }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IndexPortsExhaustedError);
    expect(error).toBeInstanceOf(ResourceExhaustedError);
    expect(error).toMatchObject({ code: 'RESOURCE_EXHAUSTED', httpStatus: 429, range });
    expect((error as Error).message).toBe(
      `no free index port: all 2 ports of CONIFER_INDEX_PORTS (${range.first}-${range.last}) are held by live indexes; widen the range`,
    );
    expect((await cp.indexes.list(projectId)).map((i) => i.name)).toEqual(['one', 'two']);
    await expect(cp.indexes.get(projectId, 'three')).rejects.toThrow(NotFoundError);
  });

  it('frees a port when the deletion finishes, not when it begins', async () => {
    const { cp } = shared;
    const projectId = await newProject(cp);
    const range = freshRange(1);
    const created = await cp.indexes.create(projectId, spec('holder'), null, { hostPorts: range });
    await cp.indexes.beginDelete(projectId, 'holder');
    await expect(cp.indexes.create(projectId, spec('next'), null, { hostPorts: range })).rejects.toThrow(IndexPortsExhaustedError);
    await cp.indexes.finishDelete(created.id);
    expect((await cp.indexes.create(projectId, spec('next'), null, { hostPorts: range })).hostPort).toBe(range.first);
  });

  it('gives many concurrent creates distinct ports, and refuses exactly those beyond the range', async () => {
    const { cp } = shared;
    const projectId = await newProject(cp);
    const range = freshRange(16);
    const attempts = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => cp.indexes.create(projectId, spec(`race-${i}`), null, { hostPorts: range })),
    );
    const ports = attempts.flatMap((a) => (a.status === 'fulfilled' ? [a.value.hostPort] : []));
    const refused = attempts.flatMap((a) => (a.status === 'rejected' ? [a.reason as unknown] : []));
    expect(ports.sort((x, y) => x! - y!)).toEqual(Array.from({ length: 16 }, (_, i) => range.first + i));
    expect(refused).toHaveLength(4);
    for (const reason of refused) expect(reason).toBeInstanceOf(IndexPortsExhaustedError);
    expect(await cp.indexes.list(projectId)).toHaveLength(16);
  });

  it('assigns a port to an existing index once, and lists the ports of live indexes', async () => {
    const { cp } = shared;
    const [p1, p2] = [await newProject(cp), await newProject(cp)];
    const range = freshRange(8);
    const a = await cp.indexes.create(p1, spec('late'));
    expect((await cp.indexes.get(p1, 'late')).hostPort).toBeNull(); // cached without a port…
    expect(await cp.indexes.assignHostPort(a.id, range)).toBe(range.first);
    expect((await cp.indexes.get(p1, 'late')).hostPort).toBe(range.first); // …and forgotten at once
    expect(await cp.indexes.assignHostPort(a.id, range)).toBe(range.first); // keeps it
    expect(await cp.indexes.assignHostPort(a.id, freshRange(2))).toBe(range.first); // even outside a new range

    await cp.indexes.create(p2, spec('late'), null, { hostPorts: range });
    const gone = await cp.indexes.create(p2, spec('gone'), null, { hostPorts: range });
    await deleteIndex(cp, p2, 'gone');
    await expect(cp.indexes.assignHostPort(gone.id, range)).rejects.toThrow(NotFoundError);
    await expect(cp.indexes.assignHostPort('idx_missing', range)).rejects.toThrow(NotFoundError);

    const mine = (await cp.indexes.hostPorts()).filter((h) => h.projectId === p1 || h.projectId === p2);
    expect(mine).toEqual([
      { projectId: p1, name: 'late', hostPort: range.first },
      { projectId: p2, name: 'late', hostPort: range.first + 1 },
    ]);
  });

  it('rejects a range that is not one of ports', async () => {
    const { cp } = shared;
    const projectId = await newProject(cp);
    for (const range of [
      { first: 10, last: 9 },
      { first: 0, last: 10 },
      { first: 65_000, last: 65_536 },
      { first: 1.5, last: 3 },
    ]) {
      await expect(cp.indexes.create(projectId, spec('bad-range'), null, { hostPorts: range })).rejects.toThrow(RangeError);
    }
    expect(await cp.indexes.list(projectId)).toEqual([]);
  });

  it('gives every live index without a port one, oldest first, keeping those given before an exhaustion', async () => {
    await withFreshControlPlane(backend, async (cp) => {
      const [p1, p2] = [await newProject(cp), await newProject(cp)];
      const range = { first: 7000, last: 7002 };
      await cp.indexes.create(p1, spec('has-port'), null, { hostPorts: range }); // 7000
      // created_at ties within a millisecond on PGlite; oldest first needs distinct ones.
      await cp.indexes.create(p1, spec('old'));
      await nextMillisecond();
      await cp.indexes.create(p2, spec('newer'));
      await cp.indexes.create(p2, spec('deleted'));
      await deleteIndex(cp, p2, 'deleted');
      await cp.indexes.create(p1, spec('terminating'));
      await cp.indexes.beginDelete(p1, 'terminating'); // still live: it gets one too

      await expect(cp.indexes.assignMissingHostPorts(range)).rejects.toThrow(IndexPortsExhaustedError);
      const given = [
        { projectId: p1, name: 'has-port', hostPort: 7000 },
        { projectId: p1, name: 'old', hostPort: 7001 },
        { projectId: p2, name: 'newer', hostPort: 7002 },
      ];
      expect(await cp.indexes.hostPorts()).toEqual(given);

      const wider = { first: 7000, last: 7010 };
      expect(await cp.indexes.assignMissingHostPorts(wider)).toBe(1);
      expect(await cp.indexes.hostPorts()).toEqual([...given, { projectId: p1, name: 'terminating', hostPort: 7003 }]);
      expect(await cp.indexes.assignMissingHostPorts(wider)).toBe(0);
    });
  });
});
