import type { Metadata } from './metadata.ts';
import type { Metric, VectorType } from './metric.ts';

/** Shapes returned by the data plane, shared by server and SDK. */

/** Every read says which LSN of its namespace it reflects (REST: `x-pinecone-max-indexed-lsn`). */
export interface ReadReflects {
  /** Every write of the namespace at or below this LSN is visible to the read; later ones are not. */
  indexedLsn: number;
}
export interface SparseVector {
  indices: number[];
  values: number[];
}
export interface ScoredRecord {
  id: string;
  score: number;
  values?: number[];
  sparseValues?: SparseVector;
  metadata?: Metadata;
}
export interface QueryResult extends ReadReflects {
  matches: ScoredRecord[];
  namespace: string;
  usage: { readUnits: number };
}
export interface FetchedRecord {
  id: string;
  values: number[];
  sparseValues?: SparseVector;
  metadata?: Metadata;
}
export interface FetchResult extends ReadReflects {
  records: Record<string, FetchedRecord>;
  namespace: string;
  usage: { readUnits: number };
}
export interface FetchByMetadataResult extends ReadReflects {
  records: FetchedRecord[];
  namespace: string;
  /** Absent on the last page. */
  pagination?: { next: string };
  usage: { readUnits: number };
}
export interface ListResult extends ReadReflects {
  ids: string[];
  namespace: string;
  /** Absent on the last page. */
  pagination?: { next: string };
  usage: { readUnits: number };
}
export interface WriteResult {
  /** LSN the write was durably logged at. */
  lsn: number;
}
export interface UpsertResult extends WriteResult {
  upsertedCount: number;
}
export interface NamespaceStats {
  name: string;
  recordCount: number;
}
export interface IndexStats {
  /** 0 for a sparse index. */
  dimension: number;
  metric: Metric;
  vectorType: VectorType;
  totalRecordCount: number;
  /** Bytes the index occupies: its slabs in object storage plus its memtables (Conifer extension). */
  storageBytes: number;
  namespaces: Record<string, { recordCount: number }>;
}
export interface IndexDescription {
  name: string;
  /** 0 for a sparse index, which has no dimension. */
  dimension: number;
  metric: Metric;
  vectorType: VectorType;
  status: 'ready' | 'terminating';
  deletionProtection: 'enabled' | 'disabled';
  tags: Record<string, string>;
  createdAt: string;
}
