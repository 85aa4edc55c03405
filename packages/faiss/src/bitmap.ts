/**
 * Filter bitmaps for {@link SearchParams.allowed}: bit `i % 8` (least significant first) of
 * byte `i >> 3` says whether row i may be returned (faiss IDSelectorBitmap's layout).
 */

/** An all-zero bitmap covering `rows` rows. */
export function emptyBitmap(rows: number): Uint8Array {
  return new Uint8Array(Math.ceil(rows / 8));
}

/** Marks row `row` as allowed. */
export function allowRow(bitmap: Uint8Array, row: number): void {
  const byte = row >> 3;
  if (row < 0 || byte >= bitmap.length) throw new RangeError(`row ${row} is outside the bitmap`);
  bitmap[byte] = bitmap[byte]! | (1 << (row & 7));
}

/** Whether row `row` is allowed. */
export function isAllowed(bitmap: Uint8Array, row: number): boolean {
  const byte = bitmap[row >> 3];
  return row >= 0 && byte !== undefined && (byte & (1 << (row & 7))) !== 0;
}

/**
 * A bitmap over `rows` rows allowing exactly `allowed`.
 *
 * @example
 * const allowed = bitmapOf(index.ntotal, [3, 17, 42]);
 * await index.search(query, 10, { allowed });
 */
export function bitmapOf(rows: number, allowed: Iterable<number>): Uint8Array {
  const bitmap = emptyBitmap(rows);
  for (const row of allowed) allowRow(bitmap, row);
  return bitmap;
}
