import { LIMITS, metadataSchema, namespaceSchema, type Metadata } from '@conifer/core';
import type { RecordInput } from '@conifer/engine';

/**
 * An upsert body read straight from its bytes, for the shape nearly every body has: a top-level
 * object of `namespace` and `vectors`, records of `id`, `values` and optional `metadata`, ids of
 * plain ASCII. Vectors are parsed into one Float32Array, never into arrays of JS numbers: parsing a
 * large body with `JSON.parse` and checking it with the schema allocates several times the body's
 * size in short-lived objects, and that garbage collection was a large share of a writer's work.
 *
 * This reader never decides an error. On anything else — escapes, sparse values, unknown or
 * repeated keys, a value out of range, malformed JSON — it answers undefined and the caller reads
 * the body the general way (JSON.parse and the schema), which words every 400. When it does answer,
 * the request equals the general path's, with each value as that path would store it (as float32).
 */
export interface FastUpsert {
  namespace: string;
  records: RecordInput[];
}

export function fastUpsertOf(bytes: Uint8Array): FastUpsert | undefined {
  const reader = new Reader(bytes);
  const body = reader.body();
  return body === FAIL ? undefined : body;
}

const FAIL = Symbol('fail');
type Fail = typeof FAIL;

/** A record as read: its id, where its values sit in the float buffer, its metadata. */
interface Row {
  id: string;
  start: number;
  end: number;
  metadata: Metadata | undefined;
}

// Byte values of the JSON grammar.
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const LOWER_E = 0x65;
const UPPER_E = 0x45;

const KEY_NAMESPACE = 'namespace';
const KEY_VECTORS = 'vectors';
const KEY_ID = 'id';
const KEY_VALUES = 'values';
const KEY_METADATA = 'metadata';

/** 10^0 … 10^22: every one exact as a double, so one multiplication or division rounds once. */
const POW10 = Float64Array.from({ length: 23 }, (_, i) => 10 ** i);
/** Mantissas below 2^53 are exact doubles (2^53 itself may be 2^53 + 1 rounded). */
const EXACT_MANTISSA = 2 ** 53;
/** Significant digits kept; a longer number is parsed by the engine's own Number(). */
const MAX_DIGITS = 19;
/**
 * Relative error bound of a mantissa of up to MAX_DIGITS digits built in doubles and scaled once
 * (about ten roundings of 2^-53 each), with a margin of sixteen.
 */
const APPROX_ERROR = 2 ** -46;

class Reader {
  readonly #b: Uint8Array;
  readonly #text: Buffer;
  #i = 0;
  /** Every record's values, back to back; grown by doubling. */
  #floats: Float32Array;
  #used = 0;

  constructor(bytes: Uint8Array) {
    this.#b = bytes;
    this.#text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // Sized for numbers of about sixteen bytes with their commas (what clients send for float32
    // values), so a typical body fills it without growing or leaving much of it unused.
    this.#floats = new Float32Array(Math.max(16, bytes.length >> 4));
  }

