import type { IncomingMessage } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { fastifyTRPCPlugin, type FastifyTRPCPluginOptions } from '@trpc/server/adapters/fastify';
import type { Logger } from 'pino';
import { LIMITS } from '@conifer/core';
import { appRouter, coniferCodeOf, createContext, toTRPCError, type AppRouter, type Services } from '@conifer/api';
import { installDrain, type Drain } from './drain.ts';
import { registerHealth, type Probe } from './health.ts';
import { TRPC_PREFIX, installErrorHandlers, sendFailure } from './http-errors.ts';
import { installMethodNotAllowed } from './method-not-allowed.ts';
import type { SlabCacheStats } from '@conifer/storage';
import { registerInternalRoutes, type InternalDeps } from './internal-routes.ts';
import { installMetrics, type NodeMemory, type ServerMetrics } from './metrics.ts';
import { installRetryAfter, RETRY_AFTER_SECONDS } from './retry-after.ts';
import { openApiDocument } from './openapi.ts';
import { lazyRequestLogger, requestLinesDisabled } from './request-logger.ts';
import { ADMIN_PREFIX, registerAdmin } from './pinecone/admin-routes.ts';
import { registerControlPlane } from './pinecone/control-routes.ts';
import { DATA_PLANE_PREFIX, registerDataPlane } from './pinecone/data-routes.ts';

export interface HttpDeps {
  logger: Logger;
  /** The public API's services; absent on a cluster node without the gateway role (no public API). */
  services: Services | undefined;
  /** The node-internal routes of a cluster's writer (`internal-routes.ts`); absent in one process. */
  internal?: InternalDeps | undefined;
  /** Dependencies `GET /healthz` checks, by name. */
  health: Record<string, Probe>;
  /** Base URL put in index hosts (`CONIFER_PUBLIC_URL`); default: from each request. */
  publicUrl?: string | undefined;
  /**
   * The data-plane path of the index served on a local port (`CONIFER_INDEX_HOSTS=ports`): a REST
   * request arriving on an index's port is routed as if it had named that path. Set exactly when
   * indexes have ports of their own, so the control plane then describes their hosts at them.
   */
  dataPlanePrefixOf?: ((localPort: number) => string | undefined) | undefined;
  /** The slab cache's counters, exported on /metrics (cloud storage only). */
  slabCache?: (() => SlabCacheStats) | undefined;
  /** A query node's count of slab bytes its queries searched. */
  slabBytesQueried?: (() => number) | undefined;
  /** The memory budget and what it holds, exported on /metrics. */
  memory?: (() => NodeMemory) | undefined;
}

/** Longest path parameter: namespace names are up to 512 characters, up to 3× that URL-encoded. */
const MAX_PARAM_LENGTH = 4096;

/**
 * Largest request head (request line and headers). Node's default, 16 KiB, answered 431 to a
 * fetch of 1000 ids of 22 characters, well inside the documented limits: the ids travel in the
 * URL. This fits the largest fetch the limits allow — every id of the longest length, each
 * character percent-encoded, plus a namespace — and 64 KiB of other headers.
 */
export const MAX_HEADER_BYTES =
  LIMITS.maxIdsPerRequest * ('&ids='.length + 3 * LIMITS.maxIdLength) + '&namespace='.length + 3 * LIMITS.maxNamespaceLength + 64 * 1024;

/** Routes a request that arrived on an index's port under that index's data-plane path. */
function indexPortRewrite(prefixOf: ((localPort: number) => string | undefined) | undefined): ((request: IncomingMessage) => string) | undefined {
  if (prefixOf === undefined) return undefined;
  return (request) => {
    const url = request.url ?? '/';
    const port = request.socket.localPort;
    const prefix = port === undefined ? undefined : prefixOf(port);
    return prefix === undefined ? url : prefix + url;
  };
}

