import type { Metadata } from '@conifer/core';
import type { Bitset } from './bitset.ts';
import { sortNumberColumn } from './sorted-rows.ts';
import { yieldToEventLoop } from './yield.ts';

/**
 * The columns of a slab's metadata index (see metadata-index.ts) and how they are built from rows:
 * per field, the rows that have it, a posting list per string / boolean value, and the numbers
 * sorted with their rows. The index evaluates filters over them; the codec stores them.
 */

const BUILD_YIELD_EVERY = 2048;

/**
 * A field's posting lists by key: a Map when the index is built in memory, a binary search over
 * sorted keys when it is read from a slab (metadata-index-codec.ts).
 */
export interface Postings {
  get(key: string): Int32Array | undefined;
  entries(): Iterable<[string, Int32Array]>;
}

export interface FieldColumn {
  /** Rows that have the field, ascending. */
  present: Int32Array;
  /** "s:<string>" or "b:true" / "b:false" → rows, ascending. */
  postings: Postings;
  /** Numbers sorted ascending, with their rows (ties by row, so one value's rows ascend). */
  numbers: Float64Array;
  numberRows: Int32Array;
  /** Some row holds several numbers (a list): numberRows may repeat a row. */
  multiNumber: boolean;
  /** Rows holding a number, built on the first broad range over the field (see MetadataIndex). */
  numberPresent?: Bitset;
  /**
   * Per row, its number's place among the distinct numbers (0 without one), built on the first
   * broad range tested row by row (MetadataIndex.rowTest); single-number columns only.
   */
  numberCodes?: NumberCodes;
  /**
   * Per row, which posting holds it (0: none), and each posting key's number; built on the
   * first broad equality tested row by row. Null when some row is in two postings (a list).
   */
  valueCodes?: ValueCodes | null;
}

/** Per row, a code of its number (see FieldColumn.numberCodes). */
export type NumberCodes = Uint8Array | Uint16Array | Uint32Array;

/** A column's string / boolean values numbered: `codes[row]` is the number of the row's posting. */
export interface ValueCodes {
  codes: NumberCodes;
  byKey: Map<string, number>;
}

/** A column while rows are added: plain arrays, turned into a FieldColumn by finish(). */
interface ColumnBuilder {
  present: number[];
  postings: Map<string, number[]>;
  /** Numbers and their rows, parallel (plain numbers: objects per entry kept the GC busy). */
  numbers: number[];
  numberRows: number[];
  multiNumber: boolean;
}

/** The columns of rows 0 … size − 1 of `metadataOf`. */
export function buildColumns(size: number, metadataOf: (row: number) => Metadata | undefined): Map<string, FieldColumn> {
  const builders = new Map<string, ColumnBuilder>();
  for (let row = 0; row < size; row++) addRow(builders, row, metadataOf(row));
  return finish(builders);
}

/**
 * buildColumns, yielding to the event loop every few thousand rows: the first filtered query of a
 * million-row slab parses a million JSON documents, which must not hold every other request for
 * that long.
 */
export async function buildColumnsYielding(size: number, metadataOf: (row: number) => Metadata | undefined): Promise<Map<string, FieldColumn>> {
  const builders = new Map<string, ColumnBuilder>();
  for (let row = 0; row < size; row++) {
    addRow(builders, row, metadataOf(row));
    if (row % BUILD_YIELD_EVERY === BUILD_YIELD_EVERY - 1) await yieldToEventLoop();
  }
  return finish(builders);
}

function finish(builders: Map<string, ColumnBuilder>): Map<string, FieldColumn> {
  const fields = new Map<string, FieldColumn>();
  for (const [field, b] of builders) {
    const { numbers, numberRows } = sortNumberColumn(b.numbers, b.numberRows);
    const postings = new Map<string, Int32Array>();
    for (const [key, rows] of b.postings) postings.set(key, Int32Array.from(rows));
    fields.set(field, {
      present: Int32Array.from(b.present),
      postings,
      numbers,
      numberRows,
      multiNumber: b.multiNumber,
    });
  }
  return fields;
}

function addRow(builders: Map<string, ColumnBuilder>, row: number, md: Metadata | undefined): void {
  if (!md) return;
  for (const [field, value] of Object.entries(md)) {
    let col = builders.get(field);
    if (!col) builders.set(field, (col = { present: [], postings: new Map(), numbers: [], numberRows: [], multiNumber: false }));
    col.present.push(row);
    const values = Array.isArray(value) ? value : [value];
    const seen = new Set<string>();
    let numbers = 0;
    for (const v of values) {
      if (typeof v === 'number') {
        col.numbers.push(v);
        col.numberRows.push(row);
        if (++numbers > 1) col.multiNumber = true;
        continue;
      }
      const key = postingKey(v);
      if (seen.has(key)) continue; // a list may repeat an element; one posting per row
      seen.add(key);
      let posting = col.postings.get(key);
      if (!posting) col.postings.set(key, (posting = []));
      posting.push(row);
    }
  }
}

/** [start, end) of the sorted numbers within [lo, hi] (bounds inclusive or not); empty when lo > hi. */
export function rangeBounds(sorted: Float64Array, lo: number, loIncl: boolean, hi: number, hiIncl: boolean): [number, number] {
  const start = lowerBound(sorted, lo, loIncl);
  return [start, Math.max(start, lowerBound(sorted, hi, !hiIncl))];
}

/** The posting list key of a string or boolean value. */
export function postingKey(v: string | boolean): string {
  return typeof v === 'string' ? `s:${v}` : `b:${v}`;
}

/** First index whose value is >= lo (or > lo when not inclusive). */
function lowerBound(sorted: Float64Array, lo: number, inclusive: boolean): number {
  let a = 0;
  let b = sorted.length;
  while (a < b) {
    const mid = (a + b) >>> 1;
    const v = sorted[mid]!;
    if (v < lo || (v === lo && !inclusive)) a = mid + 1;
    else b = mid;
  }
  return a;
}
