/**
 * Request limits. The values follow Pinecone's serverless limits (database-limits page) so that an
 * application written for Pinecone fits Conifer without change. Every limit is enforced at the API
 * boundary by the zod schemas in `schemas.ts`; a violation is a 400 naming the field and the limit.
 */
export const LIMITS = {
  /** Records in one upsert request. */
  maxUpsertRecords: 1000,
  /** Record id length in characters (ASCII without NUL). */
  minIdLength: 1,
  maxIdLength: 512,
  /** Dense vector dimension. */
  minDimension: 1,
  maxDimension: 20_000,
  /** Serialized metadata of one record, in bytes of JSON. */
  maxMetadataBytes: 40 * 1024,
  /** Non-zero entries of one sparse vector (Pinecone's current limit). */
  maxSparseValues: 2048,
  /** Largest sparse index: sparse dimensions are unsigned 32-bit. */
  maxSparseIndex: 4_294_967_295,
  /** Page size of fetch by metadata. */
  maxFetchByMetadataLimit: 1000,
  defaultFetchByMetadataLimit: 100,
  /** Query topK. */
  minTopK: 1,
  maxTopK: 10_000,
  /** Values in one `$in` / `$nin` list. */
  maxInValues: 10_000,
  /** Nesting depth of `$and` / `$or` in a filter (guards the evaluator's recursion). */
  maxFilterDepth: 32,
  /** HTTP request body in bytes. */
  maxRequestBytes: 2 * 1024 * 1024,
  /** Ids in one fetch or delete request. */
  maxIdsPerRequest: 1000,
  /** Page size of list (ids) and list namespaces. */
  maxListLimit: 100,
  defaultListLimit: 100,
  /** Namespace name length (printable ASCII, not only spaces); "" and "__default__" name the default namespace. */
  maxNamespaceLength: 512,
  /** Index name: 1–45 chars of a-z, 0-9 and '-', not starting or ending with '-'. */
  maxIndexNameLength: 45,
  /** Tags on an index. */
  maxTagKeyLength: 80,
  maxTagValueLength: 120,
} as const;

export type Limits = typeof LIMITS;
