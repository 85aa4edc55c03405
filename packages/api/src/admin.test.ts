import { TRPCError } from '@trpc/server';
import { describe, expect, it } from 'vitest';
import { uniqueIndexName, useStack } from './test-support.ts';

async function failure(promise: Promise<unknown>): Promise<TRPCError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TRPCError);
  return error as TRPCError;
}

describe('projects, API keys and usage', () => {
  const stack = useStack();

  it('creates, lists and revokes keys; the secret is shown once and revocation is immediate', async () => {
    const admin = stack().caller(stack().adminKey);
    const created = await admin.keys.create({ name: 'ci', role: 'read-only' });
    expect(created.apiKey).toMatch(/^cnf_/);
    expect(created.key).toMatchObject({ name: 'ci', role: 'read-only', revokedAt: null });
    const listed = await admin.keys.list();
    expect(listed.keys.map((k) => k.id)).toContain(created.key.id);
    expect(JSON.stringify(listed)).not.toContain(created.apiKey);

    const reader = stack().caller(created.apiKey);
    expect((await reader.projects.current()).role).toBe('read-only');
    expect((await failure(reader.keys.list())).code).toBe('FORBIDDEN');
    expect((await failure(reader.keys.create({ name: 'x', role: 'admin' }))).code).toBe('FORBIDDEN');

    const revoked = await admin.keys.revoke({ id: created.key.id });
    expect(revoked.revokedAt).not.toBeNull();
    expect((await failure(reader.indexes.list())).code).toBe('UNAUTHORIZED');
    expect((await failure(admin.keys.revoke({ id: 'key_unknown' }))).code).toBe('NOT_FOUND');
  });

  it('defaults a new key to read-write and validates name and role', async () => {
    const admin = stack().caller(stack().adminKey);
    expect((await admin.keys.create({ name: 'app' })).key.role).toBe('read-write');
    expect((await failure(admin.keys.create({ name: 'x', role: 'root' as 'admin' }))).message).toMatch(/^role: must be one of admin, read-write, read-only/);
    expect((await failure(admin.keys.create({ name: ' ' }))).message).toBe('name: must be 1–128 characters');
  });

  it('refuses key and project names the control database cannot store, naming the field', async () => {
    const admin = stack().caller(stack().adminKey);
    for (const name of ['nul\u0000name', 'lone \ud800 surrogate']) {
      const key = await failure(admin.keys.create({ name }));
      expect(key.code).toBe('BAD_REQUEST');
      expect(key.message).toBe('name: must be valid Unicode without NUL characters');
      expect((await failure(admin.projects.create({ name }))).message).toBe('name: must be valid Unicode without NUL characters');
    }
    expect((await admin.keys.create({ name: 'ünï 😀' })).key.name).toBe('ünï 😀');
  });

  it('refuses to revoke the last active admin key of a project', async () => {
    const admin = stack().caller(stack().adminKey);
    const { project, apiKey } = await admin.projects.create({ name: uniqueIndexName('solo') });
    const solo = stack().caller(apiKey);
    const [only] = (await solo.keys.list()).keys;
    const error = await failure(solo.keys.revoke({ id: only!.id }));
    expect(error.code).toBe('PRECONDITION_FAILED');
    expect(error.message).toMatch(/last active admin key/);
    const second = await solo.keys.create({ name: 'second admin', role: 'admin' });
    await solo.keys.revoke({ id: only!.id });
    expect((await stack().caller(second.apiKey).projects.current()).project.id).toBe(project.id);
  });

  it('lets only operator admin keys create projects; each project sees only itself', async () => {
    const operator = stack().caller(stack().adminKey);
    expect((await operator.projects.current()).operator).toBe(true);
    const name = uniqueIndexName('tenant');
    const { project, apiKey, key } = await operator.projects.create({ name });
    expect(project.name).toBe(name);
    expect(key).toMatchObject({ role: 'admin', projectId: project.id });
    expect((await operator.projects.list()).projects.map((p) => p.name)).toEqual(expect.arrayContaining(['default', name]));

    const tenant = stack().caller(apiKey);
    expect(await tenant.projects.current()).toMatchObject({ project: { id: project.id }, role: 'admin', operator: false });
    expect((await tenant.projects.list()).projects).toEqual([project]);
    expect((await failure(tenant.projects.create({ name: uniqueIndexName('x') }))).code).toBe('FORBIDDEN');
    expect((await failure(operator.projects.create({ name }))).code).toBe('CONFLICT');
    // Keys are per project: the tenant does not see the operator's keys.
    expect((await tenant.keys.list()).keys.map((k) => k.id)).toEqual([key.id]);
  });

  it('meters read and write units per index per day', async () => {
    const operator = stack().caller(stack().adminKey);
    const { apiKey } = await operator.projects.create({ name: uniqueIndexName('metered') });
    const api = stack().caller(apiKey);
    await api.indexes.create({ name: 'docs', dimension: 2 });
    await api.data.upsert({
      index: 'docs',
      records: [
        { id: 'a', values: [1, 2] },
        { id: 'b', values: [2, 1] },
      ],
    }); // 5 WU
    const q = await api.data.query({ index: 'docs', vector: [1, 1], topK: 1 }); // 0.25 RU, reported as 1
    expect(q.usage.readUnits).toBe(1);
    const f = await api.data.fetch({ index: 'docs', ids: ['a', 'b', 'zzz'] }); // 1 RU
    expect(f.usage.readUnits).toBe(1);
    await api.data.list({ index: 'docs' }); // 1 RU
    await api.data.delete({ index: 'docs', deleteAll: true }); // 5 WU
    const report = await api.usage.get({});
    expect(report.days).toHaveLength(1);
    expect(report.days[0]).toMatchObject({ indexName: 'docs', readUnits: 2.25, writeUnits: 10, requests: 5 });
    expect(report.total).toEqual({ readUnits: 2.25, writeUnits: 10, requests: 5 });
    expect(report.days[0]!.day).toBe(report.to);
    // Another project's usage is not visible.
    expect((await operator.usage.get({ index: 'docs' })).days).toEqual([]);
    expect((await failure(api.usage.get({ from: 'yesterday' }))).message).toBe('from: must be a date YYYY-MM-DD');
  });
});
