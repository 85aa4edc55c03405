import { Memtable } from '@conifer/memtable';
import { Bitset, buildSlab, ListAssigner, SlabReader, type AnnHeader, type SlabRow } from '@conifer/slab';
import { describe, expect, it } from 'vitest';
import { attachRowGroups } from './row-groups.ts';
import { searchSnapshot } from './search.ts';
import type { SlabLayer } from './snapshot.ts';

/**
 * A memtable whose rows have lists of the namespace's quantizer is searched by the lists a query
 * probes. The slab's IVF layout is made by hand: rows on a line, list l's centroid at l + 1, and a
 * calibration that asks for 10 lists at the default target.
 */
const LISTS = 100;

async function ivfSlab(): Promise<SlabLayer> {
  const rows: SlabRow[] = Array.from({ length: LISTS }, (_, i) => ({
    id: `slab-${i}`,
    lsn: i + 1,
    values: Float32Array.of(1_000 + i, 0),
    metadata: undefined,
  }));
  const layout = {
    centroids: Float32Array.from({ length: LISTS * 2 }, (_, i) => (i % 2 === 0 ? i / 2 + 1 : 0)),
    offsets: Int32Array.from({ length: LISTS + 1 }, (_, l) => l),
    rows: Int32Array.from({ length: LISTS }, (_, i) => i),
  };
  const header: AnnHeader = {
    factory: `IVF${LISTS},Flat`,
    faissMetric: 'l2',
    normalized: false,
    param: 'nprobe',
    calibration: [
      { value: 1, recall: 0.5 },
      { value: 10, recall: 1 },
    ],
    oversample: 1,
    recallTarget: 0.95,
  };
  const { bytes } = await buildSlab(rows, { dimension: 2, level: 1, ann: { header, layout, donor: new Uint8Array(0) } });
  const reader = await SlabReader.load('slab', bytes);
  return { reader, shadowed: new Uint8Array(LISTS), live: Bitset.full(LISTS), liveCount: LISTS };
}

/** Assigns every row the memtable holds so far, as the engine does behind the writes. */
async function assignAll(memtable: Memtable, assigner: ListAssigner, lists?: (vectors: Float32Array) => Int32Array): Promise<void> {
  for (let rows = memtable.unassignedRows(assigner, 64); rows; rows = memtable.unassignedRows(assigner, 64)) {
    memtable.assignLists(assigner, rows.slots, lists ? lists(rows.vectors) : await assigner.assign(rows.vectors));
  }
}

