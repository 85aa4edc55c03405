import { isPlainValidMetadata, LIMITS, metadataSchema, namespaceSchema, type Metadata } from '@conifer/core';
import type { RecordInput } from '@conifer/engine';
import { readNumberArray } from '@conifer/faiss';

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
  const body = readUpsertBody(bytes);
  return body === undefined ? undefined : recordsOf(body);
}

/**
 * The fast reader's result before its records are built: every record's values in one
 * Float32Array, each row saying where. A parser thread sends it as is, the array's buffer
 * transferred (upsert-parser.ts).
 */
export interface ReadBody {
  namespace: string;
  floats: Float32Array;
  rows: Row[];
}

/**
 * A record as read: its id, where its values sit in the float buffer, its metadata, and the JSON
 * text that metadata was parsed from when it was taken as parsed (so parsing the text again gives
 * the same value: a parser thread sends the text, see {@link packReadBody}).
 */
export interface Row {
  id: string;
  start: number;
  end: number;
  metadata: Metadata | undefined;
  metadataText?: string | undefined;
}

/**
 * A read body as a parser thread sends it: the ids in one string, the rows' bounds in one array,
 * the metadata as one JSON array. Structured cloning the rows as a thousand objects each (and
 * their metadata objects) costs the event loop, which receives them, about five times as much as
 * splitting one string and parsing one JSON text.
 */
export interface PackedBody {
  namespace: string;
  floats: Float32Array;
  /** The ids, joined by newlines (an id the fast reader takes has no control characters). */
  ids: string;
  /** Each row's start and end in `floats`. */
  bounds: Int32Array;
  /** The rows' metadata (`null` for none) as one JSON array, when every row's came with its text. */
  metadataJson?: string | undefined;
  /** Otherwise the rows' metadata as values. */
  metadata?: (Metadata | undefined)[] | undefined;
}

const ID_SEPARATOR = '\n';

export function packReadBody({ namespace, floats, rows }: ReadBody): PackedBody {
  const bounds = new Int32Array(rows.length * 2);
  rows.forEach((r, i) => {
    bounds[2 * i] = r.start;
    bounds[2 * i + 1] = r.end;
  });
  const ids = rows.map((r) => r.id).join(ID_SEPARATOR);
  const texts = rows.every((r) => r.metadata === undefined || r.metadataText !== undefined);
  return texts
    ? { namespace, floats, ids, bounds, metadataJson: `[${rows.map((r) => r.metadataText ?? 'null').join(',')}]` }
    : { namespace, floats, ids, bounds, metadata: rows.map((r) => r.metadata) };
}

/** The records of a packed body, built straight from it (as {@link recordsOf} builds them from rows). */
export function recordsOfPacked({ namespace, floats, ids, bounds, metadataJson, metadata }: PackedBody): FastUpsert {
  // The bounds count the rows: no rows is an empty string, which splits into one empty id.
  const idList = bounds.length === 0 ? [] : ids.split(ID_SEPARATOR);
  const metadataList = metadataJson !== undefined ? (JSON.parse(metadataJson) as (Metadata | null)[]) : metadata!;
  return { namespace, records: idList.map((id, i) => recordOf(id, floats.subarray(bounds[2 * i]!, bounds[2 * i + 1]!), metadataList[i] ?? undefined)) };
}

/** What {@link fastUpsertOf} reads, as rows of one float buffer; undefined where it gives up. */
export function readUpsertBody(bytes: Uint8Array): ReadBody | undefined {
  const body = new Reader(bytes).body();
  return body === FAIL ? undefined : body;
}

/** The records of a read body, their values views of its one buffer. */
export function recordsOf({ namespace, floats, rows }: ReadBody): FastUpsert {
  return { namespace, records: rows.map((r) => recordOf(r.id, floats.subarray(r.start, r.end), r.metadata)) };
}

function recordOf(id: string, values: Float32Array, metadata: Metadata | undefined): RecordInput {
  return metadata === undefined ? { id, values } : { id, values, metadata };
}

/** The reader's scratch array of values (see Reader's constructor); grows, never shrinks. */
let scratch = new Float32Array(16);

const FAIL = Symbol('fail');
type Fail = typeof FAIL;

// Byte values of the JSON grammar.
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** The keys this reader knows; any other key sends the body down the general path. */
const KEYS = ['namespace', 'vectors', 'id', 'values', 'metadata'] as const;
type Key = (typeof KEYS)[number];
const [KEY_NAMESPACE, KEY_VECTORS, KEY_ID, KEY_VALUES, KEY_METADATA] = KEYS;
/** Each key with its bytes, by its length (no two share one), for the reader's key comparison. */
const KEY_BY_LENGTH: ({ key: Key; bytes: Uint8Array } | undefined)[] = [];
for (const key of KEYS) {
  if (KEY_BY_LENGTH[key.length]) throw new Error(`upsert reader: keys ${KEY_BY_LENGTH[key.length]!.key} and ${key} share a length`);
  KEY_BY_LENGTH[key.length] = { key, bytes: Buffer.from(key, 'latin1') };
}

