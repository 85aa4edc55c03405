import { Index } from './index-client.ts';
import { createTransport, type ConiferOptions, type Transport } from './transport.ts';
import type {
  ApiKeyInfo,
  ApiKeyList,
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
 * Client of a Conifer server. Every failure is thrown as an error class of `@conifer/core`
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
  createIndex(options: CreateIndexOptions): Promise<IndexDescription> {
    return this.#transport.call((api) => api.indexes.create.mutate(options));
  }

  /**
   * Every index of the project.
   *
   * @example const { indexes } = await client.listIndexes();
   */
  listIndexes(): Promise<IndexList> {
    return this.#transport.call((api) => api.indexes.list.query());
  }

  /**
   * One index's description. Unknown name → `NotFoundError`.
   *
   * @example const { dimension, metric, status } = await client.describeIndex('docs');
   */
  describeIndex(name: string): Promise<IndexDescription> {
    return this.#transport.call((api) => api.indexes.describe.query({ name }));
  }

  /**
   * Changes deletion protection and/or merges tags (a tag set to "" is removed).
   *
   * @example await client.configureIndex('docs', { deletionProtection: 'enabled', tags: { env: 'prod' } });
   */
  configureIndex(name: string, options: ConfigureIndexOptions): Promise<IndexDescription> {
    return this.#transport.call((api) => api.indexes.configure.mutate({ ...options, name }));
  }

  /**
   * Deletes an index and all its data. Deletion protection on → `PermissionDeniedError`.
   *
   * @example await client.deleteIndex('docs');
   */
  async deleteIndex(name: string): Promise<void> {
    await this.#transport.call((api) => api.indexes.delete.mutate({ name }));
  }

  /**
   * The project, key id and role behind this client's API key.
   *
   * @example const { project, role } = await client.whoami();
   */
  whoami(): Promise<CallerDescription> {
    return this.#transport.call((api) => api.projects.current.query());
  }

  /**
   * Projects this key may see: every project for an admin key of the operator project, its own
   * project for other admin keys. Non-admin keys → `PermissionDeniedError`.
   *
   * @example const { projects } = await client.listProjects();
   */
  listProjects(): Promise<ProjectList> {
    return this.#transport.call((api) => api.projects.list.query());
  }

  /**
   * Creates a project and its first admin key (operator admin keys only). The key's secret is in
   * `apiKey`, returned only here: store it now.
   *
   * @example const { project, apiKey } = await client.createProject('search-team');
   */
  createProject(name: string): Promise<CreatedProject> {
    return this.#transport.call((api) => api.projects.create.mutate({ name }));
  }

  /**
   * API keys of this key's project, revoked ones included; never their secrets (admin keys only).
   *
   * @example const { keys } = await client.listApiKeys(); keys.filter((k) => k.revokedAt === null);
   */
  listApiKeys(): Promise<ApiKeyList> {
    return this.#transport.call((api) => api.keys.list.query());
  }

  /**
   * Creates an API key in this key's project (admin keys only); `role` defaults to read-write. The
   * secret is in `apiKey`, returned only here (the server stores a hash).
   *
   * @example const { apiKey, key } = await client.createApiKey({ name: 'dashboard', role: 'read-only' });
   */
  createApiKey(options: CreateApiKeyOptions): Promise<CreatedApiKey> {
    return this.#transport.call((api) => api.keys.create.mutate(options));
  }

  /**
   * Revokes an API key of this key's project, effective at once (admin keys only). The project's
   * last active admin key cannot be revoked (`FailedPreconditionError`).
   *
   * @example await client.revokeApiKey(key.id);
   */
  revokeApiKey(id: string): Promise<ApiKeyInfo> {
    return this.#transport.call((api) => api.keys.revoke.mutate({ id }));
  }

  /**
   * Read and write units per index per UTC day of this key's project (admin keys only); default
   * range: the last 30 days.
   *
   * @example const { days, total } = await client.usage({ from: '2026-11-01', index: 'docs' });
   */
  usage(options: UsageOptions = {}): Promise<UsageReport> {
    return this.#transport.call((api) => api.usage.get.query(options));
  }

  /**
   * The rate limits of a project (default: this key's) or of one of its indexes: the node's own,
   * the project's and the index's overrides, and what applies (`0` = unlimited). Admin keys of the
   * project, or operator admin keys for any project.
   *
   * @example const { effective } = await client.rateLimits({ index: 'docs' }); effective.queryPerNamespace;
   */
  rateLimits(scope: RateLimitScope = {}): Promise<RateLimitsView> {
    return this.#transport.call((api) => api.rateLimits.get.query(scope));
  }

  /**
   * Replaces the rate-limit overrides of a project or one of its indexes (`limits: {}` removes
   * them). Operator admin keys only: a tenant does not set its own limits.
   *
   * @example await client.setRateLimits({ projectId: tenant.id, limits: { queryPerNamespace: 50 } });
   */
  setRateLimits(options: SetRateLimitsOptions): Promise<RateLimitsView> {
    return this.#transport.call((api) => api.rateLimits.set.mutate(options));
  }

  /**
   * The cluster's nodes: roles, URL, state (`active`, `draining`), heartbeat age by the database's
   * clock and whether the node is live. Operator admin keys only.
   *
   * @example const { nodes } = await client.clusterNodes(); nodes.filter((n) => n.live).length;
   */
  clusterNodes(): Promise<ClusterView> {
    return this.#transport.call((api) => api.cluster.nodes.query());
  }

  /**
   * Recent index-build jobs (compactions and ANN builds writers queued for indexers), the most
   * recently changed first: state, kind, namespace, attempts, claimer, age. `state` keeps only
   * those states; `limit` 1–500, default 50. Empty in a single process. Operator admin keys only.
   *
   * @example const { jobs } = await client.clusterJobs({ state: ['pending', 'running'] });
   */
  clusterJobs(options: ClusterJobsOptions = {}): Promise<ClusterJobs> {
    return this.#transport.call((api) => api.cluster.jobs.query(options));
  }

  /**
   * Where each namespace of an index of this key's project lives: the writer that owns it, its
   * epoch and LSNs, the query node serving its reads and how many LSNs its replica trails
   * (`lagLsn`). In a single process (`singleProcess`) this node owns every namespace and there are
   * no replicas. `limit` namespaces by name, 1–1000, default 100. Operator admin keys only.
   *
   * @example const { namespaces } = await client.clusterNamespaces({ index: 'docs' });
   */
  clusterNamespaces(options: ClusterNamespacesOptions): Promise<ClusterNamespaces> {
    return this.#transport.call((api) => api.cluster.namespaces.query(options));
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
