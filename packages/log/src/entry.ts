import type { Metadata, SparseF32 } from '@conifer/core';

/**
 * What the request log records. Every acknowledged write is exactly one entry with its own LSN.
 * `put` carries whole records (an upsert); `update` is a patch (of one or more ids) resolved when the entry is applied
 * in LSN order, so replay reproduces the same result; `delete` names ids; `deleteAll` hides every
 * record with a lower LSN in the namespace.
 */
export interface PutRecord {
  id: string;
  values: Float32Array;
  sparse?: SparseF32 | undefined;
  metadata?: Metadata | undefined;
}

export type LogOp =
  | { kind: 'put'; records: PutRecord[] }
  | {
      kind: 'update';
      /** Every id is patched the same way (an update by filter is resolved to ids first). */
      ids: string[];
      values?: Float32Array | undefined;
      sparse?: SparseF32 | undefined;
      setMetadata?: Metadata | undefined;
    }
  | { kind: 'delete'; ids: string[] }
  | { kind: 'deleteAll' };

export interface LogEntry {
  lsn: number;
  op: LogOp;
}
