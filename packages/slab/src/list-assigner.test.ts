import { clusteredVectors } from '@conifer/faiss/testing';
import { describe, expect, it } from 'vitest';
import type { AnnHeader } from './ann.ts';
import { normalizeRows } from './ann.ts';
import { exactTopRows } from './exact-scan.ts';
import { ListAssigner } from './list-assigner.ts';

const D = 32;

function quantizerOf(centroids: Float32Array, faissMetric: 'l2' | 'ip', normalized: boolean) {
  const nlist = centroids.length / D;
  const layout = { centroids, offsets: new Int32Array(nlist + 1), rows: new Int32Array(0) };
  const ann: AnnHeader = {
    factory: `IVF${nlist},Flat`,
    faissMetric,
    normalized,
    param: 'nprobe',
    calibration: [{ value: 8, recall: 0.99 }],
    oversample: 1,
    recallTarget: 0.95,
  };
  return { layout, ann };
}

describe('ListAssigner', () => {
  it('groups thousands of lists so that scanning the groups of the lists a query probes finds its neighbours', async () => {
    const data = clusteredVectors(4_096 + 20_000 + 200, D, { clusters: 300, seed: 7 });
    const { layout, ann } = quantizerOf(data.slice(0, 4_096 * D), 'l2', false);
    const assigner = ListAssigner.of(layout, ann, D)!;
    const rows = data.subarray(4_096 * D, (4_096 + 20_000) * D);
    const groups = await assigner.assign(rows);
    expect(new Set(groups).size).toBeLessThanOrEqual(256);
    // Queries probing their nearest 8 lists scan those lists' groups' rows: the exact top 10 of
    // every row must be among them (what an exact scan of all 20,000 rows would return).
    let found = 0;
    let scanned = 0;
    const queries = 200;
    for (let q = 0; q < queries; q++) {
      const query = data.subarray((4_096 + 20_000 + q) * D, (4_096 + 20_000 + q + 1) * D);
      const probed = new Set(assigner.groupsOf(exactTopRows(layout.centroids, D, query, 8, 'euclidean', undefined))!);
      const truth = exactTopRows(rows, D, query, 10, 'euclidean', undefined);
      found += Array.from(truth).filter((row) => probed.has(groups[row]!)).length;
      scanned += groups.filter((g) => probed.has(g)).length;
    }
    expect(found / (10 * queries)).toBeGreaterThan(0.97);
    // A small part of the rows is scanned.
    expect(scanned / queries).toBeLessThan(20_000 / 10);
  });

  it('compares normalized rows with a cosine quantizer, and its few lists themselves', async () => {
    const data = clusteredVectors(100 + 500, D, { clusters: 20, seed: 3 });
    const { layout, ann } = quantizerOf(normalizeRows(data.slice(0, 100 * D), D), 'ip', true);
    const assigner = ListAssigner.of(layout, ann, D)!;
    expect(ListAssigner.of(layout, ann, D)).toBe(assigner); // one per set of centroids
    const rows = data.subarray(100 * D).map((x) => x * 5); // not unit length: compared as normalized
    const lists = await assigner.assign(rows);
    const unit = normalizeRows(rows, D);
    for (let r = 0; r < lists.length; r++)
      expect(lists[r]).toBe(exactTopRows(layout.centroids, D, unit.subarray(r * D, (r + 1) * D), 1, 'dotproduct', undefined)[0]);
    expect(Array.from(assigner.groupsOf(Int32Array.of(3, 5, 3))!)).toEqual([3, 5]);
  });
});
