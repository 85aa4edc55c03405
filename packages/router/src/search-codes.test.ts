import { makeScorer, mulberry32, type Metric } from '@conifer/core';
import { Memtable } from '@conifer/memtable';
import { Bitset, buildSlab, PageCache, SlabReader, type AnnHeader, type SlabRow } from '@conifer/slab';
import { inPlace, remote, sourceOf } from '@conifer/slab/testing';
import { describe, expect, it } from 'vitest';
import { codesCandidates, searchSnapshot } from './search.ts';
import type { SlabLayer } from './snapshot.ts';

/**
 * Slabs whose codes are in memory and vectors are not are searched through their SQ8 codes: the
 * probed lists' codes pick candidates, the best of every slab are rescored from their vectors. Compared here with
 * the same slabs held whole (every probed vector scanned exactly), on clustered data.
 */
const DIM = 24;
const LISTS = 16;
const ROWS = 2_000;

/** Every list probed (the calibration claims recall 1 only there): the two paths see the same rows. */
const calibration: AnnHeader['calibration'] = [{ value: LISTS, recall: 1, byRank: Array(10).fill(1) }];

interface Built {
  bytes: Uint8Array;
  vectors: Map<string, Float32Array>;
}

async function clusteredSlab(name: string, seed: number, metric: Metric, metadataOf: (row: number) => SlabRow['metadata'] = () => undefined): Promise<Built> {
  const rand = mulberry32(seed);
  const centers = Array.from({ length: LISTS }, () => Float32Array.from({ length: DIM }, () => rand() * 20 - 10));
  const listOf: number[] = [];
  const rows: SlabRow[] = Array.from({ length: ROWS }, (_, i) => {
    const list = Math.floor(rand() * LISTS);
    listOf.push(list);
    return {
      id: `${name}-${String(i).padStart(5, '0')}`,
      lsn: seed * 10_000 + i + 1,
      values: Float32Array.from(centers[list]!, (c) => c + (rand() - 0.5) * 4),
      metadata: metadataOf(i),
    };
  });
  // Rows are stored in id order, which is the order generated: list membership by row.
  const members: number[][] = Array.from({ length: LISTS }, () => []);
  listOf.forEach((l, row) => members[l]!.push(row));
  const layout = {
    centroids: Float32Array.from(centers.flatMap((c) => [...c])),
    offsets: Int32Array.from({ length: LISTS + 1 }, (_, l) => members.slice(0, l).reduce((n, m) => n + m.length, 0)),
    rows: Int32Array.from(members.flat()),
  };
  const header: AnnHeader = {
    factory: `IVF${LISTS},Flat`,
    faissMetric: metric === 'euclidean' ? 'l2' : 'ip',
    normalized: metric === 'cosine',
    param: 'nprobe',
    calibration,
    oversample: 1,
    recallTarget: 0.95,
  };
  const { bytes } = await buildSlab(rows, { dimension: DIM, level: 1, ann: { header, layout, donor: new Uint8Array(0) } });
  return { bytes, vectors: new Map(rows.map((r) => [r.id, r.values!])) };
}

function vectorOfFirst(built: Built[]): Float32Array {
  return built[0]!.vectors.values().next().value!;
}

function layerOf(reader: SlabReader): SlabLayer {
  return { reader, shadowed: new Uint8Array(reader.count), live: Bitset.full(reader.count), liveCount: reader.count };
}

/** A slab read by range from a store a round trip away, or (`nearby`) from a local disk, which reads into the caller's buffers. */
async function rangedReader(name: string, bytes: Uint8Array, nearby = false): Promise<SlabReader> {
  const source = nearby ? inPlace(sourceOf(bytes)) : remote(sourceOf(bytes));
  return SlabReader.open(name, source, { cache: new PageCache(0, { wholeUpTo: 0 }), cacheKey: name });
}

