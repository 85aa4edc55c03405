import { pathToFileURL } from 'node:url';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Indexer, JobQueueCompactions, NodeClient, NodeDirectory, RoutedDataPlane } from '@conifer/cluster';
import { faissVersion } from '@conifer/faiss';
import { Compactor } from '@conifer/index-builder';
import { createControlPlane, newNodeId, NodeHeartbeat, type ControlPlane, type NodeMemory as NodeMemorySummary } from '@conifer/control';
import { createEngine, maxSlabShare, PageCache, pageCacheShare, ReplicaEngine, residentBytes, resolveEngineConfig, type Engine } from '@conifer/engine';
import {
  DEFAULT_SLAB_CACHE_MEMORY_BYTES,
  openObjectStore,
  withCache,
  withLatency,
  withParallelReads,
  type ObjectStore,
  type SlabCache,
} from '@conifer/storage';
import { createServices, resumeIndexDeletions, type ServiceDataPlane, type Services } from '@conifer/api';
import { bootstrapAdmin, type BootstrapOutcome } from './bootstrap.ts';
import { ConfigError, isAllInOne, type ServerConfig } from './config.ts';
import { withTimeout } from './health.ts';
import { createHttpApp } from './http.ts';
import type { NodeMemory } from './metrics.ts';
import { namespaceShare, ProcessMemory } from './memory-share.ts';
import { sharedUpsertParser } from './pinecone/upsert-parser.ts';
import { createLogger } from './logger.ts';
import { grpcEndpoint, type GrpcEndpoint } from './grpc/data-plane.ts';
import { sniffProtocol } from './grpc/sniff.ts';
import { IndexPorts } from './index-ports.ts';

/** How often the process's own memory is read again (memory-share.ts). */
const PROCESS_MEMORY_READING_MS = 1000;

export interface BuildOptions {
  /** Logger to use instead of one built from `config.logLevel`. */
  logger?: Logger;
  /** Where the one-time admin-key banner goes. Default stdout. */
  stdout?: { write(text: string): unknown };
}

