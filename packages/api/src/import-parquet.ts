import { DEFAULT_NAMESPACE_ALIAS, metadataSchema, namespaceSchema, recordIdSchema, sparseValuesSchema, type Metadata } from '@conifer/core';
import type { IndexHandle, RecordInput } from '@conifer/engine';
import { listAll, type ObjectStore } from '@conifer/storage';
import { parquetMetadataAsync, parquetReadObjects, parquetSchema, type AsyncBuffer, type FileMetaData, type SchemaTree } from 'hyparquet';

/**
 * Pinecone's bulk-import layout, read through an object store rooted at the import URI:
 * `<namespace>/…/*.parquet`, one directory per namespace (`__default__` is the default one), every
 * other file ignored. Columns: `id` (string), `values` (list<float>), optional `sparse_values`
 * (struct {indices: list<uint32>, values: list<float>}) and optional `metadata` (a JSON string).
 *
 * Files are read with ranged reads (`getRange`), one row group at a time: memory holds the footer
 * and one row group of one file, never a whole file.
 */

/** One Parquet file of an import. */
export interface ImportFile {
  key: string;
  size: number;
}

/** The files of one namespace of an import. */
export interface ImportNamespace {
  /** "" for the default namespace (`__default__/`). */
  namespace: string;
  /** The directory as the import names it (errors quote it). */
  dir: string;
  files: ImportFile[];
}

/** A row or file the import could not take, and where. */
export class ImportRowError extends Error {
  override name = 'ImportRowError';
}

/** Namespaces at most per import, as Pinecone. */
export const MAX_IMPORT_NAMESPACES = 100;

/** The namespaces and Parquet files under the store's root, namespaces sorted by directory name. */
export async function scanImport(store: ObjectStore): Promise<ImportNamespace[]> {
  const byDir = new Map<string, ImportFile[]>();
  for await (const meta of listAll(store, '')) {
    const slash = meta.key.indexOf('/');
    if (slash <= 0 || !meta.key.toLowerCase().endsWith('.parquet')) continue;
    const dir = meta.key.slice(0, slash);
    let files = byDir.get(dir);
    if (!files) byDir.set(dir, (files = []));
    files.push({ key: meta.key, size: meta.size });
  }
  const out: ImportNamespace[] = [];
  for (const dir of [...byDir.keys()].sort()) {
    const name = dir === DEFAULT_NAMESPACE_ALIAS ? '' : dir;
    const parsed = namespaceSchema.safeParse(name);
    if (!parsed.success) throw new ImportRowError(`directory ${dir}/: not a valid namespace name (${parsed.error.issues[0]?.message ?? 'invalid'})`);
    out.push({ namespace: parsed.data, dir, files: byDir.get(dir)!.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)) });
  }
  if (out.length > MAX_IMPORT_NAMESPACES) throw new ImportRowError(`the import holds ${out.length} namespaces; at most ${MAX_IMPORT_NAMESPACES} are allowed`);
  return out;
}

/** The object as hyparquet reads it: every slice is a ranged read. */
export function asyncBufferOf(store: ObjectStore, file: ImportFile): AsyncBuffer {
  return {
    byteLength: file.size,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const bytes = await store.getRange(file.key, start, end ?? file.size);
      if (!bytes) throw new ImportRowError(`${file.key}: the file disappeared while it was read`);
      return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer
        ? bytes.buffer
        : (bytes.slice().buffer as ArrayBuffer);
    },
  };
}

const FLOATS = new Set(['FLOAT', 'DOUBLE']);
const INTEGERS = new Set(['INT32', 'INT64']);

function leaves(node: SchemaTree): SchemaTree[] {
  return node.children.length === 0 ? [node] : node.children.flatMap(leaves);
}

/**
 * The columns of a file to read; throws naming the file when its schema does not fit the import.
 * A sparse index's files need `sparse_values` and may leave `values` out.
 */
