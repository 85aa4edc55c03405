/**
 * Set algebra on short row lists: ascending Int32Arrays without repeats. A selective filter's
 * rows cost O(matches) this way, where a Bitset costs O(slab rows / 32) per operation (a few
 * full-size passes per clause dominate a 1%-selective query over a million-row slab).
 */

/** a ∩ b. Galloping would win for very uneven sizes; a merge is enough for lists this short. */
export function intersectSorted(a: Int32Array, b: Int32Array): Int32Array {
  const out = new Int32Array(Math.min(a.length, b.length));
  let n = 0;
  for (let i = 0, j = 0; i < a.length && j < b.length;) {
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

/**
 * A number column sorted by value, ties in the order given (rows arrive ascending, so one value's
 * rows stay ascending). Above `radixFrom` entries an LSD radix sort over the values' bits: the
 * comparator sort of {value, row} objects took about half a second on the event loop for a
 * million-row slab's column the first time a filter touched it. Values are finite (metadata).
 */
export function sortNumberColumn(values: readonly number[], rows: readonly number[], radixFrom = 4096): { numbers: Float64Array; numberRows: Int32Array } {
  const n = values.length;
  const numbers = new Float64Array(n);
  const numberRows = new Int32Array(n);
  if (n < radixFrom) {
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a]! - values[b]! || a - b);
    for (let i = 0; i < n; i++) {
      numbers[i] = values[order[i]!]!;
      numberRows[i] = rows[order[i]!]!;
    }
    return { numbers, numberRows };
  }
  // Each float64 as a 64-bit unsigned key that sorts like the number (-0 counts as 0): negative
  // numbers get every bit flipped, the others only the sign bit. Little-endian: [lo, hi] words.
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) keys[i] = values[i] === 0 ? 0 : values[i]!;
  const words = new Uint32Array(keys.buffer);
  for (let i = 0; i < n; i++) {
    const hi = words[2 * i + 1]!;
    if (hi >>> 31) {
      words[2 * i] = ~words[2 * i]! >>> 0;
      words[2 * i + 1] = ~hi >>> 0;
    } else words[2 * i + 1] = (hi | 0x80000000) >>> 0;
  }
  let order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let next = new Uint32Array(n);
  const counts = new Uint32Array(1 << 16);
  // Four stable 16-bit passes, low digit first; a digit all keys share (the low mantissa bits of
  // integers, the exponent of a narrow range) is skipped.
  for (let digit = 0; digit < 4; digit++) {
    const word = digit >> 1;
    const shift = (digit & 1) * 16;
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[(words[2 * i + word]! >>> shift) & 0xffff]!++;
    if (counts[(words[word]! >>> shift) & 0xffff] === n) continue;
    let sum = 0;
    for (let d = 0; d < counts.length; d++) {
      const c = counts[d]!;
      counts[d] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const at = order[i]!;
      next[counts[(words[2 * at + word]! >>> shift) & 0xffff]!++] = at;
    }
    [order, next] = [next, order];
  }
  for (let i = 0; i < n; i++) {
    numbers[i] = values[order[i]!]!;
    numberRows[i] = rows[order[i]!]!;
  }
  return { numbers, numberRows };
}
