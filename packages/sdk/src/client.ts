import { Index } from './index-client.ts';
import { createTransport, type CallOptions, type ConiferOptions, type Transport } from './transport.ts';
import type {
  ApiKeyInfo,
  ApiKeyList,
  BackupDescription,
  BackupList,
  CreateBackupOptions,
  CreateIndexFromBackupOptions,
  CreateIndexFromBackupResponse,
  ListBackupsOptions,
  ListRestoreJobsOptions,
  RestoreJobDescription,
  RestoreJobList,
  CallerDescription,
  ClusterJobs,
  ClusterJobsOptions,
  ClusterNamespaces,
  ClusterNamespacesOptions,
  ClusterView,
  ConfigureIndexOptions,
  CreateApiKeyOptions,
  CreatedApiKey,
  CreatedProject,
  CreateIndexOptions,
  IndexDescription,
  IndexList,
  ProjectList,
  RateLimitScope,
  RateLimitsView,
  SetRateLimitsOptions,
  UsageOptions,
  UsageReport,
} from './types.ts';

/**
 * Client of a Conifer server. Every failure is thrown as one of the error classes this package exports
 * (`NotFoundError`, `InvalidArgumentError`, ...), or `ConnectionError` when the server is unreachable.
 *
 * @example
 * const client = new Conifer({ url: 'http://127.0.0.1:5080', apiKey });
 * await client.createIndex({ name: 'docs', dimension: 3, metric: 'cosine' });
 */
export class Conifer {
  readonly #transport: Transport;

  constructor(options: ConiferOptions) {
    this.#transport = createTransport(options);
  }

  /** Base URL of the server. */
  get url(): string {
    return this.#transport.url;
  }

  /**
   * Creates an index. The name is unique in the project (`AlreadyExistsError` otherwise).
   *
   * @example await client.createIndex({ name: 'docs', dimension: 384, metric: 'cosine', tags: { team: 'search' } });
   */
  createIndex(options: CreateIndexOptions, call: CallOptions = {}): Promise<IndexDescription> {
    return this.#transport.call((api, request) => api.indexes.create.mutate(options, request), call);
  }

  /**
   * Every index of the project.
   *
   * @example const { indexes } = await client.listIndexes();
   */
  listIndexes(call: CallOptions = {}): Promise<IndexList> {
    return this.#transport.call((api, request) => api.indexes.list.query(undefined, request), call);
  }

  /**
   * One index's description. Unknown name → `NotFoundError`.
   *
   * @example const { dimension, metric, status } = await client.describeIndex('docs');
   */
  describeIndex(name: string, call: CallOptions = {}): Promise<IndexDescription> {
    return this.#transport.call((api, request) => api.indexes.describe.query({ name }, request), call);
  }

  /**
   * Changes deletion protection and/or merges tags (a tag set to "" is removed).
   *
   * @example await client.configureIndex('docs', { deletionProtection: 'enabled', tags: { env: 'prod' } });
   */
  configureIndex(name: string, options: ConfigureIndexOptions, call: CallOptions = {}): Promise<IndexDescription> {
    return this.#transport.call((api, request) => api.indexes.configure.mutate({ ...options, name }, request), call);
  }

  /**
   * Deletes an index and all its data. Deletion protection on → `PermissionDeniedError`.
   *
   * @example await client.deleteIndex('docs');
   */
  async deleteIndex(name: string, call: CallOptions = {}): Promise<void> {
    await this.#transport.call((api, request) => api.indexes.delete.mutate({ name }, request), call);
  }

  /**
   * Backs an index up (every namespace, at one LSN each): the slabs are referenced, not copied. It
   * answers once the backup is `Ready`; a failure is thrown and the backup left `Failed`.
   *
   * @example const { backupId } = await client.createBackup('docs', { name: 'nightly' });
   */
  createBackup(index: string, options: CreateBackupOptions = {}, call: CallOptions = {}): Promise<BackupDescription> {
    return this.#transport.call((api, request) => api.backups.create.mutate({ ...options, index }, request), call);
  }

