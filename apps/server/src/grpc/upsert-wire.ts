import { endianness } from 'node:os';
import type { StructMessage, ValueMessage } from './struct.ts';
import type { UpsertMessage, VectorMessage } from './upsert.ts';

/** Decodes a `google.protobuf.Struct`'s bytes as the generic decoder does. */
export type StructDecoder = (bytes: Buffer) => StructMessage;

/** Wire types (protobuf encoding): a request's fields are length-delimited, flat metadata values also varints and doubles. */
const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;

/** Field numbers of `UpsertRequest` and `Vector` in db_data.proto. */
const UPSERT_VECTORS = 1;
const UPSERT_NAMESPACE = 2;
const VECTOR_ID = 1;
const VECTOR_VALUES = 2;
const VECTOR_METADATA = 3;

/** Where one `Vector`'s parts lie in the request's bytes. */
interface VectorSpan {
  id: string;
  valuesStart: number;
  valuesBytes: number;
  metadataStart: number;
  metadataEnd: number;
}

/**
 * Decodes a Struct's bytes with the generic decoder of whole requests (`decodeRequest`), as the one
 * vector's metadata of an `UpsertRequest` made around them, so metadata decodes exactly as in a
 * generically read request.
 */
export function genericStructDecoder(decodeRequest: (bytes: Buffer) => UpsertMessage): StructDecoder {
  const framed = (tag: number, body: Buffer) => Buffer.concat([Buffer.of(tag), varintBytes(body.length), body]);
  const vectorMetadata = (UPSERT_VECTORS << 3) | LENGTH_DELIMITED;
  const metadataField = (VECTOR_METADATA << 3) | LENGTH_DELIMITED;
  return (struct) => decodeRequest(framed(vectorMetadata, framed(metadataField, struct))).vectors![0]!.metadata ?? {};
}

/** A non-negative integer as a protobuf varint. */
function varintBytes(value: number): Buffer {
  const bytes: number[] = [];
  for (; value >= 0x80; value >>>= 7) bytes.push((value & 0x7f) | 0x80);
  bytes.push(value);
  return Buffer.from(bytes);
}

/** Packed float32 values can be copied as they are only on a little-endian machine. */
const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * Reads the usual `UpsertRequest` straight from its bytes: vectors of an ASCII id, packed float32
 * values and optional metadata, and an ASCII namespace. The values of all vectors are copied, as
 * the bytes they are, into one Float32Array that each vector views, so no value becomes a
 * JavaScript number on the way in (the generic decoder makes an array of numbers of each).
 *
 * Returns undefined for anything else — sparse values, unpacked values, a field given twice, an
 * unknown field, non-ASCII text, malformed bytes — and the caller decodes those generically, so
 * every request still means exactly what protobuf says it means.
 */
export function readUpsertRequest(bytes: Buffer, decodeStruct: StructDecoder): UpsertMessage | undefined {
  if (!LITTLE_ENDIAN) return undefined;
  const reader = new WireReader(bytes);
  const spans: VectorSpan[] = [];
  let namespace: string | undefined;
  let floatCount = 0;
  while (!reader.done()) {
    const field = reader.lengthDelimitedField();
    if (field === undefined) return undefined;
    if (field.number === UPSERT_VECTORS) {
      const span = readVector(bytes, field.start, field.end);
      if (span === undefined) return undefined;
      spans.push(span);
      floatCount += span.valuesBytes / 4;
    } else if (field.number === UPSERT_NAMESPACE && namespace === undefined) {
      namespace = asciiText(bytes, field.start, field.end);
      if (namespace === undefined) return undefined;
    } else {
      return undefined;
    }
  }
  if (spans.length === 0) return undefined;
  const floats = new Float32Array(floatCount);
  const floatBytes = Buffer.from(floats.buffer);
  const vectors: VectorMessage[] = new Array(spans.length);
  let at = 0;
  for (let v = 0; v < spans.length; v++) {
    const span = spans[v]!;
    bytes.copy(floatBytes, at * 4, span.valuesStart, span.valuesStart + span.valuesBytes);
    const count = span.valuesBytes / 4;
    const vector: VectorMessage = { id: span.id, values: floats.subarray(at, at + count) };
    if (span.metadataStart >= 0) {
      const metadata = metadataOf(decodeStruct, bytes.subarray(span.metadataStart, span.metadataEnd));
      if (metadata === undefined) return undefined;
      vector.metadata = metadata;
    }
    vectors[v] = vector;
    at += count;
  }
  return namespace === undefined ? { vectors } : { vectors, namespace };
}