export function checkSchema(key: string, metadata: FileMetaData, sparseIndex = false): string[] {
  const root = parquetSchema(metadata);
  const columns = new Map(root.children.map((c) => [c.element.name, c]));
  const fail = (message: string): never => {
    throw new ImportRowError(`${key}: ${message}`);
  };
  const id = columns.get('id');
  if (!id) fail('missing the required column "id"');
  if (id!.children.length > 0 || id!.element.type !== 'BYTE_ARRAY') fail('column "id" must be a string (BYTE_ARRAY/UTF8)');
  const values = columns.get('values');
  const read = ['id'];
  if (!values && !sparseIndex) fail('missing the required column "values" (list<float>)');
  if (values) {
    const valueLeaves = leaves(values);
    if (values.children.length === 0 || valueLeaves.length !== 1 || !FLOATS.has(valueLeaves[0]!.element.type ?? '')) {
      fail('column "values" must be a list<float>');
    }
    read.push('values');
  }
  const sparse = columns.get('sparse_values');
  if (!sparse && sparseIndex) fail('missing the column "sparse_values" a sparse index requires (struct {indices: list<uint32>, values: list<float>})');
  if (sparse) {
    const names = new Map(sparse.children.map((c) => [c.element.name, leaves(c)]));
    const indices = names.get('indices');
    const sparseValues = names.get('values');
    if (!indices || !sparseValues || indices.length !== 1 || sparseValues.length !== 1) {
      fail('column "sparse_values" must be a struct {indices: list<uint32>, values: list<float>}');
    }
    if (!INTEGERS.has(indices![0]!.element.type ?? '')) fail('column "sparse_values.indices" must be a list of integers');
    if (!FLOATS.has(sparseValues![0]!.element.type ?? '')) fail('column "sparse_values.values" must be a list<float>');
    read.push('sparse_values');
  }
  const metadataColumn = columns.get('metadata');
  if (metadataColumn) {
    if (metadataColumn.children.length > 0 || metadataColumn.element.type !== 'BYTE_ARRAY') fail('column "metadata" must be a string (JSON)');
    read.push('metadata');
  }
  return read;
}

function numbersOf(value: unknown): ArrayLike<number> | undefined {
  if (value instanceof Float32Array || value instanceof Float64Array) return value;
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<number | bigint>, Number);
  if (!Array.isArray(value)) return undefined;
  for (let i = 0; i < value.length; i++) {
    const v: unknown = value[i];
    if (typeof v === 'bigint') return value.map((x) => Number(x));
    if (typeof v !== 'number') return undefined;
  }
  return value as number[];
}

