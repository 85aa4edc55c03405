import { utf8Length, type Metadata } from '@conifer/core';

/**
 * Read and write units, with Pinecone's serverless cost rules (understanding-cost page):
 *
 * | operation                      | units                                                        |
 * |--------------------------------|--------------------------------------------------------------|
 * | query                          | 1 RU per GiB of namespace size, at least 0.25 RU             |
 * | fetch, fetch by metadata       | 1 RU per 10 records returned, at least 1 RU                  |
 * | list                           | 1 RU per call                                                |
 * | upsert                         | 1 WU per KiB of records written, at least 5 WU               |
 * | update                         | 1 WU per KiB of new plus existing records, at least 5 WU     |
 * | delete (ids, filter)           | 1 WU per KiB of records deleted, at least 5 WU               |
 * | delete all, delete namespace   | 5 WU                                                         |
 *
 * Record size is Pinecone's billing size: id + metadata (as JSON) + 4 bytes per dense dimension +
 * 8 bytes per sparse non-zero. Where Conifer would need an extra read to know the size of an
 * existing record (overwritten, updated or deleted), it estimates it as id + 4 × dimension (16 bytes
 * of id when the ids are not at hand), and it does not charge for records an upsert overwrites.
 *
 * Units are metered exactly (fractions included); `usage.readUnits` in responses is an integer,
 * rounded up.
 */
export const UNIT_RULES = {
  bytesPerGiB: 1024 ** 3,
  queryMinReadUnits: 0.25,
  fetchRecordsPerReadUnit: 10,
  minWriteUnits: 5,
  bytesPerWriteUnit: 1024,
  deleteAllWriteUnits: 5,
  /** Id length assumed for records whose ids are not at hand (update or delete by filter). */
  assumedIdBytes: 16,
} as const;

export interface SizedRecord {
  id?: string | undefined;
  values?: ArrayLike<number> | undefined;
  sparseValues?: { indices: ArrayLike<number> } | undefined;
  metadata?: Metadata | undefined;
}

/** Billing size of a batch of records in bytes. */
export function recordsBytes(records: readonly SizedRecord[]): number {
  return records.reduce((sum, r) => sum + recordBytes(r), 0);
}

/** Billing size of a record (or of the fields of an update) in bytes. */
export function recordBytes(record: SizedRecord): number {
  let bytes = record.id === undefined ? 0 : utf8Length(record.id);
  if (record.metadata !== undefined && Object.keys(record.metadata).length > 0) bytes += utf8Length(JSON.stringify(record.metadata));
  if (record.values !== undefined) bytes += record.values.length * 4;
  if (record.sparseValues !== undefined) bytes += record.sparseValues.indices.length * 8;
  return bytes;
}

/** Estimated size of a stored record known only by id, or not even that (metadata unknown). */
export function estimatedRecordBytes(id: string | undefined, dimension: number): number {
  return (id === undefined ? UNIT_RULES.assumedIdBytes : utf8Length(id)) + dimension * 4;
}

/** Write units for `bytes` written or deleted. */
export function writeUnits(bytes: number): number {
  return Math.max(UNIT_RULES.minWriteUnits, Math.ceil(bytes / UNIT_RULES.bytesPerWriteUnit));
}

/** Read units of a query over a namespace of `namespaceBytes`. */
export function queryReadUnits(namespaceBytes: number): number {
  return Math.max(UNIT_RULES.queryMinReadUnits, namespaceBytes / UNIT_RULES.bytesPerGiB);
}

/** Read units of a fetch that returned `records` records (missing and repeated ids are free). */
export function fetchReadUnits(records: number): number {
  return Math.max(1, Math.ceil(records / UNIT_RULES.fetchRecordsPerReadUnit));
}

/** Read units of one list call. */
export const LIST_READ_UNITS = 1;

/** The integer `usage.readUnits` of a response. */
export function reportedUnits(units: number): number {
  return Math.ceil(units);
}