/**
 * A vector's metadata: read here when it is flat (strings, numbers, booleans, nulls and lists of
 * them), by the generic decoder otherwise. Undefined when it is malformed: the generic decoder then
 * refuses the whole request, as it would have.
 */
function metadataOf(decodeStruct: StructDecoder, bytes: Buffer): StructMessage | undefined {
  const flat = readFlatStruct(bytes);
  if (flat !== undefined) return flat;
  try {
    return decodeStruct(bytes);
  } catch {
    return undefined;
  }
}

/** Field numbers and wire types of `google.protobuf.Struct`, its map entries, `Value` and `ListValue`. */
const STRUCT_FIELDS = 1;
const ENTRY_KEY = 1;
const ENTRY_VALUE = 2;
const LIST_VALUES = 1;
const VALUE_NULL = (1 << 3) | VARINT;
const VALUE_NUMBER = (2 << 3) | FIXED64;
const VALUE_STRING = (3 << 3) | LENGTH_DELIMITED;
const VALUE_BOOL = (4 << 3) | VARINT;
const VALUE_LIST = (6 << 3) | LENGTH_DELIMITED;

/** A Struct of flat values in the form the generic decoder gives; undefined for anything else. */
function readFlatStruct(bytes: Buffer): StructMessage | undefined {
  const reader = new WireReader(bytes);
  const fields: Record<string, ValueMessage> = {};
  while (!reader.done()) {
    const entry = reader.lengthDelimitedField();
    if (entry === undefined || entry.number !== STRUCT_FIELDS) return undefined;
    const inEntry = new WireReader(bytes, entry.start, entry.end);
    const keyField = inEntry.lengthDelimitedField();
    const valueField = inEntry.lengthDelimitedField();
    if (keyField?.number !== ENTRY_KEY || valueField?.number !== ENTRY_VALUE || !inEntry.done()) return undefined;
    const key = utf8Text(bytes, keyField.start, keyField.end);
    // A key given twice, or one an object cannot hold as it is, is the generic decoder's to read.
    if (key === undefined || key === '__proto__' || Object.hasOwn(fields, key)) return undefined;
    const value = readFlatValue(bytes, valueField.start, valueField.end, true);
    if (value === undefined) return undefined;
    fields[key] = value;
  }
  // An empty Struct decodes without its (empty) map.
  return Object.keys(fields).length === 0 ? {} : { fields };
}

/** One `Value` holding exactly one flat kind (or, when `listAllowed`, a list of them). */
function readFlatValue(bytes: Buffer, start: number, end: number, listAllowed: boolean): ValueMessage | undefined {
  const reader = new WireReader(bytes, start, end);
  const tag = reader.varint();
  let value: ValueMessage | undefined;
  if (tag === VALUE_NUMBER) {
    const number = reader.double();
    if (number !== undefined) value = { numberValue: number, kind: 'numberValue' };
  } else if (tag === VALUE_STRING) {
    const payload = reader.payload();
    const text = payload === undefined ? undefined : utf8Text(bytes, payload.start, payload.end);
    if (text !== undefined) value = { stringValue: text, kind: 'stringValue' };
  } else if (tag === VALUE_BOOL) {
    const flag = reader.varint();
    if (flag === 0 || flag === 1) value = { boolValue: flag === 1, kind: 'boolValue' };
  } else if (tag === VALUE_NULL) {
    if (reader.varint() === 0) value = { nullValue: 'NULL_VALUE', kind: 'nullValue' };
  } else if (tag === VALUE_LIST && listAllowed) {
    const payload = reader.payload();
    const list = payload === undefined ? undefined : readFlatList(bytes, payload.start, payload.end);
    if (list !== undefined) value = { listValue: list, kind: 'listValue' };
  }
  return reader.done() ? value : undefined;
}