  /**
   * The project's backups (of one index with `index`), oldest first, one page at a time (`limit`
   * 1–100, default 10); pass `pagination.next` as `paginationToken` for the next page.
   *
   * @example const { data } = await client.listBackups({ index: 'docs' });
   */
  listBackups(options: ListBackupsOptions = {}, call: CallOptions = {}): Promise<BackupList> {
    return this.#transport.call((api, request) => api.backups.list.query(options, request), call);
  }

  /** One backup. Unknown id → `NotFoundError`. */
  describeBackup(id: string, call: CallOptions = {}): Promise<BackupDescription> {
    return this.#transport.call((api, request) => api.backups.describe.query({ id }, request), call);
  }

  /** Deletes a backup and the slabs only it kept. A restore from it still running → `FailedPreconditionError`. */
  async deleteBackup(id: string, call: CallOptions = {}): Promise<void> {
    await this.#transport.call((api, request) => api.backups.delete.mutate({ id }, request), call);
  }

  /**
   * Creates an index from a backup (same dimension, metric, cloud and region) and starts the restore
   * job that fills it; follow it with `describeRestoreJob`. Name taken → `AlreadyExistsError`.
   *
   * @example const { restoreJobId } = await client.createIndexFromBackup(backupId, { name: 'docs-restored' });
   */
  createIndexFromBackup(id: string, options: CreateIndexFromBackupOptions, call: CallOptions = {}): Promise<CreateIndexFromBackupResponse> {
    return this.#transport.call((api, request) => api.backups.createIndex.mutate({ ...options, id }, request), call);
  }

  /** The project's restore jobs, oldest first, one page at a time (`limit` 1–100, default 10). */
  listRestoreJobs(options: ListRestoreJobsOptions = {}, call: CallOptions = {}): Promise<RestoreJobList> {
    return this.#transport.call((api, request) => api.restoreJobs.list.query(options, request), call);
  }

  /** One restore job: `status`, `percentComplete`. Unknown id → `NotFoundError`. */
  describeRestoreJob(id: string, call: CallOptions = {}): Promise<RestoreJobDescription> {
    return this.#transport.call((api, request) => api.restoreJobs.describe.query({ id }, request), call);
  }

  /**
   * The project, key id and role behind this client's API key.
   *
   * @example const { project, role } = await client.whoami();
   */
  whoami(call: CallOptions = {}): Promise<CallerDescription> {
    return this.#transport.call((api, request) => api.projects.current.query(undefined, request), call);
  }

  /**
   * Projects this key may see: every project for an admin key of the operator project, its own
   * project for other admin keys. Non-admin keys → `PermissionDeniedError`.
   *
   * @example const { projects } = await client.listProjects();
   */
  listProjects(call: CallOptions = {}): Promise<ProjectList> {
    return this.#transport.call((api, request) => api.projects.list.query(undefined, request), call);
  }

  /**
   * Creates a project and its first admin key (operator admin keys only). The key's secret is in
   * `apiKey`, returned only here: store it now.
   *
   * @example const { project, apiKey } = await client.createProject('search-team');
   */
  createProject(name: string, call: CallOptions = {}): Promise<CreatedProject> {
    return this.#transport.call((api, request) => api.projects.create.mutate({ name }, request), call);
  }

  /**
   * API keys of this key's project, revoked ones included; never their secrets (admin keys only).
   *
   * @example const { keys } = await client.listApiKeys(); keys.filter((k) => k.revokedAt === null);
   */
  listApiKeys(call: CallOptions = {}): Promise<ApiKeyList> {
    return this.#transport.call((api, request) => api.keys.list.query(undefined, request), call);
  }

  /**
   * Creates an API key in this key's project (admin keys only); `role` defaults to read-write. The
   * secret is in `apiKey`, returned only here (the server stores a hash).
   *
   * @example const { apiKey, key } = await client.createApiKey({ name: 'dashboard', role: 'read-only' });
   */
  createApiKey(options: CreateApiKeyOptions, call: CallOptions = {}): Promise<CreatedApiKey> {
    return this.#transport.call((api, request) => api.keys.create.mutate(options, request), call);
  }

