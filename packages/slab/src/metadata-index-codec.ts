import type { FieldColumn, Postings } from './metadata-columns.ts';
import { MetadataIndex } from './metadata-index.ts';
import { align, SlabCorruptionError } from './format.ts';

/**
 * A slab's columnar metadata index, stored in the slab (the optional `metadataIndex` section), so
 * that a compacted slab is filterable the moment it is installed or loaded: building the index
 * parses every row's metadata JSON, about 2 s for a million rows, which the first filtered query
 * would otherwise wait for. Compaction workers build it off the event loop (see builder.ts).
 *
 * Layout (little-endian; the section starts 8-aligned, and every array is aligned to its
 * element size, so the reader views them in place):
 *
 *   u32 version (1) | u32 fieldCount
 *   per field:
 *     u32 nameBytes | name (UTF-8) | pad to 4
 *     u32 flags (bit 0: multiNumber) | u32 presentCount | i32 present[presentCount]
 *     u32 numberCount | pad to 8 | f64 numbers[numberCount] | i32 numberRows[numberCount]
 *     u32 keyCount | u32 keyStarts[keyCount + 1] | key bytes (UTF-8) | pad to 4
 *     u32 rowStarts[keyCount + 1] | i32 rows[rowStarts[keyCount]]
 *
 * Posting keys are sorted by their UTF-8 bytes, so a lookup is a binary search over the stored
 * keys and opening the index costs nothing per key (a field may hold a million distinct strings).
 */
export const METADATA_INDEX_VERSION = 1;

const FLAG_MULTI_NUMBER = 1;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Serializes an index's columns. */
export function encodeMetadataIndex(index: MetadataIndex): Uint8Array {
  const fields = [...index.columns()].map(([name, column]) => {
    const keys = [...column.postings.entries()].map(([key, rows]) => ({ key: encoder.encode(key), rows }));
    keys.sort((a, b) => compareBytes(a.key, b.key, 0, a.key.length));
    return { name: encoder.encode(name), column, keys };
  });
  let size = 8;
  for (const { name, column, keys } of fields) {
    size = align(size + 4 + name.length, 4);
    size += 8 + 4 * column.present.length;
    size = align(size + 4, 8) + 12 * column.numbers.length;
    const keyBytes = keys.reduce((n, k) => n + k.key.length, 0);
    const rowCount = keys.reduce((n, k) => n + k.rows.length, 0);
    size = align(size + 4 + 4 * (keys.length + 1) + keyBytes, 4) + 4 * (keys.length + 1) + 4 * rowCount;
  }

  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  const u32 = (v: number): void => {
    view.setUint32(at, v, true);
    at += 4;
  };
  const int32s = (values: ArrayLike<number>): void => {
    new Int32Array(out.buffer, at, values.length).set(values);
    at += 4 * values.length;
  };
  u32(METADATA_INDEX_VERSION);
  u32(fields.length);
  for (const { name, column, keys } of fields) {
    u32(name.length);
    out.set(name, at);
    at = align(at + name.length, 4);
    u32(column.multiNumber ? FLAG_MULTI_NUMBER : 0);
    u32(column.present.length);
    int32s(column.present);
    u32(column.numbers.length);
    at = align(at, 8);
    new Float64Array(out.buffer, at, column.numbers.length).set(column.numbers);
    at += 8 * column.numbers.length;
    int32s(column.numberRows);
    u32(keys.length);
    const keyStarts = new Uint32Array(out.buffer, at, keys.length + 1);
    at += 4 * (keys.length + 1);
    let keyAt = 0;
    keys.forEach((k, i) => {
      keyStarts[i] = keyAt;
      out.set(k.key, at + keyAt);
      keyAt += k.key.length;
    });
    keyStarts[keys.length] = keyAt;
    at = align(at + keyAt, 4);
    const rowStarts = new Uint32Array(out.buffer, at, keys.length + 1);
    at += 4 * (keys.length + 1);
    let rowAt = 0;
    keys.forEach((k, i) => {
      rowStarts[i] = rowAt;
      rowAt += k.rows.length;
    });
    rowStarts[keys.length] = rowAt;
    for (const k of keys) int32s(k.rows);
  }
  if (at !== size) throw new Error(`metadata index encoding: wrote ${at} bytes of ${size}`);
  return out;
}

/**
 * Opens a stored index over `size` rows in place: the columns are views into `bytes`, which must
 * start 8-aligned in memory and stay unchanged while the index lives. Checks the structure (every
 * count and offset within the section) and throws SlabCorruptionError when it does not hold; row
 * numbers themselves are covered by the slab's checksum.
 */