/** A `ListValue` of flat values; an empty one has no `values`, as the generic decoder gives it. */
function readFlatList(bytes: Buffer, start: number, end: number): { values?: ValueMessage[] } | undefined {
  const reader = new WireReader(bytes, start, end);
  const values: ValueMessage[] = [];
  while (!reader.done()) {
    const item = reader.lengthDelimitedField();
    if (item === undefined || item.number !== LIST_VALUES) return undefined;
    const value = readFlatValue(bytes, item.start, item.end, false);
    if (value === undefined) return undefined;
    values.push(value);
  }
  return values.length === 0 ? {} : { values };
}

/**
 * UTF-8 text, when the bytes are valid UTF-8 without U+FFFD (decoders agree on those; any other
 * bytes are the generic decoder's to read).
 */
function utf8Text(bytes: Buffer, start: number, end: number): string | undefined {
  const text = bytes.toString('utf8', start, end);
  return text.includes('\uFFFD') ? undefined : text;
}

/** One `Vector` of id, packed values and optional metadata; undefined for any other shape. */
function readVector(bytes: Buffer, start: number, end: number): VectorSpan | undefined {
  const reader = new WireReader(bytes, start, end);
  let id: string | undefined;
  let valuesStart = -1;
  let valuesBytes = 0;
  let metadataStart = -1;
  let metadataEnd = -1;
  while (!reader.done()) {
    const field = reader.lengthDelimitedField();
    if (field === undefined) return undefined;
    if (field.number === VECTOR_ID && id === undefined) {
      id = asciiText(bytes, field.start, field.end);
      if (id === undefined) return undefined;
    } else if (field.number === VECTOR_VALUES && valuesStart < 0) {
      valuesStart = field.start;
      valuesBytes = field.end - field.start;
      if (valuesBytes % 4 !== 0) return undefined;
    } else if (field.number === VECTOR_METADATA && metadataStart < 0) {
      metadataStart = field.start;
      metadataEnd = field.end;
    } else {
      return undefined;
    }
  }
  if (id === undefined || valuesStart < 0) return undefined;
  return { id, valuesStart, valuesBytes, metadataStart, metadataEnd };
}

/** The bytes as text when all are printable ASCII or space (any UTF-8 decoder agrees on those). */
function asciiText(bytes: Buffer, start: number, end: number): string | undefined {
  for (let i = start; i < end; i++) {
    const byte = bytes[i]!;
    if (byte < 0x20 || byte > 0x7e) return undefined;
  }
  return bytes.toString('latin1', start, end);
}

/** Reads a message's fields in order. */
class WireReader {
  #bytes: Buffer;
  #at: number;
  #end: number;

  constructor(bytes: Buffer, start = 0, end = bytes.length) {
    this.#bytes = bytes;
    this.#at = start;
    this.#end = end;
  }

  done(): boolean {
    return this.#at >= this.#end;
  }

  /** A length-delimited field's payload, after its tag. */
  payload(): { start: number; end: number } | undefined {
    const length = this.varint();
    if (length === undefined || length > this.#end - this.#at) return undefined;
    const start = this.#at;
    this.#at += length;
    return { start, end: this.#at };
  }

  /** The next field's number and payload; undefined when it is not length-delimited or runs over. */
  lengthDelimitedField(): { number: number; start: number; end: number } | undefined {
    const tag = this.varint();
    if (tag === undefined || (tag & 7) !== LENGTH_DELIMITED) return undefined;
    const payload = this.payload();
    return payload === undefined ? undefined : { number: tag >>> 3, ...payload };
  }

  /** A little-endian double (wire type 1), after its tag. */
  double(): number | undefined {
    if (this.#end - this.#at < 8) return undefined;
    const value = this.#bytes.readDoubleLE(this.#at);
    this.#at += 8;
    return value;
  }

  /** A varint of up to 4 bytes (28 bits: every tag and length a request within the limit has). */
  varint(): number | undefined {
    let value = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (this.#at >= this.#end) return undefined;
      const byte = this.#bytes[this.#at++]!;
      value |= (byte & 0x7f) << shift;
      if (byte < 0x80) return value;
    }
    return undefined;
  }
}
