import { createServer, type Server as NetServer } from 'node:net';
import type { Server as HttpServer } from 'node:http';
import type { Logger } from 'pino';
import type { GrpcEndpoint } from './grpc/data-plane.ts';
import { sniffProtocol } from './grpc/sniff.ts';
import type { IndexResolver, IndexTarget } from './grpc/vector-service.ts';
import { indexHostPath } from './pinecone/wire.ts';

/** A live index and the port its host names. */
export interface IndexPort {
  projectId: string;
  name: string;
  hostPort: number;
}

export interface IndexPortsDeps {
  /** Interface the ports listen on (`CONIFER_HOST`). */
  host: string;
  /** Every live index that has a port (the control plane's `indexes.hostPorts()`). */
  list: () => Promise<IndexPort[]>;
  /** The HTTP/1.1 server that serves the REST API; an index port's REST requests go to it. */
  http: () => HttpServer;
  /** A gRPC endpoint serving the index `resolve` names. */
  grpc: (resolve: IndexResolver) => GrpcEndpoint;
  logger: Logger;
  /** How often the listeners are matched to the indexes, besides after each change made here. */
  resyncMs?: number;
}

interface Listener {
  server: NetServer;
  grpc: GrpcEndpoint;
}

/** How long gRPC calls in flight on a closed port may take to finish. */
const GRPC_GRACE_MS = 10_000;

/**
 * One listener per index port (`CONIFER_INDEX_HOSTS=ports`): each serves the REST data plane and
 * gRPC of its one index. A REST request that arrives on an index's port is routed as if it had
 * named the index's path (`prefixOf`), so both faces share every route, limit and check; a gRPC
 * call is served for the index of the port it arrived on.
 *
 * A port stays mapped to its last index after the index is deleted, until another index takes it:
 * a client still holding the old host then gets "index not found", not a route error.
 */
export class IndexPorts {
  readonly #deps: IndexPortsDeps;
  readonly #targets = new Map<number, IndexTarget>();
  readonly #listeners = new Map<number, Listener>();
  #syncing: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(deps: IndexPortsDeps) {
    this.#deps = deps;
  }

  /** The data-plane path prefix of the index served on local port `port`, if it is an index port. */
  prefixOf(port: number): string | undefined {
    const target = this.#targets.get(port);
    return target === undefined ? undefined : indexHostPath(target.projectId, target.indexName);
  }

  /** Opens the ports of the indexes that exist and keeps matching them. */
  async start(): Promise<void> {
    await this.sync();
    this.#timer = setInterval(() => void this.sync(), this.#deps.resyncMs ?? 5_000);
    this.#timer.unref();
  }

  /** Matches the listeners to the live indexes now: opens new indexes' ports, closes deleted ones'. */
  sync(): Promise<void> {
    this.#syncing = this.#syncing.then(
      () => this.#sync(),
      () => this.#sync(),
    );
    return this.#syncing;
  }

  async #sync(): Promise<void> {
    if (this.#closed) return;
    let indexes: IndexPort[];
    try {
      indexes = await this.#deps.list();
    } catch (err) {
      this.#deps.logger.warn({ err }, 'could not list the index ports; will retry');
      return;
    }
    const wanted = new Map(indexes.map((index) => [index.hostPort, { projectId: index.projectId, indexName: index.name }]));
    for (const port of [...this.#listeners.keys()]) {
      if (!wanted.has(port)) this.#closeListener(port);
    }
    for (const [port, target] of wanted) {
      this.#targets.set(port, target);
      if (!this.#listeners.has(port)) await this.#open(port);
    }
  }

  async #open(port: number): Promise<void> {
    const grpc = this.#deps.grpc(() => this.#targets.get(port));
    const server = createServer({ noDelay: true }, (socket) => {
      sniffProtocol(socket, { http1: (s) => this.#deps.http().emit('connection', s), http2: (connection) => grpc.inject(connection) });
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: this.#deps.host, port }, () => {
          server.removeListener('error', reject);
          resolve();
        });
      });
    } catch (err) {
      grpc.destroy();
      // Taken by another process: the index is unreachable by its host until the port is free.
      this.#deps.logger.error({ err, port, index: this.#targets.get(port)?.indexName }, 'could not listen on an index port; will retry');
      return;
    }
    server.on('error', (err) => this.#deps.logger.error({ err, port }, 'index port listener failed'));
    this.#listeners.set(port, { server, grpc });
  }

  #closeListener(port: number): void {
    const listener = this.#listeners.get(port);
    if (listener === undefined) return;
    this.#listeners.delete(port);
    listener.server.close();
    listener.grpc.drain(GRPC_GRACE_MS);
  }

  /**
   * Stops accepting on every index port and drains its gRPC calls. Run it beside the HTTP server's
   * drain: its REST connections end with that server, and this waits for them.
   */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#syncing.catch(() => undefined);
    const listeners = [...this.#listeners.values()];
    this.#listeners.clear();
    const closing = listeners.map((listener) => {
      listener.grpc.drain(GRPC_GRACE_MS);
      return new Promise<void>((resolve) => listener.server.close(() => resolve()));
    });
    await Promise.race([Promise.all(closing), new Promise((resolve) => setTimeout(resolve, GRPC_GRACE_MS).unref())]);
    for (const listener of listeners) listener.grpc.destroy();
  }
}
