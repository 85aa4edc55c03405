/**
 * The Pinecone REST face (docs/api.md): plain fetch against each index's `host`, as an
 * application written for Pinecone would send it.
 */
import { ApiError, REQUEST_TIMEOUT_MS, type ApiRecord, type DataApi, type NamespaceSummary, type Page, type QueryMatch, type QueryRequest } from './api.ts';
import type { Filter, Metadata } from './filter.ts';

/** How responses of API 2025-04 and later name the default namespace. */
const DEFAULT_NAMESPACE_ALIAS = '__default__';

interface WireVector {
  id: string;
  values: number[];
  metadata?: Metadata;
}

export class RestApi implements DataApi {
  readonly face = 'rest' as const;
  readonly #apiKey: string;
  /** Index name → its data-plane base URL (`host` of `GET /indexes/{name}`). */
  readonly #hosts: ReadonlyMap<string, string>;

  constructor(apiKey: string, hosts: ReadonlyMap<string, string>) {
    this.#apiKey = apiKey;
    this.#hosts = hosts;
  }

  /** The `host` the control plane gives each index. */
  static async resolveHosts(serverUrl: string, apiKey: string, indexes: readonly string[]): Promise<Map<string, string>> {
    const hosts = new Map<string, string>();
    for (const name of indexes) {
      const model = (await send(apiKey, 'GET', `${serverUrl}/indexes/${encodeURIComponent(name)}`)) as { host: string };
      hosts.set(name, model.host.replace(/\/+$/, ''));
    }
    return hosts;
  }

  #url(index: string, path: string, query?: [string, string][]): string {
    const host = this.#hosts.get(index);
    if (host === undefined) throw new Error(`no host for index ${index}`);
    const search = query && query.length > 0 ? `?${new URLSearchParams(query).toString()}` : '';
    return `${host}${path}${search}`;
  }

  async upsert(index: string, namespace: string, records: ApiRecord[]): Promise<void> {
    await send(this.#apiKey, 'POST', this.#url(index, '/vectors/upsert'), { vectors: records, namespace });
  }

  async update(index: string, namespace: string, update: { id: string; values?: number[]; setMetadata?: Metadata }): Promise<number> {
    const body = (await send(this.#apiKey, 'POST', this.#url(index, '/vectors/update'), { ...update, namespace })) as { matchedRecords: number };
    return body.matchedRecords;
  }

  async deleteIds(index: string, namespace: string, ids: string[]): Promise<void> {
    await send(this.#apiKey, 'POST', this.#url(index, '/vectors/delete'), { ids, namespace });
  }

  async deleteByFilter(index: string, namespace: string, filter: Filter): Promise<void> {
    await send(this.#apiKey, 'POST', this.#url(index, '/vectors/delete'), { filter, namespace });
  }

  async deleteAll(index: string, namespace: string): Promise<void> {
    await send(this.#apiKey, 'POST', this.#url(index, '/vectors/delete'), { deleteAll: true, namespace });
  }

  async deleteNamespace(index: string, namespace: string): Promise<void> {
    await send(this.#apiKey, 'DELETE', this.#url(index, `/namespaces/${encodeURIComponent(namespace)}`));
  }

  async fetch(index: string, namespace: string, ids: string[]): Promise<Map<string, { values: number[]; metadata: Metadata }>> {
    const query: [string, string][] = [...ids.map((id): [string, string] => ['ids', id]), ['namespace', namespace]];
    const body = (await send(this.#apiKey, 'GET', this.#url(index, '/vectors/fetch', query))) as { vectors: Record<string, WireVector> };
    return new Map(Object.values(body.vectors).map((v) => [v.id, { values: v.values, metadata: v.metadata ?? {} }]));
  }

  async query(index: string, namespace: string, query: QueryRequest): Promise<QueryMatch[]> {
    const body = (await send(this.#apiKey, 'POST', this.#url(index, '/query'), { ...query, namespace })) as { matches: QueryMatch[] };
    return body.matches;
  }

  async listIds(index: string, namespace: string, options: { limit: number; paginationToken?: string }): Promise<Page<string>> {
    const query: [string, string][] = [
      ['namespace', namespace],
      ['limit', String(options.limit)],
    ];
    if (options.paginationToken !== undefined) query.push(['paginationToken', options.paginationToken]);
    const body = (await send(this.#apiKey, 'GET', this.#url(index, '/vectors/list', query))) as { vectors: { id: string }[]; pagination?: { next: string } };
    return { items: body.vectors.map((v) => v.id), ...(body.pagination ? { next: body.pagination.next } : {}) };
  }

  async listNamespaces(index: string, options: { limit: number; paginationToken?: string }): Promise<Page<NamespaceSummary>> {
    const query: [string, string][] = [['limit', String(options.limit)]];
    if (options.paginationToken !== undefined) query.push(['paginationToken', options.paginationToken]);
    const body = (await send(this.#apiKey, 'GET', this.#url(index, '/namespaces', query))) as {
      namespaces: { name: string; record_count: number }[];
      pagination?: { next: string };
    };
    return {
      items: body.namespaces.map((ns) => ({ name: ns.name === DEFAULT_NAMESPACE_ALIAS ? '' : ns.name, recordCount: ns.record_count })),
      ...(body.pagination ? { next: body.pagination.next } : {}),
    };
  }

  async describeNamespace(index: string, namespace: string): Promise<number> {
    const name = namespace === '' ? DEFAULT_NAMESPACE_ALIAS : namespace;
    const body = (await send(this.#apiKey, 'GET', this.#url(index, `/namespaces/${encodeURIComponent(name)}`))) as { record_count: number };
    return body.record_count;
  }
}

/** One JSON request; any non-2xx answer or missing answer becomes an `ApiError`. */
async function send(apiKey: string, method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: { 'api-key': apiKey, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (err) {
    throw new ApiError('rest', undefined, `${method} ${new URL(url).pathname}: no response (${describeCause(err)})`, { cause: err });
  }
  let text: string;
  try {
    text = await response.text();
  } catch (err) {
    throw new ApiError('rest', undefined, `${method} ${new URL(url).pathname}: response cut (${describeCause(err)})`, { cause: err });
  }
  if (!response.ok) throw new ApiError('rest', response.status, `${method} ${new URL(url).pathname}: HTTP ${response.status} ${text.slice(0, 500)}`);
  return text === '' ? undefined : JSON.parse(text);
}

function describeCause(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${(err.cause as Error & { code?: string }).code ?? err.cause.message}` : '';
  return `${err.name === 'TimeoutError' ? 'timed out' : err.message}${cause}`;
}