  /**
   * Revokes an API key of this key's project, effective at once (admin keys only). The project's
   * last active admin key cannot be revoked (`FailedPreconditionError`).
   *
   * @example await client.revokeApiKey(key.id);
   */
  revokeApiKey(id: string, call: CallOptions = {}): Promise<ApiKeyInfo> {
    return this.#transport.call((api, request) => api.keys.revoke.mutate({ id }, request), call);
  }

  /**
   * Read and write units per index per UTC day of this key's project (admin keys only); default
   * range: the last 30 days.
   *
   * @example const { days, total } = await client.usage({ from: '2026-11-01', index: 'docs' });
   */
  usage(options: UsageOptions = {}, call: CallOptions = {}): Promise<UsageReport> {
    return this.#transport.call((api, request) => api.usage.get.query(options, request), call);
  }

  /**
   * The rate limits of a project (default: this key's) or of one of its indexes: the node's own,
   * the project's and the index's overrides, and what applies (`0` = unlimited). Admin keys of the
   * project, or operator admin keys for any project.
   *
   * @example const { effective } = await client.rateLimits({ index: 'docs' }); effective.queryPerNamespace;
   */
  rateLimits(scope: RateLimitScope = {}, call: CallOptions = {}): Promise<RateLimitsView> {
    return this.#transport.call((api, request) => api.rateLimits.get.query(scope, request), call);
  }

  /**
   * Replaces the rate-limit overrides of a project or one of its indexes (`limits: {}` removes
   * them). Operator admin keys only: a tenant does not set its own limits.
   *
   * @example await client.setRateLimits({ projectId: tenant.id, limits: { queryPerNamespace: 50 } });
   */
  setRateLimits(options: SetRateLimitsOptions, call: CallOptions = {}): Promise<RateLimitsView> {
    return this.#transport.call((api, request) => api.rateLimits.set.mutate(options, request), call);
  }

  /**
   * The cluster's nodes: roles, URL, state (`active`, `draining`), heartbeat age by the database's
   * clock and whether the node is live. Operator admin keys only.
   *
   * @example const { nodes } = await client.clusterNodes(); nodes.filter((n) => n.live).length;
   */
  clusterNodes(call: CallOptions = {}): Promise<ClusterView> {
    return this.#transport.call((api, request) => api.cluster.nodes.query(undefined, request), call);
  }

  /**
   * Recent index-build jobs (compactions and ANN builds writers queued for indexers), the most
   * recently changed first: state, kind, namespace, attempts, claimer, age. `state` keeps only
   * those states; `limit` 1–500, default 50. Empty in a single process. Operator admin keys only.
   *
   * @example const { jobs } = await client.clusterJobs({ state: ['pending', 'running'] });
   */
  clusterJobs(options: ClusterJobsOptions = {}, call: CallOptions = {}): Promise<ClusterJobs> {
    return this.#transport.call((api, request) => api.cluster.jobs.query(options, request), call);
  }

  /**
   * Where each namespace of an index of this key's project lives: the writer that owns it, its
   * epoch and LSNs, the query node serving its reads and how many LSNs its replica trails
   * (`lagLsn`). In a single process (`singleProcess`) this node owns every namespace and there are
   * no replicas. `limit` namespaces by name, 1–1000, default 100. Operator admin keys only.
   *
   * @example const { namespaces } = await client.clusterNamespaces({ index: 'docs' });
   */
  clusterNamespaces(options: ClusterNamespacesOptions, call: CallOptions = {}): Promise<ClusterNamespaces> {
    return this.#transport.call((api, request) => api.cluster.namespaces.query(options, request), call);
  }

  /**
   * A handle on an index's default namespace; `.namespace(name)` targets another one.
   *
   * @example const ns = client.index('docs').namespace('ns1');
   */
  index(name: string, namespace?: string): Index {
    return new Index(this.#transport, name, namespace);
  }
}
