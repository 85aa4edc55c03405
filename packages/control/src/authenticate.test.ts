import { describe, expect, it } from 'vitest';
import { createControlPlane } from './control-plane.ts';
import { backends } from './testing/backends.ts';
import { uniqueName, useControlPlane } from './testing/harness.ts';

/** A clock the tests move by hand. */
function manualClock(start = Date.parse('2030-01-01T00:00:00Z')) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe.each(backends())('authenticate on $name', (backend) => {
  const clock = manualClock();
  const shared = useControlPlane(backend, { now: clock.now });

  it('resolves a key to its project, key id and role', async () => {
    const { cp } = shared;
    const project = await cp.projects.create(uniqueName());
    const { key, info } = await cp.keys.create(project.id, { name: 'rw', role: 'read-write' });
    const expected = { projectId: project.id, keyId: info.id, role: 'read-write' };
    expect(await cp.authenticate(key)).toEqual(expected);
    const cached = await cp.authenticate(key); // from the cache
    expect(cached).toEqual(expected);
    expect(Object.isFrozen(cached)).toBe(true);
  });

  it('returns null for unknown, empty and oversized keys', async () => {
    const { cp } = shared;
    expect(await cp.authenticate('cnf_' + 'x'.repeat(40))).toBeNull();
    expect(await cp.authenticate('')).toBeNull();
    expect(await cp.authenticate('k'.repeat(100_000))).toBeNull();
  });

  it('rejects a revoked key at once, although it was cached', async () => {
    const { cp } = shared;
    const project = await cp.projects.create(uniqueName());
    const { key, info } = await cp.keys.create(project.id, { name: 'k', role: 'admin' });
    const other = await cp.keys.create(project.id, { name: 'other', role: 'admin' });
    expect(await cp.authenticate(key)).not.toBeNull();
    expect(await cp.authenticate(other.key)).not.toBeNull();
    await cp.keys.revoke(project.id, info.id);
    expect(await cp.authenticate(key)).toBeNull();
    expect(await cp.authenticate(other.key)).not.toBeNull();
  });

  it('does not let a lookup in flight re-cache a key revoked meanwhile', async () => {
    const { cp } = shared;
    const project = await cp.projects.create(uniqueName());
    const { key, info } = await cp.keys.create(project.id, { name: 'k', role: 'admin' });
    const inFlight = cp.authenticate(key); // not cached yet: reads the database
    await cp.keys.revoke(project.id, info.id);
    await inFlight; // may see the key either way; it must not stay cached
    expect(await cp.authenticate(key)).toBeNull();
  });

  it('answers from the cache at once only what authenticate would answer, and leaves due last_used_at writes to it', async () => {
    const { cp } = shared;
    const project = await cp.projects.create(uniqueName());
    const { key, info } = await cp.keys.create(project.id, { name: 'k', role: 'read-write' });
    expect(cp.authenticateCached(key)).toBeUndefined(); // never read: ask authenticate
    const auth = await cp.authenticate(key);
    expect(cp.authenticateCached(key)).toBe(auth);
    expect(cp.authenticateCached('cnf_' + 'x'.repeat(40))).toBeUndefined();
    expect(cp.authenticateCached('')).toBeUndefined();

    // Once its last_used_at write is due, the cache does not answer: authenticate writes it.
    clock.advance(60_000);
    expect(cp.authenticateCached(key)).toBeUndefined();
    await cp.authenticate(key);
    expect((await cp.keys.list(project.id)).find((k) => k.id === info.id)!.lastUsedAt).toBe(new Date(clock.now()).toISOString());
    expect(cp.authenticateCached(key)).toEqual(auth);

    // A revocation through this control plane applies at once.
    await cp.keys.revoke(project.id, info.id);
    expect(cp.authenticateCached(key)).toBeUndefined();
    expect(await cp.authenticate(key)).toBeNull();
  });

  it('writes last_used_at at most once a minute', async () => {
    const { cp } = shared;
    const project = await cp.projects.create(uniqueName());
    const { key, info } = await cp.keys.create(project.id, { name: 'k', role: 'read-only' });
    const lastUsed = async () => (await cp.keys.list(project.id)).find((k) => k.id === info.id)!.lastUsedAt;

    await cp.authenticate(key);
    const first = await lastUsed();
    expect(first).toBe(new Date(clock.now()).toISOString());

    clock.advance(30_000);
    await cp.authenticate(key);
    clock.advance(29_000);
    await cp.authenticate(key);
    expect(await lastUsed()).toBe(first);

    clock.advance(1_000);
    await cp.authenticate(key);
    expect(await lastUsed()).toBe(new Date(clock.now()).toISOString());
  });

  it.runIf(backend.sharedAccess)('sees a revocation made by another node within the cache TTL', async () => {
    const { cp, database } = shared;
    const project = await cp.projects.create(uniqueName());
    const { key, info } = await cp.keys.create(project.id, { name: 'k', role: 'admin' });
    expect(await cp.authenticate(key)).not.toBeNull();

    const otherNode = await createControlPlane(database.options);
    try {
      await otherNode.keys.revoke(project.id, info.id);
      expect(await otherNode.authenticate(key)).toBeNull();
    } finally {
      await otherNode.close();
    }
    expect(await cp.authenticate(key)).not.toBeNull(); // still cached here: no round trip per request
    clock.advance(10_000);
    expect(await cp.authenticate(key)).toBeNull();
  });
});
