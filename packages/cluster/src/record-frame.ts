import { InvalidArgumentError } from '@conifer/core';
import type { RecordInput } from '@conifer/engine';

/**
 * An upsert's records as a gateway sends them to the owning writer: the dense values of every
 * record as one block of float32 (little-endian, as the engine stores them), everything else as a
 * small JSON header. The gateway has parsed and validated the client's body; the writer only
 * reads this frame back, without parsing a digit — which keeps the writer, the one node a
 * namespace's writes cannot be spread over, doing only the write itself.
 *
 *   u32 header length H | H bytes of JSON header | zero padding to a multiple of 4 | float32 values
 *
 * The header is an array with one entry per record: its id, how many floats of the block are its
 * dense values, and its sparse values and metadata when it has them (numbers there read back as
 * JSON reads them, so a -0 among sparse values arrives as 0, the same value to every score).
 */
interface FrameEntry {
  i: string;
  n: number;
  s?: RecordInput['sparseValues'];
  m?: RecordInput['metadata'];
}

const LENGTH_BYTES = 4;
const padTo4 = (n: number): number => (n + 3) & ~3;
const frameError = (what: string): InvalidArgumentError => new InvalidArgumentError(`record frame: ${what}`);

/** The frame of `records`, in chunks to write as they are (the header, then the values). */
export function encodeRecordFrame(records: readonly RecordInput[]): Uint8Array[] {
  let floats = 0;
  const entries = records.map((r): FrameEntry => {
    floats += r.values.length;
    const entry: FrameEntry = { i: r.id, n: r.values.length };
    if (r.sparseValues) entry.s = r.sparseValues;
    if (r.metadata) entry.m = r.metadata;
    return entry;
  });
  const json = Buffer.from(JSON.stringify(entries), 'utf8');
  const head = Buffer.alloc(padTo4(LENGTH_BYTES + json.length));
  head.writeUInt32LE(json.length, 0);
  json.copy(head, LENGTH_BYTES);
  return [head, contiguousValues(records, floats) ?? copiedValues(records, floats)];
}

/**
 * The records' values as they already lie, when they are consecutive views of one buffer (a body
 * read straight into float32 is): the block is then sent without a copy.
 */
function contiguousValues(records: readonly RecordInput[], floats: number): Uint8Array | undefined {
  const first = records[0]?.values;
  if (!(first instanceof Float32Array)) return undefined;
  let at = first.byteOffset;
  for (const r of records) {
    if (!(r.values instanceof Float32Array) || r.values.buffer !== first.buffer || r.values.byteOffset !== at) return undefined;
    at += r.values.byteLength;
  }
  return new Uint8Array(first.buffer, first.byteOffset, floats * 4);
}

function copiedValues(records: readonly RecordInput[], floats: number): Uint8Array {
  const values = new Float32Array(floats);
  let at = 0;
  for (const r of records) {
    values.set(r.values, at);
    at += r.values.length;
  }
  return new Uint8Array(values.buffer);
}

/**
 * The records of a frame; each record's values are a view into one copy of the block. Anything
 * that is not a whole frame is an InvalidArgumentError (a 400 on the internal endpoint).
 */
export function decodeRecordFrame(bytes: Uint8Array): RecordInput[] {
  if (bytes.length < LENGTH_BYTES) throw frameError(`${bytes.length} bytes is shorter than its header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(0, true);
  const valuesAt = padTo4(LENGTH_BYTES + headerLength);
  if (valuesAt > bytes.length) throw frameError(`header of ${headerLength} bytes runs past the frame's ${bytes.length}`);
  if ((bytes.length - valuesAt) % 4 !== 0) throw frameError(`the values block is not whole float32s (${bytes.length - valuesAt} bytes)`);
  let entries: unknown;
  try {
    entries = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + LENGTH_BYTES, headerLength).toString('utf8'));
  } catch {
    throw frameError('the header is not JSON');
  }
  if (!Array.isArray(entries)) throw frameError('the header is not an array of records');
  // One aligned copy of the block: the frame's bytes can sit at any offset of the request's buffer
  // (Uint8Array's slice copies; a Buffer's own slice would be a view into a pooled buffer).
  const values = new Float32Array(Uint8Array.prototype.slice.call(bytes, valuesAt).buffer);
  const records: RecordInput[] = [];
  let at = 0;
  for (const entry of entries as FrameEntry[]) {
    if (typeof entry?.i !== 'string' || !Number.isInteger(entry.n) || entry.n < 0 || at + entry.n > values.length)
      throw frameError(`record ${records.length} is malformed`);
    const record: RecordInput = { id: entry.i, values: values.subarray(at, at + entry.n) };
    if (entry.s !== undefined) record.sparseValues = entry.s;
    if (entry.m !== undefined) record.metadata = entry.m;
    records.push(record);
    at += entry.n;
  }
  if (at !== values.length) throw frameError(`${values.length - at} floats belong to no record`);
  return records;
}
