import { beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError, PermissionDeniedError } from '@conifer/core';
import type { AuthContext } from './auth.ts';
import { resumeIndexDeletions } from './index-service.ts';
import { uniqueIndexName, useStack } from './test-support.ts';

describe('services', () => {
  const stack = useStack();
  let auth: AuthContext | undefined;
  beforeAll(async () => {
    auth = (await stack().services.authenticate(stack().adminKey)) ?? undefined;
  });
  const admin = (): AuthContext => auth!;

  it('treats an index being deleted as gone for data requests', async () => {
    const { services, control } = stack();
    const name = uniqueIndexName();
    await services.createIndex(admin(), { name, dimension: 2, metric: 'cosine', deletionProtection: 'disabled' });
    await services.upsert(admin(), { index: name, namespace: '', records: [{ id: 'a', values: [1, 2] }] });
    await control.indexes.beginDelete(stack().projectId, name);

    await expect(services.fetch(admin(), { index: name, namespace: '', ids: ['a'] })).rejects.toBeInstanceOf(NotFoundError);
    await expect(services.upsert(admin(), { index: name, namespace: '', records: [{ id: 'b', values: [1, 2] }] })).rejects.toThrow(`Index ${name} not found.`);
    await expect(services.configureIndex(admin(), { name, tags: { a: 'b' } })).rejects.toBeInstanceOf(NotFoundError);
    // It is still listed, as terminating, until the deletion finishes.
    expect((await services.describeIndex(admin(), { name })).status).toBe('terminating');
  });

  it('finishes deletions a crash interrupted', async () => {
    const { services, control, engine } = stack();
    const name = uniqueIndexName();
    await services.createIndex(admin(), { name, dimension: 2, metric: 'cosine', deletionProtection: 'disabled' });
    await services.upsert(admin(), { index: name, namespace: 'n', records: [{ id: 'a', values: [1, 2] }] });
    const record = await control.indexes.beginDelete(stack().projectId, name); // …then "crash"

    expect(await resumeIndexDeletions({ control, data: engine })).toBeGreaterThanOrEqual(1);
    await expect(services.describeIndex(admin(), { name })).rejects.toBeInstanceOf(NotFoundError);
    expect(await engine.listNamespaces({ id: record.id, dimension: 2, metric: 'cosine' })).toEqual([]);
    expect(await control.indexes.listTerminating()).toEqual([]);
  });

  it('deletes an index only when deletion protection is off', async () => {
    const { services } = stack();
    const name = uniqueIndexName();
    await services.createIndex(admin(), { name, dimension: 2, metric: 'cosine', deletionProtection: 'enabled' });
    await expect(services.deleteIndex(admin(), { name })).rejects.toBeInstanceOf(PermissionDeniedError);
    expect((await services.describeIndex(admin(), { name })).status).toBe('ready');
  });

  it('audits who did what', async () => {
    const { services, control } = stack();
    const name = uniqueIndexName();
    await services.createIndex(admin(), { name, dimension: 2, metric: 'cosine', deletionProtection: 'disabled' });
    await services.upsert(admin(), { index: name, namespace: 'gone', records: [{ id: 'a', values: [1, 2] }] });
    await services.deleteNamespace(admin(), { index: name, namespace: 'gone' });
    await services.deleteIndex(admin(), { name });
    const events = await control.recentAudit(stack().projectId, 10);
    const mine = events.filter((e) => e.target.includes(name)).map((e) => [e.action, e.actorKeyId]);
    expect(mine).toEqual(
      expect.arrayContaining([
        ['index.create', admin().keyId],
        ['namespace.delete', admin().keyId],
        ['index.delete', admin().keyId],
      ]),
    );
  });

  it('answers NotFoundError for an unknown index', async () => {
    await expect(stack().services.describeIndex(admin(), { name: 'never-created' })).rejects.toThrow('Index never-created not found.');
    await expect(stack().services.listNamespaces(admin(), { index: 'never-created', limit: 100 })).rejects.toBeInstanceOf(NotFoundError);
  });
});
