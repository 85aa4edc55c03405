/**
 * Set algebra on short row lists: ascending Int32Arrays without repeats. A selective filter's
 * rows cost O(matches) this way, where a Bitset costs O(slab rows / 32) per operation (a few
 * full-size passes per clause dominate a 1%-selective query over a million-row slab).
 */

/** a ∩ b. Galloping would win for very uneven sizes; a merge is enough for lists this short. */
export function intersectSorted(a: Int32Array, b: Int32Array): Int32Array {
  const out = new Int32Array(Math.min(a.length, b.length));
  let n = 0;
  for (let i = 0, j = 0; i < a.length && j < b.length; ) {
    const x = a[i]!;
    const y = b[j]!;
    if (x === y) {
      out[n++] = x;
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  return out.subarray(0, n);
}

/** a ∪ b. */
export function unionSorted(a: Int32Array, b: Int32Array): Int32Array {
  const out = new Int32Array(a.length + b.length);
  let n = 0;
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x <= y) {
      out[n++] = x;
      i++;
      if (x === y) j++;
    } else {
      out[n++] = y;
      j++;
    }
  }
  while (i < a.length) out[n++] = a[i++]!;
  while (j < b.length) out[n++] = b[j++]!;
  return out.subarray(0, n);
}

/** Sorts and drops repeats: an ascending view of `rows`' buffer or of a new one (`rows` is consumed). */
export function sortUnique(rows: Int32Array): Int32Array {
  const sorted = rows.length < RADIX_MIN ? rows.sort() : radixSort(rows);
  let n = 0;
  for (let i = 0; i < sorted.length; i++) if (n === 0 || sorted[i] !== sorted[n - 1]) sorted[n++] = sorted[i]!;
  return sorted.subarray(0, n);
}

/**
 * Below this, the built-in sort; above, LSD radix sort. A range over a continuous field lists its
 * rows in value order, and Int32Array.prototype.sort took 0.4 ms for 10,000 of them (as long as
 * the bitmap algebra the row list replaces); two 10-bit radix passes (rows of a million-row slab)
 * take 0.07 ms.
 */
const RADIX_MIN = 256;

/**
 * Ascending, for non-negative rows (below 2^31), in as few digit passes of at most 11 bits (a
 * 2^11-entry count table stays in L1) as the largest row needs. Returns `rows` or a new array.
 */
function radixSort(rows: Int32Array): Int32Array {
  let max = 0;
  for (let i = 0; i < rows.length; i++) max |= rows[i]!;
  const bits = 32 - Math.clz32(max);
  const passes = Math.max(1, Math.ceil(bits / 11));
  const width = Math.ceil(bits / passes);
  const mask = (1 << width) - 1;
  let from = rows;
  let to: Int32Array = new Int32Array(rows.length);
  const counts = new Int32Array(1 << width);
  for (let shift = 0; shift < bits; shift += width) {
    counts.fill(0);
    for (let i = 0; i < from.length; i++) counts[(from[i]! >>> shift) & mask]!++;
    let sum = 0;
    for (let d = 0; d < counts.length; d++) {
      const c = counts[d]!;
      counts[d] = sum;
      sum += c;
    }
    for (let i = 0; i < from.length; i++) {
      const row = from[i]!;
      to[counts[(row >>> shift) & mask]!++] = row;
    }
    [from, to] = [to, from];
  }
  return from;
}
