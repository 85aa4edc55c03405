import type { Filter, FieldOps, Metadata, Primitive } from '@conifer/core';
import { Bitset } from './bitset.ts';
import { buildColumns, buildColumnsYielding, postingKey, rangeBounds, type FieldColumn, type NumberCodes, type ValueCodes } from './metadata-columns.ts';
import { intersectSorted, sortUnique, unionSorted } from './sorted-rows.ts';

/** The rows a filter selects, as a membership test: how many, and whether a row is one. */
export interface RowTest {
  readonly count: number;
  has(row: number): boolean;
}

const RANGE_OPS = new Set(['$gt', '$gte', '$lt', '$lte']);

/** A range of numbers, each bound inclusive or not. */
interface NumberRange {
  lo: number;
  loIncl: boolean;
  hi: number;
  hiIncl: boolean;
}

const everyNumber = (): NumberRange => ({ lo: -Infinity, loIncl: true, hi: Infinity, hiIncl: true });

/** Narrows `range` by one range operator (`$gt` … `$lte`) of `v`: several bounds merge into one range. */
function narrowRange(range: NumberRange, op: string, v: number): void {
  if (op === '$gt' && (v > range.lo || (v === range.lo && range.loIncl))) [range.lo, range.loIncl] = [v, false];
  else if (op === '$gte' && v > range.lo) [range.lo, range.loIncl] = [v, true];
  else if (op === '$lt' && (v < range.hi || (v === range.hi && range.hiIncl))) [range.hi, range.hiIncl] = [v, false];
  else if (op === '$lte' && v < range.hi) [range.hi, range.hiIncl] = [v, true];
}

/**
 * Columnar metadata of one slab, built once when the slab is loaded: for every field, the rows
 * that have it; an inverted posting list per string / boolean value (list elements each get a
 * posting); and a sorted (value, row) column for numbers. A filter then becomes a row bitmap by
 * set algebra instead of evaluating a predicate on every row's JSON — or, for a selective filter,
 * into a short ascending row list (`matchingRows`), which costs O(matches) instead of O(rows).
 *
 * The semantics are exactly `compileFilter`'s (checked by a property test): a list field matches
 * when any element does; `$ne` / `$nin` never match rows that lack the field.
 */
export class MetadataIndex {
  readonly size: number;
  readonly #fields: Map<string, FieldColumn>;

  /** Without `metadataOf` the index starts empty. */
  constructor(size: number, metadataOf?: (row: number) => Metadata | undefined) {
    this.size = size;
    this.#fields = metadataOf ? buildColumns(size, metadataOf) : new Map();
  }

  /** Builds the index like the constructor, yielding to the event loop (see buildColumnsYielding). */
  static async build(size: number, metadataOf: (row: number) => Metadata | undefined): Promise<MetadataIndex> {
    return MetadataIndex.fromColumns(size, await buildColumnsYielding(size, metadataOf));
  }

  /** An index over columns built elsewhere (decoded from a slab's stored index). */
  static fromColumns(size: number, fields: ReadonlyMap<string, FieldColumn>): MetadataIndex {
    const index = new MetadataIndex(size);
    for (const [field, column] of fields) index.#fields.set(field, column);
    return index;
  }

  /** The columns by field (read-only use: the encoder that stores them in a slab). */
  columns(): ReadonlyMap<string, Readonly<FieldColumn>> {
    return this.#fields;
  }

  /** Rows whose metadata satisfies `filter` (every row when the filter is empty). */
  evaluate(filter: Filter): Bitset {
    return this.#conjunction(filter) ?? Bitset.full(this.size);
  }

  /**
   * The rows `evaluate` would select, as an ascending Int32Array (a new one, the caller's to
   * keep), when that is cheap: every clause is an equality, `$in`, range or `$exists: true` (under
   * any nesting of `$and` / `$or`) whose rows number at most `maxRows`. Otherwise undefined, and
   * the caller uses `evaluate`: negations need the full row space, and a broad clause is cheaper
   * as a bitmap than as a list.
   */
  matchingRows(filter: Filter, maxRows: number): Int32Array | undefined {
    const rows = this.#listConjunction(filter, maxRows);
    if (rows !== null) return rows;
    return this.#everyRow(maxRows);
  }

