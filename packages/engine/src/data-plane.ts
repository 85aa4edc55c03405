import type { FetchedRecord, Filter, Metadata, Metric, ScoredRecord, UpsertResult, VectorType, WriteResult } from '@conifer/core';

/**
 * The data plane as the API layer sees it. Every call names the index (by the handle the control
 * plane resolved) and one namespace ("" is the default). Inputs are already validated by the zod
 * schemas of `@conifer/core` except what needs the index: the dimension (checked here, 400 on
 * mismatch), sparse vectors on non-dotproduct queries (400), and the existence of records (`query`
 * by id of a missing record returns no matches, as Pinecone does).
 *
 * Writes resolve only after the write is durable in the request log; a read issued after that
 * on this node sees it.
 */
export interface IndexHandle {
  /** Stable id from the control plane; the storage prefix. */
  id: string;
  /** 0 for a sparse-only index. */
  dimension: number;
  metric: Metric;
  /** Omitted means dense. */
  vectorType?: VectorType | undefined;
}

/** A sparse vector on the wire: unique uint32 indices (any order) and values. */
export interface SparseInput {
  indices: number[];
  values: number[];
}

export interface RecordInput {
  id: string;
  values: number[] | Float32Array;
  sparseValues?: SparseInput | undefined;
  metadata?: Metadata | undefined;
}

export interface QueryInput {
  topK: number;
  vector?: number[] | Float32Array | undefined;
  /** Sparse part of a hybrid query; dotproduct indexes only (InvalidArgumentError otherwise). */
  sparseVector?: SparseInput | undefined;
  id?: string | undefined;
  filter?: Filter | undefined;
  includeValues?: boolean | undefined;
  includeMetadata?: boolean | undefined;
  /** recall@10 this query should reach over the namespace (speed/recall knob); default 0.95. */
  recallTarget?: number | undefined;
}

/** Exactly one of `id` and `filter`; at least one of values, sparseValues, setMetadata. */
export interface UpdateInput {
  id?: string | undefined;
  /** Update every record that matches (resolved to ids when the request is accepted). */
  filter?: Filter | undefined;
  values?: number[] | Float32Array | undefined;
  sparseValues?: SparseInput | undefined;
  setMetadata?: Metadata | undefined;
}

export interface FetchByMetadataInput {
  filter: Filter;
  limit: number;
  /** Start after this id (the `next` of the previous page). */
  after?: string | undefined;
}

export interface DeleteInput {
  ids?: string[] | undefined;
  deleteAll?: boolean | undefined;
  filter?: Filter | undefined;
}

export interface ListInput {
  prefix?: string | undefined;
  limit: number;
  /** Start after this id (the `next` of the previous page). */
  after?: string | undefined;
}

/**
 * How fresh a read must be. A node answers from the state it holds: a writer, everything it
 * acknowledged; a query replica, what it has read from the store so far (refreshed in the
 * background).
 */
export interface ReadOptions {
  /** `eventual` (default): the node's state as it is; `strong`: refreshed from the store first. */
  consistency?: 'eventual' | 'strong' | undefined;
  /** Answer only once the state reflects this LSN (a write's `lsn`), or fail with 503 after a timeout. */
  minLsn?: number | undefined;
}

/** Every read says which LSN of its namespace it reflects (`x-pinecone-max-indexed-lsn`). */
export interface Reflects {
  /** Every write at or below this LSN is visible to the read; later ones are not. */
  indexedLsn: number;
}

/**
 * What a query found. The API layer shapes it for the wire (namespace, `usage`); the namespace's
 * size is here because a query is priced on it, and the engine has it at hand for free.
 */
export interface QueryMatches extends Reflects {
  /** Best first. */
  matches: ScoredRecord[];
  /** Bytes of the namespace the query ran over: its memtables plus the slabs of its manifest. */
  namespaceBytes: number;
}

export interface FetchedRecords extends Reflects {
  /** The records found, by id; missing ids are absent. */
  records: Record<string, FetchedRecord>;
}

/** One page of ids in order. */
export interface IdPage extends Reflects {
  ids: string[];
  /** The last id of this page when more follow: the `after` of the next page. Absent on the last page. */
  next?: string;
}

