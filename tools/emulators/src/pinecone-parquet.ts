import { parquetWriteBuffer } from 'hyparquet-writer';

type SchemaElement = NonNullable<Parameters<typeof parquetWriteBuffer>[0]['schema']>[number];

/** Rows of a Parquet file in Pinecone's import layout. */
export interface PineconeParquetRows {
  ids: string[];
  values: number[][];
  /** Each record's metadata as a JSON string; absent: no `metadata` column. */
  metadata?: string[];
}

/**
 * A Parquet file in the layout Pinecone's bulk import reads (and Conifer's): `id` (UTF-8),
 * `values` (list of float) and, when given, `metadata` (a JSON string), in row groups of
 * `rowGroupSize` rows. For tests and benchmarks of `/bulk/imports`.
 */
export function pineconeParquet(rows: PineconeParquetRows, rowGroupSize = 500): Uint8Array {
  const schema: SchemaElement[] = [
    { name: 'root', num_children: rows.metadata === undefined ? 2 : 3 },
    { name: 'id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
    { name: 'values', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
    { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
    { name: 'element', type: 'FLOAT', repetition_type: 'REQUIRED' },
    ...(rows.metadata === undefined ? [] : [{ name: 'metadata', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' } as SchemaElement]),
  ];
  const columnData = [
    { name: 'id', data: rows.ids },
    { name: 'values', data: rows.values },
    ...(rows.metadata === undefined ? [] : [{ name: 'metadata', data: rows.metadata }]),
  ];
  return new Uint8Array(parquetWriteBuffer({ columnData, schema, rowGroupSize }));
}
