/**
 * The soak's data operations (`DataApi`) answered by an engine in this process, so the simulation
 * drives the engine with the soak's workload and checks it with the soak's model. Errors carry the
 * HTTP status the server would answer with, as the soak expects.
 */
import { ConiferError, type Filter as CoreFilter } from '@conifer/core';
import type { Engine, IndexHandle } from '@conifer/engine';
import { ApiError, type ApiRecord, type DataApi, type NamespaceSummary, type Page, type QueryMatch, type QueryRequest } from '@conifer/soak/api';
import type { Filter, Metadata } from '@conifer/soak/filter';

export class EngineApi implements DataApi {
  readonly face = 'engine' as const;
  readonly #engine: () => Engine;
  readonly #indexes: ReadonlyMap<string, IndexHandle>;

  /** `engine` is asked for at every call: a restarted node answers with its new engine. */
  constructor(engine: () => Engine, indexes: ReadonlyMap<string, IndexHandle>) {
    this.#engine = engine;
    this.#indexes = indexes;
  }

  #index(name: string): IndexHandle {
    const index = this.#indexes.get(name);
    if (!index) throw new ApiError('engine', 404, `index ${name} not found`);
    return index;
  }

  async #call<T>(fn: (engine: Engine) => Promise<T>): Promise<T> {
    try {
      return await fn(this.#engine());
    } catch (err) {
      if (err instanceof ApiError) throw err;
      const status = err instanceof ConiferError ? err.httpStatus : 500;
      throw new ApiError('engine', status, err instanceof Error ? err.message : String(err), { cause: err });
    }
  }

  upsert(index: string, namespace: string, records: ApiRecord[]): Promise<void> {
    return this.#call(async (e) => void (await e.upsert(this.#index(index), namespace, records)));
  }

  update(index: string, namespace: string, update: { id: string; values?: number[]; setMetadata?: Metadata }): Promise<number> {
    return this.#call(async (e) => (await e.update(this.#index(index), namespace, update)).matchedRecords);
  }

  deleteIds(index: string, namespace: string, ids: string[]): Promise<void> {
    return this.#call(async (e) => void (await e.delete(this.#index(index), namespace, { ids })));
  }

  deleteByFilter(index: string, namespace: string, filter: Filter): Promise<void> {
    return this.#call(async (e) => void (await e.delete(this.#index(index), namespace, { filter: filter as CoreFilter })));
  }

  deleteAll(index: string, namespace: string): Promise<void> {
    return this.#call(async (e) => void (await e.delete(this.#index(index), namespace, { deleteAll: true })));
  }

  deleteNamespace(index: string, namespace: string): Promise<void> {
    return this.#call((e) => e.deleteNamespace(this.#index(index), namespace));
  }

  fetch(index: string, namespace: string, ids: string[]): Promise<Map<string, { values: number[]; metadata: Metadata }>> {
    return this.#call(async (e) => {
      const { records } = await e.fetch(this.#index(index), namespace, ids);
      return new Map(Object.entries(records).map(([id, r]) => [id, { values: r.values, metadata: (r.metadata ?? {}) as Metadata }]));
    });
  }

  query(index: string, namespace: string, query: QueryRequest): Promise<QueryMatch[]> {
    return this.#call(async (e) => {
      const { matches } = await e.query(this.#index(index), namespace, { ...query, ...(query.filter ? { filter: query.filter as CoreFilter } : {}) });
      return matches.map((m) => ({
        id: m.id,
        score: m.score,
        ...(m.values ? { values: m.values } : {}),
        ...(query.includeMetadata ? { metadata: (m.metadata ?? {}) as Metadata } : {}),
      }));
    });
  }

  listIds(index: string, namespace: string, options: { limit: number; paginationToken?: string }): Promise<Page<string>> {
    return this.#call(async (e) => {
      // The engine pages by id: the soak's opaque token is the last id of the previous page.
      const page = await e.list(this.#index(index), namespace, { limit: options.limit, after: options.paginationToken });
      return { items: page.ids, ...(page.next !== undefined ? { next: page.next } : {}) };
    });
  }

  listNamespaces(index: string, options: { limit: number; paginationToken?: string }): Promise<Page<NamespaceSummary>> {
    return this.#call(async (e) => {
      const all = (await e.listNamespaces(this.#index(index))).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const start = options.paginationToken === undefined ? 0 : Number(options.paginationToken);
      const items = all.slice(start, start + options.limit);
      return { items, ...(start + options.limit < all.length ? { next: String(start + options.limit) } : {}) };
    });
  }

  describeNamespace(index: string, namespace: string): Promise<number> {
    return this.#call(async (e) => (await e.namespaceStats(this.#index(index), namespace)).recordCount);
  }
}
