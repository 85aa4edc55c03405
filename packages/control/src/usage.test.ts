import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { InvalidArgumentError } from '@conifer/core';
import { createControlPlane } from './control-plane.ts';
import { utcDay } from './usage.ts';
import { backends } from './testing/backends.ts';
import { uniqueName, useControlPlane, withFreshControlPlane } from './testing/harness.ts';

const DAY = 86_400_000;

describe.each(backends())('usage metering on $name', (backend) => {
  const shared = useControlPlane(backend);

  it('sums units per index per day and reports them after a flush', async () => {
    const { cp } = shared;
    const project = await cp.projects.create(uniqueName());
    const docs = await cp.indexes.create(project.id, { name: 'docs', dimension: 2, metric: 'cosine' });
    const other = await cp.indexes.create(project.id, { name: 'other', dimension: 2, metric: 'cosine' });
    cp.usage.record({ projectId: project.id, indexId: docs.id, indexName: 'docs', readUnits: 0.25 });
    cp.usage.record({ projectId: project.id, indexId: docs.id, indexName: 'docs', readUnits: 1, writeUnits: 5 });
    cp.usage.record({ projectId: project.id, indexId: other.id, indexName: 'other', writeUnits: 7 });
    expect(cp.usage.pending).toBeGreaterThanOrEqual(2);
    const { days: rows } = await cp.usage.report(project.id);
    const today = new Date().toISOString().slice(0, 10);
    expect(rows).toEqual([
      { day: today, indexId: docs.id, indexName: 'docs', readUnits: 1.25, writeUnits: 5, requests: 2 },
      { day: today, indexId: other.id, indexName: 'other', readUnits: 0, writeUnits: 7, requests: 1 },
    ]);
    // A second flush adds to the same row.
    cp.usage.record({ projectId: project.id, indexId: docs.id, indexName: 'docs', readUnits: 2 });
    expect((await cp.usage.report(project.id, { index: 'docs' })).days.map((r) => [r.readUnits, r.requests])).toEqual([[3.25, 3]]);
    // Another project sees nothing.
    const stranger = await cp.projects.create(uniqueName());
    expect((await cp.usage.report(stranger.id)).days).toEqual([]);
  });

  it('validates the report range', async () => {
    const { cp } = shared;
    const project = await cp.projects.create(uniqueName());
    await expect(cp.usage.report(project.id, { from: '2026-13-01' })).rejects.toThrow(InvalidArgumentError);
    await expect(cp.usage.report(project.id, { from: '2026-02-30' })).rejects.toThrow('from: must be a date YYYY-MM-DD');
    await expect(cp.usage.report(project.id, { from: '2026-05-02', to: '2026-05-01' })).rejects.toThrow('from: must not be after to');
    await expect(cp.usage.report(project.id, { from: '2020-01-01', to: '2026-01-01' })).rejects.toThrow('at most 400 days');
    expect(() => cp.usage.record({ projectId: project.id, indexId: 'x', indexName: 'x', readUnits: -1 })).toThrow(InvalidArgumentError);
  });

  it('books units on the UTC day they happen and flushes in the background', async () => {
    let now = Date.parse('2026-03-01T23:59:59Z');
    await withFreshControlPlane(
      backend,
      async (cp) => {
        const project = await cp.projects.create(uniqueName());
        cp.usage.record({ projectId: project.id, indexId: 'idx_a', indexName: 'a', readUnits: 1 });
        now += 2_000; // past midnight
        cp.usage.record({ projectId: project.id, indexId: 'idx_a', indexName: 'a', readUnits: 4 });
        const deadline = Date.now() + 5_000;
        while (cp.usage.pending > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        expect(cp.usage.pending).toBe(0); // the timer wrote them without being asked
        const report = await cp.usage.report(project.id, { from: '2026-02-28', to: '2026-03-02' });
        expect(report).toMatchObject({ from: '2026-02-28', to: '2026-03-02' });
        expect(report.days.map((r) => [r.day, r.readUnits])).toEqual([
          ['2026-03-01', 1],
          ['2026-03-02', 4],
        ]);
        expect((await cp.usage.report(project.id, { to: '2026-03-01' })).days).toHaveLength(1);
        now += 40 * DAY;
        // Default window: the 30 days up to today.
        expect(await cp.usage.report(project.id)).toEqual({ from: '2026-03-13', to: '2026-04-11', days: [] });
      },
      { config: { usageFlushIntervalMs: 25 }, now: () => now },
    );
  });

  it('keeps pending units through close', async () => {
    if (!backend.persistent) return;
    const database = await backend.create();
    try {
      const first = await createControlPlane({ ...database.options, config: { usageFlushIntervalMs: 0 } });
      const project = await first.projects.create(uniqueName());
      first.usage.record({ projectId: project.id, indexId: 'idx_a', indexName: 'a', writeUnits: 5 });
      await first.close();
      const second = await createControlPlane(database.options);
      try {
        expect((await second.usage.report(project.id)).days.map((r) => r.writeUnits)).toEqual([5]);
      } finally {
        await second.close();
      }
    } finally {
      await database.dispose();
    }
  });

  it('adds up flushes of two nodes into one row', async () => {
    if (!backend.sharedAccess) return;
    const { cp, database } = shared;
    const project = await cp.projects.create(uniqueName());
    const node2 = await createControlPlane({ ...database.options, config: { usageFlushIntervalMs: 0 } });
    try {
      for (let i = 0; i < 10; i++) {
        cp.usage.record({ projectId: project.id, indexId: 'idx_a', indexName: 'a', readUnits: 1 });
        node2.usage.record({ projectId: project.id, indexId: 'idx_a', indexName: 'a', readUnits: 1 });
        await Promise.all([cp.usage.flush(), node2.usage.flush()]);
      }
      expect((await cp.usage.report(project.id)).days.map((r) => [r.readUnits, r.requests])).toEqual([[20, 20]]);
    } finally {
      await node2.close();
    }
  });
});

describe('utcDay', () => {
  it('is the UTC date of any time, whatever times were asked before (it remembers the last day)', () => {
    const time = fc.integer({ min: -8.64e15, max: 8.64e15 });
    fc.assert(
      fc.property(
        fc.array(fc.oneof(time, fc.constantFrom(0, 86_399_999, 86_400_000, -1, -86_400_000, -86_400_001)), { minLength: 1, maxLength: 20 }),
        (times) => {
          for (const ms of times) expect(utcDay(ms)).toBe(new Date(ms).toISOString().slice(0, 10));
        },
      ),
    );
  });

  it('refuses an invalid time as Date does', () => {
    expect(() => utcDay(Number.NaN)).toThrow(RangeError);
  });
});
