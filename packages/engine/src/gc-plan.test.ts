import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Manifest, SlabRef } from '@conifer/manifest';
import { planGarbageCollection, type GcInput } from './gc-plan.ts';

const ref = (id: string): SlabRef => ({ id, level: 0, count: 1, tombstones: 0, bytes: 10, minLsn: 1, maxLsn: 1 });
const at = (ms: number) => new Date(ms).toISOString();

/**
 * A namespace's history as a collector could find it: manifest versions 1..n written at rising
 * times with rising `flushedLsn`, each listing some of the slab ids; slabs created at their own
 * times; the collector's view on one of the versions (or a newer writer's versions above it);
 * some slabs in flight; a clock and a grace period.
 */
const histories = fc
  .record({
    versions: fc.array(
      fc.record({ gap: fc.integer({ min: 0, max: 50 }), lsnStep: fc.integer({ min: 0, max: 5 }), slabs: fc.subarray(['a', 'b', 'c', 'd', 'e', 'f']) }),
      {
        minLength: 1,
        maxLength: 8,
      },
    ),
    slabAges: fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 8, maxLength: 8 }),
    extraSlabs: fc.subarray(['g', 'h']),
    inflight: fc.subarray(['a', 'c', 'g']),
    currentIndex: fc.nat(),
    graceMs: fc.constantFrom(0, 30, 100),
    nowAfterLast: fc.integer({ min: 0, max: 200 }),
  })
  .map((h): GcInput => {
    let time = 1_000;
    let lsn = 0;
    const manifests: Manifest[] = h.versions.map((v, i) => {
      time += v.gap;
      lsn += v.lsnStep;
      return { version: i + 1, writerEpoch: 1, flushedLsn: lsn, slabs: v.slabs.map(ref), writtenAt: at(time) };
    });
    const now = time + h.nowAfterLast;
    const slabIds = [...new Set([...manifests.flatMap((m) => m.slabs.map((s) => s.id)), ...h.extraSlabs])];
    const created = new Map(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((id, i) => [id, now - h.slabAges[i]!]));
    return {
      now,
      graceMs: h.graceMs,
      current: manifests[h.currentIndex % manifests.length]!,
      manifests,
      slabIds,
      inflight: new Set(h.inflight),
      slabCreatedAt: (id) => created.get(id)!,
    };
  });

/** The manifests someone may still be reading: this writer's, newer ones, and any written within grace. */
const inUse = (input: GcInput) =>
  [input.current, ...input.manifests].filter(
    (m) => m === input.current || m.version >= input.current.version || input.now - Date.parse(m.writtenAt) < input.graceMs,
  );

describe('planGarbageCollection', () => {
  it('never deletes what a reader or a writer may still need', () => {
    fc.assert(
      fc.property(histories, (input) => {
        const plan = planGarbageCollection(input);
        const used = inUse(input);
        // No manifest in use expires.
        for (const version of plan.expiredVersions) expect(used.some((m) => m.version === version)).toBe(false);
        // No slab a manifest in use lists, none in flight, none younger than the grace period.
        for (const id of plan.orphanSlabs) {
          expect(used.some((m) => m.slabs.some((s) => s.id === id))).toBe(false);
          expect(input.inflight.has(id)).toBe(false);
          expect(input.now - input.slabCreatedAt(id)).toBeGreaterThanOrEqual(input.graceMs);
        }
        // The log goes no further than every manifest in use covers…
        for (const m of used) expect(plan.coveredLsn).toBeLessThanOrEqual(m.flushedLsn);
        // …and no further than some manifest has covered for the whole grace period.
        const settled = input.manifests.filter((m) => input.now - Date.parse(m.writtenAt) >= input.graceMs);
        expect(plan.coveredLsn).toBeLessThanOrEqual(Math.max(0, ...settled.map((m) => m.flushedLsn)));
      }),
    );
  });

  it('deletes everything nobody can need any more', () => {
    fc.assert(
      fc.property(histories, (input) => {
        const plan = planGarbageCollection(input);
        const used = inUse(input);
        const expired = input.manifests.filter((m) => !used.includes(m)).map((m) => m.version);
        expect(plan.expiredVersions).toEqual(expired.sort((a, b) => a - b));
        const needed = new Set(used.flatMap((m) => m.slabs.map((s) => s.id)));
        const orphans = input.slabIds.filter((id) => !needed.has(id) && !input.inflight.has(id) && input.now - input.slabCreatedAt(id) >= input.graceMs);
        expect(new Set(plan.orphanSlabs)).toEqual(new Set(orphans));
        // With every manifest settled, the log goes through what the oldest one in use covers.
        if (input.manifests.every((m) => input.now - Date.parse(m.writtenAt) >= input.graceMs)) {
          expect(plan.coveredLsn).toBe(Math.min(...used.map((m) => m.flushedLsn)));
        }
      }),
    );
  });

  it('keeps a writer’s current manifest even when the store no longer lists it, and everything a newer writer wrote', () => {
    const old = { version: 3, writerEpoch: 1, flushedLsn: 9, slabs: [ref('x')], writtenAt: at(0) };
    const newer = { version: 4, writerEpoch: 1, flushedLsn: 12, slabs: [ref('y')], writtenAt: at(0) };
    const plan = planGarbageCollection({
      now: 1_000_000,
      graceMs: 10,
      current: old,
      manifests: [newer],
      slabIds: ['x', 'y', 'z'],
      inflight: new Set(),
      slabCreatedAt: () => 0,
    });
    expect(plan).toEqual({ expiredVersions: [], orphanSlabs: ['z'], coveredLsn: 9 });
  });
});
