import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { fastifyTRPCPlugin, type FastifyTRPCPluginOptions } from '@trpc/server/adapters/fastify';
import type { Logger } from 'pino';
import { LIMITS } from '@conifer/core';
import { appRouter, coniferCodeOf, createContext, toTRPCError, type AppRouter, type Services } from '@conifer/api';
import { installDrain, type Drain } from './drain.ts';
import { registerHealth, type Probe } from './health.ts';
import { TRPC_PREFIX, installErrorHandlers } from './http-errors.ts';
import { installMetrics } from './metrics.ts';

export interface HttpDeps {
  logger: Logger;
  services: Services;
  /** Dependencies `GET /healthz` checks, by name. */
  health: Record<string, Probe>;
}

/**
 * The HTTP face: the tRPC router at `/trpc`, `GET /healthz`, `GET /metrics`; bodies up to
 * `LIMITS.maxRequestBytes`; errors in the envelope each caller understands.
 */
export function createHttpApp(deps: HttpDeps): { app: FastifyInstance; drain: Drain } {
  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger; the cast keeps Fastify's default generic parameters.
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: LIMITS.maxRequestBytes,
  });
  installErrorHandlers(app);
  const drain = installDrain(app);
  installMetrics(app, { trpcRoute: `${TRPC_PREFIX}/:path`, procedures: new Set(Object.keys(appRouter._def.procedures)) });
  registerHealth(app, deps.health);

  const trpcOptions: FastifyTRPCPluginOptions<AppRouter>['trpcOptions'] = {
    router: appRouter,
    createContext: ({ req }) => createContext(deps.services, req.headers),
    // The SDK sends every call as POST (query inputs can be megabytes: a vector in a URL is not).
    allowMethodOverride: true,
    maxBodySize: LIMITS.maxRequestBytes,
    onError: ({ error, path, req }) => {
      // Clients get "Internal server error."; operators get the cause and its stack.
      if (coniferCodeOf(toTRPCError(error)) === 'INTERNAL') req.log.error({ err: error.cause ?? error, procedure: path }, 'procedure failed');
    },
  };
  void app.register(fastifyTRPCPlugin, { prefix: TRPC_PREFIX, trpcOptions });
  return { app, drain };
}
