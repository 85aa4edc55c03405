import { Bitset, buildSlab, SlabReader, type AnnHeader, type SlabRow } from '@conifer/slab';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { searchSnapshot } from './search.ts';
import { computeShadows, provisionalShadows, type SlabLayer } from './snapshot.ts';

/**
 * How a query of several IVF slabs picks each slab's lists: first for the slab's share of the
 * namespace's rows, then more where the top k turns out to crowd into one slab. The slabs' IVF
 * layouts and calibrations are made by hand so that which lists find which neighbours is known:
 * rows lie on a line at distance 1, 2, 3, … from the query, row i in list i % 100, and list l's
 * centroid at distance l + 1 — so the query's r-th neighbour is in its r-th nearest list.
 */
const ROWS = 1_000;
const LISTS = 100;

/** Claims ranks 1–6 are found at nprobe 1 and all ten at nprobe 10 (true for the slab "near"). */
const calibration: AnnHeader['calibration'] = [
  { value: 1, recall: 0.6, byRank: [1, 1, 1, 1, 1, 1, 0, 0, 0, 0] },
  { value: 10, recall: 1, byRank: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1] },
];

async function ivfSlab(name: string, offset: number): Promise<SlabLayer> {
  const rows: SlabRow[] = Array.from({ length: ROWS }, (_, i) => ({
    id: `${name}-${String(i).padStart(4, '0')}`,
    lsn: i + 1,
    values: Float32Array.of(offset + i + 1, 0),
    metadata: undefined,
  }));
  const members = Array.from({ length: LISTS }, (_, l) => Array.from({ length: ROWS / LISTS }, (_, k) => l + k * LISTS));
  const layout = {
    centroids: Float32Array.from({ length: LISTS * 2 }, (_, i) => (i % 2 === 0 ? offset + i / 2 + 1 : 0)),
    offsets: Int32Array.from({ length: LISTS + 1 }, (_, l) => l * (ROWS / LISTS)),
    rows: Int32Array.from(members.flat()),
  };
  const header: AnnHeader = {
    factory: `IVF${LISTS},Flat`,
    faissMetric: 'l2',
    normalized: false,
    param: 'nprobe',
    calibration,
    oversample: 1,
    recallTarget: 0.95,
  };
  const { bytes } = await buildSlab(rows, { dimension: 2, level: 1, ann: { header, layout, donor: new Uint8Array(0) } });
  const reader = await SlabReader.load(name, bytes);
  return { reader, shadowed: new Uint8Array(ROWS), live: Bitset.full(ROWS), liveCount: ROWS };
}

const query = { metric: 'euclidean' as const, vector: Float32Array.of(0, 0), topK: 10, exactBudget: 0 };
const nearest = (name: string) => Array.from({ length: 10 }, (_, i) => `${name}-${String(i).padStart(4, '0')}`);

describe('searching several IVF slabs', () => {
  it('probes on in the slab the top k crowds into, until its ten neighbours are found', async () => {
    // "near" holds the whole top 10; the other two are far away. For a third of the rows, the
    // calibration says one list finds what a slab's share of a top 10 needs: too few here.
    const slabs = [await ivfSlab('near', 0), await ivfSlab('far1', 1e5), await ivfSlab('far2', 2e5)];
    const hits = await searchSnapshot({ memtables: [], slabs }, query);
    expect(hits.map((h) => h.id)).toEqual(nearest('near'));
  });

  it('asks a lone slab for recall@10 from the start', async () => {
    const hits = await searchSnapshot({ memtables: [], slabs: [await ivfSlab('near', 0)] }, query);
    expect(hits.map((h) => h.id)).toEqual(nearest('near'));
  });

  it('probes fewer lists per slab for a slab’s share of the top k', async () => {
    // Three slabs interleaved on the line: each holds every third distance, so the top 10 is
    // spread over them, and each slab's share asks for its first ranks only (one list here).
    const slabs = [await ivfSlab('near', 0), await ivfSlab('far1', 1e5), await ivfSlab('far2', 2e5)];
    const [near, far1, far2] = slabs.map(({ reader }) => countGathered(reader));
    await searchSnapshot({ memtables: [], slabs }, query);
    // The far slabs hold none of the top 10: their share's one list (10 rows) is all they read.
    expect(far1!.rows).toBe(ROWS / LISTS);
    expect(far2!.rows).toBe(ROWS / LISTS);
    expect(near!.rows).toBe(10 * (ROWS / LISTS));
  });
});