  body(): FastUpsert | Fail {
    let namespace: string | undefined;
    let rows: Row[] | undefined;
    const read = this.#object((key) => {
      if (key === KEY_NAMESPACE && namespace === undefined) {
        const raw = this.#plainString(LIMITS.maxNamespaceLength);
        if (raw === FAIL) return FAIL;
        const parsed = namespaceSchema.safeParse(raw);
        if (!parsed.success) return FAIL;
        namespace = parsed.data;
      } else if (key === KEY_VECTORS && rows === undefined) {
        const records = this.#records();
        if (records === FAIL) return FAIL;
        rows = records;
      } else {
        return FAIL;
      }
    });
    if (read === FAIL || this.#skipWhitespaceTo() !== -1 || rows === undefined) return FAIL;
    // Views are taken once the buffer has stopped growing.
    const floats = this.#floats;
    const records: RecordInput[] = rows.map((r) => {
      const values = floats.subarray(r.start, r.end);
      return r.metadata === undefined ? { id: r.id, values } : { id: r.id, values, metadata: r.metadata };
    });
    return { namespace: namespace ?? '', records };
  }

  /**
   * A JSON object at the cursor, its members handed to `member` with the cursor on each value
   * (which `member` reads, or answers FAIL). An empty object fails: none is valid here.
   */
  #object(member: (key: string) => void | Fail): void | Fail {
    if (this.#skipWhitespaceTo() !== OPEN_BRACE) return FAIL;
    this.#i++;
    if (this.#skipWhitespaceTo() === CLOSE_BRACE) return FAIL;
    for (;;) {
      const key = this.#key();
      if (key === FAIL || member(key) === FAIL) return FAIL;
      const next = this.#skipWhitespaceTo();
      this.#i++;
      if (next === CLOSE_BRACE) return;
      if (next !== COMMA) return FAIL;
    }
  }

  #records(): Row[] | Fail {
    if (this.#skipWhitespaceTo() !== OPEN_BRACKET) return FAIL;
    this.#i++;
    const rows: Row[] = [];
    if (this.#skipWhitespaceTo() === CLOSE_BRACKET) return FAIL;
    for (;;) {
      if (rows.length === LIMITS.maxUpsertRecords) return FAIL;
      const row = this.#record();
      if (row === FAIL) return FAIL;
      rows.push(row);
      const next = this.#skipWhitespaceTo();
      this.#i++;
      if (next === CLOSE_BRACKET) return rows;
      if (next !== COMMA) return FAIL;
    }
  }

  #record(): Row | Fail {
    let id: string | undefined;
    let start = -1;
    let end = -1;
    let metadata: Metadata | undefined;
    const read = this.#object((key) => {
      if (key === KEY_ID && id === undefined) {
        // Ids are ASCII without NUL; JSON itself keeps raw control characters out of strings.
        const raw = this.#plainString(LIMITS.maxIdLength);
        if (raw === FAIL || raw.length < LIMITS.minIdLength) return FAIL;
        id = raw;
      } else if (key === KEY_VALUES && start < 0) {
        start = this.#used;
        if (this.#numbers() === FAIL) return FAIL;
        end = this.#used;
        const dimension = end - start;
        if (dimension < LIMITS.minDimension || dimension > LIMITS.maxDimension) return FAIL;
      } else if (key === KEY_METADATA && metadata === undefined) {
        const parsed = this.#metadata();
        if (parsed === FAIL) return FAIL;
        metadata = parsed;
      } else {
        return FAIL;
      }
    });
    if (read === FAIL || id === undefined || start < 0) return FAIL;
    return { id, start, end, metadata };
  }

  /** Metadata is rare on the hot path's scale: the general parser and the schema, on its bytes alone. */
  #metadata(): Metadata | Fail {
    this.#skipWhitespaceTo();
    const from = this.#i;
    if (this.#skipValue() === FAIL) return FAIL;
    let value: unknown;
    try {
      value = JSON.parse(this.#text.toString('utf8', from, this.#i));
    } catch {
      return FAIL;
    }
    const parsed = metadataSchema.safeParse(value);
    return parsed.success ? parsed.data : FAIL;
  }

  /** An array of numbers, appended to the float buffer. */
  #numbers(): void | Fail {
    if (this.#skipWhitespaceTo() !== OPEN_BRACKET) return FAIL;
    this.#i++;
    if (this.#skipWhitespaceTo() === CLOSE_BRACKET) {
      this.#i++;
      return;
    }
    const b = this.#b;
    for (;;) {
      if (IS_WHITESPACE[b[this.#i]!]) this.#skipWhitespaceTo();
      const value = this.#number();
      // Not a number (NaN is never a JSON value), or not finite once stored as float32.
      if (!Number.isFinite(value)) return FAIL;
      if (this.#used === this.#floats.length) this.#grow();
      this.#floats[this.#used++] = value;
      let next = b[this.#i];
      if (next !== COMMA && next !== CLOSE_BRACKET) next = this.#skipWhitespaceTo();
      this.#i++;
      if (next === CLOSE_BRACKET) return;
      if (next !== COMMA) return FAIL;
    }
  }

  #grow(): void {
    const bigger = new Float32Array(this.#floats.length * 2);
    bigger.set(this.#floats);
    this.#floats = bigger;
  }

  /**
   * A JSON number at the cursor, rounded to float32 exactly as Math.fround(JSON.parse(text)) would
   * be; NaN when the text is not a JSON number. Short mantissas with small exponents are exact
   * (one correctly rounded scaling, as in Clinger's fast path); longer ones are accepted only when
   * their error bound cannot reach a float32 rounding boundary; anything else goes to Number().
   */
  #number(): number {
    const b = this.#b;
    const from = this.#i;
    let i = from;
    const negative = b[i] === MINUS;
    if (negative) i++;
    // Digits gather in `part` (int32 arithmetic, up to nine of them) and move into the double
    // `mantissa` nine at a time: a chain of double multiply-adds per digit was the slow part.
    let mantissa = 0;
    let part = 0;
    let partDigits = 0;
    let digits = 0;
    let exponent = 0;
    let truncated = false;
    let d = b[i]! - ZERO; // NaN past the end
    if (d === 0) {
      d = b[++i]! - ZERO;
      if (d >= 0 && d <= 9) return NaN; // no leading zeros in JSON
    } else if (d >= 1 && d <= 9) {
      do {
        if (digits < MAX_DIGITS) {
          part = part * 10 + d;
          digits++;
          if (++partDigits === 9) {
            mantissa = mantissa * 1e9 + part;
            part = 0;
            partDigits = 0;
          }
        } else {
          exponent++;
          truncated = true;
        }
        d = b[++i]! - ZERO;
      } while (d >= 0 && d <= 9);
    } else {
      return NaN;
    }
    if (d === DOT - ZERO) {
      d = b[++i]! - ZERO;
      if (!(d >= 0 && d <= 9)) return NaN;
      // Zeros before the first significant digit only scale the number.
      if (digits === 0) {
        while (d === 0) {
          exponent--;
          d = b[++i]! - ZERO;
        }
      }
      while (d >= 0 && d <= 9) {
        if (digits < MAX_DIGITS) {
          part = part * 10 + d;
          digits++;
          exponent--;
          if (++partDigits === 9) {
            mantissa = mantissa * 1e9 + part;
            part = 0;
            partDigits = 0;
          }
        } else {
          truncated = true;
        }
        d = b[++i]! - ZERO;
      }
    }
    mantissa = mantissa * POW10[partDigits]! + part;
    if (d === LOWER_E - ZERO || d === UPPER_E - ZERO) {
      let c = b[++i];
      let sign = 1;
      if (c === MINUS || c === PLUS) {
        if (c === MINUS) sign = -1;
        c = b[++i];
      }
      if (c === undefined || c < ZERO || c > NINE) return NaN;
      let e = 0;
      do {
        if (e < 100_000) e = e * 10 + (c - ZERO);
        c = b[++i];
      } while (c !== undefined && c >= ZERO && c <= NINE);
      exponent += sign * e;
    }
    this.#i = i;
    let value: number;
    if (mantissa === 0) {
      value = 0;
    } else if (truncated || exponent < -22 || exponent > 22) {
      return Math.fround(Number(this.#text.toString('latin1', from, i)));
    } else {
      const scaled = exponent < 0 ? mantissa / POW10[-exponent]! : mantissa * POW10[exponent]!;
      if (mantissa < EXACT_MANTISSA) {
        value = Math.fround(scaled);
      } else {
        // The mantissa itself was rounded: accept only when no float32 boundary is within reach.
        const error = scaled * APPROX_ERROR;
        const low = Math.fround(scaled - error);
        if (low !== Math.fround(scaled + error)) return Math.fround(Number(this.#text.toString('latin1', from, i)));
        value = low;
      }
    }
    return negative ? -value : value;
  }

  /** A key and its colon; the key only when it is plain (no escapes). */
  #key(): string | Fail {
    this.#skipWhitespaceTo();
    const key = this.#plainString(64);
    if (key === FAIL || this.#skipWhitespaceTo() !== COLON) return FAIL;
    this.#i++;
    this.#skipWhitespaceTo();
    return key;
  }

  /** A string of ASCII from space to 0x7f, with no escapes, of at most `max` characters. */
  #plainString(max: number): string | Fail {
    const b = this.#b;
    if (b[this.#i] !== QUOTE) return FAIL;
    const from = ++this.#i;
    const limit = Math.min(b.length, from + max);
    let i = from;
    for (; i < limit; i++) {
      const c = b[i]!;
      if (c === QUOTE) break;
      if (c < 0x20 || c > 0x7f || c === BACKSLASH) return FAIL;
    }
    if (b[i] !== QUOTE) return FAIL;
    this.#i = i + 1;
    return this.#text.toString('latin1', from, i);
  }

  /** Past one JSON value of any kind, without building it; strings may hold escapes and UTF-8. */
  #skipValue(): void | Fail {
    const b = this.#b;
    let depth = 0;
    let i = this.#i;
    do {
      while (i < b.length && IS_WHITESPACE[b[i]!]) i++;
      const c = b[i];
      if (c === undefined) return FAIL;
      if (c === QUOTE) {
        for (i++; i < b.length && b[i] !== QUOTE; i++) if (b[i] === BACKSLASH) i++;
        if (i >= b.length) return FAIL;
        i++;
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        depth++;
        i++;
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (depth === 0) return FAIL;
        depth--;
        i++;
      } else if (c === COMMA || c === COLON) {
        if (depth === 0) return FAIL;
        i++;
      } else {
        // A number or a literal: its own bytes; JSON.parse of the slice checks them.
        while (i < b.length && !STRUCTURAL[b[i]!]) i++;
      }
    } while (depth > 0);
    this.#i = i;
  }

  /** The next byte that is not JSON whitespace (the cursor moves to it), or -1 at the end. */
  #skipWhitespaceTo(): number {
    const b = this.#b;
    let i = this.#i;
    while (i < b.length) {
      const c = b[i]!;
      if (!IS_WHITESPACE[c]) {
        this.#i = i;
        return c;
      }
      i++;
    }
    this.#i = i;
    return -1;
  }
}

/** JSON's four whitespace bytes. */
const IS_WHITESPACE = new Uint8Array(256);
for (const c of [0x20, 0x0a, 0x0d, 0x09]) IS_WHITESPACE[c] = 1;

/** Bytes that end a number or literal while skipping a value. */
const STRUCTURAL = IS_WHITESPACE.slice();
for (const c of [QUOTE, COMMA, COLON, OPEN_BRACE, CLOSE_BRACE, OPEN_BRACKET, CLOSE_BRACKET]) STRUCTURAL[c] = 1;