export function decodeMetadataIndex(bytes: Uint8Array, size: number, slabId: string): MetadataIndex {
  if (bytes.byteOffset % 8 !== 0) throw new Error('metadata index section must start 8-aligned in memory');
  const corrupt = (what: string): never => {
    throw new SlabCorruptionError(`slab ${slabId}: metadata index ${what}`);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const need = (n: number): void => {
    if (at + n > bytes.length) corrupt(`truncated at byte ${at}`);
  };
  const u32 = (): number => {
    need(4);
    const v = view.getUint32(at, true);
    at += 4;
    return v;
  };
  const array = <T>(make: (buffer: ArrayBufferLike, offset: number, length: number) => T, length: number, width: number): T => {
    need(width * length);
    const out = make(bytes.buffer, bytes.byteOffset + at, length);
    at += width * length;
    return out;
  };
  const int32s = (n: number) => array((b, o, l) => new Int32Array(b, o, l), n, 4);
  const uint32s = (n: number) => array((b, o, l) => new Uint32Array(b, o, l), n, 4);

  const version = u32();
  if (version !== METADATA_INDEX_VERSION) corrupt(`version ${version} is not supported`);
  const fieldCount = u32();
  const fields = new Map<string, FieldColumn>();
  for (let f = 0; f < fieldCount; f++) {
    const nameLength = u32();
    need(nameLength);
    const name = decoder.decode(bytes.subarray(at, at + nameLength));
    at = align(at + nameLength, 4);
    const flags = u32();
    const present = int32s(u32());
    const numberCount = u32();
    at = align(at, 8);
    const numbers = array((b, o, l) => new Float64Array(b, o, l), numberCount, 8);
    const numberRows = int32s(numberCount);
    const keyCount = u32();
    const keyStarts = uint32s(keyCount + 1);
    const keyBytes = keyStarts[keyCount]!;
    need(keyBytes);
    for (let k = 0; k < keyCount; k++) if (keyStarts[k]! > keyStarts[k + 1]!) corrupt(`field ${name}: key offsets out of order`);
    const keys = bytes.subarray(at, at + keyBytes);
    at = align(at + keyBytes, 4);
    const rowStarts = uint32s(keyCount + 1);
    for (let k = 0; k < keyCount; k++) if (rowStarts[k]! > rowStarts[k + 1]!) corrupt(`field ${name}: posting offsets out of order`);
    const rows = int32s(rowStarts[keyCount]!);
    if (present.length > size) corrupt(`field ${name}: ${present.length} rows present in a slab of ${size}`);
    fields.set(name, {
      present,
      postings: new SortedPostings(keyStarts, keys, rowStarts, rows),
      numbers,
      numberRows,
      multiNumber: (flags & FLAG_MULTI_NUMBER) !== 0,
    });
  }
  if (at !== bytes.length) corrupt(`has ${bytes.length - at} trailing bytes`);
  return MetadataIndex.fromColumns(size, fields);
}

/** Posting lists over keys sorted by their UTF-8 bytes: a lookup is a binary search. */
class SortedPostings implements Postings {
  readonly #keyStarts: Uint32Array;
  readonly #keys: Uint8Array;
  readonly #rowStarts: Uint32Array;
  readonly #rows: Int32Array;

  constructor(keyStarts: Uint32Array, keys: Uint8Array, rowStarts: Uint32Array, rows: Int32Array) {
    this.#keyStarts = keyStarts;
    this.#keys = keys;
    this.#rowStarts = rowStarts;
    this.#rows = rows;
  }

  get(key: string): Int32Array | undefined {
    const wanted = encoder.encode(key);
    let lo = 0;
    let hi = this.#keyStarts.length - 2;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareBytes(this.#keys, wanted, this.#keyStarts[mid]!, this.#keyStarts[mid + 1]!);
      if (c === 0) return this.#rows.subarray(this.#rowStarts[mid]!, this.#rowStarts[mid + 1]!);
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  *entries(): Iterable<[string, Int32Array]> {
    for (let k = 0; k + 1 < this.#keyStarts.length; k++) {
      const key = decoder.decode(this.#keys.subarray(this.#keyStarts[k]!, this.#keyStarts[k + 1]!));
      yield [key, this.#rows.subarray(this.#rowStarts[k]!, this.#rowStarts[k + 1]!)];
    }
  }
}

/** Compares `a[start, end)` with all of `b` byte by byte (negative: a sorts first). */
function compareBytes(a: Uint8Array, b: Uint8Array, start: number, end: number): number {
  const length = Math.min(end - start, b.length);
  for (let i = 0; i < length; i++) {
    const d = a[start + i]! - b[i]!;
    if (d !== 0) return d;
  }
  return end - start - b.length;
}
