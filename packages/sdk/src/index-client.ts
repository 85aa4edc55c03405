import type { CallOptions, Transport } from './transport.ts';
import type {
  CreateNamespaceOptions,
  DeleteManyOptions,
  DeleteResponse,
  FetchByMetadataOptions,
  FetchByMetadataResponse,
  FetchResponse,
  ImportDescription,
  ImportList,
  IndexStatsResponse,
  ListImportsOptions,
  ListNamespacesOptions,
  ListOptions,
  ListResponse,
  NamespaceInternals,
  NamespaceList,
  NamespaceSummary,
  QueryOptions,
  QueryResponse,
  ReadOptions,
  RecordToUpsert,
  StartImportOptions,
  StartImportResponse,
  UpdateOptions,
  UpdateResponse,
  UpsertResponse,
} from './types.ts';

/** A read's last argument split into what the server gets (freshness) and what the call itself uses. */
function splitReadOptions(options: ReadOptions & CallOptions): [ReadOptions, CallOptions] {
  const { signal, timeoutMs, retry, ...read } = options;
  const call: CallOptions = {};
  if (signal !== undefined) call.signal = signal;
  if (timeoutMs !== undefined) call.timeoutMs = timeoutMs;
  if (retry !== undefined) call.retry = retry;
  return [read, call];
}

/**
 * One index, scoped to one namespace (the default namespace unless made with `namespace()`).
 * Cheap to create: it holds no connection of its own.
 *
 * @example
 * const ns = client.index('docs').namespace('ns1');
 */
export class Index {
  readonly #transport: Transport;
  /** Name of the index. */
  readonly name: string;
  /** Namespace the record operations target; "" is the default namespace. */
  readonly namespaceName: string;

  constructor(transport: Transport, name: string, namespace = '') {
    this.#transport = transport;
    this.name = name;
    this.namespaceName = namespace;
  }