export interface ConiferServer {
  app: FastifyInstance;
  config: ServerConfig;
  /** The API's services; absent on a node without the gateway role (it serves no public API). */
  services: Services | undefined;
  control: ControlPlane;
  /** This node's engine; absent on a node without the writer role. */
  engine: Engine | undefined;
  /** The admin key's bootstrap; absent on a node without the gateway role. */
  bootstrap: BootstrapOutcome | undefined;
  /** This process's id in the cluster's membership (a new one each start). */
  nodeId: string;
  /** Starts listening, then joins the membership; resolves to the base URL, e.g. `http://127.0.0.1:5080`. */
  start(): Promise<string>;
  /**
   * Graceful stop: announces `draining`, stops accepting connections and lets requests in flight
   * finish, then flushes and closes the engine, leaves the membership and closes the control
   * database. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Opens storage, the control plane and the engine, bootstraps the admin key and wires the HTTP
 * server (see `createHttpApp`): the Pinecone-compatible REST API, `/admin`, the tRPC API at
 * `/trpc`, `GET /openapi.json`, `GET /healthz`, `GET /metrics`.
 *
 * @example
 * const server = await buildServer(loadConfig());
 * console.log(`listening on ${await server.start()}`);
 */
/** The node's roles that hold namespaces: its writer's, its query role's. */
const rolesOf = (m: NodeMemory) => [m.writer, m.query].filter((r) => r !== undefined);

/** What the budget counts beside the process's own memory: open namespaces and replicas, and the caches. */
const dataBytes = (m: NodeMemory): number => rolesOf(m).reduce((n, r) => n + residentBytes(r.memory), (m.slabCacheBytes ?? 0) + m.pages.bytes);

/** What a node's heartbeat says of its memory (the console's cluster page shows it). */
function nodeMemorySummary(m: NodeMemory): NodeMemorySummary {
  const roles = rolesOf(m);
  return {
    budgetBytes: m.budgetBytes,
    usedBytes: m.processBytes + dataBytes(m),
    openNamespaces: roles.reduce((n, r) => n + r.open, 0),
    closedNamespaces: roles.reduce((n, r) => n + r.closedIdle + r.closedForBudget, 0),
  };
}

/** The slab cache's memory tier's share of the memory budget: an eighth, at most the storage package's default. */
export function slabCacheShare(memoryBudget: number): number {
  return Math.min(DEFAULT_SLAB_CACHE_MEMORY_BYTES, Math.floor(memoryBudget / 8));
}

export async function buildServer(config: ServerConfig, options: BuildOptions = {}): Promise<ConiferServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  let store: ObjectStore;
  try {
    store = openObjectStore(config.storage);
  } catch (error) {
    throw new ConfigError(`CONIFER_STORAGE: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (config.storageLatency) {
    logger.warn({ latency: config.storageLatency }, 'CONIFER_STORAGE_LATENCY is set: every store call waits a simulated bucket latency (benchmarks only)');
    store = withLatency(store, config.storageLatency);
  }
  // A bucket serves a stream at about a hundred MB/s: large slabs are read in ranges, several at once.
  if (isRemoteStorage(config.storage) || config.storageLatency) store = withParallelReads(store);
  // On a cloud bucket, slabs are cached in memory and on local disk (immutable objects only), so a
  // restart or a reopened namespace reads them locally instead of from the bucket. The memory
  // tier takes its share of the memory budget, the open namespaces the rest; the disk tier keeps
  // the storage package's default size.
  let slabCache: SlabCache | undefined;
  const memoryBudget = resolveEngineConfig(config.engine).memoryBudgetBytes;
  let namespaceBudget = memoryBudget;
  if (isRemoteStorage(config.storage)) {
    const memoryBytes = slabCacheShare(memoryBudget);
    namespaceBudget -= memoryBytes;
    const cached = withCache(store, { dir: path.join(config.dataDir, 'slab-cache'), shareBuffers: true, memoryBytes });
    slabCache = cached.cache;
    store = cached;
  }
  // Pages of slabs read by range take their share too; both engines of the process share them.
  const pages = new PageCache(pageCacheShare(memoryBudget));
  namespaceBudget -= pages.maxBytes;
  // The native addon (faiss, BLAS) loads now rather than inside the first query that scans: a
  // cold query would otherwise wait for its dynamic linking.
  logger.debug({ faiss: faissVersion() }, 'faiss addon loaded');
  // The process's resident memory before its database opens: the least it will hold on its own.
  const rssBeforeDatabase = process.memoryUsage.rss();
  const control = await createControlPlane({
    ...(config.databaseUrl !== undefined ? { databaseUrl: config.databaseUrl } : { dataDir: path.join(config.dataDir, 'control') }),
    config: config.control,
    onUsageFlushError: (err) => logger.warn({ err }, 'could not write usage counters; will retry'),
  });
  // The budget is the process's: its own memory (the runtime, the code, the embedded database) is
  // set aside, and the open namespaces get what is left (ADR 0012). Measured now, it still holds
  // what starting up used; the readings below lower it as the allocator gives that back.
  const processMemory = new ProcessMemory(process.memoryUsage.rss(), rssBeforeDatabase);
  const shareNow = () => namespaceShare(memoryBudget, namespaceBudget, processMemory.bytes);
  const share = shareNow();
  if (namespaceShare(memoryBudget, namespaceBudget, rssBeforeDatabase).floored) {
    logger.warn(
      { budgetBytes: memoryBudget, processBytes: rssBeforeDatabase, namespaceBytes: share.bytes },
      'CONIFER_MEMORY_BUDGET is below what the process holds on its own: its open namespaces get a quarter of the budget, and the process will use more than the budget',
    );
  }
  // The largest slab stays a share of the configured budget, not of what the process leaves of it:
  // the same data makes the same slabs whatever the process measured at start (ADR 0014).
  const compaction = {
    ...resolveEngineConfig(config.engine).compaction,
    maxSlabBytes: config.engine.compaction?.maxSlabBytes ?? maxSlabShare(namespaceBudget),
  };
  const engineConfig = { ...config.engine, compaction, memoryBudgetBytes: share.bytes, soleWriter: isAllInOne(config.roles) };
  const roles = config.roles;
  const allInOne = isAllInOne(roles);
  const nodeId = newNodeId();
  // A node of a cluster finds the others in the membership (gateways route by it; writers send
  // their compactions out while an indexer is live).
  const directory = allInOne
    ? undefined
    : new NodeDirectory({
        membership: control.membership,
        leaseMs: control.config.nodeLeaseMs,
        refreshMs: control.config.heartbeatIntervalMs,
        onError: (err) => logger.warn({ err }, 'could not read the cluster membership; routing on the last one read'),
      });
  // Process-wide: every app of the process shares the parser's threads.
  if (config.upsertParseThreads !== undefined) sharedUpsertParser().setThreads(config.upsertParseThreads);
  // A node that takes writes reads upsert bodies: its parser thread loads while the node starts.
  if (roles.includes('writer')) sharedUpsertParser().prestart();
  let engine: Engine | undefined;
  try {
    if (roles.includes('writer')) {
      // A writer without the indexer role leaves its builds to indexer nodes.
      const remoteCompactions = directory && !roles.includes('indexer') ? new JobQueueCompactions({ jobs: control.indexJobs, directory }) : undefined;
      // A cluster's writer reads its slabs into memory only for namespaces it is asked to read
      // (no query node live): its compactions' outputs would otherwise take its core and memory.
      const writerConfig = { ...engineConfig, promoteSlabs: allInOne ? ('always' as const) : ('whenRead' as const) };
      engine = await createEngine({ store, config: writerConfig, logger: logger.child({ component: 'engine' }), remoteCompactions, pages });
    }
  } catch (error) {
    await control.close();
    throw error;
  }

  // A query node of a cluster serves reads from replicas it builds from the store.
  const replicas =
    !allInOne && roles.includes('query')
      ? new ReplicaEngine({ store, config: engineConfig, logger: logger.child({ component: 'replicas' }), pages })
      : undefined;

  // An indexer of a cluster builds the compactions writers queue in PostgreSQL.
  const indexer =
    !allInOne && roles.includes('indexer')
      ? new Indexer({
          jobs: control.indexJobs,
          store,
          nodeId,
          leaseMs: control.config.nodeLeaseMs,
          heartbeatMs: control.config.heartbeatIntervalMs,
          compactor: new Compactor(resolveEngineConfig(config.engine).compactor),
          logger: logger.child({ component: 'indexer' }),
        })
      : undefined;

  // A gateway of a cluster reaches the data through the writers that own each namespace (and says
  // where each one lives, for the operators' view); the single process uses its own engine.
  const data: ServiceDataPlane | undefined =
    directory && roles.includes('gateway') ? new RoutedDataPlane({ directory, client: new NodeClient({ secret: config.clusterSecret! }) }) : engine;

  let bootstrap: BootstrapOutcome | undefined;
  try {
    if (roles.includes('gateway')) bootstrap = await bootstrapAdmin(control, config, logger, options.stdout);
  } catch (error) {
    await replicas?.close();
    await engine?.close();
    await control.close();
    throw error;
  }

  const services =
    bootstrap && data
      ? createServices({
          control,
          data,
          rateLimits: config.rateLimits,
          operatorProjectId: bootstrap.projectId,
          nodeId,
          indexHostPorts: config.indexPorts,
          // Whatever face created or deleted the index, its port opens or closes before the answer.
          afterIndexesChange: async (): Promise<void> => indexPorts?.sync(),
          imports: {
            allowFileUris: config.importFileUris,
            // The server's own object store and data directory are never an import's source.
            forbiddenUris: [storageUri(config.storage), pathToFileURL(config.dataDir).href],
            onError: (err, importId) => logger.warn({ err, importId }, 'bulk import failed'),
          },
          onRestoreError: (err, restoreJobId) => logger.warn({ err, restoreJobId }, 'restore from a backup failed'),
        })
      : undefined;
  // gRPC (Pinecone's VectorService) shares each port with HTTP/1.1: the main port's serves no index
  // and says so; with CONIFER_INDEX_HOSTS=ports each index's port serves that index.
  const grpcLogger = logger.child({ component: 'grpc' });
  // The HTTP app's request metrics count gRPC calls too (the app is built below, before any call can come).
  const observe = (procedure: string, status: number, seconds: number) => metrics.observe(procedure, status, seconds);
  const indexPorts: IndexPorts | undefined =
    services && config.indexPorts
      ? new IndexPorts({
          host: config.host,
          list: () => control.indexes.hostPorts(),
          http: () => app.server,
          grpc: (resolveIndex) => grpcEndpoint({ services, resolveIndex, logger: grpcLogger, observe }),
          logger: logger.child({ component: 'index-ports' }),
        })
      : undefined;
  const nodeMemory = (): NodeMemory => ({
    budgetBytes: memoryBudget,
    processBytes: processMemory.bytes,
    writer: engine?.memory(),
    query: replicas?.memory(),
    slabCacheBytes: slabCache?.stats().memoryBytes,
    pages: pages.stats(),
  });
  // Every second, a quiet reading may lower the process's own memory, and so raise the namespaces' share.
  const processMemoryTimer = setInterval(() => {
    const m = nodeMemory();
    // A quiet reading has nothing released awaiting collection, so the data counted is all there is.
    const quiet = rolesOf(m).every((r) => r.memory.compactions === 0 && r.released === 0);
    if (!processMemory.observe({ rssBytes: process.memoryUsage.rss(), countedBytes: dataBytes(m), quiet })) return;
    const now = shareNow().bytes;
    engine?.setMemoryBudget(now);
    replicas?.setMemoryBudget(now);
  }, PROCESS_MEMORY_READING_MS);
  processMemoryTimer.unref();
  const { app, drain, metrics } = createHttpApp({
    logger,
    services,
    internal: !allInOne && (engine || replicas) ? { secret: config.clusterSecret!, writer: engine, query: replicas } : undefined,
    publicUrl: config.publicUrl,
    dataPlanePrefixOf: indexPorts ? (port) => indexPorts.prefixOf(port) : undefined,
    slabCache: slabCache ? () => slabCache.stats() : undefined,
    slabBytesQueried: replicas ? () => replicas.slabBytesQueried : undefined,
    memory: nodeMemory,
    health: {
      control: () => (bootstrap ? control.projects.get(bootstrap.projectId) : control.membership.nodes(control.config.nodeLeaseMs)),
      store: () => store.head('healthz'),
    },
  });
  const mainGrpc: GrpcEndpoint | undefined = services ? grpcEndpoint({ services, resolveIndex: () => undefined, logger: grpcLogger, observe }) : undefined;

  // Imports a restart interrupted: Failed, saying so (single node: every open import was this node's).
  if (services && engine && allInOne) {
    const failed = await services.failInterruptedImports().catch((err: unknown) => {
      logger.error({ err }, 'could not mark interrupted imports failed');
      return 0;
    });
    if (failed > 0) logger.warn({ imports: failed }, 'marked imports interrupted by a restart as failed');
    // Backups a restart interrupted: Failed, their pins released. Restores: run again (idempotent).
    const failedBackups = await services.failInterruptedBackups().catch((err: unknown) => {
      logger.error({ err }, 'could not mark interrupted backups failed');
      return 0;
    });
    if (failedBackups > 0) logger.warn({ backups: failedBackups }, 'marked backups interrupted by a restart as failed');
    const resumed = await services.resumeRestores().catch((err: unknown) => {
      logger.error({ err }, 'could not resume interrupted restores');
      return 0;
    });
    if (resumed > 0) logger.info({ restoreJobs: resumed }, 'resumed restores interrupted by a restart');
  }

  // Deletions a crash interrupted: finish them in the background; the API does not wait.
  const resuming = services
    ? resumeIndexDeletions({ control, data: data! }).then(
        (n) => {
          if (n > 0) logger.info({ indexes: n }, 'finished interrupted index deletions');
        },
        (err: unknown) => logger.error({ err }, 'could not finish interrupted index deletions'),
      )
    : Promise.resolve();

  let heartbeat: NodeHeartbeat | undefined;
  let closing: Promise<void> | undefined;
  async function shutdown(): Promise<void> {
    try {
      // Membership is for routing: a slow or unreachable database must never hold up a shutdown.
      await withTimeout(async () => heartbeat?.drain(), MEMBERSHIP_WAIT_MS).catch((err: unknown) => logger.warn({ err }, 'could not announce draining'));
      const portsClosed = indexPorts?.close();
      mainGrpc?.drain(DRAIN_GRPC_MS);
      await drain.close();
      await portsClosed;
      mainGrpc?.destroy();
      await resuming;
    } finally {
      try {
        directory?.stop();
        await indexer?.stop();
        await replicas?.close();
        await services?.stopImports().catch((err: unknown) => logger.warn({ err }, 'could not stop the imports under way'));
        await services?.stopRestores().catch((err: unknown) => logger.warn({ err }, 'could not stop the restores under way'));
        await engine?.close();
        // Last of the data plane: the store's open files (and the slab cache's disk writes).
        await store.close?.();
      } finally {
        clearInterval(processMemoryTimer);
        try {
          await withTimeout(async () => heartbeat?.stop(), MEMBERSHIP_WAIT_MS).catch((err: unknown) =>
            logger.warn({ err }, 'could not leave the cluster membership'),
          );
        } finally {
          await control.close();
        }
      }
    }
  }

  return {
    app,
    config,
    services,
    control,
    engine,
    bootstrap,
    nodeId,
    async start() {
      // The indexes' ports open before the main port: once /healthz answers, every host it
      // describes is served.
      if (indexPorts && services) {
        await app.ready();
        // Indexes created before ports were on, or while they were off, get theirs now.
        const assigned = await services.assignMissingHostPorts().catch((err: unknown) => {
          logger.error({ err }, 'could not give every index a port; those without one keep their path host');
          return 0;
        });
        if (assigned > 0) logger.info({ indexes: assigned }, 'gave indexes without a port one of CONIFER_INDEX_PORTS');
        await indexPorts.start();
      }
      await app.listen({ host: config.host, port: config.port });
      if (mainGrpc) serveGrpcBeside(app.server, mainGrpc);
      const address = app.server.address();
      const port = typeof address === 'object' && address !== null ? address.port : config.port;
      const host = config.host.includes(':') ? `[${config.host}]` : config.host;
      const url = `http://${host}:${port}`;
      heartbeat = new NodeHeartbeat(
        control.membership,
        // Other nodes call a cluster node where it says (CONIFER_ADVERTISE_URL), else at the address
        // it listens on; the single process announces where its users reach it.
        { id: nodeId, roles, url: allInOne ? (config.publicUrl ?? url) : (config.advertiseUrl ?? url), state: 'active' },
        {
          everyMs: control.config.heartbeatIntervalMs,
          forgetAfterMs: control.config.nodeForgetMs,
          onError: (err) => logger.warn({ err }, 'cluster heartbeat failed; will retry'),
          memory: () => nodeMemorySummary(nodeMemory()),
        },
      );
      // Nor a start: the node keeps beating in the background and joins when the database answers.
      await withTimeout(() => heartbeat!.start(), MEMBERSHIP_WAIT_MS).catch((err: unknown) =>
        logger.warn({ err }, 'could not join the cluster membership yet'),
      );
      await directory?.start();
      indexer?.start();
      return url;
    },
    close() {
      closing ??= shutdown();
      return closing;
    },
  };
}