/** A flat slab (no ANN index) of the given rows, sorted by id as slabs are. */
async function flatSlab(name: string, rows: SlabRow[]): Promise<SlabReader> {
  const sorted = [...rows].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const { bytes } = await buildSlab(sorted, { dimension: 2, level: 0 });
  return SlabReader.load(name, bytes);
}

/** The newest version of every id that is live (not a tombstone), with its distance to the query. */
function liveVersions(newestFirst: SlabReader[]): Map<string, number> {
  const seen = new Set<string>();
  const live = new Map<string, number>();
  for (const reader of newestFirst) {
    for (let row = 0; row < reader.count; row++) {
      const id = reader.ids.at(row)!;
      if (seen.has(id)) continue;
      seen.add(id);
      const v = reader.vectorView(row);
      if (v) live.set(id, Math.hypot(v[0]!, v[1]!));
    }
  }
  return live;
}

/** What the query should return: the ten nearest of the newest live versions. */
function modelTop10(newestFirst: SlabReader[]): string[] {
  const live = [...liveVersions(newestFirst)].sort(([a, da], [b, db]) => da - db || (a < b ? -1 : 1));
  return live.slice(0, 10).map(([id]) => id);
}

/** Counts the vectors each search gathers from `reader`. */
function countGathered(reader: SlabReader): { rows: number } {
  const counted = { rows: 0 };
  const gather = reader.gather.bind(reader);
  reader.gather = (positions) => {
    counted.rows += positions.length;
    return gather(positions);
  };
  return counted;
}

describe('an IVF slab that newer slabs rewrite, read before its shadows are computed', () => {
  it('stops after its knob’s lists when a newer slab rewrote every row', async () => {
    const old = (await ivfSlab('near', 0)).reader;
    // Every id of "near" rewritten far away: the old slab has no live row left.
    const rewrite = Array.from({ length: ROWS }, (_, i) => ({ id: old.ids.at(i)!, lsn: 10_000 + i, values: Float32Array.of(5e5 + i, 0), metadata: undefined }));
    const newer = await flatSlab('rewrite', rewrite);
    const gathered = countGathered(old);
    const slabs = await provisionalShadows([newer, old]);
    const hits = await searchSnapshot({ memtables: [], slabs }, query);
    expect(hits.map((h) => h.id)).toEqual(modelTop10([newer, old]));
    // The knob's lists, then its shadows are marked: no live row is left, so nothing more.
    // Before, the probe doubled nprobe until it had scanned all 100 lists (1,000 rows).
    expect(gathered.rows).toBeLessThanOrEqual(10 * (ROWS / LISTS));
    // The next read of the same layers finds them marked: nothing of the old slab is read.
    gathered.rows = 0;
    const again = await searchSnapshot({ memtables: [], slabs }, query);
    expect(again.map((h) => h.id)).toEqual(modelTop10([newer, old]));
    expect(gathered.rows).toBe(0);
  });

  it('returns only newest live versions, as many as there are up to k, provisional or marked', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 0, max: ROWS - 1 }), { maxLength: ROWS }),
        fc.uniqueArray(fc.integer({ min: 0, max: ROWS - 1 }), { maxLength: ROWS }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        async (rewritten, deleted, seed) => {
          const old = (await ivfSlab('near', 0)).reader;
          let state = seed;
          const random = () => (state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0) / 2 ** 32;
          // Rewritten rows move anywhere on the line, near the query or far from it.
          const middle = rewritten.map((i) => ({ id: old.ids.at(i)!, lsn: 10_000 + i, values: Float32Array.of(random() * 2 * ROWS, 0), metadata: undefined }));
          const newest = deleted.map((i) => ({ id: old.ids.at(i)!, lsn: 20_000 + i, values: null, metadata: undefined }));
          const readers = [await flatSlab('deletes', newest), await flatSlab('rewrites', middle), old].filter((r) => r.count > 0);
          const live = liveVersions(readers);
          // Provisional layers check each row found against the newer slabs and mark a slab's
          // shadows when too few of its rows pass. Which rows either finds is the IVF's
          // approximation (hand-made lists here, far from what a trained index would give).
          for (const slabs of [await provisionalShadows(readers), await computeShadows(readers)]) {
            const hits = await searchSnapshot({ memtables: [], slabs }, query);
            expect(hits).toHaveLength(Math.min(10, live.size));
            for (const hit of hits) expect(Math.sqrt(hit.score)).toBeCloseTo(live.get(hit.id)!, 3);
            expect(hits.map((h) => h.score)).toEqual(hits.map((h) => h.score).sort((a, b) => a - b));
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
