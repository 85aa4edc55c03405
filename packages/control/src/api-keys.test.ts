import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, NotFoundError, type ConiferError } from '@conifer/core';
import { createKeyStore } from './api-keys.ts';
import { bootstrap } from './bootstrap.ts';
import { openDatabase } from './database.ts';
import { hashApiKey } from './keys.ts';
import { migrateToLatest } from './migrate.ts';
import { createProjectStore } from './projects.ts';
import { backends } from './testing/backends.ts';
import { uniqueName, useControlPlane } from './testing/harness.ts';
import type { Role } from './types.ts';

describe.each(backends())('API keys on $name', (backend) => {
  const shared = useControlPlane(backend);

  it('returns the plaintext only at creation; lists show neither key nor hash', async () => {
    const { cp } = shared;
    const project = await cp.projects.create(uniqueName());
    const { key, info } = await cp.keys.create(project.id, { name: 'ci', role: 'read-only' });
    expect(key).toMatch(/^cnf_[0-9A-Za-z]{40}$/);
    expect(info).toMatchObject({ projectId: project.id, name: 'ci', role: 'read-only', displayPrefix: key.slice(0, 8) });
    expect(info).toMatchObject({ lastUsedAt: null, revokedAt: null });
    expect(Object.keys(info).sort()).toEqual(['createdAt', 'displayPrefix', 'id', 'lastUsedAt', 'name', 'projectId', 'revokedAt', 'role'].sort());

    const listed = await cp.keys.list(project.id);
    expect(listed).toEqual([info]);
    const text = JSON.stringify(listed);
    expect(text).not.toContain(key);
    expect(text).not.toContain(hashApiKey(key));
    expect(JSON.stringify(await cp.recentAudit(project.id))).not.toContain(key);
  });

  it('never stores the plaintext', async () => {
    const database = await backend.create();
    const db = await openDatabase(database.options);
    try {
      await migrateToLatest(db);
      const project = await createProjectStore(db).create(uniqueName());
      const { key } = await createKeyStore(db, () => {}).create(project.id, { name: 'x', role: 'admin' });
      const bootstrapKey = (await bootstrap(db)).apiKey!;
      // Every row of every table: the key's characters appear only as the 8-character prefix.
      const dump = JSON.stringify(
        await Promise.all((['projects', 'api_keys', 'indexes', 'audit_events'] as const).map((t) => db.selectFrom(t).selectAll().execute())),
      );
      for (const k of [key, bootstrapKey]) {
        expect(dump).toContain(hashApiKey(k));
        expect(dump).not.toContain(k.slice(0, 9));
      }
    } finally {
      await db.destroy();
      await database.dispose();
    }
  });

  it('gives each role', async () => {
    const { cp } = shared;
    const project = await cp.projects.create(uniqueName());
    for (const role of ['admin', 'read-write', 'read-only'] satisfies Role[]) {
      const { key } = await cp.keys.create(project.id, { name: role, role });
      expect(await cp.authenticate(key)).toMatchObject({ projectId: project.id, role });
    }
  });

  it('validates input and the project', async () => {
    const { cp } = shared;
    const project = await cp.projects.create(uniqueName());
    await expect(cp.keys.create(project.id, { name: 'x', role: 'root' as Role })).rejects.toThrow(InvalidArgumentError);
    await expect(cp.keys.create(project.id, { name: '', role: 'admin' })).rejects.toThrow(InvalidArgumentError);
    await expect(cp.keys.create('prj_missing', { name: 'x', role: 'admin' })).rejects.toThrow(NotFoundError);
  });

  it('revokes only within the project, idempotently', async () => {
    const { cp } = shared;
    const a = await cp.projects.create(uniqueName('a'));
    const b = await cp.projects.create(uniqueName('b'));
    const { info } = await cp.keys.create(a.id, { name: 'k', role: 'admin' });

    const error = await cp.keys.revoke(b.id, info.id).catch((e: ConiferError) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as Error).message).toBe(`API key ${info.id} not found.`);
    expect(await cp.keys.list(b.id)).toEqual([]);

    const revoked = await cp.keys.revoke(a.id, info.id);
    expect(revoked.revokedAt).not.toBeNull();
    expect(await cp.keys.revoke(a.id, info.id)).toEqual(revoked);
    expect(await cp.keys.list(a.id)).toEqual([revoked]);
  });
});
