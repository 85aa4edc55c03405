import type { SlabAnn } from '../builder.ts';
import type { RangeSource } from '../slab-body.ts';

/** Slabs for tests: IVF layouts as a compaction hands them over, and sources to read slabs by range from. */

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

/** Reads of a slab held in memory, counted (what an object store's getRange returns). */
export function sourceOf(bytes: Uint8Array, calls: { n: number } = { n: 0 }): RangeSource {
  return (start, end) => {
    calls.n++;
    return Promise.resolve(bytes.slice(Math.min(start, bytes.length), Math.min(end, bytes.length)));
  };
}

/** `source` as a bucket's: every read a round trip away (RangeSource.remote). */
export function remote(source: RangeSource): RangeSource {
  source.remote = true;
  return source;
}

/** `source`, able to read in place as the local disk does (`into` fills the given buffers with what `source` returns, damaged as it damages them). */
export function inPlace(source: RangeSource): RangeSource {
  const withInto: RangeSource = (start, end) => source(start, end);
  withInto.into = async (start, buffers) => {
    const total = buffers.reduce((n, b) => n + b.length, 0);
    const got = await source(start, start + total);
    if (!got) return null;
    let at = 0;
    for (const buffer of buffers) {
      buffer.set(got.subarray(at, Math.min(got.length, at + buffer.length)));
      at += buffer.length;
    }
    return Math.min(total, got.length);
  };
  return withInto;
}
