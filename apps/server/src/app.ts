import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createControlPlane, newNodeId, NODE_ROLES, NodeHeartbeat, type ControlPlane } from '@conifer/control';
import { createEngine, type Engine } from '@conifer/engine';
import { openObjectStore, withCache, type ObjectStore, type SlabCache } from '@conifer/storage';
import { createServices, resumeIndexDeletions, type Services } from '@conifer/api';
import { bootstrapAdmin, type BootstrapOutcome } from './bootstrap.ts';
import { ConfigError, type ServerConfig } from './config.ts';
import { withTimeout } from './health.ts';
import { createHttpApp } from './http.ts';
import { createLogger } from './logger.ts';

export interface BuildOptions {
  /** Logger to use instead of one built from `config.logLevel`. */
  logger?: Logger;
  /** Where the one-time admin-key banner goes. Default stdout. */
  stdout?: { write(text: string): unknown };
}

export interface ConiferServer {
  app: FastifyInstance;
  config: ServerConfig;
  services: Services;
  control: ControlPlane;
  engine: Engine;
  bootstrap: BootstrapOutcome;
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
export async function buildServer(config: ServerConfig, options: BuildOptions = {}): Promise<ConiferServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  let store: ObjectStore;
  try {
    store = openObjectStore(config.storage);
  } catch (error) {
    throw new ConfigError(`CONIFER_STORAGE: ${error instanceof Error ? error.message : String(error)}`);
  }
  // On a cloud bucket, slabs are cached in memory and on local disk (immutable objects only), so a
  // restart or a reopened namespace reads them locally instead of from the bucket. Both tiers keep
  // the storage package's default sizes.
  let slabCache: SlabCache | undefined;
  if (isRemoteStorage(config.storage)) {
    const cached = withCache(store, { dir: path.join(config.dataDir, 'slab-cache'), shareBuffers: true });
    slabCache = cached.cache;
    store = cached;
  }
  const control = await createControlPlane({
    ...(config.databaseUrl !== undefined ? { databaseUrl: config.databaseUrl } : { dataDir: path.join(config.dataDir, 'control') }),
    config: config.control,
    onUsageFlushError: (err) => logger.warn({ err }, 'could not write usage counters; will retry'),
  });
  let engine: Engine;
  try {
    engine = await createEngine({ store, config: config.engine, logger: logger.child({ component: 'engine' }) });
  } catch (error) {
    await control.close();
    throw error;
  }

  let bootstrap: BootstrapOutcome;
  try {
    bootstrap = await bootstrapAdmin(control, config, logger, options.stdout);
  } catch (error) {
    await engine.close();
    await control.close();
    throw error;
  }

  const projectId = bootstrap.projectId;
  const services = createServices({ control, data: engine, rateLimits: config.rateLimits, operatorProjectId: projectId });
  const { app, drain } = createHttpApp({
    logger,
    services,
    publicUrl: config.publicUrl,
    slabCache: slabCache ? () => slabCache.stats() : undefined,
    health: {
      control: () => control.projects.get(projectId),
      store: () => store.head('healthz'),
    },
  });

  // Deletions a crash interrupted: finish them in the background; the API does not wait.
  const resuming = resumeIndexDeletions({ control, data: engine }).then(
    (n) => {
      if (n > 0) logger.info({ indexes: n }, 'finished interrupted index deletions');
    },
    (err: unknown) => logger.error({ err }, 'could not finish interrupted index deletions'),
  );

  const nodeId = newNodeId();
  let heartbeat: NodeHeartbeat | undefined;
  let closing: Promise<void> | undefined;
  async function shutdown(): Promise<void> {
    try {
      // Membership is for routing: a slow or unreachable database must never hold up a shutdown.
      await withTimeout(async () => heartbeat?.drain(), MEMBERSHIP_WAIT_MS).catch((err: unknown) => logger.warn({ err }, 'could not announce draining'));
      await drain.close();
      await resuming;
    } finally {
      try {
        await engine.close();
      } finally {
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
      await app.listen({ host: config.host, port: config.port });
      const address = app.server.address();
      const port = typeof address === 'object' && address !== null ? address.port : config.port;
      const host = config.host.includes(':') ? `[${config.host}]` : config.host;
      const url = `http://${host}:${port}`;
      // Every role in one process until roles can be split (docs/adr/0006-cluster-roles.md).
      heartbeat = new NodeHeartbeat(
        control.membership,
        { id: nodeId, roles: NODE_ROLES, url: config.publicUrl ?? url, state: 'active' },
        {
          everyMs: control.config.heartbeatIntervalMs,
          forgetAfterMs: control.config.nodeForgetMs,
          onError: (err) => logger.warn({ err }, 'cluster heartbeat failed; will retry'),
        },
      );
      // Nor a start: the node keeps beating in the background and joins when the database answers.
      await withTimeout(() => heartbeat!.start(), MEMBERSHIP_WAIT_MS).catch((err: unknown) =>
        logger.warn({ err }, 'could not join the cluster membership yet'),
      );
      return url;
    },
    close() {
      closing ??= shutdown();
      return closing;
    },
  };
}

/** Longest wait for a membership write at start and stop. */
const MEMBERSHIP_WAIT_MS = 5_000;

/** Object stores reached over the network (S3, GCS, Azure), as opposed to local disk or memory. */
function isRemoteStorage(url: string): boolean {
  return /^(s3|gs|az|https?):\/\//.test(url);
}
