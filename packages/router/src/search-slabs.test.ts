import { Bitset, buildSlab, SlabReader, type AnnHeader, type SlabRow } from '@conifer/slab';
import { describe, expect, it } from 'vitest';
import { searchSnapshot } from './search.ts';
import type { SlabLayer } from './snapshot.ts';

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
    const gathered = new Map<string, number>();
    for (const { reader } of slabs) {
      const gather = reader.gather.bind(reader);
      reader.gather = (positions) => {
        gathered.set(reader.id, (gathered.get(reader.id) ?? 0) + positions.length);
        return gather(positions);
      };
    }
    await searchSnapshot({ memtables: [], slabs }, query);
    // The far slabs hold none of the top 10: their share's one list (10 rows) is all they read.
    expect(gathered.get('far1')).toBe(ROWS / LISTS);
    expect(gathered.get('far2')).toBe(ROWS / LISTS);
    expect(gathered.get('near')).toBe(10 * (ROWS / LISTS));
  });
});
