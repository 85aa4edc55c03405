/**
 * a[aStart, aEnd) against b[bStart, bEnd): two ids as a slab stores them (UTF-8; the API keeps them
 * ASCII, so byte order is the order slabs sort ids in). Negative when a sorts first, zero when equal.
 */
export function compareStoredIds(a: Uint8Array, aStart: number, aEnd: number, b: Uint8Array, bStart: number, bEnd: number): number {
  const n = Math.min(aEnd - aStart, bEnd - bStart);
  for (let k = 0; k < n; k++) {
    const d = a[aStart + k]! - b[bStart + k]!;
    if (d !== 0) return d;
  }
  return aEnd - aStart - (bEnd - bStart);
}