  #scope(): { index: string; namespace: string } {
    return { index: this.name, namespace: this.namespaceName };
  }

  /**
   * The same index, targeting another namespace.
   *
   * @example await client.index('docs').namespace('ns1').upsert([...]);
   */
  namespace(name: string): Index {
    return new Index(this.#transport, this.name, name);
  }

  /**
   * Inserts or replaces records (1–1000 per call). Resolves once the write is durable.
   *
   * @example await ns.upsert([{ id: 'a', values: [0.1, 0.2, 0.3], metadata: { genre: 'drama' } }]);
   */
  upsert(records: RecordToUpsert[], call: CallOptions = {}): Promise<UpsertResponse> {
    return this.#transport.call((api, request) => api.data.upsert.mutate({ ...this.#scope(), records }, request), call);
  }

  /**
   * The `topK` nearest records to a vector (or to the stored record `id`), optionally filtered.
   * Like every read, it takes `ReadOptions` last and says the LSN it reflects (`indexedLsn`).
   *
   * @example
   * const { matches } = await ns.query({ vector: [0.1, 0.2, 0.3], topK: 5, filter: { genre: { $eq: 'drama' } }, includeMetadata: true });
   * const { lsn } = await ns.upsert(records);
   * const fresh = await ns.query({ vector: [0.1, 0.2, 0.3], topK: 5 }, { minLsn: lsn }); // sees the upsert
   */
  query(options: QueryOptions, read: ReadOptions & CallOptions = {}): Promise<QueryResponse> {
    const [consistency, call] = splitReadOptions(read);
    return this.#transport.call((api, request) => api.data.query.query({ ...options, ...consistency, ...this.#scope() }, request), call);
  }

  /**
   * Records by id; missing ids are absent from `records`.
   *
   * @example const { records } = await ns.fetch(['a', 'b']); records.a?.values;
   * @example const { records } = await ns.fetch(['a'], { consistency: 'strong' });
   */
  fetch(ids: string[], read: ReadOptions & CallOptions = {}): Promise<FetchResponse> {
    const [consistency, call] = splitReadOptions(read);
    return this.#transport.call((api, request) => api.data.fetch.query({ ...consistency, ...this.#scope(), ids }, request), call);
  }

  /**
   * Replaces a record's values (dense and/or sparse) and/or merges keys into its metadata; with
   * `filter` instead of `id`, every matching record. `dryRun: true` only counts the matches.
   *
   * @example
   * await ns.update({ id: 'a', setMetadata: { year: 2020 } });
   * const { matchedRecords } = await ns.update({ filter: { genre: { $eq: 'drama' } }, setMetadata: { reviewed: true } });
   */
  update(options: UpdateOptions, call: CallOptions = {}): Promise<UpdateResponse> {
    return this.#transport.call((api, request) => api.data.update.mutate({ ...options, ...this.#scope() }, request), call);
  }

  /**
   * Deletes one record by id (a missing id is not an error).
   *
   * @example await ns.deleteOne('a');
   */
  deleteOne(id: string, call: CallOptions = {}): Promise<DeleteResponse> {
    return this.deleteMany([id], call);
  }

  /**
   * Deletes records by id, or every record whose metadata matches a filter.
   *
   * @example await ns.deleteMany(['a', 'b']); await ns.deleteMany({ filter: { genre: { $eq: 'drama' } } });
   */
  deleteMany(target: DeleteManyOptions, call: CallOptions = {}): Promise<DeleteResponse> {
    const what = Array.isArray(target) ? { ids: target } : { filter: target.filter };
    return this.#transport.call((api, request) => api.data.delete.mutate({ ...this.#scope(), ...what }, request), call);
  }

  /**
   * Deletes every record of the namespace (the namespace itself stays listed until empty).
   *
   * @example await ns.deleteAll();
   */
  deleteAll(call: CallOptions = {}): Promise<DeleteResponse> {
    return this.#transport.call((api, request) => api.data.delete.mutate({ ...this.#scope(), deleteAll: true }, request), call);
  }

  /**
   * One page of record ids, in id order; pass `pagination.next` back to get the next page.
   *
   * @example
   * const page = await ns.listPaginated({ prefix: 'doc#', limit: 50 });
   * const next = page.pagination && (await ns.listPaginated({ prefix: 'doc#', paginationToken: page.pagination.next }));
   */
  listPaginated(options: ListOptions = {}, read: ReadOptions & CallOptions = {}): Promise<ListResponse> {
    const [consistency, call] = splitReadOptions(read);
    return this.#transport.call((api, request) => api.data.list.query({ ...options, ...consistency, ...this.#scope() }, request), call);
  }

  /**
   * Dimension, metric and record counts of the whole index, per namespace.
   *
   * @example const { totalRecordCount, namespaces } = await client.index('docs').describeIndexStats();
   */
  describeIndexStats(call: CallOptions = {}): Promise<IndexStatsResponse> {
    return this.#transport.call((api, request) => api.data.stats.query({ index: this.name }, request), call);
  }

  /**
   * Records whose metadata matches a filter, in id order; pass `pagination.next` back for the next page.
   *
   * @example const { records, pagination } = await ns.fetchByMetadata({ filter: { genre: { $eq: 'drama' } }, limit: 50 });
   */
  fetchByMetadata(options: FetchByMetadataOptions, read: ReadOptions & CallOptions = {}): Promise<FetchByMetadataResponse> {
    const [consistency, call] = splitReadOptions(read);
    return this.#transport.call((api, request) => api.data.fetchByMetadata.query({ ...options, ...consistency, ...this.#scope() }, request), call);
  }

  /**
   * Namespaces of the index (created explicitly or by a write) with their record counts, in name
   * order, one page at a time.
   *
   * @example
   * const { namespaces, totalCount, pagination } = await client.index('docs').listNamespaces({ prefix: 'tenant-', limit: 50 });
   */
  listNamespaces(options: ListNamespacesOptions = {}, call: CallOptions = {}): Promise<NamespaceList> {
    return this.#transport.call((api, request) => api.namespaces.list.query({ ...options, index: this.name }, request), call);
  }

  /**
   * Creates an empty namespace; with `schema`, only the metadata fields it marks `filterable: true`
   * are indexed, and a filter on any other field is refused. Existing namespace → `AlreadyExistsError`.
   *
   * @example await client.index('docs').createNamespace('tenant-42', { schema: { fields: { genre: { filterable: true } } } });
   */
  createNamespace(namespace: string, options: CreateNamespaceOptions & CallOptions = {}): Promise<NamespaceSummary> {
    const { schema, ...call } = options;
    return this.#transport.call(
      (api, request) => api.namespaces.create.mutate({ index: this.name, namespace, ...(schema !== undefined ? { schema } : {}) }, request),
      call,
    );
  }

  /**
   * Deletes a namespace and all its records. Unknown namespace → `NotFoundError`.
   *
   * @example await client.index('docs').deleteNamespace('ns1');
   */
  async deleteNamespace(namespace: string, call: CallOptions = {}): Promise<void> {
    await this.#transport.call((api, request) => api.namespaces.delete.mutate({ index: this.name, namespace }, request), call);
  }

  /**
   * Name and record count of a namespace. Never created nor written → `NotFoundError`.
   *
   * @example const { recordCount } = await client.index('docs').describeNamespace('ns1');
   */
  describeNamespace(namespace: string, call: CallOptions = {}): Promise<NamespaceSummary> {
    return this.#transport.call((api, request) => api.namespaces.describe.query({ index: this.name, namespace }, request), call);
  }

  /**
   * Storage-engine state of a namespace (LSNs, memtable, slabs), for operators.
   *
   * @example const { writtenLsn, slabs } = await client.index('docs').namespaceInternals('ns1');
   */
  namespaceInternals(namespace: string, call: CallOptions = {}): Promise<NamespaceInternals> {
    return this.#transport.call((api, request) => api.namespaces.internals.query({ index: this.name, namespace }, request), call);
  }

  /**
   * Starts a bulk import into the index (Pinecone's `/bulk/imports`): every `<uri>/<namespace>/*.parquet`
   * becomes a new namespace (`__default__` for the default one), written in the background. Needs a
   * write key. With `errorMode: 'abort'` a bad row fails the import and creates nothing; with
   * `'continue'` (the default) bad rows are skipped and counted. Follow it with `describeImport`.
   *
   * @example
   * const { id } = await client.index('docs').startImport({ uri: 's3://bucket/embeddings', errorMode: 'abort' });
   */
  startImport(options: StartImportOptions, call: CallOptions = {}): Promise<StartImportResponse> {
    return this.#transport.call((api, request) => api.imports.start.mutate({ ...options, index: this.name }, request), call);
  }

  /**
   * The index's imports, oldest first, one page at a time (`limit` 1–100, default 100); pass
   * `pagination.next` back for the next page.
   *
   * @example const { data, pagination } = await client.index('docs').listImports({ limit: 10 });
   */
  listImports(options: ListImportsOptions = {}, call: CallOptions = {}): Promise<ImportList> {
    return this.#transport.call((api, request) => api.imports.list.query({ ...options, index: this.name }, request), call);
  }

  /**
   * One import: status, `percentComplete`, `recordsImported`, `error`. Unknown id → `NotFoundError`.
   *
   * @example const { status, percentComplete } = await client.index('docs').describeImport(id);
   */
  describeImport(id: string, call: CallOptions = {}): Promise<ImportDescription> {
    return this.#transport.call((api, request) => api.imports.describe.query({ index: this.name, id }, request), call);
  }

  /**
   * Cancels an import that is still running (what it has staged is discarded); a finished import
   * is left as it is. Needs a write key. Unknown id → `NotFoundError`.
   *
   * @example await client.index('docs').cancelImport(id);
   */
  async cancelImport(id: string, call: CallOptions = {}): Promise<void> {
    await this.#transport.call((api, request) => api.imports.cancel.mutate({ index: this.name, id }, request), call);
  }
}
