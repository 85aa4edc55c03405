/**
 * The part of Pinecone's metadata filter language the soak workload sends (`$eq`, `$in`, `$gte`,
 * `$lt`, `$and`), evaluated here on the model's records. Written independently of the server's
 * filter code on purpose: the model must not share the implementation it checks.
 */
export type MetadataValue = string | number | boolean | string[];
export type Metadata = Record<string, MetadataValue>;

type Scalar = string | number | boolean;

export interface FieldClause {
  $eq?: Scalar;
  $in?: Scalar[];
  $gte?: number;
  $lt?: number;
}

export type Filter = { $and: Filter[] } | { [field: string]: FieldClause };

function clauseHolds(clause: FieldClause, value: Scalar): boolean {
  if (clause.$eq !== undefined && value !== clause.$eq) return false;
  if (clause.$in !== undefined && !clause.$in.includes(value)) return false;
  if (clause.$gte !== undefined && !(typeof value === 'number' && value >= clause.$gte)) return false;
  if (clause.$lt !== undefined && !(typeof value === 'number' && value < clause.$lt)) return false;
  return true;
}

/** Whether `metadata` satisfies `filter`; a missing field satisfies no clause, a list field any element. */
export function matchesFilter(filter: Filter, metadata: Metadata): boolean {
  if ('$and' in filter && Array.isArray(filter.$and)) return filter.$and.every((f) => matchesFilter(f, metadata));
  return Object.entries(filter as Record<string, FieldClause>).every(([field, clause]) => {
    const value = metadata[field];
    if (value === undefined) return false;
    return Array.isArray(value) ? value.some((v) => clauseHolds(clause, v)) : clauseHolds(clause, value);
  });
}
