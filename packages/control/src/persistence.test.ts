import { describe, expect, it } from 'vitest';
import { createControlPlane } from './control-plane.ts';
import { backends } from './testing/backends.ts';

describe.each(backends().filter((b) => b.persistent))('persistence on $name', (backend) => {
  it('finds everything again after close and reopen', async () => {
    const database = await backend.create();
    try {
      const first = await createControlPlane(database.options);
      const { project, apiKey } = await first.bootstrap();
      const { key, info } = await first.keys.create(project.id, { name: 'ci', role: 'read-only' });
      const kept = await first.indexes.create(project.id, { name: 'kept', dimension: 3, metric: 'cosine', tags: { a: 'b' } });
      const doomed = await first.indexes.create(project.id, { name: 'doomed', dimension: 3, metric: 'cosine' });
      await first.indexes.beginDelete(project.id, 'doomed');
      await first.close();

      const second = await createControlPlane(database.options); // migrations run again: a no-op
      try {
        expect(await second.bootstrap()).toEqual({ project });
        expect(await second.authenticate(apiKey!)).toMatchObject({ projectId: project.id, role: 'admin' });
        expect(await second.authenticate(key)).toEqual({ projectId: project.id, keyId: info.id, role: 'read-only' });
        expect(await second.indexes.get(project.id, 'kept')).toEqual(kept);
        // A restarted server finds the deletion it has to finish.
        expect(await second.indexes.listTerminating()).toEqual([{ ...doomed, status: 'terminating' }]);
        await second.indexes.finishDelete(doomed.id);
        expect(await second.indexes.list(project.id)).toEqual([kept]);
        expect((await second.recentAudit(project.id)).length).toBeGreaterThanOrEqual(5);
      } finally {
        await second.close();
      }
    } finally {
      await database.dispose();
    }
  });
});
