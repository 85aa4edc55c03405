import { describe, expect, it } from 'vitest';
import { FailedPreconditionError, InvalidArgumentError } from '@conifer/core';
import { backends } from './testing/backends.ts';
import { withFreshControlPlane } from './testing/harness.ts';

describe.each(backends())('bootstrap on $name', (backend) => {
  it('creates the default project and an admin key once', () =>
    withFreshControlPlane(backend, async (cp) => {
      const first = await cp.bootstrap();
      expect(first.project.name).toBe('default');
      expect(first.apiKey).toMatch(/^cnf_[0-9A-Za-z]{40}$/);
      expect(await cp.authenticate(first.apiKey!)).toMatchObject({ projectId: first.project.id, role: 'admin' });

      const second = await cp.bootstrap();
      expect(second).toEqual({ project: first.project });
      expect(second.apiKey).toBeUndefined();
      expect(await cp.projects.list()).toEqual([first.project]);
      expect(await cp.keys.list(first.project.id)).toHaveLength(1);
    }));

  it('honours a given key, and does not return it again', () =>
    withFreshControlPlane(backend, async (cp) => {
      const first = await cp.bootstrap({ apiKey: 'operator-chosen secret' });
      expect(first.apiKey).toBe('operator-chosen secret');
      expect(await cp.authenticate('operator-chosen secret')).toMatchObject({ projectId: first.project.id, role: 'admin' });
      const keys = await cp.keys.list(first.project.id);
      expect(keys).toHaveLength(1);
      expect(keys[0]!.displayPrefix).toBe('operator');

      expect(await cp.bootstrap({ apiKey: 'operator-chosen secret' })).toEqual({ project: first.project });
      expect(await cp.bootstrap()).toEqual({ project: first.project });
      expect(await cp.keys.list(first.project.id)).toHaveLength(1);
    }));

  it('adds a given key to an install that already has an admin key', () =>
    withFreshControlPlane(backend, async (cp) => {
      const generated = await cp.bootstrap();
      const added = await cp.bootstrap({ apiKey: 'from-env' });
      expect(added.apiKey).toBe('from-env');
      expect(await cp.authenticate(generated.apiKey!)).not.toBeNull();
      expect(await cp.authenticate('from-env')).toMatchObject({ role: 'admin' });
    }));

  it('creates a new admin key when every admin key was revoked', () =>
    withFreshControlPlane(backend, async (cp) => {
      const first = await cp.bootstrap();
      const [key] = await cp.keys.list(first.project.id);
      await cp.keys.revoke(first.project.id, key!.id);
      const again = await cp.bootstrap();
      expect(again.apiKey).toBeDefined();
      expect(again.apiKey).not.toBe(first.apiKey);
      expect(await cp.authenticate(again.apiKey!)).not.toBeNull();
    }));

  it('refuses a given key that was revoked, and an empty one', () =>
    withFreshControlPlane(backend, async (cp) => {
      const first = await cp.bootstrap({ apiKey: 'k1' });
      const [key] = await cp.keys.list(first.project.id);
      await cp.keys.revoke(first.project.id, key!.id);
      await expect(cp.bootstrap({ apiKey: 'k1' })).rejects.toThrow(FailedPreconditionError);
      await expect(cp.bootstrap({ apiKey: '' })).rejects.toThrow(InvalidArgumentError);
    }));

  it('creates exactly one key under concurrent calls', () =>
    withFreshControlPlane(backend, async (cp) => {
      const results = await Promise.all([cp.bootstrap(), cp.bootstrap(), cp.bootstrap(), cp.bootstrap()]);
      expect(results.filter((r) => r.apiKey !== undefined)).toHaveLength(1);
      expect(new Set(results.map((r) => r.project.id)).size).toBe(1);
      expect(await cp.keys.list(results[0]!.project.id)).toHaveLength(1);
    }));
});