function firstIssue(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  return issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ${issue.message}` : issue.message;
}

/** A row as a record, or a message saying why it is not one (the caller adds file and row). */
export function recordOfRow(index: IndexHandle, row: Record<string, unknown>): RecordInput | string {
  const id = recordIdSchema.safeParse(row['id']);
  if (!id.success) return `field "id": ${firstIssue(id.error)}`;
  const sparseIndex = index.vectorType === 'sparse';
  const values = row['values'] === undefined || row['values'] === null ? (sparseIndex ? [] : undefined) : numbersOf(row['values']);
  if (!values) return 'field "values": must be a list of floats';
  if (sparseIndex && values.length > 0) return `field "values": a sparse index stores no dense values; got ${values.length}`;
  if (values.length !== index.dimension) return `field "values": has ${values.length} dimensions, the index has ${index.dimension}`;
  const vector = new Float32Array(values.length);
  let nonZero = false;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v) || Math.abs(v) > 3.4028234663852886e38) return `field "values": element ${i} is not a finite float32`;
    vector[i] = v;
    if (v !== 0) nonZero = true;
  }
  if (!nonZero && index.metric === 'cosine' && !sparseIndex) return 'field "values": a cosine index cannot take an all-zero vector';
  const record: RecordInput = { id: id.data, values: vector };
  const rawSparse = row['sparse_values'];
  if (rawSparse !== undefined && rawSparse !== null) {
    const s = rawSparse as { indices?: unknown; values?: unknown };
    const indices = numbersOf(s.indices);
    const sv = numbersOf(s.values);
    const parsed = sparseValuesSchema.safeParse({ indices: indices ? Array.from(indices) : s.indices, values: sv ? Array.from(sv) : s.values });
    if (!parsed.success) return `field "sparse_values": ${firstIssue(parsed.error)}`;
    if (parsed.data.indices.length > 0) record.sparseValues = parsed.data;
  }
  if (sparseIndex && !record.sparseValues) return 'field "sparse_values": required on a sparse index, with at least one index and value';
  const rawMetadata = row['metadata'];
  if (rawMetadata !== undefined && rawMetadata !== null) {
    let metadata: unknown = rawMetadata;
    if (typeof rawMetadata === 'string') {
      try {
        metadata = JSON.parse(rawMetadata);
      } catch {
        return 'field "metadata": not valid JSON';
      }
    }
    if (metadata !== null) {
      const parsed = metadataSchema.safeParse(metadata);
      if (!parsed.success) return `field "metadata": ${firstIssue(parsed.error)}`;
      if (Object.keys(parsed.data).length > 0) record.metadata = parsed.data as Metadata;
    }
  }
  return record;
}

export interface ReadOptions {
  /** `continue`: bad rows and unreadable files are skipped and counted; `abort`: the first one throws. */
  onError: 'abort' | 'continue';
  /** Records per batch (one L0 slab each). */
  batchRecords: number;
  /** A skipped row or file (continue mode), with the message an abort would have thrown. */
  onSkip?(message: string, rows: number): void;
  /** After each row group, with the bytes of the file it stands for (progress). */
  onBytes?(bytes: number): void;
  signal?: AbortSignal | undefined;
}

/** The records of a namespace's files in batches of up to `batchRecords`. */
export async function* readNamespace(store: ObjectStore, index: IndexHandle, ns: ImportNamespace, options: ReadOptions): AsyncGenerator<RecordInput[]> {
  let batch: RecordInput[] = [];
  for (const file of ns.files) {
    for await (const records of readFile(store, index, file, options)) {
      for (const r of records) {
        batch.push(r);
        if (batch.length >= options.batchRecords) {
          yield batch;
          batch = [];
        }
      }
    }
  }
  if (batch.length > 0) yield batch;
}

/** One file's records, one row group at a time. */
async function* readFile(store: ObjectStore, index: IndexHandle, file: ImportFile, options: ReadOptions): AsyncGenerator<RecordInput[]> {
  const skipOrThrow = (message: string, rows: number) => {
    if (options.onError === 'abort') throw new ImportRowError(message);
    options.onSkip?.(message, rows);
  };
  let metadata: FileMetaData;
  let columns: string[];
  const buffer = asyncBufferOf(store, file);
  try {
    metadata = await parquetMetadataAsync(buffer);
    columns = checkSchema(file.key, metadata, index.vectorType === 'sparse');
  } catch (err) {
    const message =
      err instanceof ImportRowError ? err.message : `${file.key}: not a readable Parquet file (${err instanceof Error ? err.message : String(err)})`;
    skipOrThrow(message, 0);
    options.onBytes?.(file.size);
    return;
  }
  const totalRows = metadata.row_groups.reduce((n, g) => n + Number(g.num_rows), 0);
  let rowStart = 0;
  for (const group of metadata.row_groups) {
    if (options.signal?.aborted) return;
    const rows = Number(group.num_rows);
    const rowEnd = rowStart + rows;
    let objects: Record<string, unknown>[];
    try {
      objects = await parquetReadObjects({ file: buffer, metadata, columns, rowStart, rowEnd });
    } catch (err) {
      skipOrThrow(`${file.key}: rows ${rowStart + 1}–${rowEnd} could not be read (${err instanceof Error ? err.message : String(err)})`, rows);
      objects = [];
    }
    const records: RecordInput[] = [];
    for (let i = 0; i < objects.length; i++) {
      const record = recordOfRow(index, objects[i]!);
      if (typeof record === 'string') skipOrThrow(`${file.key}: row ${rowStart + i + 1}: ${record}`, 1);
      else records.push(record);
    }
    options.onBytes?.(totalRows > 0 ? (file.size * rows) / totalRows : file.size);
    rowStart = rowEnd;
    yield records;
  }
  if (metadata.row_groups.length === 0) options.onBytes?.(file.size);
}
