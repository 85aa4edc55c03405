import { describe, expect, it } from 'vitest';
import { AlreadyExistsError, type NamespaceMetadataSchema } from '@conifer/core';
import { createControlPlane, type ControlPlane } from './control-plane.ts';
import { backends } from './testing/backends.ts';
import { uniqueName, useControlPlane } from './testing/harness.ts';

const GENRE: NamespaceMetadataSchema = { fields: { genre: { filterable: true }, year: { filterable: false } } };
const TITLE: NamespaceMetadataSchema = { fields: { title: { filterable: true } } };

async function newIndex(cp: ControlPlane, name = 'movies') {
  const project = await cp.projects.create(uniqueName());
  return { project, index: await cp.indexes.create(project.id, { name, dimension: 2, metric: 'cosine' }) };
}

/** A data plane's creation that succeeds once per name, like the engine's. */
function namespaces() {
  const existing = new Set<string>();
  return (name: string) => async () => {
    if (existing.has(name)) throw new AlreadyExistsError(`Namespace ${name} already exists.`);
    existing.add(name);
    return name;
  };
}

describe.each(backends())('namespace schemas on $name', (backend) => {
  const shared = useControlPlane(backend);

  it('stores the schema a namespace is created with, reads it one, many or cached, and forgets it on removal', async () => {
    const { cp } = shared;
    const { index } = await newIndex(cp);
    const create = namespaces();
    expect(await cp.namespaceSchemas.create(index.id, 'a', GENRE, create('a'))).toBe('a');
    await cp.namespaceSchemas.create(index.id, 'plain', undefined, create('plain'));
    await cp.namespaceSchemas.create(index.id, 'weird "name" \\ ~', TITLE, create('weird "name" \\ ~'));

    expect(await cp.namespaceSchemas.get(index.id, 'a')).toEqual(GENRE);
    expect(await cp.namespaceSchemas.get(index.id, 'plain')).toBeUndefined();
    expect(await cp.namespaceSchemas.cached(index.id, 'a')).toEqual(GENRE);
    expect(await cp.namespaceSchemas.cached(index.id, 'plain')).toBeUndefined();
    expect(await cp.namespaceSchemas.getMany(index.id, ['a', 'plain', 'weird "name" \\ ~', 'missing'])).toEqual(
      new Map([
        ['a', GENRE],
        ['weird "name" \\ ~', TITLE],
      ]),
    );
    expect(await cp.namespaceSchemas.getMany(index.id, [])).toEqual(new Map());

    // Removal applies at once on this node, cache included; removing again is a no-op.
    await cp.namespaceSchemas.remove(index.id, 'a');
    expect(await cp.namespaceSchemas.get(index.id, 'a')).toBeUndefined();
    expect(await cp.namespaceSchemas.cached(index.id, 'a')).toBeUndefined();
    await cp.namespaceSchemas.remove(index.id, 'a');
  });

  it('keeps no schema when the creation fails or is refused, and keeps the creator’s when two race', async () => {
    const { cp } = shared;
    const { index } = await newIndex(cp);
    const create = namespaces();
    await expect(cp.namespaceSchemas.create(index.id, 'broken', GENRE, () => Promise.reject(new Error('store unavailable')))).rejects.toThrow(
      'store unavailable',
    );
    expect(await cp.namespaceSchemas.get(index.id, 'broken')).toBeUndefined();

    // Created implicitly (by an upsert) first: the explicit creation is refused and stores nothing.
    await create('implicit')();
    await expect(cp.namespaceSchemas.create(index.id, 'implicit', GENRE, create('implicit'))).rejects.toBeInstanceOf(AlreadyExistsError);
    expect(await cp.namespaceSchemas.get(index.id, 'implicit')).toBeUndefined();

    // Created with a schema, then again with another or none: the first schema stays.
    await cp.namespaceSchemas.create(index.id, 'first', GENRE, create('first'));
    await expect(cp.namespaceSchemas.create(index.id, 'first', TITLE, create('first'))).rejects.toBeInstanceOf(AlreadyExistsError);
    await expect(cp.namespaceSchemas.create(index.id, 'first', undefined, create('first'))).rejects.toBeInstanceOf(AlreadyExistsError);
    expect(await cp.namespaceSchemas.get(index.id, 'first')).toEqual(GENRE);

    // Two creations at once: exactly one creates the namespace, and its schema is the one kept.
    const results = await Promise.allSettled([
      cp.namespaceSchemas.create(index.id, 'raced', GENRE, create('raced')),
      cp.namespaceSchemas.create(index.id, 'raced', TITLE, create('raced')),
    ]);
    const won = results.findIndex((r) => r.status === 'fulfilled');
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(await cp.namespaceSchemas.get(index.id, 'raced')).toEqual(won === 0 ? GENRE : TITLE);
  });

  it('replaces the schema a deleted namesake left behind', async () => {
    const { cp } = shared;
    const { index } = await newIndex(cp);
    // The namespace is gone but its row stayed (its removal failed): the next creation decides.
    await cp.namespaceSchemas.create(index.id, 'again', GENRE, () => Promise.resolve());
    await cp.namespaceSchemas.create(index.id, 'again', TITLE, () => Promise.resolve());
    expect(await cp.namespaceSchemas.get(index.id, 'again')).toEqual(TITLE);
    await cp.namespaceSchemas.create(index.id, 'again', undefined, () => Promise.resolve());
    expect(await cp.namespaceSchemas.get(index.id, 'again')).toBeUndefined();
  });

  it('keeps schemas per index, and forgets an index’s schemas when its deletion finishes', async () => {
    const { cp } = shared;
    const { project, index } = await newIndex(cp, 'doomed');
    const other = await cp.indexes.create(project.id, { name: 'other', dimension: 2, metric: 'cosine' });
    await cp.namespaceSchemas.create(index.id, 'ns', GENRE, () => Promise.resolve());
    await cp.namespaceSchemas.create(other.id, 'ns', TITLE, () => Promise.resolve());
    expect(await cp.namespaceSchemas.get(other.id, 'ns')).toEqual(TITLE);

    await cp.indexes.beginDelete(project.id, 'doomed');
    await cp.indexes.finishDelete(index.id);
    await cp.indexes.finishDelete(index.id); // idempotent
    expect(await cp.namespaceSchemas.get(index.id, 'ns')).toBeUndefined();
    expect(await cp.namespaceSchemas.get(other.id, 'ns')).toEqual(TITLE);
  });

  it.runIf(backend.persistent)('finds the schemas again after close and reopen', async () => {
    const database = await backend.create();
    try {
      const first = await createControlPlane(database.options);
      const { index } = await newIndex(first);
      await first.namespaceSchemas.create(index.id, 'kept', GENRE, () => Promise.resolve());
      await first.close();
      const second = await createControlPlane(database.options);
      try {
        expect(await second.namespaceSchemas.cached(index.id, 'kept')).toEqual(GENRE);
        expect(await second.namespaceSchemas.getMany(index.id, ['kept'])).toEqual(new Map([['kept', GENRE]]));
      } finally {
        await second.close();
      }
    } finally {
      await database.dispose();
    }
  });

  it.runIf(backend.sharedAccess)('reaches another node at once uncached, within the cache TTL cached', async () => {
    const { cp } = shared;
    let clock = 0;
    const other = await createControlPlane({ ...shared.database.options, now: () => clock });
    try {
      const { index } = await newIndex(cp);
      expect(await other.namespaceSchemas.cached(index.id, 'late')).toBeUndefined();
      await cp.namespaceSchemas.create(index.id, 'late', GENRE, () => Promise.resolve());
      expect(await other.namespaceSchemas.get(index.id, 'late')).toEqual(GENRE);
      expect(await other.namespaceSchemas.cached(index.id, 'late')).toBeUndefined();
      clock += 1_001;
      expect(await other.namespaceSchemas.cached(index.id, 'late')).toEqual(GENRE);
    } finally {
      await other.close();
    }
  });
});
