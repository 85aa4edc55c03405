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
import type { DataCall, DataOp, ForwardedUpsertResult } from './internal-protocol.ts';
import { NodeUnreachableError, type NodeClient } from './node-client.ts';
import type { NodeDirectory } from './node-directory.ts';
import { namespaceRoutingKey, rank } from './rendezvous.ts';

/** A node as the placement of a namespace names it. */
export interface PlacedNode {
  id: string;
  url: string;
}

/** One copy of a namespace: the node's description of it, or why it could not give one. */
export type NamespaceCopy = { node: PlacedNode; internals: NamespaceInternals } | { node: PlacedNode; error: string };

/**
 * Where a namespace lives: its owner writer and the query node serving its reads, each with its
 * description of the namespace (a query node's `writtenLsn` is the LSN its replica has applied).
 * Null: no such node is live (no query node in the cluster; no writer at all). The shape the API's
 * services take (`ServiceDataPlane` of `@conifer/api`); apps/server/src/app.ts has the compiler
 * check the two agree.
 */
export interface NamespacePlacement {
  writer: NamespaceCopy | null;
  query: NamespaceCopy | null;
}

const nodeRef = (node: ClusterNode): PlacedNode => ({ id: node.id, url: node.url });
const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

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

  /** One call to `node` (`send`), abandoned if the node leaves the membership meanwhile. */
  async #sendWith<T>(node: ClusterNode, send: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const abort = new AbortController();
    let calls = this.#inFlight.get(node.id);
    if (!calls) this.#inFlight.set(node.id, (calls = new Set()));
    calls.add(abort);
    try {
      return await send(abort.signal);
    } finally {
      calls.delete(abort);
      if (calls.size === 0) this.#inFlight.delete(node.id);
    }
  }

  #send(node: ClusterNode, call: DataCall): Promise<unknown> {
    return this.#sendWith(node, (signal) => this.#client.data(node.url, call, signal));
  }

  /** Writers for the namespace, owner first. */
  async #writersFor(index: IndexHandle, namespace: string): Promise<ClusterNode[]> {
    return rank(namespaceRoutingKey(index.id, namespace), await this.#directory.nodes('writer'));
  }

  async #call<T>(op: DataOp, index: IndexHandle, namespace: string, input?: unknown, read?: ReadOptions): Promise<T> {
    return (await this.#route<T>(op, index, namespace, input, read)).result;
  }

  /** A call to the namespace's owner, and the writer that answered it. */
  #route<T>(op: DataOp, index: IndexHandle, namespace: string, input?: unknown, read?: ReadOptions): Promise<{ node: ClusterNode; result: T }> {
    const call: DataCall = { op, index, namespace, input, ...(read ? { read } : {}) };
    return this.#toOwner(index, namespace, (node) => this.#send(node, call) as Promise<T>);
  }

  /** `send` to the namespace's owner (see the class comment for what is retried where). */
  async #toOwner<T>(index: IndexHandle, namespace: string, send: (node: ClusterNode) => Promise<T>): Promise<{ node: ClusterNode; result: T }> {
    let fencedRetries = 1;
    const refused = new Set<string>();
    for (;;) {
      const owner = (await this.#writersFor(index, namespace)).find((n) => !refused.has(n.id));
      if (!owner) throw new UnavailableError('no writer node is available; retry the request');
      try {
        return { node: owner, result: await send(owner) };
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

  /**
   * An upsert's body (its chunks), as the client sent it, to the owner of `namespace` (read from the body by
   * the gateway, and checked by the writer against the body it parses).
   */
  async upsertBody(index: IndexHandle, indexName: string, namespace: string, body: readonly Uint8Array[]): Promise<ForwardedUpsertResult> {
    const call = { index, indexName, namespace };
    const { result } = await this.#toOwner(index, namespace, (node) => this.#sendWith(node, (signal) => this.#client.upsertBody(node.url, call, body, signal)));
    return result;
  }

  /** Records the gateway holds go to the owner as a record frame (float32, not JSON). */
  async upsert(index: IndexHandle, namespace: string, records: RecordInput[]): Promise<UpsertResult> {
    const call = { index, namespace };
    const { result } = await this.#toOwner(index, namespace, (node) =>
      this.#sendWith(node, (signal) => this.#client.upsertRecords(node.url, call, records, signal)),
    );
    return result;
  }
  /**
   * A read goes to the query node the namespace hashes to (its replica and slab cache stay warm
   * there), falling through to the next in rank when one refuses the connection; with no query
   * node in the cluster, to the writer that owns the namespace.
   */
  async #read<T>(op: DataOp, index: IndexHandle, namespace: string, input: unknown, read: ReadOptions | undefined): Promise<T> {
    const replicas = rank(namespaceRoutingKey(index.id, namespace), await this.#directory.nodes('query'));
    if (replicas.length === 0) return this.#call(op, index, namespace, input, read);
    return (await this.#readFrom<T>(replicas, op, index, namespace, input, read)).result;
  }

  /** A read from the first of `replicas` that takes the connection, and the query node that answered it. */
  async #readFrom<T>(
    replicas: readonly ClusterNode[],
    op: DataOp,
    index: IndexHandle,
    namespace: string,
    input: unknown,
    read: ReadOptions | undefined,
  ): Promise<{ node: ClusterNode; result: T }> {
    for (const node of replicas) {
      try {
        return { node, result: (await this.#send(node, { op, index, namespace, input, role: 'query', ...(read ? { read } : {}) })) as T };
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

  /**
   * Where the namespace lives, for operators: the writer that owns it and the query node serving
   * its reads (none when the cluster has no query node), each picked as the calls above pick them
   * (falling through nodes that refuse the connection), with its description of the namespace — or,
   * when it could not give one, why. The replica is described first, so a write landing meanwhile
   * can only make the writer look further ahead of it. Describing opens the namespace's replica on
   * its query node, as its first read would.
   */
  async describePlacement(index: IndexHandle, namespace: string): Promise<NamespacePlacement> {
    const key = namespaceRoutingKey(index.id, namespace);
    const replicas = rank(key, await this.#directory.nodes('query'));
    const query =
      replicas.length === 0
        ? null
        : await this.#readFrom<NamespaceInternals>(replicas, 'describeNamespace', index, namespace, undefined, undefined).then(
            ({ node, result }) => ({ node: nodeRef(node), internals: result }),
            (err: unknown) => ({ node: nodeRef(replicas[0]!), error: messageOf(err) }),
          );
    const writer = await this.#route<NamespaceInternals>('describeNamespace', index, namespace).then(
      ({ node, result }): NamespaceCopy => ({ node: nodeRef(node), internals: result }),
      async (err: unknown): Promise<NamespaceCopy | null> => {
        const owner = rank(key, await this.#directory.nodes('writer'))[0];
        return owner ? { node: nodeRef(owner), error: messageOf(err) } : null;
      },
    );
    return { writer, query };
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

  /** Nothing to flush (the writers hold the data): closes the idle connections to nodes. */
  async close(): Promise<void> {
    this.#client.close();
  }
}