/** How long gRPC calls in flight at shutdown may take on the main port. */
const DRAIN_GRPC_MS = 10_000;

/**
 * Makes an HTTP/1.1 server's port also serve gRPC: each new connection goes to the server's own
 * connection handling, or to `grpc` when it opens with the HTTP/2 preface.
 */
function serveGrpcBeside(server: import('node:http').Server, grpc: GrpcEndpoint): void {
  const http1 = server.listeners('connection') as ((socket: import('node:net').Socket) => void)[];
  server.removeAllListeners('connection');
  server.on('connection', (socket: import('node:net').Socket) =>
    sniffProtocol(socket, {
      http1: (s) => {
        for (const listener of http1) listener.call(server, s);
      },
      http2: (connection) => grpc.inject(connection),
    }),
  );
}

/** Longest wait for a membership write at start and stop. */
const MEMBERSHIP_WAIT_MS = 5_000;

/** `CONIFER_STORAGE` as a URI (a plain path as its file:// URL), to compare import sources with. */
function storageUri(storage: string): string {
  return /^[a-z][a-z0-9+.-]+:/i.test(storage) ? storage : pathToFileURL(path.resolve(storage)).href;
}

/** Object stores reached over the network (S3, GCS, Azure), as opposed to local disk or memory. */
function isRemoteStorage(url: string): boolean {
  return /^(s3|gs|az|https?):\/\//.test(url);
}
