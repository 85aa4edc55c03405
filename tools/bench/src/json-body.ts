/**
 * JSON request bodies of the Pinecone REST API, built as strings straight from the dataset's
 * Float32Array (no intermediate objects), because at L (1M × 768) the client's encoding is a large
 * part of the work: the load generator shares the machine with the server.
 */
import type { Dataset } from './dataset.ts';

/**
 * A float32 as a JSON number that reads back as the same float32: integers as they are (pixel
 * values), anything else with 9 significant digits (always enough for float32, and one call:
 * searching for the shortest form costs several).
 */
export function float32Json(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toPrecision(9);
}

export function vectorJson(values: Float32Array): string {
  let out = '[';
  for (let i = 0; i < values.length; i++) out += (i === 0 ? '' : ',') + float32Json(values[i]!);
  return out + ']';
}

export function recordJson(id: string, values: Float32Array, bucket?: number): string {
  const metadata = bucket === undefined ? '' : `,"metadata":{"bucket":${bucket}}`;
  return `{"id":${JSON.stringify(id)},"values":${vectorJson(values)}${metadata}}`;
}

export interface UpsertBody {
  body: string;
  /** Rows [start, end) of the dataset. */
  start: number;
  end: number;
}

const HEAD = '{"vectors":[';
const TAIL = ']}';

/**
 * The next upsert request from row `start` on: as many rows (id = row number, metadata = bucket)
 * as fit in `maxBytes` and `maxRecords`, up to row `end`. Bodies are ASCII, so length = bytes.
 */
export function nextUpsertBody(ds: Dataset, start: number, end: number, limits: { maxBytes: number; maxRecords: number }): UpsertBody {
  let body = HEAD;
  let row = start;
  while (row < end && row - start < limits.maxRecords) {
    const record = recordJson(String(row), ds.vectors.subarray(row * ds.dimension, (row + 1) * ds.dimension), ds.buckets[row]);
    const grown = body.length + (row === start ? 0 : 1) + record.length + TAIL.length;
    if (grown > limits.maxBytes) {
      if (row === start) throw new Error(`record ${row} alone (${record.length} bytes) exceeds the ${limits.maxBytes}-byte request limit`);
      break;
    }
    body += (row === start ? '' : ',') + record;
    row++;
  }
  return { body: body + TAIL, start, end: row };
}
