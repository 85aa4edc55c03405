import { InvalidArgumentError, type FetchedRecord } from '@conifer/core';
import { getRecord, listIds, loadFilterSections, locateRecord, matchingIds, searchSnapshot, slabRecord, type LiveRecord, type Snapshot } from '@conifer/router';
import type { FetchByMetadataInput, FetchedRecords, IdPage, IndexHandle, ListInput, QueryInput, QueryMatches, RecordPage } from './data-plane.ts';
import { isSparseIndex, requiredSparse, toFetched, toMatch, toSparse, toVector } from './records.ts';

/*
 * The reads of the data plane, each over one view of a namespace: a read runs against one
 * consistent LSN prefix however long it takes, and says which (`indexedLsn`). They return domain
 * results; the API layer shapes them for the wire (namespace, usage, pagination tokens). A writer's
 * engine and a query node's replicas both answer through them.
 */

/** What a read runs against: a snapshot, and the LSN every write of which it holds. */
export interface ReadView {
  snapshot: Snapshot;
  indexedLsn: number;
}

/**
 * Bytes of what a read sees: its memtables plus its slabs as stored — the namespace size a query
 * is priced on. A sum over a handful of layers, where the console's describe builds a row per slab.
 */
export function snapshotBytes(snapshot: Snapshot): number {
  let bytes = 0;
  for (const memtable of snapshot.memtables) bytes += memtable.bytes;
  for (const layer of snapshot.slabs) bytes += layer.reader.fileBytes;
  return bytes;
}

export async function queryView({ snapshot, indexedLsn }: ReadView, index: IndexHandle, query: QueryInput, exactBudget: number): Promise<QueryMatches> {
  const namespaceBytes = snapshotBytes(snapshot);
  const sparse = toSparse(query.sparseVector);
  if (!isSparseIndex(index) && query.id === undefined && query.vector === undefined) {
    throw InvalidArgumentError.at(['vector'], 'required: this index is dense (a sparse vector alone queries a sparse index)');
  }
  if (query.sparseVector && index.metric !== 'dotproduct') {
    throw InvalidArgumentError.at(['sparseVector'], `sparse (hybrid) queries need an index with metric dotproduct; this index uses ${index.metric}`);
  }
  let vector: Float32Array;
  let querySparse = sparse;
  if (query.id !== undefined) {
    // Querying by the id of a missing record finds nothing, as Pinecone answers it.
    const record = await getRecord(snapshot, query.id);
    if (!record) return { matches: [], namespaceBytes, indexedLsn };
    vector = record.values;
    // On a sparse index a record is its sparse vector: querying by id searches with it.
    if (isSparseIndex(index)) querySparse = record.sparse;
  } else if (isSparseIndex(index)) {
    vector = toVector(index, query.vector ?? [], ['vector']);
    querySparse = requiredSparse(query.sparseVector, ['sparseVector']);
  } else {
    vector = toVector(index, query.vector!, ['vector']);
  }
  if (isSparseIndex(index) && !querySparse) return { matches: [], namespaceBytes, indexedLsn };
  const hits = await searchSnapshot(snapshot, {
    metric: index.metric,
    vector,
    sparse: querySparse,
    topK: query.topK,
    exactBudget,
    recallTarget: query.recallTarget,
    filter: query.filter,
  });
  const include = { values: query.includeValues, metadata: query.includeMetadata };
  if (include.metadata) await Promise.all([...new Set(hits.map((hit) => hit.slab))].map((slab) => slab?.load('metadata')));
  return { matches: hits.map((hit) => toMatch(hit, include)), namespaceBytes, indexedLsn };
}

export async function fetchView({ snapshot, indexedLsn }: ReadView, ids: string[]): Promise<FetchedRecords> {
  const records = await readRecords(snapshot, ids);
  const found: [string, FetchedRecord][] = [];
  records.forEach((record, i) => {
    if (record) found.push([ids[i]!, toFetched(record)]);
  });
  // fromEntries defines own properties, so an id such as "__proto__" is kept like any other.
  return { records: Object.fromEntries(found), indexedLsn };
}

export function listView({ snapshot, indexedLsn }: ReadView, list: ListInput): IdPage {
  return { ...listIds(snapshot, { prefix: list.prefix ?? '', limit: list.limit, after: list.after }), indexedLsn };
}

/** Matching records in id order, strictly after `input.after`, at most `input.limit`. */
export async function fetchByMetadataView({ snapshot, indexedLsn }: ReadView, input: FetchByMetadataInput): Promise<RecordPage> {
  const { after, limit } = input;
  await loadFilterSections(snapshot);
  const ids = matchingIds(snapshot, input.filter)
    .filter((id) => after === undefined || id > after)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const page = ids.slice(0, limit);
  return {
    records: (await readRecords(snapshot, page)).map((record) => toFetched(record!)),
    ...(ids.length > limit ? { next: page[page.length - 1]! } : {}),
    indexedLsn,
  };
}

/**
 * The newest live versions of `ids`, all located in one synchronous step (one LSN prefix of the
 * memtables), then the vectors of slabs read by range read together.
 */
async function readRecords(snapshot: Snapshot, ids: readonly string[]): Promise<(LiveRecord | undefined)[]> {
  const located = ids.map((id) => locateRecord(snapshot, id));
  return Promise.all(located.map((at) => (!at || 'record' in at ? at?.record : slabRecord(at.reader, at.row))));
}