  /**
   * The rows `evaluate` would select as a test of one row at a time, for a search that looks at
   * few of them (an IVF probe scans a few thousand rows of a million): a broad filter then costs
   * O(rows scanned) instead of a bitmap of every match. Only where the test is exact and O(1): one
   * field, with a range of numbers (`$gt` … `$lte`, merged, or `$eq` of a number) on a column whose
   * rows hold at most one number, or `$eq` / `$in` of strings or booleans on a column whose rows
   * hold at most one of them. Undefined otherwise (several fields, `$and` / `$or`, negations,
   * `$exists`, lists), and the caller evaluates the bitmap. The test reads a per-row array of the
   * column built on first use and kept (`derivedBytes`).
   */
  rowTest(filter: Filter): RowTest | undefined {
    const clauses = Object.entries(filter).filter(([, value]) => value !== undefined);
    if (clauses.length !== 1) return undefined;
    const [field, value] = clauses[0]!;
    if (field.startsWith('$')) return undefined;
    const col = this.#fields.get(field);
    if (!col) return undefined; // no row has the field: the empty bitmap costs nothing
    // A bare value is `$eq` of it.
    const ops = typeof value !== 'object' || value === null ? [['$eq', value]] : Object.entries(value as FieldOps);
    if (ops.length === 1 && ops[0]![0] === '$eq') {
      const operand = ops[0]![1] as Primitive;
      return typeof operand === 'number' ? this.#rangeTest(col, { lo: operand, loIncl: true, hi: operand, hiIncl: true }) : this.#valueTest(col, [operand]);
    }
    if (ops.length === 1 && ops[0]![0] === '$in') {
      const values = ops[0]![1] as Primitive[];
      return values.every((v) => typeof v !== 'number') ? this.#valueTest(col, values as (string | boolean)[]) : undefined;
    }
    if (!ops.every(([op]) => RANGE_OPS.has(op as string))) return undefined;
    const range = everyNumber();
    for (const [op, operand] of ops) narrowRange(range, op as string, operand as number);
    return this.#rangeTest(col, range);
  }

  /** Bytes of what filters built beside the stored columns (the per-row arrays of rowTest, bitmaps). */
  get derivedBytes(): number {
    let bytes = 0;
    for (const col of this.#fields.values()) {
      bytes += (col.numberPresent?.words.byteLength ?? 0) + (col.numberCodes?.byteLength ?? 0);
      if (col.valueCodes) bytes += col.valueCodes.codes.byteLength + col.valueCodes.byKey.size * POSTING_KEY_BYTES;
    }
    return bytes;
  }

