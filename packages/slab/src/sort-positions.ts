/**
 * Distinct non-negative integers below `bound`, ascending: a bitmap sort in linear time, much
 * cheaper than a comparison sort for the thousands of vector positions a filtered query scans.
 * The bitmap is a scratch array reused across calls (cleared as it is read), so a query does not
 * allocate and zero a bitmap of the whole slab: that allocation costs more than the sort saves.
 */
export function sortedDistinct(values: ArrayLike<number>, bound: number): Int32Array {
  const words = (bound + 31) >>> 5;
  if (scratch.length < words) scratch = new Uint32Array(Math.max(words, scratch.length * 2));
  const bits = scratch;
  let distinct = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const mask = 1 << (v & 31);
    const w = v >>> 5;
    if ((bits[w]! & mask) === 0) {
      bits[w]! |= mask;
      distinct++;
    }
  }
  const out = new Int32Array(distinct);
  let n = 0;
  // Emits and clears each set word; every set word lies before the last value emitted.
  for (let w = 0; w < words && n < distinct; w++) {
    let word = bits[w]!;
    if (word === 0) continue;
    bits[w] = 0;
    while (word !== 0) {
      out[n++] = (w << 5) + 31 - Math.clz32(word & -word);
      word &= word - 1;
    }
  }
  return out;
}

let scratch = new Uint32Array(0);
