import fc from 'fast-check';
import { buildSlab, SlabReader, type SlabRow } from '@conifer/slab';
import { describe, expect, it } from 'vitest';
import { countLive, matchingIds } from './lookup.ts';
import { searchSnapshot } from './search.ts';
import { commonRows, computeShadows, provisionalShadows, shadowedLater, type SlabLayer } from './snapshot.ts';

const ID_POOL = Array.from({ length: 40 }, (_, i) => `id-${String(i).padStart(2, '0')}`);

async function slab(name: string, ids: readonly string[], tombstones: readonly boolean[]): Promise<SlabReader> {
  const rows: SlabRow[] = ids.map((id, i) => ({ id, lsn: i + 1, values: tombstones[i] ? null : Float32Array.of(i, 1), metadata: undefined }));
  const { bytes } = await buildSlab(rows, { dimension: 2, level: 0 });
  return SlabReader.load(name, bytes);
}

/** A slab's sorted ids from the pool, each a tombstone or not. */
const slabArb = fc
  .uniqueArray(fc.constantFrom(...ID_POOL), { maxLength: 25 })
  .chain((ids) => fc.record({ ids: fc.constant([...ids].sort()), tombstones: fc.array(fc.boolean(), { minLength: ids.length, maxLength: ids.length }) }));

/** The model: a row is shadowed when a newer slab holds its id; live when neither shadowed nor a tombstone. */
function model(readers: readonly SlabReader[]): { shadowed: number[]; live: number[] }[] {
  const idsOf = (r: SlabReader): string[] => Array.from({ length: r.count }, (_, row) => r.ids.at(row)!);
  return readers.map((reader, at) => {
    const newer = new Set(readers.slice(0, at).flatMap(idsOf));
    const shadowed = idsOf(reader).map((id) => (newer.has(id) ? 1 : 0));
    const live = idsOf(reader).flatMap((_, row) => (shadowed[row] === 0 && !reader.isTombstone(row) ? [row] : []));
    return { shadowed, live };
  });
}

function observed(layers: readonly SlabLayer[]): { shadowed: number[]; live: number[] }[] {
  return layers.map((layer) => {
    const live: number[] = [];
    layer.live.forEach((row) => live.push(row));
    expect(layer.liveCount).toBe(live.length);
    return { shadowed: [...layer.shadowed], live };
  });
}

describe('computeShadows', () => {
  it('matches the model over any sequence of manifests, reusing the previous layers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(slabArb, { minLength: 1, maxLength: 6 }),
        fc.array(fc.array(fc.nat(), { maxLength: 6 }), { minLength: 1, maxLength: 6 }),
        async (specs, manifests) => {
          const pool = await Promise.all(specs.map((s, i) => slab(`s${i}`, s.ids, s.tombstones)));
          let previous: SlabLayer[] = [];
          for (const picks of manifests) {
            const readers = [...new Set(picks.map((p) => pool[p % pool.length]!))];
            const layers = await computeShadows(readers, previous);
            expect(layers.map((l) => l.reader)).toEqual(readers);
            expect(observed(layers)).toEqual(model(readers));
            previous = layers;
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('keeps the layer of a slab whose newer slabs did not change', async () => {
    const old = await slab('old', ['a', 'b', 'c'], [false, false, false]);
    const mid = await slab('mid', ['b'], [false]);
    const first = await computeShadows([mid, old]);
    // A compaction rewrote the oldest slab: mid has the same (no) newer slabs and keeps its layer.
    const rewritten = await slab('rewritten', ['a', 'c'], [false, false]);
    const second = await computeShadows([mid, rewritten], first);
    expect(second[0]).toBe(first[0]);
    // A flush lands over both: every older layer is recomputed.
    const flushed = await slab('new', ['c'], [false]);
    const third = await computeShadows([flushed, mid, rewritten], second);
    expect(third[1]).not.toBe(second[0]);
    expect([...third[2]!.shadowed]).toEqual([0, 1]);
    expect(third[2]!.liveCount).toBe(1);
  });
});

describe('provisionalShadows', () => {
  it('answers every read as the computed layers do, checking rows against the newer slabs', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(slabArb, { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 40 }),
        fc.double({ min: -30, max: 30, noNaN: true }),
        async (specs, topK, x) => {
          const readers = await Promise.all(specs.map((s, i) => slab(`s${i}`, s.ids, s.tombstones)));
          const computed = await computeShadows(readers);
          const provisional = await provisionalShadows(readers);
          // Row by row, a provisional layer's own marks plus its unmarked newer slabs are the model's shadows.
          provisional.forEach((layer, at) => {
            expect(layer.unmarked ?? []).toEqual(readers.slice(0, at));
            const shadowed = Array.from({ length: layer.reader.count }, (_, row) => (shadowedLater(layer, row) ? 1 : 0));
            expect(shadowed).toEqual(model(readers)[at]!.shadowed);
          });
          const computedSnapshot = { memtables: [], slabs: computed };
          const provisionalSnapshot = { memtables: [], slabs: provisional };
          expect(countLive(provisionalSnapshot)).toBe(countLive(computedSnapshot));
          expect(matchingIds(provisionalSnapshot, {}).sort()).toEqual(matchingIds(computedSnapshot, {}).sort());
          const request = { metric: 'euclidean' as const, vector: Float32Array.of(x, 1), topK };
          const ids = async (slabs: SlabLayer[]) => (await searchSnapshot({ memtables: [], slabs }, request)).map((h) => [h.id, h.score]);
          expect(await ids(provisional)).toEqual(await ids(computed));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('leaves computeShadows to recompute a provisional layer instead of keeping it', async () => {
    const old = await slab('old', ['a', 'b'], [false, false]);
    const mid = await slab('mid', ['b'], [false]);
    const provisional = await provisionalShadows([mid, old]);
    const computed = await computeShadows([mid, old], provisional);
    expect(computed[1]).not.toBe(provisional[1]);
    expect(computed[1]!.unmarked).toBeUndefined();
    expect([...computed[1]!.shadowed]).toEqual([0, 1]);
  });
});

describe('commonRows', () => {
  it('finds the positions in the target of the ids both sorted lists hold', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.string(), { maxLength: 60 }), fc.uniqueArray(fc.string(), { maxLength: 200 }), async (a, b) => {
        const probe = [...a].sort();
        const target = [...b].sort();
        const held = new Set(probe);
        const expected = target.flatMap((id, row) => (held.has(id) ? [row] : []));
        expect([...(await commonRows(probe, target))]).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });
});
