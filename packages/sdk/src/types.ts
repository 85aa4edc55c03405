import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import type { ConiferRouter } from './contract.ts';

/**
 * Request and response types of the SDK, all derived from the server's router (through
 * `contract.ts`, generated from it and checked against it by a test): nothing here is written by
 * hand, so the SDK cannot drift from the API.
 */
/** Request types of every procedure, e.g. `RouterInputs['data']['upsert']`. */
export type RouterInputs = inferRouterInputs<ConiferRouter>;
/** Response types of every procedure, e.g. `RouterOutputs['data']['query']`. */
export type RouterOutputs = inferRouterOutputs<ConiferRouter>;
export type { ConiferRouter, ConiferErrorShape, Filter, FieldOps, Metadata, MetadataValue, Primitive } from './contract.ts';
type Scoped<T> = Omit<T, 'index' | 'namespace'>;

/**
 * How fresh a read (query, fetch, fetchByMetadata, listPaginated) must be, its last argument:
 * `consistency: 'strong'` reads the latest state, `'eventual'` (the default) what the serving node
 * holds; `minLsn`, the `lsn` a write returned, makes the read reflect that write or fail with
 * `UnavailableError` (read-your-writes). Every read's result says the LSN it reflects, `indexedLsn`.
 */
export type ReadOptions = Pick<RouterInputs['data']['query'], 'consistency' | 'minLsn'>;
/** A read's own options: the read options go in the separate last argument. */
type ReadScoped<T> = Omit<Scoped<T>, keyof ReadOptions>;

export type CreateIndexOptions = RouterInputs['indexes']['create'];
export type ConfigureIndexOptions = Omit<RouterInputs['indexes']['configure'], 'name'>;
export type IndexDescription = RouterOutputs['indexes']['describe'];
export type IndexList = RouterOutputs['indexes']['list'];

/** Record metadata: a flat object of strings, numbers, booleans and lists of strings. */
export type RecordMetadata = NonNullable<RouterOutputs['data']['fetch']['records'][string]['metadata']>;

export type RecordToUpsert = RouterInputs['data']['upsert']['records'][number];
export type UpsertResponse = RouterOutputs['data']['upsert'];
export type QueryOptions = ReadScoped<RouterInputs['data']['query']>;
export type QueryResponse = RouterOutputs['data']['query'];
export type FetchResponse = RouterOutputs['data']['fetch'];
export type UpdateOptions = Scoped<RouterInputs['data']['update']>;
export type UpdateResponse = RouterOutputs['data']['update'];
export type DeleteResponse = RouterOutputs['data']['delete'];
export type RecordFilter = NonNullable<RouterInputs['data']['delete']['filter']>;
/** Ids to delete, or `{ filter }` to delete every record whose metadata matches. */
export type DeleteManyOptions = string[] | { filter: RecordFilter };
export type ListOptions = ReadScoped<RouterInputs['data']['list']>;
export type ListResponse = RouterOutputs['data']['list'];
export type IndexStatsResponse = RouterOutputs['data']['stats'];
export type FetchByMetadataOptions = ReadScoped<RouterInputs['data']['fetchByMetadata']>;
export type FetchByMetadataResponse = RouterOutputs['data']['fetchByMetadata'];
export type ListNamespacesOptions = Omit<RouterInputs['namespaces']['list'], 'index'>;
export type NamespaceList = RouterOutputs['namespaces']['list'];
/** `schema`: the metadata fields the namespace indexes, `{ fields: { genre: { filterable: true } } }`. */
export type CreateNamespaceOptions = Omit<RouterInputs['namespaces']['create'], 'index' | 'namespace'>;
/** Name and record count; with the namespace's `schema` and `indexedFields` when it was created with a schema. */
export type NamespaceSummary = RouterOutputs['namespaces']['describe'];
export type NamespaceInternals = RouterOutputs['namespaces']['internals'];
/** `uri` of the Parquet files (`s3://`, `gs://`, `az://`, Azure `https://`; `file://` when the server allows it) and `errorMode`, `'continue'` (the default) or `'abort'`. */
export type StartImportOptions = Omit<RouterInputs['imports']['start'], 'index'>;
export type StartImportResponse = RouterOutputs['imports']['start'];
export type ListImportsOptions = Omit<RouterInputs['imports']['list'], 'index'>;
export type ImportList = RouterOutputs['imports']['list'];
/** One bulk import: status, `percentComplete`, `recordsImported`, `error`, `createdAt`, `finishedAt`. */
export type ImportDescription = RouterOutputs['imports']['describe'];
export type CreateBackupOptions = Omit<RouterInputs['backups']['create'], 'index'>;
export type ListBackupsOptions = RouterInputs['backups']['list'];
export type BackupList = RouterOutputs['backups']['list'];
/** One backup: `status` (`Initializing`, `Ready`, `Failed`), what it holds (`recordCount`, `namespaceCount`, `sizeBytes`), its source index. */
export type BackupDescription = RouterOutputs['backups']['describe'];
export type CreateIndexFromBackupOptions = Omit<RouterInputs['backups']['createIndex'], 'id'>;
export type CreateIndexFromBackupResponse = RouterOutputs['backups']['createIndex'];
export type ListRestoreJobsOptions = RouterInputs['restoreJobs']['list'];
export type RestoreJobList = RouterOutputs['restoreJobs']['list'];
/** One restore job: `status` (`Pending`, `InProgress`, `Completed`, `Failed`), `percentComplete`, its target index. */
export type RestoreJobDescription = RouterOutputs['restoreJobs']['describe'];

export type Project = RouterOutputs['projects']['current']['project'];
export type CallerDescription = RouterOutputs['projects']['current'];
export type ProjectList = RouterOutputs['projects']['list'];
export type CreatedProject = RouterOutputs['projects']['create'];
export type ApiKeyInfo = RouterOutputs['keys']['revoke'];
export type ApiKeyList = RouterOutputs['keys']['list'];
export type CreateApiKeyOptions = RouterInputs['keys']['create'];
export type CreatedApiKey = RouterOutputs['keys']['create'];
export type UsageOptions = RouterInputs['usage']['get'];
export type UsageReport = RouterOutputs['usage']['get'];
export type RateLimitScope = RouterInputs['rateLimits']['get'];
export type SetRateLimitsOptions = RouterInputs['rateLimits']['set'];
export type RateLimitsView = RouterOutputs['rateLimits']['get'];
export type ClusterView = RouterOutputs['cluster']['nodes'];
export type ClusterNode = ClusterView['nodes'][number];
export type ClusterJobsOptions = RouterInputs['cluster']['jobs'];
export type ClusterJobs = RouterOutputs['cluster']['jobs'];
export type ClusterJob = ClusterJobs['jobs'][number];
export type ClusterNamespacesOptions = RouterInputs['cluster']['namespaces'];
export type ClusterNamespaces = RouterOutputs['cluster']['namespaces'];
export type ClusterNamespace = ClusterNamespaces['namespaces'][number];
