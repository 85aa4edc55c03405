import { FencedError, UnavailableError, type UpsertResult } from '@conifer/core';
import type { ClusterNode } from '@conifer/control';
import type {
  DataPlane,
  DeleteInput,
  DeleteResult,
  FetchByMetadataInput,
  FetchedRecords,
  IdPage,
  IndexHandle,
  ListInput,
  NamespaceInternals,
  NamespaceSummary,
  QueryInput,
  QueryMatches,
  ReadOptions,
  RecordInput,
  RecordPage,
  UpdateInput,
  UpdateResult,
} from '@conifer/engine';
import type { DataCall, DataOp } from './internal-protocol.ts';
import { NodeUnreachableError, type NodeClient } from './node-client.ts';
import type { NodeDirectory } from './node-directory.ts';
import { namespaceRoutingKey, rank } from './rendezvous.ts';

/** Namespaces counted at once when listing an index's namespaces. */
const LIST_CONCURRENCY = 8;

/**
 * The data plane of a gateway: every write goes to the writer that owns its namespace — the
 * rendezvous-hash winner among live writers — over the node-internal protocol; reads go to query
 * nodes the same way (see `#read`). Ownership is only
 * routing; the writers' epochs keep data safe when two gateways briefly disagree.
 *
 * - A writer that refuses the connection is set aside and the call goes to the next in rank (it
 *   never reached the dead one).
 * - A write fenced before it wrote anything (the namespace just changed owner) is retried once,
 *   on the owner after a fresh read of the membership.
 * - A call in flight to a writer that drops out of the membership (its heartbeat lapsed: paused,
 *   partitioned, hung) is abandoned, so callers are not held for the full request timeout.
 * - Anything else — including a writer that dies mid-request — is the caller's error: the outcome
 *   of such a write is unknown, and retrying it here could reorder it after later writes.
 */
export class RoutedDataPlane implements DataPlane {
  readonly #directory: NodeDirectory;
  readonly #client: NodeClient;

  /** Calls in flight, by the id of the node they went to. */
  readonly #inFlight = new Map<string, Set<AbortController>>();

