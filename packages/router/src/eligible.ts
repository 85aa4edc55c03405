import type { Filter } from '@conifer/core';
import type { Bitset, RowTest } from '@conifer/slab';
import type { SlabLayer } from './snapshot.ts';

/**
 * The rows of one slab a query may return: live, and passing the filter. Exactly one of `rows` /
 * `bitset` / `test` is set.
 */
export interface EligibleRows {
  /** How many; estimated (never at most `maxRows`) when `test` is set and some rows are not live. */
  count: number;
  /** Ascending, when the filter yielded a short list (at most the `maxRows` asked for). */
  rows?: Int32Array;
  /** Otherwise as a bitmap over the slab's rows (`live` itself without a filter: not to modify). */
  bitset?: Bitset;
  /** Or, when the caller accepts one (`tested`), a test of each row (see MetadataIndex.rowTest). */
  test?: RowTest;
}

/**
 * Turns the filter into the slab's eligible rows. A selective filter comes back as a row list
 * from the metadata index, checked against `live` bit by bit: O(matches) instead of several
 * passes over full-size bitmaps (a 1% filter over a million rows: 10,000 bit tests instead of
 * ~5 × 31,250 words of AND / count / fill plus three 125 KiB allocations). `maxRows` is the
 * most rows the caller would scan exactly; a filter that may match more gets the bitmap its ANN
 * search needs.
 */
export async function eligibleRows(layer: SlabLayer, filter: Filter | undefined, maxRows: number, options?: { tested?: boolean }): Promise<EligibleRows> {
  const { reader, live, liveCount } = layer;
  if (!filter) return { count: liveCount, bitset: live };
  const index = await reader.metadataIndexAsync();
  const matched = index.matchingRows(filter, maxRows);
  if (!matched) {
    const test = options?.tested ? testedRows(layer, index.rowTest(filter), maxRows) : undefined;
    if (test) return test;
    const bitset = index.evaluate(filter);
    if (liveCount < reader.count) bitset.and(live); // else every row is live: one pass saved
    return { count: bitset.count(), bitset };
  }
  let n = 0;
  for (let i = 0; i < matched.length; i++) {
    const row = matched[i]!;
    if (live.has(row)) matched[n++] = row;
  }
  return { count: n, rows: matched.subarray(0, n) };
}

/**
 * The least share of a slab's rows a filter must select to be tested row by row. A bitmap costs a
 * bit set per match and then cheap tests (it is small); a test costs a read of a per-row array for
 * each row the probe scans, and a probe scans more lists the fewer rows pass (knob / selectivity).
 * Measured at a million rows, the two break even near a tenth; the test wins more the broader the
 * filter.
 */
const TESTED_MIN_SHARE = 0.1;

/**
 * A broad filter as a row test (a search that scans few rows asked for one): live and passing.
 * With rows not live, the count is the filter's scaled by the live share — within what a probe's
 * growth by selectivity needs, and counting it exactly would cost the bitmap the test saves.
 * Undefined when that estimate is small enough to list (the caller then counts exactly).
 */
function testedRows(layer: SlabLayer, test: RowTest | undefined, maxRows: number): EligibleRows | undefined {
  const { reader, live, liveCount } = layer;
  if (!test || test.count < reader.count * TESTED_MIN_SHARE) return undefined;
  if (liveCount === reader.count) return { count: test.count, test };
  const count = Math.round((test.count * liveCount) / reader.count);
  if (count <= maxRows) return undefined;
  return { count, test: { count, has: (row) => live.has(row) && test.has(row) } };
}
