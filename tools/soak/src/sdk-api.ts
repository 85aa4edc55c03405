/**
 * The SDK face: `@conifer/sdk` (tRPC), as README "Use it from TypeScript" shows it.
 */
import { Conifer, ConiferError, ConnectionError } from '@conifer/sdk';
import { ApiError, timedFetch, type ApiRecord, type DataApi, type NamespaceSummary, type Page, type QueryMatch, type QueryRequest } from './api.ts';
import type { Filter, Metadata } from './filter.ts';

export class SdkApi implements DataApi {
  readonly face = 'sdk' as const;
  readonly #client: Conifer;

  constructor(url: string, apiKey: string) {
    // Every call gets a deadline, as the REST face's do: a request the server never answers is a finding.
    this.#client = new Conifer({ url, apiKey, fetch: timedFetch });
  }

  async #call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ConnectionError) throw new ApiError('sdk', undefined, err.message, { cause: err });
      if (err instanceof ConiferError) throw new ApiError('sdk', err.httpStatus, `${err.code}: ${err.message}`, { cause: err });
      throw new ApiError('sdk', undefined, err instanceof Error ? err.message : String(err), { cause: err });
    }
  }

  async upsert(index: string, namespace: string, records: ApiRecord[]): Promise<void> {
    await this.#call(() => this.#client.index(index, namespace).upsert(records));
  }

  async update(index: string, namespace: string, update: { id: string; values?: number[]; setMetadata?: Metadata }): Promise<number> {
    const result = await this.#call(() => this.#client.index(index, namespace).update(update));
    return result.matchedRecords;
  }

  async deleteIds(index: string, namespace: string, ids: string[]): Promise<void> {
    await this.#call(() => this.#client.index(index, namespace).deleteMany(ids));
  }

  async deleteByFilter(index: string, namespace: string, filter: Filter): Promise<void> {
    await this.#call(() => this.#client.index(index, namespace).deleteMany({ filter }));
  }

  async deleteAll(index: string, namespace: string): Promise<void> {
    await this.#call(() => this.#client.index(index, namespace).deleteAll());
  }

  async deleteNamespace(index: string, namespace: string): Promise<void> {
    await this.#call(() => this.#client.index(index).deleteNamespace(namespace));
  }

  async fetch(index: string, namespace: string, ids: string[]): Promise<Map<string, { values: number[]; metadata: Metadata }>> {
    const { records } = await this.#call(() => this.#client.index(index, namespace).fetch(ids));
    return new Map(Object.values(records).map((r) => [r.id, { values: r.values, metadata: (r.metadata ?? {}) as Metadata }]));
  }

  async query(index: string, namespace: string, query: QueryRequest): Promise<QueryMatch[]> {
    const { matches } = await this.#call(() => this.#client.index(index, namespace).query(query));
    return matches.map((m) => ({
      id: m.id,
      score: m.score,
      ...(m.values ? { values: m.values } : {}),
      ...(m.metadata ? { metadata: m.metadata as Metadata } : {}),
    }));
  }

  async listIds(index: string, namespace: string, options: { limit: number; paginationToken?: string }): Promise<Page<string>> {
    const page = await this.#call(() => this.#client.index(index, namespace).listPaginated(options));
    return { items: page.ids, ...(page.pagination ? { next: page.pagination.next } : {}) };
  }

  async listNamespaces(index: string, options: { limit: number; paginationToken?: string }): Promise<Page<NamespaceSummary>> {
    const page = await this.#call(() => this.#client.index(index).listNamespaces(options));
    return { items: page.namespaces.map((ns) => ({ name: ns.name, recordCount: ns.recordCount })), ...(page.pagination ? { next: page.pagination.next } : {}) };
  }

  async describeNamespace(index: string, namespace: string): Promise<number> {
    const summary = await this.#call(() => this.#client.index(index).describeNamespace(namespace));
    return summary.recordCount;
  }
}
