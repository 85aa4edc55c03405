export { LIMITS, type Limits } from './limits.ts';
export {
  AlreadyExistsError,
  ConiferError,
  ERROR_HTTP_STATUS,
  type ErrorCode,
  errorFromCode,
  FailedPreconditionError,
  FencedError,
  type FieldIssue,
  InternalError,
  InvalidArgumentError,
  isErrorCode,
  NotFoundError,
  parseFieldIssues,
  PayloadTooLargeError,
  PermissionDeniedError,
  ResourceExhaustedError,
  type SchemaIssue,
  UnauthenticatedError,
  UnavailableError,
} from './errors.ts';
export { compareHits, higherIsBetter, makeScorer, type Metric, METRICS, type Scorer, VECTOR_TYPES, type VectorType } from './metric.ts';
export { float32ArrayToNumbers, float32ToShortest } from './float.ts';
export type { Metadata, MetadataValue } from './metadata.ts';
export { formatIssues, formatPath } from './issue-format.ts';
export {
  compileFilter,
  type FieldOps,
  type Filter,
  type FilterIssue,
  type MetadataPredicate,
  type Primitive,
  unindexedFilterField,
  validateFilter,
} from './filter.ts';
export {
  DEFAULT_NAMESPACE_ALIAS,
  filterSchema,
  FLOAT32_OVERFLOW,
  indexNameSchema,
  isStorableText,
  metadataSchema,
  isPlainValidMetadata,
  namespaceSchema,
  paginationTokenSchema,
  recordIdSchema,
  type SparseValues,
  sparseValuesSchema,
  STORABLE_TEXT_MESSAGE,
  vectorValuesSchema,
} from './schemas.ts';
export {
  type ConfigureIndexInput,
  configureIndexSchema,
  checkIndexKind,
  type CreateIndexInput,
  createIndexFields,
  createIndexSchema,
  deletionProtectionSchema,
  indexShape,
  vectorTypeSchema,
  dimensionSchema,
  indexRefSchema,
  metricSchema,
  tagsSchema,
} from './index-schemas.ts';
export {
  createNamespaceSchema,
  type DeleteRequest,
  deleteSchema,
  type FetchByMetadataRequest,
  fetchByMetadataSchema,
  type FetchRequest,
  fetchSchema,
  indexedFieldsOf,
  type ListNamespacesRequest,
  listNamespacesSchema,
  type ListRequest,
  listSchema,
  namespaceFieldsSchema,
  type NamespaceMetadataSchema,
  namespaceRefSchema,
  type QueryRequest,
  querySchema,
  type ReadOptionsRequest,
  readOptionsSchema,
  statsSchema,
  type UpdateRequest,
  updateSchema,
  type UpsertRequest,
  upsertSchema,
  type VectorRecordInput,
  vectorRecordSchema,
} from './request-schemas.ts';
export {
  MAX_IMPORT_ID_LENGTH,
  MAX_IMPORT_URI_LENGTH,
  importErrorModeSchema,
  importIdSchema,
  importRefSchema,
  importUriSchema,
  type ImportRef,
  type ListImportsRequest,
  listImportsSchema,
  type StartImportRequest,
  startImportSchema,
} from './import-schemas.ts';
export { utf8Length } from './utf8.ts';
export type {
  FetchByMetadataResult,
  FetchedRecord,
  FetchResult,
  IndexDescription,
  IndexStats,
  ListResult,
  NamespaceStats,
  QueryResult,
  ReadReflects,
  ScoredRecord,
  SparseVector,
  UpsertResult,
  WriteResult,
} from './results.ts';
export { failpoint, FAILPOINTS, INDEXER_FAILPOINTS, setFailpointHandler } from './failpoints.ts';
export { sparseDot, type SparseF32, sparseMatch, sparseToWire, toSparseF32 } from './sparse.ts';
export { mulberry32, type RandomSource, SYSTEM_RANDOM } from './random.ts';
export { percentile } from './percentile.ts';
export { parseByteSize } from './byte-size.ts';
export { type Clock, every, ManualClock, sleep, SYSTEM_CLOCK } from './clock.ts';
