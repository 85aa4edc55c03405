import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { RecordToUpsert } from '@conifer/sdk';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';

/** One record of an input file, or why its line (row, for Parquet; 1-based) is not one. */
export type SourceItem = { line: number; record: RecordToUpsert } | { line: number; error: string };

export type RecordsFormat = 'jsonl' | 'parquet';

/** A file of records to upsert, with how far reading has gone (for a progress bar). */
export interface RecordsSource {
  items: AsyncIterable<SourceItem>;
  /** Lines (JSONL: bytes) in the whole file, when known. */
  total: number;
  /** How much of `total` has been read. */
  done(): number;
  unit: 'bytes' | 'rows';
}

export function formatOf(path: string, format: string | undefined): RecordsFormat {
  if (format === 'jsonl' || format === 'parquet') return format;
  if (format !== undefined) throw new Error(`--format must be jsonl or parquet (got ${format})`);
  return /\.parquet$/i.test(path) ? 'parquet' : 'jsonl';
}

export async function openRecords(path: string, format: RecordsFormat): Promise<RecordsSource> {
  return format === 'parquet' ? openParquet(path) : openJsonl(path);
}

const isNumberList = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x));

/**
 * A record from a parsed line: `id`, `values`, `sparseValues` (or Pinecone's `sparse_values`) and
 * `metadata` (an object, or a JSON string as in Pinecone's Parquet import files). Only the shape is
 * checked here; the server checks the rest (dimension, limits) and names the field.
 */
export function recordFrom(value: unknown): RecordToUpsert | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const raw = value as Record<string, unknown>;
  if (typeof raw.id !== 'string' || raw.id === '') return 'id must be a non-empty string';
  const values = toNumbers(raw.values);
  if (raw.values !== undefined && raw.values !== null && values === undefined) return 'values must be a list of numbers';
  const record: RecordToUpsert = { id: raw.id, values: values ?? [] };
  const sparseRaw = raw.sparseValues ?? raw.sparse_values;
  if (sparseRaw !== undefined && sparseRaw !== null) {
    const sparse = sparseRaw as { indices?: unknown; values?: unknown };
    const indices = toNumbers(sparse.indices);
    const sparseValues = toNumbers(sparse.values);
    if (!indices || !sparseValues) return 'sparse_values must have lists of numbers "indices" and "values"';
    record.sparseValues = { indices, values: sparseValues };
  }
  let metadata = raw.metadata;
  if (typeof metadata === 'string') {
    try {
      metadata = JSON.parse(metadata);
    } catch {
      return 'metadata is a string that is not JSON';
    }
  }
  if (metadata !== undefined && metadata !== null) {
    if (typeof metadata !== 'object' || Array.isArray(metadata)) return 'metadata must be an object';
    record.metadata = metadata as NonNullable<RecordToUpsert['metadata']>;
  }
  return record;
}

/** Numbers from a JSON list or a Parquet list (typed arrays, int64 as bigint). */
function toNumbers(value: unknown): number[] | undefined {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) value = Array.from(value as unknown as ArrayLike<number | bigint>);
  if (!Array.isArray(value)) return undefined;
  const numbers = value.map((x) => (typeof x === 'bigint' ? Number(x) : x));
  return isNumberList(numbers) ? numbers : undefined;
}

async function openJsonl(path: string): Promise<RecordsSource> {
  const { size } = await stat(path);
  const stream = createReadStream(path);
  async function* items(): AsyncGenerator<SourceItem> {
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    let line = 0;
    try {
      for await (const text of lines) {
        line++;
        if (text.trim() === '') continue;
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch (error) {
          yield { line, error: `not valid JSON (${(error as Error).message})` };
          continue;
        }
        const record = recordFrom(value);
        yield typeof record === 'string' ? { line, error: record } : { line, record };
      }
    } finally {
      lines.close();
      stream.destroy();
    }
  }
  return { items: items(), total: size, done: () => stream.bytesRead, unit: 'bytes' };
}

/** Rows are read a few thousand at a time: a large file is never held in memory whole. */
const PARQUET_CHUNK_ROWS = 4096;

async function openParquet(path: string): Promise<RecordsSource> {
  const file = await asyncBufferFromFile(path);
  let metadata: Awaited<ReturnType<typeof parquetMetadataAsync>>;
  try {
    metadata = await parquetMetadataAsync(file);
  } catch (error) {
    throw new Error(`${path} is not a readable Parquet file (${(error as Error).message})`);
  }
  const total = Number(metadata.num_rows);
  let done = 0;
  async function* items(): AsyncGenerator<SourceItem> {
    for (let start = 0; start < total; start += PARQUET_CHUNK_ROWS) {
      const rowEnd = Math.min(total, start + PARQUET_CHUNK_ROWS);
      const rows = await parquetReadObjects({ file, metadata, rowStart: start, rowEnd });
      for (const [i, row] of rows.entries()) {
        const line = start + i + 1;
        const record = recordFrom(row);
        done = line;
        yield typeof record === 'string' ? { line, error: record } : { line, record };
      }
    }
  }
  return { items: items(), total, done: () => done, unit: 'rows' };
}
