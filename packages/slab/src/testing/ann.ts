import type { SlabAnn } from '../builder.ts';

/**
 * An IVF index over `count` rows for tests, as a compaction would hand the builder: row r in list
 * `listOf[r]`, the given centroids (zeros by default) and donor, and a calibration that claims
 * recall 1 at one probed list.
 */
export function testAnn(
  count: number,
  dim: number,
  nlist: number,
  listOf: ArrayLike<number>,
  options: { centroids?: Float32Array; donor?: Uint8Array } = {},
): SlabAnn {
  const offsets = new Int32Array(nlist + 1);
  for (let row = 0; row < count; row++) offsets[listOf[row]! + 1]!++;
  for (let l = 0; l < nlist; l++) offsets[l + 1]! += offsets[l]!;
  const fill = offsets.slice(0, nlist);
  const rows = new Int32Array(count);
  for (let row = 0; row < count; row++) rows[fill[listOf[row]!]!++] = row;
  return {
    header: {
      factory: `IVF${nlist},Flat`,
      faissMetric: 'l2',
      normalized: false,
      param: 'nprobe',
      calibration: [{ value: 1, recall: 1 }],
      oversample: 1,
      recallTarget: 0.95,
    },
    layout: { centroids: options.centroids ?? new Float32Array(nlist * dim), offsets, rows },
    donor: options.donor ?? new Uint8Array(8),
  };
}