describe('searching a memtable by lists', () => {
  it('scans the probed lists and the rows written since the last assignment, not the rest', async () => {
    const slab = await ivfSlab();
    const assigner = ListAssigner.of(slab.reader.ivfLayout(), slab.reader.header.ann, 2)!;
    const memtable = new Memtable();
    let lsn = 0;
    // Rows at 0.6, 1.6, … 49.6: row i is nearest to centroid i + 1 (list i).
    for (let i = 0; i < 50; i++) memtable.put(++lsn, `mem-${i}`, Float32Array.of(i + 0.6, 0), undefined);
    await assignAll(memtable, assigner);
    expect(memtable.assignedRows).toBe(50);
    // A row nearer the query than any other, put into a far list on purpose (as a wrong
    // assignment would): a query probing the nearest 10 lists does not see it.
    memtable.put(++lsn, 'misplaced', Float32Array.of(0.1, 0), undefined);
    await assignAll(memtable, assigner, () => Int32Array.of(LISTS - 1));
    // Written after the last assignment: scanned exactly, so found.
    memtable.put(++lsn, 'tail', Float32Array.of(0.2, 0), undefined);

    const query = { metric: 'euclidean' as const, vector: Float32Array.of(0, 0), topK: 5 };
    const snapshot = { memtables: [memtable], slabs: [slab] };
    const byLists = await searchSnapshot(snapshot, { ...query, exactBudget: 0 });
    expect(byLists.map((h) => h.id)).toEqual(['tail', 'mem-0', 'mem-1', 'mem-2', 'mem-3']);
    // Within the exact budget the memtable is scanned whole, as before.
    const exact = await searchSnapshot(snapshot, { ...query, exactBudget: 1e9 });
    expect(exact.map((h) => h.id)).toEqual(['misplaced', 'tail', 'mem-0', 'mem-1', 'mem-2']);
    // Beyond the probed lists' rows: a row of list 20 is not scanned by lists.
    const far = await searchSnapshot(snapshot, { ...query, vector: Float32Array.of(20.6, 0), topK: 1, exactBudget: 0 });
    expect(far.map((h) => h.id)).toEqual(['mem-20']);
  });

  it('hides rows a newer memtable holds, and overwritten rows, in the lists too', async () => {
    const slab = await ivfSlab();
    const assigner = ListAssigner.of(slab.reader.ivfLayout(), slab.reader.header.ann, 2)!;
    const older = new Memtable();
    for (let i = 0; i < 20; i++) older.put(i + 1, `m-${i}`, Float32Array.of(i + 0.6, 0), undefined);
    older.put(21, 'm-1', Float32Array.of(500, 0), undefined); // overwritten: its old row is dead
    older.freeze();
    await assignAll(older, assigner);
    const newer = new Memtable();
    newer.put(22, 'm-0', Float32Array.of(300, 0), undefined);
    await assignAll(newer, assigner);
    const hits = await searchSnapshot(
      { memtables: [newer, older], slabs: [slab] },
      { metric: 'euclidean', vector: Float32Array.of(0, 0), topK: 3, exactBudget: 0 },
    );
    expect(hits.map((h) => h.id)).toEqual(['m-2', 'm-3', 'm-4']);
  });

  it('scans a flushed flat slab by the groups its memtable gave its rows, filters included', async () => {
    const slab = await ivfSlab();
    const assigner = ListAssigner.of(slab.reader.ivfLayout(), slab.reader.header.ann, 2)!;
    await assigner.assign(Float32Array.of(0, 0)); // the grouping is trained
    const rows: SlabRow[] = Array.from({ length: 50 }, (_, i) => ({
      id: `f-${i}`,
      lsn: 200 + i,
      values: Float32Array.of(i + 0.6, 0),
      metadata: { even: i % 2 === 0 },
    }));
    rows.push({ id: 'misplaced', lsn: 300, values: Float32Array.of(0.1, 0), metadata: { even: true } });
    rows.push({ id: 'loose', lsn: 301, values: Float32Array.of(0.3, 0), metadata: { even: false } });
    const { bytes } = await buildSlab(rows, { dimension: 2, level: 0 });
    const reader = await SlabReader.load('flat', bytes);
    const groups = new Int32Array(reader.count);
    for (let row = 0; row < reader.count; row++) {
      const id = reader.ids.at(row)!;
      groups[row] = id === 'misplaced' ? LISTS - 1 : id === 'loose' ? -1 : Number(id.slice(2));
    }
    attachRowGroups(reader, assigner, groups);
    const flat: SlabLayer = { reader, shadowed: new Uint8Array(reader.count), live: Bitset.full(reader.count), liveCount: reader.count };
    const snapshot = { memtables: [], slabs: [slab, flat] };
    const query = { metric: 'euclidean' as const, vector: Float32Array.of(0, 0), topK: 3 };
    expect((await searchSnapshot(snapshot, { ...query, exactBudget: 0 })).map((h) => h.id)).toEqual(['loose', 'f-0', 'f-1']);
    expect((await searchSnapshot(snapshot, { ...query, exactBudget: 1e9 })).map((h) => h.id)).toEqual(['misplaced', 'loose', 'f-0']);
    const even = await searchSnapshot(snapshot, { ...query, exactBudget: 0, filter: { even: true } });
    expect(even.map((h) => h.id)).toEqual(['f-0', 'f-2', 'f-4']);
  });

  it('spends one exact allowance over all the layers a query searches', async () => {
    const slab = await ivfSlab();
    const assigner = ListAssigner.of(slab.reader.ivfLayout(), slab.reader.header.ann, 2)!;
    // A frozen memtable of 20 grouped rows, one of them nearest the query but put into a far
    // list (as a wrong assignment would): scanned exactly it is found, by its groups it is not.
    const withMisplaced = new Memtable();
    for (let i = 0; i < 19; i++) withMisplaced.put(i + 1, `o-${i}`, Float32Array.of(i + 0.6, 0), undefined);
    withMisplaced.put(20, 'misplaced', Float32Array.of(0.1, 0), undefined);
    const listOf = (x: number) => (x < 0.5 ? LISTS - 1 : Math.floor(x));
    await assignAll(withMisplaced, assigner, (vectors) => Int32Array.from({ length: vectors.length / 2 }, (_, i) => listOf(vectors[2 * i]!)));
    withMisplaced.freeze();
    // A newer memtable of 20 grouped rows far from the query.
    const newer = new Memtable();
    for (let i = 0; i < 20; i++) newer.put(100 + i, `n-${i}`, Float32Array.of(60 + i, 0), undefined);
    await assignAll(newer, assigner);
    const floats = 20 * 2;
    const query = { metric: 'euclidean' as const, vector: Float32Array.of(0, 0), topK: 1 };
    // Alone, a memtable may take a quarter of the allowance exactly.
    const alone = { memtables: [withMisplaced], slabs: [slab] };
    expect((await searchSnapshot(alone, { ...query, exactBudget: 4 * floats })).map((h) => h.id)).toEqual(['misplaced']);
    expect((await searchSnapshot(alone, { ...query, exactBudget: 4 * floats - 1 })).map((h) => h.id)).toEqual(['o-0']);
    // Behind a newer memtable that took its share first, what is left is too little.
    const both = { memtables: [newer, withMisplaced], slabs: [slab] };
    expect((await searchSnapshot(both, { ...query, exactBudget: 4 * floats })).map((h) => h.id)).toEqual(['o-0']);
    expect((await searchSnapshot(both, { ...query, exactBudget: 5 * floats })).map((h) => h.id)).toEqual(['misplaced']);
  });
});
