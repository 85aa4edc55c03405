/**
 * A server in memory behind the `DataApi` interface, for the soak's own tests: it does what the
 * API documents (upsert replaces, update merges, deletes, namespaces, sorted paginated listings,
 * exact queries), and its data can be corrupted behind the model's back.
 */
import { ApiError, type ApiRecord, type DataApi, type NamespaceSummary, type Page, type QueryMatch, type QueryRequest } from './api.ts';
import { score, type Metric } from './checks.ts';
import { matchesFilter, type Filter, type Metadata } from './filter.ts';

type Stored = { values: number[]; metadata: Metadata };

export class MemoryApi implements DataApi {
  readonly face = 'rest' as const;
  /** index → namespace → id → record; a namespace exists while it is a key here. */
  readonly data = new Map<string, Map<string, Map<string, Stored>>>();
  readonly #metrics: ReadonlyMap<string, Metric>;

  constructor(metrics: ReadonlyMap<string, Metric>) {
    this.#metrics = metrics;
    for (const index of metrics.keys()) this.data.set(index, new Map());
  }

  #ns(index: string, namespace: string, create = false): Map<string, Stored> | undefined {
    const namespaces = this.data.get(index)!;
    if (!namespaces.has(namespace) && create) namespaces.set(namespace, new Map());
    return namespaces.get(namespace);
  }

  async upsert(index: string, namespace: string, records: ApiRecord[]): Promise<void> {
    const ns = this.#ns(index, namespace, true)!;
    for (const r of records) ns.set(r.id, { values: [...r.values], metadata: { ...r.metadata } });
  }

  async update(index: string, namespace: string, update: { id: string; values?: number[]; setMetadata?: Metadata }): Promise<number> {
    const record = this.#ns(index, namespace)?.get(update.id);
    if (!record) return 0;
    if (update.values) record.values = [...update.values];
    record.metadata = { ...record.metadata, ...update.setMetadata };
    return 1;
  }

  async deleteIds(index: string, namespace: string, ids: string[]): Promise<void> {
    const ns = this.#ns(index, namespace);
    for (const id of ids) ns?.delete(id);
  }

  async deleteByFilter(index: string, namespace: string, filter: Filter): Promise<void> {
    const ns = this.#ns(index, namespace);
    for (const [id, r] of ns ?? []) if (matchesFilter(filter, r.metadata)) ns!.delete(id);
  }

  async deleteAll(index: string, namespace: string): Promise<void> {
    this.#ns(index, namespace)?.clear();
  }

  async deleteNamespace(index: string, namespace: string): Promise<void> {
    if (!this.data.get(index)!.delete(namespace)) throw new ApiError(this.face, 404, `namespace ${namespace} not found`);
  }

  async fetch(index: string, namespace: string, ids: string[]): Promise<Map<string, Stored>> {
    const ns = this.#ns(index, namespace);
    return new Map(ids.flatMap((id) => (ns?.has(id) ? [[id, structuredClone(ns.get(id)!)] as [string, Stored]] : [])));
  }

  async query(index: string, namespace: string, query: QueryRequest): Promise<QueryMatch[]> {
    const metric = this.#metrics.get(index)!;
    const sign = metric === 'euclidean' ? 1 : -1;
    return [...(this.#ns(index, namespace) ?? [])]
      .filter(([, r]) => query.filter === undefined || matchesFilter(query.filter, r.metadata))
      .map(([id, r]) => ({ id, score: score(metric, query.vector, r.values), r }))
      .sort((a, b) => sign * (a.score - b.score) || (a.id < b.id ? -1 : 1))
      .slice(0, query.topK)
      .map(({ id, score, r }) => ({
        id,
        score,
        ...(query.includeValues ? { values: [...r.values] } : {}),
        ...(query.includeMetadata ? { metadata: { ...r.metadata } } : {}),
      }));
  }

  async listIds(index: string, namespace: string, options: { limit: number; paginationToken?: string }): Promise<Page<string>> {
    const ids = [...(this.#ns(index, namespace)?.keys() ?? [])].sort().filter((id) => options.paginationToken === undefined || id > options.paginationToken);
    const items = ids.slice(0, options.limit);
    return { items, ...(ids.length > options.limit ? { next: items[items.length - 1]! } : {}) };
  }

  async listNamespaces(index: string, options: { limit: number; paginationToken?: string }): Promise<Page<NamespaceSummary>> {
    const all = [...this.data.get(index)!].map(([name, ns]) => ({ name, recordCount: ns.size })).sort((a, b) => (a.name < b.name ? -1 : 1));
    const rest = all.filter((ns) => options.paginationToken === undefined || ns.name > options.paginationToken);
    const items = rest.slice(0, options.limit);
    return { items, ...(rest.length > options.limit ? { next: items[items.length - 1]!.name } : {}) };
  }

  async describeNamespace(index: string, namespace: string): Promise<number> {
    const ns = this.#ns(index, namespace);
    if (!ns) throw new ApiError(this.face, 404, `namespace ${namespace} not found`);
    return ns.size;
  }
}
