import type { Filter, FieldOps, Metadata, Primitive } from '@conifer/core';
import { Bitset } from './bitset.ts';
import { yieldToEventLoop } from './yield.ts';

const BUILD_YIELD_EVERY = 2048;

/**
 * Columnar metadata of one slab, built once when the slab is loaded: for every field, the rows
 * that have it; an inverted posting list per string / boolean value (list elements each get a
 * posting); and a sorted (value, row) column for numbers. A filter then becomes a row bitmap by
 * set algebra instead of evaluating a predicate on every row's JSON.
 *
 * The semantics are exactly `compileFilter`'s (checked by a property test): a list field matches
 * when any element does; `$ne` / `$nin` never match rows that lack the field.
 */
interface FieldColumn {
  present: number[];
  /** "s:<string>" or "b:true" / "b:false" → rows, ascending. */
  postings: Map<string, number[]>;
  /** Numbers sorted ascending, with their rows. */
  numbers: Float64Array;
  numberRows: Uint32Array;
}

export class MetadataIndex {
  readonly size: number;
  readonly #fields = new Map<string, FieldColumn>();

  /** Without `metadataOf` the index starts empty (rows are added by `build`). */
  constructor(size: number, metadataOf?: (row: number) => Metadata | undefined) {
    this.size = size;
    const numbers = new Map<string, { v: number; row: number }[]>();
    if (metadataOf) for (let row = 0; row < size; row++) this.#addRow(row, metadataOf(row), numbers);
    this.#finish(numbers);
  }

  /**
   * Builds the index like the constructor, yielding to the event loop every few thousand rows:
   * the first filtered query of a million-row slab parses a million JSON documents, which must not
   * hold every other request for that long.
   */
  static async build(size: number, metadataOf: (row: number) => Metadata | undefined): Promise<MetadataIndex> {
    const index = new MetadataIndex(size);
    const numbers = new Map<string, { v: number; row: number }[]>();
    for (let row = 0; row < size; row++) {
      index.#addRow(row, metadataOf(row), numbers);
      if (row % BUILD_YIELD_EVERY === BUILD_YIELD_EVERY - 1) await yieldToEventLoop();
    }
    index.#finish(numbers);
    return index;
  }

  #addRow(row: number, md: Metadata | undefined, numbers: Map<string, { v: number; row: number }[]>): void {
    if (!md) return;
    for (const [field, value] of Object.entries(md)) {
      let col = this.#fields.get(field);
      if (!col) {
        col = { present: [], postings: new Map(), numbers: new Float64Array(0), numberRows: new Uint32Array(0) };
        this.#fields.set(field, col);
      }
      col.present.push(row);
      const values = Array.isArray(value) ? value : [value];
      const seen = new Set<string>();
      for (const v of values) {
        if (typeof v === 'number') {
          let list = numbers.get(field);
          if (!list) numbers.set(field, (list = []));
          list.push({ v, row });
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

  #finish(numbers: Map<string, { v: number; row: number }[]>): void {
    for (const [field, list] of numbers) {
      list.sort((a, b) => a.v - b.v || a.row - b.row);
      const col = this.#fields.get(field)!;
      col.numbers = Float64Array.from(list, (e) => e.v);
      col.numberRows = Uint32Array.from(list, (e) => e.row);
    }
  }

  /** Rows whose metadata satisfies `filter` (every row when the filter is empty). */
  evaluate(filter: Filter): Bitset {
    let result = Bitset.full(this.size);
    for (const [key, value] of Object.entries(filter)) {
      if (value === undefined) continue;
      let clause: Bitset;
      if (key === '$and') {
        clause = Bitset.full(this.size);
        for (const sub of value as Filter[]) clause.and(this.evaluate(sub));
      } else if (key === '$or') {
        clause = new Bitset(this.size);
        for (const sub of value as Filter[]) clause.or(this.evaluate(sub));
      } else if (typeof value !== 'object' || value === null) {
        clause = this.#eq(key, value);
      } else {
        clause = Bitset.full(this.size);
        for (const [op, operand] of Object.entries(value as FieldOps)) clause.and(this.#op(key, op, operand));
      }
      result = result.and(clause);
    }
    return result;
  }

  #present(field: string): Bitset {
    return Bitset.fromRows(this.size, this.#fields.get(field)?.present ?? []);
  }

  #eq(field: string, value: Primitive): Bitset {
    if (typeof value === 'number') return this.#range(field, value, true, value, true);
    return Bitset.fromRows(this.size, this.#fields.get(field)?.postings.get(postingKey(value)) ?? []);
  }

  #in(field: string, values: Primitive[]): Bitset {
    const out = new Bitset(this.size);
    for (const v of new Set(values)) out.or(this.#eq(field, v));
    return out;
  }

  /** Rows with a number in [lo, hi] (bounds inclusive or not). */
  #range(field: string, lo: number, loIncl: boolean, hi: number, hiIncl: boolean): Bitset {
    const out = new Bitset(this.size);
    const col = this.#fields.get(field);
    if (!col) return out;
    const { numbers, numberRows } = col;
    let i = lowerBound(numbers, lo, loIncl);
    for (; i < numbers.length; i++) {
      const v = numbers[i]!;
      if (v > hi || (v === hi && !hiIncl)) break;
      out.set(numberRows[i]!);
    }
    return out;
  }

  #op(field: string, op: string, operand: unknown): Bitset {
    switch (op) {
      case '$eq':
        return this.#eq(field, operand as Primitive);
      case '$ne':
        return this.#present(field).andNot(this.#eq(field, operand as Primitive));
      case '$in':
        return this.#in(field, operand as Primitive[]);
      case '$nin':
        return this.#present(field).andNot(this.#in(field, operand as Primitive[]));
      case '$gt':
        return this.#range(field, operand as number, false, Infinity, true);
      case '$gte':
        return this.#range(field, operand as number, true, Infinity, true);
      case '$lt':
        return this.#range(field, -Infinity, true, operand as number, false);
      case '$lte':
        return this.#range(field, -Infinity, true, operand as number, true);
      case '$exists':
        return operand ? this.#present(field) : this.#present(field).not();
      default:
        throw new Error(`unvalidated filter operator ${op}`);
    }
  }
}

function postingKey(v: string | boolean): string {
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