describe('slabs searched through their codes', () => {
  it.each(['euclidean', 'dotproduct', 'cosine'] as const)('%s: find what the exact scan finds, with exact scores, never a shadowed row', async (metric) => {
    const built = await Promise.all([clusteredSlab('a', 1, metric), clusteredSlab('b', 2, metric), clusteredSlab('c', 3, metric)]);
    const whole = await Promise.all(built.map(({ bytes }, i) => SlabReader.load(`s${i}`, bytes)));
    const ranged = await Promise.all(built.map(({ bytes }, i) => rangedReader(`s${i}`, bytes)));
    expect(ranged.every((r) => r.hasCodes && !r.resident && !r.codesResident && !r.readsNearby)).toBe(true);
    // Codes not in memory, from a store a round trip away: the lists' vectors are read, and the
    // answers are the exact scan's.
    const probe = { metric, vector: vectorOfFirst(built), topK: 10, exactBudget: 0 };
    const plain = await searchSnapshot({ memtables: [], slabs: ranged.map(layerOf) }, probe);
    expect(plain.map((h) => [h.id, h.score])).toEqual((await searchSnapshot({ memtables: [], slabs: whole.map(layerOf) }, probe)).map((h) => [h.id, h.score]));
    await Promise.all(ranged.map((r) => r.promoteCodes()));
    expect(ranged.every((r) => r.codesResident)).toBe(true);
    // From a local disk the codes are read by range where they are not in memory.
    const nearby = await Promise.all(built.map(({ bytes }, i) => rangedReader(`d${i}`, bytes, true)));
    expect(nearby.every((r) => r.readsNearby && !r.codesResident)).toBe(true);
    // Through codes, a query reads the vectors of its rescored candidates only.
    let gathered = 0;
    for (const reader of [...ranged, ...nearby]) {
      const gather = reader.gather.bind(reader);
      reader.gather = (positions) => {
        gathered += positions.length;
        return gather(positions);
      };
    }
    const vectorOf = new Map(built.flatMap(({ vectors }) => [...vectors]));

    const rand = mulberry32(99);
    let found = 0;
    let wanted = 0;
    for (let q = 0; q < 40; q++) {
      // Near a random stored vector, so the top 10 is a tight neighbourhood.
      const near = vectorOf.get(`${'abc'[q % 3]}-${String(Math.floor(rand() * ROWS)).padStart(5, '0')}`)!;
      const vector = Float32Array.from(near, (x) => x + (rand() - 0.5));
      // A memtable holds newer versions of some of the nearest rows: their slab versions are stale.
      const exactFirst = await searchSnapshot({ memtables: [], slabs: whole.map(layerOf) }, { metric, vector, topK: 10, exactBudget: 0 });
      const memtable = new Memtable();
      exactFirst.slice(0, 3).forEach((hit, i) =>
        memtable.put(
          1e9 + i,
          hit.id,
          Float32Array.from({ length: DIM }, () => 1000),
          undefined,
        ),
      );
      const snapshot = (readers: SlabReader[]) => ({ memtables: [memtable], slabs: readers.map(layerOf) });
      const request = { metric, vector, topK: 10, exactBudget: 0 };
      const want = await searchSnapshot(snapshot(whole), request);
      gathered = 0;
      const readers = q % 2 === 0 ? ranged : nearby;
      const got = await searchSnapshot(snapshot(readers), request);
      expect(gathered).toBeLessThanOrEqual(codesCandidates(10));
      const score = makeScorer(metric, vector);
      for (const hit of got) {
        if (!hit.slab) continue;
        // Scored from the row's own vector, exactly as the whole slab's scan scores it.
        expect(hit.score).toBe(score(vectorOf.get(hit.id)!, 0));
        expect(hit.values()).toEqual(vectorOf.get(hit.id));
        expect(memtable.get(hit.id)).toBeUndefined();
      }
      expect(new Set(got.map((h) => h.id)).size).toBe(got.length);
      const wantIds = new Set(want.map((h) => h.id));
      found += got.filter((h) => wantIds.has(h.id)).length;
      wanted += want.length;
    }
    // The codes only choose the candidates: what they may miss is a row within a quantization
    // step of the tenth.
    expect(found / wanted).toBeGreaterThanOrEqual(0.99);
  });
});

describe('a selective filter over a slab in list order', () => {
  // Rows 0, 25, 50, …: 80 of 2,000, few enough to be scanned exactly as a row list. Their vectors
  // are scattered over the slab's list order, so each is found through its position.
  const bucketOf = (row: number) => row % 25;
  it.each(['euclidean', 'dotproduct', 'cosine'] as const)('%s: the exact top 10 of the rows that pass, held whole and read by range', async (metric) => {
    const built = await clusteredSlab('f', 7, metric, (row) => ({ bucket: bucketOf(row) }));
    const whole = await SlabReader.load('f', built.bytes);
    expect(whole.resident && whole.vectorOrder === 'lists').toBe(true);
    const ranged = await rangedReader('f', built.bytes, true);
    const passing = [...built.vectors].filter((_, row) => bucketOf(row) === 0);
    const rand = mulberry32(5);
    for (let q = 0; q < 20; q++) {
      const vector = Float32Array.from({ length: DIM }, () => rand() * 20 - 10);
      const score = makeScorer(metric, vector);
      const better = metric === 'euclidean' ? (a: number, b: number) => a - b : (a: number, b: number) => b - a;
      const want = passing.map(([id, values]) => [id, score(values, 0)] as const).sort((a, b) => better(a[1], b[1]) || (a[0] < b[0] ? -1 : 1));
      for (const reader of [whole, ranged]) {
        const got = await searchSnapshot({ memtables: [], slabs: [layerOf(reader)] }, { metric, vector, topK: 10, filter: { bucket: 0 } });
        expect(got.map((h) => [h.id, h.score])).toEqual(want.slice(0, 10));
      }
    }
  });
});
