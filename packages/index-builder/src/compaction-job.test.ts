import { mulberry32 } from '@conifer/core';
import { buildSlab, SlabReader, type SlabRow } from '@conifer/slab';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ANN_POLICY } from './ann-build.ts';
import { runCompactionJob, type CompactionJob } from './compaction-job.ts';

const DIM = 16;
const policy = { ...DEFAULT_ANN_POLICY, minRows: 1000 };

/** Rows around 40 seeded centres, so the IVF lists have structure. */
function clusteredRows(ids: string[], lsn: number, seed: number): SlabRow[] {
  const rand = mulberry32(seed);
  const centres = Array.from({ length: 40 }, (_, c) => Float32Array.from({ length: DIM }, (_, d) => ((c * 7 + d * 3) % 11) + ((c * d) % 5)));
  return ids.map((id) => {
    const centre = centres[Math.floor(rand() * centres.length)]!;
    return { id, lsn, values: centre.map((x) => x + rand() - 0.5), metadata: undefined };
  });
}

const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(5, '0')}`);

function listOfRows(reader: SlabReader): Int32Array {
  const { offsets, rows } = reader.ivfLayout()!;
  const lists = new Int32Array(reader.count).fill(-1);
  for (let list = 0; list + 1 < offsets.length; list++) for (let at = offsets[list]!; at < offsets[list + 1]!; at++) lists[rows[at]!] = list;
  return lists;
}

function squaredDistance(a: Float32Array, centroids: Float32Array, list: number): number {
  let sum = 0;
  for (let d = 0; d < DIM; d++) sum += (a[d]! - centroids[list * DIM + d]!) ** 2;
  return sum;
}

describe('runCompactionJob with a reused quantizer', { timeout: 60_000 }, () => {
  it('keeps the lists of the rows of an input built on it and assigns the others to their nearest centroid', async () => {
    const job = (inputs: CompactionJob['inputs'], donor?: CompactionJob['donor']): CompactionJob => ({
      inputs,
      dropTombstones: true,
      dimension: DIM,
      metric: 'euclidean',
      level: 1,
      ann: policy,
      donor,
    });
    const flat = async (id: string, rows: SlabRow[]) => ({ id, bytes: (await buildSlab(rows, { dimension: DIM, level: 0 })).bytes });
    // An indexed slab of 6,000 rows, trained on a sample.
    const first = await runCompactionJob(job([await flat('l0', clusteredRows(ids('a', 6000), 1, 1))]));
    expect(first.annBuild).toMatchObject({ trained: 'sample', keptLists: 0 });
    const indexed = new SlabReader('indexed', first.bytes);
    const donor = { header: indexed.header.ann!, bytes: (await indexed.donorBytes())! };
    // Newer rows: 1,000 of the indexed slab's ids rewritten (new vectors), 1,500 new ids.
    const newer = await flat('newer', clusteredRows([...ids('a', 6000).filter((_, i) => i % 6 === 0), ...ids('b', 1500)], 2, 2));
    const merged = await runCompactionJob(job([{ id: 'indexed', bytes: first.bytes }, newer], donor));
    // The 5,000 rows of the indexed slab that survive keep their lists; the 2,500 newer are assigned.
    expect(merged.annBuild).toMatchObject({ trained: 'donor', keptLists: 5000 });
    const out = new SlabReader('out', merged.bytes);
    expect(out.count).toBe(7500);
    const outLists = listOfRows(out);
    const inLists = listOfRows(indexed);
    const centroids = out.ivfLayout()!.centroids;
    expect(Array.from(centroids)).toEqual(Array.from(indexed.ivfLayout()!.centroids));
    const nlist = centroids.length / DIM;
    const inRow = new Map<string, number>();
    for (let row = 0; row < indexed.count; row++) inRow.set(indexed.ids.at(row)!, row);
    const rewritten = new Set(ids('a', 6000).filter((_, i) => i % 6 === 0));
    for (let row = 0; row < out.count; row++) {
      const id = out.ids.at(row)!;
      const values = out.values(row)!;
      // Every row is in a list of a nearest centroid, within float32 rounding: faiss computes
      // |x|² + |c|² - 2x·c, whose error scales with the norms rather than with the distance.
      let best = Infinity;
      let norms = 0;
      for (let list = 0; list < nlist; list++) best = Math.min(best, squaredDistance(values, centroids, list));
      for (let d = 0; d < DIM; d++) norms += values[d]! ** 2;
      expect(squaredDistance(values, centroids, outLists[row]!)).toBeLessThanOrEqual(best + 1e-5 * 2 * norms);
      const kept = rewritten.has(id) ? undefined : inRow.get(id);
      if (kept !== undefined) expect(outLists[row]).toBe(inLists[kept]);
    }
    // And it answers like an index built from scratch: recall at the calibrated knobs.
    expect(out.header.ann!.calibration.some((p) => p.recall >= 0.95)).toBe(true);
  });
});