/**
 * The HTTP faces, all over the same services:
 * - the Pinecone-compatible REST API: control plane at the root (`/indexes…`), each index's data
 *   plane under `/projects/{projectId}/indexes/{name}` (its `host`);
 * - the administration API under `/admin` (projects, API keys, usage);
 * - the tRPC router at `/trpc` (the SDK's API);
 * - `GET /openapi.json` (the REST API's OpenAPI document), `GET /healthz`, `GET /metrics`.
 * Bodies up to `LIMITS.maxRequestBytes`; errors in the envelope each caller understands; a known
 * path asked with a method it does not have is 405 with `Allow`.
 */
export function createHttpApp(deps: HttpDeps): { app: FastifyInstance; drain: Drain; metrics: ServerMetrics } {
  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger; the cast keeps Fastify's default generic parameters.
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: LIMITS.maxRequestBytes,
    http: { maxHeaderSize: MAX_HEADER_BYTES },
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    rewriteUrl: indexPortRewrite(deps.dataPlanePrefixOf),
    childLoggerFactory: lazyRequestLogger,
    logController: new LogController({ disableRequestLogging: requestLinesDisabled(deps.logger) }),
  });
  installErrorHandlers(app);
  installMethodNotAllowed(app, {
    maxParamLength: MAX_PARAM_LENGTH,
    send: (request, reply, allowed) =>
      sendFailure(request, reply.header('allow', allowed.join(', ')), {
        status: 405,
        // The route exists for other methods only: "not found" for this one, in the error vocabulary.
        code: 'NOT_FOUND',
        message: `Method ${request.method} is not allowed on ${request.url.split('?')[0]}; allowed: ${allowed.join(', ')}.`,
      }),
  });
  installRetryAfter(app);
  const drain = installDrain(app);
  const metrics = installMetrics(app, {
    trpcRoute: `${TRPC_PREFIX}/:path`,
    procedures: new Set(Object.keys(appRouter._def.procedures)),
    slabCache: deps.slabCache,
    slabBytesQueried: deps.slabBytesQueried,
    memory: deps.memory,
  });
  registerHealth(app, deps.health);

  if (deps.internal) registerInternalRoutes(app, deps.internal);
  const services = deps.services;
  if (!services) return { app, drain, metrics };

  const RETRY_LATER_CODES = new Set(['TOO_MANY_REQUESTS', 'SERVICE_UNAVAILABLE']);
  const trpcOptions: FastifyTRPCPluginOptions<AppRouter>['trpcOptions'] = {
    router: appRouter,
    createContext: ({ req }) => createContext(services, req.headers),
    // The SDK sends every call as POST (query inputs can be megabytes: a vector in a URL is not).
    allowMethodOverride: true,
    maxBodySize: LIMITS.maxRequestBytes,
    // The tRPC adapter writes its answers itself, past Fastify's onSend hooks: its 429s and 503s
    // get their Retry-After here.
    responseMeta: ({ errors }) => (errors.some((e) => RETRY_LATER_CODES.has(e.code)) ? { headers: { 'retry-after': String(RETRY_AFTER_SECONDS) } } : {}),
    onError: ({ error, path, req }) => {
      // Clients get "Internal server error."; operators get the cause and its stack.
      if (coniferCodeOf(toTRPCError(error)) === 'INTERNAL') req.log.error({ err: error.cause ?? error, procedure: path }, 'procedure failed');
    },
  };
  void app.register(fastifyTRPCPlugin, { prefix: TRPC_PREFIX, trpcOptions });

  void app.register(async (scope) =>
    registerControlPlane(scope, { services, publicUrl: deps.publicUrl, indexHostsByPort: deps.dataPlanePrefixOf !== undefined }),
  );
  void app.register(async (scope) => registerDataPlane(scope, { services }), { prefix: DATA_PLANE_PREFIX });
  void app.register(async (scope) => registerAdmin(scope, { services }), { prefix: ADMIN_PREFIX });
  app.get('/openapi.json', async () => openApiDocument());
  return { app, drain, metrics };
}