class Reader {
  readonly #b: Uint8Array;
  readonly #text: Buffer;
  #i = 0;
  /** Every record's values, back to back, in the scratch array; grown by doubling. */
  #floats: Float32Array;
  readonly #read = { end: 0, count: 0 };
  #used = 0;

  constructor(bytes: Uint8Array) {
    this.#b = bytes;
    this.#text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // Values are read into a scratch array kept from one body to the next (one per thread: a
    // read never yields) and copied out at their exact length at the end, so a body allocates
    // what it holds, not a buffer sized for the worst case. Sized for a value of 8 bytes of JSON
    // or more (clients send float32 values in 9 to 20), so ordinary bodies never make it grow.
    const want = Math.max(16, bytes.length >> 3);
    if (scratch.length < want) scratch = new Float32Array(want);
    this.#floats = scratch;
  }

  body(): ReadBody | Fail {
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
    // The records' values (views, in recordsOf) are of this copy, never of the scratch array.
    return { namespace: namespace ?? '', floats: this.#floats.slice(0, this.#used), rows };
  }

  /**
   * A JSON object at the cursor, its members handed to `member` with the cursor on each value
   * (which `member` reads, or answers FAIL). An empty object fails: none is valid here.
   */
  #object(member: (key: Key) => void | Fail): void | Fail {
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
    let metadataText: string | undefined;
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
        ({ metadata, text: metadataText } = parsed);
      } else {
        return FAIL;
      }
    });
    if (read === FAIL || id === undefined || start < 0) return FAIL;
    return { id, start, end, metadata, metadataText };
  }

  /**
   * A record's metadata: the general parser on its bytes alone, then the schema's check — through
   * its shortcut for plain metadata (most records'), the schema itself otherwise.
   */
  #metadata(): { metadata: Metadata; text: string | undefined } | Fail {
    this.#skipWhitespaceTo();
    const from = this.#i;
    if (this.#skipValue() === FAIL) return FAIL;
    let value: unknown;
    const text = this.#text.toString('utf8', from, this.#i);
    try {
      value = JSON.parse(text);
    } catch {
      return FAIL;
    }
    if (isPlainValidMetadata(value)) return { metadata: value, text };
    // The schema's value may differ from the text's (it is what the general path stores).
    const parsed = metadataSchema.safeParse(value);
    return parsed.success ? { metadata: parsed.data, text: undefined } : FAIL;
  }

  /** An array of numbers, appended to the float buffer. */
  #numbers(): void | Fail {
    if (this.#skipWhitespaceTo() !== OPEN_BRACKET) return FAIL;
    // The digits are most of a request: they are read in native code, exactly as
    // Math.fround(JSON.parse(text)) would read them (packages/faiss, json_numbers.h).
    let outcome = readNumberArray(this.#b, this.#i, this.#floats, this.#used, this.#read);
    if (outcome === 'no-room') {
      this.#grow(this.#used + this.#read.count);
      outcome = readNumberArray(this.#b, this.#i, this.#floats, this.#used, this.#read);
    }
    // Not an array of JSON numbers, or a value not finite as a float32: the slow path says which.
    if (outcome !== 'ok') return FAIL;
    this.#used += this.#read.count;
    this.#i = this.#read.end;
  }

  #grow(atLeast: number): void {
    const bigger = new Float32Array(Math.max(atLeast, this.#floats.length * 2));
    bigger.set(this.#floats.subarray(0, this.#used));
    this.#floats = bigger;
    scratch = bigger;
  }

  /**
   * A key and its colon, when it is one of {@link KEYS} written plainly (no escapes), compared as
   * bytes: no string is made for the three keys of each of a thousand records.
   */
  #key(): Key | Fail {
    this.#skipWhitespaceTo();
    const b = this.#b;
    if (b[this.#i] !== QUOTE) return FAIL;
    const from = this.#i + 1;
    const close = b.indexOf(QUOTE, from);
    const known = close < 0 ? undefined : KEY_BY_LENGTH[close - from];
    if (known === undefined) return FAIL;
    const bytes = known.bytes;
    for (let j = 0; j < bytes.length; j++) if (b[from + j] !== bytes[j]) return FAIL;
    this.#i = close + 1;
    if (this.#skipWhitespaceTo() !== COLON) return FAIL;
    this.#i++;
    this.#skipWhitespaceTo();
    return known.key;
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