  #rangeTest(col: FieldColumn, { lo, loIncl, hi, hiIncl }: NumberRange): RowTest | undefined {
    if (col.multiNumber) return undefined; // a row would not have one code
    const [start, end] = rangeBounds(col.numbers, lo, loIncl, hi, hiIncl);
    if (start === end) return { count: 0, has: () => false };
    col.numberCodes ??= numberCodesOf(this.size, col.numbers, col.numberRows);
    const codes = col.numberCodes;
    // The codes of the range's first and last numbers, read through their rows.
    const first = codes[col.numberRows[start]!]!;
    const last = codes[col.numberRows[end - 1]!]!;
    return { count: end - start, has: (row) => codes[row]! >= first && codes[row]! <= last };
  }

  #valueTest(col: FieldColumn, values: (string | boolean)[]): RowTest | undefined {
    if (col.valueCodes === undefined) col.valueCodes = codesOfPostings(this.size, col);
    const coded = col.valueCodes;
    if (!coded) return undefined;
    // Each distinct value once: its code, and its posting's rows (a row holds one value, so they add up).
    const wanted: number[] = [];
    let count = 0;
    for (const key of new Set(values.map(postingKey))) {
      const code = coded.byKey.get(key);
      if (code === undefined) continue;
      wanted.push(code);
      count += col.postings.get(key)!.length;
    }
    const { codes } = coded;
    if (wanted.length === 1) {
      const code = wanted[0]!;
      return { count, has: (row) => codes[row] === code };
    }
    const set = new Set(wanted);
    return { count, has: (row) => set.has(codes[row]!) };
  }

  #everyRow(max: number): Int32Array | undefined {
    return this.size <= max ? Int32Array.from({ length: this.size }, (_, i) => i) : undefined;
  }

  /**
   * Intersection of the filter's clauses, or undefined when it has none (every row): the first
   * clause's bitmap is the result itself, not ANDed into a full one.
   */
  #conjunction(filter: Filter): Bitset | undefined {
    let result: Bitset | undefined;
    const meet = (clause: Bitset | undefined): void => {
      if (clause) result = result ? result.and(clause) : clause;
    };
    for (const [key, value] of Object.entries(filter)) {
      if (value === undefined) continue;
      if (key === '$and') {
        for (const sub of value as Filter[]) meet(this.#conjunction(sub));
      } else if (key === '$or') {
        let clause: Bitset | undefined;
        for (const sub of value as Filter[]) {
          const rows = this.evaluate(sub);
          clause = clause ? clause.or(rows) : rows;
        }
        meet(clause ?? new Bitset(this.size));
      } else if (typeof value !== 'object' || value === null) {
        meet(this.#eq(key, value));
      } else {
        for (const [op, operand] of Object.entries(value as FieldOps)) meet(this.#op(key, op, operand));
      }
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
    const col = this.#fields.get(field);
    if (!col) return new Bitset(this.size);
    const { numbers, numberRows } = col;
    const [start, end] = rangeBounds(numbers, lo, loIncl, hi, hiIncl);
    if (!col.multiNumber && (end - start) * 2 > numbers.length) {
      // Most numbers are in range: clearing the others from the rows that hold a number sets far
      // fewer bits (a 99% range over a million rows: 10,000 instead of 990,000). Only when every
      // row holds one number: a row of a list may have one element out of range and one in it.
      col.numberPresent ??= Bitset.fromRows(this.size, numberRows);
      const out = col.numberPresent.clone();
      for (let i = 0; i < start; i++) out.clear(numberRows[i]!);
      for (let i = end; i < numbers.length; i++) out.clear(numberRows[i]!);
      return out;
    }
    const out = new Bitset(this.size);
    for (let i = start; i < end; i++) out.set(numberRows[i]!);
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

  // Row lists (matchingRows): each returns ascending rows (never an array the index holds), null
  // for "every row" (a conjunction without clauses), or undefined when no short list exists.

  #listConjunction(filter: Filter, max: number): Int32Array | null | undefined {
    let result: Int32Array | null = null;
    /** False when the clause has no short list (the whole conjunction then has none here). */
    const meet = (clause: Int32Array | null | undefined): boolean => {
      if (clause === undefined) return false;
      if (clause !== null) result = result === null ? clause : intersectSorted(result, clause);
      return true;
    };
    for (const [key, value] of Object.entries(filter)) {
      if (value === undefined) continue;
      let ok: boolean;
      if (key === '$and') {
        ok = (value as Filter[]).every((sub) => meet(this.#listConjunction(sub, max)));
      } else if (key === '$or') {
        ok = meet(this.#listDisjunction(value as Filter[], max));
      } else if (typeof value !== 'object' || value === null) {
        ok = meet(this.#eqRows(key, value, max));
      } else {
        ok = meet(this.#fieldRows(key, value as FieldOps, max));
      }
      if (!ok) return undefined;
    }
    return result;
  }

  #listDisjunction(subs: Filter[], max: number): Int32Array | undefined {
    let out: Int32Array = new Int32Array(0);
    for (const sub of subs) {
      const rows = this.#listConjunction(sub, max);
      if (rows === undefined) return undefined;
      if (rows === null) return this.#everyRow(max); // a branch without clauses
      out = unionSorted(out, rows);
      if (out.length > max) return undefined;
    }
    return out;
  }

  /**
   * Rows passing every operator of one field. Range operators are merged into one range first
   * (`{ $gte: 3, $lt: 5 }` is short even when each bound alone is broad) — unless a row may hold
   * several numbers: [1, 10] passes $gte 3 and $lt 5 (each by another element) but is not in [3, 5).
   */
  #fieldRows(field: string, ops: FieldOps, max: number): Int32Array | undefined {
    const mergeRanges = this.#fields.get(field)?.multiNumber !== true;
    const range = everyNumber();
    let ranged = false;
    let result: Int32Array | undefined;
    for (const [op, operand] of Object.entries(ops)) {
      if (mergeRanges && RANGE_OPS.has(op)) {
        ranged = true;
        narrowRange(range, op, operand as number);
        continue;
      }
      const rows = this.#opRows(field, op, operand, max);
      if (!rows) return undefined;
      result = result ? intersectSorted(result, rows) : rows;
    }
    if (ranged) {
      const rows = this.#rangeRows(field, range.lo, range.loIncl, range.hi, range.hiIncl, max);
      if (!rows) return undefined;
      result = result ? intersectSorted(result, rows) : rows;
    }
    return result ?? this.#everyRow(max);
  }

  #opRows(field: string, op: string, operand: unknown, max: number): Int32Array | undefined {
    switch (op) {
      case '$eq':
        return this.#eqRows(field, operand as Primitive, max);
      case '$in': {
        let out: Int32Array = new Int32Array(0);
        for (const v of new Set(operand as Primitive[])) {
          const rows = this.#eqRows(field, v, max);
          if (!rows) return undefined;
          out = unionSorted(out, rows);
          if (out.length > max) return undefined;
        }
        return out;
      }
      case '$gt':
        return this.#rangeRows(field, operand as number, false, Infinity, true, max);
      case '$gte':
        return this.#rangeRows(field, operand as number, true, Infinity, true, max);
      case '$lt':
        return this.#rangeRows(field, -Infinity, true, operand as number, false, max);
      case '$lte':
        return this.#rangeRows(field, -Infinity, true, operand as number, true, max);
      case '$exists': {
        const present = this.#fields.get(field)?.present ?? new Int32Array(0);
        return operand && present.length <= max ? present.slice() : undefined;
      }
      case '$ne':
      case '$nin':
        return undefined; // complements: the rows that have the field minus a set
      default:
        throw new Error(`unvalidated filter operator ${op}`);
    }
  }

  #eqRows(field: string, value: Primitive, max: number): Int32Array | undefined {
    if (typeof value === 'number') return this.#rangeRows(field, value, true, value, true, max);
    const posting = this.#fields.get(field)?.postings.get(postingKey(value));
    if (!posting) return new Int32Array(0);
    return posting.length <= max ? posting.slice() : undefined;
  }

  #rangeRows(field: string, lo: number, loIncl: boolean, hi: number, hiIncl: boolean, max: number): Int32Array | undefined {
    const col = this.#fields.get(field);
    if (!col) return new Int32Array(0);
    const [start, end] = rangeBounds(col.numbers, lo, loIncl, hi, hiIncl);
    if (end - start > max) return undefined;
    const rows = col.numberRows.slice(start, end);
    // One value's rows are already ascending (the column is sorted by value, then row).
    if (!col.multiNumber && (rows.length === 0 || col.numbers[start] === col.numbers[end - 1])) return rows;
    return sortUnique(rows);
  }
}

/** An estimate of a posting key's cost in a Map beside its number (key string, entry). */
const POSTING_KEY_BYTES = 64;

/** A zeroed array of `size` codes from 0 to `largest`, as narrow as they allow. */
function codeArray(size: number, largest: number): NumberCodes {
  return largest < 2 ** 8 ? new Uint8Array(size) : largest < 2 ** 16 ? new Uint16Array(size) : new Uint32Array(size);
}

/**
 * Per row, its number's place among the column's distinct numbers, from 1 (0: the row holds
 * none); as small an array as the distinct count allows, so that tests of scattered rows stay in
 * the CPU's caches (a 0–99 field over a million rows: 1 MB instead of 4).
 */
function numberCodesOf(size: number, numbers: Float64Array, numberRows: Int32Array): NumberCodes {
  let distinct = 0;
  for (let i = 0; i < numbers.length; i++) if (i === 0 || numbers[i] !== numbers[i - 1]) distinct++;
  const codes = codeArray(size, distinct);
  let code = 0;
  for (let i = 0; i < numbers.length; i++) {
    if (i === 0 || numbers[i] !== numbers[i - 1]) code++;
    codes[numberRows[i]!] = code;
  }
  return codes;
}

/**
 * Numbers the column's postings from 1 (0: a row in none; arrays sized as for numbers); null when
 * a row is in two of them (then no one code per row).
 */
function codesOfPostings(size: number, col: FieldColumn): ValueCodes | null {
  const keys = [...col.postings.entries()];
  const codes = codeArray(size, keys.length);
  const byKey = new Map<string, number>();
  for (const [key, rows] of keys) {
    const code = byKey.size + 1;
    byKey.set(key, code);
    for (let i = 0; i < rows.length; i++) {
      if (codes[rows[i]!] !== 0) return null;
      codes[rows[i]!] = code;
    }
  }
  return { codes, byKey };
}