/** One page of records in id order. */
export interface RecordPage extends Reflects {
  records: FetchedRecord[];
  /** The last id of this page when more follow: the `after` of the next page. Absent on the last page. */
  next?: string;
}

export interface UpdateResult extends WriteResult {
  /** How many records existed and were changed (0 when there was no such record). */
  matchedRecords: number;
}
export interface DeleteResult extends WriteResult {
  deletedCount?: number;
}

export interface NamespaceSummary {
  name: string;
  recordCount: number;
}

export interface NamespaceInternals {
  name: string;
  /** Highest LSN durably logged. */
  writtenLsn: number;
  /** Highest LSN contained in slabs referenced by the current manifest. */
  flushedLsn: number;
  manifestVersion: number;
  /** Writer epoch of that manifest: how many times the namespace changed owner (a takeover raises it). */
  writerEpoch: number;
  /** Whether this node owns the namespace (took it over and was not fenced since). */
  owner: boolean;
  memtable: {
    records: number;
    bytes: number;
    /** Dense rows put into groups of the namespace's IVF lists: queries scan them by group, not all exactly. */
    grouped: number;
  };
  slabs: {
    id: string;
    level: number;
    records: number;
    bytes: number;
    minLsn: number;
    maxLsn: number;
    /** "flat" (exact scan) or the faiss factory string of the slab's ANN index. */
    index: string;
    /** ANN slabs: recall@10 measured at build time per knob value. */
    calibration?: { param: string; points: { value: number; recall: number }[] };
  }[];
  compactions: number;
  flushes: number;
  /**
   * A compaction is running, or one is due (a merge the policy plans, or a flat slab to index once
   * the namespace is quiet): the namespace has not settled. Known on the namespace's writer only.
   */
  compactionDue?: boolean;
  /**
   * The node's slab cache (object stores over a network), shared by every namespace; absent when
   * slabs are read straight from local disk.
   */
  slabCache?: { hits: number; misses: number; hitRate: number; bytesFromStore: number; memoryBytes: number; diskBytes: number };
}

export interface DataPlane {
  upsert(index: IndexHandle, namespace: string, records: RecordInput[]): Promise<UpsertResult>;
  query(index: IndexHandle, namespace: string, query: QueryInput, read?: ReadOptions): Promise<QueryMatches>;
  fetch(index: IndexHandle, namespace: string, ids: string[], read?: ReadOptions): Promise<FetchedRecords>;
  update(index: IndexHandle, namespace: string, update: UpdateInput): Promise<UpdateResult>;
  delete(index: IndexHandle, namespace: string, del: DeleteInput): Promise<DeleteResult>;
  /** Ids in order, one page at a time. */
  list(index: IndexHandle, namespace: string, list: ListInput, read?: ReadOptions): Promise<IdPage>;
  /** Records whose metadata matches, in id order, one page at a time. */
  fetchByMetadata(index: IndexHandle, namespace: string, input: FetchByMetadataInput, read?: ReadOptions): Promise<RecordPage>;
  /** Creates an empty namespace. AlreadyExistsError when it exists. */
  createNamespace(index: IndexHandle, namespace: string): Promise<void>;
  /** Record count of one namespace. NotFoundError when it was never created or written. */
  namespaceStats(index: IndexHandle, namespace: string): Promise<NamespaceSummary>;
  /** Every namespace (created explicitly or by a write) with exact live counts. */
  listNamespaces(index: IndexHandle): Promise<NamespaceSummary[]>;
  /** Removes the namespace's records and its storage prefix. Unknown namespace → NotFoundError. */
  deleteNamespace(index: IndexHandle, namespace: string): Promise<void>;
  /** Removes all of an index's data (after the control plane has marked it deleted). */
  dropIndex(index: IndexHandle): Promise<void>;
  /** Engine state of one namespace, for operators and the console. */
  describeNamespace(index: IndexHandle, namespace: string): Promise<NamespaceInternals>;
  /** Flushes every memtable and stops background work; writes after close are rejected. */
  close(): Promise<void>;
}