  constructor(options: { directory: NodeDirectory; client: NodeClient }) {
    this.#directory = options.directory;
    this.#client = options.client;
    this.#directory.onRefresh((nodes) => {
      const live = new Set(nodes.filter((n) => n.live).map((n) => n.id));
      for (const [id, calls] of this.#inFlight) if (!live.has(id)) for (const call of calls) call.abort();
    });
  }

  /** One call to `node`, abandoned if the node leaves the membership meanwhile. */
  async #send(node: ClusterNode, call: DataCall): Promise<unknown> {
    const abort = new AbortController();
    let calls = this.#inFlight.get(node.id);
    if (!calls) this.#inFlight.set(node.id, (calls = new Set()));
    calls.add(abort);
    try {
      return await this.#client.data(node.url, call, abort.signal);
    } finally {
      calls.delete(abort);
      if (calls.size === 0) this.#inFlight.delete(node.id);
    }
  }

  /** Writers for the namespace, owner first. */
  async #writersFor(index: IndexHandle, namespace: string): Promise<ClusterNode[]> {
    return rank(namespaceRoutingKey(index.id, namespace), await this.#directory.nodes('writer'));
  }

  async #call<T>(op: DataOp, index: IndexHandle, namespace: string, input?: unknown, read?: ReadOptions): Promise<T> {
    let fencedRetries = 1;
    const refused = new Set<string>();
    for (;;) {
      const owner = (await this.#writersFor(index, namespace)).find((n) => !refused.has(n.id));
      if (!owner) throw new UnavailableError('no writer node is available; retry the request');
      try {
        return (await this.#send(owner, { op, index, namespace, input, ...(read ? { read } : {}) })) as T;
      } catch (err) {
        if (err instanceof NodeUnreachableError && !err.sent) {
          this.#directory.suspect(owner.id);
          refused.add(owner.id);
          continue;
        }
        if (err instanceof FencedError && !err.written && fencedRetries-- > 0) {
          await this.#directory.refresh();
          continue;
        }
        throw err;
      }
    }
  }

  upsert(index: IndexHandle, namespace: string, records: RecordInput[]): Promise<UpsertResult> {
    return this.#call('upsert', index, namespace, records);
  }
  /**
   * A read goes to the query node the namespace hashes to (its replica and slab cache stay warm
   * there), falling through to the next in rank when one refuses the connection; with no query
   * node in the cluster, to the writer that owns the namespace.
   */
  async #read<T>(op: DataOp, index: IndexHandle, namespace: string, input: unknown, read: ReadOptions | undefined): Promise<T> {
    const replicas = rank(namespaceRoutingKey(index.id, namespace), await this.#directory.nodes('query'));
    if (replicas.length === 0) return this.#call(op, index, namespace, input, read);
    for (const node of replicas) {
      try {
        return (await this.#send(node, { op, index, namespace, input, role: 'query', ...(read ? { read } : {}) })) as T;
      } catch (err) {
        if (!(err instanceof NodeUnreachableError && !err.sent)) throw err;
        this.#directory.suspect(node.id);
      }
    }
    throw new UnavailableError('no query node is available; retry the request');
  }

  query(index: IndexHandle, namespace: string, query: QueryInput, read?: ReadOptions): Promise<QueryMatches> {
    return this.#read('query', index, namespace, query, read);
  }
  fetch(index: IndexHandle, namespace: string, ids: string[], read?: ReadOptions): Promise<FetchedRecords> {
    return this.#read('fetch', index, namespace, ids, read);
  }
  update(index: IndexHandle, namespace: string, update: UpdateInput): Promise<UpdateResult> {
    return this.#call('update', index, namespace, update);
  }
  delete(index: IndexHandle, namespace: string, del: DeleteInput): Promise<DeleteResult> {
    return this.#call('delete', index, namespace, del);
  }
  list(index: IndexHandle, namespace: string, list: ListInput, read?: ReadOptions): Promise<IdPage> {
    return this.#read('list', index, namespace, list, read);
  }
  fetchByMetadata(index: IndexHandle, namespace: string, input: FetchByMetadataInput, read?: ReadOptions): Promise<RecordPage> {
    return this.#read('fetchByMetadata', index, namespace, input, read);
  }
  async createNamespace(index: IndexHandle, namespace: string): Promise<void> {
    await this.#call('createNamespace', index, namespace);
  }
  namespaceStats(index: IndexHandle, namespace: string): Promise<NamespaceSummary> {
    return this.#call('namespaceStats', index, namespace);
  }
  describeNamespace(index: IndexHandle, namespace: string): Promise<NamespaceInternals> {
    return this.#call('describeNamespace', index, namespace);
  }
  async deleteNamespace(index: IndexHandle, namespace: string): Promise<void> {
    await this.#call('deleteNamespace', index, namespace);
  }

  /** Names from any writer (a listing of the store), then each count from the namespace's owner. */
  async listNamespaces(index: IndexHandle): Promise<NamespaceSummary[]> {
    const names = await this.#call<string[]>('namespaceNames', index, '');
    const out: NamespaceSummary[] = [];
    for (let i = 0; i < names.length; i += LIST_CONCURRENCY) {
      out.push(...(await Promise.all(names.slice(i, i + LIST_CONCURRENCY).map((name) => this.namespaceStats(index, name)))));
    }
    return out;
  }

  /** Every live writer drops its views of the index; the store prefix goes with the first. */
  async dropIndex(index: IndexHandle): Promise<void> {
    const writers = await this.#directory.nodes('writer');
    if (writers.length === 0) throw new UnavailableError('no writer node is available; retry the request');
    await Promise.all(
      writers.map((w) =>
        this.#send(w, { op: 'dropIndex', index, namespace: '' }).catch((err: unknown) => {
          // A writer that is gone holds no views to drop.
          if (!(err instanceof NodeUnreachableError && !err.sent)) throw err;
        }),
      ),
    );
  }

  /** Nothing to flush: the writers hold the data. */
  async close(): Promise<void> {}
}
